//! What a hub process counts for its operators: pushes, pulls, ops in and out, held and
//! quarantined ops, refused enrolments, request latency histograms, failures, write
//! transactions retried after a conflict, and the devices that have not pushed for over a day, served
//! as Prometheus text on `/metrics`; and the one-line JSON log events the hub writes to stderr.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::storage::HubStorage;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How long without a push before a device counts as behind.
pub const BEHIND_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, route: &str) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "{name}_sum{{route=\"{route}\"}} {}",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {count}");
    }
}

/// The counters of one hub process.
#[derive(Debug, Default)]
pub struct Metrics {
    pushes: AtomicU64,
    pulls: AtomicU64,
    ops_pushed: AtomicU64,
    ops_pulled: AtomicU64,
    ops_held: AtomicU64,
    ops_quarantined: AtomicU64,
    enrol_refused: AtomicU64,
    failures: AtomicU64,
    push_latency: Histogram,
    pull_latency: Histogram,
}

impl Metrics {
    pub fn pushed(&self, ops: usize, held: usize, took: Duration) {
        self.pushes.fetch_add(1, Ordering::Relaxed);
        self.ops_pushed.fetch_add(ops as u64, Ordering::Relaxed);
        self.ops_held.fetch_add(held as u64, Ordering::Relaxed);
        self.push_latency.observe(took);
    }

    pub fn pulled(&self, ops: usize, took: Duration) {
        self.pulls.fetch_add(1, Ordering::Relaxed);
        self.ops_pulled.fetch_add(ops as u64, Ordering::Relaxed);
        self.pull_latency.observe(took);
    }

    /// Ops of a revoked device kept in quarantine (also counted as held).
    pub fn quarantined(&self, ops: usize) {
        self.ops_quarantined
            .fetch_add(ops as u64, Ordering::Relaxed);
    }

    /// An enrolment refused: a wrong, used, expired or locked code, or an address past its
    /// refusals.
    pub fn enrol_refused(&self) {
        self.enrol_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text: this process's counters, and from the database the devices
    /// behind by more than a day (`now_ms` is the clock to judge by).
    pub fn render(&self, storage: &dyn HubStorage, now_ms: i64) -> String {
        let mut out = String::new();
        let counters = [
            ("bangfu_hub_pushes_total", "Pushes committed", &self.pushes),
            ("bangfu_hub_pulls_total", "Pull pages served", &self.pulls),
            (
                "bangfu_hub_ops_pushed_total",
                "Ops received in committed pushes",
                &self.ops_pushed,
            ),
            (
                "bangfu_hub_ops_pulled_total",
                "Ops sent in pull pages",
                &self.ops_pulled,
            ),
            (
                "bangfu_hub_ops_held_total",
                "Ops held aside for the county admin",
                &self.ops_held,
            ),
            (
                "bangfu_hub_ops_quarantined_total",
                "Ops a revoked device pushed, kept for review and not merged",
                &self.ops_quarantined,
            ),
            (
                "bangfu_hub_enrol_refused_total",
                "Enrolments refused (wrong, used, expired or locked code; too many refusals)",
                &self.enrol_refused,
            ),
            (
                "bangfu_hub_failures_total",
                "Requests that failed inside the hub (HTTP 500)",
                &self.failures,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        // Counted by the storage, not by the requests: a write PostgreSQL aborted for a
        // conflict with a concurrent one and that ran again (SQLite's one writer never does).
        // Many of them mean the hub processes keep getting in one another's way.
        let name = "bangfu_hub_conflicts_retried_total";
        let _ = writeln!(
            out,
            "# HELP {name} Write transactions run again after a conflict with a concurrent one\n\
             # TYPE {name} counter\n{name} {}",
            storage.conflicts_retried()
        );
        let name = "bangfu_hub_request_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Push and pull latency\n# TYPE {name} histogram"
        );
        self.push_latency.render(&mut out, name, "push");
        self.pull_latency.render(&mut out, name, "pull");
        let (up, behind, devices) = match storage.devices() {
            Ok(devices) => {
                let live: Vec<_> = devices.iter().filter(|d| !d.revoked).collect();
                let behind = live
                    .iter()
                    .filter(|d| d.last_push_ms.unwrap_or(d.enrolled_ms) < now_ms - BEHIND_MS)
                    .count();
                (1, behind, live.len())
            }
            Err(_) => (0, 0, 0),
        };
        let gauges = [
            (
                "bangfu_hub_database_up",
                "Whether the hub's database answered this scrape",
                up,
            ),
            (
                "bangfu_hub_devices",
                "Enrolled devices not revoked",
                devices,
            ),
            (
                "bangfu_hub_devices_behind_1d",
                "Devices with no push for more than a day",
                behind,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// Writes one structured log line to stderr: `{"event":..., key: value, ...}`.
pub fn log(event: &str, fields: &[(&str, serde_json::Value)]) {
    let mut map = serde_json::Map::new();
    map.insert("ts_ms".into(), crate::storage::now_ms().into());
    map.insert("event".into(), event.into());
    for (k, v) in fields {
        map.insert((*k).to_owned(), v.clone());
    }
    eprintln!("{}", serde_json::Value::Object(map));
}
