//! Where files go and come from: the U 盘 mounted now, the last folder used per kind of file,
//! showing a saved file in its folder, and the whole-or-nothing write of a file to a stick.

use std::collections::BTreeMap;

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};
use tauri_plugin_opener::OpenerExt;

use crate::error::CommandError;
use bangfu_core::removable::{RemovableDrive, removable_drives};

/// The removable drives mounted now (the UI asks every few seconds, so a stick plugged in
/// shows up by itself).
#[tauri::command]
pub async fn removable_drive_list() -> Vec<RemovableDrive> {
    removable_drives()
}

/// Opens the system's file manager on the folder of `path`, the file selected.
#[tauri::command]
pub async fn reveal_in_folder(app: AppHandle, path: String) -> Result<(), CommandError> {
    app.opener().reveal_item_in_dir(&path).map_err(|e| {
        eprintln!("bangfu-desktop: revealing {path}: {e}");
        CommandError {
            kind: "reveal",
            message: format!(
                "没能打开文件所在的文件夹。文件在 {path}，请在文件管理器里打开这个位置。"
            ),
        }
    })
}

/// The file the last folders are kept in, in the app's config folder.
fn places_file(app: &AppHandle) -> Option<PathBuf> {
    app.path()
        .app_config_dir()
        .ok()
        .map(|dir| dir.join("file-places.json"))
}

fn read_places(file: &Path) -> BTreeMap<String, String> {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The folder a kind of file (`sync-export`, `ledger-export`, `card-pdf`, …) was last saved
/// to or read from, when it still exists.
#[tauri::command]
pub async fn last_folder(app: AppHandle, kind: String) -> Option<String> {
    let places = read_places(&places_file(&app)?);
    places.get(&kind).filter(|f| Path::new(f).is_dir()).cloned()
}

/// Remembers the folder of a kind of file. Losing it costs only a default, so a failure is
/// logged, never shown.
#[tauri::command]
pub async fn remember_folder(app: AppHandle, kind: String, folder: String) {
    let Some(file) = places_file(&app) else {
        return;
    };
    let mut places = read_places(&file);
    places.insert(kind, folder);
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| serde_json::to_vec_pretty(&places).map_err(std::io::Error::other))
        .map_err(|e| e.to_string())
        .and_then(|text| bangfu_core::files::write_file(&file, &text).map_err(|e| e.to_string()));
    if let Err(e) = written {
        eprintln!(
            "bangfu-desktop: remembering the folder in {}: {e}",
            file.display()
        );
    }
}
