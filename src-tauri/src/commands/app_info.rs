//! What the window header shows about this copy of the app.

use bangfu_core::store::HomePlace;
use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::{AppState, LockNeeds, Upgrading};

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct AppInfo {
    pub db_path: String,
    pub device_name: String,
    /// Set while a file of an older version is being upgraded (the window asks again until
    /// it is gone).
    pub upgrading: Option<Upgrading>,
    /// Set when this laptop's date stands behind the latest change in its data file: the
    /// header asks the person to check the date.
    pub clock_warning: Option<String>,
    /// Set when a restore asked for in 设置 → 备份 was not done at this start: why.
    pub restore_warning: Option<String>,
    /// Set until the data file is unlocked: what the lock screen asks for.
    pub lock: Option<LockNeeds>,
    /// No data file yet: the window shows the first-run wizard.
    pub first_run: bool,
    /// The practice village (练习用) is open: the window says so on every page.
    pub practice: bool,
    /// 所属乡镇/村 as the wizard recorded them.
    pub home_place: Option<HomePlace>,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        db_path: state.data_file().display().to_string(),
        // Read from the store: the 设置 page may have renamed the device since start.
        device_name: state
            .with_store(|store| Ok(store.device().name.clone()))
            .unwrap_or_else(|_| state.device_name.clone()),
        upgrading: state.upgrade(),
        lock: state.lock().map(|l| l.needs),
        clock_warning: state
            .with_store(|store| Ok(store.clock_warning().map(|w| w.message_zh())))
            .unwrap_or(None),
        restore_warning: state.restore_warning(),
        first_run: state.awaiting_setup(),
        practice: state.practice(),
        home_place: state
            .with_store(|store| store.home_place().map_err(CommandError::from_core))
            .unwrap_or(None),
    })
}
