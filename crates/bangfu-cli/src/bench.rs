//! `bangfu bench`: the product's speed figures, each printed with a baseline measured in the
//! same run (these machines are noisy; ratios hold where absolute times do not).

use std::path::Path;
use std::time::Instant;

use bangfu_core::model::{Entity, Household, Member, Table};
use bangfu_core::query::{HouseholdQuery, households};
use bangfu_core::report::quality::data_quality;
use bangfu_core::store::baseline::{
    BaselineJournal, bulk_insert_plain, create_plain_tables, insert_plain_rows, open_baseline,
};
use bangfu_core::store::{OpenOptions, Store, WalIndex, put_change};
use bangfu_core::sync::exchange::{
    SealTo, export_changeset, export_introduction, export_sealed, import_changeset,
    import_changeset_file,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Failure;

#[derive(Debug, Serialize)]
struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    baseline: Option<f64>,
    ratio: Option<f64>,
}

struct Report {
    json: bool,
}

impl Report {
    fn print(&self, name: &str, value: f64, unit: &'static str, baseline: Option<f64>) {
        let ratio = baseline.filter(|b| *b > 0.0).map(|b| value / b);
        let fig = Figure {
            name: name.into(),
            value,
            unit,
            baseline,
            ratio,
        };
        if self.json {
            println!("{}", serde_json::to_string(&fig).unwrap_or_default());
        } else {
            match (baseline, ratio) {
                (Some(b), Some(r)) => {
                    println!("{name}: {value:.3} {unit}  (baseline {b:.3} {unit}, ratio {r:.2})")
                }
                _ => println!("{name}: {value:.3} {unit}"),
            }
        }
    }
}

/// Resets the process's peak resident size to what it holds now (Linux: `clear_refs` 5) and
/// returns that, in MB; `None` where the system has no such counter.
fn reset_peak_rss() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_mb("VmRSS:")
}

/// The process's peak resident size since the last reset, in MB.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    status_mb("VmHWM:")
}

fn status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line
        .trim_start_matches(key)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(idx).copied().unwrap_or(0.0)
}

/// The key every bench file and its baseline are encrypted with, as real data files are
/// (fixed: the bench measures the pages' encryption, not the passphrase's key derivation).
fn bench_key() -> bangfu_core::store::DataKey {
    bangfu_core::store::RecoveryCode::parse(
        "314159-265358-979323-846264-338327-950288-419716-939937",
    )
    .map(|code| code.data_key())
    .unwrap_or_else(|_| unreachable!("the bench's recovery code is well formed"))
}

fn open(path: &Path) -> Result<Store, Failure> {
    let options = OpenOptions {
        identity_dir: Some(path.with_extension("registry")),
        device_name: Some("性能测试".into()),
        fixed_clock_ms: None,
        key: Some(bench_key()),
    };
    Ok(Store::open_with_progress(
        path,
        &options,
        &mut crate::print_rebuild_progress,
    )?)
}

fn io_fail(e: impl std::fmt::Display) -> Failure {
    Failure::new("性能测试无法写入临时文件夹。", e.to_string())
}

/// One filed household with four members, as a work team files it.
fn sample_household(n: usize) -> (Household, Vec<Member>) {
    let household = Household {
        id: Uuid::now_v7(),
        code: format!("530826199999{:03}", n % 999 + 1),
        group_name: "测试组".into(),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        arable_area: Some(3.0),
        house_area: Some(80.0),
        phone: "13800000000".into(),
        ..Default::default()
    };
    let names = ["王大山", "李秀英", "王小明", "王小红"];
    let relations = ["01", "02", "03", "04"];
    let members = (0..4)
        .map(|i| Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: names[i].into(),
            sex: if i % 2 == 0 { "1".into() } else { "2".into() },
            relation: relations[i].into(),
            ethnicity: "01".into(),
            education: "3".into(),
            labor_skill: "1".into(),
            medical_insurance: Some(true),
            ..Default::default()
        })
        .collect();
    (household, members)
}

/// The groups of figures `--only` can pick; `others` is filing, cards and ledger; `merge` is
/// op-log size, export, merge and re-import of the whole county.
pub const GROUPS: &[&str] = &["start", "search", "quality", "rebuild", "others", "merge"];

