#![allow(clippy::unwrap_used)]

use super::*;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The tests that look at the process's temporary files or its count of sealed bytes run one
/// at a time (under `cargo test` they share a process).
fn alone() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stands for a resident's ID number and name: what must never reach the disk in the clear.
const MARK: &str = "明文标记-110101199001011234-张秀英";

/// The platform's own VFS, for the comparisons: the same work without encryption.
const PLAIN: Option<&str> = None;

fn open(path: &Path, vfs: Option<&str>) -> Connection {
    let flags = OpenFlags::default();
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs).unwrap(),
        None => Connection::open_with_flags(path, flags).unwrap(),
    };
    // Temporary files on disk, and a small memory bound so a sort spills after 1 MB.
    conn.pragma_update(None, "temp_store", "FILE").unwrap();
    conn.pragma_update(None, "cache_size", -512).unwrap();
    conn
}

fn sealed(path: &Path) -> Connection {
    open(path, Some(register().unwrap()))
}

/// 60,000 rows of about 50 bytes: 3 MB, three times the sorts' memory bound.
fn fill(conn: &Connection) -> Vec<String> {
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .unwrap();
    let values: Vec<String> = (0..60_000)
        .map(|i| format!("{MARK}-{:05}", (i * 7919) % 60_000))
        .collect();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = conn.prepare("INSERT INTO t (v) VALUES (?1)").unwrap();
        for v in &values {
            insert.execute(params![v]).unwrap();
        }
    }
    tx.commit().unwrap();
    values
}

/// What the temporary files this process holds open contain now. SQLite names them
/// `etilqs_…` and on Unix deletes them right at open, so only `/proc` still reaches them.
#[cfg(target_os = "linux")]
fn temp_files() -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if target.to_string_lossy().contains("etilqs_")
            && let Ok(bytes) = std::fs::read(entry.path())
        {
            found.push(bytes);
        }
    }
    found
}

/// The texts a query gives, in its order.
fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A sort of the table by a key no index gives; the temporary files read while its result is
/// half read (its runs are on disk then); the whole result.
#[cfg(target_os = "linux")]
fn sort_spilled(conn: &Connection) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut stmt = conn
        .prepare("SELECT v FROM t ORDER BY substr(v, -3), v")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = vec![rows.next().unwrap().unwrap().get::<_, String>(0).unwrap()];
    let on_disk = temp_files();
    while let Some(row) = rows.next().unwrap() {
        out.push(row.get(0).unwrap());
    }
    (on_disk, out)
}

fn sorted_as_sqlite(values: &[String]) -> Vec<String> {
    let mut expected = values.to_vec();
    // The key is ASCII digits at the end: byte order is SQLite's order.
    expected.sort_by(|a, b| (&a[a.len() - 3..], a).cmp(&(&b[b.len() - 3..], b)));
    expected
}

#[cfg(target_os = "linux")]
#[test]
fn a_sort_too_large_for_memory_goes_to_disk_encrypted_and_comes_back_whole() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let conn = sealed(&dir.path().join("sealed.sqlite"));
    let values = fill(&conn);
    let before = bytes_sealed();
    let (on_disk, sorted) = sort_spilled(&conn);
    assert!(bytes_sealed() - before > 1 << 20);
    let bytes: usize = on_disk.iter().map(Vec::len).sum();
    assert!(
        bytes > 1 << 20,
        "the sort's runs went to disk ({bytes} bytes)"
    );
    for file in &on_disk {
        assert!(
            !contains(file, MARK.as_bytes()),
            "a run holds text in the clear"
        );
        assert!(!contains(file, "张秀英".as_bytes()));
    }
    assert_eq!(sorted, sorted_as_sqlite(&values));

    // The same sort on the platform's VFS: the runs hold the text as it is (what this crate
    // exists to prevent, and what shows the check above can see it).
    let plain = open(&dir.path().join("plain.sqlite"), PLAIN);
    fill(&plain);
    let (on_disk, sorted_plain) = sort_spilled(&plain);
    assert!(on_disk.iter().any(|f| contains(f, MARK.as_bytes())));
    assert_eq!(sorted_plain, sorted);
}

