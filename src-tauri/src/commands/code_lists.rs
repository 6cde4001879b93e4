//! The filing forms' value lists, so the UI's selects offer exactly the core's codes.

use bangfu_core::model::codes::{self, CodeList};

#[tauri::command]
pub fn code_lists() -> Vec<&'static CodeList> {
    codes::ALL.to_vec()
}
