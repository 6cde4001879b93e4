//! Every file the product writes (changesets, PDFs, ledgers, reports, backups) reaches its name
//! whole or not at all: it is written under a hidden temporary name in the target's own folder
//! (so on the same drive), flushed to the disk, then renamed over the target, and the folder is
//! flushed so the rename itself survives a power cut. A USB stick pulled out mid-write, a full
//! disk or a crash leaves the old file (or none) and the error says so; never half a file under
//! the name the person chose.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::UserFacing;

/// What the system answers once a drive is gone: EIO, ENXIO and ENODEV on Linux and macOS;
/// ERROR_NOT_READY, ERROR_DEV_NOT_EXIST and ERROR_DEVICE_NOT_CONNECTED on Windows.
#[cfg(unix)]
const GONE_CODES: [i32; 3] = [5, 6, 19];
#[cfg(windows)]
const GONE_CODES: [i32; 3] = [21, 55, 1167];
#[cfg(not(any(unix, windows)))]
const GONE_CODES: [i32; 0] = [];

/// ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION and ERROR_LOCK_VIOLATION: Windows' answer to
/// replacing a file another program has open. (Unix replaces it regardless.)
#[cfg(windows)]
const IN_USE_CODES: [i32; 3] = [5, 32, 33];
#[cfg(not(windows))]
const IN_USE_CODES: [i32; 0] = [];

#[derive(Debug, thiserror::Error)]
pub enum FileWriteError {
    #[error("folder {0} does not exist")]
    FolderMissing(PathBuf),
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

impl FileWriteError {
    fn write(path: &Path, source: io::Error) -> FileWriteError {
        FileWriteError::Write {
            path: path.to_owned(),
            source,
        }
    }

    /// Whether the drive went away under the write (a stick pulled out, a network folder lost).
    pub fn drive_gone(&self) -> bool {
        match self {
            FileWriteError::FolderMissing(_) => true,
            FileWriteError::Write { source, .. } => {
                matches!(
                    source.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::StaleNetworkFileHandle
                ) || source
                    .raw_os_error()
                    .is_some_and(|code| GONE_CODES.contains(&code))
            }
        }
    }

    /// Whether the target is held open by another program (Windows refuses to replace a file
    /// Excel, WPS or a PDF viewer has open).
    fn file_in_use(&self) -> bool {
        match self {
            FileWriteError::FolderMissing(_) => false,
            FileWriteError::Write { source, .. } => {
                source.kind() == io::ErrorKind::ResourceBusy
                    || source
                        .raw_os_error()
                        .is_some_and(|code| IN_USE_CODES.contains(&code))
            }
        }
    }
}

impl UserFacing for FileWriteError {
    fn kind(&self) -> &'static str {
        match self {
            FileWriteError::FolderMissing(_) => "folder_missing",
            FileWriteError::Write { .. } => "file_write",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            FileWriteError::FolderMissing(dir) => format!(
                "U 盘已拔出，或文件夹“{}”不存在：文件没有保存，未留下文件。请插回 U 盘后再保存一次，或换一个保存位置。",
                dir.display()
            ),
            FileWriteError::Write { path, .. } if self.drive_gone() => format!(
                "写入“{}”时 U 盘已拔出（或磁盘不见了），文件没有写完，未留下文件。请插回 U 盘后再保存一次。",
                path.display()
            ),
            FileWriteError::Write { path, .. } if self.file_in_use() => format!(
                "“{}”正在其他程序（Excel、WPS 或 PDF 阅读器）中打开，无法替换。请关闭它后再保存一次；原有的同名文件没有改动，也未留下别的文件。",
                path.display()
            ),
            FileWriteError::Write { path, source } => {
                let why = match source.kind() {
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                        "没有写入权限（U 盘可能设了写保护）"
                    }
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "磁盘已满",
                    io::ErrorKind::ResourceBusy => "文件正被其他程序打开",
                    _ => "读写出错",
                };
                format!(
                    "无法写入“{}”：{why}。文件没有保存，原有的同名文件没有改动。",
                    path.display()
                )
            }
        }
    }
}

/// Writes `bytes` to `path` whole or not at all (see the module's text).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FileWriteError> {
    write_file_with(path, |partial| -> Result<(), FileWriteError> {
        let mut file =
            std::fs::File::create(partial).map_err(|e| FileWriteError::write(path, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| FileWriteError::write(path, e))
    })
}

/// Removes the partial file unless it was renamed into place: a failed write, or a panic in the
/// writer, leaves nothing behind.
struct PartialFile<'a> {
    path: &'a Path,
    kept: bool,
}

impl Drop for PartialFile<'_> {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// For writers that save to a path of their own (a workbook, a database backup): `write` is
/// given a temporary path in the target's folder; when it succeeds, the file there is flushed
/// and renamed over `path`. When it fails, or the flush or rename does, the temporary file is
/// removed and `path` is left as it was.
pub fn write_file_with<T, E: From<FileWriteError>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        return Err(FileWriteError::FolderMissing(dir.to_owned()).into());
    }
    let partial = partial_name(path);
    let mut guard = PartialFile {
        path: &partial,
        kept: false,
    };
    let finish = |value: T| -> Result<T, FileWriteError> {
        // Flushed through a handle that may write: Windows refuses to flush a read-only one.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| FileWriteError::write(path, e))?;
        // The rename is durable only once the folder is flushed (Windows cannot open a
        // folder so; there the rename is durable on its own).
        if let Ok(folder) = std::fs::File::open(dir) {
            let _ = folder.sync_all();
        }
        Ok(value)
    };
    let result = write(&partial).and_then(|value| finish(value).map_err(E::from));
    guard.kept = result.is_ok();
    result
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// `.<name>.<random>.partial` beside the target: hidden, on the same drive, and its own for
/// each write (two saves of one file at once never remove each other's partial file).
fn partial_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "bangfu".into(), |n| n.to_string_lossy().into_owned());
    // The random tail of a v7 id.
    let unique = uuid::Uuid::now_v7().simple().to_string();
    folder_of(path).join(format!(".{name}.{}.partial", &unique[24..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("新文村.bfcs");
        write_file(&target, b"old").unwrap();
        let failed: Result<(), FileWriteError> = write_file_with(&target, |partial| {
            std::fs::write(partial, b"half").unwrap();
            Err(FileWriteError::write(
                partial,
                io::Error::from_raw_os_error(19),
            ))
        });
        let error = failed.unwrap_err();
        assert!(error.drive_gone());
        assert!(error.message_zh().contains("未留下文件"));
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("新文村.bfcs")]);
    }

    #[test]
    fn a_missing_folder_is_named_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("拔出的U盘").join("台帐.xlsx");
        let error = write_file(&target, b"x").unwrap_err();
        assert!(matches!(error, FileWriteError::FolderMissing(_)));
        assert!(error.message_zh().contains("拔出"));
    }

    #[test]
    fn a_write_that_fails_at_the_rename_leaves_no_half_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the data is written and flushed, the rename fails.
        let target = dir.path().join("同步.bfcs");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let error = write_file(&target, b"content").unwrap_err();
        assert!(!error.drive_gone());
        assert!(
            error.message_zh().contains("文件没有保存"),
            "{}",
            error.message_zh()
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("同步.bfcs")],
            "no partial file is left"
        );
    }

    #[test]
    fn a_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("卡.pdf");
        write_file(&target, b"first").unwrap();
        write_file(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
