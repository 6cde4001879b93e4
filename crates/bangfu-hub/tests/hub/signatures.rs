//! Write batches' signatures through the hub (issue 15): a laptop's edits reach another laptop
//! by the hub with their signatures, so a township that knows the writer takes them when that
//! second laptop relays them on a USB stick; the keys the hub hands on count as vouched for by
//! the county (a village laptop limited to the village it was enrolled for); a page the hub
//! altered is refused whole; the hub refuses a push whose signatures do not hold.

use bangfu_core::UserFacing;
use bangfu_core::model::FieldValue;
use bangfu_core::store::{Change, Store};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_hub::HubError;

use crate::common::*;

/// A county on a hub (SQLite or PostgreSQL) whose admin laptop filed village A and synced.
pub(crate) struct County {
    pub dir: tempfile::TempDir,
    pub _hub: bangfu_hub::server::RunningHub,
    pub storage: std::sync::Arc<dyn bangfu_hub::storage::HubStorage>,
    pub url: String,
    pub village: bangfu_core::model::Village,
}

pub(crate) fn county_with_village_a(backend: Backend) -> County {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let village = village(VILLAGE_A);
    write(&mut county, &[put(&village)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    County {
        dir,
        _hub: hub,
        storage,
        url,
        village,
    }
}

crate::on_both_backends!(
    an_edit_relayed_by_the_hub_then_a_usb_stick_reaches_a_township_that_knows_its_writer
);
fn an_edit_relayed_by_the_hub_then_a_usb_stick_reaches_a_township_that_knows_its_writer(
    backend: Backend,
) {
    let county = county_with_village_a(backend);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, url, storage, VILLAGE_A);
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);

    // The township station is not on the hub: it gets A村-1's household on a stick, and with
    // it A村-1's signing key.
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    let mut station = open(dir.path(), "乡镇站");
    let (first, _) = export_changeset(&a1, None).unwrap();
    import_changeset(&mut station, &first).unwrap();
    assert_eq!(remark_of(&station, household), None);

    // A村-1 edits again and syncs; A村-2 pulls that edit from the hub and carries its copy to
    // the station. The station knows A村-1's key, so an op of A村-1 arriving without its
    // signature would be left aside (it could be forged); with the signatures the hub kept
    // and handed on, it is taken.
    // The team's 第一书记 is signed in on A村-1: the name travels with the edit, signed.
    a1.add_person("刘书记", bangfu_core::access::Role::Leader, "2468")
        .unwrap();
    a1.sign_in("刘书记", "2468").unwrap();
    write(&mut a1, &[remark(household, "二〇二六年十二月入户核实")]);
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);
    assert_eq!(
        remark_of(&a2, household).as_deref(),
        Some("二〇二六年十二月入户核实")
    );
    let (relayed, _) = export_changeset(&a2, None).unwrap();
    let summary = import_changeset(&mut station, &relayed).unwrap();
    assert_eq!(summary.unsigned_ops, 0, "{summary:?}");
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("二〇二六年十二月入户核实")
    );
    // A村-2 (through the hub) and the station (through A村-2's stick) name who typed it.
    for store in [&a2, &station] {
        let last = store
            .field_history(bangfu_core::model::Table::Household, household, "remark")
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(last.device, "A村-1");
        assert_eq!(last.person.as_deref(), Some("刘书记"));
    }
}

