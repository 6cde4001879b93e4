//! The data file: opening it safely, this copy's device identity, and the one write path.
//!
//! Architecture invariant: every change to a replicated table goes through the write path
//! (`write.rs`: [`Store::write`], which checks the records first, or the core's own checked
//! entry points) or [`Store::apply_remote`], which append the op log and update the tables in
//! one transaction. Outside the core, SQL runs only on a query-only view ([`Store::sql`]).

mod alone;
mod apply;
pub mod backup;
pub mod backup_media;
pub mod baseline;
mod checked;
mod checkpoint;
mod county_certs;
mod device_keys;
mod dictionary;
pub mod draft;
pub mod encrypt;
mod error;
pub mod heads;
mod held_files;
mod hub;
pub mod identity;
mod lock;
pub mod migrate;
mod oplog;
mod page_heads;
mod people;
pub mod place;
pub mod protect;
pub mod read;
pub mod restore;
mod seal_keys;
mod write;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

pub(crate) use apply::op_bytes;
pub use apply::{ApplyStats, BulkLoadTimes, last_bulk_load_times, name_initials};
pub use checked::Checked;
use checkpoint::Checkpointer;
pub use checkpoint::WalIndex;
pub use county_certs::{CountyKeyStatus, CountyPin};
pub use device_keys::DeviceKey;
use dictionary::Dictionary;
pub use error::{DEVICE_NAME_MAX_CHARS, StoreError};
pub use hub::HubLink;
pub use identity::IdentityChange;
use identity::Registry;
pub use oplog::VersionVector;
pub(crate) use people::insert_audit;
pub use people::{AUDIT_LEDGER_FULL_IDS, AuditEntry, FieldChange, Person, Refusal};
pub use place::HomePlace;
pub use protect::{DataKey, ProtectError, Protection, RecoveryCode, Unlock};
pub use read::{Filter, put_change};
pub use seal_keys::SealRecipient;
pub use write::{Change, WriteOutcome};

use crate::sync::{Hlc, HlcClock};

/// How to open a data file.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Where this machine keeps its registry of device identities; `None` uses the user's
    /// app-data folder (or `$BANGFU_HOME`).
    pub identity_dir: Option<PathBuf>,
    /// The name of this device, e.g. "新文村-笔记本1"; kept when the file already has one.
    pub device_name: Option<String>,
    /// A fixed wall clock in milliseconds, for deterministic generators and tests.
    pub fixed_clock_ms: Option<u64>,
    /// The data key ([`protect::unlock`]): an encrypted file needs it, and a file of an
    /// earlier version in the clear is encrypted under it at this open. `None` opens a file in
    /// the clear as it is (tests, benchmarks' baselines) and refuses an encrypted one.
    pub key: Option<DataKey>,
}

/// How far [`Store::rematerialize_with`] has come, in rows of the materialized tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RebuildProgress {
    pub rows_done: u64,
    pub rows_total: u64,
}

/// This copy's identity as a writer.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    #[serde(skip)]
    idx: i64,
    pub id: Uuid,
    pub name: String,
}

/// The start of the name a device gets until someone names it.
const UNNAMED_DEVICE_PREFIX: &str = "未命名设备-";

