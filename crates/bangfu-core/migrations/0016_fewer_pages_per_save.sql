-- Fewer pages written per save (issue 20): a household's save on a county file wrote about
-- 42 pages to the log, the plain insert 2. Local, derived data only; nothing replicated.
--
-- The name index goes: a name search under 3 characters reads the initials index, since a
-- name that starts with some text has initials that start with that text's initials
-- (`query::search_sources`). It cost about 3 pages a save (four members land on four leaves).
DROP INDEX IF EXISTS member_name;

-- The two search indexes stop merging their segments a little after every commit (64 pages
-- of merge work per level every 64 pages written: about 4 pages a save, and one save in 64
-- doing all of it). A level is merged whole once it holds 16 segments (`crisismerge`), so a
-- search reads at most 15 small segments a level besides the big ones.
INSERT INTO person_fts (person_fts, rank) VALUES ('automerge', 0);
INSERT INTO household_fts (household_fts, rank) VALUES ('automerge', 0);
