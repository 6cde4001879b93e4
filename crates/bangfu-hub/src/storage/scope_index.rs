//! The hub's scope index: which villages each row belongs to, learnt from the ops themselves,
//! and the filing of every op into the feed of each village it belongs to.
//!
//! A household's ops may arrive before or after its village's, a member's before or after its
//! household's: each op that names a parent (`village_id`, `household_id`) adds an edge, and
//! whenever a row learns a village, all its stored ops and its children's are filed there.
//! A helper named by a pairing or visit is shared into that row's villages; a shared scope
//! carries only helper ops and never cascades, so naming a foreign household as a "helper"
//! reveals nothing.

use bangfu_core::model::{FieldValue, Table, household_ref_field};
use bangfu_core::sync::Op;
use rusqlite::{Transaction, params};
use uuid::Uuid;

use super::schema::encode_ids;
use crate::scope::{Scope, is_village_code};

/// A row's villages, split by how they were learnt.
#[derive(Debug, Default)]
pub struct RowVillages {
    /// Through the row's own village or household.
    pub own: Vec<String>,
    /// Only through a helper reference.
    pub shared: Vec<String>,
}

/// The edge an op adds to the index: (child, parent, shared).
fn edge_of(op: &Op) -> Option<(Uuid, Uuid, bool)> {
    let table = Table::from_code(op.table)?;
    let FieldValue::Bytes(bytes) = &op.value else {
        return None;
    };
    let target = Uuid::from_slice(bytes).ok()?;
    match (table, op.field.as_str()) {
        (Table::Household, "village_id") => Some((op.row, target, false)),
        (Table::Pairing | Table::Visit, "helper_id") => Some((target, op.row, true)),
        (t, f) if household_ref_field(t) == Some(f) => Some((op.row, target, false)),
        _ => None,
    }
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
            out.shared.push(village);
        } else {
            out.own.push(village);
        }
    }
    Ok(out)
}

/// Stores one op (once) and files it wherever its row is known; `pusher` restricts where it
/// may go while its row's scope is unknown. Returns false for an op already stored.
pub fn store_op(tx: &Transaction<'_>, op: &Op, pusher: &Scope) -> rusqlite::Result<Option<i64>> {
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
            encode_ids(&op.preds),
            encode_ids(&op.seen),
            pusher.as_str(),
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let key = tx.last_insert_rowid();
    let villages = row_villages(tx, op.row)?;
    for (list, shared) in [(&villages.own, false), (&villages.shared, true)] {
        for village in list {
            file(tx, key, op.table, Some(pusher.as_str()), village, shared)?;
        }
    }
    if let Some((child, parent, shared)) = edge_of(op) {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO edge (child, parent, shared) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            child.as_bytes().as_slice(),
            parent.as_bytes().as_slice(),
            shared
        ])?;
        let parent_villages = row_villages(tx, parent)?.own;
        add_villages(tx, child, parent_villages, shared)?;
    }
    if let Some(code) = village_code_of(op) {
        add_villages(tx, op.row, vec![code.to_owned()], false)?;
    }
    Ok(Some(key))
}

/// Marks an op as checked against its pusher's scope, so it follows its row anywhere later
/// (a household moved by the county follows with its whole history).
pub fn clear_pending(tx: &Transaction<'_>, key: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE op SET pending_scope = NULL WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

/// Records that `row` belongs to `villages` and files its ops and its children's there.
fn add_villages(
    tx: &Transaction<'_>,
    row: Uuid,
    villages: Vec<String>,
    shared: bool,
) -> rusqlite::Result<()> {
    // A work list instead of recursion: the index is a graph written by devices.
    let mut work = vec![(row, villages, shared)];
    while let Some((row, villages, shared)) = work.pop() {
        let key = row.as_bytes().as_slice();
        let mut new = Vec::new();
        for village in villages {
            let added = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO row_scope (row, village, shared) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![key, village, shared])?;
            if added > 0 {
                new.push(village);
            }
        }
        if new.is_empty() {
            continue;
        }
        let ops: Vec<(i64, i64, Option<String>)> = tx
            .prepare_cached("SELECT key, tbl, pending_scope FROM op WHERE row = ?1")?
            .query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (op, table, pending) in &ops {
            for village in &new {
                file(tx, *op, *table, pending.as_deref(), village, shared)?;
            }
        }
        if shared {
            continue;
        }
        let children: Vec<(Vec<u8>, bool)> = tx
            .prepare_cached("SELECT child, shared FROM edge WHERE parent = ?1")?
            .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (child, child_shared) in children {
            if let Ok(child) = Uuid::from_slice(&child) {
                work.push((child, new.clone(), child_shared));
            }
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