crate::on_both_backends!(
    a_key_the_hub_hands_on_is_vouched_for_so_a_stick_from_that_laptop_is_not_held
);
fn a_key_the_hub_hands_on_is_vouched_for_so_a_stick_from_that_laptop_is_not_held(backend: Backend) {
    let county = county_with_village_a(backend);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);

    // The township station holds ops of devices no one confirmed aside; it syncs with the hub.
    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    let station_client = enrol(&mut station, url, storage, &VILLAGE_A[..9]);
    sync(&station_client, &mut station);
    let a1_id = a1.device().id;
    let key = station
        .device_keys()
        .unwrap()
        .into_iter()
        .find(|k| k.device == a1_id)
        .expect("the hub handed on A村-1's key");
    assert!(
        key.confirmed,
        "the county vouches for a key the hub hands on"
    );
    assert_eq!(key.name, "A村-1");
    // A村-1's sealing key came with its ops: the station can seal a stick to A村-1.
    assert!(
        station
            .seal_recipients()
            .unwrap()
            .iter()
            .any(|r| r.device == a1_id && r.confirmed),
        "the station can seal files to A村-1"
    );
    let (sealed, _) = bangfu_core::sync::exchange::export_sealed(
        &mut station,
        None,
        &bangfu_core::sync::exchange::SealTo::Known,
    )
    .unwrap();
    let back = import_changeset(&mut a1, &sealed).unwrap();
    assert_eq!(back.source_name, "乡镇站");

    // Before the next sync, A村-1 brings a stick: its edit is merged, not held.
    write(&mut a1, &[remark(household, "U盘带来")]);
    let (file, _) = export_changeset(&a1, None).unwrap();
    let summary = import_changeset(&mut station, &file).unwrap();
    assert_eq!(summary.held_ops, 0, "{summary:?}");
    assert_eq!(remark_of(&station, household).as_deref(), Some("U盘带来"));

    // The county enrolled A村-1 for village A: the station limits it to village A as the hub
    // does. The station files village B with a household and hands A村-1 its file; A村-1's
    // edit of that household waits at the station, the rest of its stick merges.
    let key = station
        .device_keys()
        .unwrap()
        .into_iter()
        .find(|k| k.device == a1_id)
        .unwrap();
    assert_eq!(key.village.as_deref(), Some(VILLAGE_A));
    let vb = village(VILLAGE_B);
    write(&mut station, &[put(&vb)]);
    let (changes, other, _) = family(vb.id, "530828101202001");
    write(&mut station, &changes);
    let (sealed, _) = bangfu_core::sync::exchange::export_sealed(
        &mut station,
        None,
        &bangfu_core::sync::exchange::SealTo::Known,
    )
    .unwrap();
    import_changeset(&mut a1, &sealed).unwrap();
    write(&mut a1, &[remark(other, "别村的户")]);
    write(&mut a1, &[remark(household, "本村的户")]);
    let (file, _) = export_changeset(&a1, None).unwrap();
    let summary = import_changeset(&mut station, &file).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    assert_eq!(remark_of(&station, other), None);
    assert_eq!(remark_of(&station, household).as_deref(), Some("本村的户"));
}

crate::on_both_backends!(a_held_stick_merges_when_the_hub_vouches_for_its_laptop);
/// A township that holds the ops of devices no one confirmed took a stick from a laptop it did
/// not know: held. Its next sync with the hub brings the county's word for that laptop's key,
/// and what waited merges then, with no clerk's click: the edit the stick carried (one the hub
/// never saw) is at the station, and nothing of that laptop waits any more.
fn a_held_stick_merges_when_the_hub_vouches_for_its_laptop(backend: Backend) {
    let county = county_with_village_a(backend);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);
    // Out of reach afterwards: an edit the hub has not seen, carried on a stick.
    write(&mut a1, &[remark(household, "U盘带来")]);
    let (file, _) = export_changeset(&a1, None).unwrap();

    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    let summary = import_changeset(&mut station, &file).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(remark_of(&station, household), None);
    let station_client = enrol(&mut station, url, storage, &VILLAGE_A[..9]);
    let report = station_client.sync_once(&mut station).unwrap();
    assert!(report.held_merged > 0, "{report:?}");
    assert_eq!(remark_of(&station, household).as_deref(), Some("U盘带来"));
    // The county's word is in the station's audit log, as a clerk's confirmation would be.
    let audit = station.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "vouch_device" && a.what.contains("A村-1")),
        "{audit:?}"
    );
    let a1_id = a1.device().id;
    let devices = bangfu_core::sync::trust::list_devices(&station).unwrap();
    assert!(
        devices
            .iter()
            .filter(|d| d.key.device == a1_id)
            .all(|d| d.key.confirmed && d.held_files == 0),
        "{devices:?}"
    );
}

