//! Proof that no other program has a data file open, taken before the file is replaced under
//! it (a restore, the first encryption).
//!
//! A program with the file open keeps reading and writing the file it opened: replaced by a
//! rename and its log removed, it would write on into a file no one else sees, and its work
//! would be lost at its next start. Our writer lock (`lock.rs`) is held only while a write
//! runs, and a `TRUNCATE` checkpoint does not wait for an idle connection, so neither proves
//! anything. Leaving WAL mode does: SQLite changes the journal mode only with the exclusive
//! lock of the file, which it cannot get while any connection of another program (or of this
//! one) has the file open in WAL mode.

use rusqlite::Connection;

use super::StoreError;

/// Folds the log into the data file and leaves WAL mode through `conn` (a connection on
/// `path`), refusing with [`StoreError::OpenElsewhere`] when another connection has the file
/// open. The file is about to be replaced; a later open puts it back in WAL mode.
pub(crate) fn fold_and_prove_alone(
    conn: &Connection,
    path: &std::path::Path,
) -> Result<(), StoreError> {
    let elsewhere = || StoreError::OpenElsewhere {
        path: path.to_path_buf(),
    };
    let busy = |e: &rusqlite::Error| {
        matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    };
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(0) => {}
        Ok(_) => return Err(elsewhere()),
        Err(e) if busy(&e) => return Err(elsewhere()),
        Err(e) => return Err(e.into()),
    }
    match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    }) {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => Ok(()),
        Ok(_) => Err(elsewhere()),
        Err(e) if busy(&e) => Err(elsewhere()),
        Err(e) => Err(e.into()),
    }
}
