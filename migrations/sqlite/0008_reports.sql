-- Admins feature events on the home page.
ALTER TABLE events ADD COLUMN featured BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX events_featured ON events (starts_at) WHERE featured;

-- Report rollups, kept by triggers on `registrations` so every path that books, cancels,
-- promotes or marks paid keeps them exact (and a report reads thousands of rows, not millions).
-- Per event, ticket type, status and payment: how many registrations and seats.
CREATE TABLE registration_totals (
    event_id       INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ticket_type_id INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    payment        TEXT    NOT NULL,
    registrations  INTEGER NOT NULL,
    seats          INTEGER NOT NULL,
    PRIMARY KEY (event_id, ticket_type_id, status, payment)
) WITHOUT ROWID;

-- Per month a registration was made (UTC, 'YYYY-MM') and event: registrations made then, and the
-- seats of those that are confirmed now.
CREATE TABLE registration_months (
    month         TEXT    NOT NULL,
    event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    registrations INTEGER NOT NULL,
    seats         INTEGER NOT NULL,
    PRIMARY KEY (month, event_id)
) WITHOUT ROWID;
CREATE INDEX registration_months_event ON registration_months (event_id);

INSERT INTO registration_totals (event_id, ticket_type_id, status, payment, registrations, seats)
SELECT event_id, ticket_type_id, status, payment, COUNT(*), SUM(quantity)
FROM registrations GROUP BY event_id, ticket_type_id, status, payment;

INSERT INTO registration_months (month, event_id, registrations, seats)
SELECT substr(created_at, 1, 7), event_id, COUNT(*),
       SUM(CASE WHEN status = 'confirmed' THEN quantity ELSE 0 END)
FROM registrations GROUP BY substr(created_at, 1, 7), event_id;

CREATE TRIGGER registrations_rollup_insert AFTER INSERT ON registrations BEGIN
    INSERT INTO registration_totals (event_id, ticket_type_id, status, payment, registrations, seats)
    VALUES (NEW.event_id, NEW.ticket_type_id, NEW.status, NEW.payment, 1, NEW.quantity)
    ON CONFLICT (event_id, ticket_type_id, status, payment) DO UPDATE
    SET registrations = registrations + 1, seats = seats + excluded.seats;
    INSERT INTO registration_months (month, event_id, registrations, seats)
    VALUES (substr(NEW.created_at, 1, 7), NEW.event_id, 1,
            CASE WHEN NEW.status = 'confirmed' THEN NEW.quantity ELSE 0 END)
    ON CONFLICT (month, event_id) DO UPDATE
    SET registrations = registrations + 1, seats = seats + excluded.seats;
END;

CREATE TRIGGER registrations_rollup_update AFTER UPDATE OF status, payment, quantity ON registrations
WHEN OLD.status IS NOT NEW.status OR OLD.payment IS NOT NEW.payment OR OLD.quantity IS NOT NEW.quantity
BEGIN
    UPDATE registration_totals SET registrations = registrations - 1, seats = seats - OLD.quantity
    WHERE event_id = OLD.event_id AND ticket_type_id = OLD.ticket_type_id
      AND status = OLD.status AND payment = OLD.payment;
    INSERT INTO registration_totals (event_id, ticket_type_id, status, payment, registrations, seats)
    VALUES (NEW.event_id, NEW.ticket_type_id, NEW.status, NEW.payment, 1, NEW.quantity)
    ON CONFLICT (event_id, ticket_type_id, status, payment) DO UPDATE
    SET registrations = registrations + 1, seats = seats + excluded.seats;
    UPDATE registration_months
    SET seats = seats - CASE WHEN OLD.status = 'confirmed' THEN OLD.quantity ELSE 0 END
                      + CASE WHEN NEW.status = 'confirmed' THEN NEW.quantity ELSE 0 END
    WHERE month = substr(OLD.created_at, 1, 7) AND event_id = OLD.event_id;
END;

CREATE TRIGGER registrations_rollup_delete AFTER DELETE ON registrations BEGIN
    UPDATE registration_totals SET registrations = registrations - 1, seats = seats - OLD.quantity
    WHERE event_id = OLD.event_id AND ticket_type_id = OLD.ticket_type_id
      AND status = OLD.status AND payment = OLD.payment;
    UPDATE registration_months
    SET registrations = registrations - 1,
        seats = seats - CASE WHEN OLD.status = 'confirmed' THEN OLD.quantity ELSE 0 END
    WHERE month = substr(OLD.created_at, 1, 7) AND event_id = OLD.event_id;
END;
