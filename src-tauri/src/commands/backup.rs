//! Commands of 设置 → 备份: the data file's backups, 立即备份, and 恢复 (recorded now, applied
//! at the restart before the data file is opened).

use bangfu_core::store::backup::{BackupInfo, MANUAL, backup_file, list_backups};
use bangfu_core::store::restore::request_restore;
use tauri::{AppHandle, State};

use crate::error::CommandError;
use crate::state::AppState;

/// The backups of the open data file, newest first. Read from the folder beside the file, so
/// the list is there even when the file itself could not be opened.
#[tauri::command]
pub async fn backups(state: State<'_, AppState>) -> Result<Vec<BackupInfo>, CommandError> {
    Ok(list_backups(&state.data_file))
}

/// Takes a backup now, on a blocking thread and a read-only connection of its own (the store
/// stays free for other commands; a county file takes seconds), and resolves to the new list.
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> Result<Vec<BackupInfo>, CommandError> {
    let (path, now, key) = state.with_store(|store| {
        Ok((
            store.path().to_path_buf(),
            store.wall_ms(),
            store.key().cloned(),
        ))
    })?;
    tauri::async_runtime::spawn_blocking(move || {
        backup_file(&path, MANUAL, now, key.as_ref()).map_err(CommandError::from_core)?;
        Ok(list_backups(&path))
    })
    .await
    .map_err(|error| {
        eprintln!("bangfu-desktop: backup task failed: {error}");
        CommandError {
            kind: "task_failed",
            message: "备份意外中断，数据文件未受影响。请重试。".into(),
        }
    })?
}

/// Records that `path` (one of this file's backups) replaces the data file, then restarts the
/// app: the restore happens at the start, before anything opens the file.
#[tauri::command]
pub async fn restore_from_backup(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<(), CommandError> {
    request_restore(&state.data_file, std::path::Path::new(&path))
        .map_err(CommandError::from_core)?;
    eprintln!("bangfu-desktop: restore of {path} requested; restarting");
    app.restart()
}
