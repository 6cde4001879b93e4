//! One step recorded for a list of households: one 村两委 meeting, one 公示, one township
//! 公告 or one county approval covers many households, with the same date, signers and
//! document. Each household is checked exactly as recording it alone would check it
//! (`procedure::step_changes`); the whole list is then written in one transaction.
//!
//! By default it is all or nothing: one household that fails refuses the list, naming every
//! household that failed and why, and nothing is written. Only when the person asks
//! (`skip_failing`) do the others go through, and the failures are reported beside them.
//!
//! At 村两委商议 a household that fails the standard or did not sign needs a recorded reason
//! and the person deciding (`procedure::check_exception`): the list carries them per household
//! (`exceptions`), and `check_only` tells which households need one without writing anything.
//! A reason given for a household that needs none (it meets the standard and signed) is not
//! recorded, and the outcome names the household (`exceptions_not_needed`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::procedure::{Phase, Step, StepRecord, procedure_state, step_changes};
use super::{ExitError, UserFacing};
use crate::access::Permission;
use crate::model::Household;
use crate::store::{Filter, Store};

/// One step for a list of households.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchStep {
    pub households: Vec<Uuid>,
    pub record: StepRecord,
    /// Record the households that pass even when others fail (default: all or nothing).
    #[serde(default)]
    pub skip_failing: bool,
    /// 村两委商议: the exception reason and the person deciding, per household that needs one.
    #[serde(default)]
    pub exceptions: Vec<HouseholdException>,
    /// Check every household as the step would, report who passes and who fails, write nothing.
    #[serde(default)]
    pub check_only: bool,
}

/// One household's recorded exception at 村两委商议 (the same two fields a single step takes:
/// `StepRecord::exception_reason` and `exception_by`).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdException {
    pub household_id: Uuid,
    /// Why the committee agrees although the household fails the standard or did not sign.
    pub reason: String,
    /// Who takes responsibility for the decision (name and role).
    pub by: String,
}

/// A household of the list that could not take the step, and why (the single-step message).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct BatchFailure {
    pub household_id: Uuid,
    /// 户编号.
    pub code: String,
    pub reason: String,
    /// What kind of refusal (`UserFacing::kind`): `exception_unrecorded` is the one a recorded
    /// exception reason answers.
    pub kind: String,
}

/// What a batch did: who got the step, who did not.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct BatchOutcome {
    pub step: Step,
    /// 户编号 of the households recorded, in the list's order.
    pub recorded: Vec<String>,
    pub failed: Vec<BatchFailure>,
    /// 户编号 of the households given an exception reason they do not need (they meet the
    /// year's standard and signed): the step goes through for them without it, and the reason
    /// is not recorded.
    pub exceptions_not_needed: Vec<String>,
}

impl BatchOutcome {
    /// What to tell the person about reasons given where none was needed, one line per
    /// household; empty when there were none.
    pub fn exception_notes(&self) -> Vec<String> {
        self.exceptions_not_needed
            .iter()
            .map(|code| exception_not_needed_note(code))
            .collect()
    }
}

/// The line that says a household's exception reason was not needed and is not recorded.
pub fn exception_not_needed_note(code: &str) -> String {
    format!("户 {code} 达到标准且已签字认可，不需要例外理由，例外理由未记录。")
}

/// Records `batch.record` for every household of the list, in one transaction.
pub fn record_step_for_households(
    store: &mut Store,
    batch: &BatchStep,
) -> Result<BatchOutcome, ExitError> {
    store.require(Permission::ExitSteps)?;
    if batch.households.is_empty() {
        return Err(ExitError::BatchEmpty);
    }
    let exceptions = exceptions_by_household(store, batch)?;
    let mut seen = std::collections::HashSet::new();
    let mut changes = Vec::new();
    let mut recorded = Vec::new();
    let mut failed = Vec::new();
    let mut exceptions_not_needed = Vec::new();
    for &id in &batch.households {
        let code = store
            .get::<Household>(id)
            .map(|h| h.code)
            .unwrap_or_else(|_| id.to_string());
        if !seen.insert(id) {
            return Err(ExitError::BatchDuplicate { code });
        }
        let own_record;
        let record = match exceptions.get(&id) {
            Some(exception) => {
                let mut r = batch.record.clone();
                r.exception_reason = Some(exception.reason.clone());
                r.exception_by = Some(exception.by.clone());
                own_record = r;
                &own_record
            }
            None => &batch.record,
        };
        match step_changes(store, id, record) {
            Ok(mut own) => {
                changes.append(&mut own.changes);
                if own.exception_not_needed {
                    exceptions_not_needed.push(code.clone());
                }
                recorded.push(code);
            }
            Err(error) => failed.push(BatchFailure {
                household_id: id,
                code,
                reason: error.message_zh(),
                kind: error.kind().into(),
            }),
        }
    }
    if batch.check_only {
        return Ok(BatchOutcome {
            step: batch.record.step,
            recorded,
            failed,
            exceptions_not_needed,
        });
    }
    if !failed.is_empty() && !batch.skip_failing {
        return Err(ExitError::BatchRefused {
            step: batch.record.step.label(),
            failed: failed.into_iter().map(|f| (f.code, f.reason)).collect(),
        });
    }
    if !changes.is_empty() {
        store.write_by_exit_procedure(&changes)?;
    }
    Ok(BatchOutcome {
        step: batch.record.step,
        recorded,
        failed,
        exceptions_not_needed,
    })
}

/// The list's exceptions by household: only at 村两委商议, only for households of the list,
/// one per household. A blank reason or person is left to the household's own check, which
/// names what is missing.
fn exceptions_by_household<'a>(
    store: &Store,
    batch: &'a BatchStep,
) -> Result<std::collections::HashMap<Uuid, &'a HouseholdException>, ExitError> {
    let mut by_household = std::collections::HashMap::new();
    if batch.exceptions.is_empty() {
        return Ok(by_household);
    }
    if batch.record.step != Step::Deliberation {
        return Err(ExitError::ExceptionOutsideDeliberation {
            step: batch.record.step.label(),
        });
    }
    for exception in &batch.exceptions {
        let code = || {
            store
                .get::<Household>(exception.household_id)
                .map(|h| h.code)
                .unwrap_or_else(|_| exception.household_id.to_string())
        };
        if !batch.households.contains(&exception.household_id) {
            return Err(ExitError::ExceptionNotListed { code: code() });
        }
        if by_household
            .insert(exception.household_id, exception)
            .is_some()
        {
            return Err(ExitError::ExceptionTwice { code: code() });
        }
    }
    Ok(by_household)
}

/// The live households of a village whose procedure has `step` next (not exited, not held by
/// a conflict), by 户编号: the list a step for "all eligible" starts from.
pub fn households_due_for_step(
    store: &Store,
    village_id: Uuid,
    step: Step,
) -> Result<Vec<Household>, ExitError> {
    let mut due = Vec::new();
    let mut households: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| h.village_id == Some(village_id))
        .collect();
    households.sort_by(|a, b| a.code.cmp(&b.code));
    for h in households {
        let state = procedure_state(store, h.id)?;
        if state.phase != Phase::Blocked && state.next == Some(step) {
            due.push(h);
        }
    }
    Ok(due)
}
