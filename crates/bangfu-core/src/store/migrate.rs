//! Embedded, append-only schema migrations and the checks made before a file is touched.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// Marks a SQLite file as a Bangfu data file (`PRAGMA application_id`): "BF01".
pub const APPLICATION_ID: i64 = 0x4246_3031;

/// Migrations in order; migration N brings the schema to version N. Never edit one that has
/// shipped: add the next.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_exit.sql"),
    include_str!("../../migrations/0003_hub.sql"),
    include_str!("../../migrations/0004_search.sql"),
    include_str!("../../migrations/0005_row_heads.sql"),
    include_str!("../../migrations/0006_clock_flags.sql"),
    include_str!("../../migrations/0007_signing.sql"),
    include_str!("../../migrations/0008_standards.sql"),
    include_str!("../../migrations/0009_sealing.sql"),
    include_str!("../../migrations/0010_policies.sql"),
    include_str!("../../migrations/0011_people.sql"),
    include_str!("../../migrations/0012_member_changes.sql"),
    include_str!("../../migrations/0013_archive.sql"),
    include_str!("../../migrations/0014_work_teams.sql"),
    include_str!("../../migrations/0015_village_sheet.sql"),
    include_str!("../../migrations/0016_fewer_pages_per_save.sql"),
    include_str!("../../migrations/0017_household_filing_date.sql"),
    include_str!("../../migrations/0018_search_pending.sql"),
    include_str!("../../migrations/0019_batch_author.sql"),
    include_str!("../../migrations/0020_relocation_site_village.sql"),
    include_str!("../../migrations/0021_county_settings.sql"),
    include_str!("../../migrations/0022_batch_parts.sql"),
    include_str!("../../migrations/0023_county_certs.sql"),
    include_str!("../../migrations/0024_vouched_by.sql"),
    include_str!("../../migrations/0025_withdrawn_ops.sql"),
    include_str!("../../migrations/0026_row_id_indexes.sql"),
];

/// Steps a migration needs beyond its SQL, run right after it in the same transaction.
fn after_script(conn: &Connection, version: i64) -> rusqlite::Result<()> {
    match version {
        5 => super::heads::migrate_from_head_table(conn),
        8 => standard_ops_need_rebuild(conn),
        10 => policy_ops_need_rebuild(conn),
        12 => member_change_ops_need_rebuild(conn),
        13 => archive_ops_need_rebuild(conn),
        14 => work_team_ops_need_rebuild(conn),
        15 => village_sheet_ops_need_rebuild(conn),
        17 => filing_date_ops_need_rebuild(conn),
        20 => site_village_ops_need_rebuild(conn),
        21 => county_setting_ops_need_rebuild(conn),
        24 => device_keys_vouched_before(conn),
        26 => id_indexes_named(conn),
        _ => Ok(()),
    }
}

/// Schema 24: the device keys the county's or the hub's word confirmed before this version
/// recorded whose word it was are found in the audit log (each such confirmation wrote a
/// `vouch_device` entry naming the key's 安全码; a person's wrote `confirm_device`) and marked
/// as the county key's believed now (the hub's, when none is), so that taking a renewed
/// county key withdraws them too. A key a person also confirmed stays a person's.
fn device_keys_vouched_before(conn: &Connection) -> rusqlite::Result<()> {
    let word: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'county_key'", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_else(|| super::device_keys::VOUCHED_BY_HUB.to_owned());
    let keys: Vec<(Vec<u8>, Vec<u8>)> = conn
        .prepare("SELECT device, public_key FROM device_key WHERE confirmed = 1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mentioned = |action: &str, fingerprint: &str| -> rusqlite::Result<bool> {
        conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = ?1 AND instr(what, ?2) > 0)",
        )?
        .query_row([action, fingerprint], |r| r.get(0))
    };
    for (device, public_key) in keys {
        let fingerprint = crate::sync::signing::fingerprint(&public_key);
        if mentioned("vouch_device", &fingerprint)? && !mentioned("confirm_device", &fingerprint)? {
            conn.execute(
                "UPDATE device_key SET vouched_by = ?2 WHERE device = ?1",
                rusqlite::params![device, word],
            )?;
        }
    }
    Ok(())
}

