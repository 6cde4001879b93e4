//! The embedded storage: one SQLite file in the hub's data folder, one writer connection and
//! a few readers (WAL lets pulls run while a push commits).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bangfu_core::model::Table;
use bangfu_core::sync::Op;
use rand::RngCore;
use rand::rngs::OsRng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::schema::{self, op_from_row};
use super::scope_index::{clear_pending, row_villages, store_op};
use super::{DeviceAuth, DeviceInfo, Enrolment, HubStorage, PullPage, StorageCounts, StorageError};
use crate::scope::{Level, Scope};

const READERS: usize = 4;

#[derive(Debug)]
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// SHA-256 in hex: tokens and codes are stored only this way.
fn hashed(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A code a person can read out on the phone: 12 characters without look-alikes, in groups.
fn random_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without case, spaces or dashes, as people type them.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl SqliteStorage {
    /// Opens (creating if new) `DIR/hub.sqlite`.
    pub fn open(dir: &Path) -> Result<SqliteStorage, StorageError> {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("hub.sqlite");
        let mut writer = schema::open(&path)?;
        schema::init(&mut writer, &path).map_err(|e| match e {
            schema::SchemaError::Sqlite(e) => StorageError::Sqlite(e),
            schema::SchemaError::Foreign(path) => StorageError::DataDir {
                path,
                source: std::io::Error::other("not a Bangfu hub database"),
            },
        })?;
        let readers = (0..READERS)
            .map(|_| schema::open(&path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SqliteStorage {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        // A panic in another request cannot leave SQLite half-written (its transaction rolled
        // back when dropped), so a poisoned lock is safe to take over.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let taken = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => schema::open(&self.path)?,
        };
        let out = f(&conn);
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        out
    }
}

impl HubStorage for SqliteStorage {
    fn authenticate(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
        let hash = hashed(token);
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT id, name, scope FROM device WHERE token_hash = ?1 AND revoked_ms IS NULL",
                )?
                .query_row([hash], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })
                .optional()?;
            Ok(row.and_then(|(id, name, scope)| {
                Scope::parse(&scope).map(|scope| DeviceAuth { id, name, scope })
            }))
        })
    }

    fn enrol(&self, code: &str, device_name: &str) -> Result<Option<Enrolment>, StorageError> {
        let code_hash = hashed(&normalize_code(code));
        self.write(|tx| {
            let now = now_ms();
            let scope: Option<String> = tx
                .query_row(
                    "UPDATE enrol_code SET used_ms = ?2 WHERE code_hash = ?1 AND used_ms IS NULL
                     RETURNING scope",
                    params![code_hash, now],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(scope) = scope.as_deref().and_then(Scope::parse) else {
                return Ok(None);
            };
            let token = random_token();
            tx.execute(
                "INSERT INTO device (token_hash, scope, name, enrolled_ms) VALUES (?1, ?2, ?3, ?4)",
                params![hashed(&token), scope.as_str(), device_name, now],
            )?;
            Ok(Some(Enrolment { token, scope }))
        })
    }

    fn push_cursor(&self, device: &DeviceAuth, origin: Uuid) -> Result<i64, StorageError> {
        self.write(|tx| claim_origin(tx, device, origin))
    }

    fn push(&self, device: &DeviceAuth, origin: Uuid, ops: &[Op]) -> Result<i64, StorageError> {
        self.write(|tx| {
            let mut stored = claim_origin(tx, device, origin)?;
            for op in ops {
                if op.id.origin != origin {
                    return Err(StorageError::ForeignOrigin {
                        origin: op.id.origin,
                        seq: op.id.seq,
                    });
                }
                if op.id.seq <= stored {
                    continue; // acknowledged before: a resumed push sends it again
                }
                if op.id.seq != stored + 1 {
                    return Err(StorageError::Gap { stored });
                }
                stored = op.id.seq;
                let Some(key) = store_op(tx, op, &device.scope)? else {
                    continue;
                };
                check_scope(tx, device, op, key)?;
            }
            tx.execute(
                "UPDATE origin SET stored_seq = ?2 WHERE origin = ?1",
                params![origin.as_bytes().as_slice(), stored],
            )?;
            tx.execute(
                "UPDATE device SET last_push_ms = ?2 WHERE id = ?1",
                params![device.id, now_ms()],
            )?;
            Ok(stored)
        })
    }

    fn pull(&self, scope: &Scope, after: i64, limit: usize) -> Result<PullPage, StorageError> {
        // Each level reads its own indexed column; the text is fixed, the scope is bound.
        let sql = match scope.level() {
            Level::Village => PULL_VILLAGE,
            Level::Township => PULL_TOWNSHIP,
            Level::County => PULL_COUNTY,
        };
        let limit = limit.clamp(1, 20_000);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params![scope.as_str(), after, limit as i64])?;
            let mut ops: Vec<Op> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut next = after;
            let mut count = 0;
            while let Some(r) = rows.next()? {
                count += 1;
                next = r.get(0)?;
                let op = op_from_row(r, 1)?;
                // A shared helper's op is filed once per village; one copy per page is enough.
                if seen.insert(op.id) {
                    ops.push(op);
                }
            }
            Ok(PullPage {
                ops,
                next,
                more: count == limit,
            })
        })
    }

    fn issue_code(&self, scope: &Scope) -> Result<String, StorageError> {
        let code = random_code();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO enrol_code (code_hash, scope, created_ms) VALUES (?1, ?2, ?3)",
                params![hashed(&normalize_code(&code)), scope.as_str(), now_ms()],
            )?;
            Ok(())
        })?;
        Ok(code)
    }

    fn revoke(&self, device_id: i64) -> Result<bool, StorageError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE device SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![device_id, now_ms()],
            )?;
            Ok(n > 0)
        })
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, scope, enrolled_ms, last_push_ms, revoked_ms IS NOT NULL
                 FROM device ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(DeviceInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    scope: r.get(2)?,
                    enrolled_ms: r.get(3)?,
                    last_push_ms: r.get(4)?,
                    revoked: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn counts(&self) -> Result<StorageCounts, StorageError> {
        self.read(|conn| {
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok(StorageCounts {
                ops: count("SELECT count(*) FROM op")?,
                feed_entries: count("SELECT count(*) FROM feed")?,
                pending_ops: count(
                    "SELECT count(*) FROM op WHERE key NOT IN (SELECT op FROM feed)",
                )?,
            })
        })
    }
}

