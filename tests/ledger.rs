//! Ledgers end to end: every exported ledger read back by calamine (values and cell types,
//! golden), messy rolls previewed and imported, and our own export imported again.

#[path = "common.rs"]
mod common;

use std::path::{Path, PathBuf};

use bangfu_core::filing::HouseholdFile;
use bangfu_core::ledger::import::RowStatus;
use bangfu_core::ledger::{
    LedgerKind, Scope, bench_member_ledger, export_ledger, export_ledger_of_year, export_report,
    import_good_rows, preview_roll,
};
use bangfu_core::model::{
    Helper, Household, Income, Measure, Member, Pairing, Payment, Village, Visit,
};
use bangfu_core::report::readiness::exit_readiness;
use bangfu_core::report::stats::stats;
use bangfu_core::store::{Filter, Store, put_change};
use calamine::{Data, Reader, open_workbook_auto};
use chrono::NaiveDate;
use uuid::Uuid;

/// 2025-06-15 08:00 UTC+8.
const CLOCK: u64 = 1_749_945_600_000;

/// Test helpers panic with the error itself (clippy allows unwrap only inside #[test] fns).
fn must<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rolls")
}

fn resident_id(prefix17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = prefix17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!(
        "{prefix17}{}",
        "10X98765432".as_bytes()[(sum % 11) as usize] as char
    )
}

fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A village of two households with every kind of record, and a household of another village
/// that a village export must leave out.
fn small_store(dir: &Path) -> Store {
    let mut s = common::open_at(dir, "ledger", CLOCK);
    let village = |code: &str, name: &str| Village {
        id: Uuid::now_v7(),
        code: code.into(),
        name: name.into(),
        township: "勐康镇".into(),
        county: "澜江县".into(),
        province: "云南省".into(),
        rural_population: Some(40),
        ..Default::default()
    };
    let v1 = village("530826103201", "新文村");
    let v2 = village("530826103202", "旧寨村");
    must(s.put(&v1));
    must(s.put(&v2));
    let helper = Helper {
        id: Uuid::now_v7(),
        name: "张建国".into(),
        sex: "1".into(),
        unit: "县农业农村局".into(),
        unit_level: "3".into(),
        title: "科员".into(),
        phone: "13900001111".into(),
    };
    must(s.put(&helper));
    let mut payments = Vec::new();
    let households = [
        (
            &v1,
            "530826103201001",
            "王大山",
            "1",
            "01",
            "6222021234567890123",
        ),
        (&v1, "530826103201002", "李明", "4", "09", ""),
        (&v2, "530826103202001", "赵四", "1", "02", ""),
    ];
    for (n, (v, code, head, status, cause, bank)) in households.into_iter().enumerate() {
        let h = Household {
            id: Uuid::now_v7(),
            village_id: Some(v.id),
            code: code.into(),
            group_name: "一组".into(),
            identify_standard: "1".into(),
            attribute: "1".into(),
            poverty_status: status.into(),
            main_cause: cause.into(),
            other_causes: if n == 0 {
                "07,09".into()
            } else {
                String::new()
            },
            arable_area: Some(3.5),
            dangerous_house: Some(false),
            phone: "13812345678".into(),
            bank_name: if bank.is_empty() {
                String::new()
            } else {
                "农村信用社".into()
            },
            bank_account: bank.into(),
            plan_exit_year: Some(2019),
            filing_date: chrono::NaiveDate::from_ymd_opt(2014, 10, 12).filter(|_| n == 0),
            ..Default::default()
        };
        let member = |name: &str, relation: &str, id: String, sex: &str| Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: name.into(),
            relation: relation.into(),
            id_number: id,
            sex: sex.into(),
            ethnicity: "01".into(),
            health: if relation == "01" {
                "2,4".into()
            } else {
                "1".into()
            },
            medical_insurance: Some(true),
            ..Default::default()
        };
        let members = vec![
            member(
                head,
                "01",
                resident_id(&format!("5308261970010{}001", n + 1)),
                "1",
            ),
            member(
                "家属",
                "02",
                resident_id(&format!("5308261972020{}002", n + 1)),
                "2",
            ),
        ];
        // Structured measures (issue 17) for the policy ledgers: a relocation half paid, a
        // training done, the head's 医疗救助 paid.
        let policy = |path: &str, code: &str, name: &str, due: Option<f64>, member| Measure {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            year: Some(2017),
            path: path.into(),
            description: name.into(),
            status: "3".into(),
            policy_id: Some(bangfu_core::policy::policy_id(2017, code)),
            member_id: member,
            amount_due: due,
            ..Default::default()
        };
        let relocation = policy(
            "02",
            "relocation_house",
            "易地扶贫搬迁建房补助",
            Some(60000.0),
            None,
        );
        let training = policy("03", "training_guided", "引导性培训（户均1人）", None, None);
        let medical = policy(
            "06",
            "medical_aid",
            "重特大疾病医疗救助",
            Some(8000.0),
            Some(members[0].id),
        );
        let paid = |m: &Measure, on: Option<NaiveDate>, amount: f64| Payment {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            measure_id: Some(m.id),
            pay_date: on,
            amount: Some(amount),
            channel: "1".into(),
            note: String::new(),
        };
        payments.push(paid(&relocation, day(2017, 6, 1), 30000.0));
        payments.push(paid(&medical, day(2017, 7, 1), 8000.0));
        let file = HouseholdFile {
            members,
            incomes: vec![Income {
                id: Uuid::now_v7(),
                household_id: Some(h.id),
                year: Some(2017),
                wage: Some(6000.0),
                business: Some(3000.0),
                dibao_allowance: Some(1200.5),
                business_expense: Some(1000.0),
                ..Default::default()
            }],
            pairings: vec![Pairing {
                id: Uuid::now_v7(),
                household_id: Some(h.id),
                helper_id: Some(helper.id),
                start_date: day(2016, 3, 1),
                end_date: None,
            }],
            measures: vec![
                Measure {
                    id: Uuid::now_v7(),
                    household_id: Some(h.id),
                    year: Some(2017),
                    path: "01".into(),
                    description: "发展产业：养牛".into(),
                    amount: Some(6000.0),
                    funding_source: "财政专项".into(),
                    status: "3".into(),
                    ..Default::default()
                },
                Measure {
                    id: Uuid::now_v7(),
                    household_id: Some(h.id),
                    year: Some(2017),
                    path: "04".into(),
                    description: "高中一次性补助".into(),
                    amount: Some(3000.0),
                    status: "3".into(),
                    ..Default::default()
                },
                relocation,
                training,
                medical,
            ],
            visits: vec![Visit {
                id: Uuid::now_v7(),
                household_id: Some(h.id),
                helper_id: Some(helper.id),
                visit_date: day(2017, 5, 20),
                found: "牛长势好".into(),
                done: "联系兽医".into(),
            }],
            household: h,
        };
        must(s.file_household(&file));
    }
    must(s.write(&payments.iter().map(put_change).collect::<Vec<_>>()));
    s
}

/// A sheet as text, one line per row: S"…" string, N… number, D… date, F… formula result
/// does not exist in calamine's values, so totals read as numbers; empty cells are `.`.
fn render(path: &Path) -> String {
    let mut book = must(open_workbook_auto(path));
    let mut out = String::new();
    for name in book.sheet_names() {
        out.push_str(&format!("## {name}\n"));
        let range = must(book.worksheet_range(&name));
        for row in range.rows() {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Data::Empty => ".".into(),
                    Data::String(s) => format!("S{s:?}"),
                    Data::Float(f) => format!("N{f}"),
                    Data::Int(i) => format!("N{i}"),
                    Data::DateTime(d) => format!("D{}", d.as_f64()),
                    other => format!("?{other:?}"),
                })
                .collect();
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_ledger_reads_back_with_the_right_values_and_cell_types() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let scope = Scope::Village("530826103201".into());
    for kind in LedgerKind::ALL {
        let out = dir.path().join(format!("{}.xlsx", kind.key()));
        let summary = export_ledger(&store, kind, &scope, &out).unwrap();
        let text = render(&out);
        assert!(!text.contains("530826103202001"), "{kind:?} left its scope");
        insta::assert_snapshot!(format!("ledger_{}", kind.key()), text);
        if kind != LedgerKind::Suspects {
            assert!(summary.rows >= 2, "{kind:?}: {}", summary.rows);
        }
    }
}

