-- Listing columns kept on the event row so search filters and sorts read one row per event:
-- the cheapest ticket (set whenever ticket types change) and the confirmed seats (changed by
-- bookings in the same transaction). The CHECKs are the last line of defence against overselling.
ALTER TABLE events ADD COLUMN min_price INTEGER;
ALTER TABLE events ADD COLUMN min_currency TEXT;
ALTER TABLE events ADD COLUMN has_free BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN seats_confirmed INTEGER NOT NULL DEFAULT 0
    CHECK (seats_confirmed >= 0 AND seats_confirmed <= capacity);
ALTER TABLE ticket_types ADD COLUMN seats_confirmed INTEGER NOT NULL DEFAULT 0
    CHECK (seats_confirmed >= 0 AND seats_confirmed <= quantity);

UPDATE events SET
    min_price = (SELECT MIN(t.price_amount) FROM ticket_types t WHERE t.event_id = events.id),
    min_currency = (SELECT t.currency FROM ticket_types t WHERE t.event_id = events.id
                    ORDER BY t.price_amount, t.position LIMIT 1),
    has_free = EXISTS (SELECT 1 FROM ticket_types t WHERE t.event_id = events.id AND t.price_amount = 0);

-- Listed events are published and not over: count and filter them without touching other rows.
CREATE INDEX events_status_ends ON events (status, ends_at);
-- Every column a search filters on, by id: full-text matches are checked against this narrow
-- index instead of the wide event rows (descriptions make those several pages long).
CREATE INDEX events_listing ON events (id, status, ends_at, category, city, starts_at, created_at, min_price, has_free, seats_confirmed, capacity);
-- A category narrows most browsing: its events in date order, with what counting them needs.
CREATE INDEX events_category ON events (status, category, starts_at, ends_at, has_free, min_price);
