-- Bangfu data file, schema 3 (hub): this copy's link to the county sync hub. Local, never
-- replicated: the hub's address, this copy's token, its scope and how far it has synced.

-- At most one hub per data file.
CREATE TABLE hub_link (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    url           TEXT NOT NULL,
    token         TEXT NOT NULL,
    scope         TEXT NOT NULL,
    -- The hub's own log position up to which this copy has pulled its scope.
    pulled_pos    INTEGER NOT NULL DEFAULT 0,
    -- The device id and highest own seq the hub last acknowledged as stored.
    pushed_origin BLOB,
    pushed_seq    INTEGER NOT NULL DEFAULT 0,
    last_sync_ms  INTEGER
);
