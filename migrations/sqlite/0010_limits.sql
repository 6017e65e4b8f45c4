-- Limits that hold across server processes.
--
-- An organizer may cap the seats one person holds for an event (confirmed and waitlisted
-- registrations together); NULL means no cap.
ALTER TABLE events ADD COLUMN max_seats_per_user INTEGER CHECK (max_seats_per_user IS NULL OR max_seats_per_user >= 1);

-- Idempotent booking: the first request with a key (per user) records which registration it
-- made, in the booking's own transaction; a retry with the same key and the same request answers
-- that registration instead of booking again. Keys older than a day are forgotten.
CREATE TABLE idempotency_keys (
    user_id         INTEGER NOT NULL REFERENCES users (id),
    key             TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,
    registration_id INTEGER REFERENCES registrations (id),
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Rate limits shared by every process: one counter per key and fixed window (`bucket`, the window's
-- number since the epoch). A slot is taken by one upsert; rows expire with their window.
CREATE TABLE rate_slots (
    key        TEXT    NOT NULL,
    bucket     INTEGER NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, bucket)
);
CREATE INDEX rate_slots_expires ON rate_slots (expires_at);

-- Addresses an account signed in from, so its owner's own attempts are counted apart from a
-- stranger's (who cannot lock the owner out by guessing).
CREATE TABLE sign_in_addresses (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    address    TEXT    NOT NULL,
    last_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, address)
);
