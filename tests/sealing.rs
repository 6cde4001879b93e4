//! Sealed changesets (issue 15): a file is readable only by the devices it is for; a lost
//! stick leaks nothing (no name found by inflating at any offset); a device the file is not for
//! is told whose file it is; a township relays a village's file re-sealed for the next hop; a
//! new laptop's first file is an introduction without any household; a sealing key not signed
//! by its device is not believed.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use bangfu_core::error::UserFacing;
use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store};
use bangfu_core::sync::changeset;
use bangfu_core::sync::exchange::{
    SealTo, export_changeset, export_introduction, export_sealed, find_seal_recipient,
    import_changeset,
};
use bangfu_core::sync::seal;
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;
const NAME: &str = "王秀英";
const ID_PREFIX: &str = "53082619820315";

fn file_household(store: &mut Store, name: &str) -> Uuid {
    let household = Uuid::now_v7();
    store
        .write(&[
            Change::Put {
                table: Table::Household,
                id: household,
                fields: vec![
                    ("code", FieldValue::Text("530826103201001".into())),
                    ("main_cause", FieldValue::Text("01".into())),
                    ("phone", FieldValue::Text("13800000001".into())),
                ],
            },
            Change::Put {
                table: Table::Member,
                id: Uuid::now_v7(),
                fields: vec![
                    (
                        "household_id",
                        FieldValue::Bytes(household.as_bytes().to_vec()),
                    ),
                    ("name", FieldValue::Text(name.into())),
                    (
                        "id_number",
                        FieldValue::Text(common::id_number(&format!("{ID_PREFIX}123"))),
                    ),
                    ("relation", FieldValue::Text("01".into())),
                ],
            },
        ])
        .unwrap();
    household
}

/// Each imports the other's introduction: both can seal to each other from then on.
fn introduce(a: &mut Store, b: &mut Store) {
    let (from_a, summary) = export_introduction(a).unwrap();
    assert!(summary.introduction);
    let (from_b, _) = export_introduction(b).unwrap();
    import_changeset(b, &from_a).unwrap();
    import_changeset(a, &from_b).unwrap();
}

fn sealed(store: &mut Store) -> Vec<u8> {
    let (file, summary) = export_sealed(store, None, &SealTo::Known).unwrap();
    assert!(!summary.introduction, "{summary:?}");
    assert!(seal::is_sealed(&file));
    file
}

fn member_names(store: &Store) -> Vec<String> {
    let conn = store.sql().unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM member WHERE deleted = 0 ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every offset of `file` inflated as a raw deflate stream and as a zlib stream (up to 1 MB
/// each), and the bytes themselves: whether `needle` shows anywhere.
fn found_by_inflating_at_every_offset(file: &[u8], needle: &[u8]) -> bool {
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    if contains(file) {
        return true;
    }
    for at in 0..file.len() {
        let mut raw = Vec::new();
        let _ = flate2::read::DeflateDecoder::new(&file[at..])
            .take(1 << 20)
            .read_to_end(&mut raw);
        let mut zlib = Vec::new();
        let _ = flate2::read::ZlibDecoder::new(&file[at..])
            .take(1 << 20)
            .read_to_end(&mut zlib);
        if contains(&raw) || contains(&zlib) {
            return true;
        }
    }
    false
}

#[test]
fn a_sealed_file_searched_with_zlib_at_every_offset_shows_no_name_or_id() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    introduce(&mut village, &mut station);
    file_household(&mut village, NAME);
    // The search finds the name in a plain changeset: it is a search that could fail.
    let plain = export_changeset(&village, None).unwrap().0;
    assert!(found_by_inflating_at_every_offset(&plain, NAME.as_bytes()));
    let file = sealed(&mut village);
    for needle in [
        NAME.as_bytes(),
        ID_PREFIX.as_bytes(),
        "13800000001".as_bytes(),
    ] {
        assert!(
            !found_by_inflating_at_every_offset(&file, needle),
            "{} readable in the sealed file",
            String::from_utf8_lossy(needle)
        );
    }
    // The device it is for reads it.
    import_changeset(&mut station, &file).unwrap();
    assert_eq!(member_names(&station), vec![NAME.to_owned()]);
}

#[test]
fn a_device_the_file_is_not_for_is_refused_with_whose_file_it_is() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    let mut stranger = common::open_at(dir.path(), "安置点-笔记本1", T0);
    introduce(&mut village, &mut station);
    file_household(&mut village, NAME);
    let file = sealed(&mut village);
    let error = import_changeset(&mut stranger, &file).unwrap_err();
    assert_eq!(error.kind(), "not_for_this_device");
    let message = error.message_zh();
    for name in ["新文村-笔记本1", "乡镇工作站", "安置点-笔记本1"] {
        assert!(message.contains(name), "{name} missing in: {message}");
    }
    assert!(member_names(&stranger).is_empty(), "nothing was imported");
    // Once the stranger has introduced itself, the village's next file is for it too.
    introduce(&mut stranger, &mut village);
    import_changeset(&mut stranger, &sealed(&mut village)).unwrap();
    assert_eq!(member_names(&stranger), vec![NAME.to_owned()]);
}

