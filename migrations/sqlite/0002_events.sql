-- Events and their ticket types. Times are UTC; `timezone` is the venue's IANA zone for display.
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    organizer_id      INTEGER NOT NULL REFERENCES users (id),
    title             TEXT    NOT NULL,
    slug              TEXT    NOT NULL,
    summary           TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    category          TEXT    NOT NULL CHECK (category IN ('stand-up', 'music', 'theatre', 'dance', 'film', 'talk', 'kids', 'festival', 'other')),
    tags              TEXT    NOT NULL,
    starts_at         TEXT    NOT NULL,
    ends_at           TEXT    NOT NULL,
    timezone          TEXT    NOT NULL,
    venue             TEXT    NOT NULL,
    address           TEXT    NOT NULL,
    city              TEXT    NOT NULL,
    capacity          INTEGER NOT NULL CHECK (capacity >= 1),
    image_url         TEXT,
    image_provider_id TEXT,
    status            TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled', 'completed')),
    cancel_reason     TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    published_at      TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_status_starts ON events (status, starts_at);
CREATE INDEX events_organizer ON events (organizer_id);

CREATE TABLE ticket_types (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id             INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    name                 TEXT    NOT NULL,
    price_amount         INTEGER NOT NULL CHECK (price_amount >= 0),
    currency             TEXT    NOT NULL,
    quantity             INTEGER NOT NULL CHECK (quantity >= 1),
    max_per_registration INTEGER NOT NULL CHECK (max_per_registration >= 1),
    sales_start          TEXT,
    sales_end            TEXT
);
CREATE INDEX ticket_types_event ON ticket_types (event_id, position);
