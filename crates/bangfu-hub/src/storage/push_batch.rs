//! A push stored in few statements: the scope index rows a push needs are read for all its
//! rows at once and kept for the transaction ([`RowCache`], told which rows the index changed),
//! and the push's plain ops (field edits that change nothing in the index) are inserted
//! together ([`Batch`]). So are first links ([`Fresh`]): the op that files a new row into
//! villages for the first time (a new household's village, a new member's household), the
//! commonest op that changes the index; its link, its row's villages and the filing of the
//! row's history are written with the batch, in the order `store_op` would have filed them.
//! Every other op that changes the index (a move, a link naming predecessors, a row already
//! tied to others) flushes the batch and goes through `store_op`, so the index sees every
//! earlier op stored. On PostgreSQL each batch is a few statements over arrays.

use std::collections::{BTreeSet, HashMap, HashSet};

use bangfu_core::model::FieldValue;
use bangfu_core::sync::{Op, OpId};
use uuid::Uuid;

use super::StorageError;
use super::scope_index::{
    FORMER_SCOPE_MS, RowVillages, file, own_parent, pending_of, shared_helper,
};
use super::sql::{Db, Join, NewOp};
use crate::scope::Scope;

/// The villages of rows, and the villages they left, as this transaction last read or wrote
/// them. Only the index's refresh writes `row_scope` and `row_left`, and it names the rows it
/// changed ([`RowCache::forget`]).
#[derive(Debug)]
pub struct RowCache {
    since_ms: i64,
    villages: HashMap<Uuid, RowVillages>,
    left: HashMap<Uuid, BTreeSet<String>>,
}

impl RowCache {
    /// Reads the index entries of `rows` in two statements; `now_ms` sets how far back a left
    /// village still counts.
    pub fn load(
        db: &mut dyn Db,
        rows: impl IntoIterator<Item = Uuid>,
        now_ms: i64,
    ) -> Result<RowCache, StorageError> {
        let mut cache = RowCache {
            since_ms: now_ms - FORMER_SCOPE_MS,
            villages: HashMap::new(),
            left: HashMap::new(),
        };
        let rows: Vec<Uuid> = rows
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        cache.read(db, &rows)?;
        Ok(cache)
    }

    fn read(&mut self, db: &mut dyn Db, rows: &[Uuid]) -> Result<(), StorageError> {
        if rows.is_empty() {
            return Ok(());
        }
        db.touch(rows);
        for row in rows {
            self.villages.insert(*row, RowVillages::default());
            self.left.insert(*row, BTreeSet::new());
        }
        for (row, village, shared) in db.row_scopes(rows)? {
            let entry = self.villages.entry(row).or_default();
            if shared {
                entry.shared.insert(village);
            } else {
                entry.own.insert(village);
            }
        }
        for (row, village) in db.rows_left(rows, self.since_ms)? {
            self.left.entry(row).or_default().insert(village);
        }
        Ok(())
    }

    /// A row's villages now.
    pub fn villages(&mut self, db: &mut dyn Db, row: Uuid) -> Result<RowVillages, StorageError> {
        if !self.villages.contains_key(&row) {
            self.read(db, &[row])?;
        }
        Ok(self.villages.get(&row).cloned().unwrap_or_default())
    }

    /// The villages a row left within [`FORMER_SCOPE_MS`].
    pub fn former(&mut self, db: &mut dyn Db, row: Uuid) -> Result<BTreeSet<String>, StorageError> {
        if !self.left.contains_key(&row) {
            self.read(db, &[row])?;
        }
        Ok(self.left.get(&row).cloned().unwrap_or_default())
    }

    /// Notes the villages a link of known effect added to a row (own or shared).
    fn joined(&mut self, row: Uuid, villages: &BTreeSet<String>, shared: bool) {
        let entry = self.villages.entry(row).or_default();
        if shared {
            entry.shared.extend(villages.iter().cloned());
        } else {
            entry.own.extend(villages.iter().cloned());
        }
    }

    /// Drops rows whose index entries the transaction changed: read again when asked.
    pub fn forget(&mut self, rows: &[Uuid]) {
        for row in rows {
            self.villages.remove(row);
            self.left.remove(row);
        }
    }
}

/// What a push knows of the ties between its rows, to tell a link whose effect on the index
/// is known from one that needs the index's full refresh (`store_op`).
#[derive(Debug)]
pub struct Fresh {
    /// Rows a live link or a village code ties to others, in the hub or earlier in the push
    /// (a superset: an op stored by `store_op` marks every row it names).
    tied: HashSet<Uuid>,
    /// Of those, rows that are a live link's parent or a village row (a superset likewise).
    parents: HashSet<Uuid>,
    /// Seqs of the pusher's origin the hub already stores or a stored link names as a
    /// predecessor: their links are not simply live.
    known: HashSet<i64>,
}

