//! What the commands share: the open data file, or why it could not be opened.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::CommandError;
use bangfu_core::store::Store;

#[derive(Debug)]
pub struct AppState {
    pub data_file: PathBuf,
    pub device_name: String,
    // An open failure is kept rather than ending the app, so the window can say what went wrong.
    store: Mutex<Result<Store, CommandError>>,
}

impl AppState {
    pub fn new(
        data_file: PathBuf,
        device_name: String,
        store: Result<Store, CommandError>,
    ) -> Self {
        AppState {
            data_file,
            device_name,
            store: Mutex::new(store),
        }
    }

    /// Runs `f` on the open store, one command at a time.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        // Every core write is one transaction, so a panic in another command cannot have left
        // the store half-changed; a poisoned lock is therefore safe to keep using.
        let mut guard: MutexGuard<'_, Result<Store, CommandError>> =
            self.store.lock().unwrap_or_else(PoisonError::into_inner);
        match guard.as_mut() {
            Ok(store) => f(store),
            Err(error) => Err(error.clone()),
        }
    }
}