/// The hub's own file altered (a value of a stored op changed, as an intruder on the county
/// server or a broken hub would): the laptop refuses the page and takes nothing of it.
#[test]
fn a_page_the_hub_altered_is_refused_whole() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);

    let hub_file = rusqlite::Connection::open(dir.path().join("hub").join("hub.sqlite")).unwrap();
    let altered = hub_file
        .execute(
            "UPDATE op SET val = '王伪造' WHERE field = 'name' AND val LIKE '张%'",
            [],
        )
        .unwrap();
    assert_eq!(altered, 1);
    drop(hub_file);

    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, url, storage, VILLAGE_A);
    let error = a2_client.sync_once(&mut a2).unwrap_err();
    assert!(matches!(error, HubError::Forged(_)), "{error}");
    assert_eq!(error.kind(), "bad_signature");
    assert!(
        error.message_zh().contains("签名不符"),
        "{}",
        error.message_zh()
    );
    assert!(
        rows(&a2, "household").is_empty(),
        "nothing of the altered page is applied"
    );
    assert!(!rows(&a2, "household").contains(&household));
}

/// A device pushing its ops with a signature that does not hold (ops altered after signing)
/// is refused whole, and nothing of the push is stored.
#[test]
fn the_hub_refuses_a_push_whose_signature_does_not_hold() {
    use bangfu_core::sync::changeset;

    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let _ = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, _, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    let token = a1.hub_link().unwrap().unwrap().token;
    let stored_before = storage.counts().unwrap().ops;
    let origin = a1.device().id;

    let (signed, _) = export_changeset(&a1, None).unwrap();
    let (header, mut ops) = changeset::decode(&signed).unwrap();
    ops.retain(|op| op.id.origin == origin);
    let name = ops
        .iter_mut()
        .find(|op| op.field == "name")
        .expect("a member's name");
    name.value = FieldValue::Text("王伪造".into());
    let mut forged_header = header.clone();
    forged_header.carried = None;
    forged_header.snapshot = None;
    forged_header.held = None;
    forged_header.blobs = None;
    forged_header.format_version = changeset::FORMAT_VERSION_WITHOUT_FILES;
    let body = changeset::encode(forged_header, &ops);
    let reply = agent()
        .post(format!("{url}/v1/push"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/octet-stream")
        .query("origin", origin.to_string())
        .send(&body[..])
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
    let text = reply.into_body().read_to_string().unwrap();
    assert!(text.contains("bad_signature"), "{text}");
    assert_eq!(
        storage.counts().unwrap().ops,
        stored_before,
        "nothing of the push is stored"
    );
}

/// A push whose batch carries a second signature, op by op, that does not hold (made with
/// another key, as someone between the laptop and the hub would) is refused whole: the hub
/// keeps no signature that would vouch for a page's part of the batch it cannot check.
#[test]
fn the_hub_refuses_a_push_whose_signature_op_by_op_does_not_hold() {
    use bangfu_core::sync::signing;

    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let _ = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, _, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    let token = a1.hub_link().unwrap().unwrap().token;
    let stored_before = storage.counts().unwrap().ops;
    let origin = a1.device().id;

    let (ops, mut signatures) =
        bangfu_core::sync::relay::push_page(&a1, origin, 0, 1000, 4000).unwrap();
    let batch = signatures
        .batches
        .iter_mut()
        .find(|b| b.origin == origin)
        .expect("a batch of A村-1's");
    assert!(batch.parts_sig.is_some(), "the push signs it op by op");
    let of_batch: Vec<_> = ops
        .iter()
        .filter(|op| (batch.first..=batch.last).contains(&op.id.seq))
        .cloned()
        .collect();
    let other = signing::new_signing_key();
    batch.parts_sig = Some(signing::hex(&signing::sign_parts(
        &other,
        origin,
        batch.first,
        batch.last,
        &of_batch,
    )));
    let body = bangfu_hub::wire::encode_ops(origin, "A村-1", &ops, signatures);
    let reply = agent()
        .post(format!("{url}/v1/push"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/octet-stream")
        .query("origin", origin.to_string())
        .send(&body[..])
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
    let text = reply.into_body().read_to_string().unwrap();
    assert!(text.contains("bad_signature"), "{text}");
    assert_eq!(
        storage.counts().unwrap().ops,
        stored_before,
        "nothing of the push is stored"
    );
}

pub(crate) fn put(v: &bangfu_core::model::Village) -> Change {
    bangfu_core::store::put_change(v)
}

/// A stick that names A村-1 but carries a key of someone else's (a forger's, or a broken
/// program's) teaches an unconfirmed station that key. The county's key replaces it at the
/// next sync instead of refusing every page of A村-1 from then on.
#[test]
fn a_key_learnt_from_a_forged_stick_gives_way_to_the_countys() {
    use bangfu_core::sync::changeset;
    use bangfu_core::sync::signing::{self, BatchSig};

    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);
    let a1_id = a1.device().id;

    // The forged stick: A村-1's ops, signed with another key that claims to be A村-1's.
    let (real, _) = export_changeset(&a1, None).unwrap();
    let (mut header, ops) = changeset::decode(&real).unwrap();
    let forger = signing::new_signing_key();
    let own: Vec<_> = ops
        .iter()
        .filter(|op| op.id.origin == a1_id)
        .cloned()
        .collect();
    let (first, last) = (own[0].id.seq, own[own.len() - 1].id.seq);
    header.signers = Some([(a1_id, signing::hex(forger.verifying_key().as_bytes()))].into());
    header.batches = Some(vec![BatchSig::new(
        a1_id,
        first,
        last,
        signing::hex(&signing::sign_batch(&forger, a1_id, first, last, &own)),
    )]);
    header.seal_keys = None;
    header.blobs = None;
    header.format_version = changeset::FORMAT_VERSION_WITHOUT_FILES;
    let forged = changeset::encode(header, &ops);
    let mut station = open(dir.path(), "乡镇站");
    import_changeset(&mut station, &forged).unwrap();
    let learnt = |station: &Store| {
        station
            .device_keys()
            .unwrap()
            .into_iter()
            .find(|k| k.device == a1_id)
            .expect("a key for A村-1")
    };
    assert!(!learnt(&station).confirmed);

    // The station joins the hub: A村-1's pages carry its real key, which replaces the forged
    // one; the station's pulls go on, and what A村-1 writes next arrives.
    let station_client = enrol(&mut station, url, storage, &VILLAGE_A[..9]);
    sync(&station_client, &mut station);
    write(&mut a1, &[remark(household, "县里核实后")]);
    sync(&a1_client, &mut a1);
    sync(&station_client, &mut station);
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("县里核实后")
    );
    let key = learnt(&station);
    assert!(key.confirmed);
    assert_eq!(
        key.public_key,
        a1.device_keys()
            .unwrap()
            .into_iter()
            .find(|k| k.own)
            .unwrap()
            .public_key
    );
}

/// Village A's laptop saves a batch that touches both villages: it moves one household to B
/// and notes a remark on one that stays (as a 第一书记 does on the household page, one save).
/// Its earlier save filed both households at once. B's laptop receives only the ops of the
/// moved household, a part of each batch; the page states the hashes of the ops it leaves
/// out, so B checks every op it takes against A's signature: nothing comes on the hub's word.
fn a_save_touching_two_villages(
    backend: Backend,
) -> (County, Store, Store, bangfu_hub::HubClient, uuid::Uuid) {
    use bangfu_core::model::Table;
    use bangfu_core::store::put_change;
    let county = county_with_village_a(backend);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut county_laptop = open(dir.path(), "县管理员-2");
    let county_client = enrol(&mut county_laptop, url, storage, COUNTY);
    sync(&county_client, &mut county_laptop);
    let vb = village(VILLAGE_B);
    write(&mut county_laptop, &[put_change(&vb)]);
    sync(&county_client, &mut county_laptop);

    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, url, storage, VILLAGE_A);
    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, url, storage, VILLAGE_B);
    sync(&a1_client, &mut a1);
    sync(&b_client, &mut b);
    let (mut changes, moving, _) = family(va.id, "530828101201001");
    let (more, staying, _) = family(va.id, "530828101201002");
    changes.extend(more);
    write(&mut a1, &changes);
    write(
        &mut a1,
        &[
            Change::Put {
                table: Table::Household,
                id: moving,
                fields: vec![("village_id", FieldValue::Bytes(vb.id.as_bytes().to_vec()))],
            },
            remark(staying, "留在A村"),
        ],
    );
    sync(&a1_client, &mut a1);
    (county, a1, b, b_client, staying)
}

