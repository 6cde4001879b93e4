-- Schema 21 (issue 16): the county's settings that are not a year's 脱贫标准, carried like them.
--
-- `county_setting` is replicated (written by `county_settings` through the store's write path:
-- ops, signatures, review items on conflict), one row per setting whose id derives from its
-- key, so two copies setting it write the same row; the hub sends it to every device of the
-- county, and only a county or township device may set it. The first setting is the first year
-- of 建档立卡 (`first_filing_year`): a 建档日期 before it is questioned by every copy alike. A
-- copy without the row uses the figure the program ships (2014, naming its source).
CREATE TABLE county_setting (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    key TEXT, value TEXT, source TEXT
);
