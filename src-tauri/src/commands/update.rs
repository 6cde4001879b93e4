//! 设置 → 更新: a new version from a U 盘 (a folder) or from the county hub this copy is
//! enrolled with, its signature checked before anything of it is shown (`bangfu_core::update`),
//! then 有新版本 with what changed and exactly what to run to install it (installing a package
//! needs an administrator).

use std::path::PathBuf;

use bangfu_core::update::{VerifiedUpdate, VerifyingKey, trusted_keys, verify_folder};
use bangfu_hub::client::{ClientConfig, HubClient};
use tauri::{AppHandle, Manager, State};

use crate::error::{CommandError, ShellError};
use crate::state::AppState;

/// The release keys this build trusts. A debug build (the e2e) also trusts the key in
/// `BANGFU_TEST_RELEASE_KEY`; a release build never reads it.
fn keys() -> Vec<VerifyingKey> {
    let mut keys = trusted_keys();
    if cfg!(debug_assertions)
        && let Ok(hex) = std::env::var("BANGFU_TEST_RELEASE_KEY")
        && let Ok(key) = bangfu_core::update::verifying_key(&hex)
    {
        keys.push(key);
    }
    keys
}

const RUNNING: &str = env!("CARGO_PKG_VERSION");

/// The running version, for 设置 → 更新.
#[tauri::command]
pub fn app_version() -> String {
    RUNNING.to_owned()
}

/// A release in `folder` (a U 盘): verified, or refused with the reason.
#[tauri::command]
pub async fn update_from_folder(folder: String) -> Result<VerifiedUpdate, CommandError> {
    let folder = PathBuf::from(folder.trim());
    tauri::async_runtime::spawn_blocking(move || {
        verify_folder(&folder, &keys(), RUNNING).map_err(CommandError::from_core)
    })
    .await
    .map_err(|source| {
        CommandError::from_core(ShellError::Task {
            what: "检查新版本",
            source,
        })
    })?
}

/// The release the county hub offers, downloaded into the app-data folder's `updates/` and
/// verified there.
#[tauri::command]
pub async fn update_from_hub(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<VerifiedUpdate, CommandError> {
    let url = state.with_store(|store| {
        store
            .hub_link()
            .map_err(CommandError::from_core)?
            .map(|link| link.url)
            .ok_or_else(|| CommandError::from_core(bangfu_hub::HubError::NotEnrolled))
    })?;
    let into = app
        .path()
        .app_data_dir()
        .map(|dir| dir.join("updates"))
        .map_err(|source| {
            CommandError::from_core(ShellError::Task {
                what: "检查新版本",
                source,
            })
        })?;
    tauri::async_runtime::spawn_blocking(move || {
        HubClient::new(ClientConfig::default())
            .fetch_update(&url, &into, &keys(), RUNNING)
            .map_err(CommandError::from_core)
    })
    .await
    .map_err(|source| {
        CommandError::from_core(ShellError::Task {
            what: "检查新版本",
            source,
        })
    })?
}
