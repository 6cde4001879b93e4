//! Commands of the household page's 政策享受 box: what the household and each member are owed
//! under the policies in force in a year, and what they received; the 帮扶措施与发放 box's
//! measures with their payments, recording a structured measure, a payment and a member's
//! training; the 易地扶贫搬迁 box's stages and recording the next one.

use tauri::State;

use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::moving::{Moved, move_household};
use bangfu_core::policy::{
    self, Entitlement, HouseholdRelocation, MeasurePayments, NewPayment, NewStage, NewTraining,
    PolicyDef, PolicyMeasure, StageSaved, household_due,
};

/// Every entitlement of the household's saved data in `year`: who qualifies for which policy,
/// what was paid, and where each stands (应享未享, 未足额, 超标准, 不符合条件, 已享受).
#[tauri::command]
pub async fn household_policies(
    state: State<'_, AppState>,
    household_id: String,
    year: i32,
) -> Result<Vec<Entitlement>, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| household_due(store, id, year).map_err(CommandError::from_core))
}

/// The household's measures with their payments (paid above the amount due flagged).
#[tauri::command]
pub async fn household_measures(
    state: State<'_, AppState>,
    household_id: String,
) -> Result<Vec<MeasurePayments>, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| policy::household_measures(store, id).map_err(CommandError::from_core))
}

/// The policies in force in `year`, for the page's choice of a measure's policy.
#[tauri::command]
pub async fn policies_in_force(
    state: State<'_, AppState>,
    year: i32,
) -> Result<Vec<PolicyDef>, CommandError> {
    state
        .with_store(|store| policy::policies_in_force(store, year).map_err(CommandError::from_core))
}

/// Records a structured measure naming its policy and beneficiary; its id.
#[tauri::command]
pub async fn policy_measure_add(
    state: State<'_, AppState>,
    input: PolicyMeasure,
) -> Result<String, CommandError> {
    state.with_store(|store| {
        policy::record_policy_measure(store, &input)
            .map(|id| id.to_string())
            .map_err(CommandError::from_core)
    })
}

/// Records a payment of a measure (date not in the future, amount above 0, a channel of the
/// list: checked by the store); its id.
#[tauri::command]
pub async fn payment_add(
    state: State<'_, AppState>,
    input: NewPayment,
) -> Result<String, CommandError> {
    state.with_store(|store| {
        policy::record_payment(store, &input)
            .map(|id| id.to_string())
            .map_err(CommandError::from_core)
    })
}

/// Records a member's training (引导性培训/技能培训, days, certificate) as a 转移就业 measure;
/// its id.
#[tauri::command]
pub async fn training_add(
    state: State<'_, AppState>,
    input: NewTraining,
) -> Result<String, CommandError> {
    state.with_store(|store| {
        policy::record_training(store, &input)
            .map(|id| id.to_string())
            .map_err(CommandError::from_core)
    })
}

/// The household's 易地扶贫搬迁: its 安置点, the stages recorded, the next one, and whether the
/// person signed in may record it.
#[tauri::command]
pub async fn household_relocation(
    state: State<'_, AppState>,
    household_id: String,
) -> Result<HouseholdRelocation, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| {
        policy::household_relocation(store, id).map_err(CommandError::from_core)
    })
}

/// Records a stage of the household's new house (refused: a stage already recorded, a day out
/// of order or in the future, no 安置点, an unknown village of the 安置点); the box as it now
/// stands, and at 入住 in another village the move to offer.
#[tauri::command]
pub async fn relocation_stage_add(
    state: State<'_, AppState>,
    input: NewStage,
) -> Result<StageSaved, CommandError> {
    state.with_store(|store| {
        policy::record_stage_for_page(store, &input).map_err(CommandError::from_core)
    })
}

/// Names the village of the household's 安置点 on its 入住 stage (one recorded before the box
/// asked for it); the box as it now stands, and the move to offer when it is another village.
#[tauri::command]
pub async fn relocation_site_village_set(
    state: State<'_, AppState>,
    household_id: String,
    village_code: String,
) -> Result<StageSaved, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| {
        policy::set_site_village(store, id, &village_code).map_err(CommandError::from_core)
    })
}

/// Moves a household to the village with `village_code` (its 所属村 and a 户编号 of that
/// village), once the person accepted the move the 易地扶贫搬迁 box offered.
#[tauri::command]
pub async fn household_move(
    state: State<'_, AppState>,
    household_id: String,
    village_code: String,
) -> Result<Moved, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| {
        move_household(store, id, &village_code).map_err(CommandError::from_core)
    })
}
