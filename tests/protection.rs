//! The people in the files are protected at rest (issue 15): a data file, its write-ahead log,
//! its drafts and its backups are unreadable without the key; a file of an earlier version is
//! encrypted in place at its first open with a key and keeps every change; the passphrase, the
//! recovery code and a wrong one each do what the lock screen says.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use bangfu_core::demo::write_demo_village;
use bangfu_core::error::UserFacing;
use bangfu_core::store::protect::{self, Protection};
use bangfu_core::store::{OpenOptions, Store, StoreError, Unlock};
use bangfu_core::sync::digest::state_hash;
use zeroize::Zeroizing;

const T0: u64 = 1_750_000_000_000;

fn options(dir: &Path, key: Option<bangfu_core::store::DataKey>) -> OpenOptions {
    OpenOptions {
        identity_dir: Some(dir.join("registry")),
        device_name: Some("红旗村-笔记本1".into()),
        fixed_clock_ms: Some(T0),
        key,
    }
}

/// Every name of the demo's people, as UTF-8 bytes to look for in raw files.
fn names(store: &Store) -> Vec<String> {
    let sql = store.sql().unwrap();
    let mut stmt = sql
        .prepare(
            "SELECT DISTINCT name FROM member WHERE name IS NOT NULL AND length(name) >= 2 ORDER BY name LIMIT 40",
        )
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The files a lost laptop gives away: the data file, its log and its backups.
fn files_beside(db: &Path) -> Vec<std::path::PathBuf> {
    let mut files = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_os_string();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        if path.exists() {
            files.push(path);
        }
    }
    files.extend(bangfu_core::store::backup::backups_of(db));
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn leaked_names(db: &Path, names: &[String]) -> Vec<(String, String)> {
    let mut leaks = Vec::new();
    for file in files_beside(db) {
        let bytes = std::fs::read(&file).unwrap();
        for name in names {
            if contains(&bytes, name.as_bytes()) {
                leaks.push((file.display().to_string(), name.clone()));
            }
        }
    }
    leaks
}

#[test]
fn an_encrypted_data_file_its_log_drafts_and_backups_show_no_name_to_a_reader_without_the_key() {
    let dir = common::scratch();
    let db = dir.path().join("台账.sqlite");
    let code = protect::set_up(&db, "红旗村工作队口令").unwrap();
    let key = protect::unlock(&db, &Unlock::Recovery(code)).unwrap();
    let mut store = Store::open(&db, &options(dir.path(), Some(key))).unwrap();
    write_demo_village(&mut store).unwrap();
    let names = names(&store);
    assert!(names.len() >= 40, "the demo has its people");
    store
        .save_draft(
            "household:new",
            "新户",
            &format!("{{\"head\":\"{}\"}}", names[0]),
        )
        .unwrap();
    store.backup("manual").unwrap();
    store.daily_backup().unwrap();
    // The log still holds pages at this point: the store is open.
    assert!(files_beside(&db).len() >= 3, "{:?}", files_beside(&db));
    assert_eq!(leaked_names(&db, &names), Vec::<(String, String)>::new());

    // SQLite's own reader sees no database in any of them.
    for file in files_beside(&db)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "sqlite"))
    {
        let out = std::process::Command::new("sqlite3")
            .arg(&file)
            .arg("SELECT name FROM member LIMIT 1")
            .output()
            .expect("sqlite3 runs");
        assert!(!out.status.success(), "{} read by sqlite3", file.display());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a database"));
    }

    // Without a key the file is refused with what to do; nothing is written to it.
    drop(store);
    let before = std::fs::read(&db).unwrap();
    let refused = Store::open(&db, &options(dir.path(), None)).unwrap_err();
    assert_eq!(refused.kind(), "locked");
    assert!(refused.message_zh().contains("BANGFU_PASSPHRASE"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_file_of_an_earlier_version_in_the_clear_is_encrypted_in_place_with_its_backups_and_keeps_every_change()
 {
    let dir = common::scratch();
    let db = dir.path().join("台账.sqlite");
    let mut plain = Store::open(&db, &options(dir.path(), None)).unwrap();
    write_demo_village(&mut plain).unwrap();
    plain.backup("manual").unwrap();
    let names = names(&plain);
    let hash = state_hash(&plain).unwrap();
    drop(plain);
    assert_eq!(protect::protection_of(&db), Protection::Plain);
    assert!(
        !leaked_names(&db, &names).is_empty(),
        "the test reads names in a file in the clear"
    );

    let code = protect::set_up(&db, "红旗村工作队口令").unwrap();
    let key = protect::unlock(
        &db,
        &Unlock::Passphrase(Zeroizing::new("红旗村工作队口令".into())),
    )
    .unwrap();
    let store = Store::open(&db, &options(dir.path(), Some(key.clone()))).unwrap();
    assert_eq!(state_hash(&store).unwrap(), hash, "every change kept");
    assert_eq!(protect::protection_of(&db), Protection::Encrypted);
    assert_eq!(leaked_names(&db, &names), Vec::<(String, String)>::new());
    // The backup taken in the clear opens with the same key.
    let backup = bangfu_core::store::backup::backups_of(&db)[0].clone();
    let reopened = Store::open(&backup, &options(dir.path(), Some(key.clone()))).unwrap();
    assert_eq!(state_hash(&reopened).unwrap(), hash);
    drop(reopened);
    drop(store);

    // A lost key file: the recovery code alone opens the file.
    std::fs::remove_file(protect::key_file_path(&db)).unwrap();
    let by_code = protect::unlock(&db, &Unlock::Recovery(code)).unwrap();
    let store = Store::open(&db, &options(dir.path(), Some(by_code))).unwrap();
    assert_eq!(state_hash(&store).unwrap(), hash);
}

/// Encrypting a big file of an earlier version in place says how far it has come while it
/// copies (the window's 已完成 … MB), not only at the start and the end.
#[test]
fn encrypting_a_file_in_place_reports_its_progress_as_it_copies() {
    let dir = common::scratch();
    let db = dir.path().join("乡镇.sqlite");
    let mut plain = Store::open(&db, &options(dir.path(), None)).unwrap();
    bangfu_core::demo::generate_county(&mut plain, 800, 7, &mut |_| {}).unwrap();
    let hash = state_hash(&plain).unwrap();
    drop(plain);
    let code = protect::set_up(&db, "乡镇工作站的口令").unwrap();
    let key = code.data_key();
    let heard = std::sync::Mutex::new(Vec::new());
    bangfu_core::store::encrypt::encrypt_in_place(&db, &key, &|done, total| {
        heard.lock().unwrap().push((done, total));
    })
    .unwrap();
    let heard = heard.into_inner().unwrap();
    let total = heard[0].1;
    assert!(total > 4 << 20, "a file big enough to watch: {total} bytes");
    assert_eq!(heard.first(), Some(&(0, total)));
    assert_eq!(heard.last(), Some(&(total, total)));
    assert!(heard.iter().all(|&(done, t)| t == total && done <= total));
    assert!(
        heard.windows(2).all(|w| w[0].0 <= w[1].0),
        "never going back: {heard:?}"
    );
    assert!(
        heard.iter().any(|&(done, _)| done > 0 && done < total),
        "heard only the start and the end: {heard:?}"
    );
    let store = Store::open(&db, &options(dir.path(), Some(key))).unwrap();
    assert_eq!(state_hash(&store).unwrap(), hash);
}

#[test]
fn a_wrong_passphrase_or_another_files_code_is_refused_and_the_file_stays_as_it_was() {
    let dir = common::scratch();
    let db = dir.path().join("台账.sqlite");
    protect::set_up(&db, "红旗村工作队口令").unwrap();
    let key = protect::unlock(
        &db,
        &Unlock::Passphrase(Zeroizing::new("红旗村工作队口令".into())),
    )
    .unwrap();
    let mut store = Store::open(&db, &options(dir.path(), Some(key))).unwrap();
    write_demo_village(&mut store).unwrap();
    drop(store);
    let before = std::fs::read(&db).unwrap();

    let wrong = protect::unlock(
        &db,
        &Unlock::Passphrase(Zeroizing::new("红旗村工作队口令2".into())),
    )
    .unwrap_err();
    assert_eq!(wrong.kind(), "wrong_passphrase");
    assert!(wrong.message_zh().contains("口令不对"));

    // Another file's recovery code, with the key file gone (nothing to check it against):
    // the open itself refuses it.
    std::fs::remove_file(protect::key_file_path(&db)).unwrap();
    let other = dir.path().join("别的.sqlite");
    let other_code = protect::set_up(&other, "另一份文件的口令").unwrap();
    let other_key = protect::unlock(&db, &Unlock::Recovery(other_code)).unwrap();
    let refused = Store::open(&db, &options(dir.path(), Some(other_key))).unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::Protect(protect::ProtectError::KeyDoesNotFit { .. })
        ),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing written");
}

#[test]
fn the_reader_connection_and_a_restored_backup_use_the_files_key() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    write_demo_village(&mut store).unwrap();
    let reader = store.open_reader().unwrap();
    assert_eq!(state_hash(&reader).unwrap(), state_hash(&store).unwrap());
    let backup = store.backup("manual").unwrap();
    let hash = state_hash(&store).unwrap();
    let path = store.path().to_path_buf();
    drop(reader);
    drop(store);
    bangfu_core::store::backup::restore_backup(&backup, &path).unwrap();
    let restored = common::open_at(dir.path(), "a", T0);
    assert_eq!(state_hash(&restored).unwrap(), hash);
}

