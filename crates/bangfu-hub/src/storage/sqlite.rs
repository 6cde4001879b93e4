//! The embedded storage: one SQLite file in the hub's data folder, one writer connection and
//! a few readers (WAL lets pulls run while a push commits).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bangfu_core::model::Table;
use bangfu_core::sync::{Op, OpId};
use rand::RngCore;
use rand::rngs::OsRng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::schema::{self, op_from_row};
use super::scope_index::{Refusal, admit, store_op};
use super::{
    DeviceAuth, DeviceInfo, Enrolment, HeldInfo, HeldNote, HubStorage, PullPage, PushOutcome,
    StorageCounts, StorageError,
};
use crate::scope::{Level, Scope};

const READERS: usize = 4;

#[derive(Debug)]
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    epoch: String,
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
        let epoch = schema::epoch(&writer)?;
        Ok(SqliteStorage {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
            epoch,
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

    fn enrol(
        &self,
        code: &str,
        device_name: &str,
        previous_tokens: &[String],
    ) -> Result<Option<Enrolment>, StorageError> {
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
            let id = tx.last_insert_rowid();
            // The same data file enrolled again (or a copy of it): it shows a token the hub
            // gave it before, so it may keep pushing the origins claimed under that token.
            for previous in previous_tokens.iter().filter(|t| !t.trim().is_empty()) {
                let old: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM device WHERE token_hash = ?1",
                        [hashed(previous)],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(old) = old.filter(|old| *old != id) else {
                    continue;
                };
                tx.execute(
                    "INSERT OR IGNORE INTO device_lineage (device, earlier)
                     SELECT ?1, ?2 UNION SELECT ?1, earlier FROM device_lineage WHERE device = ?2",
                    params![id, old],
                )?;
            }
            Ok(Some(Enrolment { token, scope }))
        })
    }

    fn push_cursor(&self, device: &DeviceAuth, origin: Uuid) -> Result<i64, StorageError> {
        self.write(|tx| claim_origin(tx, device, origin))
    }

    fn push(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<PushOutcome, StorageError> {
        self.write(|tx| {
            let now = now_ms();
            let mut stored = claim_origin(tx, device, origin)?;
            let mut held = Vec::new();
            for op in ops {
                if op.id.origin != origin {
                    return Err(StorageError::ForeignOrigin {
                        origin: op.id.origin,
                        seq: op.id.seq,
                    });
                }
                if op.id.seq <= stored {
                    // Sent again (a resumed push): the same content is a duplicate, other
                    // content under the same id is held and reported, never dropped silently.
                    if let Some(refusal) = same_content(tx, op)? {
                        hold(tx, device, op, &refusal, now, &mut held)?;
                    }
                    continue;
                }
                if op.id.seq != stored + 1 {
                    return Err(StorageError::Gap { stored });
                }
                stored = op.id.seq;
                match admit(tx, &device.scope, op, now)? {
                    Ok(admitted) => {
                        let pending = (!admitted.known).then_some(&device.scope);
                        store_op(tx, op, pending, now, admitted.villages)?;
                    }
                    Err(refusal) => hold(tx, device, op, &refusal, now, &mut held)?,
                }
            }
            tx.execute(
                "UPDATE origin SET stored_seq = ?2 WHERE origin = ?1",
                params![origin.as_bytes().as_slice(), stored],
            )?;
            tx.execute(
                "UPDATE device SET last_push_ms = ?2 WHERE id = ?1",
                params![device.id, now],
            )?;
            Ok(PushOutcome {
                stored_seq: stored,
                held,
            })
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
            let head: i64 =
                conn.query_row("SELECT coalesce(max(pos), 0) FROM feed", [], |r| r.get(0))?;
            let op_at_after = conn
                .prepare_cached(
                    "SELECT o.origin, o.seq FROM feed f JOIN op o ON o.key = f.op WHERE f.pos = ?1",
                )?
                .query_row([after], |r| {
                    Ok(OpId {
                        origin: Uuid::from_slice(&r.get::<_, Vec<u8>>(0)?).unwrap_or_default(),
                        seq: r.get(1)?,
                    })
                })
                .optional()?;
            let mut next_op = None;
            while let Some(r) = rows.next()? {
                count += 1;
                next = r.get(0)?;
                let op = op_from_row(r, 1)?;
                next_op = Some(op.id);
                // A shared helper's op is filed once per village; one copy per page is enough.
                if seen.insert(op.id) {
                    ops.push(op);
                }
            }
            Ok(PullPage {
                ops,
                next,
                more: count == limit,
                head,
                next_op,
                op_at_after,
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

    fn held(&self) -> Result<Vec<HeldInfo>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT h.id, coalesce(d.name, ''), h.origin, h.seq, h.reason, h.detail,
                     h.held_ms, h.tbl, h.row, h.field
                 FROM held h LEFT JOIN device d ON d.id = h.device ORDER BY h.id",
            )?;
            let rows = stmt.query_map([], |r| {
                let uuid = |b: Vec<u8>| Uuid::from_slice(&b).unwrap_or_default();
                Ok(HeldInfo {
                    id: r.get(0)?,
                    device: r.get(1)?,
                    origin: uuid(r.get(2)?),
                    seq: r.get(3)?,
                    reason: r.get(4)?,
                    detail: r.get(5)?,
                    held_ms: r.get(6)?,
                    table: Table::from_code(r.get(7)?)
                        .map_or("?", Table::label)
                        .to_owned(),
                    row: uuid(r.get(8)?),
                    field: r.get(9)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn epoch(&self) -> &str {
        &self.epoch
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
                held_ops: count("SELECT count(*) FROM held")?,
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

/// The stored seq of `origin`, claiming it for `device` if new; another device's is refused
/// unless it is an earlier enrolment of the same data file.
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
        Some((owner, stored)) => {
            let earlier: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM device_lineage WHERE device = ?1 AND earlier = ?2)",
                )?
                .query_row(params![device.id, owner], |r| r.get(0))?;
            if earlier {
                Ok(stored)
            } else {
                Err(StorageError::OriginTaken(origin))
            }
        }
        None => {
            tx.execute(
                "INSERT INTO origin (origin, device, stored_seq) VALUES (?1, ?2, 0)",
                params![key, device.id],
            )?;
            Ok(0)
        }
    }
}

/// `None` when the op stored (or held) under this id has the same content; otherwise why not.
fn same_content(tx: &rusqlite::Transaction<'_>, op: &Op) -> Result<Option<Refusal>, StorageError> {
    let stored: Option<Op> = tx
        .prepare_cached(
            "SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM op
             WHERE origin = ?1 AND seq = ?2
             UNION ALL SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM held
             WHERE origin = ?1 AND seq = ?2 AND reason = 'outside_scope' LIMIT 1",
        )?
        .query_row(
            params![op.id.origin.as_bytes().as_slice(), op.id.seq],
            |r| op_from_row(r, 0),
        )
        .optional()?;
    Ok(match stored {
        Some(stored) if &stored == op => None,
        Some(_) => Some(Refusal {
            reason: "content_mismatch",
            detail: format!(
                "op {}/{} arrived again with other content than the hub holds",
                op.id.origin, op.id.seq
            ),
        }),
        // The hub passed this seq without keeping it (a held content mismatch): nothing to
        // compare with.
        None => None,
    })
}

/// Keeps a refused op aside for the county admin and notes it for the pusher.
fn hold(
    tx: &rusqlite::Transaction<'_>,
    device: &DeviceAuth,
    op: &Op,
    refusal: &Refusal,
    now: i64,
    held: &mut Vec<HeldNote>,
) -> Result<(), StorageError> {
    eprintln!(
        "bangfu-hub: held op from device {}: {}: {}",
        device.id, refusal.reason, refusal.detail
    );
    tx.prepare_cached(
        "INSERT OR IGNORE INTO held (origin, seq, device, reason, detail, held_ms, hlc, tbl,
             row, field, val, preds, seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        op.id.origin.as_bytes().as_slice(),
        op.id.seq,
        device.id,
        refusal.reason,
        refusal.detail,
        now,
        op.hlc.to_i64(),
        op.table,
        op.row.as_bytes().as_slice(),
        op.field,
        op.value,
        schema::encode_ids(&op.preds),
        schema::encode_ids(&op.seen),
    ])?;
    held.push(HeldNote {
        seq: op.id.seq,
        reason: refusal.reason.to_owned(),
    });
    Ok(())
}
