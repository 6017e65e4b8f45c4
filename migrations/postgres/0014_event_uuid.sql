-- Every event gets a stable public id beside its number: programs match an event across the
-- doors (REST, GraphQL, webhook payloads) by it. Adding the column with a volatile default
-- gives every existing event its own; the create command sets it, and an insert without one
-- (older tools, benchmarks) gets the default. Stored as text, as the SQLite side is, so
-- statements bind it the same way on both engines.
ALTER TABLE events ADD COLUMN uuid TEXT NOT NULL DEFAULT gen_random_uuid()::text;

CREATE UNIQUE INDEX events_uuid ON events (uuid);

-- A uuid never changes once given.
CREATE FUNCTION events_uuid_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events.uuid never changes';
END;
$$;
CREATE TRIGGER events_uuid_kept BEFORE UPDATE OF uuid ON events
FOR EACH ROW WHEN (OLD.uuid IS DISTINCT FROM NEW.uuid) EXECUTE FUNCTION events_uuid_kept();
