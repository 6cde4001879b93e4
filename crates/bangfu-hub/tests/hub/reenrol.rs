//! Re-enrolment, a hub restored from an older backup, an op id arriving again with other
//! content, and a copied data file's old identity: nothing refused forever, nothing lost.

use std::net::SocketAddr;
use std::path::Path;

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{OpenOptions, Store, put_change};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::{Hlc, Op, OpId};
use bangfu_hub::Scope;

use bangfu_hub::storage::Location;
use uuid::Uuid;

use crate::common::*;

/// A backup of a stopped hub's data: a copy of its folder, or of its database.
fn backup_of(live: &Location, to: &Path) -> Location {
    match live {
        Location::Dir(data) => {
            copy_dir(data, to);
            Location::Dir(to.to_path_buf())
        }
        Location::Postgres(url) => Location::Postgres(copy_postgres_database(url)),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

crate::on_both_backends!(
    a_laptop_enrolled_again_keeps_pushing_its_own_edits_instead_of_origin_taken
);
fn a_laptop_enrolled_again_keeps_pushing_its_own_edits_instead_of_origin_taken(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut county, &[put_change(&va)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);

    let mut a = open(dir.path(), "A村");
    let client = enrol(&mut a, &url, &storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a, &changes);
    sync(&client, &mut a);

    // The laptop is enrolled again with a new code (a new token), then keeps editing.
    let client = enrol(&mut a, &url, &storage, VILLAGE_A);
    write(&mut a, &[remark(household, "重新加入后")]);
    let report = client
        .sync_once(&mut a)
        .expect("the same laptop enrolled again syncs");
    assert_eq!(report.pushed, 1);
    sync(&county_client, &mut county);
    assert_eq!(remark_of(&county, household).as_deref(), Some("重新加入后"));

    // Both enrolments stay listed and live; the new one pushes what the first one claimed.
    let devices = storage.devices().expect("devices");
    let states: Vec<bool> = devices
        .iter()
        .filter(|d| d.name == "A村")
        .map(|d| d.revoked)
        .collect();
    assert_eq!(states, vec![false, false]);
}

crate::on_both_backends!(
    a_hub_restored_from_an_older_backup_gets_back_what_it_lost_and_devices_pull_again
);
fn a_hub_restored_from_an_older_backup_gets_back_what_it_lost_and_devices_pull_again(
    backend: Backend,
) {
    let dir = scratch();
    let live = location(dir.path(), backend);
    let (hub, storage) = serve_at(&live, "127.0.0.1:0");
    let addr: SocketAddr = hub.addr;
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut county, &[put_change(&va)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, &url, &storage, VILLAGE_A);
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, &url, &storage, VILLAGE_A);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);

    // The nightly backup, taken with the hub stopped.
    drop(hub);
    drop(storage);
    let backup = backup_of(&live, &dir.path().join("backup"));
    let (hub, storage) = serve_at(&live, &addr.to_string());

    // A day of work after the backup, which the restore will lose.
    write(&mut a1, &[remark(household, "备份后一")]);
    sync(&a1_client, &mut a1);
    let (changes, _, _) = family(va.id, "530828101201002");
    write(&mut a2, &changes);
    sync(&a2_client, &mut a2);
    write(&mut a1, &[remark(household, "备份后二")]);
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);
    let before_restore = storage.counts().expect("counts").ops;

    // The hub is restored from the backup, on the same address.
    drop(hub);
    drop(storage);
    let restored = match (&live, &backup) {
        (Location::Dir(data), Location::Dir(backup)) => {
            std::fs::remove_dir_all(data).expect("remove");
            copy_dir(backup, data);
            live.clone()
        }
        _ => backup_of(&backup, &dir.path().join("unused")),
    };
    let (_hub, storage) = serve_at(&restored, &addr.to_string());
    assert!(storage.counts().expect("counts").ops < before_restore);

    write(&mut a1, &[remark(household, "恢复后")]);
    let r1 = a1_client
        .sync_once(&mut a1)
        .expect("a1 syncs with the restored hub");
    let r2 = a2_client
        .sync_once(&mut a2)
        .expect("a2 syncs with the restored hub");
    assert!(
        r2.hub_reset,
        "a2 saw that the hub lost what it had pulled: {r2:?}"
    );
    assert!(r1.pushed >= 2 && r2.pushed >= 1, "{r1:?} {r2:?}");
    sync(&a1_client, &mut a1);
    sync(&county_client, &mut county);

    assert_eq!(remark_of(&a2, household).as_deref(), Some("恢复后"));
    assert_eq!(
        rows(&a1, "household").len(),
        2,
        "a1 got a2's household again"
    );
    assert_eq!(state_hash(&a1).ok(), state_hash(&a2).ok());
    assert_eq!(
        storage.counts().expect("counts").ops,
        a1.op_count().expect("ops"),
        "the hub holds every op once: nothing lost, no duplicates"
    );
}

