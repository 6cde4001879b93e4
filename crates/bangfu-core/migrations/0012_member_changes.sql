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
