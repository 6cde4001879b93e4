//! The county's device list (issue 15): the hub signs a certificate of every device key it
//! holds with its county key; an enrolled laptop believes that key and carries its own
//! certificate in its files; a township station that never syncs with the hub confirms the
//! county's 安全码 once, and from then on a laptop's stick merges when the county certified
//! the key that signed it, limited to the laptop's village as at the hub. A certificate
//! altered, signed by another key, or of a device the county's list has since left out
//! confirms nothing.

use bangfu_core::UserFacing;
use bangfu_core::store::Store;
use bangfu_core::sync::changeset;
use bangfu_core::sync::county::{CountySigner, DeviceCert, county_fingerprint};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::trust::{Replace, confirm_county_key, county_candidates, list_devices};
use sha2::{Digest, Sha256};

use super::signatures::{County, county_with_village_a, put};
use crate::common::*;

/// The hub's county key (public, hex) and the signer holding it.
fn county_key(county: &County) -> (String, CountySigner) {
    let (signer, _) = county.storage.county_rows(COUNTY).unwrap();
    (signer.public_hex(), signer)
}

/// The certificates a file carries.
fn certs_of(file: &[u8]) -> Vec<DeviceCert> {
    changeset::read_header(file)
        .unwrap()
        .0
        .county_certs
        .unwrap_or_default()
}

/// `file` with its header's certificates replaced and its checksum made again, as anyone
/// who can write a stick can (the certificates are not under the source's signature: each is
/// the county's own).
fn with_certs(file: &[u8], certs: Vec<DeviceCert>) -> Vec<u8> {
    let magic = 8;
    let fixed = magic + 14;
    let header_len = u32::from_le_bytes(file[10..14].try_into().unwrap()) as usize;
    let mut header: serde_json::Value =
        serde_json::from_slice(&file[fixed..fixed + header_len]).unwrap();
    header["county_certs"] = serde_json::to_value(certs).unwrap();
    let text = serde_json::to_vec(&header).unwrap();
    let mut out = file[..fixed].to_vec();
    out[10..14].copy_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&file[fixed + header_len..file.len() - 32]);
    let trailer = Sha256::digest(&out);
    out.extend_from_slice(&trailer);
    out
}

fn confirmed_village(station: &Store, device: uuid::Uuid) -> Option<(bool, Option<String>)> {
    list_devices(station)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == device)
        .map(|d| (d.key.confirmed, d.key.village))
}

/// Laptop A村-1 enrolled for village A, a family filed and synced (it believes the county key
/// and holds its own certificate), with the family's household.
fn a1_filed(county: &County) -> (Store, bangfu_hub::client::HubClient, uuid::Uuid) {
    let mut a1 = open(county.dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, &county.url, &county.storage, VILLAGE_A);
    let (changes, household, _) = family(county.village.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);
    (a1, a1_client, household)
}

crate::on_both_backends!(a_station_that_never_syncs_confirms_the_county_once);
/// A township that never syncs with the hub holds a stick of a laptop it does not know; the
/// clerk compares the county's 安全码 (the one `bangfu-hub county-key` shows) once, and what
/// waited merges. A second laptop's stick then merges at once, with no one confirming it, and
/// each laptop is limited to the village the county enrolled it for.
fn a_station_that_never_syncs_confirms_the_county_once(backend: Backend) {
    let county = county_with_village_a(backend);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (county_key, _) = county_key(&county);
    let (mut a1, _, household) = a1_filed(&county);
    // The laptop believes the hub's county key and carries its own certificate.
    assert_eq!(
        a1.county_key().unwrap().as_deref(),
        Some(county_key.as_str())
    );
    write(&mut a1, &[remark(household, "U盘带来")]);
    let (file, _) = export_changeset(&a1, None).unwrap();
    let carried = certs_of(&file);
    let own = carried
        .iter()
        .find(|c| c.device == a1.device().id)
        .expect("the laptop's own certificate");
    assert!(own.verifies() && own.county_key == county_key && own.scope == VILLAGE_A);

    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    let summary = import_changeset(&mut station, &file).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(remark_of(&station, household), None);
    // The 设备 box offers the county's 安全码 the stick carries.
    let fingerprint = county_fingerprint(&county_key).unwrap();
    let candidates = county_candidates(&station).unwrap();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    assert_eq!(candidates[0].fingerprint, fingerprint);
    // The laptop's and the county admin's (whose village the stick relays).
    assert_eq!(
        candidates[0].devices,
        vec!["A村-1".to_owned(), "县管理员".to_owned()]
    );
    // A 安全码 no held file carries: refused, said, nothing changes.
    let error = confirm_county_key(
        &mut station,
        "12345 12345 12345 12345 12345 12345",
        Replace::No,
    )
    .unwrap_err();
    assert_eq!(error.kind(), "unknown_county_fingerprint");
    assert!(
        error.message_zh().contains("县同步中心"),
        "{}",
        error.message_zh()
    );
    assert_eq!(station.county_key().unwrap(), None);

    let outcome = confirm_county_key(&mut station, &fingerprint, Replace::No).unwrap();
    assert_eq!(outcome.vouched, 2, "{outcome:?}");
    assert_eq!(remark_of(&station, household).as_deref(), Some("U盘带来"));
    assert_eq!(
        confirmed_village(&station, a1.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );
    assert!(county_candidates(&station).unwrap().is_empty());
    let audit = station.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "county_key" && a.what.contains(&fingerprint)),
        "{audit:?}"
    );

    // A second laptop of the village, enrolled after: its stick merges at once.
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, url, storage, VILLAGE_A);
    sync(&a2_client, &mut a2);
    write(&mut a2, &[remark(household, "二号机改")]);
    sync(&a2_client, &mut a2);
    let (file, _) = export_changeset(&a2, None).unwrap();
    let summary = import_changeset(&mut station, &file).unwrap();
    assert_eq!(summary.held_ops, 0, "{summary:?}");
    assert_eq!(summary.county_vouched, 1, "{summary:?}");
    assert!(
        summary
            .message_zh()
            .contains("县同步中心的证书确认了 1 台设备")
    );
    assert_eq!(remark_of(&station, household).as_deref(), Some("二号机改"));
    assert_eq!(
        confirmed_village(&station, a2.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );

    // The station relays both laptops' work to a second station that confirmed the county
    // (through its own held stick): their certificates travel with the relay.
    let (relay, _) = export_changeset(&station, None).unwrap();
    let relayed: Vec<uuid::Uuid> = certs_of(&relay).iter().map(|c| c.device).collect();
    assert!(relayed.contains(&a1.device().id) && relayed.contains(&a2.device().id));
}