fn code_op(origin: Uuid, row: Uuid, code: &str) -> Op {
    Op {
        id: OpId { origin, seq: 1 },
        hlc: Hlc::new(T0, 0),
        table: Table::Village.code(),
        row,
        field: "code".into(),
        value: FieldValue::Text(code.into()),
        preds: vec![],
        seen: vec![],
    }
}

crate::on_both_backends!(an_op_id_arriving_again_with_other_content_is_held_not_a_silent_duplicate);
fn an_op_id_arriving_again_with_other_content_is_held_not_a_silent_duplicate(backend: Backend) {
    let dir = scratch();
    let storage = location(dir.path(), backend).open(2).expect("hub");
    let scope = Scope::parse(COUNTY).expect("scope");
    let code = storage.issue_code(&scope).expect("code");
    let token = storage
        .enrol(&code, "县管理员", &[])
        .expect("enrol")
        .expect("enrolment")
        .token;
    let device = storage.authenticate(&token).expect("auth").expect("device");
    let (origin, row) = (Uuid::now_v7(), Uuid::now_v7());
    let op = code_op(origin, row, VILLAGE_A);
    let first = storage
        .push(&device, origin, std::slice::from_ref(&op))
        .expect("push");
    assert_eq!((first.stored_seq, first.held.len()), (1, 0));
    // The same op again: an idempotent duplicate.
    let again = storage.push(&device, origin, &[op]).expect("push");
    assert_eq!((again.stored_seq, again.held.len()), (1, 0));
    // The same id with other content: held and reported.
    let other = code_op(origin, row, VILLAGE_B);
    let clash = storage.push(&device, origin, &[other]).expect("push");
    assert_eq!(clash.stored_seq, 1);
    assert_eq!(
        clash
            .held
            .iter()
            .map(|h| (h.seq, h.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "content_mismatch")]
    );
    let counts = storage.counts().expect("counts");
    assert_eq!((counts.ops, counts.held_ops), (1, 1));
    assert_eq!(storage.held().expect("held")[0].reason, "content_mismatch");
}

crate::on_both_backends!(a_copied_data_file_still_pushes_the_old_identitys_unpushed_ops);
fn a_copied_data_file_still_pushes_the_old_identitys_unpushed_ops(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut county, &[put_change(&va)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);

    let mut laptop = open(dir.path(), "A村");
    let client = enrol(&mut laptop, &url, &storage, VILLAGE_A);
    sync(&client, &mut laptop);
    // Edits never pushed, then the file is carried to a new computer.
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut laptop, &changes);
    let old_identity = laptop.device().id;
    let old_ops = laptop.own_last_seq();
    let path = laptop.path().to_path_buf();
    drop(laptop);
    let elsewhere = dir.path().join("新电脑");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let copied = elsewhere.join("台账.sqlite");
    std::fs::copy(&path, &copied).expect("copy");
    let mut copy = Store::open(
        &copied,
        &OpenOptions {
            identity_dir: Some(elsewhere.join("registry")),
            device_name: Some("A村-新电脑".into()),
            fixed_clock_ms: Some(T0),
            key: None,
        },
    )
    .expect("open the copy");
    assert!(copy.identity_change().is_some());
    assert_ne!(copy.device().id, old_identity);

    write(&mut copy, &[remark(household, "新电脑上改")]);
    let report = client.sync_once(&mut copy).expect("the copy syncs");
    assert_eq!(
        report.pushed as i64,
        old_ops + copy.own_last_seq(),
        "the old identity's household and members, and the new edit"
    );
    sync(&county_client, &mut county);
    assert!(rows(&county, "household").contains(&household));
    assert_eq!(remark_of(&county, household).as_deref(), Some("新电脑上改"));

    // The copy gets a code of its own (it shows the token it came with), and both laptops
    // keep pushing: the original under its identity, the copy under its own.
    let copy_client = enrol(&mut copy, &url, &storage, VILLAGE_A);
    write(&mut copy, &[remark(household, "新电脑自己的加入码")]);
    sync(&copy_client, &mut copy);
    let mut original = open(dir.path(), "A村");
    assert_eq!(
        original.device().id,
        old_identity,
        "the original keeps its identity"
    );
    let (changes, second, _) = family(va.id, "530828101201002");
    write(&mut original, &changes);
    sync(&client, &mut original);
    sync(&county_client, &mut county);
    assert!(rows(&county, "household").contains(&second));
    assert_eq!(
        remark_of(&county, household).as_deref(),
        Some("新电脑自己的加入码")
    );
}
