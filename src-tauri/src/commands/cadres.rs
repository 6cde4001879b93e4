//! Commands of the 帮扶责任人 list: adding a cadre where a household's cadre is chosen.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::filing::FilingOutcome;
use bangfu_core::model::Helper;

/// Saves a new or edited 帮扶责任人; a record with errors is refused whole.
#[tauri::command]
pub async fn file_helper(
    state: State<'_, AppState>,
    helper: Helper,
) -> Result<FilingOutcome, CommandError> {
    state.with_store(|store| store.file_helper(&helper).map_err(CommandError::from_core))
}
