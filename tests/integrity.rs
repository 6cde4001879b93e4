//! Regressions of the ways an edit was lost while every command said it was saved (issue 13):
//! two writers on one data file, relayed files taken for already imported, an op id reused
//! with other content, clocks far ahead, one row id under two tables.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::error::UserFacing;
use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store, StoreError};
use bangfu_core::sync::changeset::{self, Header};
use bangfu_core::sync::exchange::{
    PeerHoldings, export_changeset, import_changeset, peer_holdings,
};
use bangfu_core::sync::review::{ReviewKey, resolve_key, review_items};
use bangfu_core::sync::{Hlc, Op};
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;
const DAY: u64 = 24 * 3600 * 1000;

fn put_household(store: &mut Store, id: Uuid, code: &str, phone: &str) {
    store
        .write(&[Change::Put {
            table: Table::Household,
            id,
            fields: vec![
                ("code", FieldValue::Text(code.into())),
                ("main_cause", FieldValue::Text("01".into())),
                ("phone", FieldValue::Text(phone.into())),
            ],
        }])
        .unwrap();
}

/// Regression: two programs with one data file open (the app holds its store for its life, a
/// `bangfu edit` opens it too) each remembered the device's last seq from their open, so the
/// second writer's op took a seq the first had used, was counted a duplicate and dropped.
#[test]
fn two_writers_on_one_file_both_keep_their_edits() {
    let dir = common::scratch();
    let mut app = common::open_at(dir.path(), "村", T0);
    let mut cli = common::open_at(dir.path(), "村", T0);
    assert_eq!(app.device().id, cli.device().id, "one file, one identity");
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    for round in 0..5 {
        put_household(
            &mut app,
            a,
            "530826103201001",
            &format!("1381234567{round}"),
        );
        put_household(
            &mut cli,
            b,
            "530826103201002",
            &format!("1391234567{round}"),
        );
    }
    let reader = common::open_at(dir.path(), "村", T0);
    assert_eq!(common::phone_of(&reader, a).as_deref(), Some("13812345674"));
    assert_eq!(common::phone_of(&reader, b).as_deref(), Some("13912345674"));
    // Every op of both writers is in the log under its own seq.
    let ops: i64 = reader
        .sql()
        .unwrap()
        .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        ops,
        2 * (3 + 4),
        "three fields at filing, then one per round"
    );
}

fn header(source: Uuid) -> Header {
    Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: 1,
        source_device: source,
        source_name: "县扶贫办".into(),
        created_ms: T0,
        covered: Default::default(),
        device_names: Default::default(),
        op_count: 0,
        body_sha256: String::new(),
        carried: None,
        snapshot: None,
        held: None,
        signers: None,
        batches: None,
        seal_keys: None,
        blobs: None,
        parts: None,
        source_sig: None,
        county_certs: None,
    }
}

fn op(origin: Uuid, seq: i64, hlc: Hlc, row: Uuid, field: &str, value: &str) -> Op {
    Op {
        id: bangfu_core::sync::OpId { origin, seq },
        hlc,
        table: Table::Household.code(),
        row,
        field: field.into(),
        value: FieldValue::Text(value.into()),
        preds: Vec::new(),
        seen: Vec::new(),
    }
}

/// Regression: an op arriving under an id this copy holds, with other content, was counted a
/// duplicate and dropped without a word.
#[test]
fn an_op_id_reused_with_other_content_refuses_the_whole_batch() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "乡镇", T0);
    let county = Uuid::now_v7();
    let row = Uuid::now_v7();
    let first = op(county, 1, Hlc::new(T0, 0), row, "phone", "13812345678");
    store.apply_remote(std::slice::from_ref(&first)).unwrap();
    // The same op again is a harmless duplicate.
    let again = store.apply_remote(std::slice::from_ref(&first)).unwrap();
    assert_eq!((again.applied, again.duplicates), (0, 1));
    let other_row = Uuid::now_v7();
    let forged = op(county, 1, Hlc::new(T0, 0), row, "phone", "13900000000");
    let fresh = op(
        county,
        2,
        Hlc::new(T0, 1),
        other_row,
        "phone",
        "13700000000",
    );
    let error = store.apply_remote(&[fresh, forged]).unwrap_err();
    assert!(
        matches!(error, StoreError::OpIdReused { seq: 1, .. }),
        "{error:?}"
    );
    assert!(
        error.message_zh().contains("内容不同"),
        "{}",
        error.message_zh()
    );
    // Nothing of the batch landed.
    assert_eq!(
        common::phone_of(&store, row).as_deref(),
        Some("13812345678")
    );
    assert_eq!(common::phone_of(&store, other_row), None);
}