/// The materialized tables as schema 26 knew them: their `id BLOB NOT NULL UNIQUE` becomes
/// `id BLOB NOT NULL` with a unique index of that name beside it.
const TABLES_OF_SCHEMA_26: [&str; 16] = [
    "village",
    "household",
    "member",
    "income",
    "helper",
    "pairing",
    "measure",
    "visit",
    "exit_step",
    "standard",
    "policy",
    "payment",
    "relocation",
    "attachment",
    "team_member",
    "county_setting",
];

/// The inline constraint schema 26 replaces, as the earlier migrations wrote it.
const INLINE_UNIQUE_ID: &str = "id BLOB NOT NULL UNIQUE";

/// Schema 26 (issue 20): an empty materialized table keeps its ids unique through a named
/// index a bulk load can drop and build again (SQLite cannot drop the index of an inline
/// UNIQUE); the table is made again under its own name with the same columns and indexes. A
/// table that holds rows keeps its inline constraint: a bulk load only ever goes into a copy
/// whose tables are all empty, and copying a county's tables at the first open after an
/// upgrade would take a minute and grow the log by their size for nothing. Both shapes keep
/// ids unique and answer the same statements (`ON CONFLICT (id)` takes either).
fn id_indexes_named(conn: &Connection) -> rusqlite::Result<()> {
    for table in TABLES_OF_SCHEMA_26 {
        let sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .optional()?;
        let Some(sql) = sql.filter(|sql| sql.contains(INLINE_UNIQUE_ID)) else {
            continue;
        };
        // Names come from the list above and the file's own schema, never from input.
        let empty: bool = conn.query_row(
            &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
            [],
            |r| r.get(0),
        )?;
        if !empty {
            continue;
        }
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name",
            )?
            .query_map([table], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        conn.execute_batch(&format!(
            "DROP TABLE {table}; {created};",
            created = sql.replacen(INLINE_UNIQUE_ID, "id BLOB NOT NULL", 1),
        ))?;
        for index in indexes {
            conn.execute_batch(&index)?;
        }
        conn.execute_batch(&format!(
            "CREATE UNIQUE INDEX {table}_id_unique ON {table} (id)"
        ))?;
    }
    Ok(())
}

/// Schema 8: a log that already holds 脱贫标准 ops (table 10, kept by an older version that had
/// no table for them) has its rows rebuilt at this open, so the county's standards show.
fn standard_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1)",
        [crate::model::Table::Standard.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Asks for the rows to be rebuilt at this open (cleared by the rebuild's own commit) when a
/// migration's after-script found ops it adds a place for.
fn mark_rebuild_pending(conn: &Connection, needed: bool) -> rusqlite::Result<()> {
    if needed {
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, 1)",
            [REBUILD_PENDING],
        )?;
    }
    Ok(())
}

/// Schema 12: a log that already holds values of the fields schema 12 adds (members' 增员/减员,
/// the standards' 养老 check, the notice's 民主评议; kept by an older version from a newer
/// laptop's file) has its rows rebuilt at this open, so they show.
fn member_change_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    use crate::model::Table;
    // A newer version writes these fields (empty) with every row, so only a value in them
    // needs the rows rebuilt. Field numbers are unique across tables: one pass over the log.
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE coalesce(val, '') <> '' AND field IN (
             SELECT idx FROM field_name WHERE
                (tbl = ?1 AND name IN ('join_date', 'join_reason', 'leave_date', 'leave_reason'))
             OR (tbl = ?2 AND name IN ('check_pension', 'pension_age_from'))
             OR (tbl = ?3 AND name IN ('review_date', 'review_attendance', 'review_agreed'))))",
        [
            Table::Member.code(),
            Table::Standard.code(),
            Table::ExitStep.code(),
        ],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 10: a log that already holds ops of the policy catalogue, of payments, of relocation
