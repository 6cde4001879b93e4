//! The local write path: turns a user's changes into field ops (one per changed field, with the
//! heads the user saw as predecessors) and applies them like any other ops.

use rusqlite::TransactionBehavior;
use serde::Serialize;
use uuid::Uuid;

use super::apply::{Applier, ApplyStats, HeadView};
use super::{Store, StoreError};
use crate::model::{DELETED_FIELD, FieldValue, Table};
use crate::sync::{Op, OpId};

/// One change a user (or an import, or a generator) makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets fields of a row, creating it if new. Fields whose shown value is already the
    /// given one write nothing.
    Put {
        table: Table,
        id: Uuid,
        fields: Vec<(&'static str, FieldValue)>,
    },
    Delete {
        table: Table,
        id: Uuid,
    },
    Restore {
        table: Table,
        id: Uuid,
    },
    /// Settles a review item: the value supersedes every head of the field.
    Resolve {
        table: Table,
        id: Uuid,
        field: String,
        value: FieldValue,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WriteOutcome {
    /// Ops appended to the op log by this write.
    pub ops: u64,
    pub stats: ApplyStats,
}

/// Empty text is stored as no value, so clearing a field and never filling it look the same.
fn normalize(value: &FieldValue) -> FieldValue {
    match value {
        FieldValue::Text(t) if t.is_empty() => FieldValue::Null,
        other => other.clone(),
    }
}

impl Store {
    /// Writes changes in one transaction. Nothing is written if any change fails.
    pub fn write(&mut self, changes: &[Change]) -> Result<WriteOutcome, StoreError> {
        let result = self.write_inner(changes);
        if result.is_err() {
            self.dict.clear();
        }
        result
    }

    fn write_inner(&mut self, changes: &[Change]) -> Result<WriteOutcome, StoreError> {
        let wall = self.wall_ms();
        let device = self.device.id;
        let mut clock = self.clock;
        let mut seq = self.last_seq;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut applier = Applier::new(&tx, &mut self.dict, &mut clock, wall)?;
        let mut next_op = |applier: &mut Applier<'_>,
                           table: Table,
                           row: Uuid,
                           field: &str,
                           value: FieldValue,
                           preds: Vec<OpId>,
                           seen: Vec<OpId>|
         -> rusqlite::Result<()> {
            seq += 1;
            let op = Op {
                id: OpId {
                    origin: device,
                    seq,
                },
                hlc: applier.tick(),
                table: table.code(),
                row,
                field: field.to_owned(),
                value,
                preds,
                seen,
            };
            applier.apply(op).map(|_| ())
        };
        for change in changes {
            match change {
                Change::Put { table, id, fields } => {
                    let deleted = applier.field_heads(*id, table.code(), DELETED_FIELD)?;
                    if is_deleted(&deleted) {
                        return Err(StoreError::Deleted {
                            table: table.label(),
                            id: *id,
                        });
                    }
                    for (name, value) in fields {
                        if table.field(name).is_none() {
                            return Err(StoreError::UnknownField {
                                table: table.label(),
                                field: (*name).to_owned(),
                            });
                        }
                        let value = normalize(value);
                        let heads = applier.field_heads(*id, table.code(), name)?;
                        let unchanged = match HeadView::shown(&heads) {
                            Some(shown) => shown.value == value,
                            None => value.is_null(),
                        };
                        if unchanged {
                            continue;
                        }
                        let preds = heads.iter().map(|h| h.id).collect();
                        next_op(&mut applier, *table, *id, name, value, preds, Vec::new())?;
                    }
                }
                Change::Delete { table, id } => {
                    let row = applier.row_heads(*id)?;
                    if row.is_empty() {
                        return Err(StoreError::NotFound {
                            table: table.label(),
                            id: *id,
                        });
                    }
                    let preds = row
                        .iter()
                        .filter(|(f, _)| f == DELETED_FIELD)
                        .map(|(_, op)| *op)
                        .collect();
                    let seen = row
                        .iter()
                        .filter(|(f, _)| f != DELETED_FIELD)
                        .map(|(_, op)| *op)
                        .collect();
                    next_op(
                        &mut applier,
                        *table,
                        *id,
                        DELETED_FIELD,
                        FieldValue::Int(1),
                        preds,
                        seen,
                    )?;
                }
                Change::Restore { table, id } => {
                    let heads = applier.field_heads(*id, table.code(), DELETED_FIELD)?;
                    let preds = heads.iter().map(|h| h.id).collect();
                    next_op(
                        &mut applier,
                        *table,
                        *id,
                        DELETED_FIELD,
                        FieldValue::Int(0),
                        preds,
                        Vec::new(),
                    )?;
                }
                Change::Resolve {
                    table,
                    id,
                    field,
                    value,
                } => {
                    if field != DELETED_FIELD && table.field(field).is_none() {
                        return Err(StoreError::UnknownField {
                            table: table.label(),
                            field: field.clone(),
                        });
                    }
                    let heads = applier.field_heads(*id, table.code(), field)?;
                    let preds = heads.iter().map(|h| h.id).collect();
                    // Keeping a delete means the deleter has now seen every edit of the row.
                    let seen = if field == DELETED_FIELD && *value == FieldValue::Int(1) {
                        let row = applier.row_heads(*id)?;
                        row.into_iter()
                            .filter(|(f, _)| f != DELETED_FIELD)
                            .map(|(_, op)| op)
                            .collect()
                    } else {
                        Vec::new()
                    };
                    next_op(
                        &mut applier,
                        *table,
                        *id,
                        field,
                        normalize(value),
                        preds,
                        seen,
                    )?;
                }
            }
        }
        let stats = applier.finish()?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?1)",
            [clock.last().to_i64()],
        )?;
        tx.commit()?;
        // The clock and sequence advance only once the ops are durable, so a failed write
        // leaves no gap in this device's sequence and no clock ahead of the data.
        let ops = (seq - self.last_seq) as u64;
        self.clock = clock;
        self.last_seq = seq;
        self.record_identity()?;
        Ok(WriteOutcome { ops, stats })
    }

    /// Applies ops written elsewhere, in one transaction; ops already held change nothing.
    pub fn apply_remote(&mut self, ops: &[Op]) -> Result<ApplyStats, StoreError> {
        self.apply_remote_stream(ops.iter().cloned().map(Ok::<Op, StoreError>))
    }

    /// Applies a stream of ops in one transaction, holding only a bounded number of rows in
    /// memory at a time. The first error (a malformed op from the stream, or the store's)
    /// rolls everything back.
    pub fn apply_remote_stream<E: From<StoreError>>(
        &mut self,
        ops: impl Iterator<Item = Result<Op, E>>,
    ) -> Result<ApplyStats, E> {
        let result = self.apply_remote_inner(ops);
        if result.is_err() {
            self.dict.clear();
        }
        result
    }

    fn apply_remote_inner<E: From<StoreError>>(
        &mut self,
        ops: impl Iterator<Item = Result<Op, E>>,
    ) -> Result<ApplyStats, E> {
        let wall = self.wall_ms();
        let mut clock = self.clock;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut applier =
            Applier::new(&tx, &mut self.dict, &mut clock, wall).map_err(StoreError::from)?;
        for op in ops {
            applier.apply(op?).map_err(StoreError::from)?;
            if applier.pending_rows() >= self.merge_rows_in_memory {
                applier.flush().map_err(StoreError::from)?;
            }
        }
        let stats = applier.finish().map_err(StoreError::from)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?1)",
            [clock.last().to_i64()],
        )
        .map_err(StoreError::from)?;
        tx.commit().map_err(StoreError::from)?;
        self.clock = clock;
        Ok(stats)
    }
}

fn is_deleted(heads: &[HeadView]) -> bool {
    matches!(
        HeadView::shown(heads).map(|h| &h.value),
        Some(FieldValue::Int(1))
    )
}
