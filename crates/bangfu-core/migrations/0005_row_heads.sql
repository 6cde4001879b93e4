-- Bangfu data file, schema 5: a row's heads in one entry. Every current head of every field of
-- a row, as sorted (field, device idx, seq) varint triples: a merge writes one entry per row
-- instead of one per field, and a row's heads are read in one lookup. Derived from the op log
-- like the heads before it. The old per-field `head` table is moved here and dropped by the
-- migration step that follows this script (store/heads.rs).
CREATE TABLE row_head (
    row   BLOB PRIMARY KEY,
    heads BLOB NOT NULL
) WITHOUT ROWID;
