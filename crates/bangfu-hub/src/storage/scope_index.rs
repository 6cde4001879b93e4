//! The hub's scope index: which villages each row belongs to NOW, learnt from the ops
//! themselves, and the filing of every op into the feed of each village it belongs to.
//!
//! Each op that sets a parent (`village_id`, `household_id`, a pairing's or visit's
//! `helper_id`) is a link; a link stops counting once a later op of the same field names it as
//! a predecessor (the field's heads decide, as on the laptops). A row's villages are derived
//! from its live links: a household follows its current village, its members, incomes, visits
//! follow it. When a row's villages change, the row and its children are recomputed: a village
//! it joins receives its whole history, a village it leaves is remembered for a while (an edit
//! made there before the move was learnt is still accepted) and receives the move op itself.
//! A helper named by a pairing or visit is shared into that row's villages; a shared scope
//! carries only helper ops and never cascades, so naming a foreign household as a "helper"
//! reveals nothing. The county's settings (`scope::reach_of`: 脱贫标准) belong to no village: each
//! such op is filed into every village of its pusher's county, and into a village learnt later.

use std::collections::{BTreeSet, HashMap, VecDeque};

use bangfu_core::model::{FieldValue, Table, household_ref_field};
use bangfu_core::sync::Op;
use rusqlite::{Transaction, params};
use uuid::Uuid;

use crate::scope::{Reach, Scope, is_village_code, may_set_county_rows, reach_of};

/// How long a village a row left still counts as the row's for pushes (90 days): a laptop
/// that edited the row before it learnt of the move gets its edit through.
pub const FORMER_SCOPE_MS: i64 = 90 * 24 * 3600 * 1000;

/// Recomputations of one row in one change, at most: the index is a graph written by devices
/// and a cycle of parents must not loop.
const MAX_VISITS: u32 = 8;

/// A row's villages, split by how they were learnt.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RowVillages {
    /// Through the row's own village or household.
    pub own: BTreeSet<String>,
    /// Only through a helper reference.
    pub shared: BTreeSet<String>,
}

/// A parent-setting op: the parent it names (none when cleared) and whether it shares a helper.
struct Link {
    /// (child, parent, shared) when the op names a parent.
    edge: Option<(Uuid, Uuid, bool)>,
}

fn link_of(op: &Op) -> Option<Link> {
    let table = Table::from_code(op.table)?;
    let target = match &op.value {
        FieldValue::Bytes(bytes) => Uuid::from_slice(bytes).ok(),
        _ => None,
    };
    let edge = match (table, op.field.as_str()) {
        (Table::Household, "village_id") => target.map(|t| (op.row, t, false)),
        (Table::Pairing | Table::Visit, "helper_id") => target.map(|t| (t, op.row, true)),
        (t, f) if household_ref_field(t) == Some(f) => target.map(|t| (op.row, t, false)),
        _ => return None,
    };
    Some(Link { edge })
}

/// A village row's own code, which roots the index.
fn village_code_of(op: &Op) -> Option<&str> {
    match (&op.value, Table::from_code(op.table), op.field.as_str()) {
        (FieldValue::Text(code), Some(Table::Village), "code") if is_village_code(code) => {
            Some(code)
        }
        _ => None,
    }
}

pub fn row_villages(tx: &Transaction<'_>, row: Uuid) -> rusqlite::Result<RowVillages> {
    let mut stmt = tx.prepare_cached("SELECT village, shared FROM row_scope WHERE row = ?1")?;
    let mut out = RowVillages::default();
    for r in stmt.query_map([row.as_bytes().as_slice()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
    })? {
        let (village, shared) = r?;
        if shared {
            out.shared.insert(village);
        } else {
            out.own.insert(village);
        }
    }
    Ok(out)
}

/// The villages `row` left since `since_ms`.
fn former_villages(
    tx: &Transaction<'_>,
    row: Uuid,
    since_ms: i64,
) -> rusqlite::Result<BTreeSet<String>> {
    tx.prepare_cached("SELECT village FROM row_left WHERE row = ?1 AND left_ms >= ?2")?
        .query_map(params![row.as_bytes().as_slice(), since_ms], |r| r.get(0))?
        .collect()
}

/// Why an op is held instead of stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub detail: String,
}

/// What [`admit`] found: whether the op's row has a known scope (the op then follows its row
/// anywhere later; otherwise it will go only inside the pusher's scope), and the row's current
/// villages (handed on to [`store_op`] so they are read once).
#[derive(Debug)]
pub struct Admitted {
    pub known: bool,
    pub villages: RowVillages,
}

