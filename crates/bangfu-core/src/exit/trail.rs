//! A household's procedure as its 退出 page shows it: where it stands, what may be done next
//! (the one legal next step, the steps that may be sent back, whether 返贫 may be recorded),
//! and every record of the trail with its labels; and what a person does there.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ExitError;
use super::procedure::{
    Phase, ProcedureState, Step, StepRecord, history, procedure_state, record_step,
    return_to_poverty, send_back,
};
use super::standards::standard_for;
use crate::model::{ExitStep, Household, codes};
use crate::store::Store;

/// A step with the name the forms use.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepChoice {
    pub step: Step,
    pub label: &'static str,
}

impl From<Step> for StepChoice {
    fn from(step: Step) -> StepChoice {
        StepChoice {
            step,
            label: step.label(),
        }
    }
}

/// One record of the trail, with the labels of its codes.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct TrailRecord {
    #[serde(flatten)]
    pub record: ExitStep,
    /// 办理 / 退回 / 返贫.
    pub action_label: &'static str,
    pub step_label: &'static str,
    pub vote_type_label: &'static str,
    pub result_label: &'static str,
    /// Why the record was not counted, when it does not fit where it stands.
    pub irregular: Option<String>,
    /// What the record says, one line each, as the trail's 内容 cell shows it.
    pub details: Vec<String>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct ProcedureTrail {
    pub state: ProcedureState,
    /// The one step that may be recorded now (none once exited or while blocked).
    pub next: Option<StepChoice>,
    /// Steps of the current pass that may be sent back.
    pub may_send_back: Vec<StepChoice>,
    /// 返贫 may be recorded (the household has exited).
    pub may_return: bool,
    /// Days the 村评议公示 must last by this year's standard of the household's province.
    pub notice_days: Option<i64>,
    /// Every record, oldest first, every round.
    pub records: Vec<TrailRecord>,
}

fn label(list: &codes::CodeList, code: &str) -> &'static str {
    list.label(code).unwrap_or("")
}

/// The household's procedure and trail.
pub fn procedure_trail(store: &Store, household_id: Uuid) -> Result<ProcedureTrail, ExitError> {
    let household: Household = store.get(household_id)?;
    let state = procedure_state(store, household_id)?;
    let records = history(store, household_id)?
        .into_iter()
        .map(|record| TrailRecord {
            action_label: label(&codes::EXIT_ACTION, &record.action),
            step_label: label(&codes::EXIT_STEP, &record.step),
            vote_type_label: label(&codes::VOTE_TYPE, &record.vote_type),
            result_label: label(&codes::STEP_RESULT, &record.vote_result),
            irregular: state
                .irregular
                .iter()
                .find(|i| Some(i.seq) == record.seq)
                .map(|i| i.message.clone()),
            details: super::forms::record_details(&record),
            record,
        })
        .collect();
    let may_send_back = match state.phase {
        Phase::Exited | Phase::Blocked => Vec::new(),
        _ => Step::ALL
            .into_iter()
            .filter(|s| state.done.is_some_and(|d| *s <= d))
            .map(StepChoice::from)
            .collect(),
    };
    let province = super::province_of(store, &household)?;
    let notice_days = standard_for(store, store.today().year(), &province)
        .ok()
        .map(|s| s.notice_days);
    Ok(ProcedureTrail {
        next: state.next.map(StepChoice::from),
        may_send_back,
        may_return: state.phase == Phase::Exited,
        notice_days,
        records,
        state,
    })
}

/// What a person does to a household's procedure from its page.
// One value per click, read once from the window: the size of the record variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ExitAction {
    /// Records the next step.
    Record(StepRecord),
    /// Sends a step of the current pass back, with the reason.
    SendBack {
        step: Step,
        date: NaiveDate,
        people: String,
        reason: String,
    },
    /// 返贫: reopens an exited household.
    ReturnToPoverty {
        date: NaiveDate,
        people: String,
        reason: String,
    },
}

/// Does what the person asked, through the procedure's own checks.
pub fn act(
    store: &mut Store,
    household_id: Uuid,
    action: &ExitAction,
) -> Result<ProcedureState, ExitError> {
    match action {
        ExitAction::Record(record) => record_step(store, household_id, record),
        ExitAction::SendBack {
            step,
            date,
            people,
            reason,
        } => send_back(store, household_id, *step, *date, people, reason),
        ExitAction::ReturnToPoverty {
            date,
            people,
            reason,
        } => return_to_poverty(store, household_id, *date, people, reason),
    }
}