#[test]
fn copies_left_in_the_clear_beside_an_encrypted_file_are_encrypted_at_the_next_open() {
    // What a power cut during the first encryption leaves (the data file encrypted, a backup
    // not yet), and what a restore of an earlier version kept beside the file.
    let dir = common::scratch();
    let db = dir.path().join("台账.sqlite");
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let plain_db = plain_dir.join("旧.sqlite");
    let mut plain = Store::open(&plain_db, &options(&plain_dir, None)).unwrap();
    write_demo_village(&mut plain).unwrap();
    let names = names(&plain);
    drop(plain);

    let code = protect::set_up(&db, "红旗村工作队口令").unwrap();
    let key = protect::unlock(&db, &Unlock::Recovery(code)).unwrap();
    let store = Store::open(&db, &options(dir.path(), Some(key.clone()))).unwrap();
    store.backup("manual").unwrap();
    drop(store);
    let backups = bangfu_core::store::backup::backup_dir(&db);
    std::fs::copy(&plain_db, backups.join("20250101-000000.000-daily.sqlite")).unwrap();
    let before_restore = dir.path().join("台账.sqlite.before-restore");
    std::fs::copy(&plain_db, &before_restore).unwrap();
    assert!(
        !leaked_names(&db, &names).is_empty(),
        "the plain backup is readable"
    );

    let _store = Store::open(&db, &options(dir.path(), Some(key))).unwrap();
    assert_eq!(leaked_names(&db, &names), Vec::<(String, String)>::new());
    let kept = std::fs::read(&before_restore).unwrap();
    assert!(
        names.iter().all(|n| !contains(&kept, n.as_bytes())),
        "before-restore encrypted"
    );
    assert_eq!(
        protect::protection_of(&before_restore),
        Protection::Encrypted
    );
}
