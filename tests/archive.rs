//! The archive (档案, issue 17) in the topology users have: a laptop attaches a scan to a visit,
//! its sealed changeset reaches the township, which relays it to a second laptop of the
//! village; that laptop holds the very bytes. A file is carried once however many
//! attachments name it, a tampered file refuses the whole changeset, importing again changes
//! nothing, older files still import, a refused file writes nothing, and the household's
//! 档案目录 prints every attachment under its record.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pdf;

use bangfu_core::archive::{
    self, NewAttachment, Target, blob_bytes, household_attachments, sha256_hex,
};
use bangfu_core::error::UserFacing;
use bangfu_core::model::{Household, Measure, Visit};
use bangfu_core::store::Store;
use bangfu_core::sync::changeset;
use bangfu_core::sync::exchange::{
    SealTo, export_changeset, export_introduction, export_sealed, import_changeset,
};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// 15 June 2025.
const T0: u64 = 1_750_000_000_000;

/// A household of the village with one visit and one measure: (household, visit, measure).
fn household_with_visit(store: &mut Store) -> (Uuid, Uuid, Uuid) {
    let household = Household {
        id: Uuid::now_v7(),
        code: "530826103201001".into(),
        main_cause: "01".into(),
        phone: "13800000001".into(),
        ..Default::default()
    };
    store.put(&household).unwrap();
    let visit = Visit {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        visit_date: NaiveDate::from_ymd_opt(2025, 6, 1),
        found: "住房已修缮".into(),
        ..Default::default()
    };
    store.put(&visit).unwrap();
    let measure = Measure {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        year: Some(2025),
        path: "01".into(),
        description: "产业扶持 养牛 2 头".into(),
        ..Default::default()
    };
    store.put(&measure).unwrap();
    (household.id, visit.id, measure.id)
}

/// A scanned 签字表 as a PDF of `len` bytes, with a marker no other file holds.
fn scan(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n% signed form BANGFU-SCAN-MARKER\n".to_vec();
    let mut x: u32 = 17;
    while bytes.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((x >> 16) as u8);
    }
    bytes
}

fn attach_to(
    store: &mut Store,
    household: Uuid,
    target: Target,
    target_id: Uuid,
    bytes: &[u8],
) -> archive::AttachOutcome {
    archive::attach(
        store,
        &NewAttachment {
            household_id: household,
            target,
            target_id,
            kind: "签字表".into(),
            caption: "入户走访签字".into(),
            file_name: "/home/li/扫描/签字表.pdf".into(),
        },
        bytes,
    )
    .unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .sql()
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Each imports the other's introduction: both can seal to each other from then on.
fn introduce(a: &mut Store, b: &mut Store) {
    let (from_a, _) = export_introduction(a).unwrap();
    let (from_b, _) = export_introduction(b).unwrap();
    import_changeset(b, &from_a).unwrap();
    import_changeset(a, &from_b).unwrap();
}

#[test]
fn a_scan_attached_on_a_laptop_reaches_a_second_laptop_through_the_township() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut township = common::open_at(dir.path(), "乡镇工作站", T0);
    let mut c = common::open_at(dir.path(), "新文村-笔记本2", T0);
    introduce(&mut a, &mut township);
    introduce(&mut township, &mut c);
    let (household, visit, _) = household_with_visit(&mut a);
    let bytes = scan(600_000);
    let outcome = attach_to(&mut a, household, Target::Visit, visit, &bytes);
    assert_eq!(outcome.sha256, sha256_hex(&bytes));
    assert!(!outcome.file_already_held);

    let (from_a, summary) = export_sealed(&mut a, None, &SealTo::Known).unwrap();
    assert_eq!(summary.files, 1);
    assert!(
        from_a.len() > bytes.len(),
        "the file travels in the changeset"
    );
    // A lost stick leaks nothing: the scan's bytes are sealed with the rest.
    assert!(
        !from_a
            .windows(b"BANGFU-SCAN-MARKER".len())
            .any(|w| w == b"BANGFU-SCAN-MARKER")
    );
    let at_township = import_changeset(&mut township, &from_a).unwrap();
    assert_eq!(at_township.new_files, 1);
    assert!(at_township.message_zh().contains("收到档案文件 1 个"));

    let (relayed, summary) = export_sealed(&mut township, None, &SealTo::Known).unwrap();
    assert_eq!(summary.files, 1, "the township relays the file it received");
    let at_c = import_changeset(&mut c, &relayed).unwrap();
    assert_eq!(at_c.new_files, 1);
    let (media, held) = blob_bytes(&c, &outcome.sha256).unwrap();
    assert_eq!(media, archive::MediaType::Pdf);
    assert_eq!(
        held, bytes,
        "laptop C holds the very bytes laptop A attached"
    );
    let listed = household_attachments(&c, household).unwrap();
    assert_eq!(listed.len(), 1);
    let entry = &listed[0];
    assert_eq!(
        (
            entry.target_label.as_str(),
            entry.kind.as_str(),
            entry.file_name.as_str(),
            entry.held
        ),
        ("走访记录 2025-06-01", "签字表", "签字表.pdf", true)
    );
}

