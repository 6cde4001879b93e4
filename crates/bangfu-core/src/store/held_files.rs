//! The few reads Bangfu makes itself of files SQLite has open (the data file's header, the
//! wal-index `-shm`), through descriptors this process does not close while a store of it is
//! open on the file.
//!
//! On Unix SQLite locks with POSIX advisory locks, which belong to the process, not to a
//! descriptor: closing *any* descriptor of a file drops every lock the process holds on that
//! file, SQLite's own included (SQLite's "How To Corrupt", §2.2). A header read through
//! `File::open` … drop while the app had the file open (a second store's open on the hub sync
//! thread, the checkpoint thread's look at `-shm` every second) left the app's connections
//! without their locks. The next program on the file (`bangfu edit`) then took itself for the
//! only one: it reset the wal-index, checkpointed and deleted the log under the app, whose
//! later saves went to a log no other program saw, and whose reads failed as "database disk
//! image is malformed".
//!
//! So every store registers its data file here while it is open ([`OpenHere`], the last field
//! of `Store`: dropped after its connection and threads are closed). A read of a registered
//! file (or of its `-shm`) goes through a descriptor opened once per file (device and inode)
//! and closed only when the last store of this process on that data file is gone; a read of a
//! file no store here has open (a backup, a file on a stick, a file before its first open)
//! opens and closes it as usual. On other systems (Windows locks by handle) every read opens
//! and closes the file.
//!
//! Architecture invariant: nothing in this process opens and closes a descriptor of a data
//! file or its `-shm` while a store of it is open on the file, except SQLite itself and this
//! module. (SQLite takes no lock on the `-wal`: the bench reads its size and frames directly.)

use std::io;
use std::path::{Path, PathBuf};

/// Reads up to `buf.len()` bytes from the start of `path`, which is `data_file` or a file
/// beside it SQLite keeps (`-shm`); how many it read (0 for an empty file). An error when the
/// file cannot be opened (it is not there).
pub(crate) fn read_start(data_file: &Path, path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    imp::read_start(&place_of(data_file), path, buf)
}

/// A store's data file registered as open in this process (see the module): reads of it go
/// through held descriptors until the last of these for the file is dropped.
#[derive(Debug)]
pub(crate) struct OpenHere {
    place: PathBuf,
}

impl OpenHere {
    /// Registers `data_file` (before the store's connection opens it, so that no read of this
    /// process closes a descriptor of it from then on).
    pub(crate) fn new(data_file: &Path) -> OpenHere {
        let place = place_of(data_file);
        imp::register(&place);
        OpenHere { place }
    }
}

impl Drop for OpenHere {
    fn drop(&mut self) {
        imp::unregister(&self.place);
    }
}

/// Where a data file is, the same for every path that names it: the path resolved (a link to
/// the file too: SQLite follows it), or its folder resolved while the file does not exist yet.
fn place_of(data_file: &Path) -> PathBuf {
    if let Ok(resolved) = std::fs::canonicalize(data_file) {
        return resolved;
    }
    let name = data_file.file_name().unwrap_or_default();
    let folder = data_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(folder)
        .unwrap_or_else(|_| folder.to_path_buf())
        .join(name)
}

fn read_plain(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    crate::sync::stream::read_up_to(&mut std::fs::File::open(path)?, buf)
}

#[cfg(unix)]
mod imp {
    use std::collections::HashMap;
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    #[derive(Default)]
    struct Held {
        /// Data files stores of this process have open, with how many.
        open: HashMap<PathBuf, usize>,
        /// Descriptors held, by the file's device and inode, with the data file they are of.
        files: HashMap<(u64, u64), (PathBuf, File)>,
    }

    static HELD: Mutex<Option<Held>> = Mutex::new(None);

    fn held() -> MutexGuard<'static, Option<Held>> {
        HELD.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn register(place: &Path) {
        let mut held = held();
        *held
            .get_or_insert_with(Held::default)
            .open
            .entry(place.to_path_buf())
            .or_insert(0) += 1;
    }

