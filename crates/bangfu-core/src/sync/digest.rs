//! A digest of a copy's replicated data and review queue, so two copies can confirm they agree.

use sha2::{Digest, Sha256};

use crate::model::{FieldValue, Table};
use crate::store::{Store, StoreError};

fn feed(hasher: &mut Sha256, v: &FieldValue) {
    match v {
        FieldValue::Null => hasher.update([0]),
        FieldValue::Int(i) => {
            hasher.update([1]);
            hasher.update(i.to_le_bytes());
        }
        FieldValue::Real(r) => {
            hasher.update([2]);
            hasher.update(r.to_le_bytes());
        }
        FieldValue::Text(t) => {
            hasher.update([3]);
            hasher.update((t.len() as u64).to_le_bytes());
            hasher.update(t.as_bytes());
        }
        FieldValue::Bytes(b) => {
            hasher.update([4]);
            hasher.update((b.len() as u64).to_le_bytes());
            hasher.update(b);
        }
    }
}

/// SHA-256 over every materialized row (deleted ones included) and every field head with its
/// op id, in a canonical order. Local numbering (device idx, field idx) never enters it.
pub fn state_hash(store: &Store) -> Result<String, StoreError> {
    let conn = store.conn();
    let mut hasher = Sha256::new();
    for table in Table::ALL {
        let cols: Vec<&str> = table.fields().iter().map(|f| f.name).collect();
        let sql = format!(
            "SELECT id, deleted, {} FROM {} ORDER BY id",
            cols.join(", "),
            table.sql_name()
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        hasher.update(table.sql_name().as_bytes());
        while let Some(r) = rows.next()? {
            for i in 0..cols.len() + 2 {
                feed(&mut hasher, &FieldValue::from_sql(r.get_ref(i)?));
            }
        }
    }
    let mut stmt = conn.prepare(
        "SELECT h.row, f.tbl, f.name, d.id, h.seq FROM head h
         JOIN field_name f ON f.idx = h.field JOIN device d ON d.idx = h.origin
         ORDER BY h.row, f.tbl, f.name, d.id, h.seq",
    )?;
    let mut rows = stmt.query([])?;
    hasher.update(b"heads");
    while let Some(r) = rows.next()? {
        for i in 0..5 {
            feed(&mut hasher, &FieldValue::from_sql(r.get_ref(i)?));
        }
    }
    let mut stmt = conn.prepare(
        "SELECT r.row, f.tbl, f.name, r.kind FROM review_item r
         JOIN field_name f ON f.idx = r.field ORDER BY r.row, f.tbl, f.name, r.kind",
    )?;
    let mut rows = stmt.query([])?;
    hasher.update(b"review");
    while let Some(r) = rows.next()? {
        for i in 0..4 {
            feed(&mut hasher, &FieldValue::from_sql(r.get_ref(i)?));
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
