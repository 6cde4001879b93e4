//! Bangfu's core: the household store with its field-level op log, validation, sync, ledgers,
//! help-contact cards and reports. It knows nothing of Tauri, HTTP or any UI.

pub mod access;
pub mod archive;
pub mod bindings;
pub mod cards;
pub mod county_settings;
pub mod demo;
pub mod error;
pub mod exit;
pub mod files;
pub mod filing;
pub mod household_page;
pub mod ledger;
pub mod member_changes;
pub mod model;
pub mod moving;
pub mod page_base;
pub mod policy;
pub mod print;
pub mod query;
pub mod removable;
pub mod report;
pub mod store;
pub mod sync;
pub mod team;
pub mod update;
pub mod validate;
pub mod village;

pub use error::UserFacing;