    pub(super) fn unregister(place: &Path) {
        let mut held = held();
        let Some(held) = held.as_mut() else {
            return;
        };
        let Some(count) = held.open.get_mut(place) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            held.open.remove(place);
            // No store of this process has the file open any more (their connections are
            // closed): its descriptors may close.
            held.files.retain(|_, (of, _)| of != place);
        }
    }

    pub(super) fn read_start(place: &Path, path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        // The lock is held through a plain read too: a store registering meanwhile waits, so
        // no descriptor closes once its connection may have locks.
        let mut held = held();
        let held = held.get_or_insert_with(Held::default);
        if !held.open.contains_key(place) {
            return super::read_plain(path, buf);
        }
        // `stat` by path opens no descriptor.
        let meta = std::fs::metadata(path)?;
        let key = (meta.dev(), meta.ino());
        if !held.files.contains_key(&key) {
            let file = File::open(path)?;
            // The file may have been replaced between the `stat` and the open: it is kept
            // under what it is (a descriptor already held for that is kept as well).
            let opened_key = match file.metadata() {
                Ok(m) => (m.dev(), m.ino()),
                Err(e) => {
                    std::mem::forget(file);
                    return Err(e);
                }
            };
            if let Some(previous) = held.files.insert(opened_key, (place.to_path_buf(), file)) {
                std::mem::forget(previous);
            }
            if opened_key != key {
                return read_held(&held.files[&opened_key].1, buf);
            }
        }
        read_held(&held.files[&key].1, buf)
    }

    /// Reads the start of a held descriptor (under `HELD`'s lock: no other read moves its
    /// offset meanwhile).
    fn read_held(mut file: &File, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(0))?;
        crate::sync::stream::read_up_to(&mut file, buf)
    }

    /// How many descriptors are held for the data file at `data_file` (tests).
    #[cfg(test)]
    pub(super) fn held_count(data_file: &Path) -> usize {
        let place = super::place_of(data_file);
        held().as_ref().map_or(0, |h| {
            h.files.values().filter(|(of, _)| *of == place).count()
        })
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;
    use std::path::Path;

    pub(super) fn register(_place: &Path) {}

    pub(super) fn unregister(_place: &Path) {}

    pub(super) fn read_start(_place: &Path, path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        super::read_plain(path, buf)
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use uuid::Uuid;

    use crate::model::{FieldValue, Table};
    use crate::store::protect::{self, Unlock};
    use crate::store::{Change, OpenOptions, Store};

    const PASSPHRASE: &str = "山间小路弯弯曲曲";
    /// Set for the copy of this test binary that plays the second program.
    const SECOND_PROGRAM: &str = "BANGFU_TEST_SECOND_PROGRAM";

    fn options(dir: &Path, data_file: &Path) -> OpenOptions {
        let key =
            protect::unlock(data_file, &Unlock::Passphrase(PASSPHRASE.to_owned().into())).unwrap();
        OpenOptions {
            identity_dir: Some(dir.join("registry")),
            key: Some(key),
            ..OpenOptions::default()
        }
    }

    fn file_household(store: &mut Store, group: &str) {
        store
            .write_unchecked(&[Change::Put {
                table: Table::Household,
                id: Uuid::now_v7(),
                fields: vec![("group_name", FieldValue::Text(group.to_owned()))],
            }])
            .unwrap();
    }

    fn households(store: &Store) -> rusqlite::Result<i64> {
        store
            .conn()
            .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
    }

    /// What the copy of this test binary run as a second program does: `write` files a
    /// household, `count` prints how many households it reads.
    fn second_program(data_file: &Path, what: &str) -> String {
        let test = "store::held_files::tests::a_second_program_saving_leaves_the_open_file_whole_for_the_first";
        let run = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(SECOND_PROGRAM, format!("{what}:{}", data_file.display()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(
            run.status.success() && stdout.contains("1 passed"),
            "the second program ({what}): {stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        stdout
            .lines()
            .find_map(|l| {
                l.split_once("households: ")
                    .or_else(|| l.split_once("restore: "))
            })
            .and_then(|(_, n)| n.split_whitespace().next())
            .unwrap_or_default()
            .to_owned()
    }

    /// The app keeps the data file open (its store, the checkpoint thread looking at `-shm`
    /// every second, a second store opened and closed on another thread as the hub sync
    /// does) while other programs (`bangfu edit`, `bangfu household show`) open the file, save
    /// or read, and exit. Every program reads every other's saves, and the file checks
    /// whole. Before the reads of this module, each of the app's own header reads dropped its
    /// SQLite locks; the next program took itself for the only one on the file, reset the
    /// wal-index and deleted the log under the app, whose saves then went to a log no other
    /// program could see (and, in the app, reads failed with "database disk image is
    /// malformed").
    #[test]
    fn a_second_program_saving_leaves_the_open_file_whole_for_the_first() {
        if let Ok(task) = std::env::var(SECOND_PROGRAM) {
            let (what, data_file) = task.split_once(':').unwrap();
            let data_file = Path::new(data_file);
            let dir = data_file.parent().unwrap();
            if what == "restore" {
                // A restore asked for while the app has the file open (`alone.rs`).
                use crate::error::UserFacing;
                let backup = crate::store::backup::backups_of(data_file).pop().unwrap();
                crate::store::restore::request_restore(data_file, &backup).unwrap();
                let key = options(dir, data_file).key;
                let refused = crate::store::restore::apply_pending_restore(data_file, key.as_ref())
                    .unwrap_err();
                println!("\nrestore: {}", refused.kind());
                return;
            }
            let mut store = Store::open(data_file, &options(dir, data_file)).unwrap();
            match what {
                "write" => file_household(&mut store, "第二个程序"),
                _ => println!("\nhouseholds: {}", households(&store).unwrap()),
            }
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let data_file = dir.path().join("新文村.sqlite");
        protect::set_up(&data_file, PASSPHRASE).unwrap();
        let options = options(dir.path(), &data_file);
        let mut app = Store::open(&data_file, &options).unwrap();
        for i in 0..40 {
            file_household(&mut app, &format!("第{i}组"));
        }
        // The hub sync thread's store, opened and closed beside the app's.
        std::thread::scope(|s| {
            s.spawn(|| drop(Store::open(&data_file, &options).unwrap()));
        });
        // The checkpoint thread has looked at the wal-index at least once.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let shm = {
            let mut name = data_file.as_os_str().to_owned();
            name.push("-shm");
            std::path::PathBuf::from(name)
        };

        assert_eq!(second_program(&data_file, "count"), "40");
        second_program(&data_file, "write");
        assert!(
            shm.exists(),
            "the wal-index of the open file is still there"
        );
        assert_eq!(
            households(&app).unwrap(),
            41,
            "the app reads the other program's household"
        );
        file_household(&mut app, "第二个程序之后");
        assert_eq!(
            second_program(&data_file, "count"),
            "42",
            "another program reads the app's household saved after"
        );
        second_program(&data_file, "write");
        assert_eq!(households(&app).unwrap(), 43);
        // Nor is the file replaced under the open app by a restore in another program.
        app.backup("manual").unwrap();
        assert_eq!(second_program(&data_file, "restore"), "open_elsewhere");
        assert_eq!(households(&app).unwrap(), 43);
        let check: String = app
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        assert!(
            super::imp::held_count(&data_file) > 0,
            "the app's reads went through held descriptors"
        );
        drop(app);
        // The last store of this process on the file gone, its descriptors are closed.
        assert_eq!(super::imp::held_count(&data_file), 0);
        let again = Store::open(&data_file, &options).unwrap();
        assert_eq!(households(&again).unwrap(), 43);
    }

    /// A file no store of this process has open (a backup, a file on a stick) is read and
    /// closed at once: nothing held keeps a stick busy or a removed file on the disk.
    #[test]
    fn a_file_no_store_has_open_is_read_without_holding_it() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("备份.sqlite");
        std::fs::write(&copy, b"SQLite format 3\0 and the rest").unwrap();
        assert_eq!(protect::protection_of(&copy), protect::Protection::Plain);
        assert_eq!(super::imp::held_count(&copy), 0);
        // Two paths of one file count as one (the folder resolved).
        let open = super::OpenHere::new(&dir.path().join(".").join("备份.sqlite"));
        assert_eq!(protect::protection_of(&copy), protect::Protection::Plain);
        assert_eq!(super::imp::held_count(&copy), 1);
        drop(open);
        assert_eq!(super::imp::held_count(&copy), 0);
        // A data file opened through a link: the store's threads read the file it names.
        let link = dir.path().join("链接.sqlite");
        std::os::unix::fs::symlink(&copy, &link).unwrap();
        let open = super::OpenHere::new(&link);
        assert_eq!(protect::protection_of(&copy), protect::Protection::Plain);
        assert_eq!(super::imp::held_count(&link), 1);
        drop(open);
        assert_eq!(super::imp::held_count(&copy), 0);
    }
}
