//! Commands of the 设置 page and the status line: this device's name, the county hub
//! (enrol with a one-time code, forget), the sync state, 立即同步.

use bangfu_core::store::{OpenOptions, Store};
use bangfu_core::sync::review::review_items;
use bangfu_hub::client::{ClientConfig, HubClient, HubStatus, status};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::commands::setup::SetupError;
use crate::error::CommandError;
use crate::hub_sync::{HubSync, LinkState};
use crate::state::AppState;

/// What the status line and the 设置 page show.
#[derive(ts_rs::TS, Debug, Serialize)]
pub struct HubView {
    pub device_name: String,
    /// Still the generated name: the app asks for a real one.
    pub device_unnamed: bool,
    /// From the data file: enrolled, address, scope, last sync, ops waiting to go up.
    pub hub: HubStatus,
    /// From the background sync: online, syncing, the last error.
    pub link: LinkState,
    /// Open items of the 冲突与重复 page.
    pub review_items: usize,
}

#[tauri::command]
pub async fn hub_status(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<HubView, CommandError> {
    let (device_name, device_unnamed, hub, review) = state.with_store(|store| {
        let hub = status(store).map_err(CommandError::from_core)?;
        let review = review_items(store).map_err(CommandError::from_core)?;
        let device = store.device();
        Ok((device.name.clone(), device.is_unnamed(), hub, review.len()))
    })?;
    Ok(HubView {
        device_name,
        device_unnamed,
        // No sync runs on the practice village (and none before the wizard is done).
        link: match app.try_state::<HubSync>() {
            Some(sync) if hub.enrolled => sync.link(),
            _ => LinkState::default(),
        },
        hub,
        review_items: review,
    })
}

#[tauri::command]
pub async fn rename_device(state: State<'_, AppState>, name: String) -> Result<(), CommandError> {
    state.with_store(|store| {
        // Opening a file names its device too (no one signed in yet), so the check is here.
        store
            .require(bangfu_core::access::Permission::ChangeSettings)
            .and_then(|()| store.rename_device(&name))
            .map_err(CommandError::from_core)
    })
}

/// Spends the one-time code, as `bangfu enrol` does, on a connection of its own so the window
/// stays usable while the hub answers; then syncs at once. Resolves to the scope.
#[tauri::command]
pub async fn enrol_hub(
    app: AppHandle,
    state: State<'_, AppState>,
    url: String,
    code: String,
) -> Result<String, CommandError> {
    if state.practice() {
        return Err(CommandError::from_core(SetupError::PracticeCannotJoin));
    }
    let path = state.with_store(|store| {
        store
            .require(bangfu_core::access::Permission::ChangeSettings)
            .map_err(CommandError::from_core)?;
        Ok(store.path().to_path_buf())
    })?;
    let options = OpenOptions {
        key: state.key(),
        ..OpenOptions::default()
    };
    let mut store = Store::open(&path, &options).map_err(CommandError::from_core)?;
    let scope = HubClient::new(ClientConfig::default())
        .enrol(&mut store, &url, code.trim())
        .map_err(CommandError::from_core)?;
    if let Some(sync) = app.try_state::<HubSync>() {
        sync.reset();
        sync.sync_now();
    }
    Ok(scope)
}

/// Forgets the hub on this copy; the data stays, and nothing more is sent or received.
#[tauri::command]
pub async fn forget_hub(app: AppHandle, state: State<'_, AppState>) -> Result<(), CommandError> {
    state.with_store(|store| store.forget_hub_link().map_err(CommandError::from_core))?;
    if let Some(sync) = app.try_state::<HubSync>() {
        sync.reset();
    }
    Ok(())
}

/// 立即同步: the background thread syncs as soon as it is free.
#[tauri::command]
pub fn sync_now(app: AppHandle) {
    if let Some(sync) = app.try_state::<HubSync>() {
        sync.sync_now();
    }
}