/// What a link does to the index when [`Fresh`] knows it: its child joins `villages` (own, or
/// shared when the link shares a helper); nothing else changes.
#[derive(Debug)]
pub struct Effect {
    child: Uuid,
    parent: Uuid,
    shared: bool,
    villages: BTreeSet<String>,
}

impl Effect {
    /// The row whose villages the link changes (the new row, or the helper it shares).
    pub fn moved_row(&self) -> Uuid {
        self.child
    }
}

impl Fresh {
    /// Reads, in two statements, what the hub ties to the rows of the ops after `stored`;
    /// nothing when none of them is a link [`Fresh::link`] could know (a laptop's field edits).
    pub fn load(
        db: &mut dyn Db,
        origin: Uuid,
        stored: i64,
        ops: &[Op],
    ) -> Result<Fresh, StorageError> {
        let mut fresh = Fresh {
            tied: HashSet::new(),
            parents: HashSet::new(),
            known: HashSet::new(),
        };
        let new = || ops.iter().filter(|op| op.id.seq > stored);
        if !new().any(|op| own_parent(op).is_some() || shared_helper(op).is_some()) {
            return Ok(fresh);
        }
        let rows: BTreeSet<Uuid> = new()
            .flat_map(|op| {
                std::iter::once(op.row)
                    .chain(own_parent(op))
                    .chain(shared_helper(op))
            })
            .collect();
        let rows: Vec<Uuid> = rows.into_iter().collect();
        for (row, parent) in db.rows_linked(&rows)? {
            fresh.tied.insert(row);
            if parent {
                fresh.parents.insert(row);
            }
        }
        fresh.known = db.seqs_known(origin, stored)?.into_iter().collect();
        Ok(fresh)
    }

    /// The effect of `op` on the index when it is simple to know (`before`: its row's
    /// villages as `admit` read them), as `scope_index::refresh` would find it:
    /// - a first link: it sets its row's parent and the row has no village, none it left, no
    ///   live link and no child, while the parent has villages: the row's villages become the
    ///   parent's own;
    /// - a helper shared by a row (a pairing's or visit's `helper_id`) that is no parent and no
    ///   village row: the helper's shared villages gain the row's own (its index entries are
    ///   what its links say, so only the new link's villages can be new).
    ///
    /// Either names no predecessor and is not already stored. `None` for every other op.
    pub fn link(
        &mut self,
        db: &mut dyn Db,
        cache: &mut RowCache,
        op: &Op,
        before: &RowVillages,
    ) -> Result<Option<Effect>, StorageError> {
        if !op.preds.is_empty() || self.known.contains(&op.id.seq) {
            return Ok(None);
        }
        if let Some(parent) = own_parent(op) {
            if self.tied.contains(&op.row)
                || !before.own.is_empty()
                || !before.shared.is_empty()
                || !cache.former(db, op.row)?.is_empty()
            {
                return Ok(None);
            }
            let villages = cache.villages(db, parent)?.own;
            if villages.is_empty() {
                return Ok(None);
            }
            self.tied.extend([op.row, parent]);
            self.parents.insert(parent);
            cache.joined(op.row, &villages, false);
            return Ok(Some(Effect {
                child: op.row,
                parent,
                shared: false,
                villages,
            }));
        }
        if let Some(helper) = shared_helper(op) {
            if self.parents.contains(&helper) {
                return Ok(None);
            }
            let had = cache.villages(db, helper)?.shared;
            let villages: BTreeSet<String> = before.own.difference(&had).cloned().collect();
            self.tied.extend([op.row, helper]);
            self.parents.insert(op.row);
            cache.joined(helper, &villages, true);
            return Ok(Some(Effect {
                child: helper,
                parent: op.row,
                shared: true,
                villages,
            }));
        }
        Ok(None)
    }

    /// Notes an op stored by `store_op`: the rows it names may be tied from now on.
    pub fn stored(&mut self, op: &Op) {
        let mut rows = vec![op.row];
        if let FieldValue::Bytes(bytes) = &op.value
            && let Ok(target) = Uuid::from_slice(bytes)
        {
            rows.push(target);
        }
        self.tied.extend(rows.iter().copied());
        self.parents.extend(rows);
    }
}

