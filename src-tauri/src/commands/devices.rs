//! Commands of the 设备 box on the 同步 page: the devices this copy knows with their 安全码,
//! confirming one (its held ops merge), merging what a village device did outside its village
//! once a person checked it, and whether unconfirmed devices' ops wait.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::sync::trust::{
    self, DevicesView, confirm_county_key, confirm_device, devices_view, drop_held,
    merge_held_outside, set_device_village, unconfirm_device,
};

/// Every device this copy knows, and whether unconfirmed devices' ops wait.
#[tauri::command]
pub async fn devices_list(state: State<'_, AppState>) -> Result<DevicesView, CommandError> {
    state.with_store(|store| devices_view(store).map_err(CommandError::from_core))
}

/// Confirms a device by its 安全码 (limited to a village when one is given); the lines to show.
#[tauri::command]
pub async fn device_confirm(
    state: State<'_, AppState>,
    fingerprint: String,
    village: Option<String>,
) -> Result<Vec<String>, CommandError> {
    let village = village.filter(|v| !v.trim().is_empty());
    state.with_store(|store| {
        confirm_device(store, &fingerprint, village.as_deref())
            .map(|o| o.lines_zh("已确认设备"))
            .map_err(CommandError::from_core)
    })
}

/// Confirms the county's 安全码 (compared with the one the county gives out): the devices the
/// county certified are confirmed with it, and what waited for them merges; the lines to show.
/// `replace`: in place of the one believed, only the one the hub offered (the county announced
/// a new one; a key only files brought is replaced from the command line alone).
#[tauri::command]
pub async fn device_confirm_county(
    state: State<'_, AppState>,
    fingerprint: String,
    replace: bool,
) -> Result<Vec<String>, CommandError> {
    state.with_store(|store| {
        let replace = if replace {
            trust::Replace::OfferedByHub
        } else {
            trust::Replace::No
        };
        confirm_county_key(store, &fingerprint, replace)
            .map(|o| o.lines_zh())
            .map_err(CommandError::from_core)
    })
}

/// Merges what a device did outside its village, kept aside until a person checked it.
#[tauri::command]
pub async fn device_merge_held(
    state: State<'_, AppState>,
    fingerprint: String,
) -> Result<Vec<String>, CommandError> {
    state.with_store(|store| {
        merge_held_outside(store, &fingerprint)
            .map(|o| o.lines_zh("已合并暂存的修改：设备"))
            .map_err(CommandError::from_core)
    })
}

/// Declines what waits for a device: held files holding only its changes are removed.
#[tauri::command]
pub async fn device_drop_held(
    state: State<'_, AppState>,
    fingerprint: String,
) -> Result<Vec<String>, CommandError> {
    state.with_store(|store| {
        drop_held(store, &fingerprint)
            .map(|o| o.lines_zh())
            .map_err(CommandError::from_core)
    })
}

/// Changes the village a confirmed device is limited to (none: not limited).
#[tauri::command]
pub async fn device_set_village(
    state: State<'_, AppState>,
    fingerprint: String,
    village: Option<String>,
) -> Result<Vec<String>, CommandError> {
    let village = village.filter(|v| !v.trim().is_empty());
    let what = match &village {
        Some(code) => format!("已改为限 {code} 村：设备"),
        None => "已改为不限村：设备".to_owned(),
    };
    state.with_store(|store| {
        set_device_village(store, &fingerprint, village.as_deref())
            .map(|o| o.lines_zh(&what))
            .map_err(CommandError::from_core)
    })
}

/// Takes back a device's confirmation (confirmed by mistake: the hub brings another 安全码
/// for it); the line to show.
#[tauri::command]
pub async fn device_unconfirm(
    state: State<'_, AppState>,
    fingerprint: String,
) -> Result<Vec<String>, CommandError> {
    state.with_store(|store| {
        unconfirm_device(store, &fingerprint)
            .map(|d| vec![trust::unconfirmed_message_zh(&d)])
            .map_err(CommandError::from_core)
    })
}

/// Sets whether ops of devices not confirmed yet wait for a person.
#[tauri::command]
pub async fn devices_require_confirmation(
    state: State<'_, AppState>,
    on: bool,
) -> Result<(), CommandError> {
    state
        .with_store(|store| trust::require_confirmation(store, on).map_err(CommandError::from_core))
}