/// stages, or of the
/// structured measures' new fields (kept by an older version from a newer laptop's file) has
/// its rows rebuilt at this open, so they show; any other file needs no rebuild.
fn policy_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    use crate::model::Table;
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl IN (?1, ?2, ?4))
             OR EXISTS (SELECT 1 FROM field_name WHERE tbl = ?3
                        AND name IN ('policy_id', 'member_id', 'amount_due'))",
        [
            Table::Policy.code(),
            Table::Payment.code(),
            Table::Measure.code(),
            Table::Relocation.code(),
        ],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 13 (the archive): a log that already holds attachment ops (kept by an older version
/// from a newer laptop's file) has its rows rebuilt at this open, so they show.
fn archive_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1)",
        [crate::model::Table::Attachment.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 14 (驻村工作队, 培训): a log that already holds team member ops, or values of the
/// measures' training fields (kept by an older version from a newer laptop's file), has its
/// rows rebuilt at this open, so they show.
fn work_team_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    use crate::model::Table;
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1)
             OR EXISTS (SELECT 1 FROM op WHERE coalesce(val, '') <> '' AND field IN (
                 SELECT idx FROM field_name WHERE tbl = ?2
                    AND name IN ('training_kind', 'training_days', 'certificate')))",
        [Table::TeamMember.code(), Table::Measure.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 15 (the 村情 page): a log that already holds a value of the village fields schema 15
/// adds (贫困村 status, 达标日期, 佐证材料; kept by an older version from a newer laptop's file)
/// has its rows rebuilt at this open, so they show.
fn village_sheet_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE coalesce(val, '') <> '' AND field IN (
             SELECT idx FROM field_name WHERE tbl = ?1
                AND (name IN ('poor_village', 'exit_year')
                     OR name LIKE '%\\_date' ESCAPE '\\' OR name LIKE '%\\_evidence' ESCAPE '\\')))",
        [crate::model::Table::Village.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 17: a log that already holds households' 建档日期 (kept by an older version from a
/// newer laptop's file) has its rows rebuilt at this open, so the date shows.
fn filing_date_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1 AND coalesce(val, '') <> ''
                        AND field IN (SELECT idx FROM field_name
                                      WHERE tbl = ?1 AND name = 'filing_date'))",
        [crate::model::Table::Household.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 20: a log that already holds the 安置点's village of relocation stages (kept by an
/// older version from a newer laptop's file) has its rows rebuilt at this open, so it shows.
fn site_village_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1 AND coalesce(val, '') <> ''
                        AND field IN (SELECT idx FROM field_name
                                      WHERE tbl = ?1 AND name = 'site_village'))",
        [crate::model::Table::Relocation.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Schema 21: a log that already holds 县级设置 ops (table 16, kept by an older version that had
/// no table for them) has its rows rebuilt at this open, so the county's settings apply.
fn county_setting_ops_need_rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let held: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM op WHERE tbl = ?1)",
        [crate::model::Table::CountySetting.code()],
        |r| r.get(0),
    )?;
    mark_rebuild_pending(conn, held)
}

/// Whether migration N (index N-1) may add columns for fields an older version kept only in
/// the op log: then the rows are rebuilt from the heads after it. Schema 5 only moves the
/// heads into one entry per row, schema 6 adds the local clock flags, schema 7 the local
/// signing tables; nothing shown changes. Schema 8 adds the replicated `standard` table: only
/// a file whose log already holds its ops (kept by an older version without a table to show
/// them in) is rebuilt, by its after-script. Schema 9 adds the local sealing keys. Schema 10
/// (policies, payments, structured measures) is like 8: its after-script decides. Schema 11
/// adds the local people, audit log and authorship. Schema 12 (members' 增员/减员 fields) and
/// schema 13 (the archive's attachments and files), schema 14 (驻村工作队) and schema 15 (the
/// 村情 page's village fields) are like 8: their after-scripts decide. Schema 16
/// (`0016_fewer_pages_per_save`) drops an index: nothing shown changes. Schema 17 (the
/// households' 建档日期) is like 8: its after-script decides. Schema 18 (`0018_search_pending`)
/// adds the search entries' waiting table: nothing shown changes. Schema 19
/// (`0019_batch_author`) adds who wrote a batch beside its signature: nothing shown changes.
/// Schema 20 (the 安置点's village of a relocation stage) and schema 21 (the replicated
/// `county_setting` table) are like 8: their after-scripts decide. Schema 22
/// (`0022_batch_parts`) adds the local parts of cut batches and schema 23 (`0023_county_certs`)
/// the county's certificates of device keys: nothing shown changes. Schema 24
/// (`0024_vouched_by`) records whose word confirmed a device key and schema 25
/// (`0025_withdrawn_ops`) the ops a key that gave way signed: nothing shown changes. Schema 26
/// (`0026_row_id_indexes`) gives empty tables a named unique index for their ids: nothing
/// shown changes.
const REBUILD_AFTER: &[bool] = &[
    true, true, true, true, false, false, false, false, false, false, false, false, false, false,
    false, false, false, false, false, false, false, false, false, false, false, false,
];