/// Search over the county's people, by name, initials and ID fragment, against a LIKE scan
/// of the same people that stops at the page's 50 rows.
fn bench_search(report: &Report, county: &Store, members: usize) -> Result<(), Failure> {
    let people: Vec<(String, String)> = county
        .sql()?
        .prepare(
            "SELECT coalesce(name, ''), coalesce(id_number, '') FROM member
             WHERE deleted = 0 ORDER BY rowid",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(|e| Failure::new("性能测试读取数据失败。", e.to_string()))?;
    let step = (people.len() / 100).max(1);
    let mut texts = Vec::new();
    for (name, id) in people.iter().step_by(step).take(100) {
        texts.push(name.clone());
        texts.push(bangfu_core::store::name_initials(name));
        if id.len() >= 14 {
            texts.push(id[8..14].to_owned());
        }
    }
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    for text in &texts {
        let t = Instant::now();
        let q = HouseholdQuery {
            text: text.clone(),
            limit: 50,
            ..Default::default()
        };
        households(county, &q)?;
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let like = format!("%{text}%");
        let _: i64 = county
            .sql()?
            .query_row(
                "SELECT count(*) FROM (SELECT 1 FROM member WHERE name LIKE ?1 OR id_number LIKE ?1 LIMIT 50)",
                [&like],
                |r| r.get(0),
            )
            .map_err(|e| Failure::new("性能测试查询失败。", e.to_string()))?;
        plain.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for (p, label) in [(0.5, "p50"), (0.95, "p95"), (0.99, "p99")] {
        report.print(
            &format!("search_{label}_ms_over_{members}_people"),
            percentile(&mut ours, p),
            "ms",
            Some(percentile(&mut plain, p)),
        );
    }

    Ok(())
}

/// The 疑点 list of the county and of the demo village, against reading the same rows
/// (every column of households and what belongs to them) with no check.
fn bench_quality(report: &Report, county: &Store, dir: &Path) -> Result<(), Failure> {
    let t = Instant::now();
    let items = data_quality(county)?;
    let ours = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cells = plain_scan(county)?;
    let plain = t.elapsed().as_secs_f64();
    report.print("quality_list_county_seconds", ours, "s", Some(plain));
    report.print(
        "quality_list_county_items",
        items.len() as f64,
        "items",
        None,
    );
    let mut village = open(&dir.join("village.sqlite"))?;
    bangfu_core::demo::write_demo_village(&mut village)?;
    let t = Instant::now();
    data_quality(&village)?;
    let ours = t.elapsed().as_secs_f64();
    let t = Instant::now();
    plain_scan(&village)?;
    let plain = t.elapsed().as_secs_f64();
    report.print("quality_list_village_seconds", ours, "s", Some(plain));
    std::hint::black_box(cells);
    Ok(())
}

/// Reads every column of every live row the 疑点 list reads; returns the non-null cells.
fn plain_scan(store: &Store) -> Result<u64, Failure> {
    let mut cells = 0u64;
    for table in [
        "household",
        "member",
        "income",
        "pairing",
        "measure",
        "visit",
    ] {
        let sql = format!("SELECT * FROM {table} WHERE deleted = 0");
        let scanned = store.sql()?.prepare(&sql).and_then(|mut stmt| {
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                for i in 0..columns {
                    if r.get_ref(i)? != rusqlite::types::ValueRef::Null {
                        cells += 1;
                    }
                }
            }
            Ok(())
        });
        scanned.map_err(|e| Failure::new("性能测试读取数据失败。", e.to_string()))?;
    }
    Ok(cells)
}

/// The rebuild of every materialized row from the op log (what an upgrade runs), against
/// reading every head with its op's value, the least a rebuild must read.
fn bench_rebuild(report: &Report, county: &mut Store) -> Result<(), Failure> {
    let t = Instant::now();
    let mut rows = 0u64;
    let conn = county.sql()?;
    let scanned = conn
        .prepare("SELECT val FROM op WHERE origin = ?1 AND seq = ?2")
        .and_then(|mut op| {
            bangfu_core::store::heads::for_each_row(&conn, |_, keys| {
                for (_, origin, seq) in keys {
                    op.query_row([origin, seq], |v| {
                        std::hint::black_box(v.get_ref(0)?);
                        Ok(())
                    })?;
                }
                rows += 1;
                Ok::<_, rusqlite::Error>(())
            })
        });
    scanned.map_err(|e| Failure::new("性能测试读取数据失败。", e.to_string()))?;
    drop(conn);
    let plain = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut reports = 0u32;
    county.rematerialize_with(&mut |_| reports += 1)?;
    let ours = t.elapsed().as_secs_f64();
    report.print("rebuild_seconds", ours, "s", Some(plain));
    report.print(
        "rebuild_progress_reports",
        f64::from(reports),
        "reports",
        None,
    );
    std::hint::black_box(rows);
    Ok(())
}

pub fn run(
    quick: bool,
    existing: Option<std::path::PathBuf>,
    json: bool,
    only: Option<String>,
    households: Option<usize>,
    merge_rounds: usize,
) -> Result<(), Failure> {
    let report = Report { json };
    let wanted: Vec<&str> = match &only {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => GROUPS.to_vec(),
    };
    if let Some(unknown) = wanted.iter().find(|g| !GROUPS.contains(g)) {
        return Err(Failure::new(
            format!(
                "没有这一组性能测试：{unknown}（可选：{}）",
                GROUPS.join("、")
            ),
            format!("unknown bench group {unknown}"),
        ));
    }
    let wants = |group: &str| wanted.contains(&group);
    let dir = std::env::temp_dir().join(format!("bangfu-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io_fail)?;
    // Gone however the run ends: a county's merge leaves gigabytes in it.
    let _cleanup = RemovedAtEnd(dir.clone());
    let county_households = households.unwrap_or(if quick { 3_000 } else { 100_000 });

    let county_path = existing
        .clone()
        .unwrap_or_else(|| dir.join("county.sqlite"));
    // A `--county` file that does not exist yet is generated there and kept, for later runs.
    let reuse = existing.is_some() && county_path.exists();
    let mut county = open(&county_path)?;
    let summary = if reuse {
        let households = bangfu_core::query::households(&county, &HouseholdQuery::default())?;
        let members = county
            .sql()?
            .query_row("SELECT count(*) FROM member WHERE deleted = 0", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap_or(0);
        bangfu_core::demo::DemoSummary {
            households: households.total as usize,
            members: members as usize,
            ..Default::default()
        }
    } else {
        let started = Instant::now();
        let summary =
            bangfu_core::demo::generate_county(&mut county, county_households, 7, &mut |_| {})?;
        report.print(
            "generate_county_seconds",
            started.elapsed().as_secs_f64(),
            "s",
            None,
        );
        summary
    };
    let county_households = summary.households.max(1);
    let ops = county.op_count()? as f64;

    if wants("start") {
        // The app's first screen needs the file to itself, as at a real start.
        drop(county);
        bench_start(&report, &county_path, quick)?;
        county = open(&county_path)?;
    }

    if wants("search") {
        bench_search(&report, &county, summary.members)?;
    }
    if wants("quality") {
        bench_quality(&report, &county, &dir)?;
    }
    if wants("rebuild") {
        bench_rebuild(&report, &mut county)?;
    }
    if wants("others") {
        other_figures(&report, &mut county, &dir, quick)?;
    }
    if wants("merge") {
        merge_figures(
            &report,
            &mut county,
            &county_path,
            &dir,
            county_households,
            ops,
            merge_rounds,
        )?;
    }
    drop(county);
    Ok(())
}

/// A folder removed with everything in it when this goes out of scope.
struct RemovedAtEnd(std::path::PathBuf);

impl Drop for RemovedAtEnd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The app's start on the county file: open with the key (schema checked, identity read) and
/// the list's first page with its count, against an encrypted connection reading the same
/// number of household rows and the count from the same file. The webview's own start (the
/// window, the page's scripts) is not in it: the e2e sees that part.
fn bench_start(report: &Report, county_path: &Path, quick: bool) -> Result<(), Failure> {
    let rounds = if quick { 3 } else { 7 };
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let store = open(county_path)?;
        let page = households(&store, &HouseholdQuery::default())?;
        std::hint::black_box((page.total, page.rows.len()));
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        let rows = page.rows.len().max(1) as i64;
        drop(store);

        let t = Instant::now();
        let conn = open_baseline(county_path, Some(&bench_key()))
            .map_err(|e| Failure::new("性能测试无法建立基线。", e.to_string()))?;
        let read = (|| -> rusqlite::Result<i64> {
            let total: i64 = conn.query_row("SELECT count(*) FROM household", [], |r| r.get(0))?;
            let mut stmt = conn.prepare("SELECT * FROM household LIMIT ?1")?;
            let mut cursor = stmt.query([rows])?;
            let mut n = 0;
            while cursor.next()?.is_some() {
                n += 1;
            }
            Ok(total + n)
        })()
        .map_err(|e| Failure::new("基线读取失败。", e.to_string()))?;
        std::hint::black_box(read);
        plain.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    report.print(
        "start_open_to_first_list_page_ms",
        percentile(&mut ours, 0.5),
        "ms",
        Some(percentile(&mut plain, 0.5)),
    );
    Ok(())
}

/// Runs `bangfu changes import` of `file` into a new data file in a child process: its peak
/// resident size (MB) and what its sorts and temporary tables wrote to disk (MB, encrypted),
/// as the child printed them (`BANGFU_PRINT_PEAK_RSS`). The file gets a passphrase, so the
/// peak also holds the key derivation's 64 MB (Argon2id), freed before the import begins: the
/// import's own peak when it is larger (a county), that when it is not (`--quick`).
fn import_in_fresh_process(dir: &Path, file: &Path) -> Result<(Option<f64>, Option<f64>), Failure> {
    let exe = std::env::current_exe().map_err(io_fail)?;
    let out = std::process::Command::new(exe)
        .args(["changes", "import", "--db"])
        .arg(dir.join("fresh-process.sqlite"))
        .arg(file)
        .env("BANGFU_PRINT_PEAK_RSS", "1")
        .env("BANGFU_HOME", dir.join("fresh-process-home"))
        // Into a new file encrypted with a passphrase, as every copy's file is since the
        // first run asks for one (the import wrote a file in the clear before the ninth round).
        .env("BANGFU_PASSPHRASE", "性能测试口令-县级合并-2026")
        .output()
        .map_err(io_fail)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(Failure::new(
            "性能测试：在单独的进程里导入失败。",
            stderr.into_owned(),
        ));
    }
    let figure = |prefix: &str| {
        stderr
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|mb| mb.trim().parse().ok())
    };
    Ok((figure("peak_rss_mb: "), figure("spilled_mb: ")))
}

/// The pause between two saves of the filing figures: a person's pace, far shortened.
const BETWEEN_SAVES: std::time::Duration = std::time::Duration::from_millis(20);

/// Watches a data file's write-ahead log across saves through its wal-index header: the pages
/// each save wrote to the log and the checkpoints (the log copied into the file), inside a
/// save or between two.
#[derive(Debug, Default)]
struct LogWatch {
    last: Option<WalIndex>,
    before: Option<WalIndex>,
    saves: u64,
    pages: u64,
    checkpoints: u64,
    saves_with_checkpoint: u64,
    /// The page numbers of every frame the saves wrote, read from the log's frame headers.
    pages_written: Vec<u32>,
}

impl LogWatch {
    /// Whether a checkpoint ran between two looks at the log: more frames copied, or the log
    /// restarted (only after a whole checkpoint) and something copied since.
    fn checkpointed(from: WalIndex, to: WalIndex) -> bool {
        if to.frames < from.frames {
            to.backfilled > 0 || from.backfilled < from.frames
        } else {
            to.backfilled > from.backfilled
        }
    }

    fn before_save(&mut self, data_file: &Path) {
        let now = WalIndex::of(data_file);
        if let (Some(from), Some(to)) = (self.last, now)
            && LogWatch::checkpointed(from, to)
        {
            self.checkpoints += 1;
        }
        self.before = now;
    }

    fn after_save(&mut self, data_file: &Path) {
        let now = WalIndex::of(data_file);
        if let (Some(from), Some(to)) = (self.before, now) {
            self.saves += 1;
            // A save that restarted the log wrote its frames from the log's start.
            let first = if to.frames >= from.frames {
                from.frames
            } else {
                0
            };
            self.pages += u64::from(to.frames - first);
            self.pages_written
                .extend(frame_pages(data_file, first, to.frames));
            if LogWatch::checkpointed(from, to) {
                self.checkpoints += 1;
                self.saves_with_checkpoint += 1;
            }
        }
        self.last = now;
    }

    /// Pages per save by the table or index that owns them (`dbstat`, after the saves), most
    /// first.
    fn pages_by_table(&self, store: &Store) -> Vec<(String, f64)> {
        let owner: std::collections::HashMap<u32, String> = store
            .sql()
            .ok()
            .and_then(|conn| {
                let mut stmt = conn.prepare("SELECT pageno, name FROM dbstat").ok()?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))
                    .ok()?;
                Some(rows.filter_map(Result::ok).collect())
            })
            .unwrap_or_default();
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        for page in &self.pages_written {
            let name = owner.get(page).map_or("(free)", String::as_str);
            *counts.entry(name.to_owned()).or_default() += 1;
        }
        let mut by_table: Vec<(String, f64)> = counts
            .into_iter()
            .map(|(name, n)| (name, n as f64 / self.saves.max(1) as f64))
            .collect();
        by_table.sort_by(|a, b| b.1.total_cmp(&a.1));
        by_table
    }

    fn pages_per_save(&self) -> f64 {
        self.pages as f64 / self.saves.max(1) as f64
    }

    fn per_100_saves(&self, count: u64) -> f64 {
        count as f64 * 100.0 / self.saves.max(1) as f64
    }
}