#[test]
fn a_township_relays_a_village_file_resealed_for_the_next_hop() {
    let dir = common::scratch();
    let mut village = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut township = common::open_at(dir.path(), "乡镇工作站", T0);
    let mut county = common::open_at(dir.path(), "县扶贫办", T0);
    introduce(&mut village, &mut township);
    introduce(&mut township, &mut county);
    file_household(&mut village, NAME);
    // The village knows only the township: its file is not for the county.
    let from_village = sealed(&mut village);
    assert_eq!(
        import_changeset(&mut county, &from_village)
            .unwrap_err()
            .kind(),
        "not_for_this_device"
    );
    // The township opens it and seals what it relays to the devices it knows.
    import_changeset(&mut township, &from_village).unwrap();
    let (relayed, summary) = export_sealed(&mut township, None, &SealTo::Known).unwrap();
    assert!(
        summary.sealed_for.contains(&"县扶贫办".to_owned()),
        "{summary:?}"
    );
    let imported = import_changeset(&mut county, &relayed).unwrap();
    assert_eq!(imported.unsigned_ops, 0, "the village's signatures travel");
    assert_eq!(member_names(&county), vec![NAME.to_owned()]);
    // The relayed file announced the village's sealing key: the county can seal to it now.
    let (to_village, summary) = export_sealed(&mut county, None, &SealTo::Known).unwrap();
    assert!(
        summary.sealed_for.contains(&"新文村-笔记本1".to_owned()),
        "{summary:?}"
    );
    import_changeset(&mut village, &to_village).unwrap();
}

#[test]
fn the_first_file_of_a_new_laptop_is_an_introduction_without_households() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本2", T0);
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    file_household(&mut laptop, NAME);
    let (first, summary) = export_sealed(&mut laptop, None, &SealTo::Known).unwrap();
    assert!(summary.introduction);
    assert_eq!(summary.ops, 0);
    assert!(!found_by_inflating_at_every_offset(&first, NAME.as_bytes()));
    import_changeset(&mut station, &first).unwrap();
    assert!(member_names(&station).is_empty());
    // The station seals to the laptop now; the laptop's next file goes to the station.
    let from_station = sealed(&mut station);
    import_changeset(&mut laptop, &from_station).unwrap();
    import_changeset(&mut station, &sealed(&mut laptop)).unwrap();
    assert_eq!(member_names(&station), vec![NAME.to_owned()]);
}

#[test]
fn export_for_a_named_device_is_sealed_to_it_alone() {
    let dir = common::scratch();
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    let mut one = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut two = common::open_at(dir.path(), "新文村-笔记本2", T0);
    introduce(&mut station, &mut one);
    introduce(&mut station, &mut two);
    file_household(&mut station, NAME);
    let device = find_seal_recipient(&station, "新文村-笔记本1").unwrap();
    assert_eq!(device, one.device().id);
    assert_eq!(
        find_seal_recipient(&station, "没有这台")
            .unwrap_err()
            .kind(),
        "unknown_recipient"
    );
    let (file, summary) =
        export_sealed(&mut station, None, &SealTo::Devices(vec![device])).unwrap();
    assert_eq!(summary.sealed_for, vec!["乡镇工作站", "新文村-笔记本1"]);
    assert_eq!(
        import_changeset(&mut two, &file).unwrap_err().kind(),
        "not_for_this_device"
    );
    import_changeset(&mut one, &file).unwrap();
    assert_eq!(member_names(&one), vec![NAME.to_owned()]);
}

#[test]
fn a_sealing_key_not_signed_by_its_device_is_not_believed() {
    let dir = common::scratch();
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本1", T0);
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    let (intro, _) = export_introduction(&mut laptop).unwrap();
    // Someone on the way swaps the laptop's sealing key for their own, signature kept.
    let (mut header, ops) = changeset::decode(&intro).unwrap();
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    for key in header.seal_keys.as_mut().unwrap().values_mut() {
        key.recipient = attacker.clone();
    }
    import_changeset(&mut station, &changeset::encode(header, &ops)).unwrap();
    file_household(&mut station, NAME);
    let (file, summary) = export_sealed(&mut station, None, &SealTo::Known).unwrap();
    assert!(
        summary.introduction,
        "the swapped key was taken as the laptop's: {summary:?}"
    );
    assert!(!found_by_inflating_at_every_offset(&file, NAME.as_bytes()));
    // The genuine introduction is believed.
    import_changeset(&mut station, &intro).unwrap();
    let (file, summary) = export_sealed(&mut station, None, &SealTo::Known).unwrap();
    assert!(!summary.introduction);
    import_changeset(&mut laptop, &file).unwrap();
    assert_eq!(member_names(&laptop), vec![NAME.to_owned()]);
}
