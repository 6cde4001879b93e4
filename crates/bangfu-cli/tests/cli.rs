//! The `bangfu` command as stations use it: bad files, killed imports, scripted edits.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bangfu(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(args)
        .env("BANGFU_HOME", home)
        .output()
        .expect("run bangfu")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn a_foreign_or_broken_db_is_refused_with_a_chinese_message_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "notes.txt",
            "村里的会议记录".as_bytes(),
            "不是帮扶台账的数据文件",
        ),
        (
            "zip.sqlite",
            b"PK\x03\x04\x00\x00 not sqlite at all",
            "不是帮扶台账的数据文件",
        ),
        (
            "half.sqlite",
            b"SQLite format 3\x00\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5\xA5",
            "数据文件",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = bangfu(dir.path(), &["search", "--db", p(&path), "张"]);
        let (_, err) = text(&out);
        assert!(!out.status.success(), "{name}");
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was modified");
    }
}

#[test]
fn scripted_edit_and_delete_go_through_the_store_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sqlite");
    let b = dir.path().join("b.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&a)])
            .status
            .success()
    );
    let page = bangfu(dir.path(), &["search", "--db", p(&a), "--json", "530826"]);
    let json: serde_json::Value = serde_json::from_slice(&page.stdout).unwrap();
    let code = json["rows"][0]["code"].as_str().unwrap().to_owned();
    let out = bangfu(
        dir.path(),
        &[
            "edit",
            "--db",
            p(&a),
            "--household",
            &code,
            "--set",
            "联系电话=13912345678",
            "--set",
            "main_cause=因学",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let bad = bangfu(
        dir.path(),
        &[
            "edit",
            "--db",
            p(&a),
            "--household",
            &code,
            "--set",
            "主要致贫原因=因穷",
        ],
    );
    assert!(
        text(&bad).1.contains("“主要致贫原因”填写的“因穷”"),
        "{:?}",
        text(&bad)
    );

    introduce(dir.path(), &b, &a);
    let file = dir.path().join("a.bfcs");
    assert!(
        bangfu(
            dir.path(),
            &["changes", "export", "--db", p(&a), "--out", p(&file)]
        )
        .status
        .success()
    );
    let imported = bangfu(dir.path(), &["changes", "import", "--db", p(&b), p(&file)]);
    assert!(
        text(&imported).0.contains("已导入"),
        "{:?}",
        text(&imported)
    );
    let again = bangfu(dir.path(), &["changes", "import", "--db", p(&b), p(&file)]);
    assert!(text(&again).0.contains("已导入过"), "{:?}", text(&again));
    let hash = |db: &PathBuf| text(&bangfu(dir.path(), &["state-hash", "--db", p(db)])).0;
    assert_eq!(hash(&a), hash(&b));

    assert!(
        bangfu(dir.path(), &["delete", "--db", p(&b), "--household", &code])
            .status
            .success()
    );
    let gone = bangfu(dir.path(), &["search", "--db", p(&b), "--json", &code]);
    let json: serde_json::Value = serde_json::from_slice(&gone.stdout).unwrap();
    assert_eq!(json["total"], 0);
}

#[test]
fn a_damaged_changeset_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sqlite");
    let b = dir.path().join("b.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&a)])
            .status
            .success()
    );
    introduce(dir.path(), &b, &a);
    let file = dir.path().join("a.bfcs");
    assert!(
        bangfu(
            dir.path(),
            &["changes", "export", "--db", p(&a), "--out", p(&file)]
        )
        .status
        .success()
    );
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.bfcs");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = bangfu(dir.path(), &["changes", "import", "--db", p(&b), p(&cut)]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("同步文件不完整"), "{:?}", text(&out));
    let empty = bangfu(dir.path(), &["search", "--db", p(&b), "--json", "530826"]);
    let json: serde_json::Value = serde_json::from_slice(&empty.stdout).unwrap();
    assert_eq!(
        json["total"], 0,
        "nothing may be applied from a refused file"
    );
}

#[test]
fn killing_an_import_midway_keeps_the_last_committed_state_and_a_rerun_completes_it() {
    killed_import(true);
}

/// Into an empty copy the import is a bulk load that drops the table indexes inside its
/// transaction: killed midway, the file must come back with its indexes and nothing else.
#[test]
fn killing_a_bulk_load_into_an_empty_copy_keeps_its_indexes_and_a_rerun_completes_it() {
    killed_import(false);
}

