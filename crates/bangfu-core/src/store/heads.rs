//! The stored heads of each row: one `row_head` entry per row, holding every current head of
//! every field as sorted (field, device idx, seq) triples.
//!
//! One entry per row, not per field head: a merge writes one index entry for a row of ten
//! fields instead of ten, and a row's heads are read in one lookup. Only `apply.rs` writes
//! this table; readers decode it here.
//!
//! An entry is written as a 0 byte and then, per head, three varints: the field's distance
//! from the head before, the device idx, and the seq's distance from the head before (zigzag,
//! it may go down). A row filed in one sitting has its fields' seqs a step or two apart, so a
//! head takes three bytes or so instead of five to seven: a county's `row_head` is a third
//! smaller, and a merge writes that many fewer pages. Entries of files written before (plain
//! triples, whose first byte is never 0: field numbers start at 1) are read as they are.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::sync::op::{get_varint, put_varint};

/// One head of a field: (field number, device idx, seq).
pub type HeadKey = (i64, i64, i64);

/// The first byte of an entry of distances; an entry of plain triples never starts with it.
const DISTANCES: u8 = 0;

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Encodes sorted head keys (no heads: an empty entry).
pub(crate) fn encode(heads: &[HeadKey]) -> Vec<u8> {
    if heads.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(1 + heads.len() * 4);
    out.push(DISTANCES);
    let (mut field_before, mut seq_before) = (0i64, 0i64);
    for &(field, origin, seq) in heads {
        put_varint(&mut out, field.wrapping_sub(field_before) as u64);
        put_varint(&mut out, origin as u64);
        put_varint(&mut out, zigzag(seq.wrapping_sub(seq_before)));
        (field_before, seq_before) = (field, seq);
    }
    out
}

/// Decodes a `row_head` entry; `None` when it is damaged.
pub(crate) fn decode(buf: &[u8]) -> Option<Vec<HeadKey>> {
    if buf.first() == Some(&DISTANCES) {
        return decode_distances(&buf[1..]);
    }
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

fn decode_distances(buf: &[u8]) -> Option<Vec<HeadKey>> {
    let mut pos = 0;
    let mut out = Vec::with_capacity(buf.len() / 3);
    let (mut field, mut seq) = (0i64, 0i64);
    while pos < buf.len() {
        field = field.checked_add(i64::try_from(get_varint(buf, &mut pos)?).ok()?)?;
        let origin = i64::try_from(get_varint(buf, &mut pos)?).ok()?;
        seq = seq.checked_add(unzigzag(get_varint(buf, &mut pos)?))?;
        out.push((field, origin, seq));
    }
    // An entry of distances always holds a head: an empty one is damage.
    (!out.is_empty()).then_some(out)
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
        insert_statement(conn)?.execute(params![row.as_bytes().as_slice(), buf])?;
    }
    Ok(())
}

/// The write of one row's encoded heads (row, entry), for a caller writing many.
pub(crate) fn insert_statement(
    conn: &Connection,
) -> rusqlite::Result<rusqlite::CachedStatement<'_>> {
    conn.prepare_cached("INSERT OR REPLACE INTO row_head (row, heads) VALUES (?1, ?2)")
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

    /// Heads come back as they went in, in fewer bytes than plain triples, and entries of
    /// files written before still read.
    #[test]
    fn heads_are_kept_as_distances_and_old_entries_still_read() {
        // A household filed in one sitting (seqs a step apart), a field edited by two
        // devices at once, a device idx and seq far apart.
        let mut heads: Vec<HeadKey> = (1..=40).map(|f| (f, 1, 1_000_000 + f * 2)).collect();
        heads.push((41, 1, 5));
        heads.push((41, 3, 2_000_000));
        heads.push((300, 70_000, i64::MAX));
        heads.sort_unstable();
        let buf = encode(&heads);
        assert_eq!(decode(&buf), Some(heads.clone()));
        let mut plain = Vec::new();
        for &(field, origin, seq) in &heads {
            put_varint(&mut plain, field as u64);
            put_varint(&mut plain, origin as u64);
            put_varint(&mut plain, seq as u64);
        }
        assert_eq!(
            decode(&plain),
            Some(heads.clone()),
            "an entry written before"
        );
        assert!(
            buf.len() * 10 < plain.len() * 7,
            "{} bytes against {} as plain triples",
            buf.len(),
            plain.len()
        );
        assert!(encode(&[]).is_empty(), "no heads: no entry");
        // Cut short or holding nothing: damaged, never a shorter list.
        assert_eq!(decode(&buf[..buf.len() - 1]), None);
        assert_eq!(decode(&[DISTANCES]), None);
        assert_eq!(decode(&[0x80]), None);
    }
}
