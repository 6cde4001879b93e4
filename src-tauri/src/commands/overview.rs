//! Commands of the village overview page.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::report::overview::{Overview, overview};
use bangfu_core::report::quality::{QualityItem, data_quality};

/// Households and people by 脱贫状态, 贫困发生率, households not visited for `days` days.
#[tauri::command]
pub async fn village_overview(
    state: State<'_, AppState>,
    days: i64,
) -> Result<Overview, CommandError> {
    state.with_store(|store| overview(store, days).map_err(CommandError::from_core))
}

/// The 疑点 list: every finding of every household, by household code.
#[tauri::command]
pub async fn data_quality_items(
    state: State<'_, AppState>,
) -> Result<Vec<QualityItem>, CommandError> {
    state.with_store(|store| data_quality(store).map_err(CommandError::from_core))
}