#[test]
fn the_same_file_attached_twice_is_kept_once_and_carried_once() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut b = common::open_at(dir.path(), "乡镇工作站", T0);
    let (household, visit, measure) = household_with_visit(&mut a);
    let bytes = scan(300_000);
    let first = attach_to(&mut a, household, Target::Visit, visit, &bytes);
    let second = attach_to(&mut a, household, Target::Measure, measure, &bytes);
    assert_eq!(first.sha256, second.sha256);
    assert!(second.file_already_held);
    assert_ne!(first.id, second.id);
    assert_eq!(count(&a, "SELECT count(*) FROM blob"), 1);
    assert_eq!(count(&a, "SELECT count(*) FROM attachment"), 2);

    let (file, summary) = export_changeset(&a, None).unwrap();
    assert_eq!(summary.files, 1);
    assert!(
        file.len() < 2 * bytes.len(),
        "{} bytes carry one file of {}",
        file.len(),
        bytes.len()
    );
    assert_eq!(changeset::read_files(&file).unwrap().len(), 1);
    let summary = import_changeset(&mut b, &file).unwrap();
    assert_eq!(summary.new_files, 1);
    assert_eq!(count(&b, "SELECT count(*) FROM blob"), 1);
    assert_eq!(household_attachments(&b, household).unwrap().len(), 2);
}

/// The file's bytes with the trailer recomputed after `alter`, as a forger would.
fn forged(mut file: Vec<u8>, alter: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    alter(&mut file);
    let n = file.len() - 32;
    let trailer = Sha256::digest(&file[..n]);
    file[n..].copy_from_slice(&trailer);
    file
}

#[test]
fn a_tampered_file_refuses_the_whole_changeset() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut b = common::open_at(dir.path(), "乡镇工作站", T0);
    let (household, visit, _) = household_with_visit(&mut a);
    let bytes = scan(200_000);
    attach_to(&mut a, household, Target::Visit, visit, &bytes);
    let (file, _) = export_changeset(&a, None).unwrap();
    let in_file = |b: &[u8]| {
        file.windows(b.len())
            .position(|w| w == b)
            .expect("the file carries the scan")
    };
    let at = in_file(&bytes[..64]) + 100_000;

    // A byte of the scan changed on the stick: its hash no longer holds (checked before the
    // trailer, so the message names the archive's file).
    let mut damaged = file.clone();
    damaged[at] ^= 0x01;
    let err = import_changeset(&mut b, &damaged).unwrap_err();
    assert_eq!(err.kind(), "blob_altered");
    // The trailer's byte changed: the file is refused as altered.
    let mut damaged = file.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    let err = import_changeset(&mut b, &damaged).unwrap_err();
    assert_eq!(err.kind(), "altered");
    // Changed by someone who recomputed the trailer: the scan's own hash refuses it.
    let forged = forged(file.clone(), |f| f[at] ^= 0x01);
    let err = import_changeset(&mut b, &forged).unwrap_err();
    assert_eq!(err.kind(), "blob_altered");
    assert!(
        err.message_zh().contains("档案文件"),
        "{}",
        err.message_zh()
    );
    // Nothing of either file was kept: no household, no attachment, no file.
    for table in ["household", "visit", "attachment", "blob"] {
        assert_eq!(
            count(&b, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    // The file as written imports.
    let summary = import_changeset(&mut b, &file).unwrap();
    assert_eq!((summary.new_households, summary.new_files), (1, 1));
}

#[test]
fn importing_the_same_file_again_changes_nothing() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut b = common::open_at(dir.path(), "乡镇工作站", T0);
    let (household, visit, _) = household_with_visit(&mut a);
    attach_to(&mut a, household, Target::Visit, visit, &scan(50_000));
    let (file, _) = export_changeset(&a, None).unwrap();
    import_changeset(&mut b, &file).unwrap();
    let state = count(&b, "SELECT count(*) FROM op");
    let again = import_changeset(&mut b, &file).unwrap();
    assert!(again.already_had_everything, "{again:?}");
    assert_eq!(again.new_files, 0);
    assert_eq!(count(&b, "SELECT count(*) FROM op"), state);
    assert_eq!(count(&b, "SELECT count(*) FROM blob"), 1);
}

/// A copy that holds the attachment's row but not its file (the row came first) takes the
/// file from a changeset whose ops it all holds.
#[test]
fn a_file_whose_ops_are_all_held_still_brings_a_missing_scan() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut b = common::open_at(dir.path(), "乡镇工作站", T0);
    let (household, visit, _) = household_with_visit(&mut a);
    let bytes = scan(40_000);
    let outcome = attach_to(&mut a, household, Target::Visit, visit, &bytes);
    let (file, _) = export_changeset(&a, None).unwrap();
    // The same ops without the file, as the hub or an older relay hands them over.
    let (header, ops) = changeset::decode(&file).unwrap();
    let rows_only = changeset::encode(header, &ops);
    let first = import_changeset(&mut b, &rows_only).unwrap();
    assert_eq!((first.new_households, first.new_files), (1, 0));
    let listed = household_attachments(&b, household).unwrap();
    assert!(!listed[0].held);
    assert_eq!(
        blob_bytes(&b, &outcome.sha256).unwrap_err().kind(),
        "archive_file_not_held"
    );
    let again = import_changeset(&mut b, &file).unwrap();
    assert!(!again.already_had_everything);
    assert_eq!((again.applied, again.new_files), (0, 1));
    assert_eq!(blob_bytes(&b, &outcome.sha256).unwrap().1, bytes);
}

