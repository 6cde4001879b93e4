//! A household's 建档日期 (issue 16): set through the household page's own save and refused in
//! Chinese when it cannot be (a future day), carried from one laptop to another by file, and
//! used by a year's 贫困发生率: a household filed after the year is not counted in it, one
//! filed before it is even with nothing else dated; a household without the date keeps the
//! earlier rule (counted from its first dated record). A 建档日期 before the county's first
//! year of 建档立卡 (a county setting, 2014 as shipped) is questioned by every copy the setting
//! reached, alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::exit::evaluate_village;
use bangfu_core::exit::procedure::{Step, StepRecord, record_step};
use bangfu_core::model::{FieldValue, Household, Income, Member, Village};
use bangfu_core::store::{Store, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::village::set_village_fields;
use chrono::NaiveDate;
use uuid::Uuid;

const CLOCK: u64 = 1_577_000_000_000; // December 2019

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn village(store: &mut Store) -> Village {
    let v = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        township: "勐康镇".into(),
        province: "云南省".into(),
        ..Default::default()
    };
    store.write(&[put_change(&v)]).unwrap();
    set_village_fields(
        store,
        v.id,
        vec![("rural_population", FieldValue::Int(100))],
    )
    .unwrap();
    v
}

/// A household of `people`, its only dated record an income of `income_year`.
fn household(store: &mut Store, v: &Village, seq: u32, people: usize, income_year: i64) -> Uuid {
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
        changes.push(put_change(&Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: format!("成员{n}"),
            relation: if n == 0 { "01" } else { "03" }.into(),
            medical_insurance: Some(true),
            pension_insurance: Some(true),
            ..Default::default()
        }));
    }
    changes.push(put_change(&Income {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        year: Some(income_year),
        wage: Some(30000.0),
        ..Default::default()
    }));
    store.write(&changes).unwrap();
    h.id
}

/// Sets a household's 建档日期 through the household page's save.
fn file_on(store: &mut Store, id: Uuid, date: &str) {
    store
        .edit_household_fields(id, &[("filing_date", FieldValue::Text(date.into()))])
        .unwrap_or_else(|e| panic!("{date}: {}", e.message_zh()));
}

fn step_on(step: Step, date: NaiveDate) -> StepRecord {
    let mut r = StepRecord::new(step, date, "村两委、驻村工作队");
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
            r.notice_start = date.checked_sub_days(chrono::Days::new(6));
            r.notice_end = Some(date);
        }
        Step::TownshipCheck | Step::CountyApproval => r.result = "1".into(),
    }
    common::signed_and_reviewed(&mut r);
    r
}

/// The five steps, the county's approval on `approved`.
fn exit_on(store: &mut Store, household: Uuid, approved: &str) {
    let end = day(approved);
    for (n, step) in Step::ALL.into_iter().enumerate() {
        let on = end
            .checked_sub_days(chrono::Days::new(40 - 10 * n as u64))
            .unwrap();
        record_step(store, household, &step_on(step, on))
            .unwrap_or_else(|e| panic!("{step:?}: {}", e.message_zh()));
    }
}

fn poor_people(store: &Store, v: Uuid, year: i32) -> i64 {
    evaluate_village(store, v, year).unwrap().poor_people
}