fn indexes(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn killed_import(station_has_data: bool) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("county.sqlite");
    let target = dir.path().join("station.sqlite");
    let out = bangfu(
        dir.path(),
        &[
            "generate",
            "--db",
            p(&source),
            "--households",
            "4000",
            "--seed",
            "3",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    introduce(dir.path(), &target, &source);
    let file = dir.path().join("county.bfcs");
    assert!(
        bangfu(
            dir.path(),
            &["changes", "export", "--db", p(&source), "--out", p(&file)]
        )
        .status
        .success()
    );
    if station_has_data {
        // The station already holds one small file's worth of data: the last committed state.
        assert!(
            bangfu(dir.path(), &["demo", "--db", p(&target)])
                .status
                .success()
        );
    }
    let before = text(&bangfu(dir.path(), &["state-hash", "--db", p(&target)])).0;
    let indexes_before = indexes(&target);
    assert!(indexes_before.iter().any(|i| i == "member_id_number"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(["changes", "import", "--db", p(&target), p(&file)])
        .env("BANGFU_HOME", dir.path())
        .spawn()
        .unwrap();
    // Wait for the pre-import backup, which is taken just before the transaction starts.
    let backups = dir.path().join("station.sqlite.backups");
    let started = Instant::now();
    while !backups
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "import never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(400));
    let finished_early = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !finished_early,
        "the import finished before it could be killed; make the county larger"
    );
    // Into the empty station, held alone, the import writes with a rollback journal: killed,
    // it leaves that journal, which the next open rolls back. Into a station with data it
    // writes through the log.
    let journal = dir.path().join("station.sqlite-journal");
    assert_eq!(journal.exists(), !station_has_data);

    let after_kill = text(&bangfu(dir.path(), &["state-hash", "--db", p(&target)])).0;
    assert_eq!(
        after_kill, before,
        "a killed import must leave the last committed state"
    );
    assert!(!journal.exists());
    assert_eq!(indexes(&target), indexes_before);
    let rerun = bangfu(
        dir.path(),
        &["changes", "import", "--db", p(&target), p(&file)],
    );
    assert!(rerun.status.success(), "{:?}", text(&rerun));
    // Every household of the county and of the demo village is there (a search counts only
    // to its cap, so the table is counted directly).
    let conn = rusqlite::Connection::open(&target).unwrap();
    let households: i64 = conn
        .query_row(
            "SELECT count(*) FROM household WHERE deleted = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let demo = if station_has_data { 300 } else { 0 };
    assert_eq!(households, 4000 + demo);
    assert_eq!(indexes(&target), indexes_before);
}

#[test]
fn the_demo_village_passes_validation_except_its_deliberate_problems() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    let out = bangfu(dir.path(), &["quality", "--db", p(&db), "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["household_code"].as_str().unwrap().to_owned(),
                i["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = [
        // The demo's payments above the rule (a 医疗救助 above its cap, a student aid paid
        // twice), which the policy picture's 超标准 also shows.
        ("530826103201011", "measure.over_policy"),
        ("530826103201014", "measure.overpaid"),
        ("530826103201023", "resident_id.checksum"),
        ("530826103201047", "household.head_missing"),
        ("530826103201070", "suspect.schooling_age"),
        ("530826103201088", "resident_id.filed_elsewhere"),
        ("530826103201094", "suspect.labor_skill_age"),
        (
            "530826103201098",
            "suspect.dibao_member_not_dibao_household",
        ),
        ("530826103201156", "resident_id.filed_elsewhere"),
        ("530826103201201", "suspect.road_distance"),
        ("530826103201264", "suspect.dibao_not_dibao_household"),
        (
            "530826103201294",
            "suspect.dibao_household_without_dibao_member",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn policy_due_lists_who_is_owed_what_on_the_demo_village() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    ok(dir.path(), &["demo", "--db", p(&db)]);
    let village = ["--village", "530826103201"];
    let json = ok(
        dir.path(),
        &[
            &["policy", "due", "--db", p(&db), "--json"][..],
            &village[..],
        ]
        .concat(),
    );
    let due: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(due["households"], 300);
    let totals = due["totals"].as_array().unwrap();
    assert_eq!(
        totals.len(),
        14,
        "every household or member policy of the catalogue"
    );
    for t in totals {
        assert!(t["qualifying"].as_u64().unwrap() > 0, "{t}");
    }
    let states: std::collections::BTreeSet<&str> = due["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["due", "not_qualified", "over", "short"]
            .into_iter()
            .collect()
    );
    let shown = ok(
        dir.path(),
        &[&["policy", "due", "--db", p(&db)][..], &village[..]].concat(),
    );
    assert!(shown.contains("澜江县勐康镇新文村"), "{shown}");
    assert!(shown.contains("超标准（2 条）"), "{shown}");
    assert!(shown.contains("不符合条件（1 条）"), "{shown}");

    let funds = ok(
        dir.path(),
        &["policy", "funds", "--db", p(&db), "--township", "勐康镇"],
    );
    assert!(funds.contains("脱贫攻坚工作经费：保底500000元"), "{funds}");
    let refused = bangfu(
        dir.path(),
        &["policy", "funds", "--db", p(&db), "--township", "不存在镇"],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).1.contains("不存在镇"),
        "{:?}",
        text(&refused)
    );
}

#[test]
fn a_generated_county_passes_validation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("county.sqlite");
    assert!(
        bangfu(
            dir.path(),
            &[
                "generate",
                "--db",
                p(&db),
                "--households",
                "600",
                "--seed",
                "11"
            ]
        )
        .status
        .success()
    );
    let out = bangfu(dir.path(), &["quality", "--db", p(&db), "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(items.is_empty(), "{items:#?}");
}

#[test]
fn exit_steps_are_taken_in_order_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    assert!(bangfu(dir.path(), &["demo", "--db", db]).status.success());
    let code = "530826103201001";
    // (not started, survey done): the demo's recent year has surveys of its own.
    let counts = || {
        let out = bangfu(dir.path(), &["exit", "status", "--db", db, "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let by_step = &status["households"]["by_step"];
        assert_eq!(by_step[1]["label"], "已完成入户调查");
        (
            by_step[0]["households"].as_u64().unwrap(),
            by_step[1]["households"].as_u64().unwrap(),
        )
    };
    let before = counts();
    let step = |extra: &[&str]| {
        let mut args = vec!["exit", "step", "--db", db, "--household", code];
        args.extend_from_slice(extra);
        bangfu(dir.path(), &args)
    };
    let skipped = step(&[
        "--step",
        "村两委商议",
        "--date",
        "2017-08-03",
        "--people",
        "村两委",
    ]);
    assert!(!skipped.status.success());
    assert!(
        text(&skipped).1.contains("下一步应办理入户调查"),
        "{:?}",
        text(&skipped)
    );
    let survey = step(&[
        "--step",
        "入户调查",
        "--date",
        "2017-08-01",
        "--people",
        "工作队",
        "--household-signed",
        "是",
        "--food-secure",
        "是",
        "--clothing-secure",
        "是",
    ]);
    assert!(survey.status.success(), "{:?}", text(&survey));
    assert_eq!(
        text(&survey).0.trim(),
        format!("已保存户 {code}：办理中，下一步：村两委商议。")
    );
    assert_eq!(counts(), (before.0 - 1, before.1 + 1));
    let out = bangfu(
        dir.path(),
        &[
            "exit",
            "evaluate",
            "--db",
            db,
            "--year",
            "2017",
            "--household",
            code,
            "--json",
        ],
    );
    let evaluation: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evaluation[0]["checks"][1]["code"], "food");
    assert_eq!(evaluation[0]["checks"][1]["status"], "met");
}

/// Runs bangfu with one extra environment variable.
fn bangfu_with(home: &Path, env: (&str, &str), args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(args)
        .env("BANGFU_HOME", home)
        .env(env.0, env.1)
        .output()
        .unwrap_or_else(|e| panic!("run bangfu: {e}"))
}

#[test]
fn cards_and_visit_sheets_are_printed_or_refused_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    let pdf = dir.path().join("out.pdf");
    let not_a_font = dir.path().join("font.ttc");
    std::fs::write(&not_a_font, "不是字体").unwrap();
    let household = "530826103201005";
    // (extra environment, arguments, succeeds, expected on stdout or stderr)
    // (extra environment variable, arguments, succeeds, expected text)
    type Case<'a> = (Option<(&'a str, &'a str)>, &'a [&'a str], bool, &'a str);
    let cases: &[Case] = &[
        (
            None,
            &["cards", "--household", household],
            true,
            "已生成 1 张帮扶联系卡",
        ),
        (
            None,
            &[
                "cards",
                "--village",
                "530826103201",
                "--layout",
                "a4x2",
                "--hotline",
                "0879-1234567",
            ],
            true,
            "已生成 300 张帮扶联系卡",
        ),
        (
            None,
            &["cards", "--household", household],
            true,
            "全国扶贫监督举报电话 12317",
        ),
        (
            None,
            &["cards", "--village", "110000000000"],
            false,
            "找不到村代码为 110000000000 的村",
        ),
        (
            Some(("BANGFU_CJK_FONT", p(&not_a_font))),
            &["cards", "--household", household],
            false,
            "不是可用的字体文件",
        ),
        (
            None,
            &["visits-sheet", "--household", household],
            true,
            "的走访记录",
        ),
        (
            None,
            &["visits-sheet", "--household", "1"],
            false,
            "找不到户编号为 1 的户",
        ),
    ];
    for (env, args, succeeds, expected) in cases {
        let _ = std::fs::remove_file(&pdf);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", p(&db), "--out", p(&pdf)]);
        let out = match env {
            Some(env) => bangfu_with(dir.path(), *env, &all),
            None => bangfu(dir.path(), &all),
        };
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.success(), *succeeds, "{args:?}: {stderr}");
        assert!(
            stdout.contains(expected) || stderr.contains(expected),
            "{args:?}: {stdout} {stderr}"
        );
        let head = std::fs::read(&pdf)
            .map(|b| b[..5].to_vec())
            .unwrap_or_default();
        assert_eq!(head == b"%PDF-", *succeeds, "{args:?}: output file");
    }
}

#[test]
fn enrol_and_sync_through_the_hub_and_say_so_in_chinese_when_offline() {
    use bangfu_hub::storage::HubStorage;

    let dir = tempfile::tempdir().unwrap();
    let storage = std::sync::Arc::new(
        bangfu_hub::SqliteStorage::open(&dir.path().join("hub")).expect("hub storage"),
    );
    let listener = bangfu_hub::server::bind("127.0.0.1:0").expect("bind");
    let hub = bangfu_hub::server::RunningHub::start(listener, storage.clone()).expect("hub");
    let county = bangfu_hub::Scope::parse("530826").expect("scope");
    let a = dir.path().join("a.sqlite");
    let b = dir.path().join("b.sqlite");
    let url = hub.url();

    let not_enrolled = bangfu(dir.path(), &["sync", "--db", p(&a)]);
    assert!(text(&not_enrolled).1.contains("还没有加入县同步中心"));
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&a)])
            .status
            .success()
    );
    let bad_code = bangfu(
        dir.path(),
        &["enrol", "--db", p(&a), "--hub", &url, "--code", "XXXX"],
    );
    assert!(
        text(&bad_code).1.contains("加入码不对"),
        "{:?}",
        text(&bad_code)
    );
    for db in [&a, &b] {
        let code = storage.issue_code(&county).expect("code");
        let out = bangfu(
            dir.path(),
            &["enrol", "--db", p(db), "--hub", &url, "--code", &code],
        );
        assert!(out.status.success(), "{:?}", text(&out));
        let out = bangfu(dir.path(), &["sync", "--db", p(db)]);
        assert!(out.status.success(), "{:?}", text(&out));
    }
    let hash = |db: &Path| text(&bangfu(dir.path(), &["state-hash", "--db", p(db)])).0;
    assert_eq!(hash(&a), hash(&b));

    drop(hub);
    let offline = bangfu(dir.path(), &["sync", "--db", p(&a)]);
    assert!(!offline.status.success());
    let (_, err) = text(&offline);
    assert!(
        err.contains("无法连接县同步中心，数据已保存在本机"),
        "{err}"
    );
}

/// Regression: two `bangfu edit` processes on one data file at once, on different households,
/// lost an edit in 17 of 20 rounds while both printed 已保存 (each took the device's next seq
/// from what it read at open, so the later op collided and was dropped as a duplicate).
#[test]
fn two_edit_processes_at_once_both_keep_their_edits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("村.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    let page = bangfu(dir.path(), &["search", "--db", p(&db), "--json", "530826"]);
    let json: serde_json::Value = serde_json::from_slice(&page.stdout).unwrap();
    let codes: Vec<String> = (0..2)
        .map(|i| json["rows"][i]["code"].as_str().unwrap().to_owned())
        .collect();
    let edit = |code: &str, group: &str| {
        Command::new(env!("CARGO_BIN_EXE_bangfu"))
            .args(["edit", "--db", p(&db), "--household", code])
            .args(["--set", &format!("group_name={group}")])
            .env("BANGFU_HOME", dir.path())
            .spawn()
            .expect("run bangfu")
    };
    let rounds = 20;
    for round in 0..rounds {
        let first = format!("上寨{round}组");
        let second = format!("下寨{round}组");
        let a = edit(&codes[0], &first);
        let b = edit(&codes[1], &second);
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {:?}", text(&out));
        }
        for (code, group) in [(&codes[0], &first), (&codes[1], &second)] {
            let found = bangfu(dir.path(), &["search", "--db", p(&db), "--json", code]);
            let json: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
            let shown = json["rows"][0]["group_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(&shown, group, "round {round}: the edit of {code} was lost");
        }
    }
}

/// `report`, `quality` and `ledger export` answer for a work year: by default the latest year
/// the file has records for (the demo's current year), or the one given with `--year`.
#[test]
fn report_quality_and_ledgers_follow_the_work_year() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    assert!(bangfu(dir.path(), &["demo", "--db", db]).status.success());
    // The store's today is Beijing time.
    let this_year =
        chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8)).date_naive());

    let report = |extra: &[&str]| {
        let mut args = vec!["report", "--db", db, "--json"];
        args.extend_from_slice(extra);
        let out = bangfu(dir.path(), &args);
        assert!(out.status.success(), "{:?}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let now = report(&[]);
    let then = report(&["--year", "2017"]);
    assert_eq!(now["year"], this_year);
    assert_eq!(then["year"], 2017);
    assert_ne!(now["by_path"], then["by_path"], "measures follow the year");
    assert_ne!(
        now["visits"], then["visits"],
        "visit coverage follows the year"
    );
    let printed = text(&bangfu(
        dir.path(),
        &["report", "--db", db, "--year", "2017"],
    ))
    .0;
    assert!(printed.contains("2017年度"), "{printed}");

    let findings = |year: &str| {
        let out = bangfu(dir.path(), &["quality", "--db", db, "--year", year]);
        assert!(out.status.success(), "{:?}", text(&out));
        text(&out).0
    };
    assert!(findings("2017").starts_with("2017年度"));

    let out = dir.path().join("visits.xlsx");
    let exported = bangfu(
        dir.path(),
        &[
            "ledger",
            "export",
            "--db",
            db,
            "--kind",
            "visits",
            "--year",
            "2017",
            "--out",
            p(&out),
            "--json",
        ],
    );
    assert!(exported.status.success(), "{:?}", text(&exported));
    let summary: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert!(
        summary["title"]
            .as_str()
            .unwrap()
            .contains("2017年度走访记录台帐"),
        "{summary}"
    );
}

/// Runs `bangfu` and insists it succeeded; returns stdout.
fn ok(home: &Path, args: &[&str]) -> String {
    let out = bangfu(home, args);
    assert!(out.status.success(), "{args:?}: {:?}", text(&out));
    text(&out).0
}

/// `to` introduces itself to `from` (its keys, no household), so `from` seals files to it.
fn introduce(home: &Path, to: &Path, from: &Path) {
    let file = home.join("introduction.bfcs");
    ok(
        home,
        &[
            "changes",
            "export",
            "--db",
            p(to),
            "--out",
            p(&file),
            "--introduction",
        ],
    );
    ok(home, &["changes", "import", "--db", p(from), p(&file)]);
}

/// Copies every change of `from` into `to` as a USB stick would.
fn carry(home: &Path, from: &Path, to: &Path, name: &str) {
    introduce(home, to, from);
    let file = home.join(name);
    ok(
        home,
        &["changes", "export", "--db", p(from), "--out", p(&file)],
    );
    ok(home, &["changes", "import", "--db", p(to), p(&file)]);
}

#[test]
fn stale_page_json_filed_from_the_command_line_keeps_what_arrived_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let a = home.join("a.sqlite");
    let b = home.join("b.sqlite");
    ok(home, &["demo", "--db", p(&a)]);
    carry(home, &a, &b, "a0.bfcs");
    let found = ok(home, &["search", "--db", p(&a), "--json", "530826"]);
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    let code = found["rows"][0]["code"].as_str().unwrap().to_owned();

    // The clerk takes the page out on A...
    let shown = ok(
        home,
        &[
            "household",
            "show",
            "--db",
            p(&a),
            "--household",
            &code,
            "--json",
        ],
    );
    let mut page: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert!(
        page["base"]["household"]["heads"]["phone"].is_array(),
        "{shown}"
    );
    // ...while the station changes the phone and the address, and that reaches A.
    ok(
        home,
        &[
            "edit",
            "--db",
            p(&b),
            "--household",
            &code,
            "--set",
            "联系电话=13900000001",
            "--set",
            "住址=新址二组",
        ],
    );
    carry(home, &b, &a, "b1.bfcs");

    // A page the page itself refuses is refused here too, with the same Chinese message.
    let mut bad = page.clone();
    bad["page"]["members"][0]["id_number"] = "53082619700101001".into();
    let bad_path = home.join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let refused = bangfu(home, &["household", "file", "--db", p(&a), p(&bad_path)]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).1.contains("保存失败，请先修改以下问题"),
        "{:?}",
        text(&refused)
    );

    page["page"]["household"]["phone"] = "13700000002".into();
    let page_path = home.join("page.json");
    std::fs::write(&page_path, page.to_string()).unwrap();
    let saved = ok(home, &["household", "file", "--db", p(&a), p(&page_path)]);
    assert!(saved.contains("本户数据在您导出页面后有更新"), "{saved}");

    let conflicts = ok(home, &["conflicts", "--db", p(&a), "--json"]);
    assert!(
        conflicts.contains("13700000002") && conflicts.contains("13900000001"),
        "both phones must wait in the review queue: {conflicts}"
    );
    let now = ok(
        home,
        &[
            "household",
            "show",
            "--db",
            p(&a),
            "--household",
            &code,
            "--json",
        ],
    );
    let now: serde_json::Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["page"]["household"]["address"], "新址二组", "reverted");
}