#[test]
fn identifiers_are_text_amounts_numbers_and_dates_dates() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    // (ledger, column title, what every cell of that column must be)
    type Case<'a> = (LedgerKind, &'a str, fn(&Data) -> bool);
    let cases: &[Case] = &[
        (
            LedgerKind::Members,
            "证件号码",
            |d| matches!(d, Data::String(s) if s.len() == 18),
        ),
        (
            LedgerKind::Members,
            "户编号",
            |d| matches!(d, Data::String(s) if s.len() == 15),
        ),
        (LedgerKind::Households, "银行卡号", |d| {
            matches!(d, Data::String(_) | Data::Empty)
        }),
        (LedgerKind::Households, "联系电话", |d| {
            matches!(d, Data::String(_))
        }),
        (LedgerKind::Households, "家庭人口", |d| {
            matches!(d, Data::Float(_))
        }),
        // A structured measure (issue 17) carries its 应发金额 instead, and a training none.
        (LedgerKind::Measures, "金额(元)", |d| {
            matches!(d, Data::Float(_) | Data::Empty)
        }),
        (LedgerKind::Education, "应发金额(元)", |d| {
            matches!(d, Data::Float(_))
        }),
        (LedgerKind::Relocation, "已发金额(元)", |d| {
            matches!(d, Data::Float(_))
        }),
        (LedgerKind::Relocation, "最近发放日期", |d| {
            matches!(d, Data::DateTime(_))
        }),
        (LedgerKind::Medical, "受益成员", |d| {
            matches!(d, Data::String(_))
        }),
        (LedgerKind::Incomes, "纯收入", |d| {
            matches!(d, Data::Float(_))
        }),
        (LedgerKind::Visits, "走访日期", |d| {
            matches!(d, Data::DateTime(_))
        }),
        (LedgerKind::Pairings, "开始日期", |d| {
            matches!(d, Data::DateTime(_))
        }),
    ];
    for (kind, header, ok) in cases {
        let out = dir.path().join(format!("{}.xlsx", kind.key()));
        export_ledger(&store, *kind, &Scope::All, &out).unwrap();
        let mut book = open_workbook_auto(&out).unwrap();
        let range = book.worksheet_range(kind.title()).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        let col = rows[2]
            .iter()
            .position(|c| c == &Data::String((*header).into()))
            .unwrap_or_else(|| panic!("{kind:?} has no {header}"));
        let data: Vec<&Data> = rows[3..]
            .iter()
            .filter(|r| r[0] != Data::String("合计".into()))
            .map(|r| &r[col])
            .collect();
        assert!(data.len() >= 3, "{kind:?} {header}: {data:?}");
        assert!(data.iter().all(|d| ok(d)), "{kind:?} {header}: {data:?}");
    }
}

