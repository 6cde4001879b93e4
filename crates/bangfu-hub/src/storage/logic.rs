//! What the hub's storage does, written once for both backends: push cursors and the push
//! itself (admission and the scope index), pulls, held and quarantined ops and the admin's
//! lists (enrolment, tokens and the admin credential are in `credentials.rs`). Each function runs inside one transaction the backend opened ([`Db`]).

use std::time::{SystemTime, UNIX_EPOCH};

use bangfu_core::model::Table;
use bangfu_core::sync::{Hlc, Op, OpId};
use uuid::Uuid;

use super::push_batch::{Batch, Fresh, RowCache};
use super::schema::{decode_ids, encode_ids};
use super::scope_index::{Refusal, admit, is_plain, store_op};
use super::sql::{Db, P, Row};
use super::{
    DeviceAuth, DeviceInfo, HeldInfo, HeldNote, MAX_QUARANTINED_PER_DEVICE, PullPage, PushOutcome,
    StorageCounts, StorageError, StoreOptions,
};
use crate::scope::{Level, Scope};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A new database's epoch: 16 random bytes in hex.
pub fn new_epoch() -> String {
    super::credentials::random_hex(16)
}

/// Reads the columns `origin, seq, hlc, tbl, row, field, val, preds, seen` from index `at`.
pub fn op_of(db: &dyn Db, r: &Row, at: usize) -> Result<Op, StorageError> {
    Ok(Op {
        id: OpId {
            origin: r.uuid(at)?,
            seq: r.int(at + 1)?,
        },
        hlc: Hlc::from_i64(r.int(at + 2)?),
        table: r.int(at + 3)?,
        row: r.uuid(at + 4)?,
        field: r.text(at + 5)?,
        value: db.field_value(r.raw(at + 6)),
        preds: decode_ids(r.opt_bytes(at + 7)?),
        seen: decode_ids(r.opt_bytes(at + 8)?),
    })
}

/// The stored seq of `origin`, claiming it for `device` if new; another device's is refused
/// unless it is an earlier enrolment of the same data file.
pub fn claim_origin(
    db: &mut dyn Db,
    device: &DeviceAuth,
    origin: Uuid,
) -> Result<i64, StorageError> {
    let row = db.row(
        "SELECT device, stored_seq FROM origin WHERE origin = ?1",
        &[P::uuid(&origin)],
    )?;
    let Some(row) = row else {
        db.exec(
            "INSERT INTO origin (origin, device, stored_seq) VALUES (?1, ?2, 0)",
            &[P::uuid(&origin), P::Int(device.id)],
        )?;
        return Ok(0);
    };
    let (owner, stored) = (row.int(0)?, row.int(1)?);
    if owner == device.id {
        return Ok(stored);
    }
    let earlier = db.one_int(
        "SELECT count(*) FROM device_lineage WHERE device = ?1 AND earlier = ?2",
        &[P::Int(device.id), P::Int(owner)],
    )?;
    if earlier > 0 {
        Ok(stored)
    } else {
        Err(StorageError::OriginTaken(origin))
    }
}