/// `bangfu policy stage --stage 入住 --site-village …`: 入住 at a 安置点 of another village
/// says how to move the household there and does not move it; with `--move` it is moved.
#[test]
fn moving_in_at_a_site_of_another_village_offers_the_move_and_moves_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let db = home.join("county.sqlite");
    // 301 households: two villages, 530828101201 (151) and 530828101202 (150).
    ok(home, &["generate", "--db", p(&db), "--households", "301"]);
    let moved_in = |household: &str, more: &[&str]| {
        bangfu(
            home,
            &[
                &[
                    "policy",
                    "stage",
                    "--db",
                    p(&db),
                    "--household",
                    household,
                    "--site",
                    "勐康镇集镇安置点",
                    "--stage",
                    "入住",
                    "--date",
                    "2019-10-01",
                    "--site-village",
                    "530828101202",
                ][..],
                more,
            ]
            .concat(),
        )
    };
    let shown = |household: &str| {
        bangfu(
            home,
            &[
                "household",
                "show",
                "--db",
                p(&db),
                "--household",
                household,
            ],
        )
        .status
        .success()
    };
    let offered = moved_in("530828101201001", &[]);
    assert!(offered.status.success(), "{:?}", text(&offered));
    let said = text(&offered).0;
    assert!(
        said.contains("户 530828101201001 已入住")
            && said.contains("--to-village 530828101202")
            && said.contains("新户编号将为 530828101202151"),
        "{said}"
    );
    assert!(shown("530828101201001"), "offered, not moved");
    assert!(!shown("530828101202151"));

    let moved = moved_in("530828101201002", &["--move"]);
    assert!(moved.status.success(), "{:?}", text(&moved));
    assert!(
        text(&moved).0.contains("已将户 530828101201002 迁入"),
        "{:?}",
        text(&moved)
    );
    assert!(shown("530828101202151") && !shown("530828101201002"));
}

