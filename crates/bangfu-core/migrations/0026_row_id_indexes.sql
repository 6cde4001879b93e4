-- Bangfu data file, schema 26 (issue 20): the materialized tables' ids are kept unique by a
-- named index (`<table>_id_unique`) instead of an inline UNIQUE constraint, so a bulk load
-- into an empty copy can drop it with the tables' other indexes and build it once at the end,
-- sorted, instead of inserting every new row's id at a random place in it. The tables are
-- rebuilt by the migration's own step (`store::migrate::id_indexes_named`): the same columns,
-- the same rowids (the search indexes and `search_pending` name rows by rowid), the same
-- indexes, and the new unique index.
SELECT 1;