/// An admitted op waiting to be stored.
#[derive(Debug)]
struct Queued<'a> {
    op: &'a Op,
    pending: Option<&'a Scope>,
    /// Its row's villages when it was admitted.
    before: RowVillages,
    /// A link's known effect ([`Fresh::link`]).
    effect: Option<Effect>,
}

/// Admitted plain ops and links of known effect waiting to be stored, in push order.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    ops: Vec<Queued<'a>>,
}

/// Ops per batch statement at most (PostgreSQL binds arrays, so this only bounds memory).
const BATCH: usize = 2_000;

impl<'a> Batch<'a> {
    /// Queues a plain `op` (admitted; `before` its row's villages, `pending` as for
    /// `store_op`).
    pub fn plain(
        &mut self,
        db: &mut dyn Db,
        op: &'a Op,
        pending: Option<&'a Scope>,
        before: RowVillages,
    ) -> Result<(), StorageError> {
        self.queue(db, op, pending, before, None)
    }

    /// Queues a link of known effect ([`Fresh::link`]).
    pub fn link(
        &mut self,
        db: &mut dyn Db,
        op: &'a Op,
        pending: Option<&'a Scope>,
        before: RowVillages,
        effect: Effect,
    ) -> Result<(), StorageError> {
        self.queue(db, op, pending, before, Some(effect))
    }

    fn queue(
        &mut self,
        db: &mut dyn Db,
        op: &'a Op,
        pending: Option<&'a Scope>,
        before: RowVillages,
        effect: Option<Effect>,
    ) -> Result<(), StorageError> {
        self.ops.push(Queued {
            op,
            pending,
            before,
            effect,
        });
        if self.ops.len() >= BATCH {
            self.flush(db)?;
        }
        Ok(())
    }

    /// Stores the queued ops as `store_op` would one by one: inserted (an op already stored is
    /// skipped), their predecessors marked superseded, first links recorded with their rows'
    /// villages, and the feed entries appended in the order `store_op` appends them: each op
    /// into its row's villages, and at a first link the row's stored ops up to the link, in
    /// key order, into each village it joins.
    pub fn flush(&mut self, db: &mut dyn Db) -> Result<(), StorageError> {
        if self.ops.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.ops);
        let new: Vec<NewOp<'_>> = ops
            .iter()
            .map(|q| NewOp::new(q.op, pending_of(q.op, q.pending)))
            .collect();
        let keys = db.insert_ops(&new)?;
        let superseded: Vec<OpId> = ops
            .iter()
            .zip(&keys)
            .filter(|(_, key)| key.is_some())
            .flat_map(|(q, _)| q.op.preds.iter().copied())
            .collect();
        db.insert_superseded(&superseded)?;
        let mut joins = Vec::new();
        for (q, key) in ops.iter().zip(&keys) {
            if let Some(effect) = &q.effect {
                if key.is_none() {
                    // `Fresh` ruled out the seqs this transaction sees stored: the op was stored
                    // by a concurrent one (the same push sent again through another process).
                    // PostgreSQL reports that as a serialization failure before we get here;
                    // should it not, the transaction runs again, sees the op and skips it.
                    return Err(StorageError::Concurrent(format!(
                        "op {}/{} stored by another transaction",
                        q.op.id.origin, q.op.id.seq
                    )));
                }
                joins.push(Join {
                    op: q.op,
                    child: effect.child,
                    parent: effect.parent,
                    shared: effect.shared,
                    villages: effect.villages.iter().cloned().collect(),
                });
            }
        }
        db.insert_joins(&joins)?;
        let rows: Vec<Uuid> = joins
            .iter()
            .filter(|j| !j.villages.is_empty())
            .map(|j| j.child)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut history: HashMap<Uuid, Vec<(i64, i64, Option<String>)>> = HashMap::new();
        for (row, key, table, pending) in db.ops_of_rows(&rows)? {
            history.entry(row).or_default().push((key, table, pending));
        }
        for (q, key) in ops.iter().zip(keys) {
            let Some(key) = key else { continue };
            let pending = pending_of(q.op, q.pending);
            for village in &q.before.own {
                file(db, key, q.op.table, pending, village, false)?;
            }
            for village in &q.before.shared {
                file(db, key, q.op.table, pending, village, true)?;
            }
            if let Some(effect) = &q.effect {
                let ops = history.get(&effect.child).map_or(&[][..], Vec::as_slice);
                for (op, table, pending) in ops.iter().filter(|(op, _, _)| *op <= key) {
                    for village in &effect.villages {
                        file(db, *op, *table, pending.as_deref(), village, effect.shared)?;
                    }
                }
            }
        }
        Ok(())
    }
}
