-- Webhook endpoints: an owner's URL that receives signed deliveries of the domain events it
-- subscribed to (`event_types`: comma-separated codes, e.g. `registration.confirmed`).
-- `event_id` NULL covers all the owner's events (all of the platform for an admin's endpoint).
-- `secret` signs (whsec_…); after a rotation `previous_secret` signs beside it until
-- `previous_until`. `reveal_until` is set while the secret may still be shown once (cleared
-- when shown). An endpoint is disabled (`active` false, `disabled_reason`) after
-- `consecutive_failures` failed deliveries in a row or a 410 answer.
CREATE TABLE webhook_endpoints (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id             BIGINT  NOT NULL REFERENCES users (id),
    event_id             BIGINT  REFERENCES events (id) ON DELETE CASCADE,
    url                  TEXT    NOT NULL,
    event_types          TEXT    NOT NULL,
    secret               TEXT    NOT NULL,
    previous_secret      TEXT,
    previous_until       TIMESTAMPTZ,
    reveal_until         TIMESTAMPTZ,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    consecutive_failures BIGINT  NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    disabled_reason      TEXT,
    created_at           TIMESTAMPTZ NOT NULL
);
-- The owner's list; the fan-out's look-up of active endpoints.
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_id, id);
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (active, event_id);

-- One delivery per endpoint and domain event (`event_key` = the event's `evt_…` id, also the
-- `webhook-id` the receiver sees): a fan-out that runs twice writes nothing new. `body` is the
-- JSON sent, byte for byte, on every attempt.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     BIGINT  NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_key       TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    response_code   BIGINT,
    last_attempt_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (endpoint_id, event_key)
);
-- The delivery log of one endpoint, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);
