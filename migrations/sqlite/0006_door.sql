-- The door: counting an event's valid and checked-in tickets without reading its registrations.
CREATE INDEX tickets_event ON tickets (event_id, status);
