//! The Tauri commands: each parses its arguments, makes one core call and maps the error.

pub mod app_info;
pub mod code_lists;
pub mod households;
pub mod village_groups;
