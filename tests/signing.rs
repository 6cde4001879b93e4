//! Devices sign what they write (issue 15): a forged file is refused whole, a device claiming
//! another's ops is refused (stripped of signatures, its ops are not applied), an unknown device's ops are held until a person confirms it, a
//! township relays signatures unchanged, a village device's edits outside its village wait at the
//! township for a person while the rest of its file merges.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::error::UserFacing;
use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store};
use bangfu_core::sync::changeset;
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::trust::{
    confirm_device, drop_held, list_devices, merge_held_outside, own_fingerprint,
    set_device_village,
};
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;
const VILLAGE_A: &str = "530826103201";
const VILLAGE_B: &str = "530826103202";

fn put(store: &mut Store, table: Table, id: Uuid, fields: Vec<(&'static str, FieldValue)>) {
    store.write(&[Change::Put { table, id, fields }]).unwrap();
}

/// One text field of a household, as a person's save writes it.
fn set_text(store: &mut Store, id: Uuid, field: &'static str, value: &str) {
    put(
        store,
        Table::Household,
        id,
        vec![(field, FieldValue::Text(value.into()))],
    );
}

fn put_household(store: &mut Store, id: Uuid, code: &str, phone: &str) {
    put(
        store,
        Table::Household,
        id,
        vec![
            ("code", FieldValue::Text(code.into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("phone", FieldValue::Text(phone.into())),
        ],
    );
}

fn export(store: &Store) -> Vec<u8> {
    export_changeset(store, None).unwrap().0
}

fn import_err_kind(store: &mut Store, file: &[u8]) -> String {
    import_changeset(store, file)
        .map(|s| format!("imported: {s:?}"))
        .unwrap_or_else(|e| {
            assert!(!e.message_zh().is_empty());
            e.kind().to_owned()
        })
}

#[test]
fn a_forged_file_with_recomputed_checksums_is_refused_whole() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    let (h1, h2) = (Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut village, h1, "530826103201001", "13800000001");
    put_household(&mut village, h2, "530826103201002", "13800000002");
    let file = export(&village);
    // The forger rewrites one op's value and writes the file again: both SHA-256s are right.
    let (header, mut ops) = changeset::decode(&file).unwrap();
    assert!(header.batches.as_ref().is_some_and(|b| b.len() == 2));
    let op = ops
        .iter_mut()
        .find(|o| o.row == h2 && o.field == "phone")
        .unwrap();
    op.value = FieldValue::Text("13999999999".into());
    let forged = changeset::encode(header, &ops);
    assert!(changeset::read_header(&forged).is_ok(), "checksums hold");
    assert_eq!(import_err_kind(&mut station, &forged), "bad_signature");
    // Nothing of the file was applied, not even the household it did not alter.
    assert_eq!(common::phone_of(&station, h1), None);
    assert_eq!(common::phone_of(&station, h2), None);
    // The genuine file goes in.
    import_changeset(&mut station, &file).unwrap();
    assert_eq!(
        common::phone_of(&station, h2).as_deref(),
        Some("13800000002")
    );
}

#[test]
fn a_file_claiming_another_devices_seqs_is_refused() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let h = Uuid::now_v7();
    put_household(&mut village, h, "530826103201001", "13800000001");
    import_changeset(&mut station, &export(&village)).unwrap();
    // The forger writes with its own key, then claims the village device's next seqs so the
    // village device's real ops would be taken for duplicates.
    put_household(&mut forger, h, "530826103201001", "13999999999");
    let (mut header, mut ops) = changeset::decode(&export(&forger)).unwrap();
    let (victim, them) = (village.device().id, forger.device().id);
    for op in &mut ops {
        op.id.origin = victim;
        op.id.seq += 10;
    }
    let key = header.signers.as_mut().unwrap().remove(&them).unwrap();
    header.signers.as_mut().unwrap().insert(victim, key);
    for b in header.batches.as_mut().unwrap() {
        b.origin = victim;
        b.first += 10;
        b.last += 10;
    }
    header.device_names.clear();
    let claimed = changeset::encode(header.clone(), &ops);
    // The station learnt the village device's key from its file, unconfirmed: another key for
    // it is a second candidate, not refused for that, but the batch the forger moved onto the
    // village device's seqs no longer verifies: refused whole.
    assert_eq!(import_err_kind(&mut station, &claimed), "bad_signature");
    // Once a person confirms the village device's key, another key for it is 冒充.
    confirm_device(
        &mut station,
        &own_fingerprint(&village).unwrap().unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(
        import_err_kind(&mut station, &claimed),
        "device_key_mismatch"
    );
    // The same ops with the signatures stripped: the station knows the device's key, so they
    // are not applied (and said so), while the rest of such a file would be.
    header.signers = None;
    header.batches = None;
    let stripped = changeset::encode(header, &ops);
    let summary = import_changeset(&mut station, &stripped).unwrap();
    assert_eq!(summary.unsigned_ops, ops.len() as u64);
    assert_eq!(summary.applied, 0);
    assert!(summary.message_zh().contains("缺少写入设备的签名"));
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
}

#[test]
fn an_unknown_device_is_held_until_confirmed_then_merged() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let h = Uuid::now_v7();
    put_household(&mut village, h, "530826103201001", "13800000001");
    let file = export(&village);
    let summary = import_changeset(&mut station, &file).unwrap();
    assert_eq!(summary.held_ops, 3);
    assert_eq!(summary.applied, 0);
    assert!(summary.message_zh().contains("尚未确认的设备"));
    assert_eq!(common::phone_of(&station, h), None, "held, not merged");
    // The station lists the device as 待确认 with the fingerprint its own screen shows.
    let shown = own_fingerprint(&village).unwrap().unwrap();
    assert_eq!(shown.split(' ').count(), 6);
    assert!(shown.split(' ').all(|g| g.len() == 5));
    let listed = list_devices(&station).unwrap();
    let entry = listed
        .iter()
        .find(|d| d.key.device == village.device().id)
        .unwrap();
    assert!(!entry.key.confirmed);
    assert_eq!(entry.key.fingerprint, shown);
    assert_eq!(entry.held_files, 1);
    // A fingerprint that is not the device's confirms nothing.
    let wrong = confirm_device(&mut station, "12345 12345 12345 12345 12345 12345", None);
    assert_eq!(wrong.unwrap_err().kind(), "unknown_fingerprint");
    assert_eq!(common::phone_of(&station, h), None);
    // The laptop's next stick carries all the first did and more: it waits in place of the
    // first, so held files do not pile up one per stick.
    put_household(&mut village, h, "530826103201001", "13800000005");
    let again = import_changeset(&mut station, &export(&village)).unwrap();
    assert!(again.held_ops > 3, "{again:?}");
    let device = village.device().id;
    let held_files = |station: &Store| {
        list_devices(station)
            .unwrap()
            .into_iter()
            .find(|d| d.key.device == device)
            .unwrap()
            .held_files
    };
    assert_eq!(held_files(&station), 1);
    // A later file that carries only what is new (exported for a copy said to hold the rest)
    // leaves the earlier one in place: what waits only there is not dropped.
    let written = village.own_last_seq_in_file().unwrap();
    put_household(&mut village, h, "530826103201001", "13800000006");
    let holds: changeset::SeqRanges = [(device, vec![(1, written)])].into_iter().collect();
    let (delta, _) = export_changeset(
        &village,
        Some(&bangfu_core::sync::exchange::PeerHoldings::Exactly(holds)),
    )
    .unwrap();
    let only_new = import_changeset(&mut station, &delta).unwrap();
    assert!(only_new.held_ops > 0 && only_new.held_ops < again.held_ops);
    assert_eq!(held_files(&station), 2);
    // Confirmed (typed without spaces): the held ops merge, the kept file goes.
    let digits: String = shown.chars().filter(|c| *c != ' ').collect();
    let outcome = confirm_device(&mut station, &digits, None).unwrap();
    assert!(outcome.device.confirmed);
    assert_eq!(outcome.merged.len(), 2);
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000006")
    );
    let listed = list_devices(&station).unwrap();
    assert!(listed.iter().all(|d| d.held_files == 0));
    // Later files of the confirmed device merge at once.
    put_household(&mut village, h, "530826103201001", "13800000009");
    let later = import_changeset(&mut station, &export(&village)).unwrap();
    assert_eq!(later.held_ops, 0);
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000009")
    );
}

