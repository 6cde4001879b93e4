//! Commands of the figures on the 村情概览 page: statistics and exit readiness of a village, a
//! township or the whole file, and the report workbook.

use std::path::PathBuf;

use tauri::AppHandle;

use super::ledger::{existing_folder, on_reader_blocking};
use crate::error::CommandError;
use bangfu_core::ledger::{ReportSummary, ReportYears, Scope, write_scope_report};
use bangfu_core::report::readiness::{Readiness, exit_readiness};
use bangfu_core::report::stats::{StatsReport, stats};

/// Households and people by status, 贫困发生率, measures by path, visit coverage of `year`.
#[tauri::command]
pub async fn scope_stats(
    app: AppHandle,
    scope: Scope,
    year: Option<i32>,
) -> Result<StatsReport, CommandError> {
    on_reader_blocking(app, move |store| {
        stats(store, &scope, year).map_err(CommandError::from_core)
    })
    .await
}

/// Who of the households still counted as poor meets the standard of `year`, and why not.
#[tauri::command]
pub async fn scope_exit_readiness(
    app: AppHandle,
    scope: Scope,
    year: Option<i32>,
) -> Result<Readiness, CommandError> {
    on_reader_blocking(app, move |store| {
        exit_readiness(store, &scope, year).map_err(CommandError::from_core)
    })
    .await
}

/// Writes the figures and exit readiness of the scope to the .xlsx file `path`.
#[tauri::command]
pub async fn export_scope_report(
    app: AppHandle,
    scope: Scope,
    visit_year: Option<i32>,
    exit_year: Option<i32>,
    path: String,
) -> Result<ReportSummary, CommandError> {
    let path = PathBuf::from(path);
    existing_folder(&path)?;
    let years = ReportYears {
        visits: visit_year,
        exit: exit_year,
    };
    on_reader_blocking(app, move |store| {
        write_scope_report(store, &scope, years, &path).map_err(CommandError::from_core)
    })
    .await
}
