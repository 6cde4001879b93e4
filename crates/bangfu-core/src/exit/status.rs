//! Where a village's (or the whole copy's) exit procedures stand: how many households at each
//! step, who is stuck where, and who meets the standard but has not started.

use serde::Serialize;
use uuid::Uuid;

use super::ExitError;
use super::evaluate::{CheckStatus, evaluate_household};
use super::procedure::{Phase, procedure_state};
use super::village::{VillageEvaluation, evaluate_village};
use crate::error::UserFacing;
use crate::model::Household;
use crate::store::{Filter, Store};

/// A household waiting longer than this since its last step counts as stuck.
pub const STALE_DAYS: i64 = 30;

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StepCount {
    /// "未启动", a step's label (the last one done), "已退回", "待处理冲突" or "已销号".
    pub label: String,
    pub households: usize,
    /// Who is there.
    pub list: Vec<HouseholdRef>,
    /// The step these households take next (未启动 and each step done but the last): what the
    /// page offers to record for a list of them at once; `None` for the other rows.
    pub next: Option<super::Step>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StuckHousehold {
    pub household_id: Uuid,
    pub household_code: String,
    pub head_name: String,
    /// What was done last and what should come next.
    pub at: String,
    pub last_date: Option<chrono::NaiveDate>,
    pub reason: String,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdRef {
    pub household_id: Uuid,
    pub household_code: String,
    pub head_name: String,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct ExitOverview {
    pub year: i32,
    pub households: usize,
    pub by_step: Vec<StepCount>,
    pub stuck: Vec<StuckHousehold>,
    /// Meet every check the filed data answers (两不愁 waits for the survey) and have not
    /// started the procedure.
    pub ready_not_started: Vec<HouseholdRef>,
    /// Households with records that did not fit and were not counted.
    pub irregular: usize,
}

/// The overview of one village, or of every household in the copy.
pub fn exit_overview(
    store: &Store,
    village: Option<Uuid>,
    year: i32,
) -> Result<ExitOverview, ExitError> {
    let households: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| village.is_none() || h.village_id == village)
        .collect();
    let heads = head_names(store)?;
    let today = store.today();
    let mut labels: Vec<String> = vec!["未启动".into()];
    labels.extend(
        super::Step::ALL
            .iter()
            .map(|s| format!("已完成{}", s.label())),
    );
    labels.extend(["已退回", "待处理冲突", "已销号"].map(String::from));
    let mut lists: Vec<Vec<HouseholdRef>> = vec![Vec::new(); labels.len()];
    let mut overview = ExitOverview {
        year,
        households: households.len(),
        by_step: Vec::new(),
        stuck: Vec::new(),
        ready_not_started: Vec::new(),
        irregular: 0,
    };
    for h in &households {
        let state = procedure_state(store, h.id)?;
        let head_name = heads.get(&h.id).cloned().unwrap_or_default();
        if !state.irregular.is_empty() {
            overview.irregular += 1;
        }
        let slot = match state.phase {
            Phase::NotStarted => 0,
            Phase::InProgress => state.done.map_or(0, |s| s.number() as usize),
            Phase::SentBack => 6,
            Phase::Blocked => 7,
            Phase::Exited => 8,
        };
        lists[slot].push(HouseholdRef {
            household_id: h.id,
            household_code: h.code.clone(),
            head_name: head_name.clone(),
        });
        let at = match (state.done, state.next) {
            (Some(done), Some(next)) => format!("已完成{}，待办理{}", done.label(), next.label()),
            (None, Some(next)) => format!("待办理{}", next.label()),
            (Some(done), None) => format!("已完成{}", done.label()),
            (None, None) => String::new(),
        };
        let stuck_reason = match state.phase {
            Phase::Blocked => state.blocked.clone(),
            Phase::SentBack => state
                .sent_back
                .as_ref()
                .map(|(step, reason)| format!("{}被退回：{reason}", step.label())),
            Phase::InProgress => state
                .last_date
                .map(|d| (today - d).num_days())
                .filter(|days| *days > STALE_DAYS)
                .map(|days| format!("已{days}天没有办理下一步")),
            Phase::NotStarted | Phase::Exited => None,
        };
        if let Some(reason) = stuck_reason {
            overview.stuck.push(StuckHousehold {
                household_id: h.id,
                household_code: h.code.clone(),
                head_name: head_name.clone(),
                at,
                last_date: state.last_date,
                reason,
            });
        }
        let filed_poor = crate::report::figures::is_still_poor(&h.poverty_status);
        if state.phase == Phase::NotStarted && filed_poor {
            // A missing standard for the year makes nobody "ready"; the caller sees it
            // through the evaluation command, which reports it as an error.
            // 两不愁 is only found at the door by the survey, which starts the procedure, so
            // "ready" means every check the filed data can answer is met.
            if let Ok(evaluation) = evaluate_household(store, h.id, year)
                && evaluation.checks.iter().all(|c| {
                    c.status == CheckStatus::Met
                        || (matches!(c.code, "food" | "clothing")
                            && c.status == CheckStatus::Unknown)
                })
            {
                overview.ready_not_started.push(HouseholdRef {
                    household_id: h.id,
                    household_code: h.code.clone(),
                    head_name,
                });
            }
        }
    }
    overview.by_step = labels
        .into_iter()
        .zip(lists)
        .enumerate()
        .map(|(row, (label, list))| StepCount {
            label,
            households: list.len(),
            list,
            // Rows 0..=4 are 未启动 and the first four steps done, in order.
            next: if row < 5 {
                super::Step::from_number(row as i64 + 1)
            } else {
                None
            },
        })
        .collect();
    Ok(overview)
}

/// The 退出进度 page of a village (or of the whole copy): where every household stands,
/// and the village's own exit checks with its 贫困发生率.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageProgress {
    pub year: i32,
    pub households: ExitOverview,
    /// The village checklist; `None` for the whole copy or when it could not be evaluated.
    pub village: Option<VillageEvaluation>,
    /// Why the village could not be evaluated (no standard for the year, say).
    pub village_note: Option<String>,
}

/// Where a village's households and the village itself stand for `year` (the file's default
/// work year when not given, [`crate::report::year::default_work_year`]).
pub fn village_progress(
    store: &Store,
    village: Option<Uuid>,
    year: Option<i32>,
) -> Result<VillageProgress, ExitError> {
    let year = match year {
        Some(year) => year,
        None => crate::report::year::default_work_year(store)?,
    };
    let households = exit_overview(store, village, year)?;
    let (village, village_note) = match village.map(|v| evaluate_village(store, v, year)) {
        None => (None, None),
        Some(Ok(evaluation)) => (Some(evaluation), None),
        Some(Err(ExitError::Store(e))) => return Err(ExitError::Store(e)),
        Some(Err(e)) => (None, Some(e.message_zh())),
    };
    Ok(VillageProgress {
        year,
        households,
        village,
        village_note,
    })
}

fn head_names(store: &Store) -> Result<std::collections::HashMap<Uuid, String>, ExitError> {
    let mut stmt = store
        .conn()
        .prepare("SELECT household_id, head_name FROM household_summary")
        .map_err(crate::store::StoreError::from)?;
    let rows: Vec<(Vec<u8>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(crate::store::StoreError::from)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name)| Uuid::from_slice(&id).ok().map(|id| (id, name)))
        .collect())
}
