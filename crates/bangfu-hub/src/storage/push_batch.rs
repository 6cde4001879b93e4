//! A push stored in few statements: the scope index rows a push needs are read for all its
//! rows at once and kept for the transaction ([`RowCache`], told which rows the index changed),
//! and the push's plain ops (field edits that change nothing in the index) are inserted
//! together ([`PlainOps`]), flushed before any op that changes the index so the index sees
//! every earlier op stored. On PostgreSQL each batch is one statement over arrays.

use std::collections::{BTreeSet, HashMap};

use bangfu_core::sync::{Op, OpId};
use uuid::Uuid;

use super::StorageError;
use super::scope_index::{FORMER_SCOPE_MS, RowVillages, file, pending_of};
use super::sql::{Db, NewOp};
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

    /// Drops rows whose index entries the transaction changed: read again when asked.
    pub fn forget(&mut self, rows: &[Uuid]) {
        for row in rows {
            self.villages.remove(row);
            self.left.remove(row);
        }
    }
}

/// Admitted plain ops waiting to be stored, in push order.
#[derive(Debug, Default)]
pub struct PlainOps<'a> {
    ops: Vec<(&'a Op, Option<&'a Scope>, RowVillages)>,
}

/// Ops per batch statement at most (PostgreSQL binds arrays, so this only bounds memory).
const BATCH: usize = 2_000;

impl<'a> PlainOps<'a> {
    /// Queues `op` (admitted; `before` its row's villages, `pending` as for `store_op`).
    pub fn push(
        &mut self,
        db: &mut dyn Db,
        op: &'a Op,
        pending: Option<&'a Scope>,
        before: RowVillages,
    ) -> Result<(), StorageError> {
        self.ops.push((op, pending, before));
        if self.ops.len() >= BATCH {
            self.flush(db)?;
        }
        Ok(())
    }

    /// Stores the queued ops as `store_op` would one by one: inserted (an op already stored is
    /// skipped), their predecessors marked superseded, each filed into its row's villages in
    /// push order.
    pub fn flush(&mut self, db: &mut dyn Db) -> Result<(), StorageError> {
        if self.ops.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.ops);
        let new: Vec<NewOp<'_>> = ops
            .iter()
            .map(|(op, pending, _)| NewOp::new(op, pending_of(op, *pending)))
            .collect();
        let keys = db.insert_ops(&new)?;
        let superseded: Vec<OpId> = ops
            .iter()
            .zip(&keys)
            .filter(|(_, key)| key.is_some())
            .flat_map(|((op, _, _), _)| op.preds.iter().copied())
            .collect();
        db.insert_superseded(&superseded)?;
        for ((op, pending, before), key) in ops.iter().zip(keys) {
            let Some(key) = key else { continue };
            let pending = pending_of(op, *pending);
            for village in &before.own {
                file(db, key, op.table, pending, village, false)?;
            }
            for village in &before.shared {
                file(db, key, op.table, pending, village, true)?;
            }
        }
        Ok(())
    }
}
