//! `bangfu-hub loadtest`: synthetic counties (one, or `--counties N`; `--province` for the
//! issue's 10 × 100,000 households and 1,000 laptops, `--scale` to shrink it) each pushed by
//! its county admin, counties at once, then village devices enrolling, pulling their village
//! and pushing an edit through the hub, bounded in time. The hub is one process on a SQLite
//! folder, or (`--database postgres://...`) `--hubs` processes on one PostgreSQL database,
//! devices spread over them. Prints ops/s, request latency percentiles, the hub processes'
//! peak RSS (VmHWM), the database's size and the RSS of the machine's PostgreSQL processes,
//! and the machine's load.

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
    /// 每个模拟县的户数
    #[arg(long, alias = "households-per-county", default_value_t = 3_000)]
    households: usize,
    /// 模拟县的个数（多于 1 个时为全省/全州负载测试，各县同时上传）
    #[arg(long, default_value_t = 1)]
    counties: usize,
    /// 同步的村电脑台数（分到各县各村）
    #[arg(long, alias = "laptops", default_value_t = 100)]
    devices: usize,
    /// 同时同步的电脑数（县管理员上传时为同时上传的县数）
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// 各台电脑同步阶段的最长秒数（生成和县管理员上传不计在内）；到时停止发起新的同步
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// 全省规模：10 个县、每县 10 万户、1000 台电脑、同时 16 台；用 --scale 按比例缩小
    #[arg(long)]
    province: bool,
    /// 与 --province 同用：按比例缩小户数和电脑台数，如 0.01 为每县 1000 户、10 台电脑
    #[arg(long, default_value_t = 1.0, requires = "province")]
    scale: f64,
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
    /// 上传前每户的备注再改几次（留在中心的历史，快照不带）
    #[arg(long, default_value_t = 0)]
    edits: usize,
}

/// The province the issue names: 10 counties of 100,000 households, 1,000 laptops.
const PROVINCE_COUNTIES: usize = 10;
const PROVINCE_HOUSEHOLDS: usize = 100_000;
const PROVINCE_LAPTOPS: usize = 1_000;
const PROVINCE_PARALLEL: usize = 16;

/// The run's shape once `--province` and `--scale` are applied.
#[derive(Debug, Clone, Copy)]
struct Shape {
    counties: usize,
    households: usize,
    devices: usize,
    parallel: usize,
}

impl Shape {
    fn of(args: &LoadArgs) -> anyhow::Result<Shape> {
        if !args.province {
            return Ok(Shape {
                counties: args.counties.max(1),
                households: args.households.max(1),
                devices: args.devices,
                parallel: args.parallel.max(1),
            });
        }
        if !(args.scale > 0.0 && args.scale <= 1.0) {
            bail!("--scale 须在 0 和 1 之间（1 为全省规模）");
        }
        let scaled = |n: usize| ((n as f64 * args.scale).round() as usize).max(1);
        Ok(Shape {
            counties: PROVINCE_COUNTIES,
            households: scaled(PROVINCE_HOUSEHOLDS),
            devices: scaled(PROVINCE_LAPTOPS),
            parallel: PROVINCE_PARALLEL,
        })
    }
}