#[cfg(target_os = "linux")]
#[test]
fn a_temporary_table_larger_than_its_cache_is_encrypted_and_reads_back() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    for (vfs, name) in [(Some(register().unwrap()), "sealed"), (PLAIN, "plain")] {
        let conn = open(&dir.path().join(format!("{name}.sqlite")), vfs);
        let values = fill(&conn);
        conn.execute_batch(
            "PRAGMA temp.cache_size = 200;
             CREATE TEMP TABLE copy AS SELECT id, v FROM t;
             CREATE INDEX temp.copy_v ON copy (v);",
        )
        .unwrap();
        let on_disk = temp_files();
        assert!(on_disk.iter().map(Vec::len).sum::<usize>() > 1 << 20);
        let clear = on_disk.iter().any(|f| contains(f, MARK.as_bytes()));
        assert_eq!(clear, vfs.is_none(), "{name}: text in the clear on disk");
        let back = texts(&conn, "SELECT v FROM copy ORDER BY id");
        assert_eq!(back, values, "{name}");
        let check: String = conn
            .query_row("PRAGMA temp.integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "{name}");
        // A change of the whole table rolled back from the temporary database's journal (on
        // disk, its pages rewritten in place): as it was.
        conn.execute_batch("BEGIN; UPDATE temp.copy SET v = 'changed'; ROLLBACK;")
            .unwrap();
        let again = texts(&conn, "SELECT v FROM copy ORDER BY id");
        assert_eq!(again, values, "{name}: after the rollback");
    }
}

#[test]
fn an_index_built_by_an_external_sort_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let conn = sealed(&dir.path().join("data.sqlite"));
    let values = fill(&conn);
    conn.execute_batch("CREATE INDEX t_v ON t (v)").unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let by_index = texts(
        &conn,
        "SELECT v FROM t INDEXED BY t_v WHERE v > '' ORDER BY v",
    );
    let mut expected = values;
    expected.sort();
    assert_eq!(by_index, expected);
}

/// A statement that fails after changing 40,000 rows is undone from its statement journal: the
/// pages the transaction changed before it, 900 kB, past the journal's memory bound (64 kB),
/// so it goes to an encrypted file.
#[test]
fn a_statement_that_fails_halfway_is_undone_from_its_journal() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let conn = sealed(&dir.path().join("data.sqlite"));
    conn.execute_batch(
        "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT, n INTEGER CHECK (n < 50000));
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 45000)
         INSERT INTO u SELECT i, 'row ' || i, i FROM c;",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    conn.execute("UPDATE u SET v = v || ' kept'", []).unwrap();
    let before = bytes_sealed();
    let failed = conn.execute("UPDATE u SET v = v || ' changed', n = n + 10000", []);
    assert!(failed.is_err(), "the CHECK stops the update at n = 40000");
    assert!(
        bytes_sealed() - before > 64 << 10,
        "the journal went to disk"
    );
    tx.commit().unwrap();
    let changed: i64 = conn
        .query_row("SELECT count(*) FROM u WHERE v LIKE '% changed'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(changed, 0);
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM u WHERE v = 'row ' || id || ' kept'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 45_000);
}

/// The data file, its write-ahead log and shared memory pass through unchanged: a file written
/// on this VFS reads on the platform's, while a second connection reads it live.
#[test]
fn data_files_and_their_logs_are_the_platforms_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.sqlite");
    let conn = sealed(&path);
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let values = fill(&conn);
    let reader = sealed(&path);
    let count = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&reader), 60_000);
    conn.execute("INSERT INTO t (v) VALUES (?1)", [MARK])
        .unwrap();
    assert_eq!(count(&reader), 60_001);
    // Not yet copied out of the log: the platform's VFS finds it there.
    let plain = open(&path, PLAIN);
    assert_eq!(count(&plain), 60_001);
    drop((conn, reader, plain));
    let plain = open(&path, PLAIN);
    let first: String = plain
        .query_row("SELECT v FROM t ORDER BY id LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first, values[0]);
    assert!(contains(&std::fs::read(&path).unwrap(), MARK.as_bytes()));
}