#[test]
fn household_move_gives_the_new_village_and_its_code_or_refuses_an_unknown_village() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let db = home.join("county.sqlite");
    // 301 households: two villages, 530828101201 (151) and 530828101202 (150).
    ok(home, &["generate", "--db", p(&db), "--households", "301"]);
    let unknown = bangfu(
        home,
        &[
            "household",
            "move",
            "--db",
            p(&db),
            "--household",
            "530828101201001",
            "--to-village",
            "530828101299",
        ],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown)
            .1
            .contains("找不到村代码为 530828101299 的村"),
        "{:?}",
        text(&unknown)
    );
    let moved = ok(
        home,
        &[
            "household",
            "move",
            "--db",
            p(&db),
            "--household",
            "530828101201001",
            "--to-village",
            "530828101202",
        ],
    );
    assert!(moved.contains("新户编号 530828101202151"), "{moved}");
    let shown = ok(
        home,
        &[
            "household",
            "show",
            "--db",
            p(&db),
            "--household",
            "530828101202151",
            "--json",
        ],
    );
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let village_of = |code: &str| {
        let other = ok(
            home,
            &[
                "household",
                "show",
                "--db",
                p(&db),
                "--household",
                code,
                "--json",
            ],
        );
        let other: serde_json::Value = serde_json::from_str(&other).unwrap();
        other["page"]["household"]["village_id"].clone()
    };
    assert_eq!(
        shown["page"]["household"]["village_id"],
        village_of("530828101202001")
    );
    let old = bangfu(
        home,
        &[
            "household",
            "show",
            "--db",
            p(&db),
            "--household",
            "530828101201001",
        ],
    );
    assert!(text(&old).1.contains("找不到户编号为 530828101201001 的户"));
}

