-- Fewer pages written per save (issue 20, second round): a new member's or household's search
-- entry waits in this small table instead of going into the trigram indexes at once. Each
-- commit to an FTS5 index writes a segment of its own and its merges (about 12 pages of a
-- household's 39); an entry here takes a few bytes of one page. Searches read the waiting
-- rows directly (128 at most: they are folded into the indexes in batches,
-- `apply::index::fold_search_pending`), so results are the same. Local, derived data: a
-- rebuild writes the indexes afresh and empties it.
--
-- kind 0: a member (entry = member.rowid, for person_fts); kind 1: a household
-- (entry = household.rowid, for household_fts). Rows listed here have no entry in the index.
CREATE TABLE IF NOT EXISTS search_pending (
    kind  INTEGER NOT NULL,
    entry INTEGER NOT NULL,
    PRIMARY KEY (kind, entry)
) WITHOUT ROWID;