/// A stick whose certificate was altered (the village widened to the township), or signed by
/// a key of the forger's own, confirms nothing at a station that believes the county's key:
/// the laptop's ops wait for a clerk, and a second county key is never taken. A certificate of
/// a laptop the county revoked leaves the lists of the copies that sync, and one such copy
/// does not take it back from the laptop's old stick.
#[test]
fn an_altered_forged_or_revoked_certificate_confirms_nothing() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (county_key, _) = county_key(&county);
    let (mut a1, a1_client, household) = a1_filed(&county);
    // a1's stick from before a3 was enrolled: it carries nothing of a3.
    let (a1_file, _) = export_changeset(&a1, None).unwrap();
    let mut a3 = open(dir.path(), "A村-3");
    let a3_client = enrol(&mut a3, url, storage, VILLAGE_A);
    sync(&a3_client, &mut a3);
    write(&mut a3, &[remark(household, "三号机改")]);
    sync(&a3_client, &mut a3);
    // a1 learns the county's list with a3 in it.
    sync(&a1_client, &mut a1);

    // The station believes the county's key (confirmed through a1's stick).
    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    import_changeset(&mut station, &a1_file).unwrap();
    let fingerprint = county_fingerprint(&county_key).unwrap();
    confirm_county_key(&mut station, &fingerprint, Replace::No).unwrap();

    // a3's stick with its certificate's village widened to the township: not believed.
    let (a3_file, _) = export_changeset(&a3, None).unwrap();
    let genuine = certs_of(&a3_file);
    let widened: Vec<DeviceCert> = genuine
        .iter()
        .cloned()
        .map(|mut c| {
            if c.device == a3.device().id {
                c.scope = VILLAGE_A[..9].to_owned();
            }
            c
        })
        .collect();
    let summary = import_changeset(&mut station, &with_certs(&a3_file, widened)).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(summary.county_vouched, 0);
    assert_eq!(remark_of(&station, household), None);
    assert_eq!(
        confirmed_village(&station, a3.device().id).map(|c| c.0),
        Some(false)
    );

    // Signed by the forger's own "county" key: not believed, and that key cannot be confirmed.
    let forger = CountySigner::generate();
    let a3_key = genuine
        .iter()
        .find(|c| c.device == a3.device().id)
        .unwrap()
        .key
        .clone();
    let forged = forger.certify(a3.device().id, "A村-3", "530828", &a3_key, 1);
    let summary =
        import_changeset(&mut station, &with_certs(&a3_file, vec![forged.clone()])).unwrap();
    assert_eq!(summary.county_vouched, 0);
    assert_ne!(remark_of(&station, household).as_deref(), Some("三号机改"));
    let forged_fp = county_fingerprint(&forged.county_key).unwrap();
    assert!(
        county_candidates(&station)
            .unwrap()
            .iter()
            .any(|c| c.fingerprint == forged_fp),
        "the forged key is shown, to compare and decline"
    );
    let error = confirm_county_key(&mut station, &forged_fp, Replace::No).unwrap_err();
    assert_eq!(error.kind(), "county_key_confirmed_already");
    // Nor with the 设备 box's 改认: only a key the hub offered may take the believed one's
    // place there (a key only files brought, from the command line alone).
    let error = confirm_county_key(&mut station, &forged_fp, Replace::OfferedByHub).unwrap_err();
    assert_eq!(error.kind(), "county_key_confirmed_already");
    assert!(
        county_candidates(&station)
            .unwrap()
            .iter()
            .all(|c| !c.from_hub)
    );
    assert_eq!(
        station.county_key().unwrap().as_deref(),
        Some(county_key.as_str())
    );

    // The genuine stick: a3 confirmed, limited to its village, its edit merged.
    let summary = import_changeset(&mut station, &a3_file).unwrap();
    assert_eq!(summary.county_vouched, 1, "{summary:?}");
    assert_eq!(remark_of(&station, household).as_deref(), Some("三号机改"));
    assert_eq!(
        confirmed_village(&station, a3.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );

    // The county revokes a3. A copy that syncs afterwards holds no certificate of it, does
    // not carry one in its files, and does not take a3's old one from a3's stick.
    let a3_at_hub = storage
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "A村-3")
        .unwrap();
    // a3's last edit before the revocation reaches the hub, not yet a1: a1's next pull
    // carries it in a page, which must not confirm a3's key again.
    write(&mut a3, &[remark(household, "停用前的修改")]);
    sync(&a3_client, &mut a3);
    assert!(storage.revoke(a3_at_hub.id).unwrap());
    let before = a1.county_key_status().unwrap().certs;
    assert_eq!(
        confirmed_village(&a1, a3.device().id).map(|c| c.0),
        Some(true)
    );
    sync(&a1_client, &mut a1);
    let after = a1.county_key_status().unwrap().certs;
    assert_eq!(after + 1, before, "a3's certificate left a1's list");
    // The county's word is taken back: a3's key is no longer confirmed at a1 (the page that
    // brought a3's last edit did not confirm it again), said in its audit.
    assert_eq!(remark_of(&a1, household).as_deref(), Some("停用前的修改"));
    assert_eq!(
        confirmed_village(&a1, a3.device().id).map(|c| c.0),
        Some(false)
    );
    assert!(
        a1.audit_log()
            .unwrap()
            .iter()
            .any(|a| a.action == "county_withdrew_device" && a.what.contains("A村-3"))
    );
    a1.set_confirms_devices(true).unwrap();
    import_changeset(&mut a1, &a3_file).unwrap();
    assert_eq!(a1.county_key_status().unwrap().certs, after);
    let (a1_again, _) = export_changeset(&a1, None).unwrap();
    assert!(
        !certs_of(&a1_again)
            .iter()
            .any(|c| c.device == a3.device().id)
    );
}

