//! Applying ops to a data file: the op log, the field heads, the review queue, the
//! materialized tables and the local search and list indexes, in the caller's transaction.
//!
//! Local writes and merged changesets take this same path, so what a station sees after a
//! merge is exactly what the writer saw, whatever order the ops arrive in: heads depend only on
//! which ops are present. An op is a head unless a present op names it as a predecessor; an op
//! named before it arrives is kept in `superseded` (pending) so that it never becomes a head.

use std::collections::{BTreeMap, BTreeSet, HashSet, hash_map::Entry};
use std::sync::Mutex;
use std::time::Instant;

use rusqlite::{CachedStatement, Connection, OptionalExtension, params, params_from_iter};
use rustc_hash::FxHashMap;
use serde::Serialize;
use smallvec::SmallVec;
use uuid::Uuid;

use super::dictionary::Dictionary;
use super::heads::{self, HeadKey};
use crate::model::{DELETED_FIELD, FieldKind, FieldValue, Table};
use crate::sync::op::{decode_local_ids, encode_local_ids};
use crate::sync::{Hlc, HlcClock, Op};

mod flushed;
mod held_heads;
mod index;
mod load;
mod materialize;
mod review;
mod take_out;
mod version;
mod view;

use flushed::FlushedRows;
use held_heads::HeldHeads;
#[cfg(test)]
pub(crate) use index::fold_search_pending;
pub use index::name_initials;
pub(crate) use index::rebuild_search_indexes;
pub(crate) use take_out::Withdrawn;
#[cfg(test)]
pub(crate) const PENDING_FOLD_FOR_TESTS: i64 = index::SEARCH_PENDING_FOLD;
use index::*;
use load::*;
use version::*;
pub(crate) use view::HeadView;

/// What one apply did, for the import summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyStats {
    /// Ops new to this copy.
    pub applied: u64,
    /// Ops this copy already held (a re-imported or overlapping file).
    pub duplicates: u64,
    /// Ops stamped more than a day ahead of this machine's clock (a laptop with a wrong date).
    pub future_clock: u64,
    /// Per table label: rows that appeared and rows that changed.
    pub new_rows: BTreeMap<&'static str, u64>,
    pub changed_rows: BTreeMap<&'static str, u64>,
    /// Review items (conflicts, edits of deleted rows) touched by this apply that are open now.
    pub open_review_items: u64,
    /// Ops taken out of the log before this apply: a key that gave way signed them
    /// ([`Applier::take_out_withdrawn`]).
    pub withdrawn: u64,
}

#[derive(Debug, Clone)]
struct Head {
    origin: i64,
    seq: i64,
    hlc: Hlc,
    origin_id: Uuid,
    value: FieldValue,
    seen: Vec<(i64, i64)>,
}

/// The current heads of one field of a row.
#[derive(Debug)]
struct FieldHeads {
    field: i64,
    /// Inline: most fields have exactly one head, and a merge makes a field for every op
    /// of a new row (an allocation each was a tenth of the per-op work).
    heads: SmallVec<[Head; 1]>,
    /// Changed since the row was loaded: to materialize again.
    touched: bool,
}

#[derive(Debug)]
struct RowState {
    table: i64,
    existed: bool,
    fields: Vec<FieldHeads>,
    /// Which field numbers below 256 `fields` holds: a new row's every op adds a field, and
    /// this spares a search of the list each time.
    present: [u64; 4],
    /// The heads `row_head` holds for this row, (field, origin, seq), sorted; the entry is
    /// brought up to `fields` when the row is flushed.
    stored: Vec<HeadKey>,
    /// In a bulk load, where a row flushed before is in its table (0: in none yet): the
    /// tables' id indexes are dropped until the load ends, so the row is found by rowid.
    rowid: i64,
}