impl Device {
    /// Whether the device still carries the name it was given at creation, so the app should
    /// ask for a real one.
    pub fn is_unnamed(&self) -> bool {
        self.name.starts_with(UNNAMED_DEVICE_PREFIX)
    }
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Device,
    clock: HlcClock,
    last_seq: i64,
    dict: Dictionary,
    registry: Option<Registry>,
    fixed_clock_ms: Option<u64>,
    identity_change: Option<IdentityChange>,
    /// Rows a merge keeps in memory before materializing them (bounded memory on big files).
    merge_rows_in_memory: usize,
    /// From this many ops, a stream into a copy without rows is a bulk load (see
    /// [`Store::apply_remote_stream`]).
    bulk_load_min_ops: u64,
    /// How many rows' heads a bulk load holds in memory before writing them out.
    bulk_heads_held: usize,
    /// A second connection opened read-only for long reads ([`Store::open_reader`]).
    read_only: bool,
    /// How many [`QueryOnly`] views are open (the connection is `query_only` while any is).
    query_only_views: std::cell::Cell<u32>,
    /// The key the file is encrypted with, for the reader's and the backups' connections.
    key: Option<DataKey>,
    /// The person signed in (`people.rs`); `None` on a file without people, or before sign-in.
    actor: Option<crate::access::Actor>,
    /// Checkpoints the log off the write path (`checkpoint.rs`); `None` for a reader.
    checkpointer: Option<Checkpointer>,
    /// Set while a bulk load holds the file alone (`alone.rs`), until it is shared again:
    /// whether the checkpoint thread ran before, so it is started again only then.
    held_alone: Option<bool>,
    /// Today's backup under way beside the store ([`Store::start_daily_backup`]).
    daily_backup: Option<backup::DailyBackup>,
    /// The data file registered as open in this process (`held_files`): the last field, so
    /// it is dropped after the connection and the threads above are closed. Never read: it
    /// is held for its drop.
    _open_here: held_files::OpenHere,
}

/// The data file's connection as code outside the core sees it: SQLite refuses any statement
/// that would write (`PRAGMA query_only`) for as long as the view lives.
#[derive(Debug)]
pub struct QueryOnly<'a> {
    conn: &'a Connection,
    views: &'a std::cell::Cell<u32>,
}

impl std::ops::Deref for QueryOnly<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for QueryOnly<'_> {
    fn drop(&mut self) {
        let open = self.views.get().saturating_sub(1);
        self.views.set(open);
        if open == 0 {
            // Failing to lift it leaves the connection refusing writes, never writing.
            let _ = self.conn.pragma_update(None, "query_only", false);
        }
    }
}

/// This laptop's date stands behind the latest change in its data file (see
/// [`Store::clock_warning`]); dates are local `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockWarning {
    pub latest_change: String,
    pub today: String,
}

impl ClockWarning {
    pub fn message_zh(&self) -> String {
        format!(
            "本机日期（{}）早于数据文件中最近一次修改的时间（{}）：这台电脑的日期曾被调快，或现在被调慢了。请核对电脑的日期和时间；新的修改按当前日期记录。",
            self.today, self.latest_change
        )
    }
}

fn local_date(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64 + 8 * 3600 * 1000)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Opens a connection on a data file (or a backup of one), encrypted under `key` when given.
/// Every connection the core makes goes through here, so none reads a page without the key.
///
/// A sort larger than its memory bound (the indexes a county's merge builds at its end, a
/// ledger's grouping) goes to temporary files, so memory does not grow with the file. SQLCipher
/// leaves those in the clear; the connection's VFS ([`bangfu_temp_vfs`]) encrypts them under
/// a key that dies with the process, and passes the data file and its log through unchanged.
pub(crate) fn connect(
    path: &Path,
    flags: OpenFlags,
    key: Option<&DataKey>,
) -> Result<Connection, StoreError> {
    let failed = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let vfs = bangfu_temp_vfs::register().map_err(|code| {
        failed(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("the encrypted temporary-file VFS could not be registered".into()),
        ))
    })?;
    let conn = Connection::open_with_flags_and_vfs(path, flags, vfs).map_err(failed)?;
    if let Some(key) = key {
        protect::apply_key(&conn, key)?;
    }
    conn.pragma_update(None, "temp_store", "FILE")?;
    Ok(conn)
}

/// How many bytes this process's sorts and temporary tables wrote to disk (encrypted) since it
/// started: what did not fit in their memory bound (`bangfu bench` prints it beside a merge's
/// peak memory).
pub fn temporary_bytes_spilled() -> u64 {
    bangfu_temp_vfs::bytes_sealed()
}

/// An upgrade [`Store::open`] will make before the file can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingUpgrade {
    pub from: i64,
    pub to: i64,
    pub rebuilds_rows: bool,
}

