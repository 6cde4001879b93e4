//! Backups on removable media (设置 → 备份 → 备份到 U 盘 / 从 U 盘恢复): a backup taken the usual
//! way (`backup::backup_file`, so whatever protects backups protects these too) and copied whole
//! into a chosen folder, a stick's; and a backup on a stick brought back into the data file's
//! backup folder, checked first, so the usual restore (`restore::request_restore`) puts it in
//! place at the next start.

use std::path::{Path, PathBuf};

use super::backup::{BackupInfo, backup_dir, backup_file};
use super::migrate::{check_file_header, inspect};
use super::{DataKey, StoreError, connect};
use crate::error::UserFacing;
use crate::files::{FileWriteError, write_file_with};

/// The reason in the name of the backup copied out to a stick (kept in the backup folder too).
pub const TO_MEDIA: &str = "to-usb";
/// The reason in the name of a backup brought back from a stick.
pub const FROM_MEDIA: &str = "from-usb";

/// Why a backup could not be written to or brought back from a folder.
#[derive(Debug, thiserror::Error)]
pub enum BackupMediaError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a Bangfu backup: {detail}")]
    NotABackup { path: PathBuf, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] FileWriteError),
}

impl UserFacing for BackupMediaError {
    fn kind(&self) -> &'static str {
        match self {
            BackupMediaError::Read { .. } => "backup_unreadable",
            BackupMediaError::NotABackup { .. } => "not_a_backup",
            BackupMediaError::Store(error) => error.kind(),
            BackupMediaError::Write(error) => error.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            BackupMediaError::Read { path, .. } => format!(
                "无法读取“{}”，请检查 U 盘是否插好，再重新选择。数据文件未作改动。",
                path.display()
            ),
            BackupMediaError::NotABackup { path, .. } => format!(
                "“{}”不是帮扶台账的备份（或已损坏），不能用来恢复。请选择“备份到 U 盘”时存下的 .sqlite 文件。数据文件未作改动。",
                path.display()
            ),
            BackupMediaError::Store(error) => error.message_zh(),
            BackupMediaError::Write(error) => error.message_zh(),
        }
    }
}