impl RowState {
    fn new(table: i64) -> Self {
        // Room only for the fields that come: a new row sets a few of its table's many fields
        // (a member a dozen or so of fifty), and room reserved for all of them was memory a
        // merge held for nothing (120 bytes a slot). The room the list grows to is counted as
        // it grows (`Applier::apply`).
        RowState {
            table,
            existed: false,
            fields: Vec::new(),
            present: [0; 4],
            stored: Vec::new(),
            rowid: 0,
        }
    }

    /// Where a field's heads are in `fields`, added (empty, untouched) when missing.
    fn field_pos(&mut self, field: i64) -> usize {
        let bit = usize::try_from(field).ok().filter(|&f| f < 256);
        let known = bit.is_none_or(|b| self.present[b / 64] & (1 << (b % 64)) != 0);
        if known && let Some(pos) = self.fields.iter().position(|f| f.field == field) {
            return pos;
        }
        if let Some(b) = bit {
            self.present[b / 64] |= 1 << (b % 64);
        }
        self.fields.push(FieldHeads {
            field,
            heads: SmallVec::new(),
            touched: false,
        });
        self.fields.len() - 1
    }

    /// Every head of every field, as (field, origin, seq), in field order.
    fn head_keys(&self) -> Vec<HeadKey> {
        let mut keys = Vec::with_capacity(self.fields.iter().map(|f| f.heads.len()).sum());
        keys.extend(
            self.fields
                .iter()
                .flat_map(|f| f.heads.iter().map(|h| (f.field, h.origin, h.seq))),
        );
        keys
    }

    fn heads(&self, field: i64) -> Option<&[Head]> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.heads.as_slice())
    }
}

/// Why an apply refuses a whole batch of ops: raised inside the applier (whose statements
/// speak `rusqlite::Error`) and turned into its own [`StoreError`] variant at the store's edge.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("op {origin}/{seq} reuses a held id with other content")]
    OpIdReused { origin: Uuid, seq: i64 },
    #[error("row {row} of table {existing} got an op of table {arriving}")]
    RowInTwoTables {
        row: Uuid,
        existing: i64,
        arriving: i64,
    },
    #[error("op {origin}/{seq} has an impossible timestamp {hlc}")]
    ImpossibleClock { origin: Uuid, seq: i64, hlc: u64 },
}

impl Refusal {
    pub(crate) fn into_store_error(self) -> super::StoreError {
        use super::StoreError;
        let label = |code: i64| Table::from_code(code).map_or("未知", |t| t.label());
        match self {
            Refusal::OpIdReused { origin, seq } => StoreError::OpIdReused { origin, seq },
            Refusal::RowInTwoTables {
                row,
                existing,
                arriving,
            } => StoreError::RowInTwoTables {
                row,
                existing: label(existing),
                arriving: label(arriving),
            },
            Refusal::ImpossibleClock { origin, seq, hlc } => {
                StoreError::ImpossibleClock { origin, seq, hlc }
            }
        }
    }
}

impl From<Refusal> for rusqlite::Error {
    fn from(refusal: Refusal) -> Self {
        rusqlite::Error::ToSqlConversionFailure(Box::new(refusal))
    }
}

