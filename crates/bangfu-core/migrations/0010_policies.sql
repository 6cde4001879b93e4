-- Schema 10 (issue 17): policies as data.
--
-- 政策目录: the county's yearly catalogue of what each kind of household or person is owed, a
-- replicated table written only through `policy::catalogue` (ops, signatures, review items),
-- one row per (year, policy code) whose id derives from that key, so two copies setting the
-- same policy of a year write the same row. The program ships the report's policies in code
-- (`policy::shipped`); a row here lies over the shipped one of the same year and code.
-- `rule` and `parts` hold the eligibility rule and the split of the amount as the JSON of the
-- core's own types (`policy::Rule`, `policy::Part`), checked before every write.
CREATE TABLE policy (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    year INTEGER, code TEXT, name TEXT, path TEXT, amount REAL, cap REAL, once INTEGER,
    rule TEXT, parts TEXT, in_force INTEGER, source TEXT
);
CREATE INDEX policy_year ON policy (year, code);

-- A structured 帮扶措施 names its policy, the member it benefits (none: the household) and the
-- amount due; free-text measures leave the three empty.
ALTER TABLE measure ADD COLUMN policy_id BLOB;
ALTER TABLE measure ADD COLUMN member_id BLOB;
ALTER TABLE measure ADD COLUMN amount_due REAL;
CREATE INDEX measure_policy ON measure (policy_id);

-- 发放记录: one payment of a measure (date, amount, channel). Its own rows, not a field of the
-- measure, so two payments entered on two laptops both stay after a merge.
CREATE TABLE payment (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, measure_id BLOB, pay_date TEXT, amount REAL, channel TEXT, note TEXT
);
CREATE INDEX payment_household ON payment (household_id);
CREATE INDEX payment_measure ON payment (measure_id);

-- 易地扶贫搬迁 progress: one row per stage a relocated household's house reached (开工, 基础, 主体,
-- 竣工, 入住) at its 安置点, with its date and any loan taken; rows are only added, so two laptops
-- recording stages both keep theirs.
CREATE TABLE relocation (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, site TEXT, stage TEXT, stage_date TEXT, loan REAL, note TEXT
);
CREATE INDEX relocation_household ON relocation (household_id, stage);