/// Beijing time of `now_ms` as `YYYYMMDD-HHMM`, for file names a person reads.
fn local_stamp(now_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms as i64)
        .map(|d| {
            (d + chrono::Duration::hours(8))
                .format("%Y%m%d-%H%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A name in `folder` not taken yet: `<base>.sqlite`, else `<base>-2.sqlite`, …
fn free_name(folder: &Path, base: &str) -> PathBuf {
    let mut target = folder.join(format!("{base}.sqlite"));
    let mut n = 2;
    while target.exists() {
        target = folder.join(format!("{base}-{n}.sqlite"));
        n += 1;
    }
    target
}

fn copy_whole(from: &Path, to: &Path) -> Result<(), BackupMediaError> {
    write_file_with(to, |partial| -> Result<(), BackupMediaError> {
        std::fs::copy(from, partial).map_err(|source| FileWriteError::Write {
            path: to.to_path_buf(),
            source,
        })?;
        Ok(())
    })
}

/// Takes a backup of the data file and copies it whole into `folder` (a U 盘) as
/// `<data file name>-备份-<YYYYMMDD-HHMM>.sqlite`; a stick pulled out mid-copy leaves no file
/// and says so. Returns the file written. With `key`, the copy is encrypted under the data
/// file's key like every backup: a lost stick shows nothing.
pub fn backup_to_folder(
    db_path: &Path,
    folder: &Path,
    now_ms: u64,
    key: Option<&DataKey>,
) -> Result<PathBuf, BackupMediaError> {
    let taken = backup_file(db_path, TO_MEDIA, now_ms, key)?;
    let stem = db_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("帮扶台账");
    let target = free_name(folder, &format!("{stem}-备份-{}", local_stamp(now_ms)));
    copy_whole(&taken, &target)?;
    Ok(target)
}

/// Checks that `path` is a whole Bangfu data file (SQLite, ours, not newer than this version,
/// `quick_check` ok) that `key` opens (a backup of an encrypted file is under its key),
/// without writing to it.
fn check_backup(path: &Path, key: Option<&DataKey>) -> Result<(), BackupMediaError> {
    let not_ours = |detail: String| BackupMediaError::NotABackup {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|source| BackupMediaError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() || meta.len() == 0 {
        return Err(not_ours("not a non-empty file".into()));
    }
    if key.is_none() {
        check_file_header(path).map_err(|e| not_ours(e.to_string()))?;
    }
    let conn = read_only(path, key).map_err(|e| not_ours(e.to_string()))?;
    let version = inspect(&conn, path).map_err(|e| not_ours(e.to_string()))?;
    if version == 0 {
        return Err(not_ours("an empty database".into()));
    }
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| not_ours(e.to_string()))?;
    if verdict != "ok" {
        return Err(not_ours(format!("quick_check: {verdict}")));
    }
    Ok(())
}

/// Brings a backup on a stick back into the data file's backup folder (checked first, copied
/// whole), so [`super::restore::request_restore`] can restore it. Returns the copy.
pub fn bring_back(
    db_path: &Path,
    external: &Path,
    now_ms: u64,
    key: Option<&DataKey>,
) -> Result<PathBuf, BackupMediaError> {
    check_backup(external, key)?;
    let dir = backup_dir(db_path);
    std::fs::create_dir_all(&dir).map_err(|source| FileWriteError::Write {
        path: dir.clone(),
        source,
    })?;
    let stamp = chrono::DateTime::from_timestamp_millis(now_ms as i64)
        .map(|d| d.format("%Y%m%d-%H%M%S%.3f").to_string())
        .unwrap_or_default();
    let target = free_name(&dir, &format!("{stamp}-{FROM_MEDIA}"));
    copy_whole(external, &target)?;
    Ok(target)
}

/// The backups in a folder (a stick's), newest first: the `.sqlite` files there that are
/// Bangfu data files `key` opens; anything else is left out.
pub fn backups_in_folder(folder: &Path, key: Option<&DataKey>) -> Vec<BackupInfo> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, BackupInfo)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .filter(|p| (key.is_some() || check_file_header(p).is_ok()) && is_ours(p, key))
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            let modified = meta.modified().ok()?;
            let ms = modified
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let taken_at = chrono::DateTime::from_timestamp_millis(ms as i64)
                .map(|d| {
                    (d + chrono::Duration::hours(8))
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            Some((
                modified,
                BackupInfo {
                    path,
                    taken_at,
                    kind_zh: "U 盘上的备份".into(),
                    bytes: meta.len(),
                },
            ))
        })
        .collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.0));
    found.into_iter().map(|(_, info)| info).collect()
}

fn read_only(path: &Path, key: Option<&DataKey>) -> Result<rusqlite::Connection, StoreError> {
    connect(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        key,
    )
}

