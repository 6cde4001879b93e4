//! Materializing rows: a row's shown values into its table (a new row in one insert, a
//! changed one field by field), with the search entries and list summary that follow.

use super::*;

impl Applier<'_> {
    /// A row new to this copy: one insert of every column, then its search entry.
    pub(super) fn materialize_new(
        &mut self,
        table: Table,
        row: Uuid,
        state: &RowState,
        dirty_households: &mut BTreeSet<Uuid>,
    ) -> rusqlite::Result<i64> {
        let specs = table.fields();
        let mut values: Vec<Option<&FieldValue>> = vec![None; specs.len()];
        let mut deleted = false;
        let mut any = false;
        for f in &state.fields {
            let value = winner(&f.heads).map(|h| &h.value);
            match self.slot(table, f.field)? {
                Slot::Deleted => {
                    deleted = matches!(value, Some(FieldValue::Int(1)));
                    any = true;
                }
                Slot::Column(i) => {
                    values[i] = value.filter(|v| fits(specs[i].kind, v));
                    any = true;
                }
                Slot::Unknown => {}
            }
        }
        if !any {
            return Ok(0);
        }
        let text = |name: &str| match specs.iter().position(|f| f.name == name) {
            Some(i) => match values[i] {
                Some(FieldValue::Text(t)) => t.as_str(),
                _ => "",
            },
            None => "",
        };
        let initials = (table == Table::Member).then(|| name_initials(text("name")));
        let conn = self.conn;
        let stmt = match self.insert_row.entry(table.code()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(conn.prepare_cached(&insert_sql(table))?)
            }
        };
        // Only the values the row has are bound: the rest stay NULL from the clearing (a new
        // row of a wide table leaves most columns empty).
        stmt.clear_bindings();
        stmt.raw_bind_parameter(1, row.as_bytes().as_slice())?;
        stmt.raw_bind_parameter(2, i64::from(deleted))?;
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v
                && !matches!(v, FieldValue::Null)
            {
                stmt.raw_bind_parameter(i + 3, *v)?;
            }
        }
        if let Some(initials) = &initials {
            stmt.raw_bind_parameter(values.len() + 3, initials)?;
        }
        let inserted = stmt.raw_execute()?;
        if inserted == 0 {
            // Materialized before with no head left to show (a file whose ops name each
            // other): update it like a row this copy held. (Row by row only: in a bulk load
            // the id index waits for the end, and such a row comes with its rowid instead.)
            return self.materialize_changed(table, row, state, dirty_households);
        }
        let rowid = self.conn.last_insert_rowid();
        if self.search_index && !deleted {
            // The entry waits in `search_pending` and is folded into the index with others'.
            if initials.is_some() {
                mark_pending(self.conn, PENDING_PERSON, rowid)?;
            } else if table == Table::Household && !text("code").is_empty() {
                mark_pending(self.conn, PENDING_HOUSEHOLD, rowid)?;
            }
        }
        let household = match specs.iter().position(|f| f.name == "household_id") {
            Some(i) => match values[i] {
                Some(FieldValue::Bytes(b)) => Uuid::from_slice(b).ok(),
                _ => None,
            },
            None if table == Table::Household => Some(row),
            None => None,
        };
        dirty_households.extend(household);
        Ok(rowid)
    }

    /// A row this copy held: its touched columns are updated, then its search entry. Returns
    /// where the row is in its table during a bulk load (0 outside one, or while it is in none).
    pub(super) fn materialize_changed(
        &mut self,
        table: Table,
        row: Uuid,
        state: &RowState,
        dirty_households: &mut BTreeSet<Uuid>,
    ) -> rusqlite::Result<i64> {
        let conn = self.conn;
        let mut cols: Vec<(&'static str, FieldValue)> = Vec::new();
        for f in state.fields.iter().filter(|f| f.touched) {
            let value = winner(&f.heads).map(|h| &h.value);
            match self.slot(table, f.field)? {
                Slot::Deleted => {
                    let deleted = matches!(value, Some(FieldValue::Int(1)));
                    cols.push((DELETED_FIELD, FieldValue::Int(i64::from(deleted))));
                }
                Slot::Column(i) => {
                    let spec = &table.fields()[i];
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
                Slot::Unknown => {}
            }
        }
        // In a bulk load the tables' id indexes wait for the end: the row is found by rowid.
        let bulk = self.bulk.is_some();
        let before = household_at(conn, table, row, bulk.then_some(state.rowid))?;
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
        let mut rowid = 0;
        if bulk {
            rowid = state.rowid;
            if !cols.is_empty() {
                rowid = write_at(conn, table, row, rowid, &cols)?;
            }
        } else if !cols.is_empty() {
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
            index_member(conn, row)?;
        }
        if self.search_index
            && table == Table::Household
            && cols
                .iter()
                .any(|(n, _)| matches!(*n, "code" | DELETED_FIELD))
        {
            index_household(conn, row, true)?;
        }
        Ok(rowid)
    }
}

/// In a bulk load, writes a row's changed columns where it is in its table (`rowid`, checked
/// against the row's id), or inserts it when it is in none yet (0); returns where it is now.
fn write_at(
    conn: &Connection,
    table: Table,
    row: Uuid,
    rowid: i64,
    cols: &[(&'static str, FieldValue)],
) -> rusqlite::Result<i64> {
    if rowid != 0 {
        // Identifiers come from the static field catalog, never from input.
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (n, _))| format!("{n} = ?{}", i + 3))
            .collect();
        let sql = format!(
            "UPDATE {t} SET {sets} WHERE rowid = ?1 AND id = ?2",
            t = table.sql_name(),
            sets = sets.join(", "),
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        stmt.raw_bind_parameter(1, rowid)?;
        stmt.raw_bind_parameter(2, row.as_bytes().as_slice())?;
        for (i, (_, v)) in cols.iter().enumerate() {
            stmt.raw_bind_parameter(i + 3, v)?;
        }
        if stmt.raw_execute()? == 1 {
            return Ok(rowid);
        }
        // Not there: the entry's rowid is of another table (a row of one table whose ops left
        // it no head, named later by an op of another, as a broken or forged file can do).
        // Inserted into this one, as the row-by-row merge does.
    }
    insert_cols(conn, table, row, cols, "")?;
    Ok(conn.last_insert_rowid())
}

/// The insert of a whole new row of a table: id, deleted, every catalog field in order, and
/// for members the local pinyin initials.
pub(super) fn insert_sql(table: Table) -> String {
    // Identifiers come from the static field catalog, never from input.
    let mut names: Vec<&str> = vec!["id", DELETED_FIELD];
    names.extend(table.fields().iter().map(|f| f.name));
    if table == Table::Member {
        names.push("initials");
    }
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT OR IGNORE INTO {t} ({cols}) VALUES ({ph})",
        t = table.sql_name(),
        cols = names.join(", "),
        ph = placeholders.join(", "),
    )
}

/// Whether a value may be materialized into a column of this kind.
pub(super) fn fits(kind: FieldKind, value: &FieldValue) -> bool {
    match (kind, value) {
        (_, FieldValue::Null) => true,
        (FieldKind::Text | FieldKind::Date, FieldValue::Text(_)) => true,
        (FieldKind::Int | FieldKind::Bool, FieldValue::Int(_)) => true,
        (FieldKind::Real, FieldValue::Real(_) | FieldValue::Int(_)) => true,
        (FieldKind::Ref, FieldValue::Bytes(b)) => b.len() == 16,
        _ => false,
    }
}

pub(super) fn upsert(
    conn: &Connection,
    table: Table,
    row: Uuid,
    cols: &[(&'static str, FieldValue)],
) -> rusqlite::Result<()> {
    let updates: Vec<String> = cols
        .iter()
        .map(|(n, _)| format!("{n} = excluded.{n}"))
        .collect();
    insert_cols(
        conn,
        table,
        row,
        cols,
        &format!(" ON CONFLICT (id) DO UPDATE SET {}", updates.join(", ")),
    )
}

/// Inserts a row's id and `cols`, with `then` after the values (an upsert's conflict clause,
/// or nothing).
fn insert_cols(
    conn: &Connection,
    table: Table,
    row: Uuid,
    cols: &[(&'static str, FieldValue)],
    then: &str,
) -> rusqlite::Result<()> {
    // Identifiers come from the static field catalog, never from input.
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    let placeholders: Vec<String> = (0..cols.len()).map(|i| format!("?{}", i + 2)).collect();
    let sql = format!(
        "INSERT INTO {t} (id, {cols}) VALUES (?1, {ph}){then}",
        t = table.sql_name(),
        cols = names.join(", "),
        ph = placeholders.join(", "),
    );
    let id = FieldValue::Bytes(row.as_bytes().to_vec());
    let values = std::iter::once(&id).chain(cols.iter().map(|(_, v)| v));
    conn.prepare_cached(&sql)?
        .execute(params_from_iter(values))?;
    Ok(())
}
