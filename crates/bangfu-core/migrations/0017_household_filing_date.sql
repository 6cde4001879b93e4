-- Schema 17 (issue 16; numbered 18 on main, renumbered at merge): a household's 建档日期, the day
-- it was identified and filed (识别年度 is its year). A replicated field like any other, written
-- as an op by the household page and `bangfu edit`, synced by changesets and the hub. The year's
-- 贫困发生率 counts a household from the year it was filed (report/year_status.rs).
ALTER TABLE household ADD COLUMN filing_date TEXT;