pub fn push(
    db: &mut dyn Db,
    device: &DeviceAuth,
    origin: Uuid,
    ops: &[Op],
    options: StoreOptions,
) -> Result<PushOutcome, StorageError> {
    let now = now_ms();
    let mut stored = claim_origin(db, device, origin)?;
    let mut held = Vec::new();
    // The index entries of every row the push writes, read at once; plain ops and first
    // links of known effect stored in batches, flushed before any other op that changes
    // the index.
    let mut cache = RowCache::load(
        db,
        ops.iter().filter(|op| op.id.seq > stored).map(|op| op.row),
        now,
    )?;
    let mut fresh = Fresh::load(db, origin, stored, ops)?;
    let mut batch = Batch::default();
    // Rows whose villages this push changed (a household moved, and what hangs under it).
    let mut moved: Vec<Uuid> = Vec::new();
    for op in ops {
        if op.id.origin != origin {
            return Err(StorageError::ForeignOrigin {
                origin: op.id.origin,
                seq: op.id.seq,
            });
        }
        if op.id.seq <= stored {
            // Sent again (a resumed push): the same content is a duplicate, other content
            // under the same id is held and reported, never dropped silently.
            if let Some(refusal) = same_content(db, op)? {
                hold(db, device, op, &refusal, now, &mut held)?;
            }
            continue;
        }
        if op.id.seq != stored + 1 {
            return Err(StorageError::Gap { stored });
        }
        stored = op.id.seq;
        match admit(db, &mut cache, &device.scope, op)? {
            Ok(admitted) => {
                let pending = (!admitted.known).then_some(&device.scope);
                if options.op_by_op {
                    let changed = store_op(db, op, pending, now, admitted.villages)?;
                    cache.forget(&changed);
                    moved.extend(changed);
                } else if is_plain(op) {
                    batch.plain(db, op, pending, admitted.villages)?;
                } else if let Some(effect) = fresh.link(db, &mut cache, op, &admitted.villages)? {
                    moved.push(effect.moved_row());
                    batch.link(db, op, pending, admitted.villages, effect)?;
                } else {
                    batch.flush(db)?;
                    fresh.stored(op);
                    let changed = store_op(db, op, pending, now, admitted.villages)?;
                    cache.forget(&changed);
                    moved.extend(changed);
                }
            }
            Err(refusal) => hold(db, device, op, &refusal, now, &mut held)?,
        }
    }
    batch.flush(db)?;
    readmit_held(db, moved, now)?;
    db.exec(
        "UPDATE origin SET stored_seq = ?2 WHERE origin = ?1",
        &[P::uuid(&origin), P::Int(stored)],
    )?;
    db.exec(
        "UPDATE device SET last_push_ms = ?2 WHERE id = ?1",
        &[P::Int(device.id), P::Int(now)],
    )?;
    Ok(PushOutcome {
        stored_seq: stored,
        held,
    })
}

/// How many rounds [`readmit_held`] takes: an op it takes may move rows in turn (a new
/// member's household), whose held ops the next round looks at.
const READMIT_ROUNDS: usize = 8;