#[test]
fn registering_twice_gives_the_same_name() {
    assert_eq!(register(), Ok(VFS_NAME));
    assert_eq!(register(), Ok(VFS_NAME));
}

/// A sort on helper threads with more runs than one merge takes (16): SQLite merges them in
/// stages, each reading and writing its buffers again in place.
#[test]
fn a_sort_of_many_runs_on_helper_threads_comes_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let conn = sealed(&dir.path().join("data.sqlite"));
    conn.pragma_update(None, "threads", 2).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400000)
         INSERT INTO t (v) SELECT printf('%s-%06d-%s', '张秀英', (i * 7919) % 400000,
             '110101199001011234-扶贫产业帮扶-种植养殖') FROM c;",
    )
    .unwrap();
    let mut expected: Vec<String> = (0..400_000)
        .map(|i| format!("张秀英-{i:06}-110101199001011234-扶贫产业帮扶-种植养殖"))
        .collect();
    expected.sort();
    let _alone = alone();
    let before = bytes_sealed();
    let sorted = texts(&conn, "SELECT v FROM t ORDER BY v");
    // Runs of 1 MB: more than 16 of them.
    assert!(
        bytes_sealed() - before > 20 << 20,
        "{}",
        bytes_sealed() - before
    );
    assert_eq!(sorted, expected);
    conn.execute_batch("CREATE INDEX t_v ON t (v)").unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// One temporary file opened on the VFS directly, as SQLite opens a sort's.
struct TempFile {
    memory: Vec<u64>,
}

impl TempFile {
    fn open() -> TempFile {
        register().unwrap();
        // SAFETY: (a test) the VFS is registered; the memory has its `szOsFile` bytes, zeroed
        // and aligned to 8, as SQLite gives it.
        unsafe {
            let vfs = ffi::sqlite3_vfs_find(VFS_NAME_C.as_ptr());
            let size = usize::try_from((*vfs).szOsFile).unwrap();
            let mut file = TempFile {
                memory: vec![0; size.div_ceil(8)],
            };
            let flags = ffi::SQLITE_OPEN_TEMP_JOURNAL
                | ffi::SQLITE_OPEN_READWRITE
                | ffi::SQLITE_OPEN_CREATE
                | ffi::SQLITE_OPEN_EXCLUSIVE
                | ffi::SQLITE_OPEN_DELETEONCLOSE;
            let rc = (*vfs).xOpen.unwrap()(vfs, ptr::null(), file.ptr(), flags, ptr::null_mut());
            assert_eq!(rc, ffi::SQLITE_OK);
            file
        }
    }

    fn ptr(&mut self) -> *mut ffi::sqlite3_file {
        self.memory.as_mut_ptr().cast()
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        assert_eq!(self.try_write(offset, data), ffi::SQLITE_OK);
    }

