//! Restoring a backup from the app: the request recorded beside the data file while the app
//! holds it open, and applied at the next start before anything opens the file.

use std::path::{Path, PathBuf};

use super::backup::{backups_of, restore_backup};
use crate::error::UserFacing;

/// Why a restore could not be requested or applied.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{backup}: not a backup of {db}")]
    NotABackup { backup: PathBuf, db: PathBuf },
    #[error("restore request {marker}: {source}")]
    Marker {
        marker: PathBuf,
        source: std::io::Error,
    },
    #[error("restore request {marker} names {backup}, which is not a backup of this file")]
    BackupGone { marker: PathBuf, backup: String },
    #[error("restoring {backup} over {db}: {source}")]
    Restore {
        backup: PathBuf,
        db: PathBuf,
        source: std::io::Error,
    },
    #[error("restoring over {db}: {source}")]
    OpenElsewhere {
        db: PathBuf,
        source: super::StoreError,
    },
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl UserFacing for RestoreError {
    fn kind(&self) -> &'static str {
        match self {
            RestoreError::NotABackup { .. } => "not_a_backup",
            RestoreError::Marker { .. } => "restore_request",
            RestoreError::BackupGone { .. } => "backup_gone",
            RestoreError::Restore { .. } => "restore_failed",
            RestoreError::OpenElsewhere { .. } => "open_elsewhere",
            RestoreError::Store(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            RestoreError::NotABackup { .. } => {
                "所选文件不是本数据文件的备份（可能已被删除或轮换掉），未作任何改动。请刷新备份列表后重新选择。"
                    .into()
            }
            RestoreError::Marker { marker, .. } => format!(
                "无法在数据文件旁写入恢复请求“{}”，请检查该文件夹是否可写。未作任何改动。",
                marker.display()
            ),
            RestoreError::BackupGone { backup, .. } => format!(
                "要恢复的备份“{backup}”已不存在，本次没有恢复，数据文件未作改动。请在 设置 → 备份 中重新选择。"
            ),
            RestoreError::Restore { backup, db, .. } => format!(
                "用备份“{}”恢复数据文件“{}”时出错（可能是磁盘已满或没有写入权限）。恢复前的文件另存为“{}.before-restore”，请检查磁盘后在 设置 → 备份 中重试。",
                backup.display(),
                db.display(),
                db.display()
            ),
            RestoreError::OpenElsewhere { db, .. } => format!(
                "另一个程序（另一个帮扶台账窗口，或 bangfu 命令）正打开数据文件“{}”，为免它的修改丢失，本次没有恢复备份，数据文件未作改动。请关闭它后，在 设置 → 备份 中重新选择要恢复的备份。",
                db.display()
            ),
            RestoreError::Store(e) => e.message_zh(),
        }
    }
}

/// The file that records a requested restore: `<file>.restore-request` beside the data file.
pub fn restore_marker(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".restore-request");
    db_path.with_file_name(name)
}

/// The backup of `db_path` with this file name, if it is one of its backups now.
fn backup_named(db_path: &Path, name: &str) -> Option<PathBuf> {
    backups_of(db_path)
        .into_iter()
        .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
}

/// [`request_restore`] for whoever is signed in on `store`: only a role that may restore
/// backups (a backup taken before the team added its people has none, and would give
/// everyone full rights again).
pub fn request_restore_by(store: &super::Store, backup: &Path) -> Result<(), RestoreError> {
    store.require(crate::access::Permission::RestoreBackups)?;
    request_restore(store.path(), backup)
}

/// Records that `backup` is to replace the data file at the next start. The backup must be one
/// of this file's backups (as listed by [`super::backup::list_backups`]); the marker names it by
/// file name only, so it can never point outside the file's backup folder.
pub fn request_restore(db_path: &Path, backup: &Path) -> Result<(), RestoreError> {
    let not_a_backup = || RestoreError::NotABackup {
        backup: backup.to_path_buf(),
        db: db_path.to_path_buf(),
    };
    let name = backup
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(not_a_backup)?;
    let found = backup_named(db_path, name).ok_or_else(not_a_backup)?;
    let same = match (std::fs::canonicalize(&found), std::fs::canonicalize(backup)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return Err(not_a_backup());
    }
    let marker = restore_marker(db_path);
    let io = |source| RestoreError::Marker {
        marker: marker.clone(),
        source,
    };
    let partial = marker.with_extension("restore-request-partial");
    std::fs::write(&partial, name.as_bytes()).map_err(io)?;
    std::fs::rename(&partial, &marker).map_err(io)
}