#[test]
fn a_changeset_without_attachments_is_still_format_1_and_imports() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut b = common::open_at(dir.path(), "乡镇工作站", T0);
    household_with_visit(&mut a);
    let (file, summary) = export_changeset(&a, None).unwrap();
    assert_eq!(summary.files, 0);
    assert_eq!(
        u16::from_le_bytes([file[8], file[9]]),
        changeset::FORMAT_VERSION_WITHOUT_FILES
    );
    let summary = import_changeset(&mut b, &file).unwrap();
    assert_eq!(summary.new_households, 1);
}

#[test]
fn a_refused_file_writes_nothing_and_says_why() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let (household, visit, measure) = household_with_visit(&mut a);
    let input = |target, target_id, kind: &str| NewAttachment {
        household_id: household,
        target,
        target_id,
        kind: kind.into(),
        caption: String::new(),
        file_name: "a".into(),
    };
    let too_big = scan(archive::MAX_FILE_BYTES as usize + 1);
    let cases: Vec<(NewAttachment, &[u8], &str)> = vec![
        (
            input(Target::Visit, visit, "签字表"),
            &too_big,
            "archive_file_too_large",
        ),
        (
            input(Target::Visit, visit, "签字表"),
            b"PK\x03\x04 an xlsx",
            "archive_unknown_kind",
        ),
        (
            input(Target::Visit, visit, "签字表"),
            b"",
            "archive_empty_file",
        ),
        (
            input(Target::Visit, visit, "照片"),
            b"%PDF-1.4",
            "archive_unknown_attachment_kind",
        ),
        // The measure is not a visit, and a visit of another household is not this one's.
        (
            input(Target::Visit, measure, "签字表"),
            b"%PDF-1.4",
            "archive_target_not_found",
        ),
        (
            input(Target::ExitStep, Uuid::now_v7(), "签字表"),
            b"%PDF-1.4",
            "archive_target_not_found",
        ),
    ];
    for (input, bytes, kind) in cases {
        let err = archive::attach(&mut a, &input, bytes).unwrap_err();
        assert_eq!(err.kind(), kind);
        assert!(
            err.message_zh().contains("档案"),
            "{kind}: {}",
            err.message_zh()
        );
    }
    assert_eq!(count(&a, "SELECT count(*) FROM attachment"), 0);
    assert_eq!(count(&a, "SELECT count(*) FROM blob"), 0);
}

#[test]
fn the_archive_list_prints_every_attachment_under_its_record() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let (household, visit, measure) = household_with_visit(&mut a);
    let form = scan(20_000);
    let first = attach_to(&mut a, household, Target::Visit, visit, &form);
    let mut photo = b"\xFF\xD8\xFF\xE0 a photo of the notice".to_vec();
    photo.resize(5_000, 7);
    archive::attach(
        &mut a,
        &NewAttachment {
            household_id: household,
            target: Target::Measure,
            target_id: measure,
            kind: "公示照片".into(),
            caption: "村委会公示栏".into(),
            file_name: "IMG_0001.JPG".into(),
        },
        &photo,
    )
    .unwrap();
    let bytes = bangfu_core::cards::archive_list_pdf(&a, "530826103201001").unwrap();
    let path = pdf::write(dir.path(), "档案目录.pdf", &bytes);
    let (pages, size) = pdf::page_info(&path);
    assert_eq!((pages, size.as_str()), (1, pdf::A4));
    let text = pdf::pages_text(&path).concat();
    for expected in [
        "档案目录",
        "户编号:530826103201001",
        "共2份",
        "走访记录2025-06-01",
        "签字表",
        "入户走访签字",
        "签字表.pdf",
        "公示照片",
        "村委会公示栏",
        "IMG_0001.JPG",
        &first.sha256[..16],
    ] {
        assert!(
            text.contains(&pdf::squeeze(expected)),
            "{expected} missing from {text}"
        );
    }
}
