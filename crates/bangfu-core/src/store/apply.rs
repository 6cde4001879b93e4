//! Applying ops to a data file: the op log, the field heads, the review queue, the
//! materialized tables and the local search and list indexes, in the caller's transaction.
//!
//! Local writes and merged changesets take this same path, so what a station sees after a
//! merge is exactly what the writer saw, whatever order the ops arrive in: heads depend only on
//! which ops are present. An op is a head unless a present op names it as a predecessor; an op
//! named before it arrives is kept in `superseded` (pending) so that it never becomes a head.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, hash_map::Entry};

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;
use uuid::Uuid;

use super::dictionary::Dictionary;
use crate::model::{DELETED_FIELD, FieldKind, FieldValue, Table};
use crate::sync::op::{decode_local_ids, encode_local_ids};
use crate::sync::{Hlc, HlcClock, Op};

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

#[derive(Debug)]
struct RowState {
    table: i64,
    existed: bool,
    heads: HashMap<i64, Vec<Head>>,
    touched: BTreeSet<i64>,
}

/// The head whose value is shown: greatest (HLC, origin device id).
fn winner(heads: &[Head]) -> Option<&Head> {
    heads
        .iter()
        .max_by(|a, b| (a.hlc, a.origin_id).cmp(&(b.hlc, b.origin_id)))
}

