//! One writer at a time per data file: an OS lock on a small file beside it, taken for each
//! write transaction and released when it ends.
//!
//! SQLite already lets only one transaction write at a time; this lock adds what SQLite cannot
//! say: which program holds the file, so a second writer that has waited its turn long enough
//! is told in Chinese who to wait for. `<file>.lock.owner` holds that program's name and
//! process id.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StoreError;

/// How long a writer waits for another program's write to end before it gives up and says who
/// holds the file (the same as SQLite's busy timeout on the connection).
pub(crate) const WRITER_WAIT: Duration = Duration::from_secs(5);

/// Held while a write transaction runs; dropping it releases the lock (after the transaction
/// has ended) and nudges the store's checkpoint thread, if it has one.
#[derive(Debug)]
pub(crate) struct WriterLock {
    file: File,
    after_write: Option<std::sync::mpsc::SyncSender<()>>,
}

impl WriterLock {
    /// Nudge the checkpoint thread through `nudge` when this write ends.
    pub(crate) fn nudging(mut self, nudge: Option<std::sync::mpsc::SyncSender<()>>) -> Self {
        self.after_write = nudge;
        self
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
        if let Some(nudge) = &self.after_write {
            // Full: a nudge is already pending, which covers this write as well.
            let _ = nudge.try_send(());
        }
    }
}

/// The lock file of a data file: `台账.sqlite` → `台账.sqlite.lock`.
pub(crate) fn lock_path(data_file: &Path) -> PathBuf {
    let mut name = data_file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Who holds the lock, in a file of its own that is never locked: on Windows a locked file
/// cannot be read by another process, so the name cannot live in the lock file itself.
fn owner_path(data_file: &Path) -> PathBuf {
    let mut name = data_file.as_os_str().to_owned();
    name.push(".lock.owner");
    PathBuf::from(name)
}

/// This program as the user knows it, for another program's message.
fn this_program() -> String {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name = match stem.as_str() {
        "bangfu-desktop" | "帮扶台账" => "帮扶台账桌面程序".to_owned(),
        "bangfu" => "bangfu 命令".to_owned(),
        "" => "另一个程序".to_owned(),
        other => format!("程序“{other}”"),
    };
    format!("{name}（进程 {}）", std::process::id())
}

/// Takes the writer lock of `data_file`, waiting up to `wait` for another writer to finish.
pub(crate) fn acquire(data_file: &Path, wait: Duration) -> Result<WriterLock, StoreError> {
    let path = lock_path(data_file);
    let io_error = |source: std::io::Error| StoreError::WriterLock {
        path: path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error)?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(owner_path(data_file)).unwrap_or_default();
                let holder = holder.trim();
                return Err(StoreError::WriterBusy {
                    holder: if holder.is_empty() {
                        "另一个程序".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_error(e)),
        }
    }
    // Who holds it, for the next writer's message; a failure to say so is not a failure to
    // write.
    let _ = std::fs::write(owner_path(data_file), this_program());
    Ok(WriterLock {
        file,
        after_write: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("台账.sqlite");
        let first = acquire(&data, WRITER_WAIT).unwrap();
        let started = Instant::now();
        let second = acquire(&data, Duration::from_millis(150));
        assert!(started.elapsed() >= Duration::from_millis(150));
        match second {
            Err(StoreError::WriterBusy { holder }) => {
                assert!(holder.contains(&std::process::id().to_string()), "{holder}");
            }
            other => panic!("expected WriterBusy, got {other:?}"),
        }
        drop(first);
        // Released: the next writer gets it at once.
        acquire(&data, Duration::ZERO).unwrap();
    }
}