/// A laptop enrolled again for another scope is certified for the new one (the enrolment that
/// pushes its ops now), and a hub serving two counties signs each county's list with that
/// county's own key: neither list names the other county's laptops.
#[test]
fn certificates_follow_the_latest_enrolment_and_stay_within_their_county() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (mut a1, _, _) = a1_filed(&county);
    let scope_of = |county: &str, device: uuid::Uuid| {
        storage
            .county_rows(county)
            .unwrap()
            .1
            .into_iter()
            .find(|(origin, ..)| *origin == device)
            .map(|(_, _, _, scope, _)| scope)
    };
    assert_eq!(scope_of(COUNTY, a1.device().id).as_deref(), Some(VILLAGE_A));
    // Enrolled again, for its township: the old enrolment revoked, the laptop still listed.
    let old = storage
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "A村-1")
        .unwrap();
    let a1_client = enrol(&mut a1, url, storage, &VILLAGE_A[..9]);
    assert!(storage.revoke(old.id).unwrap());
    sync(&a1_client, &mut a1);
    assert_eq!(
        scope_of(COUNTY, a1.device().id).as_deref(),
        Some(&VILLAGE_A[..9])
    );
    let (file, _) = export_changeset(&a1, None).unwrap();
    let own = certs_of(&file)
        .into_iter()
        .find(|c| c.device == a1.device().id)
        .unwrap();
    assert_eq!(own.scope, &VILLAGE_A[..9]);
    // A township station syncing now learns a1's key from the pages under the township
    // enrolment too: no village limit from the first enrolment.
    let mut station = open(dir.path(), "乡镇站");
    let station_client = enrol(&mut station, url, storage, &VILLAGE_A[..9]);
    sync(&station_client, &mut station);
    assert_eq!(
        confirmed_village(&station, a1.device().id),
        Some((true, None))
    );
    // The hub started again signs the very same certificates: no copy takes them as news.
    let (key, listed) = storage.county_rows(COUNTY).unwrap();
    let again = bangfu_hub::storage::county::CertCache::default().list(&key, &listed, 1);
    assert!(again.certs.contains(&own));

    // Another county on the same hub: its own key, its own list.
    let other_county = "530829";
    let mut b = open(dir.path(), "邻县管理员");
    let b_client = enrol(&mut b, url, storage, other_county);
    write(&mut b, &[put(&village("530829101201"))]);
    sync(&b_client, &mut b);
    let (here, _) = county_key(&county);
    let there = b.county_key().unwrap().unwrap();
    assert_ne!(here, there, "each county its own key");
    assert_eq!(
        scope_of(other_county, b.device().id).as_deref(),
        Some(other_county)
    );
    assert_eq!(scope_of(COUNTY, b.device().id), None);
    assert_eq!(scope_of(other_county, a1.device().id), None);
}

/// A laptop that syncs with the hub holds the county's certificate of every laptop of the
/// county. A forged stick claiming another laptop's id under the forger's key (a laptop this
/// copy never met) is refused there whole, even though this copy does not confirm devices:
/// the county's word on that laptop's key comes first, so the forger's key is 冒充, not a new
/// device to learn.
#[test]
fn a_forged_stick_under_a_certified_laptops_id_is_refused_where_the_county_is_believed() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (mut a1, a1_client, household) = a1_filed(&county);
    // A laptop of village B files there: its id and key reach the hub, and a1's list, but
    // none of its ops reach a1 (another village).
    let mut admin = open(dir.path(), "县管理员2");
    let admin_client = enrol(&mut admin, url, storage, COUNTY);
    let vb = village(VILLAGE_B);
    write(&mut admin, &[put(&vb)]);
    sync(&admin_client, &mut admin);
    let mut a3 = open(dir.path(), "B村-1");
    let a3_client = enrol(&mut a3, url, storage, VILLAGE_B);
    sync(&a3_client, &mut a3);
    let (b_family, _, _) = family(vb.id, "530828101202001");
    write(&mut a3, &b_family);
    sync(&a3_client, &mut a3);
    sync(&a1_client, &mut a1);
    assert!(!a1.confirms_devices().unwrap());
    let a3_id = a3.device().id;
    assert!(
        list_devices(&a1)
            .unwrap()
            .iter()
            .all(|d| d.key.device != a3_id),
        "a1 never met a3's ops (another village)"
    );

    // The forger: modified software that writes a 备注 on a1's household under a3's id,
    // signed with a key of its own.
    let mut forger = open(dir.path(), "冒充");
    import_changeset(&mut forger, &export_changeset(&a1, None).unwrap().0).unwrap();
    write(&mut forger, &[remark(household, "冒充的备注")]);
    let forged = forged_under(&forger, a3_id);
    let error = import_changeset(&mut a1, &forged).unwrap_err();
    assert_eq!(error.kind(), "device_key_mismatch", "{error}");
    assert_eq!(remark_of(&a1, household), None);
    // a3 is known now, under the county's key (its own), confirmed.
    let listed = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == a3_id)
        .map(|d| (d.key.confirmed, d.key.public_key));
    let real = list_devices(&a3)
        .unwrap()
        .into_iter()
        .find(|d| d.key.own)
        .map(|d| d.key.public_key);
    assert_eq!(listed, real.map(|k| (true, k)));
}