/// Regression: `bangfu edit` wrote through the store's raw write, which checked nothing: a
/// phone number of seven digits, a 户编号 of the wrong length or another household's 户编号
/// could be saved from a script though the household page refuses each. It now saves through
/// the page's own save, and refuses with the page's own message, leaving the file unchanged.
#[test]
fn bangfu_edit_refuses_what_the_household_page_refuses() {
    use bangfu_core::UserFacing;
    use bangfu_core::model::input::parse_input;
    use bangfu_core::model::{Entity, FieldValue, Household, Table};
    use bangfu_core::store::{Filter, OpenOptions, Store};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    let options = OpenOptions {
        identity_dir: Some(dir.path().join("page-ids")),
        ..OpenOptions::default()
    };
    let households = {
        let store = Store::open(&db, &options).unwrap();
        store.read::<Household>(Filter::All).unwrap()
    };
    let (first, other) = (&households[0], &households[1]);
    let cases = [
        ("联系电话", "1380000".to_owned()),
        ("户编号", first.code[..14].to_owned()),
        ("户编号", other.code.clone()),
        ("主要致贫原因", String::new()),
        ("脱贫状态", "已脱贫(不再享受政策)".to_owned()),
    ];
    let ops_in_file = || -> i64 {
        let store = Store::open(&db, &options).unwrap();
        store.op_count().unwrap()
    };
    let before = ops_in_file();
    for (label, value) in &cases {
        // What the household page says to this change.
        let page_says = {
            let mut store = Store::open(&db, &options).unwrap();
            let spec = Table::Household
                .fields()
                .iter()
                .find(|f| f.label == *label)
                .unwrap();
            let value = parse_input(spec, value).unwrap();
            let mut loaded = store.load_household_page(first.id).unwrap();
            let mut fields: std::collections::BTreeMap<&str, FieldValue> =
                loaded.page.household.to_fields().into_iter().collect();
            fields.insert(spec.name, value);
            loaded.page.household = Household::from_fields(first.id, &mut |name| {
                fields.get(name).cloned().unwrap_or(FieldValue::Null)
            })
            .unwrap();
            store
                .file_household_page(&loaded.page, loaded.base.as_ref())
                .expect_err("the page refuses it")
                .message_zh()
        };
        let out = bangfu(
            dir.path(),
            &[
                "edit",
                "--db",
                p(&db),
                "--household",
                &first.code,
                "--set",
                &format!("{label}={value}"),
            ],
        );
        let (_, err) = text(&out);
        assert!(!out.status.success(), "{label}={value} was saved");
        assert!(
            err.contains(page_says.trim_end_matches('。')),
            "{label}={value}: the command said {err:?}, the page says {page_says:?}"
        );
    }
    assert_eq!(ops_in_file(), before, "a refused edit wrote nothing");
    // What the page accepts, the command saves.
    let out = bangfu(
        dir.path(),
        &[
            "edit",
            "--db",
            p(&db),
            "--household",
            &first.code,
            "--set",
            "联系电话=13912345678",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(ops_in_file() > before);
}

/// Regression: a roll import took 缺技术，缺资金 or 缺技术 缺资金 for a multi-code field while
/// `bangfu edit` had its own, shorter list of separators. Both now split with `split_codes`.
#[test]
fn edit_accepts_the_multi_code_separators_a_roll_import_takes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    let page = bangfu(dir.path(), &["search", "--db", p(&db), "--json", "530826"]);
    let json: serde_json::Value = serde_json::from_slice(&page.stdout).unwrap();
    let code = json["rows"][0]["code"].as_str().unwrap().to_owned();
    for typed in ["缺技术，缺资金", "缺技术 缺资金", "缺技术/缺资金"] {
        let set = format!("其他致贫原因={typed}");
        let out = bangfu(
            dir.path(),
            &["edit", "--db", p(&db), "--household", &code, "--set", &set],
        );
        assert!(out.status.success(), "{typed}: {:?}", text(&out));
        let shown = bangfu(
            dir.path(),
            &[
                "household",
                "show",
                "--db",
                p(&db),
                "--household",
                &code,
                "--json",
            ],
        );
        let page: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        let stored = page
            .pointer("/page/household/other_causes")
            .or_else(|| page.pointer("/household/other_causes"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(stored, "07,09", "{typed}: {page}");
    }
}

/// Issue 15: with `device require on`, a file of an unknown device is held; `device list`
/// shows it as 待确认设备 with the safety number its own copy shows; `device confirm` merges.
#[test]
fn an_unknown_devices_file_is_held_until_device_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = (
        dir.path().join("a.sqlite"),
        dir.path().join("b.sqlite"),
        dir.path().join("a.bfcs"),
    );
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&a)])
            .status
            .success()
    );
    introduce(dir.path(), &b, &a);
    let out = bangfu(
        dir.path(),
        &["changes", "export", "--db", p(&a), "--out", p(&file)],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = bangfu(dir.path(), &["device", "require", "--db", p(&b), "on"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (stdout, _) = text(&bangfu(
        dir.path(),
        &["changes", "import", "--db", p(&b), p(&file)],
    ));
    assert!(stdout.contains("尚未确认的设备"), "{stdout}");
    let search = |db: &Path| text(&bangfu(dir.path(), &["search", "--db", p(db), "530826"])).0;
    assert!(search(&b).starts_with("共 0 户"), "{}", search(&b));
    let own: serde_json::Value = serde_json::from_str(
        &text(&bangfu(
            dir.path(),
            &["device", "list", "--db", p(&a), "--json"],
        ))
        .0,
    )
    .unwrap();
    let fingerprint = own[0]["fingerprint"].as_str().unwrap().to_owned();
    let (listed, _) = text(&bangfu(dir.path(), &["device", "list", "--db", p(&b)]));
    assert!(listed.contains("[待确认设备]"), "{listed}");
    assert!(listed.contains(&fingerprint), "{listed}");
    let out = bangfu(
        dir.path(),
        &["device", "confirm", "--db", p(&b), &fingerprint],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("已确认设备"), "{stdout}");
    assert_eq!(search(&a), search(&b));
    assert!(!search(&b).starts_with("共 0 户"));
}

fn bangfu_pass(home: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bangfu"));
    command.args(args).env("BANGFU_HOME", home);
    match passphrase {
        Some(p) => command.env("BANGFU_PASSPHRASE", p),
        None => command.env_remove("BANGFU_PASSPHRASE"),
    };
    command.output().expect("run bangfu")
}

#[test]
fn scripts_give_the_passphrase_change_it_and_come_back_with_the_recovery_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("乡镇.sqlite");
    let pass = "乡镇工作站口令2026";

    // A new file given a passphrase is protected: the recovery code is printed once.
    let made = bangfu_pass(dir.path(), Some(pass), &["demo", "--db", p(&db)]);
    let (_, err) = text(&made);
    assert!(made.status.success(), "{err}");
    let code: String = err
        .lines()
        .find(|l| l.chars().filter(char::is_ascii_digit).count() == 48)
        .unwrap_or_else(|| panic!("no recovery code in {err}"))
        .to_owned();
    let raw = std::fs::read(&db).unwrap();
    assert_ne!(
        &raw[..16],
        b"SQLite format 3\0",
        "the data file is encrypted"
    );

    let found = bangfu_pass(
        dir.path(),
        Some(pass),
        &["search", "--db", p(&db), "--json", "530826"],
    );
    assert!(found.status.success(), "{:?}", text(&found));
    let listed: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    let head = listed["rows"][0]["head_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!head.is_empty(), "{listed}");
    assert!(
        !raw.windows(head.len()).any(|w| w == head.as_bytes()),
        "{head} readable in the file"
    );

    // No passphrase, a wrong one: refused in Chinese, nothing changed.
    for (given, expected) in [(None, "已加密"), (Some("不对的口令不对的口令"), "口令不对")]
    {
        let out = bangfu_pass(dir.path(), given, &["search", "--db", p(&db), "王"]);
        assert!(!out.status.success());
        assert!(text(&out).1.contains(expected), "{:?}", text(&out));
    }

    // The passphrase changed: the old one stops opening the file, the new one opens it.
    let new_file = dir.path().join("新口令.txt");
    std::fs::write(&new_file, "换过的新口令2027\n").unwrap();
    let changed = bangfu_pass(
        dir.path(),
        Some(pass),
        &[
            "passphrase",
            "change",
            "--db",
            p(&db),
            "--new-passphrase-file",
            p(&new_file),
        ],
    );
    assert!(changed.status.success(), "{:?}", text(&changed));
    let old = bangfu_pass(dir.path(), Some(pass), &["search", "--db", p(&db), "王"]);
    assert!(text(&old).1.contains("口令不对"));
    let by_file = bangfu_pass(
        dir.path(),
        None,
        &[
            "search",
            "--db",
            p(&db),
            "--passphrase-file",
            p(&new_file),
            "王",
        ],
    );
    assert!(by_file.status.success(), "{:?}", text(&by_file));

    // Forgotten, and the key file lost: the recovery code sets a new one.
    std::fs::remove_file(dir.path().join("乡镇.sqlite.key")).unwrap();
    let third = dir.path().join("第三个口令.txt");
    std::fs::write(&third, "恢复后的口令口令").unwrap();
    let recovered = bangfu_pass(
        dir.path(),
        None,
        &[
            "passphrase",
            "recover",
            "--db",
            p(&db),
            "--recovery-code",
            &code,
            "--new-passphrase-file",
            p(&third),
        ],
    );
    assert!(recovered.status.success(), "{:?}", text(&recovered));
    let after = bangfu_pass(
        dir.path(),
        Some("恢复后的口令口令"),
        &["search", "--db", p(&db), "--json", &head],
    );
    assert!(after.status.success(), "{:?}", text(&after));
    assert!(String::from_utf8_lossy(&after.stdout).contains(&head));
}

/// A file whose team added people: a script acts as the person `BANGFU_PERSON` signs in as
/// with `BANGFU_PIN`, and is refused what that person's role may not do (issue 15).
#[test]
fn a_script_on_a_file_with_people_acts_as_the_person_it_signs_in_as() {
    use bangfu_core::access::Role;
    use bangfu_core::store::{OpenOptions, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    assert!(
        bangfu(dir.path(), &["demo", "--db", p(&db)])
            .status
            .success()
    );
    {
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("people-setup")),
            ..OpenOptions::default()
        };
        let mut store = Store::open(&db, &options).unwrap();
        store.add_person("刘书记", Role::Leader, "2468").unwrap();
        store.sign_in("刘书记", "2468").unwrap();
        store.add_person("王队员", Role::Member, "1357").unwrap();
    }
    let survey = |person: Option<(&str, &str)>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bangfu"));
        command.env("BANGFU_HOME", dir.path()).args([
            "exit",
            "step",
            "--db",
            p(&db),
            "--household",
            "530826103201001",
            "--step",
            "入户调查",
            "--date",
            "2017-08-01",
            "--people",
            "工作队",
            "--household-signed",
            "是",
            "--food-secure",
            "是",
            "--clothing-secure",
            "是",
        ]);
        if let Some((name, pin)) = person {
            command.env("BANGFU_PERSON", name).env("BANGFU_PIN", pin);
        }
        command.output().unwrap()
    };
    // (who signs in with which PIN, succeeds, what stderr says)
    type SignIn<'a> = Option<(&'a str, &'a str)>;
    let cases: [(SignIn, bool, &str); 4] = [
        (None, false, "请先用姓名和 PIN 码登录"),
        (
            Some(("王队员", "1357")),
            false,
            "只有第一书记或队长可以办理退出步骤",
        ),
        (Some(("刘书记", "0000")), false, "刘书记的 PIN 码不对"),
        (Some(("刘书记", "2468")), true, ""),
    ];
    for (person, succeeds, said) in cases {
        let out = survey(person);
        assert_eq!(
            out.status.success(),
            succeeds,
            "{person:?}: {:?}",
            text(&out)
        );
        assert!(text(&out).1.contains(said), "{person:?}: {:?}", text(&out));
    }
}