/// Takes the ops held outside their pusher's scope whose row a move has since brought into
/// it: a laptop that got the township's move of a household into its village on a stick,
/// before the hub did, edited it and synced first. Its edit was held; it is stored now, as if
/// pushed after the move, and reaches every copy. Only rows this push moved are looked at;
/// an op of a revoked device stays held.
fn readmit_held(db: &mut dyn Db, moved: Vec<Uuid>, now: i64) -> Result<(), StorageError> {
    let mut rows: std::collections::HashSet<Uuid> = moved.into_iter().collect();
    for _ in 0..READMIT_ROUNDS {
        if rows.is_empty() {
            return Ok(());
        }
        // One read of what is held outside a scope (few, usually none), matched here: the
        // moved rows' own ops, and the ops that put a new row under one of them (a member
        // added to the moved household).
        let mut waiting: Vec<(i64, i64, Op)> = Vec::new();
        for r in db.rows(
            "SELECT h.id, h.device, h.origin, h.seq, h.hlc, h.tbl, h.row, h.field, h.val,
                 h.preds, h.seen
             FROM held h JOIN device d ON d.id = h.device
             WHERE h.reason = 'outside_scope' AND d.revoked_ms IS NULL
             ORDER BY h.id LIMIT ?1",
            &[P::Int(READMIT_SCAN)],
        )? {
            let op = op_of(&*db, &r, 2)?;
            let under = match &op.value {
                bangfu_core::model::FieldValue::Bytes(b) => {
                    Uuid::from_slice(b).is_ok_and(|parent| rows.contains(&parent))
                }
                _ => false,
            };
            if rows.contains(&op.row) || under {
                waiting.push((r.int(0)?, r.int(1)?, op));
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        // In each writer's order: a row's link before the edits that hang on it.
        waiting.sort_by_key(|(_, _, op)| (op.id.origin, op.id.seq));
        let mut cache = RowCache::load(db, waiting.iter().map(|(_, _, op)| op.row), now)?;
        let mut next = std::collections::HashSet::new();
        let mut scopes: std::collections::HashMap<i64, Option<Scope>> = Default::default();
        for (id, device, op) in &waiting {
            let scope = match scopes.get(device) {
                Some(known) => known.clone(),
                None => {
                    let read = db
                        .row("SELECT scope FROM device WHERE id = ?1", &[P::Int(*device)])?
                        .map(|r| r.text(0))
                        .transpose()?
                        .and_then(|code| Scope::parse(&code));
                    scopes.insert(*device, read.clone());
                    read
                }
            };
            let Some(scope) = scope else { continue };
            let Ok(admitted) = admit(db, &mut cache, &scope, op)? else {
                continue;
            };
            let pending = (!admitted.known).then_some(&scope);
            let changed = store_op(db, op, pending, now, admitted.villages)?;
            cache.forget(&changed);
            next.extend(changed);
            db.exec("DELETE FROM held WHERE id = ?1", &[P::Int(*id)])?;
            crate::metrics::log(
                "held_taken",
                &[
                    ("device", (*device).into()),
                    ("origin", op.id.origin.to_string().into()),
                    ("seq", op.id.seq.into()),
                ],
            );
        }
        rows = next;
    }
    Ok(())
}

/// How many held ops [`readmit_held`] reads at most per round: a device that pushed far more
/// outside its scope than any race makes is left for the admin, and pushes stay quick.
const READMIT_SCAN: i64 = 20_000;

/// `None` when the op stored (or held) under this id has the same content; otherwise why not.
fn same_content(db: &mut dyn Db, op: &Op) -> Result<Option<Refusal>, StorageError> {
    let row = db.row(
        "SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM op
         WHERE origin = ?1 AND seq = ?2
         UNION ALL SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM held
         WHERE origin = ?1 AND seq = ?2 AND reason = 'outside_scope' LIMIT 1",
        &[P::uuid(&op.id.origin), P::Int(op.id.seq)],
    )?;
    let stored = row.map(|r| op_of(db, &r, 0)).transpose()?;
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
    db: &mut dyn Db,
    device: &DeviceAuth,
    op: &Op,
    refusal: &Refusal,
    now: i64,
    held: &mut Vec<HeldNote>,
) -> Result<(), StorageError> {
    crate::metrics::log(
        "held",
        &[
            ("device", device.id.into()),
            ("reason", refusal.reason.into()),
            ("detail", refusal.detail.clone().into()),
        ],
    );
    let preds = encode_ids(&op.preds);
    let seen = encode_ids(&op.seen);
    db.exec(
        "INSERT INTO held (origin, seq, device, reason, detail, held_ms, hlc, tbl, row, field,
             val, preds, seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT DO NOTHING",
        &[
            P::uuid(&op.id.origin),
            P::Int(op.id.seq),
            P::Int(device.id),
            P::Text(refusal.reason),
            P::Text(&refusal.detail),
            P::Int(now),
            P::Int(op.hlc.to_i64()),
            P::Int(op.table),
            P::uuid(&op.row),
            P::Text(&op.field),
            P::Value(&op.value),
            P::opt_bytes(preds.as_deref()),
            P::opt_bytes(seen.as_deref()),
        ],
    )?;
    held.push(HeldNote {
        seq: op.id.seq,
        reason: refusal.reason.to_owned(),
    });
    Ok(())
}

const PULL_VILLAGE: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.village = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";
const PULL_TOWNSHIP: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.township = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";
const PULL_COUNTY: &str = "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.county = ?1 AND f.pos > ?2 ORDER BY f.pos LIMIT ?3";

const SNAPSHOT_VILLAGE: &str =
    "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.village = ?1 AND f.pos > ?2
     AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.origin = o.origin AND s.seq = o.seq)
     ORDER BY f.pos LIMIT ?3";
const SNAPSHOT_TOWNSHIP: &str =
    "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.township = ?1 AND f.pos > ?2
     AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.origin = o.origin AND s.seq = o.seq)
     ORDER BY f.pos LIMIT ?3";