/// The CPU time every thread of this process has used, ended threads included, in ms
/// (Linux: user and system time in `/proc/self/stat`, in ticks of 10 ms).
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Past the command name (which may hold spaces), the state is field 3; utime and stime
    // are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) * 10.0)
}

/// The CPU time this thread has used, in ms (Linux: `/proc/thread-self/schedstat`).
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}

/// The page numbers of frames `from..to` of a data file's log (each frame's header names its
/// page, in the clear); empty when the log cannot be read.
fn frame_pages(data_file: &Path, from: u32, to: u32) -> Vec<u32> {
    use std::io::{Read, Seek, SeekFrom};
    let mut wal = data_file.as_os_str().to_owned();
    wal.push("-wal");
    let Ok(mut file) = std::fs::File::open(&wal) else {
        return Vec::new();
    };
    let mut header = [0u8; 32];
    if file.read_exact(&mut header).is_err() {
        return Vec::new();
    }
    let page_size = u64::from(u32::from_be_bytes([
        header[8], header[9], header[10], header[11],
    ]));
    let mut pages = Vec::new();
    for frame in from..to {
        let mut number = [0u8; 4];
        let at = 32 + u64::from(frame) * (24 + page_size);
        if file.seek(SeekFrom::Start(at)).is_err() || file.read_exact(&mut number).is_err() {
            break;
        }
        pages.push(u32::from_be_bytes(number));
    }
    pages
}

