-- Two-factor sign-in, platform settings, private calendar feeds, deleted accounts (issue #18).
--
-- `user_totp`: one authenticator per account. The secret is sealed (XChaCha20-Poly1305 under a
-- key derived from EVENTHUB_SECRET_KEY), so a copy of the database alone does not give codes.
-- `confirmed_at` is NULL while enrolment waits for its first code. `last_step` is the RFC 6238
-- time step of the last code accepted: a code is taken by one conditional UPDATE that moves it
-- forward, so the same code (or an older one) never works twice, whichever process sees it.
CREATE TABLE user_totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT    NOT NULL,
    confirmed_at TEXT,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT    NOT NULL
);

-- Ten single-use recovery codes per confirmed authenticator; only their SHA-256 is kept.
CREATE TABLE totp_recovery_codes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   TEXT,
    UNIQUE (user_id, code_hash)
);

-- Settings admins change at run time (one row per key, JSON values): `require_2fa_for` lists
-- the roles that must use two-factor sign-in (none by default).
CREATE TABLE platform_settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by INTEGER REFERENCES users (id)
);

-- The private calendar feed of one's registrations: its URL carries an HMAC of the user id and
-- `calendar_feed` (a version, NULL while there is no feed), so nothing secret is stored and a
-- new URL (the version moved on) stops the old one at once. `deleted_at`: the owner deleted
-- the account; its personal data are gone and only anonymous rows (past registrations, for
-- exact reports) still point to it.
ALTER TABLE users ADD COLUMN calendar_feed INTEGER;
ALTER TABLE users ADD COLUMN deleted_at TEXT;