/// A script that protects a new file keeps the recovery code in a file it names, never on the
/// screen; the file is readable by this user only, is never overwritten, and the code in it
/// brings the data back without the code on the command line (issue 15).
#[test]
fn a_script_keeps_the_recovery_code_in_a_file_and_comes_back_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("村.sqlite");
    let code_file = dir.path().join("恢复码.txt");
    let pass = "村工作队的口令2026";
    let made = bangfu_pass(
        dir.path(),
        Some(pass),
        &[
            "demo",
            "--db",
            p(&db),
            "--recovery-code-file",
            p(&code_file),
        ],
    );
    let (_, err) = text(&made);
    assert!(made.status.success(), "{err}");
    let code = std::fs::read_to_string(&code_file).unwrap();
    assert_eq!(
        code.trim().chars().filter(char::is_ascii_digit).count(),
        48,
        "{code}"
    );
    assert!(
        !err.contains(code.trim()),
        "the code was shown on the screen: {err}"
    );
    assert!(err.contains("恢复码已写入"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&code_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    }

    // A second new file naming the same code file is refused before anything is protected.
    let other = dir.path().join("另一个村.sqlite");
    let refused = bangfu_pass(
        dir.path(),
        Some(pass),
        &[
            "demo",
            "--db",
            p(&other),
            "--recovery-code-file",
            p(&code_file),
        ],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).1.contains("已经存在"),
        "{:?}",
        text(&refused)
    );
    assert_eq!(std::fs::read_to_string(&code_file).unwrap(), code);
    assert!(!dir.path().join("另一个村.sqlite.key").exists());

    // Passphrase forgotten and key file lost: the code file sets a new passphrase.
    std::fs::remove_file(dir.path().join("村.sqlite.key")).unwrap();
    let new_pass = dir.path().join("新口令.txt");
    std::fs::write(&new_pass, "恢复以后的新口令\n").unwrap();
    let recovered = bangfu_pass(
        dir.path(),
        None,
        &[
            "passphrase",
            "recover",
            "--db",
            p(&db),
            "--recovery-code-file",
            p(&code_file),
            "--new-passphrase-file",
            p(&new_pass),
        ],
    );
    assert!(recovered.status.success(), "{:?}", text(&recovered));
    let opened = bangfu_pass(
        dir.path(),
        Some("恢复以后的新口令"),
        &["search", "--db", p(&db), "王"],
    );
    assert!(opened.status.success(), "{:?}", text(&opened));
    assert!(
        !text(&opened).0.starts_with("共 0 户"),
        "{:?}",
        text(&opened)
    );
}

/// `bangfu member leave|join|list` on the demo village: a 减员 keeps the person, the year before
/// keeps its family size, and what the page refuses is refused in Chinese.
#[test]
fn member_changes_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    assert!(bangfu(dir.path(), &["demo", "--db", db]).status.success());
    let code = "530826103201001";
    let list = || -> serde_json::Value {
        let out = ok(
            dir.path(),
            &["member", "list", "--db", db, "--household", code, "--json"],
        );
        serde_json::from_str(&out).unwrap()
    };
    let before = list();
    let current = before["current"].as_array().unwrap();
    let other = current
        .iter()
        .find(|m| m["relation"] != "01")
        .expect("the demo household has more than its 户主");
    let name = other["name"].as_str().unwrap();
    let head = current.iter().find(|m| m["relation"] == "01").unwrap();
    let member = |action: &str, extra: &[&str]| {
        let mut args = vec!["member", action, "--db", db, "--household", code];
        args.extend_from_slice(extra);
        bangfu(dir.path(), &args)
    };

    let unknown = member(
        "leave",
        &["--member", name, "--reason", "出国", "--date", "2019-03-01"],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).1.contains("“出国”不是减员原因"),
        "{:?}",
        text(&unknown)
    );
    let head_alone = member(
        "leave",
        &[
            "--member",
            head["name"].as_str().unwrap(),
            "--reason",
            "死亡",
            "--date",
            "2019-03-01",
        ],
    );
    assert!(!head_alone.status.success());
    assert!(text(&head_alone).1.contains("户主减员时请同时指定新户主"));

    let left = member(
        "leave",
        &["--member", name, "--reason", "嫁出", "--date", "2019-03-01"],
    );
    assert!(left.status.success(), "{:?}", text(&left));
    assert_eq!(
        text(&left).0.trim(),
        format!("已登记减员：{name}，婚出，2019-03-01。")
    );
    let after = list();
    assert_eq!(
        after["current"].as_array().unwrap().len(),
        current.len() - 1
    );
    assert_eq!(after["left"][0]["name"], name);
    assert_eq!(after["left"][0]["leave_reason"], "2");
    assert_eq!(after["changes"][0]["kind"], "减员");

    let born = member(
        "join",
        &[
            "--name",
            "新宝宝",
            "--relation",
            "之孙子",
            "--reason",
            "出生",
            "--date",
            "2020-01-05",
        ],
    );
    assert!(born.status.success(), "{:?}", text(&born));
    let joined = list();
    let baby = joined["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "新宝宝")
        .unwrap();
    assert_eq!(
        (&baby["join_reason"], &baby["join_date"]),
        (&"1".into(), &"2020-01-05".into())
    );

    let undone = member("undo-leave", &["--member", name]);
    assert!(undone.status.success(), "{:?}", text(&undone));
    assert_eq!(list()["left"].as_array().unwrap().len(), 0);
}

fn state_hash_of(home: &Path, db: &Path) -> String {
    let out = ok(home, &["state-hash", "--db", p(db), "--json"]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    value["state_hash"].as_str().unwrap().to_owned()
}

#[test]
fn a_new_laptop_joins_from_a_snapshot_file_then_takes_the_full_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let station = home.join("station.sqlite");
    let laptop = home.join("laptop.sqlite");
    ok(home, &["demo", "--db", p(&station)]);
    let found = ok(home, &["search", "--db", p(&station), "--json", "530826"]);
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    let code = found["rows"][0]["code"].as_str().unwrap().to_owned();
    for phone in ["13900000001", "13900000002", "13900000003"] {
        let set = format!("联系电话={phone}");
        ok(
            home,
            &[
                "edit",
                "--db",
                p(&station),
                "--household",
                &code,
                "--set",
                &set,
            ],
        );
    }
    introduce(home, &laptop, &station);
    let (snapshot, full) = (home.join("snapshot.bfcs"), home.join("full.bfcs"));
    let said = ok(
        home,
        &[
            "changes",
            "export",
            "--db",
            p(&station),
            "--out",
            p(&snapshot),
            "--snapshot",
            "--json",
        ],
    );
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    let full_ops = ok(
        home,
        &[
            "changes",
            "export",
            "--db",
            p(&station),
            "--out",
            p(&full),
            "--json",
        ],
    );
    let full_ops: serde_json::Value = serde_json::from_str(&full_ops).unwrap();
    assert!(
        said["ops"].as_u64().unwrap() + 3 <= full_ops["ops"].as_u64().unwrap(),
        "the three superseded phones stay out: {said} {full_ops}"
    );
    ok(
        home,
        &["changes", "import", "--db", p(&laptop), p(&snapshot)],
    );
    assert_eq!(state_hash_of(home, &laptop), state_hash_of(home, &station));
    ok(home, &["changes", "import", "--db", p(&laptop), p(&full)]);
    assert_eq!(state_hash_of(home, &laptop), state_hash_of(home, &station));
}