crate::on_both_backends!(an_op_of_a_save_the_page_cuts_is_checked_against_its_writers_signature);
fn an_op_of_a_save_the_page_cuts_is_checked_against_its_writers_signature(backend: Backend) {
    let (_county, a1, mut b, b_client, staying) = a_save_touching_two_villages(backend);
    let report = b_client.sync_once(&mut b).unwrap();
    let moved = rows(&b, "household");
    assert_eq!(moved.len(), 1, "B receives the moved household");
    assert!(!moved.contains(&staying), "and not the one that stays in A");
    assert_eq!(rows(&b, "member").len(), 2);
    assert!(report.pulled > 0, "{report:?}");
    assert_eq!(
        report.unsigned, 0,
        "every op B took is checked against A村-1's signature: {report:?}"
    );
    // The key it was checked under is A村-1's, vouched for by the county.
    let a1_key = b
        .device_keys()
        .unwrap()
        .into_iter()
        .find(|k| k.device == a1.device().id)
        .expect("A村-1's key came with the page");
    assert!(a1_key.confirmed);
}

/// The hub's file altered under a batch the page cuts (a member's name of the moved household,
/// filed in one save with a household B never sees): B refuses the page and takes nothing of it.
#[test]
fn an_altered_op_of_a_save_the_page_cuts_is_refused() {
    let (county, _a1, mut b, b_client, _) = a_save_touching_two_villages(Backend::Sqlite);
    let hub_file =
        rusqlite::Connection::open(county.dir.path().join("hub").join("hub.sqlite")).unwrap();
    let altered = hub_file
        .execute(
            "UPDATE op SET val = '王伪造' WHERE field = 'name' AND val = '张530828101201001'",
            [],
        )
        .unwrap();
    assert_eq!(altered, 1);
    drop(hub_file);
    let error = b_client.sync_once(&mut b).unwrap_err();
    assert!(matches!(error, HubError::Forged(_)), "{error}");
    assert_eq!(error.kind(), "bad_signature");
    assert!(
        rows(&b, "household").is_empty(),
        "nothing of the altered page is applied"
    );
}

