//! What the window header shows about this copy of the app.

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub db_path: String,
    pub device_name: String,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        db_path: state.data_file.display().to_string(),
        device_name: state.device_name.clone(),
    })
}
