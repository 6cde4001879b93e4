//! The load test as CI runs it: a small county, a few dozen devices, a time bound; on SQLite
//! one hub process, on PostgreSQL a tinier county through two hub processes on one database.
//! The county-sized runs are run by hand; their figures are in the closing notes.

use std::process::Command;

use crate::common::{Backend, new_postgres_database};

fn load(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (households, devices) = match backend {
        Backend::Sqlite => (1500, 20),
        // A push on PostgreSQL costs ~1 ms an op here (a round trip per statement): the
        // bounded CI run stays within seconds.
        Backend::Postgres => (40, 4),
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"));
    command
        .args(["loadtest", "--households"])
        .arg(households.to_string())
        .arg("--devices")
        .arg(devices.to_string())
        .args(["--parallel", "4", "--max-seconds", "300", "--dir"])
        .arg(dir.path());
    if backend == Backend::Postgres {
        command
            .args(["--hubs", "2", "--database"])
            .arg(new_postgres_database());
    }
    let out = command.output().expect("run the load test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "load test failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the load test prints its report as JSON");
    let n = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    let devices = devices as f64;
    assert_eq!(n("devices_synced"), devices, "{report}");
    assert_eq!(report["stopped_by_time_limit"], false);
    // Each device pushed exactly its one edit, and the hub holds the county plus those edits.
    assert_eq!(n("device_ops_pushed"), devices, "{report}");
    assert_eq!(n("hub_ops_stored"), n("county_ops") + devices, "{report}");
    // A village gets its own village only: far less than the county (of many villages), more
    // than nothing.
    let per_device = n("device_ops_pulled") / devices;
    let bound = if n("villages") > 2.0 { 2.0 } else { 1.0 };
    assert!(
        per_device > 0.0 && per_device <= (n("county_ops") + devices) / bound,
        "{report}"
    );
    assert!(
        n("requests") >= 3.0 * devices,
        "enrol, pull and push per device: {report}"
    );
    let processes = if backend == Backend::Sqlite { 1 } else { 2 };
    let rss = report["hub_peak_rss_mb"].as_array().expect("rss per hub");
    assert_eq!(rss.len(), processes, "{report}");
    assert!(
        n("latency_p95_ms") > 0.0
            && n("database_mb") > 0.0
            && rss.iter().all(|r| r.as_f64().unwrap_or(0.0) > 0.0),
        "{report}"
    );
    // New laptops joining the first village and its township, by the whole history and by
    // the snapshot: a township's laptop takes at least its village's, the snapshot no more
    // than the history (the generated county has no later edits here).
    assert!(
        n("join_full_ops") > 0.0 && n("join_snapshot_ops") > 0.0,
        "{report}"
    );
    assert!(
        n("join_township_full_ops") >= n("join_full_ops"),
        "{report}"
    );
    assert!(
        n("join_township_snapshot_ops") > 0.0
            && n("join_township_snapshot_ops") <= n("join_township_full_ops"),
        "{report}"
    );
    assert_eq!(
        report["join_township"].as_str().map(str::len),
        Some(9),
        "{report}"
    );
}

crate::on_both_backends!(load);
