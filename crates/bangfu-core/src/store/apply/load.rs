//! Reading a row's current heads and the ops behind them back from the file.

use super::*;

/// Loads every current head of a row, with what deciding the winner needs.
pub(super) fn load_row(
    conn: &Connection,
    dict: &mut Dictionary,
    row: Uuid,
    table: i64,
) -> rusqlite::Result<RowState> {
    let keys = heads::load(conn, row)?;
    row_from_heads(conn, dict, table, keys)
}

/// A row's state from its stored head keys, with each head's op read from the log.
pub(super) fn row_from_heads(
    conn: &Connection,
    dict: &mut Dictionary,
    table: i64,
    keys: Vec<HeadKey>,
) -> rusqlite::Result<RowState> {
    // The table a row belongs to is the table of its stored fields.
    let stored_table = match keys.first() {
        Some(&(field, _, _)) => dict.field_name(conn, field)?.0,
        None => table,
    };
    let mut state = RowState::new(stored_table);
    state.existed = !keys.is_empty();
    for &(field, origin, seq) in &keys {
        let (hlc, value, seen) = load_op(conn, origin, seq)?;
        let origin_id = dict.device_id(conn, origin)?;
        let pos = state.field_pos(field);
        state.fields[pos].heads.push(Head {
            origin,
            seq,
            hlc,
            origin_id,
            value,
            seen,
        });
    }
    state.stored = keys;
    Ok(state)
}

/// What deciding between heads needs of one op: its clock, value and the heads it saw.
type StoredOp = (Hlc, FieldValue, Vec<(i64, i64)>);

pub(super) fn load_op(conn: &Connection, origin: i64, seq: i64) -> rusqlite::Result<StoredOp> {
    conn.prepare_cached("SELECT hlc, val, seen FROM op WHERE origin = ?1 AND seq = ?2")?
        .query_row([origin, seq], |r| {
            let seen: Option<Vec<u8>> = r.get(2)?;
            Ok((
                Hlc::from_i64(r.get(0)?),
                FieldValue::from_sql(r.get_ref(1)?),
                seen.and_then(|b| decode_local_ids(&b)).unwrap_or_default(),
            ))
        })
}