/// 不合并: a station declines what waits for a device no one vouches for. The held files that
/// hold nothing waiting but that device's changes go (in the audit log); a file that also
/// holds another waiting device's changes stays for it; nothing of the declined device merged.
#[test]
fn a_station_declines_what_waits_for_a_device_and_keeps_what_waits_for_others() {
    let dir = common::scratch();
    let mut stranger = common::open_at(dir.path(), "陌生电脑", T0);
    let mut other = common::open_at(dir.path(), "邻村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let (h, g) = (Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut stranger, h, "530826103201001", "13800000001");
    let alone = export(&stranger);
    // The neighbour took the stranger's file and adds its own: its file carries both.
    import_changeset(&mut other, &alone).unwrap();
    put_household(&mut other, g, "530826103201002", "13800000002");
    let both = export(&other);
    assert!(import_changeset(&mut station, &alone).unwrap().held_ops > 0);
    assert!(import_changeset(&mut station, &both).unwrap().held_ops > 0);
    let held = |store: &Store, name: &str| {
        list_devices(store)
            .unwrap()
            .into_iter()
            .find(|d| d.key.name == name)
            .map_or(0, |d| d.held_files)
    };
    assert_eq!(held(&station, "陌生电脑"), 2);
    assert_eq!(held(&station, "邻村"), 1);

    let fp = own_fingerprint(&stranger).unwrap().unwrap();
    let outcome = drop_held(&mut station, &fp).unwrap();
    assert_eq!((outcome.dropped, outcome.kept), (1, 1), "{outcome:?}");
    let lines = outcome.lines_zh().join("");
    assert!(
        lines.contains("不合并") && lines.contains("已保留"),
        "{lines}"
    );
    assert_eq!(held(&station, "陌生电脑"), 1, "the shared file stays");
    assert_eq!(common::phone_of(&station, h), None, "nothing of it merged");
    let audit = station.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "drop_held" && e.what.contains("陌生电脑")),
        "{audit:?}"
    );
    // The neighbour is confirmed: its file merges (the stranger's part still waits in it, as
    // the stranger is not confirmed); declined again, the file still holds only the stranger's
    // waiting changes now and goes.
    let fp_other = own_fingerprint(&other).unwrap().unwrap();
    confirm_device(&mut station, &fp_other, None).unwrap();
    assert_eq!(
        common::phone_of(&station, g).as_deref(),
        Some("13800000002")
    );
    assert_eq!(common::phone_of(&station, h), None);
    // The file stays for the stranger's part only: it no longer waits for the neighbour.
    assert_eq!(held(&station, "邻村"), 0);
    assert_eq!(held(&station, "陌生电脑"), 1);
    let outcome = drop_held(&mut station, &fp).unwrap();
    assert_eq!((outcome.dropped, outcome.kept), (1, 0), "{outcome:?}");
    assert_eq!(held(&station, "陌生电脑"), 0);
    // Never confirmed and nothing of it left here: its key is forgotten (said so), and a
    // stick of it is a new 待确认设备 again.
    assert!(outcome.forgotten, "{outcome:?}");
    assert!(outcome.lines_zh().join("").contains("不再记着"));
    assert!(
        list_devices(&station)
            .unwrap()
            .iter()
            .all(|d| d.key.device != stranger.device().id)
    );
    assert_eq!(
        drop_held(&mut station, &fp).unwrap_err().kind(),
        "unknown_fingerprint"
    );
    assert!(import_changeset(&mut station, &alone).unwrap().held_ops > 0);
    assert_eq!(held(&station, "陌生电脑"), 1);
}

/// 改所属村: a laptop the township confirmed for village A becomes the township's own (no
/// village): what it did outside A and waited merges; limited to B, its edits of A wait.
#[test]
fn the_village_a_device_is_limited_to_can_be_changed_or_taken_away() {
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县", T0);
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let ((va, _), (in_a, in_b)) = two_villages(&mut county);
    let from_county = export(&county);
    import_changeset(&mut laptop, &from_county).unwrap();
    import_changeset(&mut township, &from_county).unwrap();
    put_household(&mut laptop, in_a, "530826103201001", "13800000001");
    import_changeset(&mut township, &export(&laptop)).unwrap();
    let fp = own_fingerprint(&laptop).unwrap().unwrap();
    // Not confirmed yet, a code that is no village code, this copy itself: refused, said.
    let e = set_device_village(&mut township, &fp, Some(VILLAGE_B)).unwrap_err();
    assert_eq!(e.kind(), "device_not_confirmed");
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    let e = set_device_village(&mut township, &fp, Some("5308")).unwrap_err();
    assert_eq!(e.kind(), "bad_village_code");
    assert!(e.message_zh().contains("12 位数字"));
    // (The township's key is made with its first save.)
    put(
        &mut township,
        Table::Village,
        va,
        vec![("name", FieldValue::Text("村A".into()))],
    );
    let own = own_fingerprint(&township).unwrap().unwrap();
    assert_eq!(
        set_device_village(&mut township, &own, None)
            .unwrap_err()
            .kind(),
        "own_device"
    );

    put_household(&mut laptop, in_b, "530826103202001", "13900000001");
    let summary = import_changeset(&mut township, &export(&laptop)).unwrap();
    assert_eq!(summary.outside_village_ops, 1, "{summary:?}");
    assert_eq!(common::phone_of(&township, in_b), None);
    // No village any more: what waited merges; the audit log says who took the limit away.
    let outcome = set_device_village(&mut township, &fp, None).unwrap();
    assert_eq!(outcome.device.village, None);
    assert!(
        township
            .audit_log()
            .unwrap()
            .iter()
            .any(|e| e.action == "device_village" && e.what.contains("不限村")),
        "the change is in the audit log"
    );
    assert_eq!(
        common::phone_of(&township, in_b).as_deref(),
        Some("13900000001")
    );
    // Limited to B now: its edit of A waits.
    set_device_village(&mut township, &fp, Some(VILLAGE_B)).unwrap();
    put_household(&mut laptop, in_a, "530826103201001", "13800000002");
    let summary = import_changeset(&mut township, &export(&laptop)).unwrap();
    assert_eq!(summary.outside_village_ops, 1, "{summary:?}");
    assert_eq!(
        common::phone_of(&township, in_a).as_deref(),
        Some("13800000001")
    );
}

#[test]
fn relay_through_a_township_keeps_signatures_valid() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let mut other = common::open_at(dir.path(), "邻村", T0);
    let h = Uuid::now_v7();
    put_household(&mut village, h, "530826103201001", "13800000001");
    put_household(&mut village, h, "530826103201001", "13800000002");
    let original = export(&village);
    import_changeset(&mut township, &original).unwrap();
    let relayed = export(&township);
    let (first, _) = changeset::read_header(&original).unwrap();
    let (second, _) = changeset::read_header(&relayed).unwrap();
    let vid = village.device().id;
    let sigs = |h: &changeset::Header| {
        h.batches
            .clone()
            .unwrap()
            .into_iter()
            .filter(|b| b.origin == vid)
            .collect::<Vec<_>>()
    };
    assert_eq!(sigs(&first).len(), 2);
    assert_eq!(sigs(&first), sigs(&second), "relayed unchanged");
    assert_eq!(
        first.signers.unwrap().get(&vid),
        second.signers.as_ref().unwrap().get(&vid)
    );
    // The neighbour confirms the village device (learnt from the township's file) and merges.
    other.set_confirms_devices(true).unwrap();
    let held = import_changeset(&mut other, &relayed).unwrap();
    assert_eq!(held.held_ops, 4);
    let fp = own_fingerprint(&village).unwrap().unwrap();
    confirm_device(&mut other, &fp, None).unwrap();
    assert_eq!(common::phone_of(&other, h).as_deref(), Some("13800000002"));
    // And the neighbour relays them on, still valid: a fresh copy takes them.
    let mut fresh = common::open_at(dir.path(), "新机", T0);
    import_changeset(&mut fresh, &export(&other)).unwrap();
    assert_eq!(common::phone_of(&fresh, h).as_deref(), Some("13800000002"));
}

/// Villages A and B filed on `county`, with one household in each (A's first, B's second).
fn two_villages(county: &mut Store) -> ((Uuid, Uuid), (Uuid, Uuid)) {
    let (va, vb) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, code) in [(va, VILLAGE_A), (vb, VILLAGE_B)] {
        put(
            county,
            Table::Village,
            id,
            vec![
                ("code", FieldValue::Text(code.into())),
                ("name", FieldValue::Text(format!("村{code}"))),
            ],
        );
    }
    let (in_a, in_b) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, v, code) in [(in_a, va, "530826103201001"), (in_b, vb, "530826103202001")] {
        put(
            county,
            Table::Household,
            id,
            vec![
                ("code", FieldValue::Text(code.into())),
                ("main_cause", FieldValue::Text("01".into())),
                ("village_id", FieldValue::Bytes(v.as_bytes().to_vec())),
            ],
        );
    }
    ((va, vb), (in_a, in_b))
}

/// A county file of villages A and B taken by a village laptop and its township, which has
/// confirmed the laptop as a device of village A (after the laptop's first save of its own
/// household, phone 13800000001).
struct ConfirmedLaptop {
    dir: tempfile::TempDir,
    county: Store,
    village: Store,
    township: Store,
    villages: (Uuid, Uuid),
    /// A household of village A and one of village B.
    own: Uuid,
    foreign: Uuid,
    from_county: Vec<u8>,
    /// The laptop's 安全码.
    fp: String,
}

