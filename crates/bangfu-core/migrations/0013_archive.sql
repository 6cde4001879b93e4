-- The archive (档案, issue 17): photos and scans of signed forms, notices and meeting records.
--
-- `attachment` is replicated like any record (written through `Store::write`, synced by ops):
-- it says which file (the SHA-256 of its bytes, hex) is attached to which exit step, visit or
-- measure of a household, with its 材料类别 and 说明.
CREATE TABLE attachment (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, target_table TEXT, target_id BLOB, kind TEXT, caption TEXT,
    file_name TEXT, media_type TEXT, size INTEGER, sha256 TEXT
);
CREATE INDEX attachment_household ON attachment (household_id);
CREATE INDEX attachment_target ON attachment (target_id);
CREATE INDEX attachment_sha256 ON attachment (sha256);

-- The files themselves, once per copy whatever the number of rows naming them: local, keyed
-- by the SHA-256 of the bytes, written only by `archive::blobs` after the hash is checked.
-- They live in the data file, so encryption at rest (SQLCipher) covers them.
CREATE TABLE blob (
    sha256 TEXT NOT NULL PRIMARY KEY,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    added_ms INTEGER NOT NULL
);
