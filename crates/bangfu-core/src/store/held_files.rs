//! The few reads Bangfu makes itself of files SQLite has open (the data file's header, the
//! wal-index `-shm`), through descriptors this process never closes.
//!
//! On Unix SQLite locks with POSIX advisory locks, which belong to the process, not to a
//! descriptor: closing *any* descriptor of a file drops every lock the process holds on that
//! file, SQLite's own included (SQLite's "How To Corrupt", §2.2). A header read through
//! `File::open` … drop while the app had the file open (a second store's open on the hub sync
//! thread, the checkpoint thread's look at `-shm` every second) left the app's connections
//! without their locks. The next program on the file (`bangfu edit`) then took itself for the
//! only one: it reset the wal-index, checkpointed and deleted the log under the app, and the
//! app read its own data file as damaged ("database disk image is malformed") until it was
//! restarted.
//!
//! So a file is read here through a descriptor opened once per file (device and inode) and
//! kept until the process ends: a few descriptors per process (the data file, its `-shm`, and
//! a new one only when SQLite makes the file anew). On other systems (Windows locks by handle)
//! a read opens and closes the file as usual.
//!
//! Architecture invariant: nothing in this process opens and closes a descriptor of the data
//! file, its `-wal` or its `-shm` while a connection may be open on it, except SQLite itself
//! and this module. Copies (backups, the file kept by a restore) are files no connection keeps
//! open, and are read as any file.

use std::io;
use std::path::Path;

/// Reads up to `buf.len()` bytes from the start of `path`; how many it read (0 for an empty
/// file). An error when the file cannot be opened (it is not there).
pub(crate) fn read_start(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    imp::read_start(path, buf)
}

#[cfg(unix)]
mod imp {
    use std::collections::HashMap;
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::{FileExt, MetadataExt};
    use std::path::Path;
    use std::sync::{Mutex, PoisonError};

    /// The descriptors held, by the file's device and inode. Never removed: removing one would
    /// close it.
    static HELD: Mutex<Option<HashMap<(u64, u64), File>>> = Mutex::new(None);

    pub(super) fn read_start(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        // `stat` by path opens no descriptor.
        let meta = std::fs::metadata(path)?;
        let key = (meta.dev(), meta.ino());
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        let held = held.get_or_insert_with(HashMap::new);
        if !held.contains_key(&key) {
            let file = File::open(path)?;
            // The file may have been replaced between the `stat` and the open: it is kept
            // under what it is, and a descriptor already held for that is kept as well (the
            // new one is never closed either).
            let opened = file.metadata()?;
            let opened_key = (opened.dev(), opened.ino());
            if let Some(previous) = held.insert(opened_key, file) {
                std::mem::forget(previous);
            }
            if opened_key != key {
                return read_held(&held[&opened_key], buf);
            }
        }
        read_held(&held[&key], buf)
    }

    fn read_held(file: &File, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match file.read_at(&mut buf[done..], done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io::{self, Read};
    use std::path::Path;

    pub(super) fn read_start(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        let mut file = std::fs::File::open(path)?;
        let mut done = 0;
        while done < buf.len() {
            match file.read(&mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
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
            run.status.success(),
            "the second program ({what}): {stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        stdout
            .lines()
            .find_map(|l| l.split_once("households: "))
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
        let check: String = app
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        drop(app);
        let again = Store::open(&data_file, &options).unwrap();
        assert_eq!(households(&again).unwrap(), 43);
    }
}
