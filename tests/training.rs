//! 培训 records per member (issue 17): a training names its attendee, kind, days and
//! certificate; wrong ones are refused in the words of the forms; the village and township
//! report counts the 户均 1 人 coverage of the year, the report workbook has its sheet, and the
//! 培训台帐 lists each training with its kind, days and certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::filing::HouseholdFile;
use bangfu_core::ledger::{LedgerKind, Scope, export_ledger_of_year, export_report};
use bangfu_core::model::{Household, Member, Village};
use bangfu_core::policy::{DueState, NewTraining, household_due, record_training};
use bangfu_core::report::stats::stats;
use bangfu_core::store::{Store, put_change};
use calamine::{Data, Reader};
use uuid::Uuid;

/// 2025-06-15.
const CLOCK: u64 = 1_750_000_000_000;

fn village(code: &str, name: &str) -> Village {
    Village {
        id: Uuid::now_v7(),
        code: code.into(),
        name: name.into(),
        township: "大寨镇".into(),
        province: "云南省".into(),
        ..Default::default()
    }
}

/// A household of two working-age people; returns its id and its members' ids.
fn household(store: &mut Store, v: &Village, seq: u32) -> (Uuid, Vec<Uuid>) {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(v.id),
        code: format!("{}{seq:03}", v.code),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        ..Default::default()
    };
    let person = |name: String, relation: &str, prefix: String, sex: &str| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name,
        relation: relation.into(),
        sex: sex.into(),
        id_number: common::id_number(&prefix),
        labor_skill: "1".into(),
        ..Default::default()
    };
    let members = vec![
        person(
            format!("户主{seq}"),
            "01",
            format!("53082619800101{seq:02}1"),
            "1",
        ),
        person(
            format!("配偶{seq}"),
            "02",
            format!("53082619820101{seq:02}2"),
            "2",
        ),
    ];
    let ids = members.iter().map(|m| m.id).collect();
    let id = household.id;
    store
        .file_household(&HouseholdFile {
            household,
            members,
            ..Default::default()
        })
        .unwrap();
    (id, ids)
}

/// A coverage line as the test reads it: name, households, trained households, trained
/// people, certificates, coverage.
type CoverageLine<'a> = (&'a str, i64, i64, i64, i64, Option<f64>);

fn training(household: Uuid, member: Uuid, year: i32, kind: &str, days: i64) -> NewTraining {
    NewTraining {
        household_id: household,
        member_id: member,
        year,
        kind: kind.into(),
        days,
        certificate: String::new(),
    }
}

#[test]
fn wrong_trainings_are_refused_in_the_words_of_the_forms() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "大寨镇工作站", CLOCK);
    let v = village("530826103201", "新文村");
    store.write(&[put_change(&v)]).unwrap();
    let (h1, m1) = household(&mut store, &v, 1);
    let (_h2, m2) = household(&mut store, &v, 2);
    let cases: &[(&str, NewTraining, &str)] = &[
        (
            "no days",
            training(h1, m1[0], 2025, "引导性培训", 0),
            "培训天数应在 1 到 366 天之间",
        ),
        (
            "a year of days",
            training(h1, m1[0], 2025, "技能培训", 400),
            "培训天数应在 1 到 366 天之间",
        ),
        (
            "unknown kind",
            training(h1, m1[0], 2025, "扫盲班", 2),
            "培训类别“扫盲班”不在表内",
        ),
        (
            "another household's member",
            training(h1, m2[0], 2025, "引导性培训", 2),
            "不是本户的家庭成员",
        ),
    ];
    for (name, input, words) in cases {
        let message = record_training(&mut store, input).unwrap_err().message_zh();
        assert!(message.contains(words), "{name}: {message}");
    }
    let report = stats(&store, &Scope::All, Some(2025)).unwrap();
    assert_eq!(report.training[0].trained_people, 0, "nothing half-written");
}

