-- Schema 20 (issue 17): the village a 易地扶贫搬迁 安置点 lies in, as its 12-digit 村代码, kept on
-- the stage that named it (入住, from the box's 安置点所在村, or `bangfu policy stage
-- --site-village`). A replicated field like any other, written as an op and synced; the box
-- shows it and keeps offering the household's move there while it is filed in another village.
ALTER TABLE relocation ADD COLUMN site_village TEXT;