#[test]
fn measure_totals_sum_the_amounts_of_the_scope() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let out = dir.path().join("m.xlsx");
    export_ledger(
        &store,
        LedgerKind::Measures,
        &Scope::Township("勐康镇".into()),
        &out,
    )
    .unwrap();
    let mut book = open_workbook_auto(&out).unwrap();
    let range = book.worksheet_range("帮扶措施台帐").unwrap();
    let last = range.rows().next_back().unwrap();
    assert_eq!(last[0], Data::String("合计".into()));
    // Three households, each with two free-text measures (6,000 + 3,000 元) and three
    // structured ones (搬迁 60,000 and 医疗救助 8,000 元 due, a training with no amount).
    assert_eq!(last[1], Data::String("共15条".into()));
    assert!(last.contains(&Data::Float(27000.0)), "{last:?}");
    assert!(last.contains(&Data::Float(204_000.0)), "{last:?}");
}

#[test]
fn an_unknown_village_is_refused_with_a_chinese_message() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let err = export_ledger(
        &store,
        LedgerKind::Members,
        &Scope::Village("999".into()),
        &dir.path().join("x.xlsx"),
    )
    .unwrap_err();
    assert!(bangfu_core::UserFacing::message_zh(&err).contains("没有村代码为 999"));
}

/// (Excel row, rule) findings the merged-header roll must produce, and the status of each row.
#[test]
fn a_messy_roll_is_previewed_row_by_row_before_anything_is_written() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "import", CLOCK);
    let preview = preview_roll(&store, &fixtures().join("merged_header.xlsx")).unwrap();
    assert_eq!(store.op_count().unwrap(), 0, "a preview writes nothing");
    assert_eq!((preview.sheet.as_str(), preview.header_row), ("花名册", 4));
    let expected: &[(usize, RowStatus, &[&str])] = &[
        (5, RowStatus::Ready, &["import.value_alias"]),
        (6, RowStatus::Ready, &["import.value_alias"]),
        (7, RowStatus::Ready, &[]),
        (
            9,
            RowStatus::Blocked,
            &["import.value_alias", "import.value_alias"],
        ),
        (10, RowStatus::Error, &["import.number_lost_digits"]),
        (11, RowStatus::Error, &["household.head_missing"]),
        (12, RowStatus::Blocked, &[]),
        (13, RowStatus::Error, &["import.value_unknown"]),
        (14, RowStatus::Ready, &[]),
        (15, RowStatus::Ready, &[]),
        (16, RowStatus::Ready, &["import.duplicate_person"]),
        (
            17,
            RowStatus::Error,
            &[
                "import.value_alias",
                "household.head_multiple",
                "household.duplicate_id",
            ],
        ),
        (18, RowStatus::Blocked, &[]),
        (19, RowStatus::Error, &["import.household_code_missing"]),
    ];
    let got: Vec<(usize, RowStatus, Vec<&str>)> = preview
        .rows
        .iter()
        .map(|r| (r.row, r.status, r.issues.iter().map(|i| i.rule).collect()))
        .collect();
    let want: Vec<(usize, RowStatus, Vec<&str>)> = expected
        .iter()
        .map(|(r, s, rules)| (*r, *s, rules.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        (
            preview.summary.households_ready,
            preview.summary.members_ready,
            preview.summary.households_with_errors
        ),
        (2, 6, 4)
    );
    assert_eq!(preview.summary.new_villages, ["530826103299"]);

    let outcome = import_good_rows(&mut store, &preview).unwrap();
    assert_eq!(
        (
            outcome.households,
            outcome.members,
            outcome.villages_created
        ),
        (2, 6, 1)
    );
    let members = store.read::<Member>(Filter::All).unwrap();
    let li = members
        .iter()
        .find(|m| m.name.starts_with("李秀英"))
        .unwrap();
    assert_eq!(li.name, "李秀英", "trailing spaces are trimmed");
    assert_eq!(li.relation, "02");
    let son = members.iter().find(|m| m.name == "王小军").unwrap();
    assert!(
        son.id_number.chars().all(|c| c.is_ascii_alphanumeric()),
        "{}",
        son.id_number
    );
    let households = store.read::<Household>(Filter::All).unwrap();
    let first = households
        .iter()
        .find(|h| h.code == "530826103299001")
        .unwrap();
    assert_eq!(
        (first.main_cause.as_str(), first.phone.as_str()),
        ("01", "13812345678")
    );

    // Running the same import again writes nothing more: those households are already filed.
    let ops = store.op_count().unwrap();
    let again = preview_roll(&store, &fixtures().join("merged_header.xlsx")).unwrap();
    assert_eq!(again.summary.households_existing, 2);
    let outcome = import_good_rows(&mut store, &again).unwrap();
    assert_eq!(outcome.households, 0);
    assert_eq!(store.op_count().unwrap(), ops);
}

