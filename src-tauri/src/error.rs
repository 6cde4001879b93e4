//! The one error shape every command rejects with: `{kind, message}`, message in Chinese.

use serde::Serialize;

use bangfu_core::UserFacing;

/// What the UI receives when a command fails. `kind` is a stable English tag the UI may branch
/// on; `message` is written for a village worker and shown as is.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "ApiError")]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
}

impl CommandError {
    /// Maps a core error, logging its English form for whoever reads the logs.
    pub fn from_core<E: UserFacing + std::fmt::Display>(error: E) -> Self {
        eprintln!("bangfu-desktop: {}: {error}", error.kind());
        CommandError {
            kind: error.kind(),
            message: error.message_zh(),
        }
    }
}
