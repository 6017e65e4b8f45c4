-- Organizer requests: a user asks to become an agent; an admin approves or rejects with a note.
-- At most one pending request per user (the partial unique index), so two tabs cannot file two.
CREATE TABLE agent_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    organisation TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    note         TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    decided_at   TEXT,
    decided_by   INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX agent_requests_one_pending ON agent_requests (user_id) WHERE status = 'pending';
CREATE INDEX agent_requests_status ON agent_requests (status, created_at);
CREATE INDEX agent_requests_user ON agent_requests (user_id, created_at);

-- The audit log: who did what to what, with the values before and after (JSON). Append-only:
-- the triggers refuse any change or removal, whatever the code tries.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT    NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    details  TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
