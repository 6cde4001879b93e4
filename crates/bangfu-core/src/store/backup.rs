//! Backups of the data file: taken before every merge and daily, rotated, restorable.

use std::path::{Path, PathBuf};

use super::{Store, StoreError};

/// How many backups taken before imports (and other single events) are kept; older ones are
/// removed.
pub const KEEP_BACKUPS: usize = 10;
/// How many daily backups are kept, apart from the others: a morning of imports never pushes
/// out last week's daily copies.
pub const KEEP_DAILY: usize = 14;
const DAILY: &str = "daily";
/// The reason of a backup taken with 设置 → 备份 → 立即备份.
pub const MANUAL: &str = "manual";
const DAY_MS: u64 = 24 * 3600 * 1000;

/// The folder that holds a data file's backups: `<file>.backups` beside it.
pub fn backup_dir(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".backups");
    db_path.with_file_name(name)
}

/// Writes a consistent copy of a data file (committed state only) through its own read-only
/// connection, and rotates old copies. Safe to run on a thread beside the open store.
/// An encrypted file's backup is encrypted under the same key (SQLCipher's `VACUUM INTO`
/// writes with the key of the file it copies).
pub fn backup_file(
    db_path: &Path,
    reason: &str,
    now_ms: u64,
    key: Option<&super::DataKey>,
) -> Result<PathBuf, StoreError> {
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
    let conn = super::connect(
        db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        key,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // Written under a temporary name, checked, flushed to the disk, then renamed
    // (`files::write_file_with`): a power cut or a full disk never leaves a damaged file that
    // looks like a backup.
    crate::files::write_file_with(&target, |partial| -> Result<(), StoreError> {
        conn.execute("VACUUM INTO ?1", [partial.to_string_lossy().as_ref()])?;
        let check = super::connect(
            partial,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            key,
        )?;
        let verdict: String = check.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt {
                path: db_path.to_path_buf(),
                detail: format!("backup check: {verdict}"),
            });
        }
        Ok(())
    })?;
    drop(conn);
    rotate(db_path);
    Ok(target)
}

/// Removes the oldest backups of each reason past its count: [`KEEP_DAILY`] daily ones and
/// [`KEEP_BACKUPS`] of every other reason, so a morning of imports never removes the daily
/// copies or the one a person took by hand.
fn rotate(db_path: &Path) {
    let mut by_reason: std::collections::BTreeMap<String, Vec<PathBuf>> = Default::default();
    for path in backups_of(db_path) {
        by_reason.entry(reason_of(&path)).or_default().push(path);
    }
    for (reason, mut list) in by_reason {
        let keep = if reason == DAILY {
            KEEP_DAILY
        } else {
            KEEP_BACKUPS
        };
        while list.len() > keep {
            let oldest = list.remove(0);
            let _ = std::fs::remove_file(oldest);
        }
    }
}

/// The reason in a backup's name `<stamp>-<reason>[-n].sqlite`.
fn reason_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let rest = stem.splitn(3, '-').nth(2).unwrap_or_default();
    // A number added to keep two names apart is not part of the reason.
    match rest.rsplit_once('-') {
        Some((reason, n)) if n.chars().all(|c| c.is_ascii_digit()) => reason.to_owned(),
        _ => rest.to_owned(),
    }
}

fn is_daily(path: &Path) -> bool {
    reason_of(path) == DAILY
}

/// One backup as the 设置 → 备份 list shows it.
#[derive(ts_rs::TS, Debug, Clone, serde::Serialize)]
pub struct BackupInfo {
    pub path: PathBuf,
    /// `YYYY-MM-DD HH:MM` (Beijing time) when it was taken.
    pub taken_at: String,
    /// 每日备份 / 导入前备份 / 手动备份 / 其他.
    pub kind_zh: String,
    pub bytes: u64,
}

/// The backups of a data file, newest first, with their dates and sizes.
pub fn list_backups(db_path: &Path) -> Vec<BackupInfo> {
    let mut out: Vec<BackupInfo> = backups_of(db_path)
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let taken_at = chrono::NaiveDateTime::parse_from_str(
                stem.get(..15).unwrap_or_default(),
                "%Y%m%d-%H%M%S",
            )
            .map(|t| {
                (t + chrono::Duration::hours(8))
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
            let kind_zh = if is_daily(&path) {
                "每日备份"
            } else if stem.contains("before-import") {
                "导入前备份"
            } else if stem.contains(MANUAL) {
                "手动备份"
            } else if stem.contains(super::backup_media::TO_MEDIA) {
                "存到 U 盘的备份"
            } else if stem.contains(super::backup_media::FROM_MEDIA) {
                "从 U 盘取回的备份"
            } else {
                "其他"
            }
            .to_owned();
            let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
            BackupInfo {
                path,
                taken_at,
                kind_zh,
                bytes,
            }
        })
        .collect();
    out.reverse();
    out
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
pub fn daily_backup_of(
    db_path: &Path,
    now_ms: u64,
    key: Option<&super::DataKey>,
) -> Result<Option<PathBuf>, StoreError> {
    let fresh = backups_of(db_path)
        .into_iter()
        .rfind(|p| is_daily(p))
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| (age.as_millis() as u64) < DAY_MS);
    if fresh {
        Ok(None)
    } else {
        backup_file(db_path, DAILY, now_ms, key).map(Some)
    }
}

