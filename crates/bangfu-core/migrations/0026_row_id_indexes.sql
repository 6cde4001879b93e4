-- Bangfu data file, schema 26 (issue 20): an empty materialized table keeps its ids unique by
-- a named index (`<table>_id_unique`) instead of an inline UNIQUE constraint, so a bulk load
-- into an empty copy (a new laptop set up from a county file, a station's first merge) can
-- drop it with the table's other indexes and build it once at the end, sorted, instead of
-- inserting every new row's id at a random place in it. The tables are made again by the
-- migration's own step (`store::migrate::id_indexes_named`): the same columns and indexes,
-- and the new unique index. A table that already holds rows keeps its inline constraint (a
-- bulk load never goes into it; copying it would only cost time and space at the upgrade).
SELECT 1;
