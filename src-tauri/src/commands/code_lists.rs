//! The filing forms' value lists, so the UI's selects offer exactly the core's codes.

use bangfu_core::model::codes::{self, CodeList};

#[tauri::command]
pub fn code_lists() -> Vec<&'static CodeList> {
    codes::ALL.to_vec()
}

/// Every table's fields (name, form label, kind, value list), so the forms follow the core.
#[tauri::command]
pub fn catalog() -> bangfu_core::model::catalog::Catalog {
    bangfu_core::model::catalog::catalog()
}
