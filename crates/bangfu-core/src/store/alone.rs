//! Proof that no other program has a data file open, taken before the file is replaced under
//! it (a restore, the first encryption).
//!
//! A program with the file open keeps reading and writing the file it opened: replaced by a
//! rename and its log removed, it would write on into a file no one else sees, and its work
//! would be lost at its next start. Our writer lock (`lock.rs`) is held only while a write
//! runs, and a `TRUNCATE` checkpoint does not wait for an idle connection, so neither proves
//! anything. Leaving WAL mode does: SQLite changes the journal mode only with the exclusive
//! lock of the file, which it cannot get while any connection of another program (or of this
//! one) has the file open in WAL mode. In exclusive locking mode the connection keeps that lock
//! until it is closed: the caller keeps it open until the file is replaced, so no program opens
//! the file in between (it waits, or is told the file is busy).

use rusqlite::Connection;

use super::StoreError;

/// Folds the log into the data file and leaves WAL mode through `conn` (a connection on
/// `path`), refusing with [`StoreError::OpenElsewhere`] when another connection has the file
/// open; `conn` then holds the file's exclusive lock until it is closed. The file is about to
/// be replaced; a later open puts it back in WAL mode.
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
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
    match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    }) {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => Ok(()),
        Ok(_) => Err(elsewhere()),
        Err(e) if busy(&e) => Err(elsewhere()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Refused while another connection has the file open; once alone, the proving connection
    /// keeps everyone else out until it is closed.
    #[test]
    fn proven_alone_only_when_alone_and_kept_so_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("村.sqlite");
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let prover = Connection::open(&path).unwrap();
        let refused = fold_and_prove_alone(&prover, &path).unwrap_err();
        assert!(
            matches!(refused, StoreError::OpenElsewhere { .. }),
            "{refused:?}"
        );
        drop(prover);
        drop(other);

        let prover = Connection::open(&path).unwrap();
        fold_and_prove_alone(&prover, &path).unwrap();
        let late = Connection::open(&path).unwrap();
        let kept_out = late.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0));
        assert!(kept_out.is_err(), "{kept_out:?}");
        drop(prover);
        assert_eq!(
            late.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            1
        );
    }
}