/// Whether upgrading a file of schema `from` must rebuild its rows from the heads.
pub fn upgrade_needs_rebuild(from: i64) -> bool {
    from > 0
        && REBUILD_AFTER
            .iter()
            .skip(from as usize)
            .any(|&rebuild| rebuild)
}

/// The `meta` key set by an upgrade that must rebuild the rows, until the rebuild commits.
pub const REBUILD_PENDING: &str = "rebuild_pending";

/// Whether an upgrade's rebuild of the rows has not committed yet.
pub fn rebuild_pending(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM meta WHERE key = ?1)",
        [REBUILD_PENDING],
        |r| r.get(0),
    )
}

pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Refuses a file that is not SQLite, before SQLite is allowed to touch it.
pub fn check_file_header(path: &Path) -> Result<(), StoreError> {
    // Through `held_files`: a store of this process may have the file open.
    let mut header = [0u8; 16];
    match super::held_files::read_start(path, path, &mut header) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()), // missing: it will be created
        Ok(0) => Ok(()), // empty file: treated as a new data file
        Ok(16) if &header == b"SQLite format 3\0" => Ok(()),
        Ok(_) => Err(StoreError::NotADataFile {
            path: path.to_path_buf(),
        }),
        Err(_) => Err(StoreError::Open {
            path: path.to_path_buf(),
            source: rusqlite::Error::InvalidPath(path.to_path_buf()),
        }),
    }
}

/// Reads what the file says it is, without writing. Returns the schema version (0 = new).
pub fn inspect(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let corrupt = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADataFile {
            path: path.to_path_buf(),
        },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
        _ => StoreError::Sqlite(e),
    };
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(corrupt)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(corrupt)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(corrupt)?;
    if app_id != APPLICATION_ID {
        if objects == 0 && version == 0 && app_id == 0 {
            return Ok(0);
        }
        return Err(StoreError::ForeignDatabase {
            path: path.to_path_buf(),
        });
    }
    if version > latest_version() {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: latest_version(),
        });
    }
    Ok(version)
}

/// Applies the migrations the file lacks, all in one transaction.
pub fn migrate(conn: &mut Connection, from: i64) -> Result<(), StoreError> {
    if from >= latest_version() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql)?;
        after_script(&tx, i as i64 + 1)?;
    }
    if upgrade_needs_rebuild(from) {
        // Cleared by the rebuild's own transaction: a file closed (or killed) between the two
        // is rebuilt at its next open instead of keeping rows the new schema never filled.
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, 1)",
            [REBUILD_PENDING],
        )?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", latest_version())?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_says_whether_an_upgrade_over_it_rebuilds_rows() {
        assert_eq!(REBUILD_AFTER.len(), MIGRATIONS.len());
        assert!(
            !upgrade_needs_rebuild(0),
            "a new file has no rows to rebuild"
        );
        assert!(upgrade_needs_rebuild(3));
        assert!(!upgrade_needs_rebuild(4), "schema 5 only moves the heads");
        assert!(!upgrade_needs_rebuild(latest_version()));
    }
}