/// `bangfu archive`: a scan attached to a visit of the demo village, listed, carried to a
/// second laptop by a changeset and saved back out there byte for byte; a file of another kind
/// is refused in Chinese and nothing is attached.
#[test]
fn a_scan_is_attached_listed_carried_and_saved_back_out_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (a, b) = (home.join("a.sqlite"), home.join("b.sqlite"));
    ok(home, &["demo", "--db", p(&a)]);
    let household = "530826103201001";
    let records = ok(
        home,
        &[
            "archive",
            "list",
            "--db",
            p(&a),
            "--household",
            household,
            "--records",
        ],
    );
    let visit = records
        .lines()
        .find(|l| l.contains("走访记录"))
        .and_then(|l| l.split('\t').next())
        .expect("a visit")
        .to_owned();
    let scan = home.join("签字表.pdf");
    let mut bytes = b"%PDF-1.4\n% 2025 signed visit form\n".to_vec();
    bytes.extend((0..50_000u32).map(|i| (i % 253) as u8));
    std::fs::write(&scan, &bytes).unwrap();
    let added = ok(
        home,
        &[
            "archive",
            "add",
            "--db",
            p(&a),
            "--household",
            household,
            "--to",
            "visit",
            "--row",
            &visit[..13],
            "--kind",
            "签字表",
            "--caption",
            "入户走访",
            p(&scan),
        ],
    );
    assert!(added.contains("已附到 走访记录"), "{added}");

    let note = home.join("说明.docx");
    std::fs::write(&note, b"PK\x03\x04 a Word file").unwrap();
    let refused = bangfu(
        home,
        &[
            "archive",
            "add",
            "--db",
            p(&a),
            "--household",
            household,
            "--to",
            "visit",
            "--row",
            &visit,
            p(&note),
        ],
    );
    assert!(!refused.status.success());
    assert!(text(&refused).1.contains("档案只收照片（JPG、PNG）和 PDF"));

    let listed = ok(
        home,
        &[
            "archive",
            "list",
            "--db",
            p(&a),
            "--household",
            household,
            "--json",
        ],
    );
    let entries: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(entries.len(), 1);
    let sha256 = entries[0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(entries[0]["kind"], "签字表");

    carry(home, &a, &b, "a.bfcs");
    let back = home.join("back.pdf");
    ok(
        home,
        &[
            "archive",
            "get",
            "--db",
            p(&b),
            &sha256[..10],
            "--out",
            p(&back),
        ],
    );
    assert_eq!(std::fs::read(&back).unwrap(), bytes);
    let list_pdf = home.join("档案目录.pdf");
    ok(
        home,
        &[
            "archive",
            "list",
            "--db",
            p(&b),
            "--household",
            household,
            "--pdf",
            p(&list_pdf),
        ],
    );
    assert!(std::fs::read(&list_pdf).unwrap().starts_with(b"%PDF"));
}

/// `bangfu village set` refuses a bad value in Chinese and writes nothing of the command (not
/// even its good options); a good one is shown by `village list` and `village show`.
#[test]
fn village_set_refuses_bad_values_in_chinese_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    ok(dir.path(), &["demo", "--db", db]);
    let village = ["--db", db, "--village", "530826103201"];
    let list = || -> serde_json::Value {
        serde_json::from_str(&ok(dir.path(), &["village", "list", "--db", db, "--json"])).unwrap()
    };
    let before = list();
    assert_eq!(before[0]["rural_population"], 4126);
    let filed = before[0]["filed_people"].as_i64().unwrap();
    assert!(filed > 100, "{before}");
    let refused: [(&[&str], &str); 4] = [
        (
            &["--rural-population", "100", "--poor-village", "是"],
            "农村人口 100 人少于本村已建档的",
        ),
        (&["--road", "也许"], "通硬化路"),
        (
            &["--water", "是", "--date", "water=2999-01-01"],
            "安全饮水达标日期 2999-01-01 晚于今天",
        ),
        (&["--exit-year", "2018"], "只有贫困村才有退出年度"),
    ];
    for (extra, message) in refused {
        let args = [&["village", "set"][..], &village[..], extra].concat();
        let out = bangfu(dir.path(), &args);
        assert!(!out.status.success(), "{extra:?}");
        let (_, err) = text(&out);
        assert!(err.contains(message), "{extra:?}: {err}");
        assert_eq!(list(), before, "nothing written by {extra:?}");
    }
    let set = ok(
        dir.path(),
        &[
            &["village", "set"][..],
            &village[..],
            &[
                "--rural-population",
                "4200",
                "--poor-village",
                "是",
                "--road",
                "是",
                "--date",
                "road=2018-10-01",
                "--evidence",
                "通硬化路=县交通局验收单 2018-17 号",
            ],
        ]
        .concat(),
    );
    assert!(
        set.contains("已保存 新文村（530826103201）的村情：5 项"),
        "{set}"
    );
    let after = list();
    assert_eq!(after[0]["rural_population"], 4200);
    assert_eq!(after[0]["poor_village"], true);
    let show = ok(
        dir.path(),
        &[&["village", "show"][..], &village[..], &["--year", "2019"]].concat(),
    );
    assert!(
        show.contains(
            "[达标] 通硬化路：是（达标日期：2018-10-01；佐证材料：县交通局验收单 2018-17 号）"
        ),
        "{show}"
    );
    let early = ok(
        dir.path(),
        &[
            &["village", "show"][..],
            &village[..],
            &["--year", "2017", "--json"],
        ]
        .concat(),
    );
    let early: serde_json::Value = serde_json::from_str(&early).unwrap();
    let road = early["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "road")
        .cloned()
        .expect("the road is checked");
    // Met on 2018-10-01: not yet at the end of 2017.
    assert_eq!(road["status"], "not_met", "{road}");
}

