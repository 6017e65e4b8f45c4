-- Full-text search. The server folds text (lower case, no diacritics, ł→l) into two columns;
-- a generated tsvector weights the title (A) above the rest (B) and a GIN index serves queries.
ALTER TABLE events ADD COLUMN search_title TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN search_body TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_title), 'A') || setweight(to_tsvector('simple', search_body), 'B')
) STORED;
CREATE INDEX events_search ON events USING GIN (search_vector);