pub(crate) struct Applier<'a> {
    conn: &'a Connection,
    dict: &'a mut Dictionary,
    clock: &'a mut HlcClock,
    wall_ms: u64,
    rows: HashMap<Uuid, RowState>,
    order: Vec<Uuid>,
    vv: HashMap<i64, i64>,
    stats: ApplyStats,
    /// Whether `superseded` may hold ops named before they arrived.
    pending: bool,
    /// Whether rows written keep their search entries current (a rebuild writes them all at
    /// the end instead, see [`rebuild_search_indexes`]).
    search_index: bool,
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
        Ok(Applier {
            conn,
            dict,
            clock,
            wall_ms,
            rows: HashMap::new(),
            order: Vec::new(),
            vv: HashMap::new(),
            stats: ApplyStats::default(),
            pending,
            search_index: true,
        })
    }

    /// Adds one op. Returns false when this copy already held it.
    pub fn apply(&mut self, op: &Op) -> rusqlite::Result<bool> {
        let conn = self.conn;
        let origin = self.dict.device_idx(conn, op.id.origin)?;
        let field = self.dict.field_idx(conn, op.table, &op.field)?;
        let mut preds = Vec::with_capacity(op.preds.len());
        for p in &op.preds {
            preds.push((self.dict.device_idx(conn, p.origin)?, p.seq));
        }
        let mut seen = Vec::with_capacity(op.seen.len());
        for p in &op.seen {
            seen.push((self.dict.device_idx(conn, p.origin)?, p.seq));
        }
        let inserted = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO op (origin, seq, hlc, tbl, row, field, val, preds, seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
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
            self.stats.duplicates += 1;
            return Ok(false);
        }

        let row_bytes = op.row.as_bytes().as_slice();
        let state = match self.rows.entry(op.row) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let state = load_row(conn, self.dict, op.row, op.table)?;
                self.order.push(op.row);
                e.insert(state)
            }
        };
        let heads = state.heads.entry(field).or_default();
        for &(p_origin, p_seq) in &preds {
            if let Some(pos) = heads
                .iter()
                .position(|h| h.origin == p_origin && h.seq == p_seq)
            {
                heads.swap_remove(pos);
                conn.prepare_cached(
                    "DELETE FROM head WHERE row = ?1 AND field = ?2 AND origin = ?3 AND seq = ?4",
                )?
                .execute(params![row_bytes, field, p_origin, p_seq])?;
                continue;
            }
            let present: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM op WHERE origin = ?1 AND seq = ?2)")?
                .query_row([p_origin, p_seq], |r| r.get(0))?;
            if !present {
                // Named before it arrived: when it comes it must not become a head.
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO superseded (origin, seq) VALUES (?1, ?2)",
                )?
                .execute([p_origin, p_seq])?;
                self.pending = true;
            }
        }
        // Only an op some earlier op named before it arrived can be pending; in the usual
        // causal order there are none and the lookup is skipped.
        let superseded = self.pending
            && conn
                .prepare_cached("DELETE FROM superseded WHERE origin = ?1 AND seq = ?2")?
                .execute([origin, op.id.seq])?
                > 0;
        if !superseded {
            conn.prepare_cached(
                "INSERT INTO head (row, field, origin, seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![row_bytes, field, origin, op.id.seq])?;
            heads.push(Head {
                origin,
                seq: op.id.seq,
                hlc: op.hlc,
                origin_id: op.id.origin,
                value: op.value.clone(),
                seen,
            });
        }
        state.touched.insert(field);

        if !self.clock.observe(op.hlc, self.wall_ms) {
            self.stats.future_clock += 1;
        }
        let top = self.vv.entry(origin).or_insert(0);
        *top = (*top).max(op.id.seq);
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
        let conn = self.conn;
        let state = match self.rows.entry(row) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let state = load_row(conn, self.dict, row, table)?;
                self.order.push(row);
                e.insert(state)
            }
        };
        let fields: Vec<i64> = state.heads.keys().copied().collect();
        state.touched.extend(fields);
        Ok(())
    }

    /// Brings the materialized tables, review queue, indexes and version vector up to date
    /// with every op applied so far.
    pub fn finish(mut self) -> rusqlite::Result<ApplyStats> {
        self.flush()?;
        for (origin, top) in std::mem::take(&mut self.vv) {
            advance_version_vector(self.conn, origin, top)?;
        }
        Ok(self.stats)
    }

    /// How many rows wait to be materialized.
    pub fn pending_rows(&self) -> usize {
        self.rows.len()
    }

    /// Materializes the rows touched so far and forgets their state, inside the open
    /// transaction: a county-sized merge would otherwise hold every row's heads in memory.
    /// A row touched again later is loaded again from the heads already written.
    pub fn flush(&mut self) -> rusqlite::Result<()> {
        let conn = self.conn;
        let mut dirty_households: BTreeSet<Uuid> = BTreeSet::new();
        let order = std::mem::take(&mut self.order);
        for row in order {
            let Some(state) = self.rows.remove(&row) else {
                continue;
            };
            let deleted_idx = self.dict.field_idx(conn, state.table, DELETED_FIELD)?;
            if let Some(table) = Table::from_code(state.table) {
                let mut cols: Vec<(&'static str, FieldValue)> = Vec::new();
                for &field in &state.touched {
                    let (_, name) = self.dict.field_name(conn, field)?;
                    let value = state
                        .heads
                        .get(&field)
                        .and_then(|h| winner(h))
                        .map(|h| &h.value);
                    if field == deleted_idx {
                        let deleted = matches!(value, Some(FieldValue::Int(1)));
                        cols.push((DELETED_FIELD, FieldValue::Int(i64::from(deleted))));
                    } else if let Some(spec) = table.field(&name) {
                        let value = value.cloned().unwrap_or_default();
                        cols.push((
                            spec.name,
                            if fits(spec.kind, &value) {
                                value
                            } else {
                                FieldValue::Null
                            },
                        ));
                    }
                    // A field this version does not know stays in the op log and the heads; a
                    // later version materializes it after its migration adds the column.
                }
                let label = table.label();
                if state.existed {
                    *self.stats.changed_rows.entry(label).or_default() += 1;
                } else {
                    *self.stats.new_rows.entry(label).or_default() += 1;
                }
                // A row new to this copy has no earlier household; the new one is in `cols`.
                let before = if state.existed {
                    household_of(conn, table, row)?
                } else {
                    None
                };
                let is_member = table == Table::Member;
                let reindex = is_member
                    && cols
                        .iter()
                        .any(|(n, _)| matches!(*n, "name" | "id_number" | DELETED_FIELD));
                if is_member && let Some((_, name)) = cols.iter().find(|(n, _)| *n == "name") {
                    let name = match name {
                        FieldValue::Text(t) => t.as_str(),
                        _ => "",
                    };
                    cols.push(("initials", FieldValue::Text(name_initials(name))));
                }
                if !cols.is_empty() {
                    upsert(conn, table, row, &cols)?;
                }
                let after = match cols.iter().find(|(n, _)| *n == "household_id") {
                    Some((_, FieldValue::Bytes(b))) => Uuid::from_slice(b).ok(),
                    Some(_) => None,
                    None if table == Table::Household => Some(row),
                    None => before,
                };
                dirty_households.extend(before.into_iter().chain(after));
                if reindex && self.search_index {
                    index_member(conn, row, state.existed)?;
                }
                if self.search_index
                    && table == Table::Household
                    && cols
                        .iter()
                        .any(|(n, _)| matches!(*n, "code" | DELETED_FIELD))
                {
                    index_household(conn, row, state.existed)?;
                }
            }
            self.update_review(&state, row, deleted_idx)?;
        }
        for household in dirty_households {
            refresh_household_summary(conn, household)?;
        }
        Ok(())
    }

    fn update_review(
        &mut self,
        state: &RowState,
        row: Uuid,
        deleted_idx: i64,
    ) -> rusqlite::Result<()> {
        let conn = self.conn;
        let row_bytes = row.as_bytes().as_slice();
        // Only a row this copy already held can have open items to close.
        let may_have_items = state.existed
            && conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM review_item WHERE row = ?1)")?
                .query_row([row_bytes], |r| r.get::<_, bool>(0))?;
        for &field in &state.touched {
            let count = state.heads.get(&field).map_or(0, Vec::len);
            if count <= 1 && !may_have_items {
                continue;
            }
            if count > 1 {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO review_item (row, field, kind, tbl) VALUES (?1, ?2, 1, ?3)",
                )?
                .execute(params![row_bytes, field, state.table])?;
                self.stats.open_review_items += 1;
            } else {
                conn.prepare_cached(
                    "DELETE FROM review_item WHERE row = ?1 AND field = ?2 AND kind = 1",
                )?
                .execute(params![row_bytes, field])?;
            }
        }
        // A deleted row with a field head its deleter did not see: an edit concurrent with the
        // delete. It goes to review instead of disappearing with the row.
        let Some(delete_heads) = state.heads.get(&deleted_idx) else {
            return Ok(());
        };
        let deleted = matches!(
            winner(delete_heads).map(|h| &h.value),
            Some(FieldValue::Int(1))
        );
        let unseen_edit = deleted && {
            let seen: HashSet<(i64, i64)> = delete_heads
                .iter()
                .flat_map(|h| h.seen.iter().copied())
                .collect();
            state
                .heads
                .iter()
                .filter(|(f, _)| **f != deleted_idx)
                .flat_map(|(_, hs)| hs)
                .any(|h| !seen.contains(&(h.origin, h.seq)))
        };
        if unseen_edit {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO review_item (row, field, kind, tbl) VALUES (?1, ?2, 2, ?3)",
            )?
            .execute(params![row_bytes, deleted_idx, state.table])?;
            self.stats.open_review_items += 1;
        } else if may_have_items {
            conn.prepare_cached(
                "DELETE FROM review_item WHERE row = ?1 AND field = ?2 AND kind = 2",
            )?
            .execute(params![row_bytes, deleted_idx])?;
        }
        Ok(())
    }
}

