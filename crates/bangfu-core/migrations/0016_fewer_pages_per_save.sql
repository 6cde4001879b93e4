-- Fewer pages written per save (issue 20): a household's save on a county file wrote about
-- 42 pages to the log, the plain insert 2. Local, derived data only; nothing replicated.
--
-- The name index goes: a name search under 3 characters reads the initials index, since a
-- name that starts with some text has initials that start with that text's initials
-- (`query::search_sources`). It cost about 3 pages a save (four members land on four leaves).
DROP INDEX IF EXISTS member_name;
