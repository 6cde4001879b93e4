//! Village exit (贫困村退出): 贫困发生率 below the limit and the village checklist.

use serde::Serialize;
use uuid::Uuid;

use super::ExitError;
use super::evaluate::{CheckResult, CheckStatus, DataItem};
use super::standards::standard_for;
use chrono::Datelike;

use crate::model::{ChecklistItem, VILLAGE_CHECKLIST, Village};
use crate::report::figures;
use crate::store::Store;

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageEvaluation {
    pub village_id: Uuid,
    pub code: String,
    pub name: String,
    pub year: i32,
    pub rural_population: Option<i64>,
    /// Members of filed households still poor at the end of `year` (not exited by then, or
    /// returned), present then.
    pub poor_people: i64,
    /// 贫困发生率 in %, `None` without a rural population.
    pub incidence_percent: Option<f64>,
    pub checks: Vec<CheckResult>,
    pub meets: bool,
}

/// One checklist item for `year`: met when marked 是 (or the rate reaches the standard's
/// minimum) and its 达标日期, if recorded, is not after the end of the year.
fn checklist_check(
    v: &Village,
    item: &ChecklistItem,
    year: i32,
    broadcast_min: f64,
) -> CheckResult {
    let entry = v.checklist_entry(item);
    let label = if item.rate {
        "广播电视覆盖率达标"
    } else {
        item.label
    };
    let (mut status, mut reason) = if item.rate {
        match entry.rate {
            None => (CheckStatus::Unknown, "未填广播电视覆盖率。".to_owned()),
            Some(rate) => (
                if rate >= broadcast_min {
                    CheckStatus::Met
                } else {
                    CheckStatus::NotMet
                },
                format!("覆盖率{rate}%，标准为不低于{broadcast_min}%。"),
            ),
        }
    } else {
        match entry.met {
            Some(true) => (CheckStatus::Met, "是".to_owned()),
            Some(false) => (CheckStatus::NotMet, "否".to_owned()),
            None => (CheckStatus::Unknown, "未填".to_owned()),
        }
    };
    if status == CheckStatus::Met
        && let Some(date) = entry.date
        && date.year() > year
    {
        status = CheckStatus::NotMet;
        reason = format!("达标日期为{date}，{year}年底尚未达标。");
    }
    let mut data = Vec::new();
    if let Some(date) = entry.date {
        data.push(DataItem {
            label: "达标日期".into(),
            value: date.to_string(),
        });
    }
    if !entry.evidence.trim().is_empty() {
        data.push(DataItem {
            label: "佐证材料".into(),
            value: entry.evidence.trim().to_owned(),
        });
    }
    CheckResult::new(item.code, label, status, reason, data)
}

/// The people still poor in a village now ([`crate::report::figures::poor_people`]).
pub fn poor_people(store: &Store, village_id: Uuid) -> Result<i64, ExitError> {
    Ok(figures::poor_people(store, village_id)?)
}

/// The people still poor in a village at the end of `year`
/// ([`crate::report::figures::poor_people_in_year`]).
pub fn poor_people_in_year(store: &Store, village_id: Uuid, year: i32) -> Result<i64, ExitError> {
    Ok(figures::poor_people_in_year(store, village_id, year)?)
}

/// Evaluates a village for a year against its province's standard.
pub fn evaluate_village(
    store: &Store,
    village_id: Uuid,
    year: i32,
) -> Result<VillageEvaluation, ExitError> {
    let v: Village = store.get(village_id)?;
    let standard = standard_for(store, year, &v.province)?;
    let poor = poor_people_in_year(store, village_id, year)?;
    let incidence = figures::incidence_percent(poor, v.rural_population);
    let limit = standard.incidence_limit;
    let data = vec![
        DataItem {
            label: "剩余贫困人口".into(),
            value: format!("{poor}人"),
        },
        DataItem {
            label: "农村人口".into(),
            value: v
                .rural_population
                .map_or_else(|| "未填".into(), |p| format!("{p}人")),
        },
    ];
    let incidence_check = match incidence {
        None => CheckResult::new(
            "incidence",
            "贫困发生率低于标准",
            CheckStatus::Unknown,
            "未填农村人口，无法计算贫困发生率。".into(),
            data,
        ),
        Some(rate) => CheckResult::new(
            "incidence",
            "贫困发生率低于标准",
            if rate < limit {
                CheckStatus::Met
            } else {
                CheckStatus::NotMet
            },
            format!(
                "贫困发生率{rate:.2}%，{}{limit}%。",
                if rate < limit { "低于" } else { "未低于" }
            ),
            data,
        ),
    };
    let mut items = vec![incidence_check];
    items.extend(
        VILLAGE_CHECKLIST
            .iter()
            .map(|item| checklist_check(&v, item, year, standard.broadcast_min)),
    );
    // The county's checklist says which items it checks; 贫困发生率 is always checked.
    let checks: Vec<CheckResult> = items
        .into_iter()
        .filter(|c| c.code == "incidence" || standard.checks_village_item(c.code))
        .collect();
    let meets = checks.iter().all(|c| c.status == CheckStatus::Met);
    Ok(VillageEvaluation {
        village_id,
        code: v.code,
        name: v.name,
        year,
        rural_population: v.rural_population,
        poor_people: poor,
        incidence_percent: incidence,
        checks,
        meets,
    })
}