/// Loads every current head of a row, with what deciding the winner needs.
fn load_row(
    conn: &Connection,
    dict: &mut Dictionary,
    row: Uuid,
    table: i64,
) -> rusqlite::Result<RowState> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.field, h.origin, h.seq, o.hlc, o.val, o.seen
         FROM head h JOIN op o ON o.origin = h.origin AND o.seq = h.seq
         WHERE h.row = ?1",
    )?;
    let mut rows = stmt.query([row.as_bytes().as_slice()])?;
    let mut heads: HashMap<i64, Vec<Head>> = HashMap::new();
    let mut loaded = Vec::new();
    while let Some(r) = rows.next()? {
        let seen: Option<Vec<u8>> = r.get(5)?;
        loaded.push((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            Hlc::from_i64(r.get(3)?),
            FieldValue::from_sql(r.get_ref(4)?),
            seen.and_then(|b| decode_local_ids(&b)).unwrap_or_default(),
        ));
    }
    let existed = !loaded.is_empty();
    for (field, origin, seq, hlc, value, seen) in loaded {
        let origin_id = dict.device_id(conn, origin)?;
        heads.entry(field).or_default().push(Head {
            origin,
            seq,
            hlc,
            origin_id,
            value,
            seen,
        });
    }
    Ok(RowState {
        table,
        existed,
        heads,
        touched: BTreeSet::new(),
    })
}

/// Whether a value may be materialized into a column of this kind.
fn fits(kind: FieldKind, value: &FieldValue) -> bool {
    match (kind, value) {
        (_, FieldValue::Null) => true,
        (FieldKind::Text | FieldKind::Date, FieldValue::Text(_)) => true,
        (FieldKind::Int | FieldKind::Bool, FieldValue::Int(_)) => true,
        (FieldKind::Real, FieldValue::Real(_) | FieldValue::Int(_)) => true,
        (FieldKind::Ref, FieldValue::Bytes(b)) => b.len() == 16,
        _ => false,
    }
}