/// The forger's own ops of `forger`'s last write, put under `victim`'s id and signed with a
/// key the forger made up.
fn forged_under(forger: &Store, victim: uuid::Uuid) -> Vec<u8> {
    forged_under_at(forger, victim, 0)
}

/// As [`forged_under`], the ops' seqs moved up by `shift` (past the victim's own).
fn forged_under_at(forger: &Store, victim: uuid::Uuid, shift: i64) -> Vec<u8> {
    use bangfu_core::sync::signing::{BatchSig, hex, new_signing_key, sign_batch};
    let (mut header, ops) = changeset::decode(&export_changeset(forger, None).unwrap().0).unwrap();
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
    header.device_names = [(victim, "B村-1".to_owned())].into();
    header.county_certs = None;
    header.carried = None;
    header.held = None;
    header.source_sig = None;
    changeset::encode(header, &ops)
}

/// A forged stick under a laptop's id reached a copy that does not confirm devices before the
/// county's word on that laptop did: the forger's key was learnt (unconfirmed). The county's
/// certificate then replaces it, as a hub page would, and the forger's next stick is refused.
#[test]
fn the_countys_certificate_replaces_a_key_a_forged_stick_taught_first() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (mut a1, a1_client, household) = a1_filed(&county);
    let mut admin = open(dir.path(), "县管理员2");
    let admin_client = enrol(&mut admin, url, storage, COUNTY);
    let vb = village(VILLAGE_B);
    write(&mut admin, &[put(&vb)]);
    sync(&admin_client, &mut admin);
    let mut b1 = open(dir.path(), "B村-1");
    let b1_id = b1.device().id;

    // Before B村-1 ever syncs, a forged stick under its id reaches a1 and is taken.
    let mut forger = open(dir.path(), "冒充");
    import_changeset(&mut forger, &export_changeset(&a1, None).unwrap().0).unwrap();
    write(&mut forger, &[remark(household, "冒充的备注")]);
    import_changeset(&mut a1, &forged_under(&forger, b1_id)).unwrap();
    assert_eq!(remark_of(&a1, household).as_deref(), Some("冒充的备注"));
    let learnt = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == b1_id)
        .map(|d| d.key.confirmed);
    assert_eq!(learnt, Some(false));

    // B村-1 enrols and syncs; a1's next sync brings the county's certificate of its key.
    let b1_client = enrol(&mut b1, url, storage, VILLAGE_B);
    sync(&b1_client, &mut b1);
    let (b_family, _, _) = family(vb.id, "530828101202001");
    write(&mut b1, &b_family);
    sync(&b1_client, &mut b1);
    sync(&a1_client, &mut a1);
    let real = list_devices(&b1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.own)
        .map(|d| d.key.public_key);
    let now = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == b1_id)
        .map(|d| (d.key.confirmed, d.key.public_key));
    assert_eq!(now, real.map(|k| (true, k)), "the county's key, confirmed");
    // The forger's next stick is refused whole.
    write(&mut forger, &[remark(household, "冒充的第二次")]);
    let error = import_changeset(&mut a1, &forged_under(&forger, b1_id)).unwrap_err();
    assert_eq!(error.kind(), "device_key_mismatch", "{error}");
    assert_ne!(remark_of(&a1, household).as_deref(), Some("冒充的第二次"));
}

/// A station that takes every stick (it does not hold unconfirmed devices' changes) is offered
/// the county's 安全码 a merged stick brought, and believes it once confirmed; a laptop
/// syncing again downloads the county list only when it changed (304 with the tag it kept).
#[test]
fn a_station_taking_every_stick_is_offered_the_county_and_the_list_is_not_sent_twice() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (county_key, _) = county_key(&county);
    let (mut a1, a1_client, household) = a1_filed(&county);
    let (file, _) = export_changeset(&a1, None).unwrap();

    let mut station = open(dir.path(), "乡镇站");
    assert!(!station.confirms_devices().unwrap());
    let summary = import_changeset(&mut station, &file).unwrap();
    assert_eq!(summary.held_ops, 0, "{summary:?}");
    assert!(rows(&station, "household").contains(&household));
    let fingerprint = county_fingerprint(&county_key).unwrap();
    let candidates = county_candidates(&station).unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|c| c.fingerprint.clone())
            .collect::<Vec<_>>(),
        vec![fingerprint.clone()]
    );
    confirm_county_key(&mut station, &fingerprint, Replace::No).unwrap();
    assert_eq!(
        station.county_key().unwrap().as_deref(),
        Some(county_key.as_str())
    );
    assert!(county_candidates(&station).unwrap().is_empty());

    // The county list by its tag: the same list is not sent again; a new laptop changes it.
    let token = a1.hub_link().unwrap().unwrap().token;
    let tag = a1
        .county_list_tag()
        .unwrap()
        .expect("the tag of the list a1 took");
    let ask = |tag: Option<&str>| {
        let mut request = agent()
            .get(format!("{url}/v1/county"))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(tag) = tag {
            request = request.header("If-None-Match", tag);
        }
        request.call().unwrap().status().as_u16()
    };
    assert_eq!(ask(Some(&tag)), 304);
    assert_eq!(ask(None), 200);
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, url, storage, VILLAGE_A);
    sync(&a2_client, &mut a2);
    write(&mut a2, &[remark(household, "二号机")]);
    sync(&a2_client, &mut a2);
    assert_eq!(
        ask(Some(&tag)),
        200,
        "a2's certificate makes it another list"
    );
    // a2's stick reaches a1 first, with a2's certificate: a1 forgets its tag, so its next
    // sync takes the whole list (where a certificate the county withdrew meanwhile goes).
    let (a2_file, _) = export_changeset(&a2, None).unwrap();
    import_changeset(&mut a1, &a2_file).unwrap();
    assert_eq!(a1.county_list_tag().unwrap(), None);
    sync(&a1_client, &mut a1);
    assert_ne!(a1.county_list_tag().unwrap().as_deref(), Some(tag.as_str()));
}

