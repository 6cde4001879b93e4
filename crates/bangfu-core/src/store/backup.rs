//! Backups of the data file: taken before every merge and daily, rotated, restorable.

use std::path::{Path, PathBuf};

use super::{Store, StoreError};

/// How many backups of each data file are kept; older ones are removed.
pub const KEEP_BACKUPS: usize = 10;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// The folder that holds a data file's backups: `<file>.backups` beside it.
pub fn backup_dir(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".backups");
    db_path.with_file_name(name)
}

/// Writes a consistent copy of a data file (committed state only) through its own read-only
/// connection, and rotates old copies. Safe to run on a thread beside the open store.
pub fn backup_file(db_path: &Path, reason: &str, now_ms: u64) -> Result<PathBuf, StoreError> {
    let dir = backup_dir(db_path);
    let io = |source| StoreError::Identity {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let stamp = chrono::DateTime::from_timestamp_millis(now_ms as i64)
        .map(|d| d.format("%Y%m%d-%H%M%S%.3f").to_string())
        .unwrap_or_default();
    let mut target = dir.join(format!("{stamp}-{reason}.sqlite"));
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{stamp}-{reason}-{n}.sqlite"));
        n += 1;
    }
    let conn = rusqlite::Connection::open_with_flags(
        db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute("VACUUM INTO ?1", [target.to_string_lossy().as_ref()])?;
    let mut backups = backups_of(db_path);
    while backups.len() > KEEP_BACKUPS {
        let oldest = backups.remove(0);
        let _ = std::fs::remove_file(oldest);
    }
    Ok(target)
}

/// The backups of a data file, oldest first.
pub fn backups_of(db_path: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(backup_dir(db_path)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .collect();
    found.sort();
    found
}

/// Takes the daily backup of a data file when its newest backup is more than a day old.
pub fn daily_backup_of(db_path: &Path, now_ms: u64) -> Result<Option<PathBuf>, StoreError> {
    let fresh = backups_of(db_path)
        .pop()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| (age.as_millis() as u64) < DAY_MS);
    if fresh {
        Ok(None)
    } else {
        backup_file(db_path, "daily", now_ms).map(Some)
    }
}

impl Store {
    /// Writes a consistent copy of the data file and rotates old ones.
    pub fn backup(&self, reason: &str) -> Result<PathBuf, StoreError> {
        backup_file(&self.path, reason, self.wall_ms())
    }

    /// The backups of this data file, oldest first.
    pub fn backups(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(backups_of(&self.path))
    }

    /// Takes the daily backup when the newest one is more than a day old.
    pub fn daily_backup(&self) -> Result<Option<PathBuf>, StoreError> {
        daily_backup_of(&self.path, self.wall_ms())
    }
}

/// Puts a backup back in place of a (closed) data file. The current file is kept beside it
/// as `<file>.before-restore`. On the next open the restored file takes a new device
/// identity, since it is behind what this device already wrote.
pub fn restore_backup(backup: &Path, db_path: &Path) -> std::io::Result<()> {
    if db_path.exists() {
        let mut keep = db_path.as_os_str().to_os_string();
        keep.push(".before-restore");
        std::fs::copy(db_path, PathBuf::from(keep))?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = db_path.as_os_str().to_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    let tmp = db_path.with_extension("restoring");
    std::fs::copy(backup, &tmp)?;
    std::fs::rename(&tmp, db_path)
}