crate::on_both_backends!(
    the_ops_of_a_cut_save_that_village_b_relays_on_a_stick_reach_a_township_that_knows_their_writer
);
/// B's laptop keeps the parts of the saves the hub's pages cut, with the hashes of the ops it
/// never saw, and relays those ops signed on a stick: a township that knows A村-1's key (from
/// its introduction) takes them instead of leaving them aside as unsigned; the same stick with
/// one of them altered is refused whole.
fn the_ops_of_a_cut_save_that_village_b_relays_on_a_stick_reach_a_township_that_knows_their_writer(
    backend: Backend,
) {
    use bangfu_core::sync::changeset;
    let (county, mut a1, mut b, b_client, _) = a_save_touching_two_villages(backend);
    sync(&b_client, &mut b);
    let mut station = open(county.dir.path(), "乡镇站");
    let (intro, _) = bangfu_core::sync::exchange::export_introduction(&mut a1).unwrap();
    import_changeset(&mut station, &intro).unwrap();
    assert!(
        station
            .device_keys()
            .unwrap()
            .iter()
            .any(|k| k.device == a1.device().id),
        "the township knows A村-1's key"
    );

    let (stick, _) = export_changeset(&b, None).unwrap();
    let (header, mut ops) = changeset::decode(&stick).unwrap();
    assert!(
        header.parts.as_ref().is_some_and(|p| !p.is_empty()),
        "B's stick states the parts of A村-1's cut saves"
    );
    // Altered on the way: refused whole.
    let name = ops
        .iter_mut()
        .find(|op| op.field == "name" && op.value == FieldValue::Text("张530828101201001".into()))
        .expect("a member of the moved household");
    name.value = FieldValue::Text("王伪造".into());
    let altered = changeset::encode(header, &ops);
    let error = import_changeset(&mut station, &altered).unwrap_err();
    assert_eq!(error.kind(), "bad_signature", "{error}");
    assert!(rows(&station, "household").is_empty());

    let summary = import_changeset(&mut station, &stick).unwrap();
    assert_eq!(summary.unsigned_ops, 0, "{summary:?}");
    assert_eq!(rows(&station, "household"), rows(&b, "household"));
    assert_eq!(rows(&station, "member").len(), 2);

    // A copy that took those ops without their parts (from a stick of an older version) is
    // not done with the stick that brings them: it takes the parts and relays the ops signed.
    let mut other = open(county.dir.path(), "另一乡镇");
    let (mut older, ops) = changeset::decode(&stick).unwrap();
    older.parts = None;
    import_changeset(&mut other, &changeset::encode(older, &ops)).unwrap();
    assert_eq!(rows(&other, "household"), rows(&b, "household"));
    let again = import_changeset(&mut other, &stick).unwrap();
    assert!(!again.already_had_everything, "{again:?}");
    let (relayed, _) = export_changeset(&other, None).unwrap();
    let (relayed, _) = changeset::decode(&relayed).unwrap();
    assert!(relayed.parts.is_some_and(|p| !p.is_empty()));
}

