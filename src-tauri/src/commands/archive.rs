//! Commands of the household page's 档案 box: the household's attachments by record, the
//! records a file can be attached to, attaching a picked file, saving one back out, taking one
//! off its record.

use std::path::PathBuf;

use tauri::{AppHandle, State};

use super::cards::{Delivered, Destination, deliver};
use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::archive::{self, AttachOutcome, AttachableRecord, AttachmentEntry, NewAttachment};

/// The household's attachments, by record.
#[tauri::command]
pub async fn archive_list(
    state: State<'_, AppState>,
    household_id: String,
) -> Result<Vec<AttachmentEntry>, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| {
        archive::household_attachments(store, id).map_err(CommandError::from_core)
    })
}

/// The household's exit steps, visits and measures, each with its label.
#[tauri::command]
pub async fn archive_records(
    state: State<'_, AppState>,
    household_id: String,
) -> Result<Vec<AttachableRecord>, CommandError> {
    let id = parse_id(&household_id)?;
    state
        .with_store(|store| archive::attachable_records(store, id).map_err(CommandError::from_core))
}

/// Attaches the file at `path` (picked in the system's dialog) to a record of the household.
#[tauri::command]
pub async fn archive_add(
    state: State<'_, AppState>,
    input: NewAttachment,
    path: String,
) -> Result<AttachOutcome, CommandError> {
    let bytes =
        archive::read_picked_file(&PathBuf::from(&path)).map_err(CommandError::from_core)?;
    let input = NewAttachment {
        file_name: path,
        ..input
    };
    state
        .with_store(|store| archive::attach(store, &input, &bytes).map_err(CommandError::from_core))
}

/// Saves a held file of the archive to `path`, whole or not at all.
#[tauri::command]
pub async fn archive_save(
    state: State<'_, AppState>,
    sha256: String,
    path: String,
) -> Result<(), CommandError> {
    let (_, bytes) = state.with_store(|store| {
        archive::blob_bytes_for_person(store, &sha256).map_err(CommandError::from_core)
    })?;
    bangfu_core::files::write_file(&PathBuf::from(path), &bytes).map_err(CommandError::from_core)
}

/// Takes an attachment off its record.
#[tauri::command]
pub async fn archive_remove(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let id = parse_id(&id)?;
    state.with_store(|store| archive::remove_attachment(store, id).map_err(CommandError::from_core))
}

/// The 档案目录 of the household with this code, printed or saved like the 走访记录 sheet.
#[tauri::command]
pub async fn archive_list_sheet(
    app: AppHandle,
    state: State<'_, AppState>,
    household: String,
    destination: Destination,
) -> Result<Delivered, CommandError> {
    let bytes = state.with_store(|store| {
        bangfu_core::cards::archive_list_pdf(store, &household).map_err(CommandError::from_core)
    })?;
    deliver(&app, &bytes, destination, "档案目录", 0)
}
