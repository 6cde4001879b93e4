//! The core's vocabulary for the UI: value lists, the field catalog, the exit steps' forms and
//! the ledger titles, so the UI restates none of it.

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

/// The 退出 tab's steps: fields, signers, notice-day counting.
#[tauri::command]
pub fn exit_vocabulary() -> bangfu_core::exit::ExitVocabulary {
    bangfu_core::exit::exit_vocabulary()
}

/// The seven ledgers with their titles, in the county's order.
#[tauri::command]
pub fn ledger_titles() -> Vec<bangfu_core::ledger::LedgerTitle> {
    bangfu_core::ledger::ledger_titles()
}
