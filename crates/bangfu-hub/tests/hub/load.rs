//! The load test as CI runs it: a small county, twenty devices, a time bound. The county-sized
//! run (100k households, 100 devices) is run by hand; its figures are in the closing notes.

use std::process::Command;

#[test]
fn twenty_devices_pull_their_villages_and_push_an_edit_through_one_hub_within_the_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"))
        .args([
            "loadtest",
            "--households",
            "1500",
            "--devices",
            "20",
            "--parallel",
            "4",
            "--max-seconds",
            "300",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run the load test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "load test failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the load test prints its report as JSON");
    let n = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    assert_eq!(n("devices_synced"), 20.0, "{report}");
    assert_eq!(report["stopped_by_time_limit"], false);
    // Each device pushed exactly its one edit, and the hub holds the county plus those edits.
    assert_eq!(n("device_ops_pushed"), 20.0, "{report}");
    assert_eq!(n("hub_ops_stored"), n("county_ops") + 20.0, "{report}");
    // A village gets its own village only: far less than the county, more than nothing.
    let per_device = n("device_ops_pulled") / 20.0;
    assert!(
        per_device > 0.0 && per_device < n("county_ops") / 2.0,
        "{report}"
    );
    assert!(
        n("requests") >= 60.0,
        "enrol, pull and push per device: {report}"
    );
    assert!(
        n("latency_p95_ms") > 0.0 && n("hub_peak_rss_mb") > 0.0,
        "{report}"
    );
}