const PULL_VILLAGE: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.village = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";
const PULL_TOWNSHIP: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.township = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";
const PULL_COUNTY: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.county = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";

/// The stored seq of `origin`, claiming it for `device` if new; another device's is refused.
fn claim_origin(
    tx: &rusqlite::Transaction<'_>,
    device: &DeviceAuth,
    origin: Uuid,
) -> Result<i64, StorageError> {
    let key = origin.as_bytes().as_slice();
    let row: Option<(i64, i64)> = tx
        .query_row(
            "SELECT device, stored_seq FROM origin WHERE origin = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((owner, stored)) if owner == device.id => Ok(stored),
        Some(_) => Err(StorageError::OriginTaken(origin)),
        None => {
            tx.execute(
                "INSERT INTO origin (origin, device, stored_seq) VALUES (?1, ?2, 0)",
                params![key, device.id],
            )?;
            Ok(0)
        }
    }
}

/// A pushed op must stay inside the pusher's scope: a row of the scope's villages only, or a
/// shared helper that at least one of them names. A row whose village is not known yet is
/// kept pending (it will go only inside the pusher's scope once known).
fn check_scope(
    tx: &rusqlite::Transaction<'_>,
    device: &DeviceAuth,
    op: &Op,
    key: i64,
) -> Result<(), StorageError> {
    let villages = row_villages(tx, op.row)?;
    let helper = op.table == Table::Helper.code();
    let ok = if helper {
        let all: Vec<&String> = villages.own.iter().chain(&villages.shared).collect();
        all.is_empty() || all.iter().any(|v| device.scope.contains(v))
    } else {
        villages.own.iter().all(|v| device.scope.contains(v))
    };
    if !ok {
        return Err(StorageError::OutsideScope {
            seq: op.id.seq,
            table: Table::from_code(op.table).map_or("?", Table::label),
            row: op.row,
        });
    }
    if !villages.own.is_empty() {
        clear_pending(tx, key)?;
    }
    Ok(())
}
