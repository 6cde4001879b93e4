//! 村情 (issue 16): a village's 农村人口, 贫困村 status and checklist items set through the core
//! and carried like any record (township → village laptop by file, two laptops meeting as a
//! conflict), refused in Chinese with nothing written, set only by the roles that may; and a
//! year's 贫困发生率 counted from that year's statuses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::access::Role;
use bangfu_core::exit::evaluate_village;
use bangfu_core::exit::procedure::{Step, StepRecord, record_step, return_to_poverty};
use bangfu_core::model::{FieldValue, Household, Income, Member, Village};
use bangfu_core::store::{Change, Store, StoreError, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::review::review_items;
use bangfu_core::village::{
    VillageEdit, list_villages, save_village_sheet, set_village_fields, village_sheet,
};
use chrono::NaiveDate;
use uuid::Uuid;

const CLOCK: u64 = 1_577_000_000_000; // December 2019

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn village() -> Village {
    Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        township: "勐康镇".into(),
        province: "云南省".into(),
        ..Default::default()
    }
}

/// A household of `people` members in the village, with an income record of `first_year` (the
/// year it is first on record) and members leaving as `left` says (index, date).
fn household(
    store: &mut Store,
    v: &Village,
    seq: u32,
    people: usize,
    first_year: i64,
    left: &[(usize, &str)],
) -> Uuid {
    let h = Household {
        id: Uuid::now_v7(),
        village_id: Some(v.id),
        code: format!("{}{seq:03}", v.code),
        main_cause: "01".into(),
        poverty_status: "1".into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let mut changes = vec![put_change(&h)];
    for n in 0..people {
        let leave = left.iter().find(|(i, _)| *i == n).map(|(_, d)| day(d));
        changes.push(put_change(&Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: format!("成员{n}"),
            relation: if n == 0 { "01" } else { "03" }.into(),
            medical_insurance: Some(true),
            pension_insurance: Some(true),
            leave_date: leave,
            leave_reason: if leave.is_some() { "1" } else { "" }.into(),
            ..Default::default()
        }));
    }
    changes.push(put_change(&Income {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        year: Some(first_year),
        wage: Some(30000.0),
        ..Default::default()
    }));
    store.write(&changes).unwrap();
    h.id
}