/// Two values are the same op content: reals compared bit for bit.
fn same_value(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::Real(x), FieldValue::Real(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// The head whose value is shown: greatest (HLC, origin device id).
fn winner(heads: &[Head]) -> Option<&Head> {
    heads
        .iter()
        .max_by(|a, b| (a.hlc, a.origin_id).cmp(&(b.hlc, b.origin_id)))
}

/// Where a field number lands in its materialized table.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Deleted,
    /// Index into the table's field catalog.
    Column(usize),
    /// A field this version does not know: it stays in the op log and the heads; a later
    /// version materializes it after its migration adds the column.
    Unknown,
}

/// About what a row held in memory costs before its ops: its state, room for its fields, the
/// heads loaded from the file with their values' text, and its place in the index.
fn row_bytes(state: &RowState) -> usize {
    std::mem::size_of::<(Uuid, RowState)>()
        + state.fields.capacity() * std::mem::size_of::<FieldHeads>()
        + state.stored.capacity() * std::mem::size_of::<HeadKey>()
        + state
            .fields
            .iter()
            .flat_map(|f| &f.heads)
            .map(|h| value_heap(&h.value) + h.seen.len() * 16)
            .sum::<usize>()
        + 48
}

/// About what one op held in memory costs: its head, its value's text or bytes and the heads
/// it saw, with the allocator's rounding (also what an import's reader weighs its chunks by).
pub(crate) fn op_bytes(value: &FieldValue, seen: usize) -> usize {
    std::mem::size_of::<Head>() + value_heap(value) + seen * 16 + 16
}

/// What a value's text or bytes take on the heap, with the allocator's rounding.
fn value_heap(value: &FieldValue) -> usize {
    match value {
        FieldValue::Text(t) => t.len() + 16,
        FieldValue::Bytes(b) => b.len() + 16,
        _ => 0,
    }
}

pub(crate) struct Applier<'a> {
    conn: &'a Connection,
    /// The op log insert, held for the whole apply: it runs once per op.
    insert_op: CachedStatement<'a>,
    dict: &'a mut Dictionary,
    clock: &'a mut HlcClock,
    wall_ms: u64,
    /// The rows touched since the last flush, in the order first touched, and where each is
    /// (a cheap hash: a county merge looks a row up for every op).
    rows: Vec<(Uuid, RowState)>,
    row_index: FxHashMap<Uuid, usize>,
    /// The row the last op touched: a row's ops usually come one after another.
    last_row: Option<(Uuid, usize)>,
    /// About how much memory the rows touched since the last flush take ([`held_bytes`]).
    pending_bytes: usize,
    /// Per device, the ops this apply added.
    vv: FxHashMap<i64, Run>,
    stats: ApplyStats,
    /// Whether `superseded` may hold ops named before they arrived.
    pending: bool,
    /// Whether `row_head` held nothing when this apply began: then a row not yet flushed
    /// by this apply has no stored heads, and loading it is skipped.
    started_empty: bool,
    /// Rows this apply has flushed, while `started_empty` holds (their heads are stored now),
    /// in a filter of fixed size that may also answer yes for a row it never met.
    flushed: FlushedRows,
    slots: FxHashMap<i64, Slot>,
    /// Per table code, the insert of a whole new row, held for the whole apply.
    insert_row: FxHashMap<i64, CachedStatement<'a>>,
    /// Whether rows written keep their search entries current (a rebuild writes them all at
    /// the end instead, see [`rebuild_search_indexes`]).
    search_index: bool,
    /// A bulk load (see [`Applier::bulk_load`]): the table indexes it dropped, to build again
    /// at the end, and the households whose list summary it writes then.
    bulk: Option<BulkLoad>,
}

/// The ops of one device an apply added: the highest and lowest seq, and how many. When they
/// fill the gap above what the version vector held, it advances without reading the log.
#[derive(Debug, Clone, Copy)]
struct Run {
    top: i64,
    lowest: i64,
    count: i64,
}

struct BulkLoad {
    /// When the load began, for [`BulkLoadTimes`].
    began: Instant,
    indexes: Vec<String>,
    households: BTreeSet<Uuid>,
    /// The flushed rows' heads, held until the end of the load and written to `row_head` then
    /// in one pass in key order: ids arrive in no useful order, and writing them as they came
    /// would sweep the table once per flush. Once this many rows wait ([`BULK_HEADS_HELD`]) or
    /// they take [`BULK_HEADS_BYTES`], the runs in memory go to a sealed temporary file.
    heads: HeldHeads,
    /// How many rows' heads are held in memory before they go to disk.
    held: usize,
}

/// Whether the copy holds no rows yet: what makes an apply start empty, and a large one a
/// bulk load ([`Applier::bulk_load`], `Store::hold_alone_for_bulk_load`).
pub(crate) fn holds_no_rows(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM row_head)", [], |r| {
        r.get(0)
    })
}