/// The county rebuilds its hub, which makes a new county key: a laptop that believed the old
/// one takes nothing of the new hub's list and says so; the new 安全码 is offered, refused
/// without the person saying the county changed it, and taken with that (the old key's
/// certificates gone, audited); the next sync takes the new list.
#[test]
fn a_rebuilt_hubs_new_county_key_is_taken_only_when_a_person_says_the_county_changed_it() {
    let county = county_with_village_a(Backend::Sqlite);
    let va = &county.village;
    let (old_key, _) = county_key(&county);
    let (mut a1, _, _) = a1_filed(&county);
    assert_eq!(a1.county_key().unwrap().as_deref(), Some(old_key.as_str()));

    // The new hub: its own folder, its own county key; the county admin files the village.
    let rebuilt = scratch();
    let (hub2, storage2) = start_hub_on(rebuilt.path(), Backend::Sqlite);
    let url2 = hub2.url();
    let mut admin = open(rebuilt.path(), "县管理员");
    write(&mut admin, &[put(va)]);
    let admin_client = enrol(&mut admin, &url2, &storage2, COUNTY);
    sync(&admin_client, &mut admin);
    let a1_client = enrol(&mut a1, &url2, &storage2, VILLAGE_A);
    let report = a1_client.sync_once(&mut a1).unwrap();
    assert!(report.county_key_differs, "{report:?}");
    assert_eq!(a1.county_key().unwrap().as_deref(), Some(old_key.as_str()));
    let (new_key, _) = storage2.county_rows(COUNTY).unwrap();
    let new_fp = county_fingerprint(&new_key.public_hex()).unwrap();
    assert!(
        county_candidates(&a1)
            .unwrap()
            .iter()
            .any(|c| c.fingerprint == new_fp && c.from_hub),
        "the hub's new 安全码 is offered"
    );
    let error = confirm_county_key(&mut a1, &new_fp, Replace::No).unwrap_err();
    assert_eq!(error.kind(), "county_key_confirmed_already");
    assert!(
        error.message_zh().contains("改认"),
        "{}",
        error.message_zh()
    );
    confirm_county_key(&mut a1, &new_fp, Replace::OfferedByHub).unwrap();
    assert_eq!(
        a1.county_key().unwrap(),
        Some(new_key.public_hex()),
        "the new key believed"
    );
    assert!(
        a1.audit_log()
            .unwrap()
            .iter()
            .any(|a| a.action == "county_key"
                && a.what.contains("改认")
                && a.what.contains(&new_fp))
    );
    let report = a1_client.sync_once(&mut a1).unwrap();
    assert!(!report.county_key_differs, "{report:?}");
    let (file, _) = export_changeset(&a1, None).unwrap();
    let carried = certs_of(&file);
    assert!(!carried.is_empty());
    assert!(carried.iter().all(|c| c.county_key == new_key.public_hex()));
}

/// A laptop enrolled and revoked between two of a copy's syncs leaves the county's list as it
/// was, so the hub answers "unchanged"; the copy still learns when that list was signed, and
/// the laptop's certificate from a stick afterwards is not taken.
#[test]
fn an_unchanged_list_still_keeps_a_laptop_revoked_meanwhile_out() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    // Village B on the hub first (none of its laptops' ops reach a1 through the hub).
    let mut admin = open(dir.path(), "县管理员2");
    let admin_client = enrol(&mut admin, url, storage, COUNTY);
    let vb = village(VILLAGE_B);
    write(&mut admin, &[put(&vb)]);
    sync(&admin_client, &mut admin);
    let (mut a1, a1_client, _) = a1_filed(&county);
    let tag = a1.county_list_tag().unwrap();
    let certs = a1.county_key_status().unwrap().certs;

    // A laptop of village B enrolled, then lost and revoked before a1 syncs again.
    let mut lost = open(dir.path(), "B村-丢失");
    let lost_client = enrol(&mut lost, url, storage, VILLAGE_B);
    sync(&lost_client, &mut lost);
    let (b_family, _, _) = family(vb.id, "530828101202001");
    write(&mut lost, &b_family);
    sync(&lost_client, &mut lost);
    let (stick, _) = export_changeset(&lost, None).unwrap();
    assert!(
        certs_of(&stick)
            .iter()
            .any(|c| c.device == lost.device().id)
    );
    let at_hub = storage
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "B村-丢失")
        .unwrap();
    assert!(storage.revoke(at_hub.id).unwrap());

    sync(&a1_client, &mut a1);
    assert_eq!(
        a1.county_list_tag().unwrap(),
        tag,
        "the list is as it was: 304"
    );
    import_changeset(&mut a1, &stick).unwrap();
    assert_eq!(
        a1.county_key_status().unwrap().certs,
        certs,
        "its certificate not taken"
    );
    let lost_here = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == lost.device().id)
        .map(|d| d.key.confirmed);
    assert_eq!(
        lost_here,
        Some(false),
        "learnt from the stick, not confirmed"
    );
}

