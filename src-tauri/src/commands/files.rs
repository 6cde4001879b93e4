//! Where files go and come from: the U 盘 mounted now, the last folder used per kind of file,
//! showing a saved file in its folder, and the whole-or-nothing write of a file to a stick.

use std::collections::BTreeMap;
use std::io::Write;
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
        .and_then(|()| {
            let text = serde_json::to_vec_pretty(&places).map_err(std::io::Error::other)?;
            write_whole(&file, &text)
        });
    if let Err(e) = written {
        eprintln!(
            "bangfu-desktop: remembering the folder in {}: {e}",
            file.display()
        );
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary name in the same folder (so on
/// the same drive), fsynced, then renamed over the target. The pattern of
/// `bangfu_core::print::save_pdf`, to be replaced by the core's atomic write when it lands.
pub fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut partial = tempfile::Builder::new()
        .prefix(".bangfu-")
        .suffix(".part")
        .tempfile_in(dir)?;
    partial.write_all(bytes)?;
    partial.as_file().sync_all()?;
    partial.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`write_whole`] with the failure said for a person: a folder that is gone is a stick
/// pulled out; anything else is a write that failed. Either way no file was kept.
pub fn save_whole(path: &Path, bytes: &[u8], what: &str) -> Result<(), CommandError> {
    let Err(error) = write_whole(path, bytes) else {
        return Ok(());
    };
    eprintln!("bangfu-desktop: writing {}: {error}", path.display());
    let folder = path.parent().unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(CommandError {
            kind: "drive_removed",
            message: format!(
                "U 盘已拔出（或文件夹 {} 已不在），{what}没有写完，未留下文件。请插回 U 盘后再保存一次。",
                folder.display()
            ),
        });
    }
    Err(CommandError {
        kind: "write_failed",
        message: format!(
            "{what}写入 {} 失败（{error}），未留下文件。请检查 U 盘是否已满、是否写保护或已松动，再保存一次。",
            path.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_whole_file_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("同步.bfcs");
        std::fs::write(&target, b"old").unwrap();
        save_whole(&target, b"new content", "同步文件").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new content");
        assert_eq!(leftovers(dir.path()), ["同步.bfcs"]);
    }

    #[test]
    fn a_stick_pulled_out_says_so_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let stick = dir.path().join("KINGSTON");
        std::fs::create_dir(&stick).unwrap();
        let target = stick.join("同步.bfcs");
        std::fs::remove_dir(&stick).unwrap();
        let error = save_whole(&target, b"content", "同步文件").unwrap_err();
        assert_eq!(error.kind, "drive_removed");
        assert!(error.message.contains("U 盘已拔出"), "{}", error.message);
        assert!(error.message.contains("未留下文件"), "{}", error.message);
        assert!(!target.exists());
    }

    #[test]
    fn a_write_that_fails_at_the_rename_leaves_no_half_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the data is written and synced, the rename fails.
        let target = dir.path().join("同步.bfcs");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let error = save_whole(&target, b"content", "同步文件").unwrap_err();
        assert_eq!(error.kind, "write_failed");
        assert!(error.message.contains("未留下文件"), "{}", error.message);
        assert_eq!(
            leftovers(dir.path()),
            ["同步.bfcs"],
            "no .part file is left"
        );
    }
}
