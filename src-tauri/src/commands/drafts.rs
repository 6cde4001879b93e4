//! Drafts: the household page's unsaved edits, kept in the data file on every change.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::store::draft::Draft;

#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    key: String,
    title: String,
    content: String,
) -> Result<(), CommandError> {
    state.with_store(|store| {
        store
            .save_draft(&key, &title, &content)
            .map_err(CommandError::from_core)
    })
}

/// Every draft, newest first.
#[tauri::command]
pub async fn drafts(state: State<'_, AppState>) -> Result<Vec<Draft>, CommandError> {
    state.with_store(|store| store.drafts().map_err(CommandError::from_core))
}

#[tauri::command]
pub async fn discard_draft(state: State<'_, AppState>, key: String) -> Result<(), CommandError> {
    state.with_store(|store| store.discard_draft(&key).map_err(CommandError::from_core))
}
