//! What the commands share: the open data file, or why it could not be opened.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::error::CommandError;
use crate::launch::DataFileChoice;
use bangfu_core::store::{DataKey, Store};

#[derive(Debug)]
pub struct AppState {
    pub data_file: PathBuf,
    pub device_name: String,
    // An open failure is kept rather than ending the app, so the window can say what went wrong.
    store: Mutex<Result<Store, CommandError>>,
    /// A read-only handle on the same file for long reads (ledgers, reports, the quality list,
    /// batches of cards), opened on first use: they run beside the window's other commands
    /// instead of holding `store` for seconds (WAL lets a reader and the writer work at once).
    reader: Mutex<Option<Store>>,
    /// While a file of an older version is upgraded on a thread: how far it has come.
    upgrading: Mutex<Option<Upgrading>>,
    /// Until the passphrase (or the recovery code) is given: what the lock screen must ask for
    /// and what to open then.
    locked: Mutex<Option<Locked>>,
    /// The data key, once unlocked: the hub's own connections and backups need it.
    key: Mutex<Option<DataKey>>,
}

/// What the lock screen asks for.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockNeeds {
    /// The file is encrypted and its key file is beside it: the passphrase opens it.
    Unlock,
    /// A new file, or one of an earlier version in the clear: a passphrase is set first (and
    /// the recovery code shown once); a file in the clear is then encrypted.
    SetUp,
    /// The file is encrypted but its key file is missing: only the recovery code opens it.
    Recover,
}

/// The start of the app before the data file is unlocked.
#[derive(Debug, Clone)]
pub struct Locked {
    pub needs: LockNeeds,
    pub choice: DataFileChoice,
    pub app_data_dir: PathBuf,
}

/// An upgrade under way, for the window's progress screen.
#[derive(ts_rs::TS, Debug, Clone, Copy, Serialize)]
pub struct Upgrading {
    pub from: i64,
    pub to: i64,
    pub rows_done: u64,
    pub rows_total: u64,
    /// Encrypting a file of an earlier version in the clear (`rows_*` count bytes then).
    pub encrypting: bool,
}

impl AppState {
    /// The state until the data file is unlocked: every command answers that it is locked.
    pub fn locked(locked: Locked) -> Self {
        AppState {
            data_file: locked.choice.path.clone(),
            device_name: String::new(),
            store: Mutex::new(Err(CommandError {
                kind: "locked",
                message: "数据文件已加密，请先输入口令打开。".into(),
            })),
            reader: Mutex::new(None),
            upgrading: Mutex::new(None),
            locked: Mutex::new(Some(locked)),
            key: Mutex::new(None),
        }
    }

    /// What the lock screen asks for; `None` once unlocked.
    pub fn lock(&self) -> Option<Locked> {
        self.locked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_lock_needs(&self, needs: LockNeeds) {
        if let Some(locked) = self
            .locked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            locked.needs = needs;
        }
    }

    /// Takes the lock away once the key is known; the open (or upgrade) follows.
    pub fn unlocked(&self, key: DataKey) -> Option<Locked> {
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = Some(key);
        self.locked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub fn key(&self) -> Option<DataKey> {
        self.key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// From now on every command answers that the file is being upgraded (or encrypted).
    pub fn start_upgrading(&self, upgrading: Upgrading) {
        *self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(upgrading);
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Err(CommandError {
            kind: "upgrading",
            message: if upgrading.encrypting {
                "正在加密数据文件，请稍候；加密完成后即可使用。".into()
            } else {
                "正在升级数据文件，请稍候；升级完成后即可使用。".into()
            },
        });
    }

    /// How far the upgrade has come; `None` once the file is open (or was never upgraded).
    pub fn upgrade(&self) -> Option<Upgrading> {
        *self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn upgrade_progress(&self, rows_done: u64, rows_total: u64, encrypting: bool) {
        if let Some(u) = self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            u.rows_done = rows_done;
            u.rows_total = rows_total;
            u.encrypting = encrypting;
        }
    }

    /// The upgraded file (or why it could not be opened), for every command from now on.
    pub fn upgraded(&self, store: Result<Store, CommandError>) {
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = store;
        *self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Runs `f` on the read-only handle, one long read at a time, never holding up the
    /// commands that go through [`AppState::with_store`].
    pub fn with_reader<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let mut reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        if reader.is_none() {
            // The writer's lock is held only for the moment it takes to open the handle.
            *reader = Some(
                self.with_store(|store| store.open_reader().map_err(CommandError::from_core))?,
            );
        }
        match reader.as_ref() {
            // One snapshot per long read: its queries agree with each other.
            Some(store) => store.in_snapshot(f).map_err(CommandError::from_core)?,
            None => Err(CommandError {
                kind: "internal",
                message: "无法打开数据文件的只读连接，请重试。".into(),
            }),
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
