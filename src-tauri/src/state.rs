//! What the commands share: the open data file, or why it could not be opened.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::error::CommandError;
use bangfu_core::store::{PendingUpgrade, Store};

/// The `kind` every command answers with before the first-run wizard has made a data file.
pub const FIRST_RUN: &str = "first_run";

#[derive(Debug)]
pub struct AppState {
    /// The data file the commands work on; set once the first-run wizard has made one.
    data_file: Mutex<PathBuf>,
    pub device_name: String,
    /// The practice village (练习用, the demo in its own file) is open, not real data.
    practice: Mutex<bool>,
    // An open failure is kept rather than ending the app, so the window can say what went wrong.
    store: Mutex<Result<Store, CommandError>>,
    /// A read-only handle on the same file for long reads (ledgers, reports, the quality list,
    /// batches of cards), opened on first use: they run beside the window's other commands
    /// instead of holding `store` for seconds (WAL lets a reader and the writer work at once).
    reader: Mutex<Option<Store>>,
    /// While a file of an older version is upgraded on a thread: how far it has come.
    upgrading: Mutex<Option<Upgrading>>,
}

/// An upgrade under way, for the window's progress screen.
#[derive(ts_rs::TS, Debug, Clone, Copy, Serialize)]
pub struct Upgrading {
    pub from: i64,
    pub to: i64,
    pub rows_done: u64,
    pub rows_total: u64,
}

impl AppState {
    pub fn new(
        data_file: PathBuf,
        device_name: String,
        store: Result<Store, CommandError>,
    ) -> Self {
        AppState {
            data_file: Mutex::new(data_file),
            device_name,
            practice: Mutex::new(false),
            store: Mutex::new(store),
            reader: Mutex::new(None),
            upgrading: Mutex::new(None),
        }
    }

    /// The state while the file is upgraded on a thread: every command answers that the file
    /// is being upgraded until [`AppState::upgraded`] hands the store over.
    pub fn upgrading(data_file: PathBuf, pending: PendingUpgrade) -> Self {
        AppState {
            data_file: Mutex::new(data_file),
            device_name: String::new(),
            practice: Mutex::new(false),
            store: Mutex::new(Err(CommandError {
                kind: "upgrading",
                message: "正在升级数据文件，请稍候；升级完成后即可使用。".into(),
            })),
            reader: Mutex::new(None),
            upgrading: Mutex::new(Some(Upgrading {
                from: pending.from,
                to: pending.to,
                rows_done: 0,
                rows_total: 0,
            })),
        }
    }

    /// The state of a first start: no data file yet, the window shows the first-run wizard
    /// and every other command answers that the wizard comes first.
    pub fn first_run() -> Self {
        AppState::new(
            PathBuf::new(),
            String::new(),
            Err(CommandError {
                kind: FIRST_RUN,
                message:
                    "还没有数据文件：请先完成首次使用设置（本机名称、所属乡镇/村、数据文件位置）。"
                        .into(),
            }),
        )
    }

    /// Still at the first-run wizard: no data file open yet.
    pub fn awaiting_setup(&self) -> bool {
        matches!(
            &*self.store.lock().unwrap_or_else(PoisonError::into_inner),
            Err(CommandError {
                kind: FIRST_RUN,
                ..
            })
        )
    }

    /// Hands the file the wizard made (or the practice village) to every command from now on.
    pub fn opened(&self, data_file: PathBuf, store: Store, practice: bool) {
        *self
            .data_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = data_file;
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner) = practice;
        *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Ok(store);
    }

    /// Back to the first-run wizard from the practice village (开始正式使用).
    pub fn back_to_setup(&self) {
        let first = AppState::first_run();
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner) = false;
        *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = first
            .store
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Marks the open file as the practice village (started with `--demo`).
    pub fn with_practice(self, practice: bool) -> Self {
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner) = practice;
        self
    }

    pub fn data_file(&self) -> PathBuf {
        self.data_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The practice village is open (练习用): it never joins a hub nor leaves on a stick.
    pub fn practice(&self) -> bool {
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How far the upgrade has come; `None` once the file is open (or was never upgraded).
    pub fn upgrade(&self) -> Option<Upgrading> {
        *self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn upgrade_progress(&self, rows_done: u64, rows_total: u64) {
        if let Some(u) = self
            .upgrading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            u.rows_done = rows_done;
            u.rows_total = rows_total;
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
