-- Organizer requests: a user asks to become an agent; an admin approves or rejects with a note.
-- At most one pending request per user (the partial unique index), so two tabs cannot file two.
CREATE TABLE agent_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id),
    organisation TEXT        NOT NULL,
    message      TEXT        NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    note         TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    decided_at   TIMESTAMPTZ,
    decided_by   BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX agent_requests_one_pending ON agent_requests (user_id) WHERE status = 'pending';
CREATE INDEX agent_requests_status ON agent_requests (status, created_at);
CREATE INDEX agent_requests_user ON agent_requests (user_id, created_at);

-- The audit log: who did what to what, with the values before and after (JSON). Append-only:
-- the trigger refuses any change or removal, whatever the code tries.
CREATE TABLE audit_log (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
