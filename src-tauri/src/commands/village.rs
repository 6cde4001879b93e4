//! Commands of the 村情 page: the villages, one village's sheet, and saving it over the base
//! it was loaded from.

use tauri::State;

use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::village::{
    VillageEdit, VillageRow, VillageSheet, list_villages, save_village_sheet, village_sheet,
};

/// Every village of the data file with its 村情 in brief.
#[tauri::command]
pub async fn village_list(state: State<'_, AppState>) -> Result<Vec<VillageRow>, CommandError> {
    state.with_store(|store| list_villages(store).map_err(CommandError::from_core))
}

/// One village's 村情 page and the base a save is written over.
#[tauri::command]
pub async fn village_sheet_load(
    state: State<'_, AppState>,
    village_id: String,
) -> Result<VillageSheet, CommandError> {
    let id = parse_id(&village_id)?;
    state.with_store(|store| village_sheet(store, id).map_err(CommandError::from_core))
}

/// Saves the fields the person changed; the core checks them and refuses in Chinese.
#[tauri::command]
pub async fn village_sheet_save(
    state: State<'_, AppState>,
    edit: VillageEdit,
) -> Result<VillageSheet, CommandError> {
    state.with_store(|store| save_village_sheet(store, &edit).map_err(CommandError::from_core))
}