impl Store {
    /// Whether opening this file will first upgrade it from an older schema, and whether that
    /// upgrade rebuilds its rows (minutes for a county): read without writing anything, so a
    /// window can show that it is upgrading instead of freezing. `None`: nothing to upgrade
    /// (or a file [`Store::open`] will refuse, which it then says why).
    pub fn pending_upgrade(
        path: impl AsRef<Path>,
        key: Option<&DataKey>,
    ) -> Option<PendingUpgrade> {
        let path = path.as_ref();
        if !path.exists() || (key.is_none() && migrate::check_file_header(path).is_err()) {
            return None;
        }
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY, key).ok()?;
        let from = migrate::inspect(&conn, path).ok()?;
        let latest = migrate::latest_version();
        if from == latest {
            // An upgrade whose rebuild did not commit: the rebuild runs again at this open.
            return migrate::rebuild_pending(&conn)
                .ok()?
                .then_some(PendingUpgrade {
                    from,
                    to: latest,
                    rebuilds_rows: true,
                });
        }
        (from > 0 && from < latest).then(|| PendingUpgrade {
            from,
            to: latest,
            rebuilds_rows: migrate::upgrade_needs_rebuild(from),
        })
    }

    /// Opens or creates a data file. A file that is not a Bangfu data file, is damaged, or has
    /// a newer schema is refused before anything is written to it.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Store, StoreError> {
        Store::open_with_progress(path, options, &mut |_| {})
    }

    /// [`Store::open`], telling `progress` how the rebuild after an upgrade goes (a file of an
    /// older version is rebuilt from its op log, minutes for a county).
    pub fn open_with_progress(
        path: impl AsRef<Path>,
        options: &OpenOptions,
        progress: &mut dyn FnMut(RebuildProgress),
    ) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let key = options.key.as_ref();
        match (protect::protection_of(path), key) {
            (Protection::Encrypted, None) if protect::key_file_path(path).exists() => {
                return Err(ProtectError::Locked {
                    path: path.to_path_buf(),
                }
                .into());
            }
            (Protection::Plain, Some(key)) => encrypt::encrypt_in_place(path, key, &|_, _| {})?,
            _ => {}
        }
        match key {
            None => migrate::check_file_header(path)?,
            // Copies beside the file still in the clear (a cut first encryption): finished now.
            Some(key) => encrypt::encrypt_leftovers(path, key),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // Before the connection takes its locks (`held_files`).
        let open_here = held_files::OpenHere::new(path);
        let mut conn = connect(path, flags, key)?;
        let version = migrate::inspect(&conn, path).map_err(|e| match (e, key) {
            (StoreError::NotADataFile { path }, Some(_)) => {
                ProtectError::KeyDoesNotFit { path }.into()
            }
            (e, _) => e,
        })?;
        // Field laptops lose power: WAL with a full sync on every commit keeps the last
        // committed state whatever happens.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        // A merge touches the op log, heads and tables all over the file; 64 MB of page cache
        // keeps it from rereading pages it just wrote (an old laptop has that much to spare).
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(256);
        // `rarray(?)`: a list of ids bound as one parameter (the household search's matches).
        rusqlite::vtab::array::load_module(&conn)?;
        migrate::migrate(&mut conn, version)?;

        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let registry = options
            .identity_dir
            .clone()
            .or_else(identity::default_registry_dir)
            .map(Registry::new);
        let hlc_last: i64 = meta_get(&conn, "hlc_last")?.unwrap_or(0);
        let checkpointer = Checkpointer::start(&path, options.key.as_ref());
        if checkpointer.is_some() {
            // The store's checkpoint thread copies the log into the file; the writer's own
            // automatic checkpoint is only the backstop (`checkpoint.rs`).
            conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)?;
        }
        let mut store = Store {
            conn,
            path,
            device: Device {
                idx: 0,
                id: Uuid::nil(),
                name: String::new(),
            },
            clock: HlcClock::starting_at(Hlc::from_i64(hlc_last)),
            last_seq: 0,
            dict: Dictionary::default(),
            registry,
            fixed_clock_ms: options.fixed_clock_ms,
            identity_change: None,
            merge_rows_in_memory: 50_000,
            bulk_load_min_ops: BULK_LOAD_MIN_OPS,
            bulk_heads_held: apply::BULK_HEADS_HELD,
            read_only: false,
            query_only_views: std::cell::Cell::new(0),
            checkpointer,
            held_alone: None,
            daily_backup: None,
            _open_here: open_here,
            key: options.key.clone(),
            actor: None,
        };
        store.load_identity(options.device_name.as_deref())?;
        // Set by the migration that needs it, cleared by the rebuild's own commit.
        if migrate::rebuild_pending(&store.conn)? {
            // An upgrade may have added columns for fields the op log already holds (written
            // by a newer version elsewhere): show them now.
            store.rematerialize_with(progress)?;
        }
        Ok(store)
    }

    fn load_identity(&mut self, wanted_name: Option<&str>) -> Result<(), StoreError> {
        let existing: Option<i64> = meta_get(&self.conn, "device_idx")?;
        let Some(idx) = existing else {
            self.new_identity(wanted_name.unwrap_or(""))?;
            return Ok(());
        };
        let (id, name): (Vec<u8>, String) =
            self.conn
                .query_row("SELECT id, name FROM device WHERE idx = ?1", [idx], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        let id = Uuid::from_slice(&id).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        self.device = Device { idx, id, name };
        self.last_seq = self.own_last_seq_in_file()?;
        if let Some(registry) = &self.registry
            && let Some(change) = registry.check(id, &self.path, self.last_seq)
        {
            let name = wanted_name.map_or_else(|| self.device.name.clone(), str::to_owned);
            self.new_identity(&name)?;
            self.identity_change = Some(change);
            return Ok(());
        }
        if let Some(name) = wanted_name.filter(|n| !n.trim().is_empty()) {
            self.rename_device(name)?;
        }
        self.record_identity()
    }

    /// Starts writing under a fresh device id. Ops of the old identity stay as they are.
    fn new_identity(&mut self, name: &str) -> Result<(), StoreError> {
        let id = Uuid::now_v7();
        // A device is never nameless on review screens: until someone names it, it is called
        // by the start of its id.
        let fallback = format!("{UNNAMED_DEVICE_PREFIX}{}", &id.simple().to_string()[24..]);
        let name = if name.trim().is_empty() {
            fallback.as_str()
        } else {
            name
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO device (id, name) VALUES (?1, ?2)",
            params![id.as_bytes().as_slice(), name],
        )?;
        let idx = tx.last_insert_rowid();
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('device_idx', ?1)",
            [idx],
        )?;
        tx.commit()?;
        self.dict.clear();
        self.device = Device {
            idx,
            id,
            name: name.to_owned(),
        };
        self.last_seq = 0;
        self.record_identity()
    }

    fn record_identity(&self) -> Result<(), StoreError> {
        match &self.registry {
            Some(registry) => registry.record(self.device.id, &self.path, self.last_seq),
            None => Ok(()),
        }
    }

    /// Rebuilds every materialized row from the heads of the op log, in one transaction.
    pub fn rematerialize(&mut self) -> Result<(), StoreError> {
        self.rematerialize_with(&mut |_| {})
    }

    /// [`Store::rematerialize`], telling `progress` after every batch of rows how far it has
    /// come (a county file takes minutes). Rows are rebuilt in batches of the merge's size, so
    /// memory stays bounded; the whole rebuild is still one transaction.
    pub fn rematerialize_with(
        &mut self,
        progress: &mut dyn FnMut(RebuildProgress),
    ) -> Result<(), StoreError> {
        let wall = self.wall_ms();
        let batch = self.merge_rows_in_memory;
        let mut clock = self.clock;
        let tx = self.conn.transaction()?;
        // A field's number says its table: the rows come from the heads alone, read in key
        // order without looking up a single op.
        let tables: std::collections::HashMap<i64, i64> = tx
            .prepare("SELECT idx, tbl FROM field_name")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut rows: Vec<(Uuid, i64)> = Vec::new();
        heads::for_each_row(&tx, |row, keys| {
            let table = keys.first().and_then(|h| tables.get(&h.0));
            if let (Ok(row), Some(table)) = (Uuid::from_slice(row), table) {
                rows.push((row, *table));
            }
            Ok::<_, rusqlite::Error>(())
        })?;
        let total = rows.len() as u64;
        progress(RebuildProgress {
            rows_done: 0,
            rows_total: total,
        });
        let mut applier = apply::Applier::new(&tx, &mut self.dict, &mut clock, wall)?;
        applier.defer_search_index();
        for (done, (row, table)) in rows.into_iter().enumerate() {
            applier.touch_row(row, table)?;
            if applier.pending_rows() >= batch {
                applier.flush()?;
                progress(RebuildProgress {
                    rows_done: done as u64 + 1,
                    rows_total: total,
                });
            }
        }
        applier.finish()?;
        apply::rebuild_search_indexes(&tx)?;
        tx.execute(
            "DELETE FROM meta WHERE key = ?1",
            [migrate::REBUILD_PENDING],
        )?;
        tx.commit()?;
        progress(RebuildProgress {
            rows_done: total,
            rows_total: total,
        });
        Ok(())
    }

    /// Names this device (trimmed). An empty or overlong name is refused.
    pub fn rename_device(&mut self, name: &str) -> Result<(), StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > DEVICE_NAME_MAX_CHARS {
            return Err(StoreError::BadDeviceName(name.to_owned()));
        }
        self.conn.execute(
            "UPDATE device SET name = ?2 WHERE idx = ?1",
            params![self.device.idx, name],
        )?;
        self.device.name = name.to_owned();
        Ok(())
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Set when the last change in this data file is stamped more than a day after this
    /// machine's date: this laptop's date was once set ahead (or is set back now). The app
    /// tells the person to check the date; new edits are stamped by the present date.
    pub fn clock_warning(&self) -> Option<ClockWarning> {
        let wall = self.wall_ms();
        self.clock.ran_ahead_of(wall).then(|| ClockWarning {
            latest_change: local_date(self.clock.last().millis()),
            today: local_date(wall),
        })
    }

    /// Set when this open found the file copied or restored and took a new identity.
    pub fn identity_change(&self) -> Option<IdentityChange> {
        self.identity_change
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The OS lock that keeps other programs from writing while this store's transaction runs.
    fn writer_lock(&self) -> Result<lock::WriterLock, StoreError> {
        let nudge = self.checkpointer.as_ref().and_then(Checkpointer::nudge);
        Ok(lock::acquire(&self.path, lock::WRITER_WAIT)?.nudging(nudge))
    }

    /// The core's own access to the connection. Writes to replicated tables go through the
    /// write path; other code gets [`Store::sql`].
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection for SQL of one's own (benchmarks, tests, the hub's load generator):
    /// query-only for as long as the view lives, so nothing outside the core writes around
    /// the write path.
    pub fn sql(&self) -> Result<QueryOnly<'_>, StoreError> {
        if self.query_only_views.get() == 0 {
            self.conn.pragma_update(None, "query_only", true)?;
        }
        self.query_only_views.set(self.query_only_views.get() + 1);
        Ok(QueryOnly {
            conn: &self.conn,
            views: &self.query_only_views,
        })
    }

    /// A second handle on the same file for long reads (ledgers, reports, quality lists), on a
    /// read-only connection of its own: in WAL mode it reads the last committed state while
    /// this handle goes on writing, so an export never holds up the window. It refuses every
    /// write ([`StoreError::ReadOnlyView`]).
    pub fn open_reader(&self) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open_here = held_files::OpenHere::new(&self.path);
        let conn = connect(&self.path, flags, self.key.as_ref())?;
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(256);
        rusqlite::vtab::array::load_module(&conn)?;
        Ok(Store {
            conn,
            path: self.path.clone(),
            device: self.device.clone(),
            clock: self.clock,
            last_seq: self.last_seq,
            dict: Dictionary::default(),
            registry: None,
            fixed_clock_ms: self.fixed_clock_ms,
            identity_change: None,
            merge_rows_in_memory: self.merge_rows_in_memory,
            bulk_load_min_ops: self.bulk_load_min_ops,
            bulk_heads_held: self.bulk_heads_held,
            read_only: true,
            query_only_views: std::cell::Cell::new(0),
            key: self.key.clone(),
            actor: self.actor.clone(),
            checkpointer: None,
            held_alone: None,
            daily_backup: None,
            _open_here: open_here,
        })
    }

    /// Ends the store's checkpoint thread and closes its connection (`checkpoint.rs`), and
    /// waits for a daily backup under way ([`Store::start_daily_backup`]); the
    /// writer checkpoints as SQLite does by default from then on. Dropping the store does the
    /// same; a program calls this before it exits while a store is still held (the app's
    /// state, a thread that is not joined), so no SQLCipher connection is in use while the
    /// process tears the crypto library down.
    pub fn shutdown(&mut self) {
        if self.checkpointer.take().is_some() {
            let _ = self.conn.pragma_update(None, "wal_autocheckpoint", 1000);
        }
        // A daily backup under way is waited for (its connection closed).
        self.daily_backup = None;
    }

    /// The key this file is encrypted with (`None`: a file in the clear).
    pub fn key(&self) -> Option<&DataKey> {
        self.key.as_ref()
    }

    /// Seals the data key under a new passphrase. The caller proves it may: this store was
    /// opened with the key, from the old passphrase or the recovery code.
    pub fn change_passphrase(&self, new_passphrase: &str) -> Result<(), StoreError> {
        let key = self.key.as_ref().ok_or(ProtectError::Locked {
            path: self.path.clone(),
        })?;
        protect::change_passphrase(&self.path, key, new_passphrase)?;
        Ok(())
    }

    /// Runs `read` on one snapshot of the file: every query it makes sees the same committed
    /// state, whatever commits meanwhile (a report workbook's sheets, a ledger's households and
    /// their findings agree with each other). Meant for the read-only handle's long reads.
    pub fn in_snapshot<T>(&self, read: impl FnOnce(&Store) -> T) -> Result<T, StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let out = read(self);
        snapshot.rollback()?;
        Ok(out)
    }

    /// Local bookkeeping that is not replicated (which peer a file came from, say), in one
    /// transaction under the writer lock.
    pub(crate) fn write_local<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnlyView);
        }
        let _writer = self.writer_lock()?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Milliseconds since the epoch, or the fixed clock of generators and tests.
    pub fn wall_ms(&self) -> u64 {
        self.fixed_clock_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        })
    }

    /// How many rows a merge holds in memory before it materializes them; tests set it low to
    /// exercise the flushing path with small files.
    pub fn set_merge_rows_in_memory(&mut self, rows: usize) {
        self.merge_rows_in_memory = rows.max(1);
    }

    /// From how many ops a stream into a copy without rows is a bulk load; tests set it low
    /// so that small files take that path too.
    pub fn set_bulk_load_min_ops(&mut self, ops: u64) {
        self.bulk_load_min_ops = ops;
    }

    /// How many rows' heads a bulk load holds before writing them to the file; tests set it
    /// low so that rows met again after a write are read back from the file.
    pub fn set_bulk_heads_held(&mut self, rows: usize) {
        self.bulk_heads_held = rows.max(1);
    }

    /// Moves the fixed clock of a generator or test; has no effect on a real clock.
    pub fn set_fixed_clock(&mut self, ms: u64) {
        if self.fixed_clock_ms.is_some() {
            self.fixed_clock_ms = Some(ms);
        }
    }

    /// Today's date by the store's clock (local time of a fixed clock is taken as UTC+8).
    pub fn today(&self) -> chrono::NaiveDate {
        let secs = (self.wall_ms() / 1000) as i64 + 8 * 3600;
        chrono::DateTime::from_timestamp(secs, 0).map_or_else(
            || chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            |d| d.date_naive(),
        )
    }

    /// The number of ops in the op log.
    pub fn op_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM op", [], |r| r.get(0))?)
    }
}

/// Below this many ops, dropping and building indexes for a bulk load costs more than it
/// saves.
const BULK_LOAD_MIN_OPS: u64 = 50_000;

/// Sets a `meta` value (replacing the one there).
pub(crate) fn meta_set(
    conn: &Connection,
    key: &str,
    value: impl rusqlite::ToSql,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        rusqlite::params![key, value],
    )?;
    Ok(())
}

pub(crate) fn meta_get<T: rusqlite::types::FromSql>(
    conn: &Connection,
    key: &str,
) -> rusqlite::Result<Option<T>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

#[cfg(test)]
mod tests;