/// The daily backup taken on a thread beside the store ([`Store::start_daily_backup`]);
/// dropping it waits for the thread, so the backup's SQLCipher connection is closed before
/// the store is gone (and before the process exits, when the store is dropped or shut down
/// first: a connection still open at exit crashed the process as it tore the crypto down).
#[derive(Debug)]
pub(crate) struct DailyBackup(Option<std::thread::JoinHandle<()>>);

impl Drop for DailyBackup {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

impl Store {
    /// Takes today's backup (when the newest is more than a day old, [`daily_backup_of`]) on
    /// a thread of its own, on a read-only connection of its own, so a county-sized file never
    /// delays the first screen; `failed` hears why it could not. The thread ends before the
    /// store does ([`Store::shutdown`], or the store's drop).
    pub fn start_daily_backup(&mut self, failed: impl FnOnce(StoreError) + Send + 'static) {
        let path = self.path.clone();
        let now = self.wall_ms();
        let key = self.key.clone();
        let thread = std::thread::Builder::new()
            .name("bangfu-daily-backup".into())
            .spawn(move || {
                if let Err(error) = daily_backup_of(&path, now, key.as_ref()) {
                    failed(error);
                }
            });
        // A thread that cannot start leaves the backup to the next start.
        self.daily_backup = Some(DailyBackup(thread.ok()));
    }

    /// Writes a consistent copy of the data file and rotates old ones.
    pub fn backup(&self, reason: &str) -> Result<PathBuf, StoreError> {
        backup_file(&self.path, reason, self.wall_ms(), self.key.as_ref())
    }

    /// The backups of this data file, oldest first.
    pub fn backups(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(backups_of(&self.path))
    }

    /// Takes the daily backup when the newest one is more than a day old.
    pub fn daily_backup(&self) -> Result<Option<PathBuf>, StoreError> {
        daily_backup_of(&self.path, self.wall_ms(), self.key.as_ref())
    }
}

/// Puts a backup back in place of a (closed) data file. The current file is kept beside it
/// as `<file>.before-restore`. On the next open the restored file takes a new device
/// identity, since it is behind what this device already wrote.
pub fn restore_backup(backup: &Path, db_path: &Path) -> std::io::Result<()> {
    let beside = |path: &Path, suffix: &str| {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let keep = beside(db_path, ".before-restore");
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(beside(&keep, suffix));
    }
    if db_path.exists() {
        // A second name for the replaced file keeps it as it is without opening it: closing a
        // descriptor of it would drop the exclusive lock the restore holds on it (`alone.rs`).
        // A copy where the disk takes no links.
        let _ = std::fs::remove_file(&keep);
        if std::fs::hard_link(db_path, &keep).is_err() {
            std::fs::copy(db_path, &keep)?;
        }
        // A write-ahead log not yet folded into the file goes with the kept copy (SQLite
        // reads `<keep>-wal` when it opens `<keep>`), never onto the restored file; so does
        // the rollback journal an import cut short left (`alone.rs`), which would otherwise
        // be played back into the restored file.
        for suffix in ["-wal", "-journal"] {
            let log = beside(db_path, suffix);
            if log.exists() {
                std::fs::rename(&log, beside(&keep, suffix))?;
            }
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(beside(db_path, suffix));
    }
    let tmp = db_path.with_extension("restoring");
    std::fs::copy(backup, &tmp)?;
    std::fs::rename(&tmp, db_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_checked_copies_and_daily_ones_are_kept_apart_from_import_ones() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("村.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(conn);
        let day = 24 * 3600 * 1000;
        for i in 0..3 {
            backup_file(&db, DAILY, 1_750_000_000_000 + i * day, None).unwrap();
        }
        // A morning of imports: more than KEEP_BACKUPS of them.
        for i in 0..(KEEP_BACKUPS as u64 + 5) {
            backup_file(&db, "before-import", 1_750_300_000_000 + i * 1000, None).unwrap();
        }
        let listed = list_backups(&db);
        let daily = listed.iter().filter(|b| b.kind_zh == "每日备份").count();
        let imports = listed.iter().filter(|b| b.kind_zh == "导入前备份").count();
        assert_eq!((daily, imports), (3, KEEP_BACKUPS));
        assert!(
            listed[0].taken_at > listed[listed.len() - 1].taken_at,
            "newest first"
        );
        assert!(listed.iter().all(|b| b.bytes > 0 && b.taken_at.len() == 16));
        // No temporary file is left beside them.
        let leftovers = std::fs::read_dir(backup_dir(&db))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "partial")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}