fn upsert(
    conn: &Connection,
    table: Table,
    row: Uuid,
    cols: &[(&'static str, FieldValue)],
) -> rusqlite::Result<()> {
    // Identifiers come from the static field catalog, never from input.
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    let placeholders: Vec<String> = (0..cols.len()).map(|i| format!("?{}", i + 2)).collect();
    let updates: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    let sql = format!(
        "INSERT INTO {t} (id, {cols}) VALUES (?1, {ph}) ON CONFLICT (id) DO UPDATE SET {up}",
        t = table.sql_name(),
        cols = names.join(", "),
        ph = placeholders.join(", "),
        up = updates.join(", "),
    );
    let id = FieldValue::Bytes(row.as_bytes().to_vec());
    let values = std::iter::once(&id).chain(cols.iter().map(|(_, v)| v));
    conn.prepare_cached(&sql)?
        .execute(params_from_iter(values))?;
    Ok(())
}

/// The household a row belongs to (itself, for a household), for the list summary.
fn household_of(conn: &Connection, table: Table, row: Uuid) -> rusqlite::Result<Option<Uuid>> {
    let sql = match table {
        Table::Household => return Ok(Some(row)),
        Table::Member => "SELECT household_id FROM member WHERE id = ?1",
        Table::Visit => "SELECT household_id FROM visit WHERE id = ?1",
        _ => return Ok(None),
    };
    let found: Option<Option<Vec<u8>>> = conn
        .prepare_cached(sql)?
        .query_row([row.as_bytes().as_slice()], |r| r.get(0))
        .optional()?;
    Ok(found.flatten().and_then(|b| Uuid::from_slice(&b).ok()))
}

/// Pinyin initials of a name, for search: 张三丰 → zsf. Other letters are kept, lowercased.
pub fn name_initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// Keeps the member's trigram search entry current (initials were written with the row).
fn index_member(conn: &Connection, row: Uuid, existed: bool) -> rusqlite::Result<()> {
    let found: Option<(i64, Option<String>, Option<String>, i64)> = conn
        .prepare_cached("SELECT rowid, name, id_number, deleted FROM member WHERE id = ?1")?
        .query_row([row.as_bytes().as_slice()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((rowid, name, id_number, deleted)) = found else {
        return Ok(());
    };
    let name = name.unwrap_or_default();
    if existed {
        conn.prepare_cached("DELETE FROM person_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    if deleted == 0 {
        let text = person_text(&name, &id_number.unwrap_or_default());
        conn.prepare_cached("INSERT INTO person_fts (rowid, text) VALUES (?1, ?2)")?
            .execute(params![rowid, text])?;
    }
    Ok(())
}

/// What the trigram index holds of a person: name, pinyin initials, ID number.
fn person_text(name: &str, id_number: &str) -> String {
    format!("{name} {} {id_number}", name_initials(name))
}

/// Writes both search indexes afresh from the materialized tables, for a rebuild of every row.
pub(crate) fn rebuild_search_indexes(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "INSERT INTO person_fts (person_fts) VALUES ('delete-all');
         INSERT INTO household_fts (household_fts) VALUES ('delete-all');
         INSERT INTO household_fts (rowid, code)
             SELECT rowid, code FROM household WHERE deleted = 0 AND coalesce(code, '') <> '';",
    )?;
    let mut people = conn.prepare(
        "SELECT rowid, coalesce(name, ''), coalesce(id_number, '') FROM member WHERE deleted = 0",
    )?;
    let mut insert = conn.prepare_cached("INSERT INTO person_fts (rowid, text) VALUES (?1, ?2)")?;
    let mut rows = people.query([])?;
    while let Some(r) = rows.next()? {
        let (rowid, name, id_number): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        insert.execute(params![rowid, person_text(&name, &id_number)])?;
    }
    Ok(())
}

/// Keeps the household's code in the trigram index a digit search reads.
fn index_household(conn: &Connection, row: Uuid, existed: bool) -> rusqlite::Result<()> {
    let found: Option<(i64, Option<String>, i64)> = conn
        .prepare_cached("SELECT rowid, code, deleted FROM household WHERE id = ?1")?
        .query_row([row.as_bytes().as_slice()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((rowid, code, deleted)) = found else {
        return Ok(());
    };
    if existed {
        conn.prepare_cached("DELETE FROM household_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    let code = code.unwrap_or_default();
    if deleted == 0 && !code.is_empty() {
        conn.prepare_cached("INSERT INTO household_fts (rowid, code) VALUES (?1, ?2)")?
            .execute(params![rowid, code])?;
    }
    Ok(())
}

fn refresh_household_summary(conn: &Connection, household: Uuid) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO household_summary
             (household_id, head_name, head_id_number, members, heads, last_visit)
         SELECT ?1,
             coalesce((SELECT name FROM member WHERE household_id = ?1 AND deleted = 0
                       AND relation = '01' ORDER BY rowid LIMIT 1), ''),
             coalesce((SELECT id_number FROM member WHERE household_id = ?1 AND deleted = 0
                       AND relation = '01' ORDER BY rowid LIMIT 1), ''),
             (SELECT count(*) FROM member WHERE household_id = ?1 AND deleted = 0),
             (SELECT count(*) FROM member WHERE household_id = ?1 AND deleted = 0
                  AND relation = '01'),
             (SELECT max(visit_date) FROM visit WHERE household_id = ?1 AND deleted = 0)",
    )?
    .execute([household.as_bytes().as_slice()])?;
    Ok(())
}

fn advance_version_vector(conn: &Connection, origin: i64, top: i64) -> rusqlite::Result<()> {
    let (mut contiguous, max_seq): (i64, i64) = conn
        .prepare_cached("SELECT contiguous, max_seq FROM version_vector WHERE origin = ?1")?
        .query_row([origin], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let max_seq = max_seq.max(top);
    if contiguous < max_seq {
        let mut stmt =
            conn.prepare_cached("SELECT seq FROM op WHERE origin = ?1 AND seq > ?2 ORDER BY seq")?;
        let mut rows = stmt.query([origin, contiguous])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            if seq != contiguous + 1 {
                break;
            }
            contiguous = seq;
        }
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO version_vector (origin, contiguous, max_seq) VALUES (?1, ?2, ?3)",
    )?
    .execute([origin, contiguous, max_seq])?;
    Ok(())
}

/// A current head as a writer sees it.
#[derive(Debug, Clone)]
pub(crate) struct HeadView {
    pub id: crate::sync::OpId,
    pub hlc: Hlc,
    pub value: FieldValue,
}

impl HeadView {
    /// The head whose value is shown among several.
    pub fn shown(heads: &[HeadView]) -> Option<&HeadView> {
        heads
            .iter()
            .max_by(|a, b| (a.hlc, a.id.origin).cmp(&(b.hlc, b.id.origin)))
    }
}

impl Applier<'_> {
    /// A timestamp for a new local op.
    pub fn tick(&mut self) -> Hlc {
        self.clock.tick(self.wall_ms)
    }

    /// The current heads of one field, as stored (ops applied earlier in this transaction
    /// included).
    pub fn field_heads(
        &mut self,
        row: Uuid,
        table: i64,
        field: &str,
    ) -> rusqlite::Result<Vec<HeadView>> {
        let conn = self.conn;
        let field = self.dict.field_idx(conn, table, field)?;
        let mut stmt = conn.prepare_cached(
            "SELECT h.origin, h.seq, o.hlc, o.val FROM head h
             JOIN op o ON o.origin = h.origin AND o.seq = h.seq
             WHERE h.row = ?1 AND h.field = ?2",
        )?;
        let raw: Vec<(i64, i64, i64, FieldValue)> = stmt
            .query_map(params![row.as_bytes().as_slice(), field], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    FieldValue::from_sql(r.get_ref(3)?),
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut heads = Vec::with_capacity(raw.len());
        for (origin, seq, hlc, value) in raw {
            let origin = self.dict.device_id(conn, origin)?;
            heads.push(HeadView {
                id: crate::sync::OpId { origin, seq },
                hlc: Hlc::from_i64(hlc),
                value,
            });
        }
        Ok(heads)
    }

    /// Every current head of a row: (field name, op id), for a delete's `seen` list.
    pub fn row_heads(&mut self, row: Uuid) -> rusqlite::Result<Vec<(String, crate::sync::OpId)>> {
        let conn = self.conn;
        let raw: Vec<(i64, i64, i64)> = conn
            .prepare_cached("SELECT field, origin, seq FROM head WHERE row = ?1")?
            .query_map([row.as_bytes().as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(raw.len());
        for (field, origin, seq) in raw {
            let (_, name) = self.dict.field_name(conn, field)?;
            let origin = self.dict.device_id(conn, origin)?;
            out.push((name, crate::sync::OpId { origin, seq }));
        }
        Ok(out)
    }
}
