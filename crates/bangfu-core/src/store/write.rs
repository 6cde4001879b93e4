//! The local write path: turns a user's changes into field ops (one per changed field, with the
//! heads the user saw as predecessors) and applies them like any other ops.

use rusqlite::TransactionBehavior;
use serde::Serialize;
use uuid::Uuid;

use super::apply::{Applier, ApplyStats, HeadView};
use super::{Store, StoreError};
use crate::access::Permission;
use crate::model::{DELETED_FIELD, FieldValue, Table, codes};
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
    /// Sets fields of a row against the heads a page loaded (a stale page's save): each value
    /// names the field's heads as loaded as predecessors, so an edit that arrived since stays a
    /// head beside it (a review item) instead of being overwritten. A field whose every head
    /// already holds the value writes nothing. The row was live when loaded: an edit of a row
    /// deleted since is written, and the delete's `seen` list makes it a review item.
    PutOver {
        table: Table,
        id: Uuid,
        fields: Vec<(&'static str, FieldValue, Vec<OpId>)>,
    },
    /// Deletes a row naming only the heads a page loaded: `preds` the `deleted` field's, `seen`
    /// every other field's. An edit of the row the page never saw makes a review item. A row
    /// already deleted writes nothing.
    DeleteSeen {
        table: Table,
        id: Uuid,
        preds: Vec<OpId>,
        seen: Vec<OpId>,
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

/// Who writes. Only the exit procedure changes a filed household's 脱贫状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// The household page, the command line, an import, a generator.
    Person,
    /// `exit::procedure`: 县审定销号 and 返贫.
    ExitProcedure,
}

/// 脱贫状态 (`household.poverty_status`): set when a household is filed; after that a household
/// leaves the filed list, or returns to it, only through the signed steps of the exit
/// procedure. Ops from other devices are not checked here: their own device's procedure wrote
/// them, and a merge must never fail on them.
const EXIT_STATUS_FIELD: &str = "poverty_status";

/// The memory a merge's rows may take before they are materialized (besides the row count the
/// store sets): with the page cache and a bulk load's held heads, a merge's peak stays about
/// 230 MB whatever the file's size (issue 20; 72 MB measured slower on the county, 2.40 times
/// a plain insert against 2.18).
const MERGE_BYTES_IN_MEMORY: usize = 48 << 20;
/// 未脱贫: the one value a person may give a status that was never filled.
const NOT_EXITED: &str = "1";

fn is_exit_status(table: Table, field: &str) -> bool {
    table == Table::Household && field == EXIT_STATUS_FIELD
}

fn status_label(value: Option<&FieldValue>) -> String {
    match value {
        Some(FieldValue::Text(code)) => codes::POVERTY_STATUS
            .label(code)
            .map_or_else(|| code.clone(), str::to_owned),
        _ => "未填".into(),
    }
}

/// Empty text is stored as no value, so clearing a field and never filling it look the same.
fn normalize(value: &FieldValue) -> FieldValue {
    match value {
        FieldValue::Text(t) if t.is_empty() => FieldValue::Null,
        other => other.clone(),
    }
}

impl Store {
    /// Writes changes in one transaction without checking the records they leave behind: for
    /// the core's own entry points that checked them first (the household page, filing,
    /// imports, the exit procedure) and for generators. Everyone else writes through
    /// [`Store::write`], which checks. Nothing is written if any change fails. A household's
    /// 脱贫状态 is refused here once filed (see [`EXIT_STATUS_FIELD`]).
    /// Takes back a county-set row (a 脱贫标准 or a policy) so the shipped one applies again;
    /// `false` when there was none. Who may: [`Permission::ChangeSettings`].
    pub(crate) fn clear_county_row(&mut self, table: Table, id: Uuid) -> Result<bool, StoreError> {
        self.require(Permission::ChangeSettings)?;
        // The table is one of the catalogue's own (its SQL name is fixed), never input.
        let live: bool = self.conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE id = ?1 AND deleted = 0)",
                table.sql_name()
            ),
            [id.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        if live {
            self.write_unchecked(&[Change::Delete { table, id }])?;
        }
        Ok(live)
    }

    /// Writes a county row (a year's 脱贫标准, a policy, a county setting) whose id derives
    /// from its key: one taken back before (`clear_county_row`, on this copy or another) is
    /// restored in the same write, since setting it again is the county's choice; otherwise
    /// the write would be refused as an edit of a deleted row, and the key could never be set
    /// again anywhere in the county.
    pub(crate) fn put_county_row(&mut self, change: Change) -> Result<WriteOutcome, StoreError> {
        let Change::Put { table, id, .. } = &change else {
            return self.write_unchecked(&[change]);
        };
        let (table, id) = (*table, *id);
        // The table is one of the catalogue's own (its SQL name is fixed), never input.
        let deleted: bool = self.conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE id = ?1 AND deleted = 1)",
                table.sql_name()
            ),
            [id.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        if deleted {
            self.write_unchecked(&[Change::Restore { table, id }, change])
        } else {
            self.write_unchecked(&[change])
        }
    }

    pub(crate) fn write_unchecked(
        &mut self,
        changes: &[Change],
    ) -> Result<WriteOutcome, StoreError> {
        self.write_as(Writer::Person, changes)
    }

    /// The exit procedure's writes: like [`Store::write_unchecked`], and may change 脱贫状态.
    pub(crate) fn write_by_exit_procedure(
        &mut self,
        changes: &[Change],
    ) -> Result<WriteOutcome, StoreError> {
        self.write_as(Writer::ExitProcedure, changes)
    }

    fn write_as(&mut self, writer: Writer, changes: &[Change]) -> Result<WriteOutcome, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnlyView);
        }
        // Every local write is someone's filing (只读 writes nothing); the exit procedure's
        // entry points check exit steps themselves, and so does this for its writes.
        self.require(match writer {
            Writer::Person => Permission::FileHouseholds,
            Writer::ExitProcedure => Permission::ExitSteps,
        })?;
        let result = self.write_inner(writer, changes);
        if result.is_err() {
            self.dict.clear();
        }
        result
    }

    fn write_inner(
        &mut self,
        writer: Writer,
        changes: &[Change],
    ) -> Result<WriteOutcome, StoreError> {
        let wall = self.wall_ms();
        let device = self.device.id;
        let mut clock = self.clock;
        let _writer = self.writer_lock()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The device's next seq is read inside the write transaction, never remembered from
        // the open: another program (or another connection of this one) may have written
        // under the same identity since, and a seq taken twice would make two different ops
        // with one id.
        let first_seq: i64 = tx.query_row(
            "SELECT coalesce(max(seq), 0) FROM op WHERE origin = ?1",
            [self.device.idx],
            |r| r.get(0),
        )?;
        let mut seq = first_seq;
        let rows_in_memory = self.merge_rows_in_memory;
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
            // A whole roll imported in one transaction holds no more rows in memory than a
            // merge does.
            if applier.pending_rows() >= rows_in_memory {
                applier.flush()?;
            }
            match change {
                Change::Put { table, id, fields } => {
                    let deleted = applier.field_heads(*id, table.code(), DELETED_FIELD)?;
                    if is_deleted(&deleted) {
                        return Err(StoreError::Deleted {
                            table: table.label(),
                            id: *id,
                        });
                    }
                    // Filing a new household sets its status; the row's newness is read
                    // before any of this change's own ops land.
                    let guarded = writer == Writer::Person
                        && fields.iter().any(|(name, _)| is_exit_status(*table, name));
                    let new_row = guarded && !applier.has_heads(*id)?;
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
                        if guarded && is_exit_status(*table, name) && !new_row {
                            let shown = HeadView::shown(&heads).map(|h| &h.value);
                            let filling = shown.is_none_or(FieldValue::is_null)
                                && value == FieldValue::Text(NOT_EXITED.into());
                            if !filling {
                                return Err(StoreError::ExitStatusByProcedure {
                                    from: status_label(shown),
                                    to: status_label(Some(&value)),
                                });
                            }
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
                Change::PutOver { table, id, fields } => {
                    for (name, value, loaded) in fields {
                        if table.field(name).is_none() {
                            return Err(StoreError::UnknownField {
                                table: table.label(),
                                field: (*name).to_owned(),
                            });
                        }
                        let value = normalize(value);
                        let heads = applier.field_heads(*id, table.code(), name)?;
                        let settled = if heads.is_empty() {
                            value.is_null()
                        } else {
                            heads.iter().all(|h| h.value == value)
                        };
                        if settled {
                            continue;
                        }
                        if writer == Writer::Person && is_exit_status(*table, name) {
                            let shown = HeadView::shown(&heads).map(|h| &h.value);
                            let filling = shown.is_none_or(FieldValue::is_null)
                                && value == FieldValue::Text(NOT_EXITED.into());
                            if !filling {
                                return Err(StoreError::ExitStatusByProcedure {
                                    from: status_label(shown),
                                    to: status_label(Some(&value)),
                                });
                            }
                        }
                        next_op(
                            &mut applier,
                            *table,
                            *id,
                            name,
                            value,
                            loaded.clone(),
                            Vec::new(),
                        )?;
                    }
                }
                Change::DeleteSeen {
                    table,
                    id,
                    preds,
                    seen,
                } => {
                    if !applier.has_heads(*id)? {
                        return Err(StoreError::NotFound {
                            table: table.label(),
                            id: *id,
                        });
                    }
                    let deleted = applier.field_heads(*id, table.code(), DELETED_FIELD)?;
                    if !deleted.is_empty() && deleted.iter().all(|h| h.value == FieldValue::Int(1))
                    {
                        continue;
                    }
                    next_op(
                        &mut applier,
                        *table,
                        *id,
                        DELETED_FIELD,
                        FieldValue::Int(1),
                        preds.clone(),
                        seen.clone(),
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
                    // Settling a conflict of 脱贫状态 keeps one of the versions that arrived
                    // (each written by some device's procedure), never a new value.
                    let value_kept = normalize(value);
                    if writer == Writer::Person
                        && is_exit_status(*table, field)
                        && !heads.iter().any(|h| h.value == value_kept)
                    {
                        return Err(StoreError::ExitStatusByProcedure {
                            from: status_label(HeadView::shown(&heads).map(|h| &h.value)),
                            to: status_label(Some(&value_kept)),
                        });
                    }
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
                    next_op(&mut applier, *table, *id, field, value_kept, preds, seen)?;
                }
            }
        }
        let stats = applier.finish()?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?1)",
            [clock.last().to_i64()],
        )?;
        // Signing hook (issue 15): the batch first_seq+1..=seq, signed in its transaction.
        super::device_keys::sign_write_batch(
            &tx,
            &self.device,
            first_seq + 1,
            seq,
            wall,
            self.actor.as_ref().map(|a| a.name.as_str()),
        )?;
        // Who was signed in, beside the signature: the history of a field names the person.
        super::people::record_author(
            &tx,
            self.device.idx,
            self.actor.as_ref(),
            first_seq + 1,
            seq,
        )?;
        tx.commit()?;
        // The clock and sequence advance only once the ops are durable, so a failed write
        // leaves no gap in this device's sequence and no clock ahead of the data.
        let ops = (seq - first_seq) as u64;
        self.clock = clock;
        self.last_seq = seq;
        self.record_identity()?;
        Ok(WriteOutcome { ops, stats })
    }

    /// Applies ops written elsewhere, in one transaction; ops already held change nothing.
    pub fn apply_remote(&mut self, ops: &[Op]) -> Result<ApplyStats, StoreError> {
        self.apply_remote_stream(
            ops.iter().cloned().map(Ok::<Op, StoreError>),
            ops.len() as u64,
        )
    }

    /// Takes out of the log, now, the ops a device key that gave way signed (they wait in
    /// `withdraw_pending` for the next apply otherwise): after a person or the county put
    /// another key in its place. How many ops it took out.
    pub fn settle_withdrawn(&mut self) -> Result<u64, StoreError> {
        let waiting: bool =
            self.conn
                .query_row("SELECT EXISTS (SELECT 1 FROM withdraw_pending)", [], |r| {
                    r.get(0)
                })?;
        if !waiting || self.read_only {
            return Ok(0);
        }
        Ok(self.apply_remote(&[])?.withdrawn)
    }

    /// Applies a stream of ops in one transaction, holding only a bounded number of rows in
    /// memory at a time. The first error (a malformed op from the stream, or the store's)
    /// rolls everything back. `expected` is how many ops the stream says it holds: a large
    /// stream into a copy that holds no rows yet (a new laptop set up from a whole county, a
    /// station's first merge) builds its table indexes once at the end instead of row by row.
    pub fn apply_remote_stream<E: From<StoreError>>(
        &mut self,
        ops: impl Iterator<Item = Result<Op, E>>,
        expected: u64,
    ) -> Result<ApplyStats, E> {
        self.apply_remote_stream_then(ops, expected, |_| Ok(()))
    }

    /// [`Store::apply_remote_stream`], then `then` in the same transaction before it commits:
    /// what an import records about where the ops came from (the peer, its device names) is
    /// kept exactly when the ops are.
    pub(crate) fn apply_remote_stream_then<E: From<StoreError>>(
        &mut self,
        ops: impl Iterator<Item = Result<Op, E>>,
        expected: u64,
        then: impl FnOnce(&rusqlite::Connection) -> Result<(), StoreError>,
    ) -> Result<ApplyStats, E> {
        // A large stream into an empty copy that no other connection has open is written
        // with a rollback journal (`alone.rs`, `Store::hold_alone_for_bulk_load`).
        let alone = self.hold_alone_for_bulk_load(expected)?;
        let result = self.apply_remote_inner(ops, expected, alone, then);
        self.share_again();
        if result.is_err() {
            self.dict.clear();
        }
        result
    }

    fn apply_remote_inner<E: From<StoreError>>(
        &mut self,
        ops: impl Iterator<Item = Result<Op, E>>,
        expected: u64,
        alone: bool,
        then: impl FnOnce(&rusqlite::Connection) -> Result<(), StoreError>,
    ) -> Result<ApplyStats, E> {
        if self.read_only {
            return Err(StoreError::ReadOnlyView.into());
        }
        let wall = self.wall_ms();
        let mut clock = self.clock;
        let _writer = self.writer_lock()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut applier =
            Applier::new(&tx, &mut self.dict, &mut clock, wall).map_err(StoreError::from)?;
        // What a key that gave way signed leaves the log first: its ids may be the ones the
        // device's real ops, in this very apply, hold.
        let withdrawn = applier.take_out_withdrawn().map_err(StoreError::from)?;
        for w in &withdrawn {
            super::device_keys::audit_withdrawn(&tx, self.actor.as_ref(), wall, w)?;
        }
        if !withdrawn.is_empty() {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, 1)",
                [super::hub::META_REPULL],
            )
            .map_err(StoreError::from)?;
        }
        let bulk = expected >= self.bulk_load_min_ops
            && applier
                .bulk_load(self.bulk_heads_held)
                .map_err(StoreError::from)?;
        for op in ops {
            applier.apply(op?).map_err(StoreError::from)?;
            if applier.pending_rows() >= self.merge_rows_in_memory
                || applier.pending_bytes() >= MERGE_BYTES_IN_MEMORY
            {
                applier.flush().map_err(StoreError::from)?;
            }
        }
        let mut stats = applier.finish().map_err(StoreError::from)?;
        stats.withdrawn = withdrawn.iter().map(|w| w.ops).sum();
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?1)",
            [clock.last().to_i64()],
        )
        .map_err(StoreError::from)?;
        then(&tx)?;
        let committing = std::time::Instant::now();
        tx.commit().map_err(StoreError::from)?;
        if bulk {
            super::apply::record_bulk_load_commit(committing.elapsed().as_secs_f64(), alone);
        }
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
