//! Encrypting a data file of an earlier version in place, with its backups, at its first open
//! with a key.
//!
//! The file in the clear stays where it is until its encrypted copy is written beside it,
//! checked and flushed to the disk; only then does the copy take its name (one rename). A power
//! cut at any point leaves either the old file or the new one, never half of each. The backups
//! beside it (`<file>.backups`) are encrypted the same way, one by one, so no copy in the clear
//! stays behind.

use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;

use super::protect::DataKey;
use super::{StoreError, connect, migrate};

/// Encrypts `db_path` (a Bangfu data file in the clear) and its backups under `key`.
/// `progress(bytes_done, bytes_total)` hears how far the data file's copy has come, a few
/// times a second while it is written (from a thread of its own: the copy is one statement).
pub fn encrypt_in_place(
    db_path: &Path,
    key: &DataKey,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(), StoreError> {
    // No other program writes while the file changes under it.
    let _writer = super::lock::acquire(db_path, super::lock::WRITER_WAIT)?;
    encrypt_one(db_path, key, true, progress)?;
    encrypt_leftovers(db_path, key);
    Ok(())
}

/// Encrypts every copy beside an encrypted data file that is still in the clear: its backups
/// and what a restore of an earlier version kept (`.before-restore`, `.restoring`). Run at
/// every open with a key, so a power cut in the middle of the first encryption is finished
/// at the next start. A copy that cannot be encrypted now (a full disk, say) is kept as it is
/// and tried again at the next open; only the data file itself is never left in the clear.
pub fn encrypt_leftovers(db_path: &Path, key: &DataKey) {
    let mut copies = super::backup::backups_of(db_path);
    copies.push(sibling(db_path, ".before-restore"));
    copies.push(sibling(db_path, ".restoring"));
    for copy in copies {
        if super::protect::protection_of(&copy) != super::protect::Protection::Plain {
            continue;
        }
        if let Err(error) = encrypt_one(&copy, key, false, &|_, _| {}) {
            eprintln!(
                "encrypting {} failed ({error}); it is tried again at the next open",
                copy.display()
            );
        }
    }
}

fn encrypt_one(
    path: &Path,
    key: &DataKey,
    check_schema: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(), StoreError> {
    // CREATE: an attached database takes the main one's flags, and the copy is a new file.
    let plain = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        None,
    )?;
    plain.busy_timeout(std::time::Duration::from_secs(5))?;
    if check_schema {
        // Only a Bangfu data file is encrypted; another program's SQLite file is refused as
        // the open refuses it, untouched.
        migrate::inspect(&plain, path)?;
    }
    // Everything committed is in the main file before it is copied; the log is emptied, and
    // no other program may have the file open: its later writes would go to the file in the
    // clear after the copy took its place (`alone.rs`). Then nothing is changed.
    super::alone::fold_and_prove_alone(&plain, path)?;
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let target = sibling(path, ".encrypting");
    let _ = std::fs::remove_file(&target);
    let attach = zeroize::Zeroizing::new(format!(
        "ATTACH DATABASE ?1 AS encrypted KEY \"{}\"",
        key.pragma_value().as_str()
    ));
    plain.execute(&attach, [target.to_string_lossy().as_ref()])?;
    // SQLCipher's export runs as one statement. A small cache makes it write the copy's
    // pages as it goes, so the copy's size on disk says how far it has come: a watcher reads
    // it every few hundredths of a second and tells `progress`.
    progress(0, total);
    plain.execute_batch("PRAGMA encrypted.cache_size = 256")?;
    let copying = std::sync::atomic::AtomicBool::new(true);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while copying.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(PROGRESS_EVERY);
                if let Ok(meta) = std::fs::metadata(&target) {
                    progress(meta.len().min(total), total);
                }
            }
        });
        let result = plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()));
        copying.store(false, std::sync::atomic::Ordering::Relaxed);
        result
    });
    if result.is_ok() {
        // The export copies schema and rows, not the header's numbers that say whose file
        // this is and its schema version.
        let user_version: i64 = plain.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        let application_id: i64 =
            plain.query_row("PRAGMA main.application_id", [], |r| r.get(0))?;
        plain.execute_batch(&format!(
            "PRAGMA encrypted.user_version = {user_version}; PRAGMA encrypted.application_id = {application_id};"
        ))?;
    }
    plain.execute_batch("DETACH DATABASE encrypted")?;
    if let Err(error) = result {
        let _ = std::fs::remove_file(&target);
        return Err(error.into());
    }
    // `plain` stays open, holding the file's exclusive lock (`alone.rs`), until the copy has
    // taken its name.
    // The copy is read back with the key before it replaces anything.
    let check = connect(
        &target,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        Some(key),
    )?;
    let verdict: String = check.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    drop(check);
    if verdict != "ok" {
        let _ = std::fs::remove_file(&target);
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("encrypted copy check: {verdict}"),
        });
    }
    let io = |source: std::io::Error| StoreError::Identity {
        path: path.to_path_buf(),
        source,
    };
    // A writable handle: Windows refuses to flush through a read-only one.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&target)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    // The old (empty) log goes before the copy takes the name: a log in the clear beside the
    // encrypted file would be replayed into it.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
    // Windows refuses to replace a file that is open (another program's handle makes the
    // rename fail, the same proof): `plain` is closed first there.
    #[cfg(not(unix))]
    drop(plain);
    std::fs::rename(&target, path).map_err(io)?;
    #[cfg(unix)]
    drop(plain);
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    progress(total, total);
    Ok(())
}

/// How often the copy's progress is read while a file is encrypted.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::error::UserFacing;
    use crate::store::protect::{self, Protection};
    use crate::store::{OpenOptions, Store};

    /// A file in the clear that another program has open (an older version's window) is not
    /// encrypted under it: that program would go on writing into the file in the clear after
    /// the encrypted copy took its name. Refused, said, the file as it was; encrypted at the
    /// first open once that program is closed.
    #[test]
    fn a_file_another_program_has_open_is_not_encrypted_under_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("新文村.sqlite");
        let plain = OpenOptions {
            identity_dir: Some(dir.path().join("registry")),
            ..OpenOptions::default()
        };
        drop(Store::open(&path, &plain).unwrap());
        let other = rusqlite::Connection::open(&path).unwrap();
        let _: i64 = other
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        let code = protect::set_up(&path, "山间小路弯弯曲曲").unwrap();
        let keyed = OpenOptions {
            key: Some(code.data_key()),
            ..plain.clone()
        };
        let refused = Store::open(&path, &keyed).unwrap_err();
        assert_eq!(refused.kind(), "open_elsewhere");
        assert_eq!(protect::protection_of(&path), Protection::Plain);
        drop(other);
        drop(Store::open(&path, &keyed).unwrap());
        assert_eq!(protect::protection_of(&path), Protection::Encrypted);
    }
}
