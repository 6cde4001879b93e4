//! Checkpoints off the write path: a thread of the store's own, with a connection of its own,
//! copies the write-ahead log into the data file while the work team goes on typing.
//!
//! With SQLite's automatic checkpoint, the commit that crosses 1,000 log pages copies all of
//! them into the data file and syncs it before the person's save returns: on a county file a
//! household's save writes a few dozen pages, so one save in twenty or so waited for a whole
//! checkpoint (the filing p95). Here every write nudges the thread as it ends, and the thread
//! also looks once a second (another program or connection may write the file); it
//! checkpoints (`PASSIVE`: never waiting on, nor blocking, a writer or a reader) once the log
//! holds more than [`CHECKPOINT_AFTER_FRAMES`] pages not yet in the data file. The writer
//! keeps SQLite's automatic checkpoint at [`BACKSTOP_PAGES`], far above, so the log stays
//! bounded if this thread ever falls behind or cannot open the file.
//!
//! How many pages the log holds is read from the wal-index (the `-shm` file) header, whose
//! layout SQLite documents as a stable file format: the log file's size says nothing once the
//! log restarts from its beginning after a checkpoint.
//!
//! The thread ends with the store ([`Checkpointer`]'s drop, or [`super::Store::shutdown`]
//! before a process exits with the store still held): it is joined and its connection closed,
//! so no SQLCipher connection is left inside the crypto library while the process tears it
//! down at exit.
//!
//! Architecture invariant: durability does not depend on this thread. A commit is in the
//! synced log before the save returns (`synchronous = FULL`); a checkpoint only moves
//! committed pages, and one cut by a crash or a power cut is finished by the next open.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::OpenFlags;

use super::{DataKey, connect};

/// Log pages not yet in the data file past which the thread checkpoints (SQLite's own
/// automatic threshold).
pub(crate) const CHECKPOINT_AFTER_FRAMES: u32 = 1000;

/// The writer's own automatic checkpoint, kept as a backstop: about 16 MB of log.
pub(crate) const BACKSTOP_PAGES: i64 = 4000;

/// How often the thread looks at the log without a nudge (writes of other connections).
const LOOK_EVERY: Duration = Duration::from_secs(1);

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
        let data_file = path.to_path_buf();
        // One pending nudge is enough: the checkpoint it asks for covers every commit before.
        let (nudge, nudged) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("bangfu-checkpoint".into())
            .spawn(move || {
                // A nudge or a second gone by: look; the store gone (the channel closed): end.
                while !matches!(
                    nudged.recv_timeout(LOOK_EVERY),
                    Err(RecvTimeoutError::Disconnected)
                ) {
                    if WalIndex::of(&data_file)
                        .is_some_and(|w| w.unsaved() > CHECKPOINT_AFTER_FRAMES)
                    {
                        // A busy or failed checkpoint is tried again at the next look; the
                        // writer's backstop bounds the log meanwhile.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                }
                // The connection closes here, on this thread, before the join returns.
                drop(conn);
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

/// What the wal-index header says of the log: how many frames it holds (`mxFrame`) and how
/// many of them a checkpoint has copied into the data file (`nBackfill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalIndex {
    pub frames: u32,
    pub backfilled: u32,
}

impl WalIndex {
    /// Reads the header of `<data file>-shm`. `None` when there is none (not in WAL mode, no
    /// connection open) or it is being rewritten this instant (its two copies differ).
    pub fn of(data_file: &Path) -> Option<WalIndex> {
        // Two copies of the 48-byte header, then the checkpoint info (`WalCkptInfo`).
        let mut head = [0u8; 100];
        // Through `held_files`: closing a descriptor of the `-shm` would drop the locks
        // SQLite holds on it for every connection of this process.
        if super::held_files::read_start(data_file, &shm_path(data_file), &mut head).ok()?
            < head.len()
        {
            return None;
        }
        let u32_at = |at: usize| {
            let bytes: [u8; 4] = head[at..at + 4].try_into().unwrap_or([0; 4]);
            // The wal-index is in the machine's own byte order (it is never copied elsewhere).
            u32::from_ne_bytes(bytes)
        };
        if head[0..48] != head[48..96] || head[12] == 0 {
            return None;
        }
        Some(WalIndex {
            frames: u32_at(16),
            backfilled: u32_at(96),
        })
    }

    /// Frames of the log not yet copied into the data file.
    pub fn unsaved(&self) -> u32 {
        self.frames.saturating_sub(self.backfilled)
    }
}

fn shm_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-shm");
    PathBuf::from(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use uuid::Uuid;

    use super::WalIndex;
    use crate::model::{FieldValue, Table};
    use crate::store::{Change, OpenOptions, Store};

    /// The same writes, with and without the thread. Without it the log grows to the writer's
    /// backstop (4,000 pages) before a commit checkpoints; with it the log stays about the
    /// thread's threshold (1,000 pages): the thread, not the person's save, does the
    /// checkpoints. The writes come a few milliseconds apart, as people's saves do.
    #[test]
    fn the_checkpoint_thread_keeps_the_log_small_while_writes_go_on() {
        let largest_log = |with_thread: bool| -> u32 {
            let dir = tempfile::tempdir().unwrap();
            let options = OpenOptions {
                identity_dir: Some(dir.path().join("registry")),
                ..Default::default()
            };
            let path = dir.path().join("a.sqlite");
            let mut store = Store::open(&path, &options).unwrap();
            if !with_thread {
                // The writer keeps its backstop: only the thread is missing.
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
                largest = largest.max(WalIndex::of(&path).unwrap().unsaved());
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            // Ending the thread closes its connection: the file reopens with every row.
            drop(store);
            let reopened = Store::open(&path, &options).unwrap();
            let households: i64 = reopened
                .conn()
                .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
                .unwrap();
            assert_eq!(households, 200 * 40);
            largest
        };
        let without = largest_log(false);
        assert!(without > 3000, "the writes logged only {without} pages");
        let with = largest_log(true);
        assert!(
            with < 2000,
            "the log reached {with} pages: the thread did not checkpoint"
        );
    }
}
