//! The archive's files through the hub (issue 17): a scan attached on one laptop reaches the
//! village's other laptop after both sync, sent once (the hub is asked which files it lacks);
//! a laptop of another village never gets it; the hub keeps only a file whose bytes match its
//! name and that an attachment of the pusher's scope names.

use bangfu_core::archive::{self, NewAttachment, Target, blob_bytes, household_attachments};
use bangfu_core::model::{Visit, codes};
use bangfu_core::store::{Store, put_change};
use bangfu_hub::Scope;
use bangfu_hub::storage::BlobPut;
use uuid::Uuid;

use crate::common::*;

/// A scanned 签字表 as a PDF of `len` bytes.
fn scan(len: usize, seed: u32) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n% signed form\n".to_vec();
    let mut x = seed;
    while bytes.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((x >> 16) as u8);
    }
    bytes
}

/// A visit of `household`; its id.
fn visit(store: &mut Store, household: Uuid) -> Uuid {
    let v = Visit {
        id: Uuid::now_v7(),
        household_id: Some(household),
        visit_date: chrono::NaiveDate::from_ymd_opt(2025, 6, 1),
        ..Default::default()
    };
    write(store, &[put_change(&v)]);
    v.id
}

fn attach(store: &mut Store, household: Uuid, visit: Uuid, bytes: &[u8]) -> String {
    archive::attach(
        store,
        &NewAttachment {
            household_id: household,
            target: Target::Visit,
            target_id: visit,
            kind: codes::ATTACHMENT_KIND.entries[0].0.into(),
            caption: "入户走访".into(),
            file_name: "签字表.pdf".into(),
        },
        bytes,
    )
    .unwrap()
    .sha256
}

crate::on_both_backends!(a_scan_reaches_the_villages_other_laptop_once_and_no_other_village);
fn a_scan_reaches_the_villages_other_laptop_once_and_no_other_village(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, &url, &storage, VILLAGE_A);
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, &url, &storage, VILLAGE_A);
    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, &url, &storage, VILLAGE_B);
    for (client, store) in [
        (&a1_client, &mut a1),
        (&a2_client, &mut a2),
        (&b_client, &mut b),
    ] {
        sync(client, store);
    }

    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    let first_visit = visit(&mut a1, household);
    let bytes = scan(700_000, 7);
    let sha256 = attach(&mut a1, household, first_visit, &bytes);
    let pushed = a1_client.sync_once(&mut a1).unwrap();
    assert_eq!(pushed.files_pushed, 1);
    // Sent once: the next sync finds the hub holds it and sends nothing.
    assert_eq!(a1_client.sync_once(&mut a1).unwrap().files_pushed, 0);

    let pulled = a2_client.sync_once(&mut a2).unwrap();
    assert_eq!(pulled.files_pulled, 1);
    assert_eq!(blob_bytes(&a2, &sha256).unwrap().1, bytes);
    let listed = household_attachments(&a2, household).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].held);
    // The same scan attached on the second laptop to another visit is not sent again.
    let second_visit = visit(&mut a2, household);
    assert_eq!(attach(&mut a2, household, second_visit, &bytes), sha256);
    assert_eq!(a2_client.sync_once(&mut a2).unwrap().files_pushed, 0);
    assert_eq!(a2_client.sync_once(&mut a2).unwrap().files_pulled, 0);

    // Another village neither holds the attachment nor can fetch its file.
    let at_b = b_client.sync_once(&mut b).unwrap();
    assert_eq!(at_b.files_pulled, 0);
    assert!(rows(&b, "attachment").is_empty());
    let village_b = Scope::parse(VILLAGE_B).unwrap();
    assert_eq!(storage.get_blob(&village_b, &sha256).unwrap(), None);
    let village_a = Scope::parse(VILLAGE_A).unwrap();
    assert_eq!(
        storage.get_blob(&village_a, &sha256).unwrap(),
        Some(bytes.clone())
    );
    // The county's copy receives it too.
    assert_eq!(
        county_client.sync_once(&mut county).unwrap().files_pulled,
        1
    );

    // The hub keeps only files whose bytes match their name and that its scope names.
    let token = a1.hub_link().unwrap().unwrap().token;
    let device = storage.authenticate(&token).unwrap().unwrap();
    let other = scan(1_000, 9);
    let other_sha = archive::sha256_hex(&other);
    assert_eq!(
        storage.put_blob(&device, &sha256, &other).unwrap(),
        BlobPut::Refused
    );
    assert_eq!(
        storage.put_blob(&device, &other_sha, &other).unwrap(),
        BlobPut::NotNamed
    );
    assert_eq!(
        storage.put_blob(&device, &sha256, &bytes).unwrap(),
        BlobPut::AlreadyHeld
    );
    let b_token = b.hub_link().unwrap().unwrap().token;
    let b_device = storage.authenticate(&b_token).unwrap().unwrap();
    // Another village's device learns nothing of this village's file, held or not.
    assert_eq!(
        storage.put_blob(&b_device, &sha256, &bytes).unwrap(),
        BlobPut::NotNamed
    );
    let b_file = scan(2_000, 11);
    assert_eq!(
        storage
            .put_blob(&b_device, &archive::sha256_hex(&b_file), &b_file)
            .unwrap(),
        BlobPut::NotNamed
    );
    assert_eq!(
        storage
            .blobs_missing(&device.scope, &[sha256.clone(), other_sha.clone()])
            .unwrap(),
        vec![other_sha.clone()]
    );
    // Asked by another village's device, the held file is "missing" like any other: whether
    // the hub holds a file is told only to devices whose village names it.
    assert_eq!(
        storage
            .blobs_missing(&b_device.scope, &[sha256.clone(), other_sha.clone()])
            .unwrap(),
        vec![sha256, other_sha]
    );
}
