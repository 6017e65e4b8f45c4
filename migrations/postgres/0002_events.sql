-- Events and their ticket types. Times are UTC; `timezone` is the venue's IANA zone for display.
CREATE TABLE events (
    id                BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organizer_id      BIGINT      NOT NULL REFERENCES users (id),
    title             TEXT        NOT NULL,
    slug              TEXT        NOT NULL,
    summary           TEXT        NOT NULL,
    description       TEXT        NOT NULL,
    category          TEXT        NOT NULL CHECK (category IN ('stand-up', 'music', 'theatre', 'dance', 'film', 'talk', 'kids', 'festival', 'other')),
    tags              TEXT        NOT NULL,
    starts_at         TIMESTAMPTZ NOT NULL,
    ends_at           TIMESTAMPTZ NOT NULL,
    timezone          TEXT        NOT NULL,
    venue             TEXT        NOT NULL,
    address           TEXT        NOT NULL,
    city              TEXT        NOT NULL,
    capacity          BIGINT      NOT NULL CHECK (capacity >= 1),
    image_url         TEXT,
    image_provider_id TEXT,
    status            TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled', 'completed')),
    cancel_reason     TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    published_at      TIMESTAMPTZ,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_status_starts ON events (status, starts_at);
CREATE INDEX events_organizer ON events (organizer_id);

CREATE TABLE ticket_types (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id             BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position             BIGINT NOT NULL,
    name                 TEXT   NOT NULL,
    price_amount         BIGINT NOT NULL CHECK (price_amount >= 0),
    currency             TEXT   NOT NULL,
    quantity             BIGINT NOT NULL CHECK (quantity >= 1),
    max_per_registration BIGINT NOT NULL CHECK (max_per_registration >= 1),
    sales_start          TIMESTAMPTZ,
    sales_end            TIMESTAMPTZ
);
CREATE INDEX ticket_types_event ON ticket_types (event_id, position);
