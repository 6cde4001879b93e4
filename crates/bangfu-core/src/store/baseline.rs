//! Baselines for the benchmarks: what plain SQLite does with the same data and no merge
//! logic, measured in the same run so ratios hold on a noisy machine.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, params};

use crate::sync::Op;
use crate::sync::op::encode_local_ids;

/// A baseline file, encrypted under `key` as the data file it is compared with is.
pub fn open_baseline(path: &Path, key: Option<&super::DataKey>) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(key) = key {
        super::protect::apply_key(&conn, key)?;
    }
    Ok(conn)
}

/// The journal a baseline is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineJournal {
    /// The log, as a data file is written (the goal's baseline).
    Wal,
    /// A rollback journal, the file held alone, as a bulk load into an empty copy that no one
    /// else has open is written (`alone.rs`).
    Rollback,
}

/// Bulk-inserts ops into a plain table of the same columns as the op log, in one
/// transaction, with the same durability settings as a data file.
pub fn bulk_insert_plain(
    path: &Path,
    ops: &[Op],
    key: Option<&super::DataKey>,
    journal: BaselineJournal,
) -> rusqlite::Result<()> {
    let mut conn = open_baseline(path, key)?;
    match journal {
        BaselineJournal::Wal => conn.pragma_update(None, "journal_mode", "WAL")?,
        BaselineJournal::Rollback => {
            conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
            conn.pragma_update(None, "journal_mode", "DELETE")?;
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.execute_batch(
        "CREATE TABLE plain_op (origin INTEGER NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,
            tbl INTEGER NOT NULL, row BLOB NOT NULL, field INTEGER NOT NULL, val, preds BLOB, seen BLOB,
            PRIMARY KEY (origin, seq)) WITHOUT ROWID",
    )?;
    let tx = conn.transaction()?;
    {
        let mut origins: HashMap<uuid::Uuid, i64> = HashMap::new();
        let mut fields: HashMap<(i64, &str), i64> = HashMap::new();
        let mut stmt = tx.prepare(
            "INSERT INTO plain_op (origin, seq, hlc, tbl, row, field, val, preds, seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for op in ops {
            let n = origins.len() as i64;
            let origin = *origins.entry(op.id.origin).or_insert(n + 1);
            let n = fields.len() as i64;
            let field = *fields.entry((op.table, op.field.as_str())).or_insert(n + 1);
            let mut local = |ids: &[crate::sync::OpId]| {
                let pairs: Vec<(i64, i64)> = ids
                    .iter()
                    .map(|p| {
                        let n = origins.len() as i64;
                        (*origins.entry(p.origin).or_insert(n + 1), p.seq)
                    })
                    .collect();
                encode_local_ids(&pairs)
            };
            let preds = local(&op.preds);
            let seen = local(&op.seen);
            stmt.execute(params![
                origin,
                op.id.seq,
                op.hlc.to_i64(),
                op.table,
                op.row.as_bytes().as_slice(),
                field,
                op.value,
                preds,
                seen
            ])?;
        }
    }
    tx.commit()
}

/// One row for the plain tables: its table, id and field values.
pub type PlainRow = (
    crate::model::Table,
    uuid::Uuid,
    Vec<(&'static str, crate::model::FieldValue)>,
);

/// Inserts the rows of one filed household into plain tables of the same columns, in one
/// transaction: the baseline for filing speed.
pub fn insert_plain_rows(conn: &mut Connection, rows: &[PlainRow]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (table, id, fields) in rows {
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        let ph: Vec<String> = (0..fields.len()).map(|i| format!("?{}", i + 2)).collect();
        let sql = format!(
            "INSERT INTO plain_{} (id, {}) VALUES (?1, {})",
            table.sql_name(),
            names.join(", "),
            ph.join(", ")
        );
        let idv = crate::model::FieldValue::Bytes(id.as_bytes().to_vec());
        let values = std::iter::once(&idv).chain(fields.iter().map(|(_, v)| v));
        tx.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
    }
    tx.commit()
}

/// Creates plain copies (`plain_<table>`) of the materialized tables, without indexes.
pub fn create_plain_tables(conn: &Connection) -> rusqlite::Result<()> {
    for table in crate::model::Table::ALL {
        let cols: Vec<&str> = table.fields().iter().map(|f| f.name).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS plain_{} (id BLOB, {})",
            table.sql_name(),
            cols.join(", ")
        ))?;
    }
    Ok(())
}
