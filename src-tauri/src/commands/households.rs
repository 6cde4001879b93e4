//! Commands of the household list.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::query::{self, HouseholdPage, HouseholdQuery};

/// One page of households matching the list's search and filters.
#[tauri::command]
pub async fn list_households(
    state: State<'_, AppState>,
    query: HouseholdQuery,
) -> Result<HouseholdPage, CommandError> {
    state.with_store(|store| query::households(store, &query).map_err(CommandError::from_core))
}