/// A copy that took an op of A村-1's cut save unsigned and different (a stick altered on the
/// way, from a version that did not sign) and later the part of that save: its files do not
/// carry a part that fails (the township would refuse the whole file as bad_signature, losing
/// the copy's own edits with it). The part is left out; those ops go unsigned, as before.
#[test]
fn a_copy_holding_a_different_op_of_a_cut_save_still_exports_files_a_township_takes() {
    use bangfu_core::store::put_change;
    use bangfu_core::sync::changeset;
    let (county, mut a1, mut b, b_client, _) = a_save_touching_two_villages(Backend::Sqlite);
    sync(&b_client, &mut b);
    let (stick, _) = export_changeset(&b, None).unwrap();
    // First an older stick of A村-1's own, altered on the way: an op of the cut save that B's
    // stick leaves out (the household that stays) differs, and nothing vouches for it.
    let mut other = open(county.dir.path(), "另一乡镇");
    let (header, _) = changeset::decode(&stick).unwrap();
    let left_out: Vec<(uuid::Uuid, i64)> = header
        .parts
        .iter()
        .flatten()
        .flat_map(|p| p.left_out.iter().map(|(seq, _)| (p.origin, *seq)))
        .collect();
    let (a1_file, _) = export_changeset(&a1, None).unwrap();
    let (mut older, ops) = changeset::decode(&a1_file).unwrap();
    older.signers = None;
    older.batches = None;
    older.parts = None;
    older.source_sig = None;
    let mut op = ops
        .into_iter()
        .find(|op| {
            left_out.contains(&(op.id.origin, op.id.seq)) && matches!(op.value, FieldValue::Text(_))
        })
        .expect("an op B's stick leaves out");
    let FieldValue::Text(text) = &op.value else {
        unreachable!()
    };
    op.value = FieldValue::Text(format!("{text}改"));
    import_changeset(&mut other, &changeset::encode(older, &[op])).unwrap();
    // Then B's stick: its part holds for the ops it carries and is kept.
    let taken = import_changeset(&mut other, &stick).unwrap();
    assert!(taken.applied > 0, "{taken:?}");
    // The copy's own edits.
    let vc = village("530828101203");
    let (mut own, own_household, _) = family(vc.id, "530828101203001");
    own.insert(0, put_change(&vc));
    write(&mut other, &own);

    let mut station = open(county.dir.path(), "乡镇站");
    let (intro, _) = bangfu_core::sync::exchange::export_introduction(&mut a1).unwrap();
    import_changeset(&mut station, &intro).unwrap();
    let (file, _) = export_changeset(&other, None).unwrap();
    let summary = import_changeset(&mut station, &file)
        .unwrap_or_else(|e| panic!("the township takes the copy's file: {e}"));
    assert!(summary.applied > 0, "{summary:?}");
    assert!(
        rows(&station, "household").contains(&own_household),
        "the copy's own edits are applied"
    );
}

