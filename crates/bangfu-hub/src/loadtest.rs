//! `bangfu-hub loadtest`: a synthetic county pushed by the county admin, then N village devices
//! enrolling, pulling their village and pushing an edit through the hub, bounded in time. The
//! hub is one process on a SQLite folder, or (`--database postgres://...`) `--hubs` processes
//! on one PostgreSQL database, devices spread over them. Prints ops/s, request latency
//! percentiles, the hub processes' peak RSS (VmHWM), and the database's size and the RSS of
//! the machine's PostgreSQL processes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, OpenOptions, Store};
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::storage::Location;
use clap::Args;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// 模拟县的户数
    #[arg(long, default_value_t = 3_000)]
    households: usize,
    /// 同步的电脑台数
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// 同时同步的电脑数
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// 各台电脑同步阶段的最长秒数（生成和县管理员上传不计在内）；到时停止发起新的同步
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// 工作目录（默认临时目录）
    #[arg(long)]
    dir: Option<PathBuf>,
    /// 用 PostgreSQL（须为空库）代替 SQLite 文件，如 postgres://postgres@127.0.0.1/bangfu_load
    #[arg(long)]
    database: Option<String>,
    /// 同步中心进程数（用 PostgreSQL 时可多于 1，默认 2）
    #[arg(long)]
    hubs: Option<usize>,
    /// 各村电脑首次同步只取本范围的当前数据（快照），不取全部历史
    #[arg(long)]
    snapshot: bool,
}

#[derive(Debug, Default, Serialize)]
struct LoadReport {
    households: usize,
    villages: usize,
    county_ops: i64,
    generate_s: f64,
    admin_push_s: f64,
    admin_push_ops_per_s: f64,
    admin_requests: usize,
    admin_latency_p95_ms: f64,
    devices_planned: usize,
    devices_synced: usize,
    device_phase_s: f64,
    device_ops_pulled: u64,
    device_ops_pushed: u64,
    device_ops_per_s: f64,
    /// Requests of the village devices (enrol, pull pages, push), their latency.
    requests: usize,
    latency_p50_ms: f64,
    latency_p95_ms: f64,
    latency_max_ms: f64,
    backend: String,
    hub_processes: usize,
    /// Peak RSS of each hub process.
    hub_peak_rss_mb: Vec<f64>,
    /// The hub's database on disk (hub.sqlite with its WAL, or pg_database_size).
    database_mb: f64,
    /// RSS of all `postgres` processes on this machine at the end (PostgreSQL only).
    postgres_rss_mb: f64,
    hub_ops_stored: i64,
    stopped_by_time_limit: bool,
}

/// The hub as a child process, killed when dropped.
struct HubProcess {
    child: Child,
    url: String,
}

impl HubProcess {
    fn start(data: &Location) -> anyhow::Result<HubProcess> {
        let mut command = Command::new(std::env::current_exe()?);
        match data {
            Location::Dir(dir) => command.arg("--data").arg(dir),
            Location::Postgres(url) => command.args(["--database", url]),
        };
        let mut child = command
            // Every simulated laptop enrols from this machine's address.
            .args(["--listen", "127.0.0.1:0", "--enrol-attempts", "1000000"])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("hub stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http"))
            .context("hub did not print its address")?
            .to_owned();
        Ok(HubProcess { child, url })
    }

    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()));
        status
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The summed RSS of every process named `postgres` on this machine.
fn postgres_rss_mb() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .sum::<f64>()
        / 1024.0
}

