-- Schema 12 (issue 16): member changes (增员/减员).
--
-- A person who leaves a household (死亡, 婚出, 服刑, 户口迁出, 参军, 其他) keeps the row with the
-- date and reason, instead of being deleted, so a past year's 家庭人口 and 人均纯收入 count the
-- people of that year; a person who joins an already filed household (新生儿, 婚入, 其他) carries
-- the date and reason of joining. Replicated fields like any other: written as ops, synced by
-- changesets and the hub, in conflict like any field. Empty on every member filed before.
ALTER TABLE member ADD COLUMN join_date TEXT;
ALTER TABLE member ADD COLUMN join_reason TEXT;
ALTER TABLE member ADD COLUMN leave_date TEXT;
ALTER TABLE member ADD COLUMN leave_reason TEXT;

-- 养老有保障 (the report's 五保障: "全部参加新型农村社会养老保险"): whether a year's standard
-- checks that every member of insurable age (from `pension_age_from` 周岁, not at school, not in
-- active service) is in 城乡居民基本养老保险. A check of the standard, so data like 安全饮水: on
-- in the report's own province rows, off in the national rows (两不愁三保障 has no 养老), and the
-- county sets it per year.
ALTER TABLE standard ADD COLUMN check_pension INTEGER;
ALTER TABLE standard ADD COLUMN pension_age_from INTEGER;
ALTER TABLE standard_default ADD COLUMN check_pension INTEGER NOT NULL DEFAULT 0;
ALTER TABLE standard_default ADD COLUMN pension_age_from INTEGER NOT NULL DEFAULT 16;
UPDATE standard_default SET check_pension = 1 WHERE province = '云南省';

-- 村评议公示 records the 民主评议 that put the household on the list (the report: "组织党员、
-- 村民进行民主评议，提出脱贫初步名单，然后…公示"): its date, how many took part and how many
-- agreed. Signers are named per role (村党总支书记, 村主任 …) in `signatures` as "职务：姓名；…";
-- records of earlier versions keep their free text there.
ALTER TABLE exit_step ADD COLUMN review_date TEXT;
ALTER TABLE exit_step ADD COLUMN review_attendance INTEGER;
ALTER TABLE exit_step ADD COLUMN review_agreed INTEGER;