/// `rounds` times: `pages` pages of 4 KiB appended to a file in `dir` and one fdatasync, a
/// save's pause apart; the milliseconds each took.
fn disk_sync_alone(dir: &Path, pages: usize, rounds: usize) -> Result<Vec<f64>, Failure> {
    use std::io::Write;
    let path = dir.join("bench-disk-sync.tmp");
    let measured = (|| -> std::io::Result<Vec<f64>> {
        let mut file = std::fs::File::create(&path)?;
        let block = vec![0x5au8; pages * 4096];
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            file.write_all(&block)?;
            file.sync_data()?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            std::thread::sleep(BETWEEN_SAVES);
        }
        Ok(times)
    })();
    // Removed whether the measuring went through or not: nothing is left beside the county.
    let _ = std::fs::remove_file(&path);
    measured.map_err(io_fail)
}

/// Filing, cards and ledger figures over the county (they write test households to it).
fn other_figures(
    report: &Report,
    county: &mut Store,
    dir: &Path,
    quick: bool,
) -> Result<(), Failure> {
    // Filing one household with four members, op log included, against plain inserts. Saves
    // come at a person's pace, a pause apart (far shorter than a real one), so the store's
    // checkpoint thread works between saves as in the app.
    let rounds = if quick { 40 } else { 200 };
    let mut baseline_conn = open_baseline(&dir.join("plain.sqlite"), Some(&bench_key()))
        .map_err(|e| Failure::new("性能测试无法建立基线。", e.to_string()))?;
    let _ = baseline_conn.pragma_update(None, "journal_mode", "WAL");
    let _ = baseline_conn.pragma_update(None, "synchronous", "FULL");
    create_plain_tables(&baseline_conn)
        .map_err(|e| Failure::new("性能测试无法建立基线。", e.to_string()))?;
    let county_path = county.path().to_path_buf();
    let plain_path = dir.join("plain.sqlite");
    let mut filing = Vec::new();
    let mut filing_plain = Vec::new();
    let mut filing_ops = 0;
    let mut filing_cpu = Vec::new();
    let mut ours_log = LogWatch::default();
    let mut plain_log = LogWatch::default();
    for n in 0..rounds {
        let (h, members) = sample_household(n);
        let mut changes = vec![put_change(&h)];
        changes.extend(members.iter().map(put_change));
        ours_log.before_save(&county_path);
        let cpu = thread_cpu_ms();
        let t = Instant::now();
        filing_ops += county.write(&changes)?.ops;
        filing.push(t.elapsed().as_secs_f64() * 1000.0);
        if let (Some(before), Some(after)) = (cpu, thread_cpu_ms()) {
            filing_cpu.push(after - before);
        }
        ours_log.after_save(&county_path);
        std::thread::sleep(BETWEEN_SAVES);
        let (h, members) = sample_household(n);
        let mut rows = vec![(Table::Household, h.id, h.to_fields())];
        rows.extend(members.iter().map(|m| (Table::Member, m.id, m.to_fields())));
        plain_log.before_save(&plain_path);
        let t = Instant::now();
        insert_plain_rows(&mut baseline_conn, &rows)
            .map_err(|e| Failure::new("基线写入失败。", e.to_string()))?;
        filing_plain.push(t.elapsed().as_secs_f64() * 1000.0);
        plain_log.after_save(&plain_path);
        std::thread::sleep(BETWEEN_SAVES);
    }
    report.print(
        "filing_household_4_members_p50_ms",
        percentile(&mut filing.clone(), 0.5),
        "ms",
        Some(percentile(&mut filing_plain.clone(), 0.5)),
    );
    report.print(
        "filing_household_4_members_p95_ms",
        percentile(&mut filing, 0.95),
        "ms",
        Some(percentile(&mut filing_plain, 0.95)),
    );
    // The part of a save that is the disk's: the same number of pages appended to a file
    // beside the county's and made durable with one fdatasync, as a save's commit to the log
    // is, at the same pace. What the save takes beyond this is its own work.
    let pages = ours_log.pages_per_save().round().max(1.0) as usize;
    let mut disk = disk_sync_alone(county_path.parent().unwrap_or(dir), pages, rounds)?;
    report.print(
        "filing_log_write_and_fsync_alone_p50_ms",
        percentile(&mut disk, 0.5),
        "ms",
        None,
    );
    report.print(
        "filing_log_write_and_fsync_alone_p95_ms",
        percentile(&mut disk, 0.95),
        "ms",
        None,
    );
    if !filing_cpu.is_empty() {
        // The save's own work, whatever the machine's load: the wall time adds the fsyncs and
        // the other programs' turns.
        report.print(
            "filing_cpu_ms_per_save_p50",
            percentile(&mut filing_cpu, 0.5),
            "ms",
            None,
        );
    }
    report.print(
        "filing_ops_per_household",
        filing_ops as f64 / rounds as f64,
        "ops",
        None,
    );
    report.print(
        "filing_wal_pages_per_save",
        ours_log.pages_per_save(),
        "pages",
        Some(plain_log.pages_per_save()),
    );
    for (table, pages) in ours_log.pages_by_table(county) {
        if pages >= 0.5 {
            report.print(
                &format!("filing_wal_pages_per_save.{table}"),
                pages,
                "pages",
                None,
            );
        }
    }
    // Every checkpoint of the county's log while the saves went on, whoever ran it, and the
    // saves that had one inside them. The second is compared with the same saves after the
    // checkpoint thread is stopped: SQLite's automatic checkpoint then runs inside the save
    // that crosses its threshold.
    let mut without_thread = LogWatch::default();
    county.shutdown();
    for n in 0..rounds {
        let (h, members) = sample_household(n);
        let mut changes = vec![put_change(&h)];
        changes.extend(members.iter().map(put_change));
        without_thread.before_save(&county_path);
        county.write(&changes)?;
        without_thread.after_save(&county_path);
        std::thread::sleep(BETWEEN_SAVES);
    }
    report.print(
        "filing_checkpoints_per_100_saves",
        ours_log.per_100_saves(ours_log.checkpoints),
        "checkpoints",
        Some(without_thread.per_100_saves(without_thread.checkpoints)),
    );
    report.print(
        "filing_saves_with_a_checkpoint_inside_per_100",
        ours_log.per_100_saves(ours_log.saves_with_checkpoint),
        "saves",
        Some(without_thread.per_100_saves(without_thread.saves_with_checkpoint)),
    );

    // 500 help-contact cards to one PDF.
    let (card_secs, card_bytes) = bangfu_core::cards::bench_cards(county)?;
    report.print("cards_500_to_pdf_seconds", card_secs, "s", None);
    report.print("card_pdf_bytes_per_card", card_bytes, "B", None);

    // The 家庭成员台帐 against rust_xlsxwriter writing the same cells alone.
    let (ledger_secs, plain_xlsx_secs) =
        bangfu_core::ledger::bench_member_ledger(county, &dir.join("members.xlsx"))?;
    report.print(
        "member_ledger_xlsx_seconds",
        ledger_secs,
        "s",
        Some(plain_xlsx_secs),
    );

    Ok(())
}

