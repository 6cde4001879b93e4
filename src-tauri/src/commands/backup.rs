//! Commands of 设置 → 备份: the data file's backups, 立即备份, and 恢复 (recorded now, applied
//! at the restart before the data file is opened); 备份到 U 盘 and 从 U 盘恢复 (a chosen folder).

use bangfu_core::store::backup::{BackupInfo, MANUAL, backup_file, list_backups};
use bangfu_core::store::backup_media::{backup_to_folder, backups_in_folder, bring_back};
use bangfu_core::store::restore::request_restore_by;
use tauri::{AppHandle, State};

use crate::error::CommandError;
use crate::state::AppState;

/// The backups of the open data file, newest first. Read from the folder beside the file, so
/// the list is there even when the file itself could not be opened.
#[tauri::command]
pub async fn backups(state: State<'_, AppState>) -> Result<Vec<BackupInfo>, CommandError> {
    Ok(list_backups(&state.data_file()))
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
    state.with_store(|store| {
        request_restore_by(store, std::path::Path::new(&path)).map_err(|error| {
            eprintln!("bangfu-desktop: restore of {path} not requested: {error:?}");
            CommandError::from_core(error)
        })
    })?;
    eprintln!("bangfu-desktop: restore of {path} requested; restarting");
    app.restart()
}

/// 备份到 U 盘: a backup written whole into `folder` (a stick's, or any folder chosen), on a
/// blocking thread of its own. Resolves to the file written.
#[tauri::command]
pub async fn backup_to_media(
    state: State<'_, AppState>,
    folder: String,
) -> Result<String, CommandError> {
    let (path, now) =
        state.with_store(|store| Ok((store.path().to_path_buf(), store.wall_ms())))?;
    let folder = std::path::PathBuf::from(folder.trim());
    let key = state.key();
    tauri::async_runtime::spawn_blocking(move || {
        backup_to_folder(&path, &folder, now, key.as_ref())
            .map(|written| written.display().to_string())
            .map_err(CommandError::from_core)
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

/// The Bangfu backups in a folder (a stick's), newest first, for 从 U 盘恢复.
#[tauri::command]
pub async fn media_backups(
    state: State<'_, AppState>,
    folder: String,
) -> Result<Vec<BackupInfo>, CommandError> {
    Ok(backups_in_folder(
        std::path::Path::new(folder.trim()),
        state.key().as_ref(),
    ))
}

/// 从 U 盘恢复: checks the backup on the stick, brings it into this file's backup folder, records
/// the restore and restarts the app, as 恢复 of a listed backup does.
#[tauri::command]
pub async fn restore_from_media(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<(), CommandError> {
    let (data_file, now) = state.with_store(|store| {
        // Checked before anything is copied into the backup folder.
        store
            .require(bangfu_core::access::Permission::RestoreBackups)
            .map_err(CommandError::from_core)?;
        Ok((store.path().to_path_buf(), store.wall_ms()))
    })?;
    let copy = bring_back(
        &data_file,
        std::path::Path::new(path.trim()),
        now,
        state.key().as_ref(),
    )
    .map_err(CommandError::from_core)?;
    state.with_store(|store| request_restore_by(store, &copy).map_err(CommandError::from_core))?;
    eprintln!("bangfu-desktop: restore of {path} (from a removable drive) requested; restarting");
    app.restart()
}