fn open(dir: &Path, name: &str) -> anyhow::Result<Store> {
    let options = OpenOptions {
        identity_dir: Some(dir.join("registry")),
        device_name: Some(name.to_owned()),
        fixed_clock_ms: None,
        key: None,
    };
    Ok(Store::open(dir.join(format!("{name}.sqlite")), &options)?)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

pub fn run(args: &LoadArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let mut report = LoadReport {
        households: args.households,
        devices_planned: args.devices,
        ..Default::default()
    };

    let mut admin = open(&dir, "县管理员")?;
    let t = Instant::now();
    bangfu_core::demo::generate_county(&mut admin, args.households, 1, &mut |_| {})?;
    report.generate_s = t.elapsed().as_secs_f64();
    report.county_ops = admin.op_count()?;
    let villages: Vec<String> = admin
        .sql()?
        .prepare("SELECT code FROM village ORDER BY code")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    report.villages = villages.len();
    let county = villages
        .first()
        .and_then(|v| v.get(..6))
        .and_then(Scope::parse)
        .context("the generated county has no village")?;
    eprintln!(
        "county: {} households, {} villages, {} ops in {:.1} s",
        args.households,
        villages.len(),
        report.county_ops,
        report.generate_s
    );

    let location = match &args.database {
        Some(url) => Location::Postgres(url.clone()),
        None => Location::Dir(dir.join("hub")),
    };
    let processes = match location {
        Location::Dir(_) => 1,
        Location::Postgres(_) => args.hubs.unwrap_or(2).max(1),
    };
    report.backend = match location {
        Location::Dir(_) => "sqlite".into(),
        Location::Postgres(_) => "postgres".into(),
    };
    report.hub_processes = processes;
    let codes = location.open(4)?;
    let hubs: Vec<HubProcess> = (0..processes)
        .map(|_| HubProcess::start(&location))
        .collect::<anyhow::Result<_>>()?;
    let hub = &hubs[0];
    let config = ClientConfig {
        record_timings: true,
        ..Default::default()
    };
    let client = HubClient::new(config.clone());
    client.enrol(&mut admin, &hub.url, &codes.issue_code(&county)?)?;
    let t = Instant::now();
    let pushed = client.sync_once(&mut admin)?;
    report.admin_push_s = t.elapsed().as_secs_f64();
    report.admin_push_ops_per_s = pushed.pushed as f64 / report.admin_push_s.max(1e-9);
    let mut admin_timings = client.take_timings();
    admin_timings.sort();
    report.admin_requests = admin_timings.len();
    report.admin_latency_p95_ms = percentile(&admin_timings, 0.95);
    eprintln!(
        "admin pushed {} ops in {:.1} s ({:.0} ops/s)",
        pushed.pushed, report.admin_push_s, report.admin_push_ops_per_s
    );

    let device_codes: Vec<String> = (0..args.devices)
        .map(|i| {
            let village = &villages[i % villages.len()];
            let scope = Scope::parse(village).context("village code")?;
            Ok(codes.issue_code(&scope)?)
        })
        .collect::<anyhow::Result<_>>()?;
    let device_config = ClientConfig {
        snapshot_bootstrap: args.snapshot,
        ..config.clone()
    };
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0usize, 0u64, 0u64, Vec::new()));
    let failures = Mutex::new(Vec::new());
    let t = Instant::now();
    let deadline = t + Duration::from_secs(args.max_seconds);
    std::thread::scope(|s| {
        for _ in 0..args.parallel.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= args.devices || Instant::now() > deadline {
                        break;
                    }
                    let url = &hubs[i % hubs.len()].url;
                    match device_round(&dir, i, url, &device_codes[i], &device_config) {
                        Ok((pulled, pushed, mut times)) => {
                            let mut t = totals.lock().unwrap_or_else(|p| p.into_inner());
                            t.0 += 1;
                            t.1 += pulled;
                            t.2 += pushed;
                            t.3.append(&mut times);
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("device {i}: {e:#}")),
                    }
                }
            });
        }
    });
    report.device_phase_s = t.elapsed().as_secs_f64();
    let (synced, pulled, pushed_ops, times) =
        totals.into_inner().unwrap_or_else(|p| p.into_inner());
    report.devices_synced = synced;
    report.device_ops_pulled = pulled;
    report.device_ops_pushed = pushed_ops;
    report.device_ops_per_s = (pulled + pushed_ops) as f64 / report.device_phase_s.max(1e-9);
    report.stopped_by_time_limit = synced < args.devices;
    let mut timings = times;
    timings.sort();
    report.requests = timings.len();
    report.latency_p50_ms = percentile(&timings, 0.50);
    report.latency_p95_ms = percentile(&timings, 0.95);
    report.latency_max_ms = timings.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    report.hub_peak_rss_mb = hubs.iter().map(HubProcess::peak_rss_mb).collect();
    report.hub_ops_stored = codes.counts()?.ops;
    drop(hubs);
    match &location {
        Location::Dir(hub_dir) => {
            report.database_mb = ["hub.sqlite", "hub.sqlite-wal"]
                .iter()
                .filter_map(|f| std::fs::metadata(hub_dir.join(f)).ok())
                .map(|m| m.len() as f64 / 1048576.0)
                .sum();
        }
        Location::Postgres(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls)?;
            let bytes: i64 = client
                .query_one("SELECT pg_database_size(current_database())", &[])?
                .try_get(0)?;
            report.database_mb = bytes as f64 / 1048576.0;
            report.postgres_rss_mb = postgres_rss_mb();
        }
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    if !failures.is_empty() {
        bail!("{} devices failed: {}", failures.len(), failures.join("; "));
    }
    Ok(())
}

/// One village device: enrol, pull its village, edit a household, push it.
fn device_round(
    dir: &Path,
    i: usize,
    url: &str,
    code: &str,
    config: &ClientConfig,
) -> anyhow::Result<(u64, u64, Vec<Duration>)> {
    let mut store = open(dir, &format!("device-{i:03}"))?;
    let client = HubClient::new(config.clone());
    client.enrol(&mut store, url, code)?;
    let first = client.sync_once(&mut store)?;
    let household: Option<Vec<u8>> = store
        .sql()?
        .query_row("SELECT id FROM household ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .ok();
    let id = household
        .and_then(|b| Uuid::from_slice(&b).ok())
        .context("the device received no household")?;
    store.write(&[Change::Put {
        table: Table::Household,
        id,
        fields: vec![("remark", FieldValue::Text(format!("负载测试 {i}")))],
    }])?;
    let second = client.sync_once(&mut store)?;
    Ok((
        first.pulled + second.pulled,
        first.pushed + second.pushed,
        client.take_timings(),
    ))
}
