-- The assistant's grounded answers (issue #21): why the model picked each card, and whether the
-- answer's deadline cut the model off.
--
-- `reasons` is a JSON object from event id to the model's reason for that card (`{}` when the
-- built-in recommender picked the cards); `deadline_hit` is true when the model was stopped by
-- the answer's deadline and the retrieved cards stood.
ALTER TABLE assistant_messages ADD COLUMN reasons TEXT NOT NULL DEFAULT '{}';
ALTER TABLE assistant_messages ADD COLUMN deadline_hit BOOLEAN NOT NULL DEFAULT FALSE;
