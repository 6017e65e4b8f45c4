-- Events created through the job queue (GraphQL's createEventAsync, issue #16).
--
-- The input was checked when it was given; the row and its `event.create` job are written in
-- one transaction. A worker creates the event under `uuid` (the id the caller was promised)
-- and marks the row `done` in the same transaction, so a second run finds nothing to do. A
-- refusal at that point (the organizer lost the role, was blocked) leaves `failed` and the
-- reason, which the organizer sees through `event(uuid)`. Until then the creation is no event:
-- lists and pages do not show it.
CREATE TABLE event_creations (
    uuid         TEXT    PRIMARY KEY,
    organizer_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    input        TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'failed', 'done')),
    reason       TEXT,
    event_id     INTEGER REFERENCES events (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX event_creations_organizer ON event_creations (organizer_id, created_at);
