-- Durable jobs (the outbox): a command writes the jobs its side effects need in its own
-- transaction; workers claim them afterwards. A job is pending (waiting for `run_at`), running
-- (claimed by `worker` until `lease_until`), done, or dead after `max_attempts` failures (with
-- `last_error`). Higher `priority` runs first. A second enqueue with the same `dedupe_key`
-- does nothing.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    run_at       TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    lease_until  TEXT,
    worker       TEXT,
    last_error   TEXT,
    dedupe_key   TEXT    UNIQUE,
    created_at   TEXT    NOT NULL,
    finished_at  TEXT,
    CHECK ((state = 'running') = (lease_until IS NOT NULL))
);
-- What a claim reads: the pending jobs in the order they run.
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE state = 'pending';
-- What the lease check reads: running jobs by the end of their lease.
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_state_kind ON jobs (state, kind);

-- Every e-mail, recorded once (`key` names what it is about, e.g.
-- `registration_confirmed:42`): a job that runs twice finds the row and does not send again.
-- `sent_at` is set once the transport took the message; the text is kept for /admin/mail.
CREATE TABLE mails (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    message_id  TEXT    NOT NULL,
    to_addr     TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    locale      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    sent_at     TEXT
);
CREATE INDEX mails_created ON mails (created_at, id);