/// Applies a restore requested by [`request_restore`], if any: puts the backup in place of the
/// (closed) data file, keeping the current one as `<file>.before-restore`, and removes the
/// request. Call it before anything opens the data file. The request is removed first, so it
/// is applied at most once; a request naming a backup that is gone (or anything else) is
/// removed and reported, and the data file is left as it was.
pub fn apply_pending_restore(
    db_path: &Path,
    key: Option<&super::DataKey>,
) -> Result<Option<PathBuf>, RestoreError> {
    let marker = restore_marker(db_path);
    let named = match std::fs::read(&marker) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            let _ = std::fs::remove_file(&marker);
            return Err(RestoreError::Marker { marker, source });
        }
    };
    std::fs::remove_file(&marker).map_err(|source| RestoreError::Marker {
        marker: marker.clone(),
        source,
    })?;
    let name = String::from_utf8_lossy(&named).trim().to_owned();
    let Some(backup) = backup_named(db_path, &name) else {
        return Err(RestoreError::BackupGone {
            marker,
            backup: name,
        });
    };
    // Holds the file's exclusive lock until it is replaced (`alone.rs`). Windows refuses to
    // replace a file that is open (another program's handle makes the rename fail, the same
    // proof): closed first there.
    let alone = checkpoint(db_path, key)?;
    #[cfg(not(unix))]
    drop(alone);
    restore_backup(&backup, db_path).map_err(|source| RestoreError::Restore {
        backup: backup.clone(),
        db: db_path.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    drop(alone);
    Ok(Some(backup))
}

/// Folds the write-ahead log into the data file, so the copy kept as `.before-restore` holds
/// every committed change even when the app ended without closing its connections, and
/// proves that no other program has the file open (`alone.rs`: its later saves would go to
/// the replaced file): then nothing is restored. Returns the connection that holds the file's
/// exclusive lock from then on. A file that cannot be opened (a damaged one, the reason for
/// many a restore) is left to the restore as it is.
fn checkpoint(
    db_path: &Path,
    key: Option<&super::DataKey>,
) -> Result<Option<rusqlite::Connection>, RestoreError> {
    if !db_path.exists() {
        return Ok(None);
    }
    // The key only for a file that is encrypted (one of an earlier version, still in the
    // clear, is encrypted at its first open after the restore).
    let key = key.filter(|_| {
        super::protect::protection_of(db_path) == super::protect::Protection::Encrypted
    });
    let folded = super::connect(
        db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        key,
    )
    .and_then(|conn| {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        super::alone::fold_and_prove_alone(&conn, db_path)?;
        Ok(conn)
    });
    match folded {
        Ok(conn) => Ok(Some(conn)),
        Err(e @ super::StoreError::OpenElsewhere { .. }) => Err(RestoreError::OpenElsewhere {
            db: db_path.to_path_buf(),
            source: e,
        }),
        Err(error) => {
            eprintln!(
                "restore: could not fold the write-ahead log of {} before restoring: {error}",
                db_path.display()
            );
            Ok(None)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::backup::backup_file;
    use super::*;

    const NOW: u64 = 1_750_000_000_000;

    /// A data file in WAL mode holding one row, and a backup of it.
    fn file_with_backup(dir: &Path) -> (PathBuf, PathBuf) {
        let db = dir.join("村.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
        )
        .unwrap();
        drop(conn);
        let backup = backup_file(&db, "manual", NOW, None).unwrap();
        (db, backup)
    }

    fn rows(db: &Path) -> Vec<i64> {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Set for the copy of this test binary that plays the app ending without closing.
    const ENDED_APP: &str = "BANGFU_TEST_ENDED_APP";

    /// Edits left in the write-ahead log by an app that ended without closing its connection
    /// (`AppHandle::restart`: a process of its own, gone) used to be deleted with the `-wal`
    /// file, so the kept `.before-restore` copy silently lacked them.
    #[test]
    fn the_kept_before_restore_copy_holds_edits_still_in_the_write_ahead_log() {
        if let Ok(db) = std::env::var(ENDED_APP) {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
            // The process ends with the connection open: SQLite never folds nor removes its log.
            std::mem::forget(conn);
            std::process::exit(0);
        }
        let dir = tempfile::tempdir().unwrap();
        let (db, backup) = file_with_backup(dir.path());
        let test = "store::restore::tests::the_kept_before_restore_copy_holds_edits_still_in_the_write_ahead_log";
        let ended = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--test-threads=1"])
            .env(ENDED_APP, &db)
            .status()
            .unwrap();
        assert!(ended.success());
        let mut wal = db.as_os_str().to_os_string();
        wal.push("-wal");
        assert!(
            std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
            "the ended app left its edit in the log"
        );
        request_restore(&db, &backup).unwrap();
        apply_pending_restore(&db, None).unwrap();
        assert_eq!(rows(&db), vec![1]);
        let mut keep = db.as_os_str().to_os_string();
        keep.push(".before-restore");
        assert_eq!(rows(Path::new(&keep)), vec![1, 2]);
    }

    /// Another program with the file open (a second window, a `bangfu` command) would go on
    /// writing into the replaced file, its work lost: the restore is refused, said, and the
    /// file left as it was; once that program is closed the restore can be asked again.
    #[test]
    fn a_restore_is_refused_while_another_program_has_the_file_open() {
        let dir = tempfile::tempdir().unwrap();
        let (db, backup) = file_with_backup(dir.path());
        let other = rusqlite::Connection::open(&db).unwrap();
        other.execute("INSERT INTO t VALUES (2)", []).unwrap();
        request_restore(&db, &backup).unwrap();
        let refused = apply_pending_restore(&db, None).unwrap_err();
        assert_eq!(refused.kind(), "open_elsewhere");
        assert!(
            refused.message_zh().contains("重新选择要恢复的备份"),
            "{}",
            refused.message_zh()
        );
        assert!(
            !restore_marker(&db).exists(),
            "the request is not kept for a later start"
        );
        let mut keep = db.as_os_str().to_os_string();
        keep.push(".before-restore");
        assert!(!Path::new(&keep).exists());
        // The other program goes on as before, its edit there.
        other.execute("INSERT INTO t VALUES (3)", []).unwrap();
        drop(other);
        assert_eq!(rows(&db), vec![1, 2, 3]);
        request_restore(&db, &backup).unwrap();
        apply_pending_restore(&db, None).unwrap();
        assert_eq!(rows(&db), vec![1]);
    }

    #[test]
    fn a_requested_restore_is_applied_once_and_the_data_file_equals_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let (db, backup) = file_with_backup(dir.path());
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
        drop(conn);

        request_restore(&db, &backup).unwrap();
        assert!(restore_marker(&db).exists());
        assert_eq!(
            apply_pending_restore(&db, None).unwrap(),
            Some(backup.clone())
        );
        assert!(!restore_marker(&db).exists(), "the request is removed");
        assert_eq!(std::fs::read(&db).unwrap(), std::fs::read(&backup).unwrap());
        assert_eq!(rows(&db), vec![1]);

        // Applied once: an edit after the restore survives the next start.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("INSERT INTO t VALUES (3)", []).unwrap();
        drop(conn);
        assert_eq!(apply_pending_restore(&db, None).unwrap(), None);
        assert_eq!(rows(&db), vec![1, 3]);
    }

    #[test]
    fn request_restore_refuses_a_file_that_is_not_one_of_this_files_backups() {
        let dir = tempfile::tempdir().unwrap();
        let (db, backup) = file_with_backup(dir.path());
        // Same name, another folder.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let stranger = elsewhere.join(backup.file_name().unwrap());
        std::fs::copy(&backup, &stranger).unwrap();
        for wrong in [stranger.as_path(), db.as_path(), Path::new("/")] {
            let error = request_restore(&db, wrong).unwrap_err();
            assert_eq!(error.kind(), "not_a_backup", "{wrong:?}");
            assert!(error.message_zh().contains("不是本数据文件的备份"));
        }
        assert!(!restore_marker(&db).exists());
    }

    #[test]
    fn a_restore_request_naming_a_missing_backup_is_removed_and_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (db, backup) = file_with_backup(dir.path());
        let before = std::fs::read(&db).unwrap();
        request_restore(&db, &backup).unwrap();
        std::fs::remove_file(&backup).unwrap();
        for named in [None, Some("../村.sqlite"), Some("")] {
            if let Some(name) = named {
                std::fs::write(restore_marker(&db), name).unwrap();
            }
            let error = apply_pending_restore(&db, None).unwrap_err();
            assert_eq!(error.kind(), "backup_gone");
            assert!(!restore_marker(&db).exists(), "never blocks the next start");
            assert_eq!(std::fs::read(&db).unwrap(), before);
        }
        assert_eq!(apply_pending_restore(&db, None).unwrap(), None);
    }
}