const SNAPSHOT_COUNTY: &str =
    "SELECT f.pos, o.origin, o.seq, o.hlc, o.tbl, o.row, o.field, o.val, o.preds, o.seen
     FROM feed f JOIN op o ON o.key = f.op WHERE f.county = ?1 AND f.pos > ?2
     AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.origin = o.origin AND s.seq = o.seq)
     ORDER BY f.pos LIMIT ?3";

/// Ops of `scope` after `after`, at most `limit` (clamped to 1..=20,000). With `snapshot`,
/// only ops no stored op names as predecessor (the current heads, conflicts included): a new
/// device's compacted start; the history stays on the hub.
pub fn pull(
    db: &mut dyn Db,
    scope: &Scope,
    after: i64,
    limit: usize,
    snapshot: bool,
) -> Result<PullPage, StorageError> {
    // Each level reads its own indexed column; the text is fixed, the scope is bound.
    let sql = match (scope.level(), snapshot) {
        (Level::Village, false) => PULL_VILLAGE,
        (Level::Township, false) => PULL_TOWNSHIP,
        (Level::County, false) => PULL_COUNTY,
        (Level::Village, true) => SNAPSHOT_VILLAGE,
        (Level::Township, true) => SNAPSHOT_TOWNSHIP,
        (Level::County, true) => SNAPSHOT_COUNTY,
    };
    let limit = limit.clamp(1, 20_000);
    let head = db.one_int("SELECT coalesce(max(pos), 0) FROM feed", &[])?;
    let op_at_after = db
        .row(
            "SELECT o.origin, o.seq FROM feed f JOIN op o ON o.key = f.op WHERE f.pos = ?1",
            &[P::Int(after)],
        )?
        .map(|r| {
            Ok::<_, StorageError>(OpId {
                origin: r.uuid(0)?,
                seq: r.int(1)?,
            })
        })
        .transpose()?;
    let rows = db.rows(
        sql,
        &[P::Text(scope.as_str()), P::Int(after), P::Int(limit as i64)],
    )?;
    let mut ops: Vec<Op> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut next = after;
    let mut next_op = None;
    for r in &rows {
        next = r.int(0)?;
        let op = op_of(db, r, 1)?;
        next_op = Some(op.id);
        // A shared helper's op is filed once per village; one copy per page is enough.
        if seen.insert(op.id) {
            ops.push(op);
        }
    }
    Ok(PullPage {
        ops,
        next,
        more: rows.len() == limit,
        head,
        next_op,
        op_at_after,
    })
}

/// The origins a revoked device may still send to quarantine: those it claimed, or an earlier
/// enrolment of its data file did. Its cursor there: the stored seq, or the last op
/// quarantined after it.
pub fn quarantine_cursor(
    db: &mut dyn Db,
    device: &DeviceAuth,
    origin: Uuid,
) -> Result<Option<i64>, StorageError> {
    let row = db.row(
        "SELECT o.stored_seq FROM origin o WHERE o.origin = ?1 AND (o.device = ?2
             OR o.device IN (SELECT earlier FROM device_lineage WHERE device = ?2))",
        &[P::uuid(&origin), P::Int(device.id)],
    )?;
    let Some(stored) = row.map(|r| r.int(0)).transpose()? else {
        return Ok(None);
    };
    let quarantined = db.one_int(
        "SELECT coalesce(max(seq), 0) FROM held
         WHERE origin = ?1 AND reason = 'device_revoked' AND seq > ?2",
        &[P::uuid(&origin), P::Int(stored)],
    )?;
    Ok(Some(stored.max(quarantined)))
}

