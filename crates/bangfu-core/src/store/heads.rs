//! The stored heads of each row: one `row_head` entry per row, holding every current head of
//! every field as sorted (field, device idx, seq) varint triples.
//!
//! One entry per row, not per field head: a merge writes one index entry for a row of ten
//! fields instead of ten, and a row's heads are read in one lookup. Only `apply.rs` writes
//! this table; readers decode it here.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::sync::op::{get_varint, put_varint};

/// One head of a field: (field number, device idx, seq).
pub type HeadKey = (i64, i64, i64);

/// Encodes sorted head keys.
pub(crate) fn encode(heads: &[HeadKey]) -> Vec<u8> {
    let mut out = Vec::with_capacity(heads.len() * 5);
    for &(field, origin, seq) in heads {
        put_varint(&mut out, field as u64);
        put_varint(&mut out, origin as u64);
        put_varint(&mut out, seq as u64);
    }
    out
}

/// Decodes a `row_head` entry; `None` when it is damaged.
pub(crate) fn decode(buf: &[u8]) -> Option<Vec<HeadKey>> {
    let mut pos = 0;
    let mut out = Vec::with_capacity(buf.len() / 4);
    while pos < buf.len() {
        let field = get_varint(buf, &mut pos)? as i64;
        let origin = get_varint(buf, &mut pos)? as i64;
        let seq = get_varint(buf, &mut pos)? as i64;
        out.push((field, origin, seq));
    }
    Some(out)
}

/// A `row_head` entry that does not decode: the file was damaged on disk or edited by hand.
#[derive(Debug, thiserror::Error)]
#[error("damaged head list of row {row}")]
pub struct DamagedHeads {
    pub row: String,
}

pub(crate) fn damaged(row: &[u8]) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Blob,
        Box::new(DamagedHeads { row: hex(row) }),
    )
}

/// Whether a database error is a damaged `row_head` entry.
pub(crate) fn is_damaged(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::FromSqlConversionFailure(_, _, inner)
        if inner.downcast_ref::<DamagedHeads>().is_some())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes an entry read from the table, as an error when damaged.
fn decode_stored(row: &[u8], buf: &[u8]) -> rusqlite::Result<Vec<HeadKey>> {
    decode(buf).ok_or_else(|| damaged(row))
}

/// Every head of a row, sorted; empty for a row never written.
pub(crate) fn load(conn: &Connection, row: Uuid) -> rusqlite::Result<Vec<HeadKey>> {
    let found: Option<Vec<u8>> = conn
        .prepare_cached("SELECT heads FROM row_head WHERE row = ?1")?
        .query_row([row.as_bytes().as_slice()], |r| r.get(0))
        .optional()?;
    match found {
        Some(buf) => decode_stored(row.as_bytes(), &buf),
        None => Ok(Vec::new()),
    }
}

/// Stores a row's heads (sorted), or removes its entry when it has none.
pub(crate) fn store(conn: &Connection, row: Uuid, heads: &[HeadKey]) -> rusqlite::Result<()> {
    store_encoded(conn, row, &encode(heads))
}

/// Stores a row's heads as [`encode`] gave them (empty: the row has none).
pub(crate) fn store_encoded(conn: &Connection, row: Uuid, buf: &[u8]) -> rusqlite::Result<()> {
    if buf.is_empty() {
        conn.prepare_cached("DELETE FROM row_head WHERE row = ?1")?
            .execute([row.as_bytes().as_slice()])?;
    } else {
        conn.prepare_cached("INSERT OR REPLACE INTO row_head (row, heads) VALUES (?1, ?2)")?
            .execute(params![row.as_bytes().as_slice(), buf])?;
    }
    Ok(())
}

/// Whether the row has any head at all.
pub(crate) fn exists(conn: &Connection, row: Uuid) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM row_head WHERE row = ?1)")?
        .query_row([row.as_bytes().as_slice()], |r| r.get(0))
}

/// Calls `f` with every row's id bytes and heads, in row order.
pub fn for_each_row<E: From<rusqlite::Error>>(
    conn: &Connection,
    mut f: impl FnMut(&[u8], Vec<HeadKey>) -> Result<(), E>,
) -> Result<(), E> {
    let mut stmt = conn.prepare("SELECT row, heads FROM row_head ORDER BY row")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (row, buf): (Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?);
        let keys = decode_stored(&row, &buf)?;
        f(&row, keys)?;
    }
    Ok(())
}

/// How many field heads the file holds, over all rows.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    let mut n = 0u64;
    for_each_row(conn, |_, keys| {
        n += keys.len() as u64;
        Ok::<_, rusqlite::Error>(())
    })?;
    Ok(n)
}

/// Schema 5 moved the heads from one `head` row per field head to one `row_head` entry per
/// row: fills `row_head` from the old table, in key order, then drops it.
pub(crate) fn migrate_from_head_table(conn: &Connection) -> rusqlite::Result<()> {
    {
        let mut read = conn.prepare("SELECT row, field, origin, seq FROM head ORDER BY row")?;
        let mut write = conn.prepare("INSERT INTO row_head (row, heads) VALUES (?1, ?2)")?;
        let mut rows = read.query([])?;
        let mut current: Option<Vec<u8>> = None;
        let mut heads: Vec<HeadKey> = Vec::new();
        let mut flush = |row: &[u8], heads: &mut Vec<HeadKey>| -> rusqlite::Result<()> {
            heads.sort_unstable();
            write.execute(params![row, encode(heads)])?;
            heads.clear();
            Ok(())
        };
        while let Some(r) = rows.next()? {
            let row: Vec<u8> = r.get(0)?;
            if let Some(prev) = current.as_deref()
                && prev != row.as_slice()
            {
                flush(prev, &mut heads)?;
            }
            heads.push((r.get(1)?, r.get(2)?, r.get(3)?));
            current = Some(row);
        }
        if let Some(prev) = current.as_deref() {
            flush(prev, &mut heads)?;
        }
    }
    conn.execute_batch("DROP TABLE head")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_lists_round_trip() {
        let heads = vec![(1, 1, 1), (3, 2, 300), (3, 7, 1 << 40), (90, 1, 5)];
        assert_eq!(decode(&encode(&heads)), Some(heads));
        assert_eq!(decode(&[]), Some(vec![]));
    }

    #[test]
    fn a_cut_head_list_is_refused() {
        let buf = encode(&[(1, 1, 1), (3, 2, 300)]);
        for len in 1..buf.len() {
            let cut = &buf[..len];
            // A prefix ending on a triple boundary is a shorter list; any other is refused.
            if let Some(list) = decode(cut) {
                assert_eq!(encode(&list), cut);
            }
        }
        assert_eq!(decode(&[0x80]), None);
    }
}
