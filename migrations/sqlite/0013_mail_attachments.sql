-- A mail's attachment, recorded with it so a second send carries the same file: the calendar
-- entry (`eventhub-<event>.ics`) of a confirmation, a promotion, a change or a cancellation.
ALTER TABLE mails ADD COLUMN attachment_name TEXT;
ALTER TABLE mails ADD COLUMN attachment TEXT;
