//! The Tauri commands: each parses its arguments, makes one core call and maps the error.

pub mod app_info;
pub mod archive;
pub mod backup;
pub mod cadres;
pub mod cards;
pub mod code_lists;
pub mod devices;
pub mod drafts;
pub mod exit;
pub mod files;
pub mod household_page;
pub mod households;
pub mod hub;
pub mod ledger;
pub mod overview;
pub mod people;
pub mod policies;
pub mod protect;
pub mod report;
pub mod setup;
pub mod standards;
pub mod sync;
pub mod team;
pub mod update;
pub mod village;
pub mod village_groups;
