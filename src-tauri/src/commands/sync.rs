//! Commands of the 同步 and 冲突与重复 pages: changeset files in and out, the review queue.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::State;

use crate::error::{CommandError, ShellError};
use crate::state::AppState;
use bangfu_core::sync::exchange::{ExportSummary, SealTo, export_sealed, import_changeset_file};
use bangfu_core::sync::review::{ReviewItem, ReviewKey, resolve_key, review_items};

/// The extension of changeset files, as the `bangfu` command writes them.
const CHANGESET_EXTENSION: &str = "bfcs";

fn file_error(path: &Path, action: &'static str, error: std::io::Error) -> CommandError {
    CommandError::from_core(ShellError::File {
        action,
        path: path.to_path_buf(),
        source: error,
    })
}

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct ExportResult {
    pub path: String,
    pub summary: ExportSummary,
}

/// Writes everything this copy holds into a changeset file at `path`, sealed to every device
/// this copy knows (an introduction when it knows none yet, see `export_sealed`).
#[tauri::command]
pub async fn export_changes(
    state: State<'_, AppState>,
    path: String,
) -> Result<ExportResult, CommandError> {
    let path = PathBuf::from(path);
    let (bytes, summary) = state.with_store(|store| {
        export_sealed(store, None, &SealTo::Known).map_err(CommandError::from_core)
    })?;
    // Whole or not at all: a stick pulled out mid-write leaves no half file, and says so.
    bangfu_core::files::write_file(&path, &bytes).map_err(CommandError::from_core)?;
    Ok(ExportResult {
        path: path.display().to_string(),
        summary,
    })
}

/// The changeset files in a folder, by name; a file path is returned as itself.
#[tauri::command]
pub async fn changeset_files(path: String) -> Result<Vec<String>, CommandError> {
    let path = PathBuf::from(path);
    if path.is_file() {
        return Ok(vec![path.display().to_string()]);
    }
    let entries = std::fs::read_dir(&path).map_err(|e| file_error(&path, "打开", e))?;
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == CHANGESET_EXTENSION))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    Ok(files)
}

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct ImportResult {
    pub message: String,
    pub applied: u64,
}

/// Imports one changeset file: whole, or refused whole with a message saying why.
#[tauri::command]
pub async fn import_changes(
    state: State<'_, AppState>,
    path: String,
) -> Result<ImportResult, CommandError> {
    let path = PathBuf::from(path);
    // Read as a stream (decrypted, inflated, applied in windows): a county file never sits
    // whole in memory.
    let summary = state
        .with_store(|store| import_changeset_file(store, &path).map_err(CommandError::from_core))?;
    Ok(ImportResult {
        message: summary.message_zh(),
        applied: summary.applied,
    })
}

/// Open conflicts and edits of deleted rows, each with every competing value.
#[tauri::command]
pub async fn review_queue(state: State<'_, AppState>) -> Result<Vec<ReviewItem>, CommandError> {
    state.with_store(|store| review_items(store).map_err(CommandError::from_core))
}

/// Settles one review item with the value kept or typed.
#[tauri::command]
pub async fn resolve_review_item(
    state: State<'_, AppState>,
    item: ReviewKey,
    text: String,
) -> Result<(), CommandError> {
    state.with_store(|store| resolve_key(store, &item, &text).map_err(CommandError::from_core))
}
