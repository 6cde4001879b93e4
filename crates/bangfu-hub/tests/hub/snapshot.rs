//! Bootstrap by snapshot: a new village laptop asking for a compacted start gets only the
//! current heads of its scope (every superseded edit left on the hub), ends in the same state
//! as a laptop that pulled the whole history, and then follows the log as usual.

use bangfu_core::sync::digest::state_hash;
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};

use crate::common::*;

crate::on_both_backends!(a_new_laptop_started_from_a_snapshot_holds_the_same_with_fewer_ops);
fn a_new_laptop_started_from_a_snapshot_holds_the_same_with_fewer_ops(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut admin = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut admin, &[bangfu_core::store::put_change(&va)]);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut admin, &changes);
    for n in 0..6 {
        write(&mut admin, &[remark(household, &format!("第{n}次走访"))]);
    }
    let admin_client = enrol(&mut admin, &url, &storage, COUNTY);
    sync(&admin_client, &mut admin);

    let mut full = open(dir.path(), "A村-全量");
    let full_client = enrol(&mut full, &url, &storage, VILLAGE_A);
    let full_report = full_client.sync_once(&mut full).expect("full pull");

    let mut fresh = open(dir.path(), "A村-快照");
    let code = storage
        .issue_code(&Scope::parse(VILLAGE_A).expect("scope"))
        .expect("code");
    let snap_client = HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        page_ops: 3,
        snapshot_bootstrap: true,
        ..Default::default()
    });
    snap_client.enrol(&mut fresh, &url, &code).expect("enrol");
    let snap_report = snap_client.sync_once(&mut fresh).expect("snapshot pull");
    assert_eq!(
        full_report.pulled - snap_report.pulled,
        5,
        "the five superseded remarks stay on the hub: {full_report:?} {snap_report:?}"
    );
    assert_eq!(state_hash(&fresh).ok(), state_hash(&full).ok());

    // From the position it reached, the snapshot copy follows the log like any other.
    write(&mut admin, &[remark(household, "最新")]);
    sync(&admin_client, &mut admin);
    sync(&full_client, &mut full);
    let after = snap_client.sync_once(&mut fresh).expect("pull");
    assert_eq!(after.pulled, 1, "{after:?}");
    assert_eq!(state_hash(&fresh).ok(), state_hash(&full).ok());
}

crate::on_both_backends!(
    a_laptops_first_sync_starts_from_a_snapshot_only_when_it_holds_nothing_from_others
);
fn a_laptops_first_sync_starts_from_a_snapshot_only_when_it_holds_nothing_from_others(
    backend: Backend,
) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut admin = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut admin, &[bangfu_core::store::put_change(&va)]);
    let (changes, household, _) = family(va.id, "530828101201001");
    write(&mut admin, &changes);
    // What a laptop got from a USB file before it joined the hub: the household as first filed.
    let early = admin
        .ops_of_origin_after(admin.device().id, 0, 100_000)
        .expect("ops");
    for n in 0..4 {
        write(&mut admin, &[remark(household, &format!("第{n}次走访"))]);
    }
    let admin_client = enrol(&mut admin, &url, &storage, COUNTY);
    sync(&admin_client, &mut admin);
    let mut full = open(dir.path(), "A村-全量");
    let full_report = enrol(&mut full, &url, &storage, VILLAGE_A)
        .sync_once(&mut full)
        .expect("full pull");

    let laptop = |store: &mut bangfu_core::store::Store| {
        let code = storage
            .issue_code(&Scope::parse(VILLAGE_A).expect("scope"))
            .expect("code");
        let client = HubClient::new(ClientConfig::laptop());
        client.enrol(store, &url, &code).expect("enrol");
        client.sync_once(store).expect("first sync")
    };
    // A new laptop: the current state only.
    let mut fresh = open(dir.path(), "A村-新电脑");
    let report = laptop(&mut fresh);
    assert_eq!(full_report.pulled - report.pulled, 3, "{report:?}");
    assert_eq!(state_hash(&fresh).ok(), state_hash(&full).ok());

    // A laptop holding ops of another device: the whole history, so what it holds is
    // superseded in order and no false conflict appears.
    let mut imported = open(dir.path(), "A村-导入过");
    imported.apply_remote(&early).expect("apply");
    let report = laptop(&mut imported);
    assert_eq!(report.pulled, full_report.pulled, "{report:?}");
    assert_eq!(state_hash(&imported).ok(), state_hash(&full).ok());
}
