-- Accounts people can keep (issue #18).
--
-- `email_verified_at`: when the owner proved the address is theirs (a link by mail); NULL until
-- then. `auth_version` is bumped by a password reset and by "sign out everywhere": a bearer token
-- names the version it was issued under and stops working once it is behind.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;
ALTER TABLE users ADD COLUMN auth_version INTEGER NOT NULL DEFAULT 0;

-- Links sent by mail: verify an address (`verify_email`, also for a new address after an email
-- change, which `email` then holds), or set a new password (`reset_password`). Only a SHA-256
-- hash of the token is kept; a link works once (`used_at`) and until `expires_at`.
CREATE TABLE account_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash TEXT    NOT NULL UNIQUE,
    email      TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT,
    created_at TEXT    NOT NULL
);
CREATE INDEX account_links_user ON account_links (user_id, purpose);

-- The browser sessions each account is signed in with: one row per sign-in, named by a random
-- id the session cookie's record holds. Deleting the row signs that browser out at its next
-- request; the device (user agent) and address are what the owner sees on /me/security.
CREATE TABLE account_sessions (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device       TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL
);
CREATE INDEX account_sessions_user ON account_sessions (user_id, last_seen_at);