#[test]
fn gbk_csv_and_xls_rolls_are_read() {
    let dir = common::scratch();
    let store = common::open_at(dir.path(), "import", CLOCK);
    let csv = preview_roll(&store, &fixtures().join("gbk.csv")).unwrap();
    let names: Vec<&str> = csv.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["何春生", "何秋菊", "马国强", "马小梅"]);
    let rules: Vec<Vec<&str>> = csv
        .rows
        .iter()
        .map(|r| r.issues.iter().map(|i| i.rule).collect())
        .collect();
    assert_eq!(
        rules,
        [
            vec!["import.value_alias"],
            vec!["import.number_lost_digits"],
            vec!["import.value_alias", "import.family_size_differs"],
            vec!["import.value_alias"],
        ]
    );
    // The full-width household code groups with the half-width one.
    assert_eq!(csv.rows[2].household_code, csv.rows[3].household_code);
    assert_eq!(csv.summary.households_ready, 1);

    let xls = preview_roll(&store, &fixtures().join("plain.xls")).unwrap();
    assert_eq!(
        (xls.summary.households_ready, xls.summary.members_ready),
        (1, 2)
    );
    assert!(
        xls.rows.iter().all(|r| r.issues.is_empty()),
        "{:?}",
        xls.rows
    );
}

#[test]
fn files_that_are_not_rolls_are_refused_whole() {
    let dir = common::scratch();
    let store = common::open_at(dir.path(), "import", CLOCK);
    let no_header = dir.path().join("notes.csv");
    std::fs::write(&no_header, "今天,天气\n很好,晴\n").unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (no_header, "roll_no_header"),
        (dir.path().join("x.docx"), "roll_unsupported"),
        (dir.path().join("missing.xlsx"), "roll_unreadable"),
    ];
    for (path, kind) in cases {
        let err = preview_roll(&store, &path).unwrap_err();
        assert_eq!(
            bangfu_core::UserFacing::kind(&err),
            kind,
            "{}",
            path.display()
        );
    }
}

#[test]
fn our_own_member_ledger_imports_into_an_empty_file() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let out = dir.path().join("members.xlsx");
    export_ledger(&store, LedgerKind::Members, &Scope::All, &out).unwrap();
    let mut empty = common::open_at(dir.path(), "empty", CLOCK);
    let preview = preview_roll(&empty, &out).unwrap();
    assert_eq!(preview.summary.errors, 0, "{:?}", preview.rows);
    import_good_rows(&mut empty, &preview).unwrap();
    let mut before: Vec<(String, String)> = store
        .read::<Member>(Filter::All)
        .unwrap()
        .into_iter()
        .map(|m| (m.id_number, m.health))
        .collect();
    let mut after: Vec<(String, String)> = empty
        .read::<Member>(Filter::All)
        .unwrap()
        .into_iter()
        .map(|m| (m.id_number, m.health))
        .collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
}

