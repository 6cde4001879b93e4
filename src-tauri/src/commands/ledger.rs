//! Commands of the 台帐 page: export a ledger, preview a roll, import its good households.
//! Each runs on a blocking thread, so a county-sized export leaves the window responsive.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Manager, State};

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::ledger::{
    self, ExportSummary, ImportOutcome, ImportPreview, LedgerKind, Scope, import_good_rows,
    preview_roll,
};
use bangfu_core::store::Store;

/// The roll last previewed: importing writes exactly what the user saw, not a re-read file.
#[derive(Debug, Default)]
pub struct PendingImport(Mutex<Option<ImportPreview>>);

/// Runs `f` on the store on a blocking thread and waits for it without holding the async runtime.
pub async fn on_store_blocking<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&mut Store) -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    on_blocking(move || app.state::<AppState>().with_store(f)).await
}

/// Runs the long read `f` on the read-only handle on a blocking thread: the list, the
/// household page and every other command stay usable while it runs.
pub async fn on_reader_blocking<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&Store) -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    on_blocking(move || app.state::<AppState>().with_reader(f)).await
}

async fn on_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|error| {
            eprintln!("bangfu-desktop: blocking task failed: {error}");
            CommandError {
                kind: "task_failed",
                message: "操作意外中断，没有写入任何内容。请重试。".into(),
            }
        })?
}

/// Refuses a target whose folder does not exist, with the folder named.
pub fn existing_folder(path: &Path) -> Result<(), CommandError> {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() && !folder.is_dir() => Err(CommandError {
            kind: "no_folder",
            message: format!("文件夹“{}”不存在，请检查路径。", folder.display()),
        }),
        _ => Ok(()),
    }
}

/// Writes one ledger of a village, a township or the whole file to the .xlsx file `path`;
/// incomes, measures and visits of the work year `year` only, when given.
#[tauri::command]
pub async fn export_ledger(
    app: AppHandle,
    kind: LedgerKind,
    scope: Scope,
    year: Option<i32>,
    path: String,
) -> Result<ExportSummary, CommandError> {
    let path = PathBuf::from(path);
    existing_folder(&path)?;
    on_reader_blocking(app, move |store| {
        ledger::export_ledger_of_year(store, kind, &scope, year, &path)
            .map_err(CommandError::from_core)
    })
    .await
}

/// Reads and checks a roll, writing nothing; keeps the preview for `import_roll`.
#[tauri::command]
pub async fn preview_import(
    app: AppHandle,
    pending: State<'_, PendingImport>,
    path: String,
) -> Result<ImportPreview, CommandError> {
    let path = PathBuf::from(path);
    let preview = on_store_blocking(app, move |store| {
        preview_roll(store, &path).map_err(CommandError::from_core)
    })
    .await?;
    *pending.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(preview.clone());
    Ok(preview)
}

/// Files the good households of the roll previewed last, which must be `path`.
#[tauri::command]
pub async fn import_roll(
    app: AppHandle,
    pending: State<'_, PendingImport>,
    path: String,
) -> Result<ImportOutcome, CommandError> {
    let preview = pending
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .filter(|p| p.file == PathBuf::from(&path).display().to_string())
        .ok_or_else(|| CommandError {
            kind: "not_previewed",
            message: "请先检查这个表格，看过每行的问题后再导入。".into(),
        })?;
    on_store_blocking(app, move |store| {
        import_good_rows(store, &preview).map_err(CommandError::from_core)
    })
    .await
}
