//! A digest of a copy's replicated data and review queue, so two copies can confirm they agree.

use std::collections::HashMap;

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
    // Heads by row, then by (table, field name, device id, seq): names, not local numbers.
    let fields: HashMap<i64, (i64, String)> = conn
        .prepare("SELECT idx, tbl, name FROM field_name")?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<Result<_, _>>()?;
    let devices: HashMap<i64, Vec<u8>> = conn
        .prepare("SELECT idx, id FROM device")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let unknown = |what: &str, idx: i64| StoreError::Corrupt {
        path: store.path().to_path_buf(),
        detail: format!("a head names {what} {idx}, which the file does not hold"),
    };
    hasher.update(b"heads");
    crate::store::heads::for_each_row(conn, |row, keys| {
        let mut named = Vec::with_capacity(keys.len());
        for (field, origin, seq) in keys {
            let (tbl, name) = fields.get(&field).ok_or_else(|| unknown("field", field))?;
            let id = devices
                .get(&origin)
                .ok_or_else(|| unknown("device", origin))?;
            named.push((*tbl, name.as_str(), id.as_slice(), seq));
        }
        named.sort_unstable();
        for (tbl, name, id, seq) in named {
            feed(&mut hasher, &FieldValue::Bytes(row.to_vec()));
            feed(&mut hasher, &FieldValue::Int(tbl));
            feed(&mut hasher, &FieldValue::Text(name.to_owned()));
            feed(&mut hasher, &FieldValue::Bytes(id.to_vec()));
            feed(&mut hasher, &FieldValue::Int(seq));
        }
        Ok::<_, StoreError>(())
    })?;
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