/// One merge of the county into an empty store, for [`merge_figures`].
struct MergeRound {
    secs: f64,
    /// Every thread's CPU, and the applying thread's (seconds).
    cpu: Option<f64>,
    apply_cpu: Option<f64>,
    applied: f64,
    /// The pages the merge added to the data file.
    pages: Option<f64>,
    /// This process's peak memory before the merge and at its end (MB).
    peak: Option<(f64, f64)>,
    /// Its parts, as the bulk load timed them.
    parts: Option<bangfu_core::store::BulkLoadTimes>,
}

/// Prints each merge round's ratio (`merge_round_N_ratio{suffix}`) and gives the round whose
/// ratio is the median (the upper one of an even count).
fn median_round(
    report: &Report,
    suffix: &str,
    rounds: usize,
    ratio_of: impl Fn(usize) -> f64,
) -> usize {
    for round in 0..rounds {
        report.print(
            &format!("merge_round_{}_ratio{suffix}", round + 1),
            ratio_of(round),
            "x",
            None,
        );
    }
    let mut order: Vec<usize> = (0..rounds).collect();
    order.sort_by(|&a, &b| ratio_of(a).total_cmp(&ratio_of(b)));
    order[order.len() / 2]
}

/// Removes a bench store's data file and the files beside it.
fn remove_store(path: &Path) {
    for suffix in [
        "",
        "-wal",
        "-shm",
        "-journal",
        ".lock",
        ".lock.owner",
        ".key",
    ] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let _ = std::fs::remove_dir_all(path.with_extension("registry"));
    let _ = std::fs::remove_dir_all(format!("{}.backups", path.display()));
}