/// Regression: a file relayed by a copy that holds another device's ops with gaps (a village
/// laptop that pulled its scope from the hub) was answered 已导入过 by a copy that held the
/// same gap-free prefix, and the op past the gap never arrived, even with `--for`.
#[test]
fn a_relayed_file_with_ops_past_a_gap_is_imported() {
    let dir = common::scratch();
    let county = Uuid::now_v7();
    let (h1, h2) = (Uuid::now_v7(), Uuid::now_v7());
    // The county device's ops 1..4: 1 and 3 about village 1's household, 2 and 4 another's.
    let all = [
        op(county, 1, Hlc::new(T0, 0), h1, "phone", "13800000001"),
        op(county, 2, Hlc::new(T0, 1), h2, "phone", "13800000002"),
        op(county, 3, Hlc::new(T0, 2), h1, "address", "新文村一组"),
        op(county, 4, Hlc::new(T0, 3), h2, "address", "新民村三组"),
    ];
    // Laptop 1 pulled its village's scope: 1 and 3. Laptop 2 pulled earlier: 1 only.
    let mut laptop1 = common::open_at(dir.path(), "笔记本1", T0);
    let mut laptop2 = common::open_at(dir.path(), "笔记本2", T0);
    laptop1
        .apply_remote(&[all[0].clone(), all[2].clone()])
        .unwrap();
    laptop2.apply_remote(&[all[0].clone()]).unwrap();
    assert_eq!(
        laptop1.version_vector().unwrap(),
        laptop2.version_vector().unwrap()
    );

    // A whole file, and one made `--for` laptop 2's own file: both bring op 3.
    let (whole, _) = export_changeset(&laptop1, None).unwrap();
    let (from2, _) = export_changeset(&laptop2, None).unwrap();
    let holdings = peer_holdings(&from2).unwrap();
    assert!(matches!(holdings, PeerHoldings::Exactly(_)));
    let (for2, summary) = export_changeset(&laptop1, Some(&holdings)).unwrap();
    assert_eq!(summary.ops, 1, "only op 3 is missing there");
    // A third laptop that holds what laptop 2 holds takes the whole file.
    let mut laptop3 = common::open_at(dir.path(), "笔记本3", T0);
    laptop3.apply_remote(&[all[0].clone()]).unwrap();
    for (copy, file) in [(&mut laptop2, &for2), (&mut laptop3, &whole)] {
        let imported = import_changeset(copy, file).unwrap();
        assert!(
            !imported.already_had_everything,
            "{}",
            imported.message_zh()
        );
        assert_eq!(imported.applied, 1);
    }
    let address: Option<String> = laptop2
        .sql()
        .unwrap()
        .query_row(
            "SELECT address FROM household WHERE id = ?1",
            [h1.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(address.as_deref(), Some("新文村一组"));
    // Now everything the file carries is held: the same file is skipped whole.
    let again = import_changeset(&mut laptop2, &whole).unwrap();
    assert!(again.already_had_everything);
}

/// A header that names fewer ops than its body carries is refused, so a skip decided on the
/// header can never drop ops.
#[test]
fn a_file_whose_ranges_do_not_match_its_ops_is_refused() {
    let county = Uuid::now_v7();
    let row = Uuid::now_v7();
    let ops = [
        op(county, 1, Hlc::new(T0, 0), row, "phone", "13800000001"),
        op(county, 2, Hlc::new(T0, 1), row, "address", "新文村"),
    ];
    let file = changeset::encode(header(county), &ops);
    let (mut h, _) = changeset::read_header(&file).unwrap();
    h.carried = Some([(county, vec![(1, 1), (5, 5)])].into_iter().collect());
    let forged = reframe(&h, &file);
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "乡镇", T0);
    let error = import_changeset(&mut store, &forged).unwrap_err();
    assert!(
        error.message_zh().contains("同步文件"),
        "{}",
        error.message_zh()
    );
    assert_eq!(common::phone_of(&store, row), None);
}

/// The file `original` with its header replaced by `header`, checksums made to match (what a
/// buggy writer, or someone rewriting a file, would produce).
fn reframe(header: &Header, original: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let (_, body) = changeset::read_header(original).unwrap();
    let json = serde_json::to_vec(header).unwrap();
    let mut file = changeset::MAGIC.to_vec();
    file.extend_from_slice(&changeset::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(json.len() as u32).to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&json);
    file.extend_from_slice(body);
    let trailer = sha2::Sha256::digest(&file);
    file.extend_from_slice(&trailer);
    file
}

/// Regression: a laptop whose date ran a year ahead kept stamping a year ahead after the date
/// was fixed, won every concurrent edit, and nobody was told; an HLC of 2^63 or more was
/// stored negative.
#[test]
fn a_clock_far_ahead_is_flagged_for_review_and_the_laptop_is_told() {
    let dir = common::scratch();
    let year = 365 * DAY;
    let row = Uuid::now_v7();
    // The laptop with the wrong date files a household a year ahead.
    let mut ahead = common::open_at(dir.path(), "日期不准的笔记本", T0 + year);
    put_household(&mut ahead, row, "530826103201001", "13800000001");
    drop(ahead);
    // Its date is fixed: it is told, and its next edit is stamped by the present date.
    let mut fixed = common::open_at(dir.path(), "日期不准的笔记本", T0);
    let warning = fixed
        .clock_warning()
        .expect("the laptop is told about its date");
    assert!(
        warning.message_zh().contains("日期"),
        "{}",
        warning.message_zh()
    );
    put_household(&mut fixed, row, "530826103201001", "13800000002");
    assert!(fixed.clock_warning().is_none());
    let last_hlc: i64 = fixed
        .sql()
        .unwrap()
        .query_row("SELECT hlc FROM op ORDER BY seq DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        Hlc::from_i64(last_hlc).millis() < T0 + DAY,
        "stamped by the present date"
    );

    // The station receives the year-ahead ops: they are kept, flagged, and listed for review.
    let (file, _) = export_changeset(&fixed, None).unwrap();
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    let summary = import_changeset(&mut station, &file).unwrap();
    // Filing the household wrote its code, 主要致贫原因 and phone.
    assert_eq!(summary.future_clock_ops, 3, "{}", summary.message_zh());
    let items = review_items(&station).unwrap();
    let flagged: Vec<_> = items.iter().filter(|i| i.kind == "clock_ahead").collect();
    let fields: Vec<&str> = flagged.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(
        fields,
        ["code", "main_cause"],
        "the phone was written over at the present date: {items:?}"
    );
    assert!(flagged[0].values[0].clock_ahead);
    // Keeping them writes the values again at the present date: the items are gone.
    let keep: Vec<(ReviewKey, String)> = flagged
        .iter()
        .map(|item| {
            let key = ReviewKey {
                table: item.table.clone(),
                row_id: item.row_id.clone(),
                field: item.field.clone(),
            };
            (key, item.values[0].value.clone())
        })
        .collect();
    for (key, value) in &keep {
        resolve_key(&mut station, key, value).unwrap();
    }
    assert!(
        review_items(&station)
            .unwrap()
            .iter()
            .all(|i| i.kind != "clock_ahead")
    );

    // An impossible stamp (2^63 and above) refuses the whole batch.
    let impossible = op(
        Uuid::now_v7(),
        1,
        Hlc(1 << 63),
        Uuid::now_v7(),
        "phone",
        "1",
    );
    let error = station.apply_remote(&[impossible]).unwrap_err();
    assert!(
        matches!(error, StoreError::ImpossibleClock { .. }),
        "{error:?}"
    );
}

/// One row id is one record: an op of another table under a household's id is refused.
#[test]
fn one_row_id_under_two_tables_is_refused() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "乡镇", T0);
    let row = Uuid::now_v7();
    put_household(&mut store, row, "530826103201001", "13800000001");
    let mut member_op = op(Uuid::now_v7(), 1, Hlc::new(T0, 9), row, "name", "张三");
    member_op.table = Table::Member.code();
    let error = store.apply_remote(&[member_op.clone()]).unwrap_err();
    assert!(
        matches!(error, StoreError::RowInTwoTables { .. }),
        "{error:?}"
    );
    assert!(
        error.message_zh().contains("家庭成员"),
        "{}",
        error.message_zh()
    );
    // Within one batch too, before anything is stored.
    let fresh = Uuid::now_v7();
    let mut first = op(
        Uuid::now_v7(),
        1,
        Hlc::new(T0, 1),
        fresh,
        "code",
        "530826103201002",
    );
    first.table = Table::Household.code();
    let mut second = member_op;
    second.row = fresh;
    second.id.origin = first.id.origin;
    second.id.seq = 2;
    assert!(store.apply_remote(&[first, second]).is_err());
}
