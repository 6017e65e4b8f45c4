-- An organizer's report counts the distinct people who booked their events (issue #22): with
-- the booker in the (event, status) index, that count reads the index entries of the
-- organizer's own events only (an index-only scan), not the whole registrations table.
DROP INDEX registrations_event;
CREATE INDEX registrations_event ON registrations (event_id, status) INCLUDE (user_id);
