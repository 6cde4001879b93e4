//! Checks of a village's 村情 on their own: 农村人口, 贫困村 status and 退出年度, and each
//! 贫困村退出 checklist item's 达标日期 and 佐证材料. The one check that needs the filed people
//! (农村人口 not below them) is the village module's, which reads the store.

use chrono::{Datelike, NaiveDate};

use crate::model::{VILLAGE_CHECKLIST, Village};

use super::{Checker, label};

/// The longest 佐证材料 text, in characters: a document's name, number and where it is kept.
pub const EVIDENCE_MAX_CHARS: usize = 500;

pub(super) fn village_sheet(c: &mut Checker<Village>, v: &Village, today: NaiveDate) {
    if let Some(p) = v.rural_population
        && p < 0
    {
        c.error(
            "rural_population",
            "value.negative",
            format!("{} {p} 不能为负数", label::<Village>("rural_population")),
        );
    }
    if let Some(rate) = v.broadcast_coverage
        && !(0.0..=100.0).contains(&rate)
    {
        c.error(
            "broadcast_coverage",
            "village.rate_range",
            format!(
                "{} {rate} 不合理：应在 0 至 100 之间",
                label::<Village>("broadcast_coverage")
            ),
        );
    }
    if let Some(year) = v.exit_year {
        c.year("exit_year", Some(year));
        if v.poor_village != Some(true) {
            c.error(
                "exit_year",
                "village.exit_year_not_poor",
                "只有贫困村才有退出年度：请先把“是否贫困村”填为“是”，或清空退出年度".into(),
            );
        } else if i64::from(today.year()) < year {
            c.error(
                "exit_year",
                "village.exit_year_future",
                format!("退出年度 {year} 晚于今年（{}年），还没有到", today.year()),
            );
        }
    }
    for item in &VILLAGE_CHECKLIST {
        let entry = v.checklist_entry(item);
        if let Some(date) = entry.date {
            if date > today {
                c.error(
                    item.date_field,
                    "village.date_future",
                    format!("{}达标日期 {date} 晚于今天（{today}），请核对", item.label),
                );
            }
            if entry.met == Some(false) {
                c.error(
                    item.date_field,
                    "village.date_not_met",
                    format!(
                        "{}填的是“否”（未达标），不能有达标日期：达标后再把它改为“是”并填日期",
                        item.label
                    ),
                );
            }
        }
        let chars = entry.evidence.chars().count();
        if chars > EVIDENCE_MAX_CHARS {
            c.error(
                item.evidence_field,
                "village.evidence_too_long",
                format!(
                    "{}佐证材料写了 {chars} 个字，最多 {EVIDENCE_MAX_CHARS} 个字：写明文件名称、文号和存放位置即可",
                    item.label
                ),
            );
        }
    }
}