/// Op-log size, and the merge of the whole county into an empty store against a plain bulk
/// insert of the same ops, then its re-import.
fn merge_figures(
    report: &Report,
    county: &mut Store,
    county_path: &Path,
    dir: &Path,
    county_households: usize,
    ops: f64,
    merge_rounds: usize,
) -> Result<(), Failure> {
    // Op-log size on disk, batch signatures included.
    let op_bytes: Option<f64> = county
        .sql()?
        .query_row(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('op', 'row_head', 'superseded', 'op_batch')",
            [],
            |r| r.get::<_, Option<f64>>(0),
        )
        .ok()
        .flatten();
    let file_bytes = std::fs::metadata(county_path)
        .map(|m| m.len() as f64)
        .unwrap_or(0.0);
    if let Some(b) = op_bytes {
        report.print("oplog_bytes_per_op", b / ops, "B", None);
    }
    report.print("data_file_bytes_per_op", file_bytes / ops, "B", None);

    // Merge of the whole county into an empty store, against a plain bulk insert. The file is
    // sealed to the empty stores (each introduced to the county first, as a station is) and
    // read from disk as a stream, as `bangfu changes import` reads it. One store per round.
    // Each is closed again until its round (a store open is a checkpoint thread running).
    let rounds = merge_rounds.max(1);
    let mut empties: Vec<std::path::PathBuf> = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        let path = dir.join(format!("merge-{round}.sqlite"));
        let mut empty = open(&path)?;
        let (intro, _) = export_introduction(&mut empty)?;
        import_changeset(county, &intro)?;
        empties.push(path);
    }
    let t = Instant::now();
    let (plain_file, _) = export_changeset(county, None)?;
    report.print(
        "export_whole_county_unsealed_seconds",
        t.elapsed().as_secs_f64(),
        "s",
        None,
    );
    let t = Instant::now();
    let (file, summary) = export_sealed(county, None, &SealTo::Known)?;
    report.print(
        "export_whole_county_seconds",
        t.elapsed().as_secs_f64(),
        "s",
        None,
    );
    let file_ops = summary.ops.max(1) as f64;
    report.print(
        "changeset_bytes_per_household",
        file.len() as f64 / county_households as f64,
        "B",
        None,
    );
    report.print(
        "changeset_bytes_per_op",
        file.len() as f64 / file_ops,
        "B",
        Some(plain_file.len() as f64 / file_ops),
    );
    let file_path = dir.join("county.bfcs");
    let plain_path = dir.join("county-unsealed.bfcs");
    std::fs::write(&file_path, &file).map_err(io_fail)?;
    std::fs::write(&plain_path, &plain_file).map_err(io_fail)?;
    drop(file);
    // The plain insert runs before and after the merge and the ratio takes their mean: on a
    // busy disk a single run before drifts by a tenth either way. It gets its ops decoded
    // beforehand, dropped again before the merge (which decodes its own from the file).
    // Each also with its CPU time: on a machine shared with other work the wall times
    // wander with the load, the CPU a run takes much less.
    let plain_in = |name: &str, journal: BaselineJournal| -> Result<(f64, f64, f64), Failure> {
        let (_, all_ops) = bangfu_core::sync::changeset::decode(&plain_file)?;
        let path = dir.join(name);
        let cpu = process_cpu_ms();
        let t = Instant::now();
        bulk_insert_plain(&path, &all_ops, Some(&bench_key()), journal)
            .map_err(|e| Failure::new("基线写入失败。", e.to_string()))?;
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu
            .zip(process_cpu_ms())
            .map_or(0.0, |(a, b)| (b - a) / 1000.0);
        // Closed, so the file holds every page the insert wrote.
        let pages = std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 4096.0);
        remove_store(&path);
        Ok((secs, cpu, pages))
    };
    let plain = |name: &str| plain_in(name, BaselineJournal::Wal);
    // The import's own peak, in a process of its own as `bangfu changes import` runs at a
    // station: this process already holds the county and its export in memory.
    let (peak, spilled) = import_in_fresh_process(dir, &plain_path)?;
    remove_store(&dir.join("fresh-process.sqlite"));
    let _ = std::fs::remove_dir_all(dir.join("fresh-process-home"));
    if let Some(mb) = peak {
        report.print("import_peak_rss_mb_fresh_process", mb, "MB", None);
    }
    if let Some(mb) = spilled {
        // The end's index sorts past their memory bound, on disk encrypted (`bangfu-temp-vfs`).
        report.print("import_sorts_spilled_mb_fresh_process", mb, "MB", None);
    }
    // The plain insert and the merge take turns, plain first and last, and each merge is set
    // against the mean of the plain inserts on either side: this machine's speed wanders by a
    // fifth over minutes (the same import's load took 41 s and 52 s of CPU minutes apart), and
    // a run of one merge between two plain inserts read anywhere from 1.87 to 2.07. The figures
    // below are the round with the median ratio; every round's ratio is printed too.
    let page_count = |store: &Store| -> Option<f64> {
        store
            .sql()
            .ok()?
            .query_row("PRAGMA page_count", [], |r| r.get::<_, f64>(0))
            .ok()
    };
    // The goal's baseline is the plain insert written through the log, as every data file
    // is. A bulk load into an empty copy that no one else has open is written with a rollback
    // journal instead (`alone.rs`), which spares it the log's second write of every page; the
    // plain insert written so too takes its turn beside each of the others, so the merge is
    // also set against a baseline that takes the same shortcut.
    let rollback = |name: &str| plain_in(name, BaselineJournal::Rollback).map(|p| p.0);
    let mut plains = vec![plain("bulk-0.sqlite")?];
    let mut rollbacks = vec![rollback("bulk-rollback-0.sqlite")?];
    let mut merges: Vec<MergeRound> = Vec::with_capacity(rounds);
    let mut last: Option<Store> = None;
    for (round, path) in empties.into_iter().enumerate() {
        let mut empty = open(&path)?;
        let rss_before = reset_peak_rss();
        let _ = bangfu_core::store::last_bulk_load_times();
        let pages_before = page_count(&empty);
        let cpu = process_cpu_ms();
        let apply_cpu = thread_cpu_ms();
        let t = Instant::now();
        let imported = import_changeset_file(&mut empty, &file_path)?;
        let secs = t.elapsed().as_secs_f64();
        let pages_after = page_count(&empty);
        merges.push(MergeRound {
            secs,
            cpu: cpu.zip(process_cpu_ms()).map(|(a, b)| (b - a) / 1000.0),
            apply_cpu: apply_cpu
                .zip(thread_cpu_ms())
                .map(|(a, b)| (b - a) / 1000.0),
            applied: imported.applied as f64,
            pages: pages_before.zip(pages_after).map(|(a, b)| b - a),
            peak: rss_before.zip(peak_rss_mb()),
            parts: bangfu_core::store::last_bulk_load_times(),
        });
        if round + 1 < rounds {
            // Each merged store is as large as the county: gone before the next round.
            drop(empty);
            remove_store(&path);
        } else {
            last = Some(empty);
        }
        plains.push(plain(&format!("bulk-{}.sqlite", round + 1))?);
        rollbacks.push(rollback(&format!("bulk-rollback-{}.sqlite", round + 1))?);
    }
    let r = median_round(report, "_rollback_journal", merges.len(), |round| {
        merges[round].secs / ((rollbacks[round] + rollbacks[round + 1]) / 2.0)
    });
    let median = median_round(report, "", merges.len(), |round| {
        merges[round].secs / ((plains[round].0 + plains[round + 1].0) / 2.0)
    });
    let m = &merges[median];
    let (plain_before, plain_cpu_before, plain_pages) = plains[median];
    let (plain_after, plain_cpu_after, _) = plains[median + 1];
    // This process's peak over the first merge (it holds the county and its export besides;
    // the fresh process's figure above is the import's own).
    if let Some((before, peak)) = merges[0].peak {
        report.print("import_peak_rss_mb", peak, "MB", Some(before));
    }
    report.print("plain_insert_before_merge_seconds", plain_before, "s", None);
    report.print("plain_insert_after_merge_seconds", plain_after, "s", None);
    let plain_secs = (plain_before + plain_after) / 2.0;
    let n = m.applied;
    report.print(
        "merge_ops_per_second",
        n / m.secs,
        "ops/s",
        Some(n / plain_secs),
    );
    report.print("merge_seconds", m.secs, "s", Some(plain_secs));
    // Against the plain insert written with a rollback journal: its own median round.
    report.print(
        "merge_seconds_against_plain_insert_rollback_journal",
        merges[r].secs,
        "s",
        Some((rollbacks[r] + rollbacks[r + 1]) / 2.0),
    );
    // Where the merge's time went: the ops applied and their rows written, the end's parts
    // (inside the same transaction) and the commit with the checkpoint SQLite runs in it.
    if let Some(parts) = m.parts {
        for (name, secs) in [
            ("merge_part_load_seconds", parts.load),
            ("merge_part_row_heads_seconds", parts.heads),
            ("merge_part_indexes_seconds", parts.indexes),
            ("merge_part_search_index_seconds", parts.search),
            ("merge_part_list_summaries_seconds", parts.summaries),
            ("merge_part_commit_seconds", parts.commit),
        ] {
            report.print(name, secs, "s", None);
        }
        // 1: written with a rollback journal, the file held alone; 0: through the log.
        report.print(
            "merge_rollback_journal",
            f64::from(u8::from(parts.rollback_journal)),
            "",
            None,
        );
    }
    // The pages the merge added to the data file, against the pages of the plain insert's.
    if let Some(pages) = m.pages {
        report.print(
            "merge_pages_per_op",
            pages / n,
            "pages",
            Some(plain_pages / n),
        );
    }
    // Every thread's CPU (the file is read on a second core while the first applies it),
    // against the plain insert's; and the applying thread's alone, which bounds the merge's
    // wall time on a machine with a core to spare.
    let plain_cpu = (plain_cpu_before + plain_cpu_after) / 2.0;
    if let Some(cpu) = m.cpu {
        report.print("merge_cpu_seconds", cpu, "s", Some(plain_cpu));
    }
    if let Some(cpu) = m.apply_cpu {
        report.print("merge_apply_thread_cpu_seconds", cpu, "s", Some(plain_cpu));
    }
    let mut empty =
        last.ok_or_else(|| Failure::new("性能测试：合并没有运行。", "no merge round"))?;
    // The same merge from the unsealed file, into a store of its own: what sealing costs.
    {
        let mut other = open(&dir.join("merge-unsealed.sqlite"))?;
        let t = Instant::now();
        import_changeset_file(&mut other, &plain_path)?;
        report.print(
            "merge_unsealed_seconds",
            t.elapsed().as_secs_f64(),
            "s",
            Some(plain_secs),
        );
        drop(other);
        remove_store(&dir.join("merge-unsealed.sqlite"));
    }
    let t = Instant::now();
    let again = import_changeset_file(&mut empty, &file_path)?;
    let reimport_secs = t.elapsed().as_secs_f64();
    report.print(
        "reimport_ops_per_second",
        again.ops_in_file as f64 / reimport_secs,
        "ops/s",
        None,
    );

    drop(empty);
    Ok(())
}
