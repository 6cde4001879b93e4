//! Village exit (贫困村退出): 贫困发生率 below the limit and the village checklist.

use serde::Serialize;
use uuid::Uuid;

use super::ExitError;
use super::evaluate::{CheckResult, CheckStatus, DataItem};
use super::standards::standard_for;
use crate::model::Village;
use crate::report::figures;
use crate::store::Store;

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageEvaluation {
    pub village_id: Uuid,
    pub code: String,
    pub name: String,
    pub year: i32,
    pub rural_population: Option<i64>,
    /// Members of filed households that have not exited (未脱贫, 返贫 or not yet set).
    pub poor_people: i64,
    /// 贫困发生率 in %, `None` without a rural population.
    pub incidence_percent: Option<f64>,
    pub checks: Vec<CheckResult>,
    pub meets: bool,
}

fn flag(code: &'static str, label: &'static str, value: Option<bool>) -> CheckResult {
    let (status, reason) = match value {
        Some(true) => (CheckStatus::Met, "是"),
        Some(false) => (CheckStatus::NotMet, "否"),
        None => (CheckStatus::Unknown, "未填"),
    };
    CheckResult::new(code, label, status, reason.into(), Vec::new())
}

/// The people still poor in a village ([`crate::report::figures::poor_people`]).
pub fn poor_people(store: &Store, village_id: Uuid) -> Result<i64, ExitError> {
    Ok(figures::poor_people(store, village_id)?)
}

/// Evaluates a village for a year against its province's standard.
pub fn evaluate_village(
    store: &Store,
    village_id: Uuid,
    year: i32,
) -> Result<VillageEvaluation, ExitError> {
    let v: Village = store.get(village_id)?;
    let standard = standard_for(store, year, &v.province)?;
    let poor = poor_people(store, village_id)?;
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
    let broadcast = match v.broadcast_coverage {
        None => CheckResult::new(
            "broadcast",
            "广播电视覆盖率达标",
            CheckStatus::Unknown,
            "未填广播电视覆盖率。".into(),
            Vec::new(),
        ),
        Some(rate) => CheckResult::new(
            "broadcast",
            "广播电视覆盖率达标",
            if rate >= standard.broadcast_min {
                CheckStatus::Met
            } else {
                CheckStatus::NotMet
            },
            format!("覆盖率{rate}%，标准为不低于{}%。", standard.broadcast_min),
            Vec::new(),
        ),
    };
    let items = vec![
        incidence_check,
        flag("road", "通硬化路", v.hardened_road),
        flag("power", "通动力电", v.power_grid),
        broadcast,
        flag("broadband", "通宽带", v.broadband),
        flag("water", "安全饮水", v.safe_water),
        flag("clinic", "有标准化卫生室", v.standard_clinic),
        flag("venue", "有综合性公共服务场所", v.public_venue),
        flag("school", "义务教育就学有保障", v.school_access),
    ];
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
