//! The local search indexes (people by name, initials and ID number; households by code) and
//! the household list's summary rows, kept current as rows change.

use super::*;

/// The household a row belongs to (itself, for a household), for the list summary.
pub(super) fn household_of(
    conn: &Connection,
    table: Table,
    row: Uuid,
) -> rusqlite::Result<Option<Uuid>> {
    household_at(conn, table, row, None)
}

/// [`household_of`], the row found by id, or by where it is in its table (`Some(rowid)`, 0:
/// in none yet) and checked against its id: a bulk load's rows, while the tables' id indexes
/// wait for the load's end.
pub(super) fn household_at(
    conn: &Connection,
    table: Table,
    row: Uuid,
    rowid: Option<i64>,
) -> rusqlite::Result<Option<Uuid>> {
    let (by_id, by_rowid) = match table {
        Table::Household => return Ok(Some(row)),
        Table::Member => (
            "SELECT household_id FROM member WHERE id = ?1",
            "SELECT household_id FROM member WHERE rowid = ?2 AND id = ?1",
        ),
        Table::Visit => (
            "SELECT household_id FROM visit WHERE id = ?1",
            "SELECT household_id FROM visit WHERE rowid = ?2 AND id = ?1",
        ),
        _ => return Ok(None),
    };
    let id = row.as_bytes().as_slice();
    let found: Option<Option<Vec<u8>>> = match rowid {
        None => conn
            .prepare_cached(by_id)?
            .query_row([id], |r| r.get(0))
            .optional()?,
        Some(0) => None,
        Some(rowid) => conn
            .prepare_cached(by_rowid)?
            .query_row(params![id, rowid], |r| r.get(0))
            .optional()?,
    };
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

/// Keeps a changed member's search entry current (initials were written with the row).
pub(super) fn index_member(conn: &Connection, row: Uuid) -> rusqlite::Result<()> {
    let found: Option<(i64, Option<String>, Option<String>, i64)> = conn
        .prepare_cached("SELECT rowid, name, id_number, deleted FROM member WHERE id = ?1")?
        .query_row([row.as_bytes().as_slice()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((rowid, name, id_number, deleted)) = found else {
        return Ok(());
    };
    if is_pending(conn, PENDING_PERSON, rowid)? {
        // No entry yet: the fold reads the row as it is then.
        return Ok(());
    }
    let name = name.unwrap_or_default();
    let initials = name_initials(&name);
    let id_number = id_number.unwrap_or_default();
    let entry = (deleted == 0).then_some((name.as_str(), initials.as_str(), id_number.as_str()));
    write_person_index(conn, rowid, entry, true)
}

/// Writes one member's trigram search entry: (name, pinyin initials, ID number), or none for
/// a deleted member. `replace` drops the entry the member had before.
pub(super) fn write_person_index(
    conn: &Connection,
    rowid: i64,
    entry: Option<(&str, &str, &str)>,
    replace: bool,
) -> rusqlite::Result<()> {
    if replace {
        conn.prepare_cached("DELETE FROM person_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    if let Some((name, initials, id_number)) = entry {
        let text = format!("{name} {initials} {id_number}");
        conn.prepare_cached("INSERT INTO person_fts (rowid, text) VALUES (?1, ?2)")?
            .execute(params![rowid, text])?;
    }
    Ok(())
}

/// `search_pending.kind` of a member waiting for its `person_fts` entry.
pub(crate) const PENDING_PERSON: i64 = 0;
/// `search_pending.kind` of a household waiting for its `household_fts` entry.
pub(crate) const PENDING_HOUSEHOLD: i64 = 1;

/// How many new rows wait in `search_pending` before a write folds them into the trigram
/// indexes (issue 20): each commit to an FTS5 index writes a segment of its own, about six
/// pages with its merges whatever it holds, so a household's save wrote about twelve pages
/// for its two entries. Folded in batches, one segment serves some 25 saves of a household
/// and four members (a fold is then one save in 25, past the 95th percentile); a search
/// reads the waiting rows directly, at most this many plus one save's.
pub(crate) const SEARCH_PENDING_FOLD: i64 = 128;

/// Lists a new row's search entry as waiting (`kind` [`PENDING_PERSON`] or
/// [`PENDING_HOUSEHOLD`], `entry` the row's rowid). Until the fold, searches test the row
/// itself (`query::search_sources`).
pub(super) fn mark_pending(conn: &Connection, kind: i64, entry: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO search_pending (kind, entry) VALUES (?1, ?2)")?
        .execute([kind, entry])?;
    Ok(())
}

fn is_pending(conn: &Connection, kind: i64, entry: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM search_pending WHERE kind = ?1 AND entry = ?2)",
    )?
    .query_row([kind, entry], |r| r.get(0))
}

/// Folds the waiting rows into the trigram indexes once [`SEARCH_PENDING_FOLD`] wait, in the
/// write's own transaction: one segment per index for all of them. A waiting row has no
/// entry yet (a change to it left the indexes alone), so each gets its entry from the row as
/// it is now, or none when it is deleted.
pub(super) fn fold_search_pending_if_due(conn: &Connection) -> rusqlite::Result<()> {
    let waiting: i64 = conn
        .prepare_cached("SELECT count(*) FROM search_pending")?
        .query_row([], |r| r.get(0))?;
    if waiting >= SEARCH_PENDING_FOLD {
        fold_search_pending(conn)?;
    }
    Ok(())
}

/// Folds every waiting row into the trigram indexes (see [`fold_search_pending_if_due`]).
pub(crate) fn fold_search_pending(conn: &Connection) -> rusqlite::Result<()> {
    // The same text `write_person_index` writes; the initials column is written with the row.
    conn.prepare_cached(
        "INSERT INTO person_fts (rowid, text)
         SELECT m.rowid, coalesce(m.name, '') || ' ' || coalesce(m.initials, '') || ' '
                 || coalesce(m.id_number, '')
         FROM search_pending p JOIN member m ON m.rowid = p.entry
         WHERE p.kind = 0 AND m.deleted = 0",
    )?
    .execute([])?;
    conn.prepare_cached(
        "INSERT INTO household_fts (rowid, code)
         SELECT h.rowid, h.code FROM search_pending p JOIN household h ON h.rowid = p.entry
         WHERE p.kind = 1 AND h.deleted = 0 AND coalesce(h.code, '') <> ''",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM search_pending")?
        .execute([])?;
    Ok(())
}

/// How much of a whole-index write each trigram index gathers in memory before writing it as a
/// segment (FTS5's `hashsize`, 1 MB unless set). At 1 MB the 100,000-household county's people
/// were written as a hundred-odd segments that FTS5 then merged level by level; at 16 MB as a
/// handful (issue 20: the bulk load's search index in 2.1–2.4 s against 3.2–4.1, the import's
/// peak unchanged, since the end of a load holds far less than its middle).
const REBUILD_HASH_BYTES: i64 = 16 << 20;

/// FTS5's own `hashsize`, set back after a rebuild: stored in the index's config, a larger
/// size would stay for every later write (a large fold or an older version's rebuild).
const DEFAULT_HASH_BYTES: i64 = 1 << 20;

/// Sets the in-memory size of both trigram indexes' pending entries (stored in their config).
fn set_search_hash_size(conn: &Connection, bytes: i64) -> rusqlite::Result<()> {
    for table in ["person_fts", "household_fts"] {
        conn.prepare_cached(&format!(
            "INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?1)"
        ))?
        .execute([bytes])?;
    }
    Ok(())
}

/// Writes both search indexes afresh from the materialized tables, for a rebuild of every row.
/// Each index holds up to [`REBUILD_HASH_BYTES`] of entries in memory meanwhile (the household
/// codes' few MB wait while the people's are written).
pub(crate) fn rebuild_search_indexes(conn: &Connection) -> rusqlite::Result<()> {
    set_search_hash_size(conn, REBUILD_HASH_BYTES)?;
    // Set back only after a write that went through: both callers run it in a transaction, and
    // a failure rolls the setting back with it (a write after SQLite itself ended the
    // transaction would commit on its own).
    write_search_indexes(conn)?;
    set_search_hash_size(conn, DEFAULT_HASH_BYTES)
}

fn write_search_indexes(conn: &Connection) -> rusqlite::Result<()> {
    // The same text `write_person_index` writes: the initials column is written with every
    // member row, so it is read, not worked out again.
    conn.execute_batch(
        "DELETE FROM search_pending;
         INSERT INTO person_fts (person_fts) VALUES ('delete-all');
         INSERT INTO household_fts (household_fts) VALUES ('delete-all');
         INSERT INTO household_fts (rowid, code)
             SELECT rowid, code FROM household WHERE deleted = 0 AND coalesce(code, '') <> '';
         INSERT INTO person_fts (rowid, text)
             SELECT rowid, coalesce(name, '') || ' ' || coalesce(initials, '') || ' '
                 || coalesce(id_number, '')
             FROM member WHERE deleted = 0;",
    )
}

/// Keeps the household's code in the trigram index a digit search reads.
pub(super) fn index_household(conn: &Connection, row: Uuid, existed: bool) -> rusqlite::Result<()> {
    let found: Option<(i64, Option<String>, i64)> = conn
        .prepare_cached("SELECT rowid, code, deleted FROM household WHERE id = ?1")?
        .query_row([row.as_bytes().as_slice()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((rowid, code, deleted)) = found else {
        return Ok(());
    };
    if is_pending(conn, PENDING_HOUSEHOLD, rowid)? {
        return Ok(());
    }
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

pub(super) fn refresh_household_summary(
    conn: &Connection,
    household: Uuid,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO household_summary
             (household_id, head_name, head_id_number, members, heads, last_visit)
         SELECT ?1,
             coalesce((SELECT name FROM member WHERE household_id = ?1 AND deleted = 0
                       AND leave_date IS NULL AND relation = '01' ORDER BY id LIMIT 1), ''),
             coalesce((SELECT id_number FROM member WHERE household_id = ?1 AND deleted = 0
                       AND leave_date IS NULL AND relation = '01' ORDER BY id LIMIT 1), ''),
             (SELECT count(*) FROM member WHERE household_id = ?1 AND deleted = 0
                  AND leave_date IS NULL),
             (SELECT count(*) FROM member WHERE household_id = ?1 AND deleted = 0
                  AND leave_date IS NULL AND relation = '01'),
             (SELECT max(visit_date) FROM visit WHERE household_id = ?1 AND deleted = 0)",
    )?
    .execute([household.as_bytes().as_slice()])?;
    Ok(())
}

/// The list summary of many households at once, as [`refresh_household_summary`] writes it
/// for one: a bulk load's end, where one pass over the members and visits beats a lookup per
/// household.
pub(super) fn write_household_summaries(
    conn: &Connection,
    households: BTreeSet<Uuid>,
) -> rusqlite::Result<()> {
    let ids: Vec<rusqlite::types::Value> = households
        .into_iter()
        .map(|h| rusqlite::types::Value::Blob(h.as_bytes().to_vec()))
        .collect();
    // Members who left (减员) are not counted. The head is the current member filed as 户主 with the lowest id: SQLite takes the bare
    // columns of a min() aggregate from the row holding the minimum.
    conn.execute(
        "INSERT OR REPLACE INTO household_summary
             (household_id, head_name, head_id_number, members, heads, last_visit)
         SELECT d.value, coalesce(h.name, ''), coalesce(h.id_number, ''),
             coalesce(c.members, 0), coalesce(c.heads, 0), v.last_visit
         FROM rarray(?1) AS d
         LEFT JOIN (SELECT household_id, count(*) AS members,
                        coalesce(sum(relation = '01'), 0) AS heads
                    FROM member NOT INDEXED WHERE deleted = 0 AND leave_date IS NULL
                    GROUP BY household_id) AS c
             ON c.household_id = d.value
         LEFT JOIN (SELECT household_id, name, id_number, min(id)
                    FROM member NOT INDEXED WHERE deleted = 0 AND leave_date IS NULL
                        AND relation = '01'
                    GROUP BY household_id) AS h
             ON h.household_id = d.value
         LEFT JOIN (SELECT household_id, max(visit_date) AS last_visit
                    FROM visit NOT INDEXED WHERE deleted = 0 GROUP BY household_id) AS v
             ON v.household_id = d.value",
        [std::rc::Rc::new(ids)],
    )?;
    Ok(())
}
