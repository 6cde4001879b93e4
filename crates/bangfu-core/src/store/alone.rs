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

impl super::Store {
    /// Takes the file alone for a bulk load when `expected` ops make one and the copy holds
    /// no rows yet (a station's first merge, a new laptop set up from a whole county):
    /// `true` when it did. The load is then written with a rollback journal, not through the
    /// log. In WAL mode each page of the load is written twice, into the log and then by the
    /// commit's checkpoint into the file. With a rollback journal it is written once: pages
    /// past the file's end at the start are not journaled, and the county's file is almost all
    /// such pages. Measured on the 100,000-household county (`bangfu changes import` into a new
    /// encrypted file, fresh process): the commit took 0.35–0.54 s instead of 4.6–10.9 s, and
    /// the import 52.3 and 52.6 s (60.5 s once) instead of 62.1–68.2 s (issue 20).
    ///
    /// The guarantees stay:
    /// - all or nothing: a crash or power cut leaves a hot journal, and the next open of the
    ///   file rolls it back before anything reads it, to the empty copy;
    /// - durable: `synchronous = FULL` syncs the journal and the file as it syncs the log;
    /// - encrypted: SQLCipher encrypts the journal's pages as it does the log's.
    ///
    /// Another program, or another connection of this one, that has the file open makes this
    /// `false`, and the load runs through the log as before. One that opens the file while it
    /// is held waits five seconds and is told the file is in use. The copy held is empty, so
    /// nothing is kept from anyone. [`Store::share_again`] ends it.
    pub(crate) fn hold_alone_for_bulk_load(&mut self, expected: u64) -> Result<bool, StoreError> {
        // A hold that could not be ended before (a failure, a panic in the load) ends now.
        self.share_again();
        if expected < self.bulk_load_min_ops || self.read_only || self.held_alone.is_some() {
            return Ok(false);
        }
        // Proving needs the file in WAL mode: in another mode, changing it proves nothing.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Ok(false);
        }
        if !super::apply::holds_no_rows(&self.conn)? {
            return Ok(false);
        }
        // The checkpoint thread's connection has the file open in WAL mode: closed first,
        // started again by `share_again` (only if it ran: not after `Store::shutdown`).
        self.held_alone = Some(self.checkpointer.take().is_some());
        match fold_and_prove_alone(&self.conn, &self.path) {
            Ok(()) => Ok(true),
            Err(e) => {
                self.share_again();
                match e {
                    StoreError::OpenElsewhere { .. } => Ok(false),
                    e => Err(e),
                }
            }
        }
    }

    /// Back to WAL mode with the file shared, and the checkpoint thread started again if it
    /// ran before, after [`Store::hold_alone_for_bulk_load`]; nothing when no hold is on. The
    /// load has committed or rolled back by then, so a failure here changes nothing of it:
    /// the hold stays on record and the next bulk load tries again first (and takes no hold
    /// of its own), and the next open of the file puts it back in WAL mode.
    pub(crate) fn share_again(&mut self) {
        let Some(checkpointed) = self.held_alone else {
            return;
        };
        // Normal locking first: a connection that enters WAL mode in exclusive locking mode
        // keeps its log index in its own memory and the file to itself.
        let normal = self
            .conn
            .query_row("PRAGMA locking_mode = NORMAL", [], |r| {
                r.get::<_, String>(0)
            })
            .is_ok_and(|m| m.eq_ignore_ascii_case("normal"));
        let wal = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .is_ok_and(|m| m.eq_ignore_ascii_case("wal"));
        if !(normal && wal) {
            return;
        }
        self.held_alone = None;
        if checkpointed && self.checkpointer.is_none() {
            self.checkpointer = super::Checkpointer::start(&self.path, self.key.as_ref());
        }
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