fn set(
    store: &mut Store,
    v: Uuid,
    fields: Vec<(&'static str, FieldValue)>,
) -> Result<(), StoreError> {
    set_village_fields(store, v, fields).map(|_| ())
}

#[test]
fn village_data_set_at_the_township_reaches_a_village_laptop_by_file() {
    let dir = common::scratch();
    let mut township = common::open_at(dir.path(), "乡镇工作站", CLOCK);
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let v = village();
    township.write(&[put_change(&v)]).unwrap();
    household(&mut township, &v, 1, 4, 2016, &[]);
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();

    set(
        &mut township,
        v.id,
        vec![
            ("rural_population", FieldValue::Int(1260)),
            ("poor_village", FieldValue::Int(1)),
            ("hardened_road", FieldValue::Int(1)),
            ("road_date", FieldValue::Text("2018-10-01".into())),
            (
                "road_evidence",
                FieldValue::Text("县交通局验收单 2018-17 号".into()),
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        village_sheet(&laptop, v.id)
            .unwrap()
            .village
            .rural_population,
        None,
        "not carried yet"
    );
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    let shown = village_sheet(&laptop, v.id).unwrap();
    assert_eq!(
        shown.village,
        village_sheet(&township, v.id).unwrap().village
    );
    assert_eq!(shown.village.rural_population, Some(1260));
    assert_eq!(shown.village.road_date, Some(day("2018-10-01")));
    assert_eq!(shown.village.road_evidence, "县交通局验收单 2018-17 号");
    assert_eq!((shown.filed_households, shown.filed_people), (1, 4));
    let rows = list_villages(&laptop).unwrap();
    assert_eq!((rows[0].items_filled, rows[0].items_met), (1, 1));
    // The laptop's exit check for 2018 and 2017 follows the date the road was met.
    let road = |year| {
        evaluate_village(&laptop, v.id, year)
            .unwrap()
            .checks
            .into_iter()
            .find(|c| c.code == "road")
            .unwrap()
            .status_label
    };
    assert_eq!((road(2017), road(2018)), ("未达标", "达标"));
}

#[test]
fn two_laptops_editing_the_same_village_field_meet_as_a_conflict() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "乡镇工作站", CLOCK);
    let mut b = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let v = village();
    a.write(&[put_change(&v)]).unwrap();
    import_changeset(&mut b, &export_changeset(&a, None).unwrap().0).unwrap();
    set(
        &mut a,
        v.id,
        vec![("rural_population", FieldValue::Int(1260))],
    )
    .unwrap();
    set(
        &mut b,
        v.id,
        vec![("rural_population", FieldValue::Int(1302))],
    )
    .unwrap();
    let (from_a, _) = export_changeset(&a, None).unwrap();
    let (from_b, _) = export_changeset(&b, None).unwrap();
    import_changeset(&mut b, &from_a).unwrap();
    import_changeset(&mut a, &from_b).unwrap();
    for store in [&a, &b] {
        let items = review_items(store).unwrap();
        let conflict = items
            .iter()
            .find(|i| i.row_id == v.id.to_string() && i.field == "rural_population")
            .expect("the two figures wait for a person");
        assert_eq!(conflict.kind, "conflict");
        assert_eq!(conflict.values.len(), 2);
    }
    let shown = |s: &Store| village_sheet(s, v.id).unwrap().village.rural_population;
    assert_eq!(shown(&a), shown(&b), "both show the same one meanwhile");
    // A person settles it like any conflict.
    a.write(&[Change::Resolve {
        table: bangfu_core::model::Table::Village,
        id: v.id,
        field: "rural_population".into(),
        value: FieldValue::Int(1302),
    }])
    .unwrap();
    assert!(review_items(&a).unwrap().is_empty());
    assert_eq!(shown(&a), Some(1302));
}

#[test]
fn bad_village_data_is_refused_in_chinese_and_nothing_is_written() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "乡镇工作站", CLOCK);
    let v = village();
    store.write(&[put_change(&v)]).unwrap();
    household(&mut store, &v, 1, 4, 2016, &[(3, "2018-05-01")]);
    household(&mut store, &v, 2, 3, 2016, &[]);
    let ops = |s: &Store| -> i64 {
        s.sql()
            .unwrap()
            .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
            .unwrap()
    };
    let before = ops(&store);
    // (fields, words the refusal must contain)
    let cases: Vec<(Vec<(&'static str, FieldValue)>, &str)> = vec![
        (
            // 6 current people (one left in 2018): 5 is too few, even with a good field beside it.
            vec![
                ("poor_village", FieldValue::Int(1)),
                ("rural_population", FieldValue::Int(5)),
            ],
            "农村人口 5 人少于本村已建档的 6 人（2 户）",
        ),
        (
            vec![("exit_year", FieldValue::Int(2018))],
            "只有贫困村才有退出年度",
        ),
        (
            vec![
                ("poor_village", FieldValue::Int(1)),
                ("exit_year", FieldValue::Int(2020)),
            ],
            "退出年度 2020 晚于今年（2019年）",
        ),
        (
            vec![
                ("safe_water", FieldValue::Int(1)),
                ("water_date", FieldValue::Text("2020-03-01".into())),
            ],
            "安全饮水达标日期 2020-03-01 晚于今天",
        ),
        (
            vec![
                ("standard_clinic", FieldValue::Int(0)),
                ("clinic_date", FieldValue::Text("2018-03-01".into())),
            ],
            "有标准化卫生室填的是“否”（未达标），不能有达标日期",
        ),
        (
            vec![("code", FieldValue::Text("530826103202".into()))],
            "村代码是村的建档信息，不在村情中修改",
        ),
    ];
    for (fields, words) in cases {
        let error = set(&mut store, v.id, fields.clone()).unwrap_err();
        assert!(
            error.message_zh().contains(words),
            "{fields:?}: {}",
            error.message_zh()
        );
        assert_eq!(ops(&store), before, "nothing written for {fields:?}");
    }
    // The store's own write refuses the same 农村人口.
    let error = store
        .write(&[Change::Put {
            table: bangfu_core::model::Table::Village,
            id: v.id,
            fields: vec![("rural_population", FieldValue::Int(5))],
        }])
        .unwrap_err();
    assert!(
        error.message_zh().contains("少于本村已建档的 6 人"),
        "{}",
        error.message_zh()
    );
    assert_eq!(ops(&store), before);
    set(
        &mut store,
        v.id,
        vec![("rural_population", FieldValue::Int(6))],
    )
    .unwrap();
}

#[test]
fn a_page_saved_later_keeps_what_arrived_while_it_was_open() {
    let dir = common::scratch();
    let mut township = common::open_at(dir.path(), "乡镇工作站", CLOCK);
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let v = village();
    township.write(&[put_change(&v)]).unwrap();
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    let page = village_sheet(&laptop, v.id).unwrap();
    set(&mut township, v.id, vec![("broadband", FieldValue::Int(1))]).unwrap();
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    let mut edited = page.village.clone();
    edited.rural_population = Some(900);
    let saved = save_village_sheet(
        &mut laptop,
        &VillageEdit {
            village: edited,
            base: page.base,
        },
    )
    .unwrap();
    assert_eq!(saved.village.rural_population, Some(900));
    assert_eq!(
        saved.village.broadband,
        Some(true),
        "the township's edit is kept"
    );
    assert!(review_items(&laptop).unwrap().is_empty());
}