/// Whether a device of `scope` may push `op`, decided before it is stored.
///
/// A row that is, or was in the last [`FORMER_SCOPE_MS`], in one of the scope's villages may
/// be edited, and moved out; a new row may be put only under a parent of the scope; a shared
/// helper only by a scope that names it.
pub fn admit(
    tx: &Transaction<'_>,
    scope: &Scope,
    op: &Op,
    now_ms: i64,
) -> rusqlite::Result<Result<Admitted, Refusal>> {
    let outside = |what: &str| Refusal {
        reason: "outside_scope",
        detail: format!(
            "op {}/{} on {} row {}: {what}",
            op.id.origin,
            op.id.seq,
            Table::from_code(op.table).map_or("?", Table::label),
            op.row
        ),
    };
    if reach_of(op.table) == Reach::County {
        // The county's settings: set by a county or township device, for its whole county.
        if !may_set_county_rows(scope) {
            return Ok(Err(outside(
                "the county's settings, set by the county or a township",
            )));
        }
        return Ok(Ok(Admitted {
            known: false,
            villages: RowVillages::default(),
        }));
    }
    let current = row_villages(tx, op.row)?;
    let helper = op.table == Table::Helper.code();
    let now_in = if helper {
        any_in(scope, current.own.iter().chain(&current.shared))
    } else {
        any_in(scope, &current.own)
    };
    // Only a row outside the scope now needs the villages it left.
    let former = if now_in {
        BTreeSet::new()
    } else {
        former_villages(tx, op.row, now_ms - FORMER_SCOPE_MS)?
    };
    let admitted = |known: bool, villages: RowVillages| Ok(Ok(Admitted { known, villages }));
    if helper {
        let known = !(current.own.is_empty() && current.shared.is_empty() && former.is_empty());
        if known && !now_in && !any_in(scope, &former) {
            return Ok(Err(outside("a helper no village of the scope names")));
        }
        return admitted(known, current);
    }
    let known = !(current.own.is_empty() && former.is_empty());
    if known && !now_in && !any_in(scope, &former) {
        return Ok(Err(outside("the row belongs to another village")));
    }
    if let Some(code) = village_code_of(op) {
        if !scope.contains(code) {
            return Ok(Err(outside("a village code outside the scope")));
        }
        return admitted(true, current);
    }
    if !known
        && let Some(Link {
            edge: Some((child, parent, false)),
        }) = link_of(op)
        && child == op.row
    {
        let target = row_villages(tx, parent)?.own;
        if target.is_empty() {
            return admitted(false, current);
        }
        if !any_in(scope, &target) {
            return Ok(Err(outside("a new row under another village's parent")));
        }
        return admitted(true, current);
    }
    admitted(known, current)
}

fn any_in<'a>(scope: &Scope, villages: impl IntoIterator<Item = &'a String>) -> bool {
    villages.into_iter().any(|v| scope.contains(v))
}

/// Stores one op (once) and files it wherever its row is known (`before`: the row's villages,
/// as [`admit`] read them). `pending` is the pusher's scope when the row's scope is not known
/// yet: until then the op may go only inside it. Returns the op's key, or `None` for an op
/// already stored.
pub fn store_op(
    tx: &Transaction<'_>,
    op: &Op,
    pending: Option<&Scope>,
    now_ms: i64,
    before: RowVillages,
) -> rusqlite::Result<Option<i64>> {
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO op (origin, seq, hlc, tbl, row, field, val, preds, seen,
                 pending_scope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            op.id.origin.as_bytes().as_slice(),
            op.id.seq,
            op.hlc.to_i64(),
            op.table,
            op.row.as_bytes().as_slice(),
            op.field,
            op.value,
            super::schema::encode_ids(&op.preds),
            super::schema::encode_ids(&op.seen),
            pending_of(op, pending),
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let key = tx.last_insert_rowid();
    index_op(tx, op, key, pending_of(op, pending), now_ms, Some(before))?;
    Ok(Some(key))
}

/// The scope an op is kept inside until its row's scope is known; a county-wide row's is its
/// pusher's county, for good.
fn pending_of<'a>(op: &Op, pending: Option<&'a Scope>) -> Option<&'a str> {
    match reach_of(op.table) {
        Reach::County => pending.map(Scope::county),
        Reach::Village => pending.map(Scope::as_str),
    }
}

