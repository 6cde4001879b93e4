-- Bangfu data file, schema 4 (search): what makes the household search fast on a county.
-- Local, derived data, rebuilt from the op log by a rebuild like every materialized row.

-- Trigram index over household codes, so a digit search finds a code by any part of it
-- without reading every household.
CREATE VIRTUAL TABLE household_fts USING fts5 (
    code, tokenize = 'trigram', content = '', contentless_delete = 1
);
INSERT INTO household_fts (rowid, code)
    SELECT rowid, code FROM household WHERE deleted = 0 AND coalesce(code, '') <> '';