#[test]
fn only_a_leader_or_a_township_administrator_sets_village_data() {
    const PIN: &str = "246810";
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let v = village();
    store.write(&[put_change(&v)]).unwrap();
    store.add_person("刘书记", Role::Leader, PIN).unwrap();
    store.sign_in("刘书记", PIN).unwrap();
    store.add_person("王队员", Role::Member, PIN).unwrap();
    store
        .add_person("赵站长", Role::TownshipAdmin, PIN)
        .unwrap();
    for (who, allowed) in [("王队员", false), ("刘书记", true), ("赵站长", true)] {
        store.sign_in(who, PIN).unwrap();
        let population = if allowed { 1000 } else { 1200 };
        let result = set(
            &mut store,
            v.id,
            vec![("rural_population", FieldValue::Int(population))],
        );
        assert_eq!(result.is_ok(), allowed, "{who}: {result:?}");
        let editable = village_sheet(&store, v.id).unwrap().editable;
        assert_eq!(editable, allowed, "{who}");
        if !allowed {
            let message = result.unwrap_err().message_zh();
            assert!(
                message.contains("只有第一书记、队长或乡镇管理员可以填写村情"),
                "{message}"
            );
            // Nor through the store's own write.
            let direct = store.write(&[Change::Put {
                table: bangfu_core::model::Table::Village,
                id: v.id,
                fields: vec![("broadband", FieldValue::Int(1))],
            }]);
            assert!(direct.is_err(), "{who} wrote village data directly");
        }
    }
    assert_eq!(
        village_sheet(&store, v.id)
            .unwrap()
            .village
            .rural_population,
        Some(1000)
    );
}

/// A complete record of a step on `date` (the county's approval agrees).
fn step_on(step: Step, date: &str) -> StepRecord {
    let mut r = StepRecord::new(step, day(date), "村两委、驻村工作队");
    match step {
        Step::Survey => {
            r.household_signed = Some(true);
            r.food_secure = Some(true);
            r.clothing_secure = Some(true);
        }
        Step::Deliberation => {
            r.vote_type = "2".into();
            r.result = "1".into();
            r.work_team_present = Some(true);
        }
        Step::PublicNotice => {
            let end = day(date);
            r.notice_start = end.checked_sub_days(chrono::Days::new(6));
            r.notice_end = Some(end);
        }
        Step::TownshipCheck | Step::CountyApproval => r.result = "1".into(),
    }
    common::signed_and_reviewed(&mut r);
    r
}

/// Carries a household through the five steps, the county's approval on `approved`.
fn exit_on(store: &mut Store, household: Uuid, approved: &str) {
    let end = day(approved);
    for (n, step) in Step::ALL.into_iter().enumerate() {
        let on = end
            .checked_sub_days(chrono::Days::new(40 - 10 * n as u64))
            .unwrap()
            .to_string();
        let on = if step == Step::CountyApproval {
            approved.to_owned()
        } else {
            on
        };
        record_step(store, household, &step_on(step, &on))
            .unwrap_or_else(|e| panic!("{step:?} on {on}: {}", e.message_zh()));
    }
}

#[test]
fn incidence_for_a_year_counts_the_households_poor_at_its_end() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let v = village();
    store.write(&[put_change(&v)]).unwrap();
    // A: 4 people, exits in November 2017.
    let a = household(&mut store, &v, 1, 4, 2016, &[]);
    // B: 3 people, exits in December 2017, returns to poverty in March 2019.
    let b = household(&mut store, &v, 2, 3, 2016, &[]);
    // C: 5 people, one of them died in June 2018; never exits.
    let _c = household(&mut store, &v, 3, 5, 2016, &[(4, "2018-06-10")]);
    // D: 2 people, first on record in 2018.
    let _d = household(&mut store, &v, 4, 2, 2018, &[]);
    set(
        &mut store,
        v.id,
        vec![("rural_population", FieldValue::Int(200))],
    )
    .unwrap();
    exit_on(&mut store, a, "2017-11-20");
    exit_on(&mut store, b, "2017-12-28");
    return_to_poverty(&mut store, b, day("2019-03-01"), "工作队", "因病返贫").unwrap();

    // (year, poor people at its end)
    let expected = [
        (2016, 4 + 3 + 5), // all three filed, none exited; D not on record yet
        (2017, 5),         // A and B exited
        (2018, 4 + 2),     // C without the member who died; D filed
        (2019, 3 + 4 + 2), // B back
    ];
    let mut failures = Vec::new();
    for (year, poor) in expected {
        let e = evaluate_village(&store, v.id, year).unwrap();
        let rate = e.incidence_percent.unwrap();
        if e.poor_people != poor || (rate - poor as f64 * 100.0 / 200.0).abs() > 1e-9 {
            failures.push(format!(
                "{year}: want {poor}, got {} ({rate}%)",
                e.poor_people
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The overview of a year counts the same people.
    let overview = bangfu_core::report::overview::overview(&store, Some(2017), 60).unwrap();
    assert_eq!(overview.villages[0].poor_people, 5);
}
