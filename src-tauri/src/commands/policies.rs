//! Commands of the household page's 政策享受 box: what the household and each member are owed
//! under the policies in force in a year, and what they received.

use tauri::State;

use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::policy::{Entitlement, household_due};

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