/// (who, people, year of its only income record, 建档日期, exited on)
type Filed = (
    &'static str,
    usize,
    i64,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn a_years_incidence_counts_a_household_from_the_year_it_was_filed() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let v = village(&mut store);
    let households: &[Filed] = &[
        // Filed in 2014, nothing dated until 2018: counted from 2014 all the same.
        (
            "filed early, recorded late",
            4,
            2018,
            Some("2014-10-12"),
            None,
        ),
        // 新识别 in 2018 on its 2017 income: not counted in 2017.
        ("新识别 2018", 3, 2017, Some("2018-04-02"), None),
        // No 建档日期: counted from its first dated record, as before.
        ("no filing date", 2, 2017, None, None),
        // Filed 2015, exited November 2017.
        (
            "exited 2017",
            5,
            2016,
            Some("2015-06-01"),
            Some("2017-11-20"),
        ),
    ];
    for (seq, (_, people, income_year, filed, exited)) in households.iter().enumerate() {
        let id = household(&mut store, &v, seq as u32 + 1, *people, *income_year);
        if let Some(date) = filed {
            file_on(&mut store, id, date);
        }
        if let Some(date) = exited {
            exit_on(&mut store, id, date);
        }
    }
    // (year, poor people at its end)
    let expected = [
        (2014, 4),
        (2015, 4 + 5),
        (2016, 4 + 5),
        (2017, 4 + 2),
        (2018, 4 + 3 + 2),
    ];
    let got: Vec<(i32, i64)> = expected
        .iter()
        .map(|(year, _)| (*year, poor_people(&store, v.id, *year)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_future_filing_date_is_refused_in_chinese_and_nothing_is_written() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let v = village(&mut store);
    let id = household(&mut store, &v, 1, 3, 2016);
    let ops = store.op_count().unwrap();
    let error = store
        .edit_household_fields(
            id,
            &[("filing_date", FieldValue::Text("2020-03-01".into()))],
        )
        .unwrap_err();
    assert!(
        error.message_zh().contains("建档日期 2020-03-01 晚于今天"),
        "{}",
        error.message_zh()
    );
    assert_eq!(store.op_count().unwrap(), ops, "nothing written");
    assert_eq!(store.get::<Household>(id).unwrap().filing_date, None);
    // Before 2014: asked, saved.
    let saved = store
        .edit_household_fields(
            id,
            &[("filing_date", FieldValue::Text("2013-11-01".into()))],
        )
        .unwrap();
    assert!(
        saved
            .warnings
            .iter()
            .any(|w| w.message.contains("早于2014年建档立卡")),
        "{:?}",
        saved.warnings
    );
    assert_eq!(
        store.get::<Household>(id).unwrap().filing_date,
        Some(day("2013-11-01"))
    );
}

#[test]
fn a_filing_date_set_on_one_laptop_reaches_the_other_by_file_and_its_count() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本甲", CLOCK);
    let mut b = common::open_at(dir.path(), "新文村-笔记本乙", CLOCK + 10);
    let v = village(&mut a);
    // Only dated in 2018: laptop B counts it from 2018 until the date arrives.
    let id = household(&mut a, &v, 1, 4, 2018);
    import_changeset(&mut b, &export_changeset(&a, None).unwrap().0).unwrap();
    assert_eq!(poor_people(&b, v.id, 2016), 0);

    file_on(&mut a, id, "2015-09-30");
    import_changeset(&mut b, &export_changeset(&a, None).unwrap().0).unwrap();
    assert_eq!(
        b.get::<Household>(id).unwrap().filing_date,
        Some(day("2015-09-30"))
    );
    assert_eq!(
        b.get::<Household>(id).unwrap(),
        a.get::<Household>(id).unwrap()
    );
    assert_eq!(
        (poor_people(&b, v.id, 2014), poor_people(&b, v.id, 2016)),
        (0, 4),
        "B counts it from the year it was filed"
    );
    // And back: B corrects the date, A takes it.
    file_on(&mut b, id, "2014-10-08");
    import_changeset(&mut a, &export_changeset(&b, None).unwrap().0).unwrap();
    assert_eq!(
        a.get::<Household>(id).unwrap().filing_date,
        Some(day("2014-10-08"))
    );
    assert_eq!(poor_people(&a, v.id, 2014), 4);
}

/// The rules of the 疑点 list that concern a household's 建档日期 as this copy judges them.
fn filing_findings(store: &Store) -> Vec<(String, &'static str)> {
    bangfu_core::report::quality::data_quality(store)
        .unwrap()
        .into_iter()
        .filter(|i| i.rule.starts_with("filing_date."))
        .map(|i| (i.household_code, i.rule))
        .collect()
}

#[test]
fn a_laptop_receiving_the_countys_first_filing_year_judges_filing_dates_by_it() {
    use bangfu_core::county_settings::{
        clear_first_filing_year, county_settings, set_first_filing_year,
    };
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县扶贫办", CLOCK);
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let v = village(&mut county);
    let pilot = household(&mut county, &v, 1, 3, 2016);
    let earlier = household(&mut county, &v, 2, 3, 2016);
    file_on(&mut county, pilot, "2013-06-20");
    file_on(&mut county, earlier, "2012-11-05");
    import_changeset(&mut laptop, &export_changeset(&county, None).unwrap().0).unwrap();
    let asked = |codes: &[&str]| -> Vec<(String, &'static str)> {
        codes
            .iter()
            .map(|c| (format!("530826103201{c}"), "filing_date.before_first_year"))
            .collect()
    };
    assert_eq!(
        filing_findings(&laptop),
        asked(&["001", "002"]),
        "2014 as shipped"
    );

    // The county's pilot filed from 2013: set once at the county, carried by the file.
    set_first_filing_year(
        &mut county,
        2013,
        "县扶贫开发领导小组〔2013〕5号：建档立卡试点",
    )
    .unwrap();
    assert_eq!(filing_findings(&county), asked(&["002"]));
    assert_eq!(
        filing_findings(&laptop),
        asked(&["001", "002"]),
        "not carried yet"
    );
    import_changeset(&mut laptop, &export_changeset(&county, None).unwrap().0).unwrap();
    let received = county_settings(&laptop).unwrap().first_filing_year;
    assert_eq!((received.year, received.edited), (2013, true));
    assert!(
        received.source.contains("〔2013〕5号"),
        "{}",
        received.source
    );
    assert_eq!(
        filing_findings(&laptop),
        asked(&["002"]),
        "the laptop judges by 2013"
    );
    // The page's own checks say the same, with the county's year in the words.
    let page = laptop
        .check_household_file(&laptop.load_household_file(earlier).unwrap())
        .unwrap();
    let found = page
        .iter()
        .find(|i| i.rule == "filing_date.before_first_year")
        .expect("2012 is still asked about");
    assert!(
        found.message.contains("早于2013年建档立卡"),
        "{}",
        found.message
    );

    // Taken back at the county: 2014 again everywhere the file reaches.
    assert!(clear_first_filing_year(&mut county).unwrap());
    import_changeset(&mut laptop, &export_changeset(&county, None).unwrap().0).unwrap();
    assert_eq!(
        county_settings(&laptop).unwrap().first_filing_year.year,
        2014
    );
    assert_eq!(filing_findings(&laptop), asked(&["001", "002"]));

    // Set again after it was taken back, on another copy: the row is restored in the same
    // write (not refused as an edit of a deleted record), and the county takes it from the file.
    set_first_filing_year(&mut laptop, 2012, "县扶贫开发领导小组〔2012〕1号：试点提前").unwrap();
    assert_eq!(filing_findings(&laptop), Vec::<(String, &str)>::new());
    import_changeset(&mut county, &export_changeset(&laptop, None).unwrap().0).unwrap();
    let again = county_settings(&county).unwrap().first_filing_year;
    assert_eq!((again.year, again.edited), (2012, true));
    assert_eq!(filing_findings(&county), Vec::<(String, &str)>::new());
}

#[test]
fn a_first_filing_year_is_set_only_through_the_county_settings_and_checked() {
    use bangfu_core::county_settings::{FIRST_FILING_YEAR, set_first_filing_year, setting_id};
    use bangfu_core::model::CountySetting;
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "县扶贫办", CLOCK);
    let raw = CountySetting {
        id: setting_id(FIRST_FILING_YEAR),
        key: FIRST_FILING_YEAR.into(),
        value: "2010".into(),
        source: "随手写入".into(),
    };
    let refused = store.write(&[put_change(&raw)]).unwrap_err();
    assert_eq!(refused.kind(), "county_setting_by_settings");
    assert!(
        refused.message_zh().contains("脱贫标准"),
        "{}",
        refused.message_zh()
    );
    let cases = [
        (1985, "县文件", "first_filing_year_out_of_range"),
        (2020, "县文件", "first_filing_year_out_of_range"), // the store's clock is 2019
        (2013, "  ", "county_setting_no_source"),
    ];
    for (year, source, kind) in cases {
        let refused = set_first_filing_year(&mut store, year, source).unwrap_err();
        assert_eq!(refused.kind(), kind, "{year} {source:?}");
        assert!(!refused.message_zh().is_empty());
    }
    assert!(
        store
            .get::<CountySetting>(setting_id(FIRST_FILING_YEAR))
            .is_err(),
        "nothing written"
    );
}
