//! What an operator watches: `/health` answers while the database does, and `/metrics`
//! counts the pushes, pulls and ops a sync made, with latency histograms, the devices
//! behind by more than a day, and the writes PostgreSQL made run again.

use bangfu_hub::storage::Location;

use crate::common::*;

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut reply = agent.get(url).call().expect("request");
    let status = reply.status().as_u16();
    (status, reply.body_mut().read_to_string().expect("body"))
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing in:\n{text}"))
}

crate::on_both_backends!(health_and_metrics_count_what_a_sync_did);
fn health_and_metrics_count_what_a_sync_did(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    assert_eq!(get(&format!("{url}/health")), (200, "ok".to_owned()));
    let mut admin = open(dir.path(), "县管理员");
    let va = village(VILLAGE_A);
    write(&mut admin, &[bangfu_core::store::put_change(&va)]);
    let (changes, _, _) = family(va.id, "530828101201001");
    write(&mut admin, &changes);
    let client = enrol(&mut admin, &url, &storage, COUNTY);
    sync(&client, &mut admin);
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    sync(&a_client, &mut a);

    let (status, text) = get(&format!("{url}/metrics"));
    assert_eq!(status, 200);
    let ops = admin.op_count().expect("ops") as f64;
    assert!(metric(&text, "bangfu_hub_pushes_total") >= 1.0);
    assert_eq!(metric(&text, "bangfu_hub_ops_pushed_total"), ops);
    // The county copy's pull carries its own ops back too (the client skips them), and A's
    // village holds the whole of this small county.
    assert_eq!(metric(&text, "bangfu_hub_ops_pulled_total"), 2.0 * ops);
    assert_eq!(metric(&text, "bangfu_hub_failures_total"), 0.0);
    assert_eq!(metric(&text, "bangfu_hub_database_up"), 1.0);
    assert_eq!(metric(&text, "bangfu_hub_devices"), 2.0);
    assert_eq!(metric(&text, "bangfu_hub_devices_behind_1d"), 0.0);
    // One device at a time: nothing conflicted.
    assert_eq!(metric(&text, "bangfu_hub_conflicts_retried_total"), 0.0);
    let pulls = metric(&text, "bangfu_hub_pulls_total");
    assert!(pulls >= 2.0, "{text}");
    assert_eq!(
        metric(&text, "bangfu_hub_request_seconds_count{route=\"pull\"}"),
        pulls
    );
}

/// A write PostgreSQL aborts for a concurrent update and the hub runs again is counted on
/// `/metrics`. The conflict is made on purpose: another session updates the device's row and
/// holds it while the hub's revoke (SERIALIZABLE) waits for it with its snapshot already
/// taken; once that session commits, the revoke's update meets a row changed after its
/// snapshot, fails, and succeeds when run again.
#[test]
fn a_write_run_again_after_a_conflict_is_counted_on_metrics() {
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let Location::Postgres(url) = &database else {
        unreachable!("a PostgreSQL location")
    };
    let (hub, storage) = serve_at(&database, "127.0.0.1:0");
    let device = device_of(&*storage, VILLAGE_A);
    assert_eq!(
        metric_at(&hub.url(), "bangfu_hub_conflicts_retried_total"),
        0.0
    );

    let mut other = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let mut holding = other.transaction().expect("begin");
    holding
        .execute("UPDATE device SET name = name WHERE id = $1", &[&device.id])
        .expect("hold the device's row");
    std::thread::scope(|s| {
        let revoking = s.spawn(|| storage.revoke(device.id));
        await_lock_waiter(url);
        holding.commit().expect("commit");
        assert!(revoking.join().expect("revoke thread").expect("revoke"));
    });
    assert!(storage.conflicts_retried() >= 1);
    assert_eq!(
        metric_at(&hub.url(), "bangfu_hub_conflicts_retried_total"),
        storage.conflicts_retried() as f64
    );
}