/// Keeps a revoked device's ops aside, in seq order from its quarantine cursor: they are
/// never merged into the log, and the admin sees them in `bangfu-hub held`.
pub fn quarantine(
    db: &mut dyn Db,
    device: &DeviceAuth,
    origin: Uuid,
    ops: &[Op],
) -> Result<Option<PushOutcome>, StorageError> {
    let Some(mut cursor) = quarantine_cursor(db, device, origin)? else {
        return Ok(None);
    };
    let kept = db.one_int(
        "SELECT count(*) FROM held WHERE device = ?1 AND reason = 'device_revoked'",
        &[P::Int(device.id)],
    )?;
    if kept.saturating_add(ops.len() as i64) > MAX_QUARANTINED_PER_DEVICE {
        return Ok(None);
    }
    let now = now_ms();
    let refusal = Refusal {
        reason: "device_revoked",
        detail: format!(
            "pushed by device {} after it was revoked: kept for review, not merged",
            device.id
        ),
    };
    let mut held = Vec::new();
    for op in ops {
        if op.id.origin != origin {
            return Err(StorageError::ForeignOrigin {
                origin: op.id.origin,
                seq: op.id.seq,
            });
        }
        if op.id.seq <= cursor {
            continue;
        }
        if op.id.seq != cursor + 1 {
            return Err(StorageError::Gap { stored: cursor });
        }
        cursor = op.id.seq;
        hold(db, device, op, &refusal, now, &mut held)?;
    }
    Ok(Some(PushOutcome {
        stored_seq: cursor,
        held,
    }))
}

pub fn revoke(db: &mut dyn Db, device_id: i64) -> Result<bool, StorageError> {
    let n = db.exec(
        "UPDATE device SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        &[P::Int(device_id), P::Int(now_ms())],
    )?;
    Ok(n > 0)
}

pub fn devices(db: &mut dyn Db) -> Result<Vec<DeviceInfo>, StorageError> {
    db.rows(
        "SELECT id, name, scope, enrolled_ms, last_push_ms,
             CASE WHEN revoked_ms IS NULL THEN 0 ELSE 1 END
         FROM device ORDER BY id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(DeviceInfo {
            id: r.int(0)?,
            name: r.text(1)?,
            scope: r.text(2)?,
            enrolled_ms: r.int(3)?,
            last_push_ms: r.opt_int(4)?,
            revoked: r.bool(5)?,
        })
    })
    .collect()
}

pub fn held(db: &mut dyn Db) -> Result<Vec<HeldInfo>, StorageError> {
    db.rows(
        "SELECT h.id, coalesce(d.name, ''), h.origin, h.seq, h.reason, h.detail,
             h.held_ms, h.tbl, h.row, h.field
         FROM held h LEFT JOIN device d ON d.id = h.device ORDER BY h.id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(HeldInfo {
            id: r.int(0)?,
            device: r.text(1)?,
            origin: r.uuid(2)?,
            seq: r.int(3)?,
            reason: r.text(4)?,
            detail: r.text(5)?,
            held_ms: r.int(6)?,
            table: Table::from_code(r.int(7)?)
                .map_or("?", Table::label)
                .to_owned(),
            row: r.uuid(8)?,
            field: r.text(9)?,
        })
    })
    .collect()
}

pub fn counts(db: &mut dyn Db) -> Result<StorageCounts, StorageError> {
    Ok(StorageCounts {
        ops: db.one_int("SELECT count(*) FROM op", &[])?,
        feed_entries: db.one_int("SELECT count(*) FROM feed", &[])?,
        pending_ops: db.one_int(
            // A join, not `NOT IN (subquery)`: PostgreSQL runs that row by row once the feed
            // outgrows work_mem (hours on a province).
            "SELECT count(*) FROM op o LEFT JOIN feed f ON f.op = o.key WHERE f.op IS NULL",
            &[],
        )?,
        held_ops: db.one_int("SELECT count(*) FROM held", &[])?,
    })
}