#[test]
fn the_report_counts_households_with_a_member_trained_in_the_year() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "大寨镇工作站", CLOCK);
    let (a, b) = (
        village("530826103201", "新文村"),
        village("530826103202", "安乐村"),
    );
    store.write(&[put_change(&a), put_change(&b)]).unwrap();
    let (h1, m1) = household(&mut store, &a, 1);
    let (h2, m2) = household(&mut store, &a, 2);
    let (_h3, _) = household(&mut store, &a, 3);
    let (h4, m4) = household(&mut store, &b, 1);
    // 新文村: household 1 both members (a 引导性 and a 技能 with certificate), household 2 one
    // member, but in 2024; household 3 none. 安乐村: household 1 one member in 2025.
    record_training(&mut store, &training(h1, m1[0], 2025, "引导性培训", 2)).unwrap();
    let mut skills = training(h1, m1[1], 2025, "技能培训", 15);
    skills.certificate = "中式烹调师（初级）".into();
    record_training(&mut store, &skills).unwrap();
    record_training(&mut store, &training(h2, m2[0], 2024, "1", 2)).unwrap();
    record_training(&mut store, &training(h4, m4[0], 2025, "引导性培训", 2)).unwrap();

    let report = stats(&store, &Scope::All, Some(2025)).unwrap();
    let lines: Vec<CoverageLine<'_>> = report
        .training
        .iter()
        .map(|r| {
            (
                if r.village_code.is_empty() {
                    "（乡镇）"
                } else {
                    r.village_name.as_str()
                },
                r.households,
                r.trained_households,
                r.trained_people,
                r.certificates,
                r.coverage_pct,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("新文村", 3, 1, 2, 1, Some(33.33)),
            ("安乐村", 1, 1, 1, 0, Some(100.0)),
            ("（乡镇）", 4, 2, 3, 1, Some(50.0)),
        ]
    );
    let village_only = stats(&store, &Scope::Village("530826103201".into()), Some(2024)).unwrap();
    assert_eq!(
        village_only.training.len(),
        2,
        "the village and its township line"
    );
    assert_eq!(village_only.training[0].trained_households, 1);

    // A 引导性培训 carries out the county's 户均1人 policy: the household has received it.
    let due = household_due(&store, h1, 2025).unwrap();
    let guided = due
        .iter()
        .find(|e| e.policy_code == "training_guided")
        .expect("the shipped policy applies to a household of working age");
    assert_eq!(guided.state, DueState::Received, "{guided:?}");
    let due = household_due(&store, h2, 2025).unwrap();
    let guided = due
        .iter()
        .find(|e| e.policy_code == "training_guided")
        .unwrap();
    assert_eq!(guided.state, DueState::Due, "2024's training is not 2025's");

    // The report workbook has the coverage sheet; the 培训台帐 lists kind, days, certificate.
    let out = dir.path().join("统计.xlsx");
    export_report(&report, None, "大寨镇", &out).unwrap();
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    let sheet = book.worksheet_range("培训覆盖").unwrap();
    let cells: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    assert!(
        cells
            .iter()
            .any(|r| r.contains(&Data::String("新文村".into()))),
        "{cells:?}"
    );
    let out = dir.path().join("培训.xlsx");
    export_ledger_of_year(&store, LedgerKind::Training, &Scope::All, Some(2025), &out).unwrap();
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    let sheet = book.worksheet_range("培训台帐").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    let header = rows
        .iter()
        .position(|r| r.contains(&Data::String("培训类别".into())))
        .expect("a header with 培训类别");
    let at = |name: &str| {
        rows[header]
            .iter()
            .position(|c| c == &Data::String(name.into()))
            .unwrap()
    };
    let with_certificate = rows
        .iter()
        .find(|r| r[at("培训证书")] == Data::String("中式烹调师（初级）".into()))
        .expect("the skills training's row");
    assert_eq!(
        with_certificate[at("培训类别")],
        Data::String("技能培训".into())
    );
    assert_eq!(
        with_certificate[at("受益成员")],
        Data::String("配偶1".into())
    );
    let trainings = rows
        .iter()
        .skip(header + 1)
        .filter(|r| matches!(&r[at("培训类别")], Data::String(s) if !s.is_empty()))
        .count();
    assert_eq!(trainings, 3, "2025's three trainings");
}
