-- 驻村工作队 (issue 17): the people of a village's resident work team as records.
--
-- `team_member` is replicated like any record (written through `Store::write`, synced by ops)
-- and belongs to its village (`village_id`): the hub files it into that village's feed only,
-- and a village device may write only its own village's team. A member who leaves keeps the
-- row with the 离村日期 (`end_date`).
CREATE TABLE team_member (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    village_id BLOB, name TEXT, sex TEXT, role TEXT, unit TEXT, unit_level TEXT, post TEXT,
    phone TEXT, start_date TEXT, end_date TEXT, note TEXT
);
CREATE INDEX team_member_village ON team_member (village_id);

-- 培训 (issue 17): a training is a 转移就业 measure naming its attendee (`member_id`); it carries
-- its kind (引导性培训 / 技能培训), its days and the certificate obtained, so the 户均 1 人
-- coverage and the 培训台帐 come from the filed data. Replicated fields like any other.
ALTER TABLE measure ADD COLUMN training_kind TEXT;
ALTER TABLE measure ADD COLUMN training_days INTEGER;
ALTER TABLE measure ADD COLUMN certificate TEXT;