/// `bangfu exit step --households …`: one step for a list, all or nothing unless
/// `--skip-failing`, and `--village … --all-eligible` for every household due.
#[test]
fn one_exit_step_for_a_list_of_households_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    ok(dir.path(), &["demo", "--db", db]);
    let status = || -> serde_json::Value {
        let out = ok(dir.path(), &["exit", "status", "--db", db, "--json"]);
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["households"]["by_step"].clone()
    };
    let codes = |row: &serde_json::Value| -> Vec<String> {
        row["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["household_code"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = status();
    let not_started = codes(&before[0]);
    // A household already surveyed cannot be surveyed again.
    let surveyed = codes(&before[1]);
    assert!(not_started.len() >= 2 && !surveyed.is_empty());
    let list = format!("{},{},{}", not_started[0], not_started[1], surveyed[0]);
    let survey = [
        "--step",
        "入户调查",
        "--date",
        "2026-01-05",
        "--people",
        "工作队",
        "--household-signed",
        "是",
        "--food-secure",
        "是",
        "--clothing-secure",
        "是",
    ];
    let args = [
        &["exit", "step", "--db", db, "--households", &list][..],
        &survey[..],
    ]
    .concat();
    let refused = bangfu(dir.path(), &args);
    assert!(!refused.status.success());
    let (_, err) = text(&refused);
    assert!(
        err.contains("名单中有 1 户不能办理入户调查，全部未保存")
            && err.contains(&format!(
                "户 {}：退出程序不能跳过或颠倒：下一步应办理村两委商议",
                surveyed[0]
            )),
        "{err}"
    );
    assert_eq!(status(), before, "nothing written");
    let done = ok(dir.path(), &[&args[..], &["--skip-failing"]].concat());
    assert!(done.contains("已为 2 户办理入户调查"), "{done}");
    assert!(done.contains(&format!("户 {}：", surveyed[0])), "{done}");
    let after = status();
    assert_eq!(
        after[1]["households"].as_u64().unwrap(),
        before[1]["households"].as_u64().unwrap() + 2
    );
    // Every household still not started, at once.
    let all = ok(
        dir.path(),
        &[
            &[
                "exit",
                "step",
                "--db",
                db,
                "--village",
                "530826103201",
                "--all-eligible",
            ][..],
            &survey[..],
        ]
        .concat(),
    );
    let remaining = after[0]["households"].as_u64().unwrap();
    assert!(
        all.contains(&format!("已为 {remaining} 户办理入户调查")),
        "{all}"
    );
    assert_eq!(status()[0]["households"], 0);
}

/// `bangfu exit step --households … --exception 户编号=理由 --exception-by …`: at 村两委商议 a
/// household below the standard goes with the list only with its own reason and the person
/// deciding; `--check` names who needs one and writes nothing.
#[test]
fn a_deliberation_for_a_list_takes_exception_reasons_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    ok(dir.path(), &["demo", "--db", db]);
    let deliberation = [
        "exit",
        "step",
        "--db",
        db,
        "--step",
        "村两委商议",
        "--date",
        "2026-12-01",
        "--people",
        "村两委、驻村工作队",
        "--vote",
        "举手表决",
        "--result",
        "同意",
        "--work-team-present",
        "是",
    ];
    let checked = ok(
        dir.path(),
        &[
            &deliberation[..],
            &[
                "--village",
                "530826103201",
                "--all-eligible",
                "--check",
                "--json",
            ],
        ]
        .concat(),
    );
    let checked: serde_json::Value = serde_json::from_str(&checked).unwrap();
    let failing = checked["failed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "exception_unrecorded")
        .expect("the demo has a household below the standard")["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let passing = checked["recorded"][0].as_str().unwrap().to_owned();
    let list = format!("{passing},{failing}");
    let base = [&deliberation[..], &["--households", &list]].concat();

    let refused = bangfu(dir.path(), &base);
    assert!(!refused.status.success());
    let (_, err) = text(&refused);
    assert!(
        err.contains(&format!("户 {failing}：该户按2026年标准未达标"))
            && err.contains("全部未保存"),
        "{err}"
    );
    let exception = format!("{failing}=已落实饮水工程，年底前完工");
    let unnamed = bangfu(
        dir.path(),
        &[&base[..], &["--exception", &exception]].concat(),
    );
    assert!(!unnamed.status.success());
    assert!(text(&unnamed).1.contains("请用 --exception-by 写明决定人"));
    let stranger = bangfu(
        dir.path(),
        &[
            &base[..],
            &[
                "--exception",
                "530826103201999=理由",
                "--exception-by",
                "王五（村党总支书记）",
            ],
        ]
        .concat(),
    );
    assert!(!stranger.status.success());

    // A reason for the household that meets the standard too: not needed, said, not kept.
    let unneeded = format!("{passing}=多写的理由");
    let done = ok(
        dir.path(),
        &[
            &base[..],
            &[
                "--exception",
                &exception,
                "--exception",
                &unneeded,
                "--exception-by",
                "王五（村党总支书记）",
            ],
        ]
        .concat(),
    );
    assert!(done.contains("已为 2 户办理村两委商议"), "{done}");
    assert!(
        done.contains(&format!(
            "户 {passing} 达到标准且已签字认可，不需要例外理由，例外理由未记录。"
        )),
        "{done}"
    );

    // The list is gone from the households due: both took the step.
    let again = bangfu(dir.path(), &base);
    assert!(!again.status.success());
    assert!(
        text(&again).1.contains("名单中有 2 户不能办理村两委商议"),
        "{}",
        text(&again).1
    );
}

/// `bangfu edit --set 建档日期=…`: the household's filing date through the page's own save,
/// a day in the future refused in Chinese with nothing changed.
#[test]
fn a_filing_date_is_set_and_a_future_one_refused_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("village.sqlite");
    let db = p(&db);
    ok(dir.path(), &["demo", "--db", db]);
    let code = "530826103201001";
    let filed = || -> serde_json::Value {
        let out = ok(
            dir.path(),
            &[
                "household",
                "show",
                "--db",
                db,
                "--household",
                code,
                "--json",
            ],
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["page"]["household"]["filing_date"]
            .clone()
    };
    assert!(filed().is_string(), "the demo fills the date: {}", filed());
    ok(
        dir.path(),
        &[
            "edit",
            "--db",
            db,
            "--household",
            code,
            "--set",
            "建档日期=2015-03-18",
        ],
    );
    assert_eq!(filed(), "2015-03-18");
    let future = bangfu(
        dir.path(),
        &[
            "edit",
            "--db",
            db,
            "--household",
            code,
            "--set",
            "建档日期=2099-01-01",
        ],
    );
    assert!(!future.status.success());
    assert!(
        text(&future).1.contains("建档日期 2099-01-01 晚于今天"),
        "{:?}",
        text(&future)
    );
    assert_eq!(filed(), "2015-03-18", "nothing changed");
}

/// `bangfu team set` changes only the fields given, refuses a 离村 before the 驻村 in Chinese
/// with nothing written, and `--end 无` clears a 离村 recorded by mistake.
#[test]
fn team_set_changes_the_fields_given_and_refuses_a_leave_before_arriving() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    ok(dir.path(), &["demo", "--db", p(&db)]);
    let village = ["--db", p(&db), "--village", "530826103201"];
    ok(
        dir.path(),
        &[
            &["team", "add"][..],
            &village[..],
            &[
                "--name",
                "王明",
                "--role",
                "第一书记",
                "--unit",
                "县农业农村局",
                "--post",
                "副局长",
                "--start",
                "2024-03-01",
            ],
        ]
        .concat(),
    );
    let set = |extra: &[&str]| {
        bangfu(
            dir.path(),
            &[
                &["team", "set"][..],
                &village[..],
                &["--member", "王明"],
                extra,
            ]
            .concat(),
        )
    };
    let list = || ok(dir.path(), &[&["team", "list"][..], &village[..]].concat());
    assert!(
        set(&["--post", "局长", "--phone", "13900001111"])
            .status
            .success()
    );
    let shown = list();
    assert!(
        shown.contains("县农业农村局 局长") && shown.contains("13900001111"),
        "{shown}"
    );

    let refused = set(&["--end", "2024-02-01"]);
    assert!(!refused.status.success());
    let (_, stderr) = text(&refused);
    assert!(
        stderr.contains("离村日期 2024-02-01 早于驻村日期 2024-03-01"),
        "{stderr}"
    );
    assert!(!list().contains("2024-02-01"), "nothing written");

    assert!(set(&["--end", "2025-05-31"]).status.success());
    assert!(list().contains("已离村"));
    assert!(set(&["--end", "无"]).status.success());
    assert!(!list().contains("已离村"), "{}", list());
    let nothing = set(&[]);
    assert!(!nothing.status.success());
    assert!(text(&nothing).1.contains("没有要修改的项"));
}

#[test]
fn the_first_filing_year_is_shown_set_and_taken_back_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("county.sqlite");
    let filing_year = |extra: &[&str]| {
        let mut args = vec!["standards", "filing-year", "--db", p(&db)];
        args.extend_from_slice(extra);
        bangfu(dir.path(), &args)
    };
    let shown = filing_year(&[]);
    assert!(shown.status.success(), "{:?}", text(&shown));
    assert!(
        text(&shown).0.contains("首次建档年度 2014 年：程序自带"),
        "{:?}",
        text(&shown)
    );

    let no_source = filing_year(&["--set", "2013"]);
    assert!(!no_source.status.success());
    assert!(
        text(&no_source).1.contains("请填写“依据”"),
        "{:?}",
        text(&no_source)
    );

    let set = filing_year(&["--set", "2013", "--source", "县建档立卡试点方案"]);
    assert!(set.status.success(), "{:?}", text(&set));
    assert!(
        text(&set).0.contains("已设定首次建档年度 2013 年"),
        "{:?}",
        text(&set)
    );
    let json = filing_year(&["--json"]);
    let settings: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(settings["first_filing_year"]["year"], 2013);
    assert_eq!(
        settings["first_filing_year"]["source"],
        "县建档立卡试点方案"
    );

    let cleared = filing_year(&["--clear"]);
    assert!(
        text(&cleared).0.contains("恢复程序自带的 2014 年"),
        "{:?}",
        text(&cleared)
    );
    assert!(text(&filing_year(&[])).0.contains("2014 年：程序自带"));
}
