//! Commands of the village overview page, and the work year (工作年度) the header offers.

use tauri::{AppHandle, State};

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::report::overview::{Overview, overview};
use bangfu_core::report::quality::{QualityItem, data_quality_shown};
use bangfu_core::report::year::{WorkYears, work_years};

/// The data file's default work year and the years to choose from, for the header.
#[tauri::command]
pub async fn work_year_choices(state: State<'_, AppState>) -> Result<WorkYears, CommandError> {
    state.with_store(|store| work_years(store).map_err(CommandError::from_core))
}

/// Households and people by 脱贫状态, 贫困发生率, households not visited for `days` days in
/// the work year `year` (the file's default work year when not given).
#[tauri::command]
pub async fn village_overview(
    state: State<'_, AppState>,
    year: Option<i32>,
    days: i64,
) -> Result<Overview, CommandError> {
    state.with_store(|store| overview(store, year, days).map_err(CommandError::from_core))
}

/// The 疑点 list: every finding of every household, by household code.
#[tauri::command]
pub async fn data_quality_items(app: AppHandle) -> Result<Vec<QualityItem>, CommandError> {
    super::ledger::on_reader_blocking(app, |store| {
        data_quality_shown(store).map_err(CommandError::from_core)
    })
    .await
}