fn is_ours(path: &Path, key: Option<&DataKey>) -> bool {
    read_only(path, key)
        .ok()
        .and_then(|conn| inspect(&conn, path).ok())
        .is_some_and(|version| version > 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::restore::{apply_pending_restore, request_restore};
    use crate::store::{OpenOptions, Store};

    fn village(dir: &Path) -> (PathBuf, OpenOptions) {
        let path = dir.join("新文村.sqlite");
        let options = OpenOptions {
            identity_dir: Some(dir.join("reg")),
            ..OpenOptions::default()
        };
        let mut store = Store::open(&path, &options).unwrap();
        store.set_home_place("勐先乡", "新文村").unwrap();
        drop(store);
        (path, options)
    }

    #[test]
    fn a_backup_on_a_stick_comes_back_and_restores_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, options) = village(dir.path());
        let stick = dir.path().join("stick");
        std::fs::create_dir(&stick).unwrap();
        let now = 1_764_806_400_000; // 2025-12-04 00:00 UTC
        let on_stick = backup_to_folder(&path, &stick, now, None).unwrap();
        assert_eq!(
            on_stick.file_name().unwrap().to_str().unwrap(),
            "新文村-备份-20251204-0800.sqlite"
        );
        let second = backup_to_folder(&path, &stick, now, None).unwrap();
        assert_ne!(
            second, on_stick,
            "a second backup never overwrites the first"
        );
        let listed = backups_in_folder(&stick, None);
        assert_eq!(listed.len(), 2);

        // The file changes after the backup; the stick's copy brings the old state back.
        let mut store = Store::open(&path, &options).unwrap();
        store.set_home_place("别的乡", "").unwrap();
        drop(store);
        let back = bring_back(&path, &on_stick, now, None).unwrap();
        request_restore(&path, &back).unwrap();
        apply_pending_restore(&path, None).unwrap();
        let store = Store::open(&path, &options).unwrap();
        assert_eq!(store.home_place().unwrap().unwrap().township, "勐先乡");
    }

    #[test]
    fn bring_back_refuses_what_is_not_a_whole_bangfu_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = village(dir.path());
        let text = dir.path().join("notes.sqlite");
        std::fs::write(&text, "not a database at all, just text on a stick").unwrap();
        let foreign = dir.path().join("other.sqlite");
        rusqlite::Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let missing = dir.path().join("gone.sqlite");
        for file in [&text, &foreign] {
            let error = bring_back(&path, file, 0, None).unwrap_err();
            assert_eq!(error.kind(), "not_a_backup", "{file:?}: {error}");
            assert!(error.message_zh().contains("不是帮扶台账的备份"));
        }
        assert_eq!(
            bring_back(&path, &missing, 0, None).unwrap_err().kind(),
            "backup_unreadable"
        );
        assert!(
            backups_in_folder(dir.path(), None)
                .iter()
                .all(|b| b.path == path)
        );
    }

    #[test]
    fn a_backup_on_a_stick_of_an_encrypted_file_is_encrypted_and_comes_back_with_the_key() {
        use crate::store::protect;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("新文村.sqlite");
        let code = protect::set_up(&path, "山间小路弯弯曲曲").unwrap();
        let key = code.data_key();
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("reg")),
            key: Some(key.clone()),
            ..OpenOptions::default()
        };
        let mut store = Store::open(&path, &options).unwrap();
        store.set_home_place("勐先乡", "新文村").unwrap();
        drop(store);
        let stick = dir.path().join("stick");
        std::fs::create_dir(&stick).unwrap();
        let on_stick = backup_to_folder(&path, &stick, 1_764_806_400_000, Some(&key)).unwrap();
        let bytes = std::fs::read(&on_stick).unwrap();
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "the stick's copy is not plain SQLite"
        );
        let needle = "勐先乡".as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "no township name readable on the stick"
        );
        assert_eq!(backups_in_folder(&stick, Some(&key)).len(), 1);
        assert!(
            backups_in_folder(&stick, None).is_empty(),
            "without the key it is no backup"
        );
        // Another file's key does not open it: refused, nothing copied.
        let other = protect::set_up(&dir.path().join("别的村.sqlite"), "另一份数据文件的口令")
            .unwrap()
            .data_key();
        assert_eq!(
            bring_back(&path, &on_stick, 0, Some(&other))
                .unwrap_err()
                .kind(),
            "not_a_backup"
        );

        let mut store = Store::open(&path, &options).unwrap();
        store.set_home_place("别的乡", "").unwrap();
        drop(store);
        let back = bring_back(&path, &on_stick, 0, Some(&key)).unwrap();
        request_restore(&path, &back).unwrap();
        apply_pending_restore(&path, Some(&key)).unwrap();
        let store = Store::open(&path, &options).unwrap();
        assert_eq!(store.home_place().unwrap().unwrap().township, "勐先乡");
    }
}
