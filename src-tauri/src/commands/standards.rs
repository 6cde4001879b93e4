//! Commands of the 脱贫标准 page: the standards in force (the county's synced rows over the
//! shipped ones), setting a year's standard (a falling line is asked about first), and taking a
//! county setting back; and the county's first year of 建档立卡 shown and set on the same page.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::county_settings::{
    CountySettings, clear_first_filing_year, county_settings, set_first_filing_year,
};
use bangfu_core::exit::standards::{ExitStandard, clear_standard, list_standards, set_standard};

/// Every standard in force, by year then province.
#[tauri::command]
pub async fn standards_list(state: State<'_, AppState>) -> Result<Vec<ExitStandard>, CommandError> {
    state.with_store(|store| list_standards(store).map_err(CommandError::from_core))
}

/// Sets a year's standard for a province; `accept_fall` after the person confirmed a line
/// below the year before (the first call answers `income_line_falls`).
#[tauri::command]
pub async fn standard_set(
    state: State<'_, AppState>,
    standard: ExitStandard,
    accept_fall: bool,
) -> Result<(), CommandError> {
    state.with_store(|store| {
        set_standard(store, &standard, accept_fall).map_err(CommandError::from_core)
    })
}

/// Takes back the county's setting of a (province, year); the shipped figure applies again.
#[tauri::command]
pub async fn standard_clear(
    state: State<'_, AppState>,
    year: i32,
    province: String,
) -> Result<bool, CommandError> {
    state
        .with_store(|store| clear_standard(store, year, &province).map_err(CommandError::from_core))
}

/// The county's settings in force (so far the first year of 建档立卡), each with its source.
#[tauri::command]
pub async fn county_settings_get(
    state: State<'_, AppState>,
) -> Result<CountySettings, CommandError> {
    state.with_store(|store| county_settings(store).map_err(CommandError::from_core))
}

/// Sets the county's first year of 建档立卡 with the document it comes from.
#[tauri::command]
pub async fn first_filing_year_set(
    state: State<'_, AppState>,
    year: i32,
    source: String,
) -> Result<(), CommandError> {
    state.with_store(|store| {
        set_first_filing_year(store, year, &source).map_err(CommandError::from_core)
    })
}

/// Takes back the county's first filing year; the shipped 2014 applies again.
#[tauri::command]
pub async fn first_filing_year_clear(state: State<'_, AppState>) -> Result<bool, CommandError> {
    state.with_store(|store| clear_first_filing_year(store).map_err(CommandError::from_core))
}
