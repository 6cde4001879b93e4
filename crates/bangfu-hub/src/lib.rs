//! The county sync hub: an HTTP service that stores every device's ops and serves each device
//! the ops of its scope (village, township or county) by the hub's own log position; and the
//! blocking client a desktop app or the `bangfu` command calls to sync through it.
//!
//! Without the default `server` feature only the client and the wire format are built (what the
//! desktop app takes).
//!
//! Architecture invariant: this crate is the only place of HTTP. It writes to a data file only
//! through `Store::apply_remote` and the store's hub-link positions.

#[cfg(feature = "server")]
mod admin_api;
pub mod client;
#[cfg(feature = "server")]
pub mod enrol_limit;
mod error;
#[cfg(feature = "server")]
mod listen;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod scope;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod storage;
#[cfg(feature = "server")]
pub mod updates;
pub mod wire;

pub use client::{HubClient, HubError, HubStatus, SyncReport, status};
#[cfg(feature = "server")]
pub use scope::Scope;
#[cfg(feature = "server")]
pub use storage::{HubStorage, Location, PgStorage, SqliteStorage};
