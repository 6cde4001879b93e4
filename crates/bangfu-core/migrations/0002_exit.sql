-- Schema 2: the exit procedure (脱贫退出). Its steps are a replicated table like any other;
-- the standards are local configuration seeded with public figures and editable; villages gain
-- the fields of the village exit checklist.

-- 脱贫退出程序: one row per event of a household's procedure (a step done, a step sent back,
-- a return to poverty). Row ids are derived from (household, seq), so two devices recording
-- the next event of the same household write the same row and meet as a field conflict.
CREATE TABLE exit_step (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, seq INTEGER, round INTEGER, action TEXT, step TEXT, step_date TEXT,
    people TEXT, signatures TEXT, household_signed INTEGER, food_secure INTEGER,
    clothing_secure INTEGER, vote_type TEXT, vote_result TEXT, work_team_present INTEGER,
    notice_start TEXT, notice_end TEXT, objections TEXT, objection_handling TEXT, reason TEXT,
    notes TEXT
);
CREATE INDEX exit_step_household ON exit_step (household_id, seq);

-- Local configuration, never replicated: the exit standard per year and province ('' = any
-- province without its own row). Seeded rows are public figures and stay editable; `source`
-- says where a figure came from.
CREATE TABLE exit_standard (
    year               INTEGER NOT NULL,
    province           TEXT NOT NULL DEFAULT '',
    income_line        REAL NOT NULL,
    school_age_from    INTEGER NOT NULL DEFAULT 6,
    school_age_to      INTEGER NOT NULL DEFAULT 15,
    check_safe_water   INTEGER NOT NULL DEFAULT 1,
    notice_days        INTEGER NOT NULL DEFAULT 5,
    incidence_limit    REAL NOT NULL DEFAULT 3.0,
    broadcast_min      REAL NOT NULL DEFAULT 99.0,
    source             TEXT NOT NULL DEFAULT '',
    edited             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, province)
) WITHOUT ROWID;

INSERT INTO exit_standard (year, province, income_line, source) VALUES
    (2014, '', 2800, '国家统计局：现行农村贫困标准按当年价格'),
    (2015, '', 2855, '国家统计局：现行农村贫困标准按当年价格'),
    (2016, '', 4000, '县扶贫工作报告所用脱贫标准（人均纯收入4000元）'),
    (2017, '', 4000, '县扶贫工作报告所用脱贫标准（人均纯收入4000元）'),
    (2018, '', 2995, '国家统计局：现行农村贫困标准按当年价格'),
    (2019, '', 3218, '国家统计局：现行农村贫困标准按当年价格'),
    (2020, '', 4000, '国家统计局：现行农村贫困标准按当年价格（约4000元）');

-- The village exit checklist (贫困村退出).
ALTER TABLE village ADD COLUMN hardened_road INTEGER;
ALTER TABLE village ADD COLUMN power_grid INTEGER;
ALTER TABLE village ADD COLUMN broadcast_coverage REAL;
ALTER TABLE village ADD COLUMN broadband INTEGER;
ALTER TABLE village ADD COLUMN safe_water INTEGER;
ALTER TABLE village ADD COLUMN standard_clinic INTEGER;
ALTER TABLE village ADD COLUMN public_venue INTEGER;
ALTER TABLE village ADD COLUMN school_access INTEGER;
