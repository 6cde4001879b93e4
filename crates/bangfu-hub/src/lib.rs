//! The county sync hub: an HTTP service that stores every device's ops and serves each device
//! the ops of its scope (village, township or county) by the hub's own log position; and the
//! blocking client a desktop app or the `bangfu` command calls to sync through it.
//!
//! Architecture invariant: this crate is the only place of HTTP. It writes to a data file only
//! through `Store::apply_remote` and the store's hub-link positions.

pub mod client;
pub mod scope;
pub mod server;
pub mod storage;
pub mod wire;

pub use client::{HubClient, HubError, HubStatus, SyncReport, status};
pub use scope::Scope;
pub use storage::{HubStorage, SqliteStorage};
