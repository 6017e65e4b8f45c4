-- The server processes on one database (issue #22): each `eventhub serve` or `eventhub worker`
-- registers here at start and renews `seen_at` every 30 s; rows not renewed for 90 s are
-- deleted by the others. `media` says where the process keeps images (`cloudinary:<cloud>`,
-- `shared`, or `local:<host>:<folder>`): a local folder on one machine that another process
-- on this database cannot see is reported, and refused in production.
-- Times are Unix seconds.
CREATE TABLE server_instances (
    id         TEXT   PRIMARY KEY,
    host       TEXT   NOT NULL,
    media      TEXT   NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);
