//! The archive's checks case by case: kinds by their first bytes, the size bound to the byte,
//! names by SHA-256, a file kept once however often it is given, and the spool keeping only
//! the files an import wants.

use super::*;
use crate::store::{OpenOptions, Store};

fn open(dir: &tempfile::TempDir) -> Store {
    let options = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("registry")),
        device_name: Some("新文村-笔记本1".to_owned()),
        fixed_clock_ms: Some(1_750_000_000_000),
    };
    Store::open(dir.path().join("a.sqlite"), &options).unwrap()
}

/// A file of `len` bytes starting with `head`.
fn file(head: &[u8], len: usize) -> Vec<u8> {
    let mut bytes = head.to_vec();
    bytes.resize(len.max(head.len()), 0x5A);
    bytes
}

#[test]
fn kinds_are_told_by_their_first_bytes_never_by_their_names() {
    let cases: &[(&[u8], Option<MediaType>)] = &[
        (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some(MediaType::Jpeg)),
        (b"\xFF\xD8\xFF\xE1 Exif from a phone", Some(MediaType::Jpeg)),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Some(MediaType::Png)),
        (b"%PDF-1.7\n%\xE2\xE3\xCF\xD3", Some(MediaType::Pdf)),
        // A Word file, an xlsx (zip), a GIF, text, a PNG cut before its signature ends.
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1a\xe1", None),
        (b"PK\x03\x04\x14\x00", None),
        (b"GIF89a", None),
        ("签字表.jpg".as_bytes(), None),
        (b"\x89PNG\r\n", None),
        (b"%PDF", None),
        (b"", None),
    ];
    for (bytes, expected) in cases {
        assert_eq!(sniff(bytes), *expected, "{bytes:?}");
    }
}

#[test]
fn the_size_bound_holds_to_the_byte_and_says_so_in_chinese() {
    let bound = MAX_FILE_BYTES as usize;
    assert_eq!(
        check_file(&file(b"%PDF-1.4", bound)).unwrap(),
        MediaType::Pdf
    );
    let too_big = check_file(&file(b"%PDF-1.4", bound + 1)).unwrap_err();
    assert!(matches!(too_big, ArchiveError::TooLarge { size } if size == bound as u64 + 1));
    assert!(
        too_big
            .message_zh()
            .contains("超过档案每个文件 8 MB 的上限")
    );
    assert_eq!(check_file(b"").unwrap_err().kind(), "archive_empty_file");
    let word = check_file(b"\xD0\xCF\x11\xE0\xA1\xB1\x1a\xe1 a .doc").unwrap_err();
    assert_eq!(word.kind(), "archive_unknown_kind");
    assert!(word.message_zh().contains("只收照片（JPG、PNG）和 PDF"));
}

#[test]
fn a_file_is_named_by_the_sha256_of_its_bytes() {
    // FIPS 180-2's example.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(is_sha256_hex(&sha256_hex(b"abc")));
    assert!(!is_sha256_hex(&sha256_hex(b"abc").to_uppercase()));
    assert!(!is_sha256_hex("ba7816bf"));
}

#[test]
fn the_same_file_given_twice_is_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let scan = file(b"%PDF-1.4 scan", 3000);
    let (first, media, new) = blobs::check_and_keep(&mut store, &scan).unwrap();
    assert_eq!((media, new), (MediaType::Pdf, true));
    let (second, _, new) = blobs::check_and_keep(&mut store, &scan).unwrap();
    assert_eq!((second.as_str(), new), (first.as_str(), false));
    let photo = file(b"\xFF\xD8\xFF\xE0", 2000);
    blobs::check_and_keep(&mut store, &photo).unwrap();
    assert_eq!(blobs::held_totals(store.conn()).unwrap(), (2, 5000));
    assert_eq!(blob_bytes(&store, &first).unwrap(), (MediaType::Pdf, scan));
    assert_eq!(
        missing_blobs(store.conn(), [first.as_str(), &sha256_hex(b"other")]).unwrap(),
        vec![sha256_hex(b"other")]
    );
    // A refused file is not kept.
    assert!(blobs::check_and_keep(&mut store, b"GIF89a").is_err());
    assert_eq!(blobs::held_totals(store.conn()).unwrap().0, 2);
}

#[test]
fn a_held_file_that_no_longer_matches_its_name_is_not_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let (sha256, _, _) = blobs::check_and_keep(&mut store, &file(b"%PDF-1.4", 100)).unwrap();
    store
        .write_local(|conn| {
            conn.execute(
                "UPDATE blob SET bytes = ?2 WHERE sha256 = ?1",
                rusqlite::params![sha256, file(b"%PDF-1.5", 100)],
            )?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        blob_bytes(&store, &sha256).unwrap_err().kind(),
        "archive_held_file_damaged"
    );
}

#[test]
fn the_spool_keeps_only_the_wanted_files_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let a = file(b"%PDF-1.4 a", 70_000);
    let b = file(b"\x89PNG\r\n\x1a\n b", 10);
    let (ha, hb) = (sha256_hex(&a), sha256_hex(&b));
    let mut spool = BlobSpool::new([ha.clone()]);
    assert!(spool.wants(&ha) && !spool.wants(&hb));
    spool.set_aside(&ha, MediaType::Pdf, &a).unwrap();
    spool.set_aside(&ha, MediaType::Pdf, &a).unwrap();
    spool.set_aside(&hb, MediaType::Png, &b).unwrap();
    assert_eq!(spool.len(), 1);
    let wall = store.wall_ms();
    let kept = store
        .write_local(|conn| spool.keep_all(conn, wall))
        .unwrap();
    assert_eq!(kept, 1);
    assert_eq!(blob_bytes(&store, &ha).unwrap().1, a);
    assert!(!holds_blob(store.conn(), &hb).unwrap());
}

/// Scans of signed forms carry full 证件号码: a person saves one out only if the household page
/// shows them full numbers; a 只读 inspector is refused, sync still reads the bytes.
#[test]
fn a_read_only_inspector_cannot_save_a_scan_out() {
    use crate::access::Role;
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let scan = file(b"%PDF-1.4 signed form", 3000);
    let (sha256, _, _) = blobs::check_and_keep(&mut store, &scan).unwrap();
    store.add_person("刘书记", Role::Leader, "2468").unwrap();
    store.sign_in("刘书记", "2468").unwrap();
    store.add_person("王队员", Role::Member, "2468").unwrap();
    store.add_person("陈检查", Role::ReadOnly, "2468").unwrap();
    store.sign_out();
    for (person, allowed) in [("王队员", true), ("刘书记", true), ("陈检查", false)] {
        store.sign_in(person, "2468").unwrap();
        let saved = blob_bytes_for_person(&store, &sha256);
        assert_eq!(saved.is_ok(), allowed, "{person}");
        if let Err(refused) = saved {
            assert!(
                matches!(
                    refused,
                    ArchiveError::Store(crate::store::StoreError::Access(_))
                ),
                "{refused}"
            );
        }
        assert_eq!(blob_bytes(&store, &sha256).unwrap().1, scan);
        store.sign_out();
    }
}
