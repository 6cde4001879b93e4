-- Schema 8 (issue 16): the exit standards become county configuration carried like any op.
--
-- 脱贫标准 as the county sets it: a replicated table, written through the store's write path
-- (ops, review items on conflict, signatures), one row per (province, year) whose id derives
-- from that key, so two copies setting the same year write the same row. `province` '' = 全国.
CREATE TABLE standard (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    year INTEGER, province TEXT, income_line REAL, school_age_from INTEGER,
    school_age_to INTEGER, check_safe_water INTEGER, notice_days INTEGER,
    incidence_limit REAL, broadcast_min REAL, village_checklist TEXT, source TEXT
);
CREATE INDEX standard_year ON standard (year, province);

-- What the program ships, local and never replicated: the figures a copy uses for a year and
-- province the county has not set. Each names its source. The seeded series of schema 2 mixed
-- three series (the county report's 4000 元 for 2016/2017, then the national 2995 and 3218), so
-- a household at 3,200 元 passed 2018 after failing 2017. Now the general rows are the national
-- line at current prices throughout, and the report's province line is a row of its province.
ALTER TABLE exit_standard RENAME TO standard_default;
DELETE FROM standard_default WHERE edited = 0;
INSERT OR IGNORE INTO standard_default (year, province, income_line, source) VALUES
    (2014, '', 2800, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2014年现价'),
    (2015, '', 2855, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2015年现价'),
    (2016, '', 2952, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2016年现价'),
    (2017, '', 2952, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2017年现价'),
    (2018, '', 2995, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2018年现价'),
    (2019, '', 3218, '国家统计局：现行农村贫困标准（2010年不变价2300元）按2019年现价'),
    (2020, '', 4000, '国家统计局：现行农村贫困标准按2020年现价（约4000元）'),
    (2016, '云南省', 4000, '县脱贫攻坚工作报告：人均可支配收入稳定超过4000元（省定标准）'),
    (2017, '云南省', 4000, '县脱贫攻坚工作报告：以2017年省定贫困村建档立卡贫困户人均可支配收入4000元以上为脱贫标准');