crate::on_both_backends!(a_renewed_county_key_signs_the_list_and_is_taken_only_by_a_person);
/// The county's administrator renews the county key (`bangfu-hub county-key --renew`, when the
/// old one may have leaked): the list is signed with the new key from then on; a laptop that
/// believed the old one does not take it by itself (its sync says the key differs, and the
/// new 安全码 is offered), and takes it when a person says the county changed it. Its files
/// then carry certificates of the new key only.
fn a_renewed_county_key_signs_the_list_and_is_taken_only_by_a_person(backend: Backend) {
    let county = county_with_village_a(backend);
    let storage = &county.storage;
    let (old_key, _) = county_key(&county);
    let (mut a1, a1_client, _) = a1_filed(&county);
    assert_eq!(a1.county_key().unwrap().as_deref(), Some(old_key.as_str()));

    let renewed = storage.renew_county_key(COUNTY).unwrap();
    let (new_key, _) = county_key(&county);
    assert_ne!(new_key, old_key, "a new key");
    assert_eq!(new_key, renewed.public_hex(), "the list is signed with it");

    let report = a1_client.sync_once(&mut a1).unwrap();
    assert!(report.county_key_differs, "{report:?}");
    assert_eq!(a1.county_key().unwrap().as_deref(), Some(old_key.as_str()));
    let new_fp = county_fingerprint(&new_key).unwrap();
    assert!(
        county_candidates(&a1)
            .unwrap()
            .iter()
            .any(|c| c.fingerprint == new_fp && c.from_hub),
        "the new 安全码 is offered"
    );
    let (file, _) = export_changeset(&a1, None).unwrap();
    assert!(
        certs_of(&file).iter().all(|c| c.county_key == old_key),
        "nothing of the new key is carried before a person takes it"
    );
    let outcome = confirm_county_key(&mut a1, &new_fp, Replace::OfferedByHub).unwrap();
    assert!(outcome.replaced);
    assert!(
        outcome.lines_zh()[0].contains("已改认") && outcome.lines_zh()[0].contains(&new_fp),
        "{:?}",
        outcome.lines_zh()
    );
    assert_eq!(a1.county_key().unwrap().as_deref(), Some(new_key.as_str()));
    let report = a1_client.sync_once(&mut a1).unwrap();
    assert!(!report.county_key_differs, "{report:?}");
    let (file, _) = export_changeset(&a1, None).unwrap();
    let carried = certs_of(&file);
    assert!(!carried.is_empty());
    assert!(carried.iter().all(|c| c.county_key == new_key));
}

/// A station believes the county's key and has taken a laptop on that key's word, a laptop
/// on a person's word, and — the old key having leaked — a forger's laptop on a certificate
/// made with it. The county renews its key and the clerk takes the new one (改认): what the
/// old key alone confirmed waits again (the forger's laptop, whose next stick is held), what
/// the new key's certificates vouch for is confirmed again, a person's confirmation stays.
#[test]
fn taking_a_renewed_county_key_withdraws_what_the_old_key_alone_confirmed() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage) = (&county.dir, &county.storage);
    let (old_key, old_signer) = county_key(&county);
    let (a1, _, household) = a1_filed(&county);
    let (a1_file, _) = export_changeset(&a1, None).unwrap();

    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    import_changeset(&mut station, &a1_file).unwrap();
    let old_fp = county_fingerprint(&old_key).unwrap();
    confirm_county_key(&mut station, &old_fp, Replace::No).unwrap();
    assert_eq!(
        confirmed_village(&station, a1.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );
    // A laptop the county never enrolled, confirmed by the clerk comparing its 安全码.
    let mut guest = open(dir.path(), "外来机");
    import_changeset(&mut guest, &a1_file).unwrap();
    write(&mut guest, &[remark(household, "外来机改")]);
    let (guest_file, _) = export_changeset(&guest, None).unwrap();
    assert!(
        import_changeset(&mut station, &guest_file)
            .unwrap()
            .held_ops
            > 0
    );
    let guest_fp = bangfu_core::sync::trust::own_fingerprint(&guest)
        .unwrap()
        .unwrap();
    bangfu_core::sync::trust::confirm_device(&mut station, &guest_fp, None).unwrap();
    assert_eq!(remark_of(&station, household).as_deref(), Some("外来机改"));
    // A forger holding the leaked county key certifies a laptop of its own for village A:
    // the station, believing that key, takes it.
    let mut rogue = open(dir.path(), "伪造机");
    import_changeset(&mut rogue, &a1_file).unwrap();
    write(&mut rogue, &[remark(household, "伪造的修改")]);
    let forged_stick = |rogue: &Store| {
        let (file, _) = export_changeset(rogue, None).unwrap();
        let signers = changeset::read_header(&file).unwrap().0.signers.unwrap();
        let key = signers[&rogue.device().id].clone();
        let forged = old_signer.certify(rogue.device().id, "伪造机", VILLAGE_A, &key, 1);
        with_certs(&file, vec![forged])
    };
    let summary = import_changeset(&mut station, &forged_stick(&rogue)).unwrap();
    assert_eq!(summary.county_vouched, 1, "{summary:?}");
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("伪造的修改")
    );
    // Shown as the county's word, the guest as a person's.
    let word_of = |station: &Store, device| {
        list_devices(station)
            .unwrap()
            .into_iter()
            .find(|d| d.key.device == device)
            .map(|d| d.key.county_vouched)
    };
    assert_eq!(word_of(&station, rogue.device().id), Some(true));
    assert_eq!(word_of(&station, a1.device().id), Some(true));
    assert_eq!(word_of(&station, guest.device().id), Some(false));

    // The county renews its key. A laptop enrolled since brings the new key to the station
    // (its stick waits: its certificate is not of the key the station believes); the clerk
    // takes the new key.
    storage.renew_county_key(COUNTY).unwrap();
    let (new_key, _) = county_key(&county);
    let new_fp = county_fingerprint(&new_key).unwrap();
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, &county.url, storage, VILLAGE_A);
    sync(&a2_client, &mut a2);
    write(&mut a2, &[remark(household, "二号机改")]);
    sync(&a2_client, &mut a2);
    let (a2_file, _) = export_changeset(&a2, None).unwrap();
    let a2_certs = certs_of(&a2_file);
    assert!(a2_certs.iter().any(|c| c.device == a2.device().id));
    assert!(a2_certs.iter().any(|c| c.device == a1.device().id));
    assert!(a2_certs.iter().all(|c| c.county_key == new_key));
    assert!(import_changeset(&mut station, &a2_file).unwrap().held_ops > 0);
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("伪造的修改")
    );

    let outcome = confirm_county_key(&mut station, &new_fp, Replace::Any).unwrap();
    assert!(outcome.replaced, "{outcome:?}");
    // The old key's word went from the forger's laptop, A村-1 and the county's own admin
    // device; a2's stick carries the new key's certificates of the last two: one waits.
    assert_eq!(outcome.withdrawn, 1, "{outcome:?}");
    assert!(
        outcome
            .lines_zh()
            .iter()
            .any(|l| l.contains("旧安全码确认的 1 台设备改为待确认")),
        "{:?}",
        outcome.lines_zh()
    );
    // Named, with what of it merged before: the one remark it wrote.
    assert_eq!(outcome.waiting.len(), 1, "{outcome:?}");
    assert_eq!(outcome.waiting[0].name, "伪造机");
    assert_eq!(outcome.waiting[0].merged_ops, 1, "{outcome:?}");
    assert!(
        outcome
            .lines_zh()
            .iter()
            .any(|l| l.contains("设备“伪造机”") && l.contains("已合并的 1 项修改仍在数据中")),
        "{:?}",
        outcome.lines_zh()
    );
    let confirmed = |station: &Store, device| confirmed_village(station, device).map(|(c, _)| c);
    assert_eq!(
        confirmed(&station, rogue.device().id),
        Some(false),
        "the leaked key's word is gone"
    );
    assert_eq!(
        confirmed(&station, guest.device().id),
        Some(true),
        "a person's stays"
    );
    // The new key's certificates (a2's stick carries A村-1's too) confirm both village
    // laptops again, and a2's edit merges.
    assert_eq!(
        confirmed_village(&station, a2.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );
    assert_eq!(
        confirmed_village(&station, a1.device().id),
        Some((true, Some(VILLAGE_A.to_owned())))
    );
    assert_eq!(remark_of(&station, household).as_deref(), Some("二号机改"));
    let audit = station.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "county_key" && a.what.contains("3 台设备改为待确认")),
        "{audit:?}"
    );
    for name in ["伪造机", "A村-1"] {
        assert!(
            audit
                .iter()
                .any(|a| a.action == "county_withdrew_device" && a.what.contains(name)),
            "{name}: {audit:?}"
        );
    }
    assert!(
        !audit
            .iter()
            .any(|a| a.action == "county_withdrew_device" && a.what.contains("外来机")),
        "{audit:?}"
    );

    // The forger's next stick, with the old key's certificate: held, nothing of it merged.
    write(&mut rogue, &[remark(household, "伪造的第二次修改")]);
    let summary = import_changeset(&mut station, &forged_stick(&rogue)).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(summary.county_vouched, 0, "{summary:?}");
    assert_eq!(remark_of(&station, household).as_deref(), Some("二号机改"));
    assert_eq!(confirmed(&station, rogue.device().id), Some(false));
}