/// A stick that brings parts of cut saves, imported twice: the second time it is already
/// imported (the copy took what it brings, or left it aside; nothing is re-read and held again).
#[test]
fn a_stick_with_parts_imported_again_is_already_imported() {
    let (county, _a1, mut b, b_client, _) = a_save_touching_two_villages(Backend::Sqlite);
    sync(&b_client, &mut b);
    let (stick, _) = export_changeset(&b, None).unwrap();
    for (name, village_limit) in [("乡镇站", None), ("A村-2", Some(VILLAGE_A))] {
        let mut copy = open(county.dir.path(), name);
        if let Some(v) = village_limit {
            let client = enrol(&mut copy, &county.url, &county.storage, v);
            sync(&client, &mut copy);
        }
        let first = import_changeset(&mut copy, &stick).unwrap();
        assert!(!first.already_had_everything, "{name}: {first:?}");
        let again = import_changeset(&mut copy, &stick).unwrap();
        assert!(again.already_had_everything, "{name}: {again:?}");
    }
    // The stick with a part stated for ops it does not carry: a copy that holds everything
    // it carries has it as already imported, each time (that part vouches for nothing it
    // could take); a copy that lacks them refuses it (a part whose ops did not come).
    let (mut header, ops) = bangfu_core::sync::changeset::decode(&stick).unwrap();
    let mut stray = header.parts.as_ref().unwrap()[0].clone();
    stray.first = 1_000;
    stray.last = 1_001;
    stray.left_out = vec![(1_000, stray.left_out[0].1.clone())];
    header.parts.as_mut().unwrap().push(stray);
    let with_stray = bangfu_core::sync::changeset::encode(header, &ops);
    let mut station = open(county.dir.path(), "乡镇站-2");
    import_changeset(&mut station, &stick).unwrap();
    for _ in 0..2 {
        let again = import_changeset(&mut station, &with_stray).unwrap();
        assert!(again.already_had_everything, "{again:?}");
    }
    let mut fresh = open(county.dir.path(), "乡镇站-3");
    let error = import_changeset(&mut fresh, &with_stray).unwrap_err();
    assert_eq!(error.kind(), "partial_batch", "{error}");
    assert!(rows(&fresh, "household").is_empty());
}

crate::on_both_backends!(
    a_batch_stored_without_its_signature_op_by_op_takes_it_when_it_comes_again
);
/// A batch first pushed without its signature op by op (by an earlier version) takes it when
/// the same batch comes again with it: pages that cut it then carry its part.
fn a_batch_stored_without_its_signature_op_by_op_takes_it_when_it_comes_again(backend: Backend) {
    let county = county_with_village_a(backend);
    let (dir, storage, url, va) = (&county.dir, &county.storage, &county.url, &county.village);
    let mut a1 = open(dir.path(), "A村-1");
    let _ = enrol(&mut a1, url, storage, VILLAGE_A);
    let (changes, _, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    let token = a1.hub_link().unwrap().unwrap().token;
    let origin = a1.device().id;
    let (ops, signatures) =
        bangfu_core::sync::relay::push_page(&a1, origin, 0, 1000, 4000).unwrap();
    let with_parts = signatures.batches.clone();
    assert!(with_parts.iter().all(|b| b.parts_sig.is_some()));
    let key = signatures.signers[&origin].clone();
    let mut older = signatures;
    for b in &mut older.batches {
        b.parts_sig = None;
    }
    let body = bangfu_hub::wire::encode_ops(origin, "A村-1", &ops, older);
    let reply = agent()
        .post(format!("{url}/v1/push"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/octet-stream")
        .query("origin", origin.to_string())
        .send(&body[..])
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let cut = &ops[..1];
    assert!(
        storage.signatures_for(cut).unwrap().parts.is_empty(),
        "no signature op by op yet"
    );
    storage
        .keep_signatures(origin, &key, &with_parts, None)
        .unwrap();
    assert_eq!(
        storage.signatures_for(cut).unwrap().parts.len(),
        1,
        "the page cutting the batch carries its part"
    );
}
