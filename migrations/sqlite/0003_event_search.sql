-- Full-text search. The server folds text (lower case, no diacritics, ł→l) into two columns;
-- FTS5 indexes them with the title weighted above the rest (bm25 weights in the query).
ALTER TABLE events ADD COLUMN search_title TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN search_body TEXT NOT NULL DEFAULT '';

CREATE VIRTUAL TABLE events_fts USING fts5(
    search_title, search_body,
    content = 'events', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, search_title, search_body) VALUES ('delete', old.id, old.search_title, old.search_body);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF search_title, search_body ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, search_title, search_body) VALUES ('delete', old.id, old.search_title, old.search_body);
    INSERT INTO events_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;