/// A township station enrolled after the county revoked a lost laptop never held that
/// laptop's certificate: the pages that bring the laptop's old edits (made before it was
/// lost) apply, but do not confirm its key — the county's latest list leaves it out — so a
/// stick written on the lost laptop since waits for a person at the station.
#[test]
fn pages_do_not_confirm_a_laptop_the_county_revoked_before_the_copy_held_its_certificate() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (a1, _, household) = a1_filed(&county);
    let mut lost = open(dir.path(), "A村-3");
    let lost_client = enrol(&mut lost, url, storage, VILLAGE_A);
    sync(&lost_client, &mut lost);
    write(&mut lost, &[remark(household, "丢失前的修改")]);
    sync(&lost_client, &mut lost);
    let at_hub = storage
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "A村-3")
        .unwrap();
    assert!(storage.revoke(at_hub.id).unwrap());

    let mut station = open(dir.path(), "乡镇站");
    station.set_confirms_devices(true).unwrap();
    // Before its first sync the station took a forged stick under the lost laptop's id: the
    // forger's key is known there, unconfirmed.
    let mut forger = open(dir.path(), "冒充");
    import_changeset(&mut forger, &export_changeset(&a1, None).unwrap().0).unwrap();
    write(&mut forger, &[remark(household, "冒充的备注")]);
    import_changeset(
        &mut station,
        &forged_under_at(&forger, lost.device().id, 1000),
    )
    .unwrap();
    let station_client = enrol(&mut station, url, storage, &VILLAGE_A[..9]);
    sync(&station_client, &mut station);
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("丢失前的修改"),
        "the lost laptop's edits from before apply"
    );
    let known = list_devices(&station)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == lost.device().id)
        .map(|d| (d.key.confirmed, d.key.fingerprint));
    let real_fp = bangfu_core::sync::trust::own_fingerprint(&lost)
        .unwrap()
        .unwrap();
    assert_eq!(
        known,
        Some((false, real_fp)),
        "the key that signed the page's ops replaced the forger's, and is not confirmed"
    );
    // So what the station relays of the lost laptop's old edits is signed by the key that
    // made them: another copy takes the station's file.
    let (relay, _) = export_changeset(&station, None).unwrap();
    let mut other = open(dir.path(), "另一台");
    import_changeset(&mut other, &relay).unwrap();
    assert_eq!(
        remark_of(&other, household).as_deref(),
        Some("丢失前的修改")
    );
    // Whoever holds the lost laptop writes a stick: it waits for a person.
    write(&mut lost, &[remark(household, "丢失后的修改")]);
    let (stick, _) = export_changeset(&lost, None).unwrap();
    let summary = import_changeset(&mut station, &stick).unwrap();
    assert!(summary.held_ops > 0, "{summary:?}");
    assert_eq!(
        remark_of(&station, household).as_deref(),
        Some("丢失前的修改")
    );
}

