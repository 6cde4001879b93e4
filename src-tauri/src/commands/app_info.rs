//! What the window header shows about this copy of the app.

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::{AppState, Upgrading};

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub db_path: String,
    pub device_name: String,
    /// Set while a file of an older version is being upgraded (the window asks again until
    /// it is gone).
    pub upgrading: Option<Upgrading>,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        db_path: state.data_file.display().to_string(),
        // Read from the store: the 设置 page may have renamed the device since start.
        device_name: state
            .with_store(|store| Ok(store.device().name.clone()))
            .unwrap_or_else(|_| state.device_name.clone()),
        upgrading: state.upgrade(),
    })
}
