-- Every event gets a stable public id beside its number: programs match an event across the
-- doors (REST, GraphQL, webhook payloads) by it. Existing events get one now; the create
-- command sets it, and an insert without one (older tools, benchmarks) is given one by the
-- trigger below. SQLite cannot add a column with a computed default, hence the trigger.
ALTER TABLE events ADD COLUMN uuid TEXT;

-- A random (version 4) UUID in its canonical lower-case form.
UPDATE events SET uuid = lower(
    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
    || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
    || hex(randomblob(6)));

CREATE UNIQUE INDEX events_uuid ON events (uuid);

CREATE TRIGGER events_uuid_given AFTER INSERT ON events WHEN NEW.uuid IS NULL
BEGIN
    UPDATE events SET uuid = lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
        || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
        || hex(randomblob(6)))
    WHERE id = NEW.id;
END;

-- A uuid never changes once given.
CREATE TRIGGER events_uuid_kept BEFORE UPDATE OF uuid ON events
WHEN OLD.uuid IS NOT NULL AND NEW.uuid IS NOT OLD.uuid
BEGIN
    SELECT RAISE(ABORT, 'events.uuid never changes');
END;