    fn try_write(&mut self, offset: u64, data: &[u8]) -> c_int {
        let file = self.ptr();
        // SAFETY: (a test) an open file, `data` readable.
        unsafe {
            (*(*file).pMethods).xWrite.unwrap()(
                file,
                data.as_ptr().cast(),
                c_int::try_from(data.len()).unwrap(),
                i64::try_from(offset).unwrap(),
            )
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Vec<u8> {
        let file = self.ptr();
        let mut buf = vec![0u8; len];
        // SAFETY: (a test) an open file, `buf` writable.
        let rc = unsafe {
            (*(*file).pMethods).xRead.unwrap()(
                file,
                buf.as_mut_ptr().cast(),
                c_int::try_from(len).unwrap(),
                i64::try_from(offset).unwrap(),
            )
        };
        assert!(rc == ffi::SQLITE_OK || rc == ffi::SQLITE_IOERR_SHORT_READ);
        buf
    }

    /// The bytes as they are on disk.
    fn raw(&mut self, offset: u64, len: usize) -> Vec<u8> {
        let file = self.ptr();
        let mut buf = vec![0u8; len];
        // SAFETY: (a test) the platform file of an open file.
        assert!(unsafe { read_raw(parts(file).1, &mut buf, offset) });
        buf
    }

    fn truncate(&mut self, size: u64) {
        let file = self.ptr();
        // SAFETY: (a test) an open file.
        let rc =
            unsafe { (*(*file).pMethods).xTruncate.unwrap()(file, i64::try_from(size).unwrap()) };
        assert_eq!(rc, ffi::SQLITE_OK);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let file = self.ptr();
        // SAFETY: (a test) closed once.
        unsafe { (*(*file).pMethods).xClose.unwrap()(file) };
    }
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Whoever keeps an old copy of a block (a snapshot, a flash cell not yet erased) learns
/// nothing from two versions: no keystream encrypts two contents.
#[test]
fn a_block_written_again_is_encrypted_under_a_new_keystream() {
    let mut file = TempFile::open();
    let zeros = vec![0u8; 8192];
    let text = MARK.as_bytes().repeat(8192 / MARK.len() + 1)[..8192].to_vec();
    file.write(0, &zeros);
    let first = file.raw(0, 8192);
    assert_ne!(first, zeros, "on disk encrypted");
    file.write(0, &text);
    let second = file.raw(0, 8192);
    // Under one keystream the two versions would XOR to the two contents' XOR: the text.
    assert_ne!(xor(&first, &second), xor(&zeros, &text));
    assert!(!contains(&xor(&first, &second), MARK.as_bytes()));
    // A few bytes in the middle of a block: the whole block takes the new keystream.
    file.write(5000, b"0123456789");
    let third = file.raw(0, 8192);
    assert_eq!(
        third[..4096],
        second[..4096],
        "the other block is left alone"
    );
    let changed = third[4096..]
        .iter()
        .zip(&second[4096..])
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 4000,
        "the block is encrypted again whole ({changed} bytes)"
    );
    let mut expected = text.clone();
    expected[5000..5010].copy_from_slice(b"0123456789");
    assert_eq!(file.read(0, 8192), expected);
    // Cut and written again: the block does not go back to a keystream it had. Zeros written
    // show the keystream itself; each earlier version XORed with its content shows its own.
    file.truncate(4096);
    file.write(4096, &zeros[..4096]);
    let fourth = file.raw(4096, 4096);
    for (raw, content) in [(&first, &zeros), (&second, &text), (&third, &expected)] {
        let keystream = xor(&raw[4096..], &content[4096..]);
        assert_ne!(fourth, keystream);
        assert!(!contains(&xor(&fourth, &keystream), &[0u8; 16]));
    }
    // Past what one keystream covers: refused, not a process that aborts.
    assert_eq!(file.try_write(1 << 40, b"x"), ffi::SQLITE_FULL);
    assert_eq!(file.try_write(i64::MAX as u64 - 1, b"xy"), ffi::SQLITE_FULL);
}

/// Writes of any size at any offset, over and beside each other, read back as written.
#[test]
fn writes_at_any_offset_read_back_as_written() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    for _ in 0..8 {
        let mut file = TempFile::open();
        let mut model: Vec<u8> = Vec::new();
        let mut written: Vec<bool> = Vec::new();
        for _ in 0..60 {
            let offset = rng.gen_range(0..40_000u64);
            let len = rng.gen_range(1..10_000usize);
            let data: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            file.write(offset, &data);
            let end = offset as usize + len;
            if model.len() < end {
                model.resize(end, 0);
                written.resize(end, false);
            }
            model[offset as usize..end].copy_from_slice(&data);
            written[offset as usize..end].fill(true);
            if rng.gen_ratio(1, 10) {
                let cut = rng.gen_range(0..model.len() as u64);
                file.truncate(cut);
                model.truncate(cut as usize);
                written.truncate(cut as usize);
            }
        }
        let back = file.read(0, model.len());
        for (i, ((b, m), w)) in back.iter().zip(&model).zip(&written).enumerate() {
            // Bytes never written (holes) are SQLite's to never read.
            if *w {
                assert_eq!(b, m, "byte {i}");
            }
        }
        // Past the end: zeros, as the platform gives them.
        assert_eq!(file.read(model.len() as u64, 100), vec![0u8; 100]);
    }
}