/// Files a county-wide op into every village of its county the hub knows.
fn file_county_wide(
    tx: &Transaction<'_>,
    key: i64,
    table: i64,
    county: &str,
) -> rusqlite::Result<()> {
    let villages: Vec<String> = tx
        .prepare_cached("SELECT DISTINCT code FROM village_row WHERE substr(code, 1, 6) = ?1")?
        .query_map([county], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for village in &villages {
        file(tx, key, table, Some(county), village, false)?;
    }
    Ok(())
}

/// Files the county-wide ops of a village's county into a village the hub just learnt of.
fn file_county_wide_into(tx: &Transaction<'_>, village: &str) -> rusqlite::Result<()> {
    let Some(county) = village.get(..6) else {
        return Ok(());
    };
    for table in Table::ALL
        .into_iter()
        .filter(|t| reach_of(t.code()) == Reach::County)
    {
        let keys: Vec<i64> = tx
            .prepare_cached("SELECT key FROM op WHERE tbl = ?1 AND pending_scope = ?2")?
            .query_map(params![table.code(), county], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for key in keys {
            file(tx, key, table.code(), Some(county), village, false)?;
        }
    }
    Ok(())
}

/// Files a stored op into its row's villages (`before`, read here when not given) and applies
/// what it says about parents.
pub fn index_op(
    tx: &Transaction<'_>,
    op: &Op,
    key: i64,
    pending: Option<&str>,
    now_ms: i64,
    before: Option<RowVillages>,
) -> rusqlite::Result<()> {
    if reach_of(op.table) == Reach::County {
        if let Some(county) = pending {
            file_county_wide(tx, key, op.table, county)?;
        }
        return Ok(());
    }
    let before = match before {
        Some(before) => before,
        None => row_villages(tx, op.row)?,
    };
    for village in &before.own {
        file(tx, key, op.table, pending, village, false)?;
    }
    for village in &before.shared {
        file(tx, key, op.table, pending, village, true)?;
    }
    let mut changed: Vec<Uuid> = Vec::new();
    let link = link_of(op);
    if let Some(link) = &link {
        changed.extend(apply_link(tx, op, link)?);
    }
    if let Some(code) = village_code_of(op) {
        tx.prepare_cached(
            "INSERT INTO village_row (row, code, hlc) VALUES (?1, ?2, ?3)
             ON CONFLICT (row) DO UPDATE SET code = excluded.code, hlc = excluded.hlc
             WHERE excluded.hlc >= village_row.hlc",
        )?
        .execute(params![op.row.as_bytes().as_slice(), code, op.hlc.to_i64()])?;
        changed.push(op.row);
        file_county_wide_into(tx, code)?;
    }
    refresh(tx, changed, now_ms)?;
    // A move also goes to the villages the row leaves: their copies learn it moved out.
    if link.is_some_and(|l| !matches!(l.edge, Some((_, _, true)))) {
        for village in &before.own {
            file(tx, key, op.table, None, village, false)?;
        }
    }
    Ok(())
}

/// Records a link op: the links it names as predecessors stop counting, and it counts itself
/// unless a stored op already names it. Returns the rows whose parents changed.
fn apply_link(tx: &Transaction<'_>, op: &Op, link: &Link) -> rusqlite::Result<Vec<Uuid>> {
    let row = op.row.as_bytes().as_slice();
    let mut changed = Vec::new();
    for pred in &op.preds {
        let origin = pred.origin.as_bytes().as_slice();
        tx.prepare_cached(
            "INSERT OR IGNORE INTO link_pred (origin, seq, row, field) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![origin, pred.seq, row, op.field])?;
        let child: Option<Vec<u8>> = tx
            .prepare_cached(
                "UPDATE link SET live = 0 WHERE origin = ?1 AND seq = ?2 AND row = ?3
                 AND field = ?4 AND live = 1 RETURNING child",
            )?
            .query_map(params![origin, pred.seq, row, op.field], |r| r.get(0))?
            .next()
            .transpose()?;
        if let Some(child) = child.and_then(|c| Uuid::from_slice(&c).ok()) {
            changed.push(child);
        }
    }
    if let Some((child, parent, shared)) = link.edge {
        let origin = op.id.origin.as_bytes().as_slice();
        tx.prepare_cached(
            "INSERT OR IGNORE INTO link (origin, seq, row, field, child, parent, shared, live)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NOT EXISTS (SELECT 1 FROM link_pred
                 WHERE origin = ?1 AND seq = ?2 AND row = ?3 AND field = ?4))",
        )?
        .execute(params![
            origin,
            op.id.seq,
            row,
            op.field,
            child.as_bytes().as_slice(),
            parent.as_bytes().as_slice(),
            shared
        ])?;
        changed.push(child);
    }
    Ok(changed)
}

/// A row's villages as its village code and live links say now.
fn compute(tx: &Transaction<'_>, row: Uuid) -> rusqlite::Result<RowVillages> {
    let key = row.as_bytes().as_slice();
    let mut out = RowVillages::default();
    let code: Option<String> = tx
        .prepare_cached("SELECT code FROM village_row WHERE row = ?1")?
        .query_map([key], |r| r.get(0))?
        .next()
        .transpose()?;
    out.own.extend(code);
    let parents: Vec<(Vec<u8>, bool)> = tx
        .prepare_cached("SELECT DISTINCT parent, shared FROM link WHERE child = ?1 AND live = 1")?
        .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (parent, shared) in parents {
        let villages: Vec<String> = tx
            .prepare_cached("SELECT village FROM row_scope WHERE row = ?1 AND shared = 0")?
            .query_map([parent], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if shared {
            out.shared.extend(villages);
        } else {
            out.own.extend(villages);
        }
    }
    Ok(out)
}

/// Recomputes the villages of `rows` and, where they changed, of their children: files the
/// rows' ops into villages they joined and remembers the villages they left.
fn refresh(tx: &Transaction<'_>, rows: Vec<Uuid>, now_ms: i64) -> rusqlite::Result<()> {
    let mut work: VecDeque<Uuid> = rows.into();
    let mut visits: HashMap<Uuid, u32> = HashMap::new();
    while let Some(row) = work.pop_front() {
        let seen = visits.entry(row).or_default();
        *seen += 1;
        if *seen > MAX_VISITS {
            continue;
        }
        let old = row_villages(tx, row)?;
        let new = compute(tx, row)?;
        if old == new {
            continue;
        }
        let key = row.as_bytes().as_slice();
        tx.prepare_cached("DELETE FROM row_scope WHERE row = ?1")?
            .execute([key])?;
        for (list, shared) in [(&new.own, false), (&new.shared, true)] {
            for village in list {
                tx.prepare_cached(
                    "INSERT INTO row_scope (row, village, shared) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![key, village, shared])?;
                tx.prepare_cached("DELETE FROM row_left WHERE row = ?1 AND village = ?2")?
                    .execute(params![key, village])?;
            }
        }
        for village in old.own.difference(&new.own) {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO row_left (row, village, left_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key, village, now_ms])?;
        }
        let joined: Vec<(&String, bool)> = new
            .own
            .difference(&old.own)
            .map(|v| (v, false))
            .chain(new.shared.difference(&old.shared).map(|v| (v, true)))
            .collect();
        if !joined.is_empty() {
            let ops: Vec<(i64, i64, Option<String>)> = tx
                .prepare_cached("SELECT key, tbl, pending_scope FROM op WHERE row = ?1")?
                .query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (op, table, pending) in &ops {
                for (village, shared) in &joined {
                    file(tx, *op, *table, pending.as_deref(), village, *shared)?;
                }
            }
        }
        if old.own != new.own {
            let children: Vec<Vec<u8>> = tx
                .prepare_cached("SELECT DISTINCT child FROM link WHERE parent = ?1 AND live = 1")?
                .query_map([key], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            work.extend(children.iter().filter_map(|c| Uuid::from_slice(c).ok()));
        }
    }
    Ok(())
}

/// Appends one op to a village's feed, unless the rules keep it out: a shared scope carries
/// helper ops only, and an op pushed before its scope was known goes only inside its
/// pusher's scope.
fn file(
    tx: &Transaction<'_>,
    op: i64,
    table: i64,
    pending: Option<&str>,
    village: &str,
    shared: bool,
) -> rusqlite::Result<()> {
    let helper = table == Table::Helper.code();
    if shared && !helper {
        return Ok(());
    }
    if pending.is_some_and(|p| !village.starts_with(p)) && !helper {
        return Ok(());
    }
    let (Some(township), Some(county)) = (village.get(..9), village.get(..6)) else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT OR IGNORE INTO feed (village, township, county, op) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![village, township, county, op])?;
    Ok(())
}
