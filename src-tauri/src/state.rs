//! What the commands share: the open data file, or why it could not be opened.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::error::CommandError;
use crate::launch::DataFileChoice;
use bangfu_core::access::Actor;
use bangfu_core::store::{DataKey, Store};

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
    /// Until the passphrase (or the recovery code) is given: what the lock screen must ask for
    /// and what to open then.
    locked: Mutex<Option<Locked>>,
    /// The data key, once unlocked: the hub's own connections and backups need it.
    key: Mutex<Option<DataKey>>,
    /// The person signed in on the writing store, handed to the read-only handle before each
    /// long read (ledgers are masked and audited by who exports them).
    actor: Mutex<Option<Actor>>,
    /// Why a restore asked for in 设置 → 备份 was not done at this start (the header says so
    /// until the app is closed).
    restore_warning: Mutex<Option<String>>,
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
    fn with_store_result(data_file: PathBuf, store: Result<Store, CommandError>) -> Self {
        AppState {
            data_file: Mutex::new(data_file),
            device_name: String::new(),
            practice: Mutex::new(false),
            store: Mutex::new(store),
            reader: Mutex::new(None),
            upgrading: Mutex::new(None),
            locked: Mutex::new(None),
            key: Mutex::new(None),
            actor: Mutex::new(None),
            restore_warning: Mutex::new(None),
        }
    }

    /// The state until the data file is unlocked: every command answers that it is locked.
    pub fn locked(locked: Locked) -> Self {
        let state = AppState::with_store_result(
            locked.choice.path.clone(),
            Err(CommandError {
                kind: "locked",
                message: "数据文件已加密，请先输入口令打开。".into(),
            }),
        );
        *state
            .practice
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = locked.choice.practice;
        *state.locked.lock().unwrap_or_else(PoisonError::into_inner) = Some(locked);
        state
    }

    /// The practice village (the demo in its own file, in the clear: it holds no real person),
    /// open without a passphrase.
    pub fn practice_village(data_file: PathBuf, store: Result<Store, CommandError>) -> Self {
        let state = AppState::with_store_result(data_file, store);
        *state
            .practice
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        state
    }

    /// The state of a first start: no data file yet, the window shows the first-run wizard
    /// and every other command answers that the wizard comes first.
    pub fn first_run() -> Self {
        AppState::with_store_result(PathBuf::new(), Err(first_run_error()))
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

    /// Hands the file the wizard made (or the practice village) to every command from now on;
    /// `key` is the data key of a real data file (the practice village has none).
    pub fn opened(&self, data_file: PathBuf, store: Store, practice: bool, key: Option<DataKey>) {
        *self
            .data_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = data_file;
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner) = practice;
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = key;
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Ok(store);
    }

    /// Back to the first-run wizard from the practice village (开始正式使用).
    pub fn back_to_setup(&self) {
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner) = false;
        *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Err(first_run_error());
    }

    /// The practice village is open (练习用): it never joins a hub nor leaves on a stick.
    pub fn practice(&self) -> bool {
        *self.practice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn data_file(&self) -> PathBuf {
        self.data_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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

    /// Says why the restore asked for was not done ([`AppState::restore_warning`]).
    pub fn set_restore_warning(&self, warning: String) {
        *self
            .restore_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(warning);
    }

    /// Why a restore asked for in 设置 → 备份 was not done at this start, if it was not.
    pub fn restore_warning(&self) -> Option<String> {
        self.restore_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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

    /// Ends the writing store's background work before the process exits: its checkpoint
    /// thread is joined and its connection closed (`Store::shutdown`), so no thread is inside
    /// SQLCipher while the process tears the crypto library down. Commands after it still
    /// work; the writer then checkpoints as SQLite does by default.
    pub fn shutdown(&self) {
        if let Ok(store) = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            store.shutdown();
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
        if let Some(reader) = reader.as_mut() {
            reader.set_actor(
                self.actor
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
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

    /// Signs a person in on the writing store; the read-only handle follows.
    pub fn sign_in(&self, name: &str, pin: &str) -> Result<Actor, CommandError> {
        let actor =
            self.with_store(|store| store.sign_in(name, pin).map_err(CommandError::from_core))?;
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = Some(actor.clone());
        Ok(actor)
    }

    pub fn sign_out(&self) {
        let _ = self.with_store(|store| {
            store.sign_out();
            Ok(())
        });
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Reads who is signed in back from the writing store (disabling the signed-in person
    /// signs them out there).
    pub fn actor_changed(&self) {
        let actor = self
            .with_store(|store| Ok(store.actor().cloned()))
            .unwrap_or(None);
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = actor;
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

fn first_run_error() -> CommandError {
    CommandError {
        kind: FIRST_RUN,
        message: "还没有数据文件：请先完成首次使用设置（本机名称、所属乡镇/村、数据文件位置）。"
            .into(),
    }
}
