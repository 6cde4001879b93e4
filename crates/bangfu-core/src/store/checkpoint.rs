//! Checkpoints off the write path: a thread of the store's own, with a connection of its own,
//! copies the write-ahead log into the data file while the work team goes on typing.
//!
//! With SQLite's automatic checkpoint, the commit that crosses 1,000 log pages copies all of
//! them into the data file and syncs it before the person's save returns: on a county file a
//! household's save writes about 45 pages, so one save in twenty waited for a whole
//! checkpoint (the filing p95). Here every commit only nudges the thread; it checkpoints
//! (`PASSIVE`: never waiting on, nor blocking, a writer or a reader) once the log is past
//! [`CHECKPOINT_AFTER_BYTES`]. The writer keeps SQLite's automatic checkpoint at
//! [`BACKSTOP_PAGES`], far above, so the log stays bounded if this thread ever falls behind
//! or cannot open the file.
//!
//! Architecture invariant: durability does not depend on this thread. A commit is in the
//! synced log before the save returns (`synchronous = FULL`); a checkpoint only moves
//! committed pages, and one cut by a crash or a power cut is finished by the next open.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender};
use std::thread::JoinHandle;

use rusqlite::OpenFlags;

use super::{DataKey, connect};

/// The log size past which the thread checkpoints (SQLite's own threshold, 1,000 pages).
pub(crate) const CHECKPOINT_AFTER_BYTES: u64 = 1000 * 4096;

/// The writer's own automatic checkpoint, kept as a backstop: 16 MB of log.
pub(crate) const BACKSTOP_PAGES: i64 = 4000;

/// The store's checkpoint thread; dropping it ends the thread and waits for it, so no
/// connection outlives the store (a restore or an encryption renames the file after).
#[derive(Debug)]
pub(crate) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread for `path`. `None` when its connection cannot be opened: the writer's
    /// backstop then checkpoints as SQLite always did.
    pub(crate) fn start(path: &Path, key: Option<&DataKey>) -> Option<Checkpointer> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connect(path, flags, key).ok()?;
        // Its page cache is never read from: a checkpoint copies log frames, not pages.
        conn.pragma_update(None, "cache_size", 16).ok()?;
        let wal = wal_path(path);
        // One pending nudge is enough: the checkpoint it asks for covers every commit before.
        let (nudge, nudged) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("bangfu-checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() {
                    let big = std::fs::metadata(&wal)
                        .map(|m| m.len() > CHECKPOINT_AFTER_BYTES)
                        .unwrap_or(false);
                    if big {
                        // A busy or failed checkpoint is tried again at the next nudge; the
                        // writer's backstop bounds the log meanwhile.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                }
            })
            .ok()?;
        Some(Checkpointer {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// What a write's lock nudges when the write ends ([`super::lock::WriterLock::nudging`]).
    pub(crate) fn nudge(&self) -> Option<SyncSender<()>> {
        self.nudge.clone()
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after at most the checkpoint under way.
        self.nudge = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use uuid::Uuid;

    use crate::model::{FieldValue, Table};
    use crate::store::{Change, OpenOptions, Store};

    fn wal_bytes(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("a.sqlite-wal")).map_or(0, |m| m.len())
    }

    /// The same writes, with and without the thread. Without it the log grows to the writer's
    /// backstop (16 MB, and the file keeps that size); with it the log stays about the
    /// thread's threshold (4 MB): the thread, not the person's save, does the checkpoints.
    #[test]
    fn the_checkpoint_thread_keeps_the_log_small_while_writes_go_on() {
        let largest_log = |with_thread: bool| -> u64 {
            let dir = tempfile::tempdir().unwrap();
            let options = OpenOptions {
                identity_dir: Some(dir.path().join("registry")),
                ..Default::default()
            };
            let path = dir.path().join("a.sqlite");
            let mut store = Store::open(&path, &options).unwrap();
            if !with_thread {
                store.checkpointer = None;
            }
            let mut largest = 0;
            for round in 0..200 {
                let changes: Vec<Change> = (0..40)
                    .map(|i| Change::Put {
                        table: Table::Household,
                        id: Uuid::now_v7(),
                        fields: vec![
                            ("group_name", FieldValue::Text(format!("第{round}组{i}"))),
                            ("remark", FieldValue::Text("走访时记下的情况".repeat(45))),
                        ],
                    })
                    .collect();
                store.write_unchecked(&changes).unwrap();
                largest = largest.max(wal_bytes(dir.path()));
                // People save one page at a time: the thread works between saves.
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            // Dropping the store ends the thread: the file reopens with every row.
            drop(store);
            let reopened = Store::open(&path, &options).unwrap();
            let households: i64 = reopened
                .conn()
                .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
                .unwrap();
            assert_eq!(households, 200 * 40);
            largest
        };
        const MB: u64 = 1024 * 1024;
        let without = largest_log(false);
        assert!(without > 12 * MB, "the writes logged only {without} bytes");
        let with = largest_log(true);
        assert!(
            with < 8 * MB,
            "the log reached {with} bytes: the thread did not checkpoint"
        );
    }
}
