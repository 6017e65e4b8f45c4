-- Admins feature events on the home page.
ALTER TABLE events ADD COLUMN featured BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX events_featured ON events (starts_at) WHERE featured;

-- Report rollups, kept by a trigger on `registrations` so every path that books, cancels,
-- promotes or marks paid keeps them exact (and a report reads thousands of rows, not millions).
-- Per event, ticket type, status and payment: how many registrations and seats.
CREATE TABLE registration_totals (
    event_id       BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ticket_type_id BIGINT NOT NULL,
    status         TEXT   NOT NULL,
    payment        TEXT   NOT NULL,
    registrations  BIGINT NOT NULL,
    seats          BIGINT NOT NULL,
    PRIMARY KEY (event_id, ticket_type_id, status, payment)
);

-- Per month a registration was made (UTC, 'YYYY-MM') and event: registrations made then, and the
-- seats of those that are confirmed now.
CREATE TABLE registration_months (
    month         TEXT   NOT NULL,
    event_id      BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    registrations BIGINT NOT NULL,
    seats         BIGINT NOT NULL,
    PRIMARY KEY (month, event_id)
);
CREATE INDEX registration_months_event ON registration_months (event_id);

INSERT INTO registration_totals (event_id, ticket_type_id, status, payment, registrations, seats)
SELECT event_id, ticket_type_id, status, payment, COUNT(*), SUM(quantity)
FROM registrations GROUP BY event_id, ticket_type_id, status, payment;

INSERT INTO registration_months (month, event_id, registrations, seats)
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'), event_id, COUNT(*),
       SUM(CASE WHEN status = 'confirmed' THEN quantity ELSE 0 END)
FROM registrations GROUP BY 1, event_id;

CREATE FUNCTION registrations_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE registration_totals SET registrations = registrations - 1, seats = seats - OLD.quantity
        WHERE event_id = OLD.event_id AND ticket_type_id = OLD.ticket_type_id
          AND status = OLD.status AND payment = OLD.payment;
        UPDATE registration_months
        SET registrations = registrations - CASE WHEN TG_OP = 'DELETE' THEN 1 ELSE 0 END,
            seats = seats - CASE WHEN OLD.status = 'confirmed' THEN OLD.quantity ELSE 0 END
        WHERE month = to_char(OLD.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AND event_id = OLD.event_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO registration_totals (event_id, ticket_type_id, status, payment, registrations, seats)
        VALUES (NEW.event_id, NEW.ticket_type_id, NEW.status, NEW.payment, 1, NEW.quantity)
        ON CONFLICT (event_id, ticket_type_id, status, payment) DO UPDATE
        SET registrations = registration_totals.registrations + 1,
            seats = registration_totals.seats + excluded.seats;
        INSERT INTO registration_months (month, event_id, registrations, seats)
        VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), NEW.event_id,
                CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END,
                CASE WHEN NEW.status = 'confirmed' THEN NEW.quantity ELSE 0 END)
        ON CONFLICT (month, event_id) DO UPDATE
        SET registrations = registration_months.registrations + excluded.registrations,
            seats = registration_months.seats + excluded.seats;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER registrations_rollup_add_remove AFTER INSERT OR DELETE ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_rollup();
CREATE TRIGGER registrations_rollup_update AFTER UPDATE OF status, payment, quantity ON registrations
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.payment IS DISTINCT FROM NEW.payment
          OR OLD.quantity IS DISTINCT FROM NEW.quantity)
    EXECUTE FUNCTION registrations_rollup();
