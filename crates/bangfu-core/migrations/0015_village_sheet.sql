-- Schema 14 (issue 16): the 村情 page. A village's own record gains what its 贫困村退出 forms
-- ask beyond the checklist flags: whether it is a 贫困村 (建档立卡贫困村) and the year it exited,
-- and for each checklist item the date it was met (达标日期) and the evidence (佐证材料, text:
-- the document's name and number, where the papers are kept). Replicated fields like any other,
-- written as ops by the 村情 page and `bangfu village set`, synced by changesets and the hub.
ALTER TABLE village ADD COLUMN poor_village INTEGER;
ALTER TABLE village ADD COLUMN exit_year INTEGER;
ALTER TABLE village ADD COLUMN road_date TEXT;
ALTER TABLE village ADD COLUMN road_evidence TEXT;
ALTER TABLE village ADD COLUMN power_date TEXT;
ALTER TABLE village ADD COLUMN power_evidence TEXT;
ALTER TABLE village ADD COLUMN broadcast_date TEXT;
ALTER TABLE village ADD COLUMN broadcast_evidence TEXT;
ALTER TABLE village ADD COLUMN broadband_date TEXT;
ALTER TABLE village ADD COLUMN broadband_evidence TEXT;
ALTER TABLE village ADD COLUMN water_date TEXT;
ALTER TABLE village ADD COLUMN water_evidence TEXT;
ALTER TABLE village ADD COLUMN clinic_date TEXT;
ALTER TABLE village ADD COLUMN clinic_evidence TEXT;
ALTER TABLE village ADD COLUMN venue_date TEXT;
ALTER TABLE village ADD COLUMN venue_evidence TEXT;
ALTER TABLE village ADD COLUMN school_date TEXT;
ALTER TABLE village ADD COLUMN school_evidence TEXT;
