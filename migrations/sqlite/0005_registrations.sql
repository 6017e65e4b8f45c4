-- Bookings. A registration is one group (1..max seats of one ticket type): confirmed with its
-- tickets, waitlisted (in `waitlist_seq` order, which is commit order), or cancelled. Seat
-- counters on events and ticket_types (0004) are changed in the same transaction, and their
-- CHECKs refuse any oversale the code might attempt.
ALTER TABLE events ADD COLUMN waitlist_next INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN seats_waitlisted INTEGER NOT NULL DEFAULT 0 CHECK (seats_waitlisted >= 0);

CREATE TABLE registrations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ticket_type_id INTEGER NOT NULL REFERENCES ticket_types (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    quantity       INTEGER NOT NULL CHECK (quantity >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    waitlist_seq   INTEGER,
    payment        TEXT    NOT NULL CHECK (payment IN ('free', 'unpaid', 'paid')),
    created_at     TEXT    NOT NULL,
    confirmed_at   TEXT,
    cancelled_at   TEXT,
    cancelled_by   INTEGER REFERENCES users (id),
    CHECK ((status = 'waitlisted') = (waitlist_seq IS NOT NULL))
);
CREATE INDEX registrations_user ON registrations (user_id, created_at);
CREATE INDEX registrations_event ON registrations (event_id, status);
CREATE UNIQUE INDEX registrations_waitlist ON registrations (event_id, waitlist_seq) WHERE waitlist_seq IS NOT NULL;
CREATE INDEX registrations_recent ON registrations (created_at, event_id) WHERE status = 'confirmed';

-- One ticket per seat. `code` carries 128 random bits; check-in happens once.
CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    code            TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL CHECK (status IN ('valid', 'cancelled')),
    checked_in_at   TEXT,
    checked_in_by   INTEGER REFERENCES users (id)
);
CREATE INDEX tickets_registration ON tickets (registration_id);

-- Likes and saves: one row per user, event and kind, so toggling is idempotent.
CREATE TABLE reactions (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('like', 'save')),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, event_id, kind)
);
CREATE INDEX reactions_event ON reactions (event_id, kind);

-- In-app notices shown on /me (e.g. an event was cancelled, a waitlisted group was confirmed).
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    event_id   INTEGER REFERENCES events (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    read_at    TEXT
);
CREATE INDEX notices_user ON notices (user_id, created_at);