#[derive(Debug, Default, Serialize)]
struct LoadReport {
    counties: usize,
    /// Households per county.
    households: usize,
    villages: usize,
    county_ops: i64,
    generate_s: f64,
    admin_push_s: f64,
    admin_push_ops_per_s: f64,
    admin_requests: usize,
    admin_latency_p50_ms: f64,
    admin_latency_p95_ms: f64,
    admin_latency_p99_ms: f64,
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
    latency_p99_ms: f64,
    latency_max_ms: f64,
    backend: String,
    hub_processes: usize,
    /// Peak RSS of each hub process.
    hub_peak_rss_mb: Vec<f64>,
    /// The hub's database on disk (hub.sqlite with its WAL, or pg_database_size).
    database_mb: f64,
    /// RSS of all `postgres` processes on this machine at the end (PostgreSQL only).
    postgres_rss_mb: f64,
    /// Transactions PostgreSQL rolled back in the database (serialization conflicts retried).
    postgres_rollbacks: i64,
    hub_ops_stored: i64,
    stopped_by_time_limit: bool,
    /// A new laptop of the first village joining after the run: its first sync taking the
    /// whole history, and another's taking the snapshot.
    join_village: String,
    join_full_s: f64,
    join_full_ops: u64,
    join_snapshot_s: f64,
    join_snapshot_ops: u64,
    /// The same for a new laptop of the first village's township (every village of it): a
    /// scope whose history is many villages'.
    join_township: String,
    join_township_full_s: f64,
    join_township_full_ops: u64,
    join_township_snapshot_s: f64,
    join_township_snapshot_ops: u64,
    /// The machine: its cores and its 1-minute load average at the start and the end (other
    /// work on it shows here).
    cpus: usize,
    load_start: f64,
    load_end: f64,
    /// The highest 1-minute load average seen, sampled every 5 s.
    load_max: f64,
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The code of the `n`th simulated county: counties of Yunnan's prefectures, 50 per prefecture.
fn county_area(n: usize) -> String {
    format!("53{:02}{:02}", 1 + n / 50, 21 + n % 50)
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

/// A county generated into its admin's copy.
struct County {
    admin: Store,
    scope: Scope,
    villages: Vec<String>,
}

fn generate(
    dir: &Path,
    n: usize,
    counties: usize,
    households: usize,
    edits: usize,
) -> anyhow::Result<County> {
    let mut admin = open(dir, &format!("县管理员-{n:02}"))?;
    if counties == 1 {
        bangfu_core::demo::generate_county(&mut admin, households, 1, &mut |_| {})?;
    } else {
        let area = county_area(n);
        bangfu_core::demo::generate_county_in(
            &mut admin,
            &area,
            households,
            1 + n as u64,
            &mut |_| {},
        )?;
    }
    if edits > 0 {
        let ids: Vec<Vec<u8>> = admin
            .sql()?
            .prepare("SELECT id FROM household ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for round in 0..edits {
            for chunk in ids.chunks(500) {
                let changes: Vec<Change> = chunk
                    .iter()
                    .filter_map(|id| Uuid::from_slice(id).ok())
                    .map(|id| Change::Put {
                        table: Table::Household,
                        id,
                        fields: vec![("remark", FieldValue::Text(format!("第{round}次走访")))],
                    })
                    .collect();
                admin.write(&changes)?;
            }
        }
    }
    let villages: Vec<String> = admin
        .sql()?
        .prepare("SELECT code FROM village ORDER BY code")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let scope = villages
        .first()
        .and_then(|v| v.get(..6))
        .and_then(Scope::parse)
        .context("the generated county has no village")?;
    Ok(County {
        admin,
        scope,
        villages,
    })
}

/// Runs `work(i)` for i in 0..n on `parallel` threads; the errors, by index.
fn in_parallel(
    n: usize,
    parallel: usize,
    deadline: Option<Instant>,
    work: impl Fn(usize) -> anyhow::Result<()> + Sync,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n || deadline.is_some_and(|d| Instant::now() > d) {
                        break;
                    }
                    if let Err(e) = work(i) {
                        failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("{i}: {e:#}"));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn run(args: &LoadArgs) -> anyhow::Result<()> {
    let shape = Shape::of(args)?;
    let temp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let mut report = LoadReport {
        counties: shape.counties,
        households: shape.households,
        devices_planned: shape.devices,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_start: load_average(),
        ..Default::default()
    };
    // The machine's load, sampled while the run lasts.
    let load_max = Mutex::new(report.load_start);
    let running = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|s| {
        s.spawn(|| {
            while running.load(Ordering::SeqCst) {
                let now = load_average();
                let mut max = lock(&load_max);
                *max = max.max(now);
                drop(max);
                for _ in 0..50 {
                    if !running.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        let result = run_phases(args, shape, &dir, &mut report);
        running.store(false, Ordering::SeqCst);
        result
    })?;
    report.load_end = load_average();
    report.load_max = lock(&load_max).max(report.load_end);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn run_phases(
    args: &LoadArgs,
    shape: Shape,
    dir: &Path,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let generated: Vec<Mutex<Option<County>>> =
        (0..shape.counties).map(|_| Mutex::new(None)).collect();
    let failures = in_parallel(shape.counties, 2, None, |n| {
        let county = generate(dir, n, shape.counties, shape.households, args.edits)?;
        *lock(&generated[n]) = Some(county);
        Ok(())
    });
    if !failures.is_empty() {
        bail!("generating counties failed: {}", failures.join("; "));
    }
    let counties: Vec<Mutex<County>> = generated
        .into_iter()
        .filter_map(|c| c.into_inner().unwrap_or_else(|p| p.into_inner()))
        .map(Mutex::new)
        .collect();
    report.generate_s = t.elapsed().as_secs_f64();
    for county in &counties {
        let county = lock(county);
        report.county_ops += county.admin.op_count()?;
        report.villages += county.villages.len();
    }
    eprintln!(
        "{} counties × {} households, {} villages, {} ops in {:.1} s",
        shape.counties, shape.households, report.villages, report.county_ops, report.generate_s
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
    let config = ClientConfig {
        record_timings: true,
        ..Default::default()
    };

    // Every county's admin pushes its county, `parallel` counties at a time, spread over the
    // hub processes.
    let pushed = AtomicUsize::new(0);
    let admin_timings = Mutex::new(Vec::new());
    let t = Instant::now();
    let failures = in_parallel(counties.len(), shape.parallel, None, |n| {
        let mut county = lock(&counties[n]);
        let county = &mut *county;
        let client = HubClient::new(config.clone());
        let url = &hubs[n % hubs.len()].url;
        client.enrol(&mut county.admin, url, &codes.issue_code(&county.scope)?)?;
        let done = client.sync_once(&mut county.admin)?;
        pushed.fetch_add(done.pushed as usize, Ordering::SeqCst);
        lock(&admin_timings).append(&mut client.take_timings());
        Ok(())
    });
    if !failures.is_empty() {
        bail!("county admins' pushes failed: {}", failures.join("; "));
    }
    report.admin_push_s = t.elapsed().as_secs_f64();
    let pushed = pushed.into_inner();
    report.admin_push_ops_per_s = pushed as f64 / report.admin_push_s.max(1e-9);
    let mut admin_timings = admin_timings
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    admin_timings.sort();
    report.admin_requests = admin_timings.len();
    report.admin_latency_p50_ms = percentile(&admin_timings, 0.50);
    report.admin_latency_p95_ms = percentile(&admin_timings, 0.95);
    report.admin_latency_p99_ms = percentile(&admin_timings, 0.99);
    eprintln!(
        "admins pushed {pushed} ops in {:.1} s ({:.0} ops/s)",
        report.admin_push_s, report.admin_push_ops_per_s
    );

    // The laptops: spread over every village of every county in turn.
    let villages: Vec<String> = {
        let lists: Vec<Vec<String>> = counties.iter().map(|c| lock(c).villages.clone()).collect();
        let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
        (0..longest)
            .flat_map(|i| lists.iter().filter_map(move |l| l.get(i).cloned()))
            .collect()
    };
    drop(counties);
    let device_codes: Vec<String> = (0..shape.devices)
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
    let totals = Mutex::new((0usize, 0u64, 0u64, Vec::new()));
    let t = Instant::now();
    let deadline = t + Duration::from_secs(args.max_seconds);
    let failures = in_parallel(shape.devices, shape.parallel, Some(deadline), |i| {
        let url = &hubs[i % hubs.len()].url;
        let (pulled, pushed, mut times) =
            device_round(dir, i, url, &device_codes[i], &device_config)?;
        let mut t = lock(&totals);
        t.0 += 1;
        t.1 += pulled;
        t.2 += pushed;
        t.3.append(&mut times);
        Ok(())
    });
    report.device_phase_s = t.elapsed().as_secs_f64();
    let (synced, pulled, pushed_ops, times) =
        totals.into_inner().unwrap_or_else(|p| p.into_inner());
    report.devices_synced = synced;
    report.device_ops_pulled = pulled;
    report.device_ops_pushed = pushed_ops;
    report.device_ops_per_s = (pulled + pushed_ops) as f64 / report.device_phase_s.max(1e-9);
    report.stopped_by_time_limit = synced + failures.len() < shape.devices;
    let mut timings = times;
    timings.sort();
    report.requests = timings.len();
    report.latency_p50_ms = percentile(&timings, 0.50);
    report.latency_p95_ms = percentile(&timings, 0.95);
    report.latency_p99_ms = percentile(&timings, 0.99);
    report.latency_max_ms = timings.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    eprintln!(
        "{synced} laptops synced in {:.1} s: {pulled} ops pulled, {:.0} ops/s, requests p50/p95/p99 {:.0}/{:.0}/{:.0} ms",
        report.device_phase_s,
        report.device_ops_per_s,
        report.latency_p50_ms,
        report.latency_p95_ms,
        report.latency_p99_ms
    );
    // A new laptop joining the first village, then one of its township: the whole history,
    // then the snapshot.
    if let Some(village) = villages.first() {
        report.join_village = village.clone();
        report.join_township = village.chars().take(9).collect();
        for (code, tag) in [
            (village.clone(), "村"),
            (report.join_township.clone(), "乡镇"),
        ] {
            let scope = Scope::parse(&code).context("scope code")?;
            let mut joined = [(0.0, 0u64); 2];
            for (i, snapshot) in [false, true].into_iter().enumerate() {
                let name = format!("新电脑-{tag}-{}", if snapshot { "快照" } else { "全量" });
                let mut store = open(dir, &name)?;
                let client = HubClient::new(ClientConfig {
                    snapshot_bootstrap: snapshot,
                    ..ClientConfig::default()
                });
                let code = codes.issue_code(&scope)?;
                let t = Instant::now();
                client.enrol(&mut store, &hubs[0].url, &code)?;
                let done = client.sync_once(&mut store)?;
                joined[i] = (t.elapsed().as_secs_f64(), done.pulled);
            }
            let [(full_s, full_ops), (snap_s, snap_ops)] = joined;
            eprintln!(
                "new laptop of {code}: whole history {full_ops} ops in {full_s:.1} s, snapshot {snap_ops} ops in {snap_s:.1} s"
            );
            if tag == "村" {
                (report.join_full_s, report.join_full_ops) = (full_s, full_ops);
                (report.join_snapshot_s, report.join_snapshot_ops) = (snap_s, snap_ops);
            } else {
                (report.join_township_full_s, report.join_township_full_ops) = (full_s, full_ops);
                (
                    report.join_township_snapshot_s,
                    report.join_township_snapshot_ops,
                ) = (snap_s, snap_ops);
            }
        }
    }
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
            report.postgres_rollbacks = client
                .query_one(
                    "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()",
                    &[],
                )?
                .try_get(0)?;
        }
    }
    if !failures.is_empty() {
        println!("{}", serde_json::to_string_pretty(&report)?);
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
