-- Accounts. Emails are unique whatever their letter case (stored lower-cased as well).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'agent', 'admin')),
    blocked       BOOLEAN NOT NULL DEFAULT FALSE,
    locale        TEXT    NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'he', 'pl')),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
