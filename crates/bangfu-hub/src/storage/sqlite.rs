//! The embedded storage: one SQLite file in the hub's data folder, one writer connection and
//! a few readers (WAL lets pulls run while a push commits). What each call does is in
//! `logic.rs`, shared with PostgreSQL; this file only opens transactions.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bangfu_core::model::FieldValue;
use bangfu_core::sync::Op;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use uuid::Uuid;

use super::credentials;
use super::logic;
use super::schema;
use super::sql::{Db, P, Row, V};
use super::{
    AdminCheck, CodeRefusal, DeviceAuth, DeviceInfo, Enrolment, HeldInfo, HubStorage, IssuedCode,
    PullPage, PushOutcome, StorageCounts, StorageError, StoreOptions,
};
use crate::scope::Scope;

const READERS: usize = 4;

#[derive(Debug)]
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    epoch: String,
    options: StoreOptions,
}

/// A transaction (or a reader's connection) of the embedded store, as the shared logic sees it.
pub struct SqliteDb<'a>(pub &'a Connection);

impl rusqlite::ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            P::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            P::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            P::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            P::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            P::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            P::Value(v) => ToSqlOutput::Owned(v.to_sql_value()),
        })
    }
}

impl Db for SqliteDb<'_> {
    fn exec(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<u64, StorageError> {
        let n = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }

    fn rows(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Vec<Row>, StorageError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => V::Null,
                    ValueRef::Integer(n) => V::Int(n),
                    ValueRef::Real(x) => V::Real(x),
                    ValueRef::Text(t) => V::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => V::Bytes(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn field_value(&self, stored: V) -> FieldValue {
        match stored {
            V::Null => FieldValue::Null,
            V::Int(n) => FieldValue::Int(n),
            V::Bool(b) => FieldValue::Int(i64::from(b)),
            V::Real(x) => FieldValue::Real(x),
            V::Text(t) => FieldValue::Text(t),
            V::Bytes(b) => FieldValue::Bytes(b),
        }
    }

    fn append_feed(&mut self, village: &str, op: i64) -> Result<(), StorageError> {
        let (Some(township), Some(county)) = (village.get(..9), village.get(..6)) else {
            return Ok(());
        };
        self.exec(
            "INSERT OR IGNORE INTO feed (village, township, county, op) VALUES (?1, ?2, ?3, ?4)",
            &[
                P::Text(village),
                P::Text(township),
                P::Text(county),
                P::Int(op),
            ],
        )?;
        Ok(())
    }
}

impl SqliteStorage {
    /// Opens (creating if new) `DIR/hub.sqlite`.
    pub fn open(dir: &Path) -> Result<SqliteStorage, StorageError> {
        SqliteStorage::open_with(dir, StoreOptions::default())
    }

    /// Opens (creating if new) `DIR/hub.sqlite`, storing pushes as `options` say.
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<SqliteStorage, StorageError> {
        let data_dir_error = |source| StorageError::DataDir {
            path: dir.to_path_buf(),
            source,
        };
        let new_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(data_dir_error)?;
        let path = dir.join("hub.sqlite");
        let new_file = !path.exists();
        let mut writer = schema::open(&path)?;
        // Tokens and codes are hashed, but the ops are people's records: a folder and file the
        // hub makes are for the hub's user alone (SQLite gives its WAL the file's mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if new_dir {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(data_dir_error)?;
            }
            if new_file {
                // The log and shared-memory files SQLite made when it opened the file took the
                // umask's mode, not the file's: they hold the same records.
                for suffix in ["", "-wal", "-shm"] {
                    let file = dir.join(format!("hub.sqlite{suffix}"));
                    if file.exists() {
                        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                            .map_err(data_dir_error)?;
                    }
                }
            }
        }
        #[cfg(not(unix))]
        let _ = (new_dir, new_file);
        schema::init(&mut writer, &path).map_err(|e| match e {
            schema::SchemaError::Storage(e) => e,
            schema::SchemaError::Sqlite(e) => StorageError::Sqlite(e),
            schema::SchemaError::Foreign(path) => StorageError::DataDir {
                path,
                source: std::io::Error::other("not a Bangfu hub database"),
            },
        })?;
        let readers = (0..READERS)
            .map(|_| schema::open(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let epoch = schema::epoch(&writer)?;
        let storage = SqliteStorage {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
            epoch,
            options,
        };
        storage.write(super::scope_index::index_learnt_tables)?;
        Ok(storage)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        // A panic in another request cannot leave SQLite half-written (its transaction rolled
        // back when dropped), so a poisoned lock is safe to take over.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&mut SqliteDb(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let taken = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match taken {
            Some(conn) => conn,
            None => schema::open(&self.path)?,
        };
        // One snapshot for the whole read (the head, the op at the position, the page).
        let out = match conn.transaction() {
            Ok(tx) => {
                let out = f(&mut SqliteDb(&tx));
                let _ = tx.finish();
                out
            }
            Err(e) => Err(e.into()),
        };
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        out
    }
}

impl HubStorage for SqliteStorage {
    fn authenticate(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
        self.read(|db| credentials::authenticate(db, token))
    }

    fn revoked_device(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
        self.read(|db| credentials::revoked_device(db, token))
    }

    fn enrol(
        &self,
        code: &str,
        device_name: &str,
        previous_tokens: &[String],
    ) -> Result<Result<Enrolment, CodeRefusal>, StorageError> {
        self.write(|db| credentials::enrol(db, code, device_name, previous_tokens))
    }

    fn push_cursor(&self, device: &DeviceAuth, origin: Uuid) -> Result<i64, StorageError> {
        self.write(|db| logic::claim_origin(db, device, origin))
    }

    fn push(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<PushOutcome, StorageError> {
        self.write(|db| logic::push(db, device, origin, ops, self.options))
    }

    fn signer_key(&self, origin: Uuid) -> Result<Option<String>, StorageError> {
        self.read(|db| super::signatures::signer_key(db, origin))
    }

    fn keep_signatures(
        &self,
        origin: Uuid,
        key: &str,
        batches: &[bangfu_core::sync::signing::BatchSig],
        seal_key: Option<&str>,
    ) -> Result<(), StorageError> {
        self.write(|db| super::signatures::keep(db, origin, key, batches, seal_key))
    }

    fn signatures_for(&self, ops: &[Op]) -> Result<super::PageSignatures, StorageError> {
        self.read(|db| super::signatures::for_page(db, ops))
    }

    fn blobs_missing(&self, scope: &Scope, hashes: &[String]) -> Result<Vec<String>, StorageError> {
        self.read(|db| super::blobs::missing(db, scope, hashes))
    }

    fn put_blob(
        &self,
        device: &DeviceAuth,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<super::BlobPut, StorageError> {
        let now = super::logic::now_ms();
        self.write(|db| super::blobs::put(db, &device.scope, sha256, bytes, now))
    }

    fn get_blob(&self, scope: &Scope, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|db| super::blobs::get(db, scope, sha256))
    }

    fn pull(&self, scope: &Scope, after: i64, limit: usize) -> Result<PullPage, StorageError> {
        self.read(|db| logic::pull(db, scope, after, limit, false))
    }

    fn pull_snapshot(
        &self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<PullPage, StorageError> {
        self.read(|db| logic::pull(db, scope, after, limit, true))
    }

    fn issue_code_for(
        &self,
        scope: &Scope,
        valid_for: std::time::Duration,
    ) -> Result<IssuedCode, StorageError> {
        let valid_for_ms = i64::try_from(valid_for.as_millis()).unwrap_or(i64::MAX);
        self.write(|db| credentials::issue_code(db, scope, valid_for_ms))
    }

    fn quarantine_cursor(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
    ) -> Result<Option<i64>, StorageError> {
        self.read(|db| logic::quarantine_cursor(db, device, origin))
    }

    fn quarantine(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<Option<PushOutcome>, StorageError> {
        self.write(|db| logic::quarantine(db, device, origin, ops))
    }

    fn create_admin_token(&self, replace: bool) -> Result<Option<String>, StorageError> {
        self.write(|db| credentials::create_admin_token(db, replace))
    }

    fn check_admin(&self, token: &str) -> Result<AdminCheck, StorageError> {
        self.read(|db| credentials::check_admin(db, token))
    }

    fn revoke(&self, device_id: i64) -> Result<bool, StorageError> {
        self.write(|db| logic::revoke(db, device_id))
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError> {
        self.read(logic::devices)
    }

    fn county_rows(
        &self,
        county: &str,
    ) -> Result<
        (
            bangfu_core::sync::county::CountySigner,
            Vec<super::county::Listed>,
        ),
        StorageError,
    > {
        let (key, listed) = self.read(|db| super::county::list_rows(db, county))?;
        let key = match key {
            Some(key) => key,
            None => self.write(|db| super::county::county_key(db, county))?,
        };
        Ok((key, listed))
    }

    fn renew_county_key(
        &self,
        county: &str,
    ) -> Result<bangfu_core::sync::county::CountySigner, StorageError> {
        self.write(|db| super::county::renew_key(db, county))
    }

    fn held(&self) -> Result<Vec<HeldInfo>, StorageError> {
        self.read(logic::held)
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn counts(&self) -> Result<StorageCounts, StorageError> {
        self.read(logic::counts)
    }
}