fn laptop_confirmed_for_village_a() -> ConfirmedLaptop {
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县", T0);
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let (villages, (own, foreign)) = two_villages(&mut county);
    let from_county = export(&county);
    import_changeset(&mut village, &from_county).unwrap();
    import_changeset(&mut township, &from_county).unwrap();
    // The village device's first file teaches the township its key; a person confirms it as
    // a device of village A.
    put_household(&mut village, own, "530826103201001", "13800000001");
    import_changeset(&mut township, &export(&village)).unwrap();
    let fp = own_fingerprint(&village).unwrap().unwrap();
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    ConfirmedLaptop {
        dir,
        county,
        village,
        township,
        villages,
        own,
        foreign,
        from_county,
        fp,
    }
}

#[test]
fn a_village_devices_edit_outside_its_village_waits_at_the_township() {
    let ConfirmedLaptop {
        dir,
        mut county,
        mut village,
        mut township,
        villages: (va, vb),
        own,
        foreign,
        from_county,
        fp,
    } = laptop_confirmed_for_village_a();
    // An edit of its own village's household passes.
    put_household(&mut village, own, "530826103201001", "13800000002");
    import_changeset(&mut township, &export(&village)).unwrap();
    assert_eq!(
        common::phone_of(&township, own).as_deref(),
        Some("13800000002")
    );
    // An edit of a household of another village waits at the township with its whole save;
    // the rest of the file merges.
    put_household(&mut village, own, "530826103201001", "13800000003");
    // One save that changes both: it waits whole (its own household's phone too), never in
    // part, so the township relays no write batch cut in two.
    let phone = |id: Uuid, phone: &str| Change::Put {
        table: Table::Household,
        id,
        fields: vec![("phone", FieldValue::Text(phone.into()))],
    };
    village
        .write(&[phone(own, "13800000005"), phone(foreign, "13900000000")])
        .unwrap();
    put_household(&mut village, own, "530826103201001", "13800000004");
    let file = export(&village);
    let summary = import_changeset(&mut township, &file).unwrap();
    assert_eq!(summary.outside_village_ops, 2, "{summary:?}");
    assert!(
        summary.message_zh().contains(VILLAGE_B),
        "{}",
        summary.message_zh()
    );
    assert_eq!(common::phone_of(&township, foreign), None);
    assert_eq!(
        common::phone_of(&township, own).as_deref(),
        Some("13800000004")
    );
    let waiting = |store: &Store| {
        list_devices(store)
            .unwrap()
            .into_iter()
            .find(|d| d.key.fingerprint == fp)
            .map_or(0, |d| d.held_files)
    };
    assert_eq!(
        waiting(&township),
        1,
        "the file is kept for a person to look at"
    );
    // The same file again changes nothing and keeps one copy.
    let again = import_changeset(&mut township, &file).unwrap();
    assert_eq!(again.outside_village_ops, 2);
    assert_eq!(waiting(&township), 1);
    // What the township took is relayed whole: a copy that knows the village device's key
    // takes the township's file (no batch carried in part, nothing unsigned).
    let relayed = import_changeset(&mut county, &export(&township)).unwrap();
    assert_eq!(relayed.unsigned_ops, 0, "{relayed:?}");
    assert_eq!(
        common::phone_of(&county, own).as_deref(),
        Some("13800000004")
    );
    assert_eq!(common::phone_of(&county, foreign), None);
    // A person checks it with the work team and merges it: it is signed and relayed like the rest.
    merge_held_outside(&mut township, &fp).unwrap();
    assert_eq!(
        common::phone_of(&township, foreign).as_deref(),
        Some("13900000000")
    );
    assert_eq!(waiting(&township), 0);
    let relayed = import_changeset(&mut county, &export(&township)).unwrap();
    assert_eq!(relayed.unsigned_ops, 0, "{relayed:?}");
    assert_eq!(
        common::phone_of(&county, foreign).as_deref(),
        Some("13900000000")
    );
    // The village limit stays for later files.
    put_household(&mut village, foreign, "530826103202001", "13900000001");
    let later = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(later.outside_village_ops > 0, "{later:?}");
    assert_eq!(
        common::phone_of(&township, foreign).as_deref(),
        Some("13900000000")
    );
    // Another village's own row (its 村情: 农村人口) waits the same way; its own passes.
    let mut second = common::open_at(dir.path(), "村-2", T0);
    import_changeset(&mut second, &from_county).unwrap();
    put(
        &mut second,
        Table::Village,
        va,
        vec![("rural_population", FieldValue::Int(1200))],
    );
    import_changeset(&mut township, &export(&second)).unwrap();
    let fp = own_fingerprint(&second).unwrap().unwrap();
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    let population = |store: &Store, id: Uuid| -> Option<i64> {
        store
            .sql()
            .unwrap()
            .query_row(
                "SELECT rural_population FROM village WHERE id = ?1",
                [id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(population(&township, va), Some(1200));
    put(
        &mut second,
        Table::Village,
        vb,
        vec![("rural_population", FieldValue::Int(900))],
    );
    let summary = import_changeset(&mut township, &export(&second)).unwrap();
    assert_eq!(summary.outside_village_ops, 1, "{summary:?}");
    assert_eq!(population(&township, vb), None);
}

/// A station's relay is believed only when the station signed the file: a village laptop's own
/// file with its header rewritten to name the township as its source is checked at the county
/// like any file of the laptop (its edit of another village waits), while the township's real
/// file, carrying the same edit after a person there merged it, passes.
#[test]
fn a_file_that_only_names_a_station_as_its_source_is_not_taken_for_its_relay() {
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县", T0);
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let (_, (own, foreign)) = two_villages(&mut county);
    let from_county = export(&county);
    import_changeset(&mut village, &from_county).unwrap();
    import_changeset(&mut township, &from_county).unwrap();
    // The township writes (its key travels with its own save) and both stations learn and
    // confirm each other's devices: the laptop for village A, the township for everything.
    put_household(&mut township, own, "530826103201001", "13700000000");
    put_household(&mut village, own, "530826103201001", "13800000001");
    let first = export(&village);
    import_changeset(&mut township, &first).unwrap();
    import_changeset(&mut county, &first).unwrap();
    import_changeset(&mut county, &export(&township)).unwrap();
    let laptop = own_fingerprint(&village).unwrap().unwrap();
    let station = own_fingerprint(&township).unwrap().unwrap();
    confirm_device(&mut township, &laptop, Some(VILLAGE_A)).unwrap();
    confirm_device(&mut county, &laptop, Some(VILLAGE_A)).unwrap();
    confirm_device(&mut county, &station, None).unwrap();

    // The laptop edits a household of village B.
    put_household(&mut village, foreign, "530826103202001", "13900000000");
    let file = export(&village);
    let (header, _) = changeset::read_header(&file).unwrap();
    assert!(
        header.source_sig.is_some(),
        "a file is signed by its source"
    );
    // Rewritten to name the township as its source (checksums recomputed): checked like the
    // laptop's own file.
    let (mut forged, ops) = changeset::decode(&file).unwrap();
    forged.source_device = township.device().id;
    forged.source_name = township.device().name.clone();
    let forged = changeset::encode(forged, &ops);
    let summary = import_changeset(&mut county, &forged).unwrap();
    assert_eq!(summary.outside_village_ops, 1, "{summary:?}");
    assert_eq!(common::phone_of(&county, foreign), None);
    // At the township the edit waits too; a person there checks it and merges it, and the
    // township's own, signed file carries it to the county, which takes the relay.
    let summary = import_changeset(&mut township, &file).unwrap();
    assert_eq!(summary.outside_village_ops, 1, "{summary:?}");
    merge_held_outside(&mut township, &laptop).unwrap();
    let relayed = export(&township);
    let (header, _) = changeset::read_header(&relayed).unwrap();
    assert_eq!(header.source_device, township.device().id);
    let summary = import_changeset(&mut county, &relayed).unwrap();
    assert_eq!(summary.outside_village_ops, 0, "{summary:?}");
    assert_eq!(
        common::phone_of(&county, foreign).as_deref(),
        Some("13900000000")
    );
}

/// A household the township moved to another village while the village laptop was away is
/// still that laptop's to edit for the hub's 90 days (the laptop saved what it last saw); past
/// them, an edit of it waits at the township like any other village's.
#[test]
fn a_household_moved_away_stays_editable_by_its_old_village_for_a_while() {
    let dir = common::scratch();
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let (va, vb) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, code) in [(va, VILLAGE_A), (vb, VILLAGE_B)] {
        put(
            &mut township,
            Table::Village,
            id,
            vec![
                ("code", FieldValue::Text(code.into())),
                ("name", FieldValue::Text(format!("村{code}"))),
            ],
        );
    }
    let h = Uuid::now_v7();
    put(
        &mut township,
        Table::Household,
        h,
        vec![
            ("code", FieldValue::Text("530826103201001".into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("village_id", FieldValue::Bytes(va.as_bytes().to_vec())),
        ],
    );
    let mut village = common::open_at(dir.path(), "村", T0);
    import_changeset(&mut village, &export(&township)).unwrap();
    put_household(&mut village, h, "530826103201001", "13800000001");
    import_changeset(&mut township, &export(&village)).unwrap();
    let fp = own_fingerprint(&village).unwrap().unwrap();
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    // The township moves the household to village B; the laptop, away, edits it on.
    bangfu_core::moving::move_household(&mut township, h, VILLAGE_B).unwrap();
    put_household(&mut village, h, "530826103201001", "13800000002");
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert_eq!(summary.outside_village_ops, 0, "{summary:?}");
    assert_eq!(
        common::phone_of(&township, h).as_deref(),
        Some("13800000002")
    );
    // 91 days after the move the laptop, still away, edits it again: that waits.
    let later = T0 + 91 * 24 * 3600 * 1000;
    township.set_fixed_clock(later);
    village.set_fixed_clock(later);
    put_household(&mut village, h, "530826103201001", "13800000003");
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    assert_eq!(
        common::phone_of(&township, h).as_deref(),
        Some("13800000002")
    );
    // A village device does not pull another village's household into its own: the
    // township's household of village B, set to village A by the laptop, waits too.
    let other = Uuid::now_v7();
    put(
        &mut township,
        Table::Household,
        other,
        vec![
            ("code", FieldValue::Text("530826103202009".into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("village_id", FieldValue::Bytes(vb.as_bytes().to_vec())),
        ],
    );
    import_changeset(&mut village, &export(&township)).unwrap();
    put(
        &mut village,
        Table::Household,
        other,
        vec![("village_id", FieldValue::Bytes(va.as_bytes().to_vec()))],
    );
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    let village_of = township
        .get::<bangfu_core::model::Household>(other)
        .unwrap()
        .village_id;
    assert_eq!(village_of, Some(vb));
    // Nor does it file a new household into another village (the hub refuses it too).
    let new = Uuid::now_v7();
    put(
        &mut village,
        Table::Household,
        new,
        vec![
            ("code", FieldValue::Text("530826103202010".into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("village_id", FieldValue::Bytes(vb.as_bytes().to_vec())),
        ],
    );
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(summary.outside_village_ops >= 3, "{summary:?}");
    assert!(
        township.get::<bangfu_core::model::Household>(new).is_err(),
        "the new household waits whole"
    );
}

/// A village laptop's file that carries the township's move of a household into its village
/// (relayed: the laptop got it from the township) and the laptop's edit of it merges whole at
/// a station that still has the household in its old village: the move the file brings is
/// newer than the station's. A move signed by a device the station has not confirmed (which
/// the station holds) does not open the household to the laptop.
#[test]
fn a_household_moved_into_the_village_by_the_file_it_comes_in_is_not_held() {
    let dir = common::scratch();
    let mut station = common::open_at(dir.path(), "县", T0);
    let ((va, vb), (own, foreign)) = two_villages(&mut station);
    let second = Uuid::now_v7();
    put(
        &mut station,
        Table::Household,
        second,
        vec![
            ("code", FieldValue::Text("530826103202002".into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("village_id", FieldValue::Bytes(vb.as_bytes().to_vec())),
        ],
    );
    let from_station = export(&station);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let mut stranger = common::open_at(dir.path(), "乡镇2", T0);
    let mut village = common::open_at(dir.path(), "村", T0);
    for copy in [&mut township, &mut stranger, &mut village] {
        import_changeset(copy, &from_station).unwrap();
    }
    // The station knows the township (confirmed, no village) and the laptop (village A).
    put_household(&mut township, own, "530826103201001", "13800000001");
    import_changeset(&mut station, &export(&township)).unwrap();
    let fp = own_fingerprint(&township).unwrap().unwrap();
    confirm_device(&mut station, &fp, None).unwrap();
    put_household(&mut village, own, "530826103201001", "13800000002");
    import_changeset(&mut station, &export(&village)).unwrap();
    let fp = own_fingerprint(&village).unwrap().unwrap();
    confirm_device(&mut station, &fp, Some(VILLAGE_A)).unwrap();
    station.set_confirms_devices(true).unwrap();

    // The township moves the household of village B into village A; the laptop gets the move
    // on a stick and edits the household, then its file reaches the station.
    bangfu_core::moving::move_household(&mut township, foreign, VILLAGE_A).unwrap();
    import_changeset(&mut village, &export(&township)).unwrap();
    set_text(&mut village, foreign, "phone", "13900000001");
    let summary = import_changeset(&mut station, &export(&village)).unwrap();
    assert_eq!(summary.outside_village_ops, 0, "{summary:?}");
    assert_eq!(
        common::phone_of(&station, foreign).as_deref(),
        Some("13900000001")
    );
    let moved = station
        .get::<bangfu_core::model::Household>(foreign)
        .unwrap()
        .village_id;
    assert_eq!(moved, Some(va), "the move came with the file");

    // A device the station has not confirmed "moves" the other household into village A; the
    // laptop relays that and edits the household: the move waits for a person, and so does
    // the edit, since the household is still village B's here.
    bangfu_core::moving::move_household(&mut stranger, second, VILLAGE_A).unwrap();
    import_changeset(&mut village, &export(&stranger)).unwrap();
    set_text(&mut village, second, "phone", "13900000002");
    let summary = import_changeset(&mut station, &export(&village)).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    assert_eq!(common::phone_of(&station, second), None);
    let still = station
        .get::<bangfu_core::model::Household>(second)
        .unwrap()
        .village_id;
    assert_eq!(still, Some(vb));

    // Nor at a station that does not hold unknown devices' ops: a move the station takes
    // from a device no one confirmed does not make the laptop's edit of the household
    // its village's.
    station.set_confirms_devices(false).unwrap();
    let third = Uuid::now_v7();
    put(
        &mut station,
        Table::Household,
        third,
        vec![
            ("code", FieldValue::Text("530826103202003".into())),
            ("main_cause", FieldValue::Text("01".into())),
            ("village_id", FieldValue::Bytes(vb.as_bytes().to_vec())),
        ],
    );
    let from_station = export(&station);
    import_changeset(&mut stranger, &from_station).unwrap();
    import_changeset(&mut village, &from_station).unwrap();
    bangfu_core::moving::move_household(&mut stranger, third, VILLAGE_A).unwrap();
    import_changeset(&mut village, &export(&stranger)).unwrap();
    set_text(&mut village, third, "phone", "13900000003");
    let summary = import_changeset(&mut station, &export(&village)).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    assert_eq!(common::phone_of(&station, third), None);
}

/// Regression (found by the simulation with the hub, seed 3): a township that first got a
/// village device's ops without their signatures (as the hub hands them out) skipped the
/// device's own signed file as "already imported", so it never held the signatures and relayed
/// the ops unsigned for ever; a laptop that knew the device's key never applied them.
#[test]
fn signatures_reach_a_copy_that_first_got_the_ops_unsigned() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "安置点", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let mut laptop = common::open_at(dir.path(), "新文村", T0);
    let h = Uuid::now_v7();
    put_household(&mut village, h, "530826103209001", "13800000001");
    // The laptop knows the device (an earlier file of it) …
    import_changeset(&mut laptop, &export(&village)).unwrap();
    put_household(&mut village, h, "530826103209001", "13800000002");
    // … the township gets the new op as the hub hands it out: no signatures …
    let (mut header, ops) = changeset::decode(&export(&village)).unwrap();
    header.signers = None;
    header.batches = None;
    import_changeset(&mut township, &changeset::encode(header, &ops)).unwrap();
    assert_eq!(
        common::phone_of(&township, h).as_deref(),
        Some("13800000002")
    );
    // … then the device's own signed file, every op of which it already holds.
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(
        !summary.already_had_everything,
        "a file bringing signatures the township lacks is not skipped"
    );
    // The township's file now carries the op signed, and the laptop applies it.
    let relayed = import_changeset(&mut laptop, &export(&township)).unwrap();
    assert_eq!(relayed.unsigned_ops, 0, "{}", relayed.message_zh());
    assert_eq!(common::phone_of(&laptop, h).as_deref(), Some("13800000002"));
    // A file bringing nothing new, signatures included, is still skipped.
    let again = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(again.already_had_everything);
}

/// `file` with its signatures and the signature of its header taken off: what a version before
/// signatures wrote, or what modified software writes under a made-up device.
fn unsigned(file: &[u8]) -> Vec<u8> {
    let (mut header, ops) = changeset::decode(file).unwrap();
    header.signers = None;
    header.batches = None;
    header.source_sig = None;
    changeset::encode(header, &ops)
}

/// Unsigned ops of a writer no copy has a key for answer to the file's source: a village
/// laptop confirmed for its village cannot slip another village's edit past the township under
/// a made-up writer (it waits like the laptop's own), and at a station that confirms devices
/// they wait with an unconfirmed source, or are not merged from a file no one signed.
#[test]
fn unsigned_ops_of_an_unknown_writer_answer_to_the_file_that_brings_them() {
    let ConfirmedLaptop {
        dir,
        mut village,
        mut township,
        own,
        foreign,
        from_county,
        fp,
        ..
    } = laptop_confirmed_for_village_a();

    // A made-up writer's unsigned edits reach the village laptop: one of its own village's
    // household, one of village B's.
    let mut made_up = common::open_at(dir.path(), "无名", T0);
    import_changeset(&mut made_up, &from_county).unwrap();
    put_household(&mut made_up, own, "530826103201001", "13700000001");
    let phone_b = Change::Put {
        table: Table::Household,
        id: foreign,
        fields: vec![("phone", FieldValue::Text("13900000000".into()))],
    };
    made_up.write(&[phone_b]).unwrap();
    let stray = unsigned(&export(&made_up));
    let taken = import_changeset(&mut village, &stray).unwrap();
    assert!(taken.applied > 0, "a copy that confirms no device takes it");
    // The laptop's file brings them to the township: the edit of B waits there, the edit of
    // A merges.
    let summary = import_changeset(&mut township, &export(&village)).unwrap();
    assert!(summary.outside_village_ops >= 1, "{summary:?}");
    assert!(summary.message_zh().contains(VILLAGE_B));
    // Named by the laptop that brought it, whose 安全码 merges or declines it.
    assert!(
        summary.message_zh().contains("设备“村”"),
        "{}",
        summary.message_zh()
    );
    assert_eq!(common::phone_of(&township, foreign), None);
    assert_eq!(
        common::phone_of(&township, own).as_deref(),
        Some("13700000001")
    );
    let laptop = village.device().id;
    let waiting_under_the_laptop = |store: &Store| {
        list_devices(store)
            .unwrap()
            .into_iter()
            .find(|d| d.key.device == laptop)
            .unwrap()
            .held_files
    };
    assert_eq!(waiting_under_the_laptop(&township), 1);
    // The laptop's file with its header's signature taken off is still checked against the
    // village the township confirmed the laptop for.
    let mut second = common::open_at(dir.path(), "无名二", T0);
    import_changeset(&mut second, &from_county).unwrap();
    second
        .write(&[Change::Put {
            table: Table::Household,
            id: foreign,
            fields: vec![("remark", FieldValue::Text("外村的户".into()))],
        }])
        .unwrap();
    import_changeset(&mut village, &unsigned(&export(&second))).unwrap();
    let stripped = import_changeset(&mut township, &unsigned(&export(&village))).unwrap();
    assert!(stripped.outside_village_ops >= 1, "{stripped:?}");
    assert_eq!(common::remark_of(&township, foreign), None);
    // The work team vouches for what waits: merged under the laptop's 安全码, and nothing is
    // left waiting.
    merge_held_outside(&mut township, &fp).unwrap();
    assert_eq!(
        common::phone_of(&township, foreign).as_deref(),
        Some("13900000000")
    );
    assert_eq!(waiting_under_the_laptop(&township), 0);

    // A station that confirms devices: the same writer's ops carried by a laptop it has not
    // confirmed wait with that laptop, listed under it, and merge when it is confirmed.
    let mut station = common::open_at(dir.path(), "另一乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let mut carrier = common::open_at(dir.path(), "县里的电脑", T0);
    import_changeset(&mut carrier, &stray).unwrap();
    // Its keys, made before every export from the app or the CLI (it has written nothing).
    carrier.ensure_sealing_key().unwrap();
    let carried = export(&carrier);
    let waited = import_changeset(&mut station, &carried).unwrap();
    assert!(waited.held_ops > 0, "{waited:?}");
    assert_eq!(common::phone_of(&station, own), None);
    let listed = list_devices(&station).unwrap();
    let entry = listed
        .iter()
        .find(|d| d.key.device == carrier.device().id)
        .expect("the laptop that brought them is listed to confirm");
    assert_eq!(entry.held_files, 1);
    confirm_device(
        &mut station,
        &own_fingerprint(&carrier).unwrap().unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(
        common::phone_of(&station, own).as_deref(),
        Some("13700000001")
    );
    assert_eq!(
        common::phone_of(&station, foreign).as_deref(),
        Some("13900000000"),
        "a device confirmed without a village answers for its whole file"
    );

    // A file no one signed is not merged at a station that confirms devices, and says why.
    let mut strict = common::open_at(dir.path(), "第三乡镇", T0);
    strict.set_confirms_devices(true).unwrap();
    let refused = import_changeset(&mut strict, &stray).unwrap();
    assert!(refused.unvouched_ops > 0, "{refused:?}");
    assert_eq!(refused.applied, 0);
    assert!(refused.message_zh().contains("签名担保"));
    assert_eq!(common::phone_of(&strict, own), None);
    // Nor is one that names the station itself as its source without its signature.
    let (mut header, ops) = changeset::decode(&stray).unwrap();
    header.source_device = strict.device().id;
    header.source_name = "第三乡镇".into();
    let posing = import_changeset(&mut strict, &changeset::encode(header, &ops)).unwrap();
    assert!(posing.unvouched_ops > 0, "{posing:?}");
    assert_eq!(posing.applied, 0);
    assert_eq!(common::phone_of(&strict, own), None);
}

/// `export --for <file>` sends what the file's writer lacks by the ranges the file says it
/// holds: believed only when the writer signed the file, so ranges altered on a stick (claiming
/// the peer holds everything) do not make the export leave out what the peer lacks.
#[test]
fn ranges_altered_on_a_stick_do_not_shrink_an_export_for_its_writer() {
    use bangfu_core::sync::exchange::{PeerHoldings, export_introduction, peer_of_file};
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    put_household(
        &mut village,
        Uuid::now_v7(),
        "530826103201001",
        "13800000001",
    );
    let (intro, _) = export_introduction(&mut station).unwrap();
    let (peer, holdings) = peer_of_file(&mut village, &intro).unwrap();
    assert_eq!(peer, station.device().id);
    assert!(
        matches!(&holdings, PeerHoldings::Exactly(r) if r.get(&village.device().id).is_none()),
        "the station's own word, signed: {holdings:?}"
    );
    let (mut header, ops) = changeset::decode(&intro).unwrap();
    header.held = Some(
        [(village.device().id, vec![(1, 1_000)])]
            .into_iter()
            .collect(),
    );
    let altered = changeset::encode(header, &ops);
    let (_, holdings) = peer_of_file(&mut village, &altered).unwrap();
    assert_eq!(
        holdings,
        PeerHoldings::AtLeast(Default::default()),
        "not believed: everything is sent"
    );
    let (file, summary) = export_changeset(&village, Some(&holdings)).unwrap();
    assert!(summary.ops > 0);
    let summary = import_changeset(&mut station, &file).unwrap();
    assert!(summary.applied > 0, "{summary:?}");
}

/// A forged stick's file: the forger's own changes (not others' it holds from files) written
/// under `victim`'s id, `shift` seqs on, signed with a key the forger made up (returned).
fn forged_under(forger: &Store, victim: Uuid, shift: i64) -> (Vec<u8>, ed25519_dalek::SigningKey) {
    use bangfu_core::sync::signing::{BatchSig, hex, new_signing_key, sign_batch};
    let (mut header, ops) = changeset::decode(&export(forger)).unwrap();
    let own = forger.device().id;
    let mut ops: Vec<_> = ops.into_iter().filter(|op| op.id.origin == own).collect();
    for op in &mut ops {
        op.id.origin = victim;
        op.id.seq += shift;
    }
    let planted = new_signing_key();
    let (first, last) = (ops[0].id.seq, ops[ops.len() - 1].id.seq);
    let sig = sign_batch(&planted, victim, first, last, &ops);
    header.signers = Some([(victim, hex(planted.verifying_key().as_bytes()))].into());
    header.batches = Some(vec![BatchSig::new(victim, first, last, hex(&sig))]);
    header.device_names = [(victim, "村".to_owned())].into();
    (changeset::encode(header, &ops), planted)
}

fn fingerprint_of(key: &ed25519_dalek::SigningKey) -> String {
    bangfu_core::sync::trust::fingerprint_of_key_hex(&bangfu_core::sync::signing::hex(
        key.verifying_key().as_bytes(),
    ))
    .unwrap()
}

/// The 安全码 listed for `device` on the devices screen, with whether each is confirmed.
fn listed_keys(store: &Store, device: Uuid) -> Vec<(String, bool, u64)> {
    list_devices(store)
        .unwrap()
        .into_iter()
        .filter(|d| d.key.device == device)
        .map(|d| (d.key.fingerprint, d.key.confirmed, d.held_files))
        .collect()
}

/// A forged stick that proved a made-up key under a laptop's id before the laptop's own file
/// came: the real file is not refused but held as a second candidate, both 安全码 listed; the
/// clerk declines the stranger's (不合并), its key is forgotten, and confirming the laptop's
/// real 安全码 merges the laptop's edits.
#[test]
fn a_key_planted_by_a_forged_stick_is_forgotten_when_declined_so_the_real_laptop_gets_in() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let h = Uuid::now_v7();
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    // Modified software writes under the laptop's id and signs with a key of its own.
    put_household(&mut forger, h, "530826103201001", "13999999999");
    let victim = laptop.device().id;
    let (forged, planted) = forged_under(&forger, victim, 0);
    // The batch signatures hold (the forger signed under its key): held as a new device.
    assert!(import_changeset(&mut station, &forged).unwrap().held_ops > 0);
    // The real file is not refused as 冒充: held beside it, under its own 安全码.
    let real = export(&laptop);
    let summary = import_changeset(&mut station, &real).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let planted_fp = fingerprint_of(&planted);
    let listed = listed_keys(&station, victim);
    assert!(
        listed.contains(&(planted_fp.clone(), false, 1)),
        "{listed:?}"
    );
    assert!(listed.contains(&(real_fp.clone(), false, 1)), "{listed:?}");
    // The clerk compares 安全码 with the laptop's screen: 不合并 the stranger's.
    let outcome = drop_held(&mut station, &planted_fp).unwrap();
    assert!(outcome.forgotten, "{outcome:?}");
    assert_eq!(outcome.dropped, 1, "{outcome:?}");
    assert_eq!(
        listed_keys(&station, victim),
        vec![(real_fp.clone(), false, 1)]
    );
    confirm_device(&mut station, &real_fp, None).unwrap();
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
}

/// The same at a station whose clerk confirms the laptop's real 安全码 first: the laptop's
/// edits merge, the forger's stay held until declined, and its key is then forgotten; from
/// then on a file under another key for the laptop is refused as 冒充 again.
#[test]
fn confirming_the_real_key_beside_a_planted_one_merges_the_laptop_and_leaves_the_forgery_held() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let h = Uuid::now_v7();
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    put_household(&mut forger, h, "530826103201001", "13999999999");
    let victim = laptop.device().id;
    let (forged, planted) = forged_under(&forger, victim, 0);
    assert!(import_changeset(&mut station, &forged).unwrap().held_ops > 0);
    let summary = import_changeset(&mut station, &export(&laptop)).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(common::phone_of(&station, h), None);
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let planted_fp = fingerprint_of(&planted);
    confirm_device(&mut station, &real_fp, None).unwrap();
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
    // The forger's key is no longer the laptop's; what it signed still waits, to decline.
    let listed = listed_keys(&station, victim);
    assert!(listed.contains(&(real_fp.clone(), true, 0)), "{listed:?}");
    // Its file waits for a word on the key (不合并), though the ops it signed are the real
    // laptop's seqs, held here now.
    assert!(
        listed.contains(&(planted_fp.clone(), false, 1)),
        "{listed:?}"
    );
    // A confirmed key is not replaced by confirming the other.
    assert_eq!(
        confirm_device(&mut station, &planted_fp, None)
            .unwrap_err()
            .kind(),
        "device_key_confirmed_already"
    );
    let outcome = drop_held(&mut station, &planted_fp).unwrap();
    assert_eq!(outcome.dropped, 1, "{outcome:?}");
    assert!(outcome.forgotten, "{outcome:?}");
    assert_eq!(listed_keys(&station, victim), vec![(real_fp, true, 0)]);
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
    // With the real key confirmed, a forged file under another key is 冒充, refused whole.
    put_household(&mut forger, h, "530826103201001", "13999999998");
    let (again, _) = forged_under(&forger, victim, 0);
    assert_eq!(import_err_kind(&mut station, &again), "device_key_mismatch");
}

/// A village laptop that does not confirm devices takes a forged stick's made-up op under
/// another laptop's id (its rules apply a new device's ops) and records the made-up key; the
/// real laptop's file is then not refused as 冒充 but held under its own 安全码, and merges
/// when a person confirms it (the made-up key is then no longer the laptop's; a file under it
/// is refused).
#[test]
fn a_laptop_that_does_not_confirm_devices_holds_the_real_file_beside_a_planted_key() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut village = common::open_at(dir.path(), "邻村", T0);
    assert!(!village.confirms_devices().unwrap());
    let (h, made_up) = (Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    put_household(&mut forger, made_up, "530826103201002", "13999999999");
    let victim = laptop.device().id;
    // Seqs past the laptop's own (a forged op on the laptop's seqs would be taken for them).
    let (forged, planted) = forged_under(&forger, victim, 100);
    assert!(import_changeset(&mut village, &forged).unwrap().applied > 0);
    assert_eq!(
        common::phone_of(&village, made_up).as_deref(),
        Some("13999999999")
    );
    let planted_fp = fingerprint_of(&planted);
    assert_eq!(
        listed_keys(&village, victim),
        vec![(planted_fp.clone(), false, 0)]
    );
    let summary = import_changeset(&mut village, &export(&laptop)).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(summary.applied, 0, "{summary:?}");
    assert_eq!(common::phone_of(&village, h), None);
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let listed = listed_keys(&village, victim);
    assert!(listed.contains(&(real_fp.clone(), false, 1)), "{listed:?}");
    confirm_device(&mut village, &real_fp, None).unwrap();
    assert_eq!(
        common::phone_of(&village, h).as_deref(),
        Some("13800000001")
    );
    assert_eq!(listed_keys(&village, victim), vec![(real_fp, true, 0)]);
    assert_eq!(
        import_err_kind(&mut village, &forged),
        "device_key_mismatch"
    );
}

/// A forged stick's ops on a laptop's own seqs, taken by a village copy that does not confirm
/// devices (a new household made up, another household's phone changed, and the copy's own
/// edit written over that phone since), would keep the laptop's real ops out for ever: same
/// ids, other content. Once a person confirms the laptop's real 安全码, what only the made-up
/// key signed is taken out of the data: the made-up household is gone (list, search), the
/// real laptop's work merges, the copy's own later edit stays (the neighbour's value it was
/// written over, which the forgery had overwritten, comes back beside it for review), and the
/// copy ends exactly as a copy that never saw the forgery. The audit log names what was taken
/// out; the forged stick is refused from then on.
#[test]
fn a_forgers_ops_on_a_laptops_own_seqs_leave_when_its_real_key_is_confirmed() {
    use bangfu_core::query::{HouseholdQuery, households};
    use bangfu_core::sync::digest::state_hash;
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut neighbour = common::open_at(dir.path(), "邻居", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut village = common::open_at(dir.path(), "邻村", T0);
    assert!(!village.confirms_devices().unwrap());
    let (h, g, made_up) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut neighbour, g, "530826103201009", "13600000000");
    let from_neighbour = export(&neighbour);
    import_changeset(&mut village, &from_neighbour).unwrap();
    // The neighbour's next edit reaches the forger, not the village yet: the forgery is
    // written over it (names it before the village holds it).
    set_text(&mut neighbour, g, "phone", "13600000001");
    let later_from_neighbour = export(&neighbour);
    import_changeset(&mut forger, &later_from_neighbour).unwrap();
    put_household(&mut forger, made_up, "530826103201002", "13999999999");
    set_text(&mut forger, g, "phone", "13999999990");
    set_text(&mut forger, g, "main_cause", "03");
    let victim = laptop.device().id;
    // The forger's own ops (not the neighbour's it holds), on the laptop's seqs from 1.
    let (forged, planted) = forged_under(&forger, victim, 0);
    assert!(import_changeset(&mut village, &forged).unwrap().applied > 0);
    assert_eq!(
        common::phone_of(&village, made_up).as_deref(),
        Some("13999999999")
    );
    assert_eq!(
        common::phone_of(&village, g).as_deref(),
        Some("13999999990")
    );
    // The village's own edits, written over the forged phone and 致贫原因.
    set_text(&mut village, g, "phone", "13700000000");
    set_text(&mut village, g, "main_cause", "02");

    // The real laptop's work: the same seqs as the forgery, other content. Its edit of g's
    // phone takes the id the village's phone edit named (the same field: written over, as at
    // any copy), its edit of h's phone the id the village's 致贫原因 edit named (another row:
    // not the op named, so not written over).
    import_changeset(&mut laptop, &from_neighbour).unwrap();
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    set_text(&mut laptop, g, "phone", "13500000000");
    set_text(&mut laptop, h, "phone", "13800000002");
    let real = export(&laptop);
    let summary = import_changeset(&mut village, &real).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let outcome = confirm_device(&mut village, &real_fp, None).unwrap();
    assert!(outcome.withdrawn >= 4, "{outcome:?}");
    assert!(outcome.failed.is_empty(), "{outcome:?}");
    let said = outcome.lines_zh("已确认").join("");
    assert!(said.contains("撤下"), "{said}");

    // The real work merged; the made-up household is gone from the rows, the list and the
    // search; the village's own edit stands.
    assert_eq!(
        common::phone_of(&village, h).as_deref(),
        Some("13800000002")
    );
    assert_eq!(common::phone_of(&village, made_up), None);
    let search = |store: &Store, text: &str| {
        households(
            store,
            &HouseholdQuery {
                text: text.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .total
    };
    assert_eq!(search(&village, "530826103201002"), 0);
    assert_eq!(search(&village, "530826103201001"), 1);
    assert_eq!(search(&village, ""), 2);
    assert_eq!(
        common::phone_of(&village, g).as_deref(),
        Some("13700000000")
    );
    let audit = village.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "withdraw_ops" && a.what.contains(&fingerprint_of(&planted))),
        "{audit:?}"
    );

    // Exactly what a copy that never saw the forgery holds after the same files, and after
    // the neighbour's edit the forgery was written over.
    let mut clean = common::open_at(dir.path(), "对照", T0);
    import_changeset(&mut clean, &from_neighbour).unwrap();
    import_changeset(&mut clean, &real).unwrap();
    import_changeset(&mut clean, &export(&village)).unwrap();
    assert_eq!(state_hash(&clean).unwrap(), state_hash(&village).unwrap());
    for copy in [&mut clean, &mut village] {
        import_changeset(copy, &later_from_neighbour).unwrap();
    }
    assert_eq!(
        common::phone_of(&village, h).as_deref(),
        Some("13800000002")
    );
    assert_eq!(state_hash(&clean).unwrap(), state_hash(&village).unwrap());
    assert_eq!(
        clean.version_vector().unwrap().get(&victim),
        village.version_vector().unwrap().get(&victim)
    );
    assert_eq!(
        bangfu_core::sync::review::review_items(&clean)
            .unwrap()
            .len(),
        bangfu_core::sync::review::review_items(&village)
            .unwrap()
            .len()
    );
    assert_eq!(search(&clean, ""), 2);
    // The forged stick is 冒充 now.
    assert_eq!(
        import_err_kind(&mut village, &forged),
        "device_key_mismatch"
    );
}

/// After a take-out, an id the forgery held stays written over wherever an op of the real
/// laptop's row and field named it, whichever copy wrote that op and whichever row the forgery
/// used the id on: a township's edit of the laptop's household reached the village while the
/// forged op still held the id (on another household), and the village's own edit named the
/// same id on that other household. Once the real key is confirmed, the township's edit stands
/// over the laptop's real phone, exactly as at a copy that never saw the forgery.
#[test]
fn an_edit_written_over_a_real_op_elsewhere_stays_over_it_after_the_take_out() {
    use bangfu_core::sync::digest::state_hash;
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut neighbour = common::open_at(dir.path(), "邻居", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut township = common::open_at(dir.path(), "乡镇", T0);
    let mut village = common::open_at(dir.path(), "邻村", T0);
    // g's id sorts first: the village's entry for the laptop's seq 3 comes before the
    // township's wherever ids are ordered.
    let (g, h) = (Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut neighbour, g, "530826103201009", "13600000000");
    let from_neighbour = export(&neighbour);
    for copy in [&mut village, &mut forger, &mut laptop] {
        import_changeset(copy, &from_neighbour).unwrap();
    }
    // Three forged edits of g, on the laptop's seqs 1..=3.
    for (field, value) in [
        ("phone", "13999999990"),
        ("main_cause", "03"),
        ("remark", "冒充的备注"),
    ] {
        set_text(&mut forger, g, field, value);
    }
    let victim = laptop.device().id;
    let (forged, _) = forged_under(&forger, victim, 0);
    import_changeset(&mut village, &forged).unwrap();
    // The village writes over the forged 备注 (it names the laptop's seq 3).
    set_text(&mut village, g, "remark", "村里的备注");
    // The laptop files h (its seqs 1..=3: code, 致贫原因, phone); the township takes it and
    // corrects h's phone (naming the laptop's seq 3, on h).
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    let real = export(&laptop);
    import_changeset(&mut township, &from_neighbour).unwrap();
    import_changeset(&mut township, &real).unwrap();
    set_text(&mut township, h, "phone", "13900000000");
    let from_township = export(&township);
    // The township's file reaches the village while the forged op holds seq 3: the laptop's
    // ops in it wait (another key), the township's edit applies.
    import_changeset(&mut village, &from_township).unwrap();
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let outcome = confirm_device(&mut village, &real_fp, None).unwrap();
    assert_eq!(outcome.withdrawn, 3, "{outcome:?}");
    assert!(outcome.failed.is_empty(), "{outcome:?}");
    assert_eq!(
        common::phone_of(&village, h).as_deref(),
        Some("13900000000")
    );
    assert_eq!(
        common::phone_of(&village, g).as_deref(),
        Some("13600000000")
    );

    let mut clean = common::open_at(dir.path(), "对照", T0);
    for file in [&from_neighbour, &real, &from_township, &export(&village)] {
        import_changeset(&mut clean, file).unwrap();
    }
    assert_eq!(state_hash(&clean).unwrap(), state_hash(&village).unwrap());
    assert_eq!(
        bangfu_core::sync::review::review_items(&clean)
            .unwrap()
            .len(),
        bangfu_core::sync::review::review_items(&village)
            .unwrap()
            .len()
    );
    // In the other order too: the real op before the township's and the village's edits.
    let mut other_order = common::open_at(dir.path(), "另一顺序", T0);
    for file in [&real, &from_neighbour, &export(&village), &from_township] {
        import_changeset(&mut other_order, file).unwrap();
    }
    assert_eq!(
        state_hash(&other_order).unwrap(),
        state_hash(&village).unwrap()
    );
}

/// A village laptop that does not confirm devices takes a forged stick's op under another
/// laptop's id and relays it in its own file. A station that confirmed the real laptop's key
/// no longer refuses the relaying laptop's whole file as 冒充 (which kept its real work out
/// until a clerk acted): the forged ops are left out, counted and named in the message, and
/// the relay's own households merge. A forged stick alone is still refused whole, and the
/// real laptop's file still merges. Confirming the real key is in the station's audit log.
#[test]
fn a_relay_that_took_a_forged_op_still_gets_its_own_work_in() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut relay = common::open_at(dir.path(), "邻村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    let (h, made_up, own) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    put_household(&mut forger, made_up, "530826103201002", "13999999999");
    let victim = laptop.device().id;
    import_changeset(&mut station, &export(&laptop)).unwrap();
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    confirm_device(&mut station, &real_fp, None).unwrap();
    let audit = station.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "confirm_device" && a.what.contains(&real_fp)),
        "{audit:?}"
    );

    let (forged, _) = forged_under(&forger, victim, 100);
    assert!(import_changeset(&mut relay, &forged).unwrap().applied > 0);
    put_household(&mut relay, own, "530826103202001", "13700000001");
    let relayed = export(&relay);

    let summary = import_changeset(&mut station, &relayed).unwrap();
    assert!(summary.impostor_ops > 0, "{summary:?}");
    assert!(summary.applied > 0, "{summary:?}");
    let message = summary.message_zh();
    assert!(
        message.contains("冒充") && message.contains("“村”"),
        "{message}"
    );
    assert_eq!(
        common::phone_of(&station, own).as_deref(),
        Some("13700000001"),
        "the relay's own household merged"
    );
    assert_eq!(
        common::phone_of(&station, made_up),
        None,
        "the forged one did not"
    );
    // The real laptop's key stays the one confirmed, its household untouched.
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
    assert_eq!(listed_keys(&station, victim), vec![(real_fp, true, 0)]);
    // The forged stick alone: nothing but 冒充 in it, refused whole.
    assert_eq!(
        import_err_kind(&mut station, &forged),
        "device_key_mismatch"
    );
    // Read again (a second stick of the same file): the same, nothing half-taken.
    let again = import_changeset(&mut station, &relayed).unwrap();
    assert_eq!(common::phone_of(&station, made_up), None, "{again:?}");
}

/// A forged stick that only declares a made-up key under a laptop's id, with no change of the
/// laptop's in it (nothing the key signs), teaches the station nothing about the laptop: the
/// key is not recorded, so the laptop's real file is not refused as 冒充 and no clerk has to
/// decline a stranger first. A sealing key signed by that made-up key plants nothing either.
#[test]
fn a_key_declared_with_no_batch_it_signs_is_not_recorded_and_the_real_laptop_gets_in() {
    use bangfu_core::sync::signing::{hex, new_signing_key};
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    let h = Uuid::now_v7();
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    // The forger's own file, its own batch signed and verified, declaring beside its own key
    // a made-up one under the laptop's id (and a sealing key signed by it).
    put_household(
        &mut forger,
        Uuid::now_v7(),
        "530826103201002",
        "13999999999",
    );
    forger.ensure_sealing_key().unwrap();
    let (mut header, ops) = changeset::decode(&export(&forger)).unwrap();
    let victim = laptop.device().id;
    let planted = new_signing_key();
    let planted_hex = hex(planted.verifying_key().as_bytes());
    header
        .signers
        .as_mut()
        .unwrap()
        .insert(victim, planted_hex.clone());
    let (_, forger_seal) = header
        .seal_keys
        .as_ref()
        .unwrap()
        .iter()
        .next()
        .map(|(d, k)| (*d, k.clone()))
        .unwrap();
    let recipient = forger_seal.recipient.clone();
    // What a device signs to vouch for its sealing key (the format is public: a forger
    // knows it).
    let mut message = b"bangfu-seal-key-v1".to_vec();
    message.extend_from_slice(victim.as_bytes());
    message.extend_from_slice(recipient.as_bytes());
    let seal_sig = ed25519_dalek::Signer::sign(&planted, &message).to_bytes();
    header.seal_keys.as_mut().unwrap().insert(
        victim,
        bangfu_core::sync::seal::SealKey {
            name: "村".into(),
            signing_key: planted_hex.clone(),
            recipient,
            sig: hex(&seal_sig),
        },
    );
    header.device_names.insert(victim, "村".into());
    let forged = changeset::encode(header, &ops);
    let summary = import_changeset(&mut station, &forged).unwrap();
    assert!(summary.applied > 0, "{summary:?}");
    let keys = station.device_keys().unwrap();
    assert!(
        keys.iter().all(|k| k.device != victim),
        "the made-up key is not recorded: {keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.device == forger.device().id),
        "the key that signs the forger's own batch is"
    );
    // The laptop's real file is not refused and merges.
    let summary = import_changeset(&mut station, &export(&laptop)).unwrap();
    assert!(summary.applied > 0, "{summary:?}");
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
    assert_eq!(
        station
            .device_keys()
            .unwrap()
            .into_iter()
            .find(|k| k.device == victim)
            .unwrap()
            .fingerprint,
        own_fingerprint(&laptop).unwrap().unwrap()
    );
}

/// The real laptop keeps exporting while its key waits at a station as a second candidate
/// (a forger's key recorded first): each newer file of the laptop replaces the older held one
/// (both declare and are signed under the same key), so one held file remains, and confirming
/// the laptop's 安全码 merges every edit it made.
#[test]
fn a_second_candidate_keys_newer_file_replaces_its_older_held_one() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let hs = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    put_household(&mut forger, hs[0], "530826103201001", "13999999999");
    let victim = laptop.device().id;
    let (forged, planted) = forged_under(&forger, victim, 0);
    assert!(import_changeset(&mut station, &forged).unwrap().held_ops > 0);
    for (i, h) in hs.iter().enumerate() {
        put_household(
            &mut laptop,
            *h,
            &format!("53082610320100{}", i + 1),
            &format!("1380000000{i}"),
        );
        let summary = import_changeset(&mut station, &export(&laptop)).unwrap();
        assert!(summary.held_ops > 0, "{summary:?}");
    }
    let real_fp = own_fingerprint(&laptop).unwrap().unwrap();
    let planted_fp = fingerprint_of(&planted);
    let listed = listed_keys(&station, victim);
    assert!(listed.contains(&(real_fp.clone(), false, 1)), "{listed:?}");
    assert!(listed.contains(&(planted_fp, false, 1)), "{listed:?}");
    let outcome = confirm_device(&mut station, &real_fp, None).unwrap();
    assert_eq!(outcome.merged.len(), 1, "{:?}", outcome.merged);
    for (i, h) in hs.iter().enumerate() {
        assert_eq!(
            common::phone_of(&station, *h),
            Some(format!("1380000000{i}"))
        );
    }
}

/// A held file that only declares a made-up key under a laptop's id (no batch or part of the
/// laptop's signed by it, and not the file's sender) shows nothing about the laptop: no
/// candidate key is listed for it to confirm.
#[test]
fn a_key_a_held_file_only_declares_is_not_listed_as_a_candidate() {
    use bangfu_core::sync::signing::{hex, new_signing_key};
    let dir = common::scratch();
    let laptop = common::open_at(dir.path(), "村", T0);
    let mut forger = common::open_at(dir.path(), "冒充者", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    put_household(
        &mut forger,
        Uuid::now_v7(),
        "530826103201002",
        "13999999999",
    );
    let (mut header, ops) = changeset::decode(&export(&forger)).unwrap();
    let victim = laptop.device().id;
    let planted = new_signing_key();
    header
        .signers
        .as_mut()
        .unwrap()
        .insert(victim, hex(planted.verifying_key().as_bytes()));
    header.device_names.insert(victim, "村".into());
    let forged = changeset::encode(header, &ops);
    // Held for the forger's own (unconfirmed) device.
    let summary = import_changeset(&mut station, &forged).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(listed_keys(&station, victim), vec![]);
    // The forger's own key, which signs its batch, is listed.
    assert_eq!(listed_keys(&station, forger.device().id).len(), 1);
}

/// A station that confirms devices holds the sticks of three laptops it does not know; the
/// clerk confirms one of them, and every held file is read again: one backup is taken for
/// all of them (a county file copied once per held file took minutes and pushed the other
/// backups out of the rotation).
#[test]
fn reading_held_files_again_takes_one_backup_for_all() {
    let dir = common::scratch();
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let mut laptops: Vec<Store> = (1..=3)
        .map(|i| common::open_at(dir.path(), &format!("村{i}"), T0))
        .collect();
    for (i, laptop) in laptops.iter_mut().enumerate() {
        put_household(
            laptop,
            Uuid::now_v7(),
            &format!("53082610320100{}", i + 1),
            &format!("1380000000{i}"),
        );
        assert!(
            import_changeset(&mut station, &export(laptop))
                .unwrap()
                .held_ops
                > 0
        );
    }
    let before = station.backups().unwrap().len();
    let outcome = confirm_device(
        &mut station,
        &own_fingerprint(&laptops[0]).unwrap().unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(outcome.merged.len(), 3, "{outcome:?}");
    assert!(outcome.merged.iter().any(|s| s.applied > 0), "{outcome:?}");
    assert_eq!(station.backups().unwrap().len(), before + 1);
    // Each summary names that one backup.
    let backup = outcome.merged[0].backup.clone();
    assert!(backup.is_some());
    assert!(outcome.merged.iter().all(|s| s.backup == backup));
}

/// The county's word for a laptop's key marks the held files to be read again, in the same
/// transaction; a reading cut short (here: the app closed before it) is done at the next
/// occasion, and only once.
#[test]
fn the_countys_word_is_not_forgotten_when_the_reading_is_cut_short() {
    use bangfu_core::sync::relay::{keep_page_signatures, take_page_keys};
    use bangfu_core::sync::trust::read_held_after_vouch;
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "村", T0);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    station.set_confirms_devices(true).unwrap();
    let h = Uuid::now_v7();
    put_household(&mut laptop, h, "530826103201001", "13800000001");
    let file = export(&laptop);
    assert!(import_changeset(&mut station, &file).unwrap().held_ops > 0);
    // Nothing vouched for: a sync reads no held file again.
    assert_eq!(
        read_held_after_vouch(&mut station).unwrap(),
        (0, Vec::new())
    );
    assert_eq!(common::phone_of(&station, h), None);
    // A hub page declaring the laptop's key (the county vouches), applied; then the app ends.
    let (header, _) = changeset::decode(&file).unwrap();
    take_page_keys(&mut station, &header, &Default::default()).unwrap();
    keep_page_signatures(&mut station, &header, &[]).unwrap();
    drop(station);
    let mut station = common::open_at(dir.path(), "乡镇", T0);
    assert_eq!(common::phone_of(&station, h), None);
    let (merged, failed) = read_held_after_vouch(&mut station).unwrap();
    assert!(merged > 0 && failed.is_empty(), "{merged} {failed:?}");
    assert_eq!(
        common::phone_of(&station, h).as_deref(),
        Some("13800000001")
    );
    // Done once: the next sync reads nothing again.
    assert_eq!(
        read_held_after_vouch(&mut station).unwrap(),
        (0, Vec::new())
    );
}