/// How long the parts of a bulk load took (seconds): the ops applied and their rows flushed,
/// then the end's `row_head` write, the tables' indexes, the search indexes and the household
/// list's summaries, and the commit. For `bangfu bench` and `BANGFU_PRINT_PEAK_RSS`: where a
/// county merge spends its time, without a build of its own to time it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BulkLoadTimes {
    pub load: f64,
    pub heads: f64,
    pub indexes: f64,
    pub search: f64,
    pub summaries: f64,
    pub commit: f64,
    /// Written with a rollback journal, the file held alone (`alone.rs`), rather than
    /// through the log.
    pub rollback_journal: bool,
}

/// Runs `work`, its duration in seconds put in `secs`.
fn timed<T>(secs: &mut f64, work: impl FnOnce() -> T) -> T {
    let clock = Instant::now();
    let out = work();
    *secs = clock.elapsed().as_secs_f64();
    out
}

/// The last bulk load this process finished ([`last_bulk_load_times`]).
static LAST_BULK_LOAD: Mutex<Option<BulkLoadTimes>> = Mutex::new(None);

/// The times of the last bulk load this process committed or finished, taken (the next call
/// answers `None` until another load ends).
pub fn last_bulk_load_times() -> Option<BulkLoadTimes> {
    LAST_BULK_LOAD
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

/// Adds the commit's time to the bulk load [`Applier::finish`] just recorded.
pub(crate) fn record_bulk_load_commit(secs: f64, rollback_journal: bool) {
    if let Some(times) = LAST_BULK_LOAD
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
    {
        times.commit = secs;
        times.rollback_journal = rollback_journal;
    }
}

/// The page cache at the end of a bulk load, and so each of its sorts' runs in memory (KiB).
/// Measured on `bangfu changes import` of the 150,000-household county (issue 20): at the
/// load's 64 MB the end peaked at 247–256 MB; at 16 MB the peak is the load's own, 206–214 MB,
/// and the end's work took 14.3 s against 16.3 (indexes 7.0 s, search 4.4, summaries 2.9).
const END_SORT_MEMORY_KIB: i64 = 16 * 1024;

/// How many rows' heads a bulk load holds in memory before moving them to disk.
pub(crate) const BULK_HEADS_HELD: usize = 4_000_000;

/// How much memory the heads a bulk load holds may take before they go to disk, so a merge's
/// memory does not grow with the file (a county's heads take about 60 bytes a row, packed).
/// Measured on the 100,000-household county (issue 20): written to `row_head` at each bound
/// (before the runs went to disk), 32 MB took the merge to 2.17–2.24 times a plain insert
/// and the fresh import's peak to 255–260 MB; moved to disk at the same bound and written
/// once at the end, 2.18 and 227 MB. 8 MB with the freed memory given to the page cache
/// (96 MB) was 2.13 but peaked at 261 MB; with it given to the rows in memory, 2.40.
const BULK_HEADS_BYTES: usize = 32 << 20;

impl BulkLoad {
    fn full(&self) -> bool {
        self.heads.rows() >= self.held || self.heads.bytes() >= BULK_HEADS_BYTES
    }
}

impl<'a> Applier<'a> {
    pub fn new(
        conn: &'a Connection,
        dict: &'a mut Dictionary,
        clock: &'a mut HlcClock,
        wall_ms: u64,
    ) -> rusqlite::Result<Self> {
        let pending =
            conn.query_row("SELECT EXISTS (SELECT 1 FROM superseded)", [], |r| r.get(0))?;
        // Another connection on the same file (the app's background sync) may have committed
        // ops with later clocks: a new op must still come after everything already in the file.
        if let Some(stored) = super::meta_get::<i64>(conn, "hlc_last")?.map(Hlc::from_i64)
            && stored > clock.last()
        {
            *clock = HlcClock::starting_at(stored);
        }
        let started_empty = holds_no_rows(conn)?;
        Ok(Applier {
            conn,
            insert_op: conn.prepare_cached(
                "INSERT OR IGNORE INTO op (origin, seq, hlc, tbl, row, field, val, preds, seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            dict,
            clock,
            wall_ms,
            rows: Vec::new(),
            row_index: FxHashMap::default(),
            last_row: None,
            pending_bytes: 0,
            vv: FxHashMap::default(),
            stats: ApplyStats::default(),
            pending,
            started_empty,
            flushed: FlushedRows::default(),
            slots: FxHashMap::default(),
            insert_row: FxHashMap::default(),
            search_index: true,
            bulk: None,
        })
    }

    /// Makes this apply a bulk load when the copy holds no rows yet: the materialized tables'
    /// indexes are dropped now and built once by [`Applier::finish`], the search indexes and
    /// the household list summary are written once at the end. All inside the caller's
    /// transaction, so a failure or a power cut leaves the indexes as they were. Returns
    /// whether it did.
    pub fn bulk_load(&mut self, heads_held: usize) -> rusqlite::Result<bool> {
        if !self.started_empty || self.bulk.is_some() {
            return Ok(self.bulk.is_some());
        }
        let tables: Vec<&str> = Table::ALL.iter().map(|t| t.sql_name()).collect();
        // Rows of a table are found by rowid until the load ends (its id index is dropped):
        // only tables as empty as `row_head` are loaded so.
        for table in &tables {
            let empty: bool = self.conn.query_row(
                &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
                [],
                |r| r.get(0),
            )?;
            if !empty {
                return Ok(false);
            }
        }
        let mut indexes: Vec<(String, String)> = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT name, tbl_name, sql FROM sqlite_master
                 WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (name, table, sql): (String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                if tables.contains(&table.as_str()) {
                    indexes.push((name, sql));
                }
            }
        }
        for (name, _) in &indexes {
            // Names come from the file's own schema.
            self.conn
                .execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        self.search_index = false;
        self.bulk = Some(BulkLoad {
            began: Instant::now(),
            indexes: indexes.into_iter().map(|(_, sql)| sql).collect(),
            households: BTreeSet::new(),
            heads: HeldHeads::default(),
            held: heads_held,
        });
        Ok(true)
    }

    fn local_ids(&mut self, ids: &[crate::sync::OpId]) -> rusqlite::Result<Vec<(i64, i64)>> {
        let mut out = Vec::with_capacity(ids.len());
        for p in ids {
            out.push((self.dict.device_idx(self.conn, p.origin)?, p.seq));
        }
        Ok(out)
    }

    /// A row touched since the last flush.
    fn touched_row(&self, row: Uuid) -> Option<&RowState> {
        self.row_index.get(&row).map(|&i| &self.rows[i].1)
    }

    /// The state of a row, loaded from its stored heads when first touched.
    fn row_state(&mut self, row: Uuid, table: i64) -> rusqlite::Result<&mut RowState> {
        if let Some((last, i)) = self.last_row
            && last == row
        {
            return self.same_table(i, row, table);
        }
        let i = match self.row_index.entry(row) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let state = if self.started_empty && !self.flushed.may_contain(row) {
                    RowState::new(table)
                } else if let Some((rowid, keys)) = match &self.bulk {
                    Some(bulk) => bulk.heads.get(row)?,
                    None => None,
                } {
                    let mut state = row_from_heads(self.conn, self.dict, table, keys)?;
                    state.rowid = rowid;
                    state
                } else {
                    load_row(self.conn, self.dict, row, table)?
                };
                self.pending_bytes += row_bytes(&state);
                self.rows.push((row, state));
                *e.insert(self.rows.len() - 1)
            }
        };
        self.last_row = Some((row, i));
        self.same_table(i, row, table)
    }

    /// The row at `i`, refused when an op of another table names it: one id is one record.
    fn same_table(&mut self, i: usize, row: Uuid, table: i64) -> rusqlite::Result<&mut RowState> {
        let existing = self.rows[i].1.table;
        if existing != table {
            return Err(Refusal::RowInTwoTables {
                row,
                existing,
                arriving: table,
            }
            .into());
        }
        Ok(&mut self.rows[i].1)
    }

    /// Whether the op held under `op`'s id has exactly `op`'s content.
    fn held_op_is(
        &self,
        origin: i64,
        op: &Op,
        field: i64,
        preds: &[(i64, i64)],
        seen: &[(i64, i64)],
    ) -> rusqlite::Result<bool> {
        let held = self
            .conn
            .prepare_cached(
                "SELECT hlc, tbl, row, field, val, preds, seen FROM op WHERE origin = ?1 AND seq = ?2",
            )?
            .query_row(params![origin, op.id.seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    FieldValue::from_sql(r.get_ref(4)?),
                    r.get::<_, Option<Vec<u8>>>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                ))
            })
            .optional()?;
        let Some((hlc, table, row, held_field, value, held_preds, held_seen)) = held else {
            return Ok(false);
        };
        let ids =
            |blob: Option<Vec<u8>>| blob.and_then(|b| decode_local_ids(&b)).unwrap_or_default();
        Ok(hlc == op.hlc.to_i64()
            && table == op.table
            && row == op.row.as_bytes()
            && held_field == field
            && same_value(&value, &op.value)
            && ids(held_preds) == preds
            && ids(held_seen) == seen)
    }

    /// Adds one op. Returns false when this copy already held it.
    pub fn apply(&mut self, op: Op) -> rusqlite::Result<bool> {
        let conn = self.conn;
        if i64::try_from(op.hlc.0).is_err() || op.id.seq <= 0 {
            return Err(Refusal::ImpossibleClock {
                origin: op.id.origin,
                seq: op.id.seq,
                hlc: op.hlc.0,
            }
            .into());
        }
        let origin = self.dict.device_idx(conn, op.id.origin)?;
        let field = self.dict.field_idx(conn, op.table, &op.field)?;
        let preds = self.local_ids(&op.preds)?;
        let seen = self.local_ids(&op.seen)?;
        let inserted = self.insert_op.execute(params![
            origin,
            op.id.seq,
            op.hlc.to_i64(),
            op.table,
            op.row.as_bytes().as_slice(),
            field,
            op.value,
            encode_local_ids(&preds),
            encode_local_ids(&seen),
        ])?;
        if inserted == 0 {
            // Held already: the same op again is a duplicate to skip; a different op under
            // the same id (two programs that took one seq, a copied file writing under its old
            // identity, a forged file) must never be dropped as if it were the one held.
            if !self.held_op_is(origin, &op, field, &preds, &seen)? {
                return Err(Refusal::OpIdReused {
                    origin: op.id.origin,
                    seq: op.id.seq,
                }
                .into());
            }
            self.stats.duplicates += 1;
            return Ok(false);
        }

        let mut pending = self.pending;
        let state = self.row_state(op.row, op.table)?;
        let room = state.fields.capacity();
        let pos = state.field_pos(field);
        let grown = state.fields.capacity() - room;
        let f = &mut state.fields[pos];
        f.touched = true;
        let heads = &mut f.heads;
        for &(p_origin, p_seq) in &preds {
            if let Some(pos) = heads
                .iter()
                .position(|h| h.origin == p_origin && h.seq == p_seq)
            {
                // `row_head` follows when the row is flushed.
                heads.swap_remove(pos);
                continue;
            }
            let present: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM op WHERE origin = ?1 AND seq = ?2)")?
                .query_row([p_origin, p_seq], |r| r.get(0))?;
            if !present {
                // Named before it arrived: when it comes it must not become a head.
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO superseded (origin, seq, row, field)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    p_origin,
                    p_seq,
                    op.row.as_bytes().as_slice(),
                    field
                ])?;
                pending = true;
            }
        }
        // Only an op some earlier op named before it arrived can be pending; in the usual
        // causal order there are none and the lookup is skipped. It is written over only when
        // an op of its own row and field named its id (see `superseded`).
        let superseded = pending && {
            let mut gone = conn.prepare_cached(
                "DELETE FROM superseded WHERE origin = ?1 AND seq = ?2 RETURNING row, field",
            )?;
            let mut namers = gone.query([origin, op.id.seq])?;
            let mut named = false;
            while let Some(r) = namers.next()? {
                let (row, named_field): (Vec<u8>, i64) = (r.get(0)?, r.get(1)?);
                named |= row.is_empty() || (row == op.row.as_bytes() && named_field == field);
            }
            named
        };
        let op_cost = op_bytes(&op.value, seen.len()) + grown * std::mem::size_of::<FieldHeads>();
        if !superseded {
            heads.push(Head {
                origin,
                seq: op.id.seq,
                hlc: op.hlc,
                origin_id: op.id.origin,
                value: op.value,
                seen,
            });
        }
        self.pending = pending;
        self.pending_bytes += op_cost;

        if !self.clock.observe(op.hlc, self.wall_ms) {
            self.stats.future_clock += 1;
            // Kept as written (every copy must order heads alike), and listed for review
            // while it is a head, so a wrong clock never wins silently.
            conn.prepare_cached(
                "INSERT OR IGNORE INTO clock_flag (origin, seq, received_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![origin, op.id.seq, self.wall_ms as i64])?;
        }
        let seq = op.id.seq;
        let run = self.vv.entry(origin).or_insert(Run {
            top: seq,
            lowest: seq,
            count: 0,
        });
        run.top = run.top.max(seq);
        run.lowest = run.lowest.min(seq);
        run.count += 1;
        self.stats.applied += 1;
        Ok(true)
    }

    /// Leaves the search indexes alone: a rebuild of every row fills them once at the end
    /// with [`rebuild_search_indexes`] (one entry deleted and written again per person made
    /// the full-text index merge its segments over and over).
    pub fn defer_search_index(&mut self) {
        self.search_index = false;
    }

    /// Marks every field of a row for materializing again from its heads, as after an upgrade
    /// taught this version fields an older one kept only in the op log.
    pub fn touch_row(&mut self, row: Uuid, table: i64) -> rusqlite::Result<()> {
        for f in &mut self.row_state(row, table)?.fields {
            f.touched = true;
        }
        Ok(())
    }

    /// Brings the materialized tables, review queue, indexes and version vector up to date
    /// with every op applied so far.
    pub fn finish(mut self) -> rusqlite::Result<ApplyStats> {
        self.flush()?;
        if self.search_index {
            fold_search_pending_if_due(self.conn)?;
        }
        for (origin, run) in std::mem::take(&mut self.vv) {
            advance_version_vector(self.conn, origin, run)?;
        }
        if let Some(mut bulk) = self.bulk.take() {
            let mut times = BulkLoadTimes {
                load: bulk.began.elapsed().as_secs_f64(),
                ..BulkLoadTimes::default()
            };
            timed(&mut times.heads, || bulk.heads.write(self.conn))?;
            // SQLite sorts an index's entries on helper threads when allowed: the rebuild
            // and the summaries' grouping use the machine's other cores.
            let helpers = std::thread::available_parallelism().map_or(0, |n| n.get() - 1);
            // A sort holds as much in memory as the page cache may (then writes a run to an
            // encrypted temporary file), one per thread: at the load's 64 MB the end's sorts
            // took the 150,000-household county's import to 256 MB. The end reads each table
            // once in order and needs little cache.
            let cache: i64 = self.conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
            let rebuilt = (|| {
                self.conn.pragma_update(None, "threads", helpers.min(3))?;
                self.conn
                    .pragma_update(None, "cache_size", -END_SORT_MEMORY_KIB)?;
                timed(&mut times.indexes, || {
                    bulk.indexes
                        .iter()
                        .try_for_each(|sql| self.conn.execute_batch(sql))
                })?;
                timed(&mut times.search, || rebuild_search_indexes(self.conn))?;
                timed(&mut times.summaries, || {
                    write_household_summaries(self.conn, bulk.households)
                })
            })();
            // Both set back whatever happened.
            let threads = self.conn.pragma_update(None, "threads", 0);
            let cached = self.conn.pragma_update(None, "cache_size", cache);
            rebuilt?;
            threads?;
            cached?;
            *LAST_BULK_LOAD.lock().unwrap_or_else(|e| e.into_inner()) = Some(times);
        }
        Ok(self.stats)
    }

    /// How many rows wait to be materialized.
    pub fn pending_rows(&self) -> usize {
        self.rows.len()
    }

    /// About how much memory the rows waiting to be materialized take: a merge flushes by
    /// this too, so rows with long texts (走访 notes) do not make its memory grow.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    fn slot(&mut self, table: Table, field: i64) -> rusqlite::Result<Slot> {
        if let Some(&slot) = self.slots.get(&field) {
            return Ok(slot);
        }
        let (_, name) = self.dict.field_name(self.conn, field)?;
        let slot = if name == DELETED_FIELD {
            Slot::Deleted
        } else {
            match table.fields().iter().position(|f| f.name == name) {
                Some(i) => Slot::Column(i),
                None => Slot::Unknown,
            }
        };
        self.slots.insert(field, slot);
        Ok(slot)
    }

    /// Materializes the rows touched so far and forgets their state, inside the open
    /// transaction: a county-sized merge would otherwise hold every row's heads in memory.
    /// A row touched again later is loaded again from the heads written here.
    pub fn flush(&mut self) -> rusqlite::Result<()> {
        let conn = self.conn;
        let mut dirty_households: BTreeSet<Uuid> = BTreeSet::new();
        let mut changed_heads: Vec<(Uuid, i64, Vec<HeadKey>)> = Vec::new();
        // In key order: the rows' unique id indexes take their entries page by page.
        let room = self.rows.len();
        let mut rows = std::mem::replace(&mut self.rows, Vec::with_capacity(room));
        self.row_index.clear();
        self.last_row = None;
        self.pending_bytes = 0;
        rows.sort_unstable_by_key(|(row, _)| *row);
        for (row, state) in rows {
            let mut now = state.head_keys();
            now.sort_unstable();
            if self.started_empty {
                self.flushed.insert(row);
            }
            let mut rowid = state.rowid;
            if let Some(table) = Table::from_code(state.table) {
                let label = table.label();
                // A row a bulk load put in its table before is one it holds, heads or none.
                rowid = if state.existed || state.rowid != 0 {
                    *self.stats.changed_rows.entry(label).or_default() += 1;
                    self.materialize_changed(table, row, &state, &mut dirty_households)?
                } else {
                    *self.stats.new_rows.entry(label).or_default() += 1;
                    self.materialize_new(table, row, &state, &mut dirty_households)?
                };
            }
            // In a bulk load a row's entry also says where it is: held again when that changed.
            if now != state.stored || (self.bulk.is_some() && rowid != state.rowid) {
                changed_heads.push((row, rowid, now));
            }
            let deleted_idx = self.dict.field_idx(conn, state.table, DELETED_FIELD)?;
            self.update_review(&state, row, deleted_idx)?;
        }
        // The rows were flushed in key order, so the pages of `row_head` are written once each.
        match &mut self.bulk {
            Some(bulk) => {
                bulk.heads.hold_run(&changed_heads);
                if bulk.full() {
                    bulk.heads.spill(conn)?;
                }
                bulk.households.append(&mut dirty_households);
            }
            None => {
                for (row, _, keys) in changed_heads {
                    heads::store(conn, row, &keys)?;
                }
                for household in dirty_households {
                    refresh_household_summary(conn, household)?;
                }
            }
        }
        Ok(())
    }
}