/// The ledgers of incomes, measures and visits of one work year hold that year's records and
/// say the year in their title; the other ledgers do not depend on a year.
#[test]
fn a_ledger_of_one_work_year_holds_only_that_years_records_and_names_the_year() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "demo", CLOCK);
    bangfu_core::demo::write_demo_village(&mut store).unwrap();
    let incomes = store.read::<Income>(Filter::All).unwrap();
    let measures = store.read::<Measure>(Filter::All).unwrap();
    let visits = store.read::<Visit>(Filter::All).unwrap();
    let count = |kind: LedgerKind, year: i32| -> u64 {
        let y = i64::from(year);
        match kind {
            LedgerKind::Incomes => incomes.iter().filter(|i| i.year == Some(y)).count() as u64,
            LedgerKind::Measures => measures.iter().filter(|m| m.year == Some(y)).count() as u64,
            _ => visits
                .iter()
                .filter(|v| {
                    v.visit_date
                        .is_some_and(|d| chrono::Datelike::year(&d) == year)
                })
                .count() as u64,
        }
    };
    // The demo's filing years and its recent years by the clock (2025-06-15).
    for year in [2016, 2017, 2024, 2025] {
        for kind in [
            LedgerKind::Incomes,
            LedgerKind::Measures,
            LedgerKind::Visits,
        ] {
            let out = dir.path().join(format!("{}-{year}.xlsx", kind.key()));
            let summary =
                export_ledger_of_year(&store, kind, &Scope::All, Some(year), &out).unwrap();
            assert!(count(kind, year) > 0, "{kind:?} {year} has records");
            assert_eq!(summary.rows, count(kind, year), "{kind:?} {year}");
            assert_eq!(summary.title, format!("澜江县{year}年度{}", kind.title()));
            let text = render(&out);
            assert!(text.contains(&format!("{year}年度")), "{kind:?} {year}");
        }
    }
    let all = export_ledger(
        &store,
        LedgerKind::Incomes,
        &Scope::All,
        &dir.path().join("all.xlsx"),
    )
    .unwrap();
    assert_eq!(all.rows, incomes.len() as u64);
    let households = export_ledger_of_year(
        &store,
        LedgerKind::Households,
        &Scope::All,
        Some(2017),
        &dir.path().join("h.xlsx"),
    )
    .unwrap();
    assert_eq!(
        (households.rows, households.title.contains("年度")),
        (300, false)
    );
}

#[test]
fn report_figures_follow_the_records() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let report = stats(&store, &Scope::All, Some(2017)).unwrap();
    insta::assert_yaml_snapshot!("report_small_store", report);
    let out = dir.path().join("report.xlsx");
    export_report(&report, None, "澜江县", &out).unwrap();
    assert!(render(&out).contains("S\"贫困发生率(%)\""));
    assert!(!render(&out).contains("## 退出达标"));
}

#[test]
fn the_report_workbook_lists_exit_readiness_household_by_household() {
    let dir = common::scratch();
    let store = small_store(dir.path());
    let report = stats(&store, &Scope::All, Some(2017)).unwrap();
    let readiness = exit_readiness(&store, &Scope::All, Some(2017)).unwrap();
    assert!(readiness.households > 0);
    let out = dir.path().join("report.xlsx");
    export_report(&report, Some(&readiness), "澜江县", &out).unwrap();
    let text = render(&out);
    let sheet = text.split("## 退出达标\n").nth(1).unwrap();
    // Title, header, then one row per household evaluated.
    assert_eq!(sheet.lines().count(), 2 + readiness.households, "{sheet}");
    for row in &readiness.rows {
        let line = sheet
            .lines()
            .find(|l| l.starts_with(&format!("S{:?}", row.household_code)))
            .unwrap();
        assert!(line.contains(if row.meets {
            "S\"达标\""
        } else {
            "S\"未达标\""
        }));
        for s in &row.shortfalls {
            assert!(line.contains(s.label), "{line}");
        }
    }
}

#[test]
fn the_member_ledger_bench_measures_both_sides() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "bench", CLOCK);
    bangfu_core::demo::write_demo_village(&mut store).unwrap();
    let (ours, plain) = bench_member_ledger(&store, &dir.path().join("bench.xlsx")).unwrap();
    assert!(ours > 0.0 && plain > 0.0);
    assert!(dir.path().join("bench.xlsx").exists());
}