/// A clerk confirmed a forged stick's key for a laptop that had not synced yet (the 安全码
/// compared wrongly); the forged edit holds the laptop's own first op ids. When the real
/// laptop's edits come from the hub under the key the county enrolled, this copy's sync stops
/// at that page, says which device and both 安全码, and changes nothing; once the clerk takes
/// the confirmation back (取消确认) the next sync goes on: the county's key is confirmed for
/// the laptop, what only the forger's key signed is taken out of the data (its remark gone
/// from the field's history too), and the laptop's real edits under the same ids merge.
#[test]
fn a_key_confirmed_by_mistake_stops_the_sync_until_the_person_takes_it_back() {
    let county = county_with_village_a(Backend::Sqlite);
    let (dir, storage, url) = (&county.dir, &county.storage, &county.url);
    let (mut a1, a1_client, household) = a1_filed(&county);
    a1.set_confirms_devices(true).unwrap();
    let mut a2 = open(dir.path(), "A村-2");
    let a2_id = a2.device().id;

    // Before A村-2 ever syncs, a forged stick under its id reaches a1, and the clerk confirms
    // the forger's key.
    let mut forger = open(dir.path(), "冒充");
    import_changeset(&mut forger, &export_changeset(&a1, None).unwrap().0).unwrap();
    write(&mut forger, &[remark(household, "冒充的备注")]);
    // On the laptop's own seqs: the same op ids as its real first edits.
    import_changeset(&mut a1, &forged_under_at(&forger, a2_id, 0)).unwrap();
    let forged_fp = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == a2_id)
        .unwrap()
        .key
        .fingerprint;
    bangfu_core::sync::trust::confirm_device(&mut a1, &forged_fp, None).unwrap();
    assert_eq!(remark_of(&a1, household).as_deref(), Some("冒充的备注"));

    // The real A村-2 enrols and writes; a1's sync stops at the page that brings it.
    let a2_client = enrol(&mut a2, url, storage, VILLAGE_A);
    sync(&a2_client, &mut a2);
    write(&mut a2, &[remark(household, "二号机的备注")]);
    sync(&a2_client, &mut a2);
    let real_fp = bangfu_core::sync::trust::own_fingerprint(&a2)
        .unwrap()
        .unwrap();
    let error = a1_client.sync_once(&mut a1).unwrap_err();
    assert_eq!(error.kind(), "device_key_differs", "{error}");
    let said = error.message_zh();
    assert!(
        said.contains(&forged_fp) && said.contains(&real_fp) && said.contains("取消确认"),
        "{said}"
    );
    assert_eq!(remark_of(&a1, household).as_deref(), Some("冒充的备注"));
    // Again: the same stop, nothing lost or half taken.
    let again = a1_client.sync_once(&mut a1).unwrap_err();
    assert_eq!(again.kind(), "device_key_differs");

    // Taking a confirmation back: not of this copy's own key, not of one not confirmed.
    let own_fp = bangfu_core::sync::trust::own_fingerprint(&a1)
        .unwrap()
        .unwrap();
    let refused = bangfu_core::sync::trust::unconfirm_device(&mut a1, &own_fp).unwrap_err();
    assert_eq!(refused.kind(), "own_device");
    let taken_back = bangfu_core::sync::trust::unconfirm_device(&mut a1, &forged_fp).unwrap();
    assert!(!taken_back.confirmed);
    let refused = bangfu_core::sync::trust::unconfirm_device(&mut a1, &forged_fp).unwrap_err();
    assert_eq!(refused.kind(), "device_not_confirmed");
    assert!(
        a1.audit_log()
            .unwrap()
            .iter()
            .any(|a| a.action == "unconfirm_device" && a.what.contains(&forged_fp))
    );

    // The next sync goes on: the county's key is confirmed for A村-2, the forger's remark
    // leaves the data, and A村-2's edit under the same ids arrives.
    let report = a1_client.sync_once(&mut a1).unwrap();
    assert_eq!(report.withdrawn, 1, "{report:?}");
    // The next sync pulls the scope again from the start (pages taken before may have brought
    // ops a mistaken confirmation took out), applying nothing twice; the one after, nothing.
    let again = a1_client.sync_once(&mut a1).unwrap();
    assert!(again.pulled > 0 && again.applied == 0, "{again:?}");
    let then = a1_client.sync_once(&mut a1).unwrap();
    assert_eq!(then.pulled, 0, "{then:?}");
    let history: Vec<String> = a1
        .field_history(bangfu_core::model::Table::Household, household, "remark")
        .unwrap()
        .into_iter()
        .filter_map(|c| c.value)
        .collect();
    assert!(
        history.iter().any(|v| v == "二号机的备注") && !history.iter().any(|v| v == "冒充的备注"),
        "{history:?}"
    );
    assert!(
        a1.audit_log()
            .unwrap()
            .iter()
            .any(|a| a.action == "withdraw_ops" && a.what.contains(&forged_fp)),
    );
    let now = list_devices(&a1)
        .unwrap()
        .into_iter()
        .find(|d| d.key.device == a2_id)
        .map(|d| (d.key.confirmed, d.key.fingerprint, d.key.county_vouched));
    assert_eq!(now, Some((true, real_fp, true)));
    assert_eq!(remark_of(&a1, household).as_deref(), Some("二号机的备注"));
}
