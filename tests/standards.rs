//! 脱贫标准 as the county's synced configuration (issue 16): the shipped series, a falling line
//! questioned, the same row on every copy, and a standard set at the county reaching a village
//! laptop through the hub and through a USB file, where `exit evaluate` gives the new verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::exit::standards::{
    ExitStandard, list_standards, resolve, set_standard, standard_for, standard_id,
};
use bangfu_core::exit::{CheckStatus, ExitError, evaluate_household};
use bangfu_core::filing::HouseholdFile;
use bangfu_core::model::{Household, Income, Member, Standard, Village};
use bangfu_core::store::{Filter, Store, StoreError, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::server::{RunningHub, bind};
use bangfu_hub::storage::{HubStorage, SqliteStorage};
use uuid::Uuid;

const CLOCK: u64 = 1_700_000_000_000;

fn village() -> Village {
    Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        province: "云南省".into(),
        ..Default::default()
    }
}

/// Three people, 12,300 元 net in 2020 (4,100 元 each), insured, a safe house and safe water.
fn household(village: &Village) -> HouseholdFile {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: format!("{}001", village.code),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        address: "一组".into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let person = |name: &str, relation: &str, prefix: &str, sex: &str| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: name.into(),
        relation: relation.into(),
        id_number: common::id_number(prefix),
        sex: sex.into(),
        medical_insurance: Some(true),
        ..Default::default()
    };
    HouseholdFile {
        members: vec![
            person("李发", "01", "53082619700101001", "1"),
            person("王英", "02", "53082619720101002", "2"),
            person("李强", "05", "53082619980101003", "1"),
        ],
        incomes: vec![Income {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            year: Some(2020),
            wage: Some(12_300.0),
            ..Default::default()
        }],
        household,
        ..Default::default()
    }
}

fn income_status(store: &Store, household: Uuid) -> CheckStatus {
    let evaluation = evaluate_household(store, household, 2020).unwrap();
    evaluation
        .checks
        .iter()
        .find(|c| c.code == "income")
        .map(|c| c.status)
        .unwrap()
}

fn raised(store: &Store, year: i32, province: &str, line: f64) -> ExitStandard {
    ExitStandard {
        year,
        province: province.into(),
        income_line: line,
        source: "县扶贫开发领导小组文件".into(),
        ..standard_for(store, year, province).unwrap()
    }
}

fn raise(store: &mut Store, year: i32, province: &str, line: f64) {
    let standard = raised(store, year, province, line);
    set_standard(store, &standard, false).unwrap();
}

#[test]
fn shipped_lines_never_fall_from_one_year_to_the_next() {
    let dir = common::scratch();
    let store = common::open_at(dir.path(), "县", CLOCK);
    let all = list_standards(&store).unwrap();
    for province in ["", "云南省", "贵州省"] {
        let mut previous: Option<(i32, f64)> = None;
        for year in 2014..=2020 {
            let s = resolve(&all, year, province).unwrap();
            assert!(!s.source.is_empty(), "{year} {province} names no source");
            if let Some((y, line)) = previous {
                assert!(
                    s.income_line >= line,
                    "{province} {year}: {} below {y}'s {line}",
                    s.income_line
                );
            }
            previous = Some((year, s.income_line));
        }
    }
    // The household at 3,200 元 that failed 2017 in the report's province fails 2018 too.
    assert!(standard_for(&store, 2018, "云南省").unwrap().income_line > 3200.0);
    // The national series is the national one throughout.
    assert_eq!(
        standard_for(&store, 2017, "贵州省").unwrap().income_line,
        2952.0
    );
}

#[test]
fn a_falling_line_is_questioned_and_saved_only_when_confirmed() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "县", CLOCK);
    let lower = raised(&store, 2019, "", 2000.0);
    let refused = set_standard(&mut store, &lower, false);
    match refused {
        Err(ExitError::LineFalls { fall, .. }) => {
            assert_eq!((fall.earlier_year, fall.later_year), (2018, 2019));
        }
        other => panic!("expected the fall questioned, got {other:?}"),
    }
    assert_eq!(standard_for(&store, 2019, "").unwrap().income_line, 3218.0);
    set_standard(&mut store, &lower, true).unwrap();
    let now = standard_for(&store, 2019, "").unwrap();
    assert_eq!(now.income_line, 2000.0);
    assert!(now.edited);
}

#[test]
fn standard_rows_are_written_only_by_the_standards_settings() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "县", CLOCK);
    let row = Standard {
        id: standard_id(2019, ""),
        year: Some(2019),
        income_line: Some(100.0),
        ..Default::default()
    };
    assert!(matches!(
        store.write(&[put_change(&row)]),
        Err(StoreError::StandardBySettings)
    ));
}

#[test]
fn two_copies_setting_the_same_year_write_the_same_row() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "县", CLOCK);
    let mut b = common::open_at(dir.path(), "乡镇", CLOCK + 5);
    raise(&mut a, 2020, "云南省", 4300.0);
    raise(&mut b, 2020, "云南省", 4500.0);
    let (from_a, _) = export_changeset(&a, None).unwrap();
    let (from_b, _) = export_changeset(&b, None).unwrap();
    import_changeset(&mut b, &from_a).unwrap();
    import_changeset(&mut a, &from_b).unwrap();
    for store in [&a, &b] {
        let rows = store.read::<Standard>(Filter::All).unwrap();
        assert_eq!(rows.len(), 1, "one row for (云南省, 2020)");
        assert_eq!(rows[0].id, standard_id(2020, "云南省"));
    }
    // Both copies show the same line (one of the two, the other a review item).
    assert_eq!(
        standard_for(&a, 2020, "云南省").unwrap().income_line,
        standard_for(&b, 2020, "云南省").unwrap().income_line
    );
    assert!(
        !bangfu_core::sync::review::review_items(&a)
            .unwrap()
            .is_empty()
    );
}

/// The county files the village and the household, a village laptop gets them; the county
/// then raises 云南省's 2020 line above the household's 4,100 元.
fn county_and_laptop(dir: &std::path::Path) -> (Store, Store, Uuid) {
    let mut county = common::open_at(dir, "县扶贫办", CLOCK);
    let mut laptop = common::open_at(dir, "新文村-笔记本", CLOCK + 10);
    let v = village();
    county.write(&[put_change(&v)]).unwrap();
    let page = household(&v);
    let id = page.household.id;
    county.file_household(&page).unwrap();
    let (file, _) = export_changeset(&county, None).unwrap();
    import_changeset(&mut laptop, &file).unwrap();
    assert_eq!(
        income_status(&laptop, id),
        CheckStatus::Met,
        "4,100 > 4,000"
    );
    (county, laptop, id)
}

#[test]
fn a_standard_set_at_the_county_reaches_a_laptop_by_usb_file() {
    let dir = common::scratch();
    let (mut county, mut laptop, id) = county_and_laptop(dir.path());
    raise(&mut county, 2020, "云南省", 4200.0);
    assert_eq!(income_status(&county, id), CheckStatus::NotMet);
    assert_eq!(
        income_status(&laptop, id),
        CheckStatus::Met,
        "not carried yet"
    );
    let (file, _) = export_changeset(&county, None).unwrap();
    import_changeset(&mut laptop, &file).unwrap();
    assert_eq!(
        standard_for(&laptop, 2020, "云南省").unwrap().income_line,
        4200.0
    );
    assert_eq!(income_status(&laptop, id), CheckStatus::NotMet);
}

#[test]
fn a_standard_set_at_the_county_reaches_a_village_laptop_through_the_hub() {
    let dir = common::scratch();
    let (mut county, mut laptop, id) = county_and_laptop(dir.path());
    let storage = std::sync::Arc::new(SqliteStorage::open(&dir.path().join("hub")).unwrap());
    let running = RunningHub::start(bind("127.0.0.1:0").unwrap(), storage.clone()).unwrap();
    let url = running.url();
    let client = HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    });
    for (store, scope) in [(&mut county, "530826"), (&mut laptop, "530826103201")] {
        let code = storage.issue_code(&Scope::parse(scope).unwrap()).unwrap();
        client.enrol(store, &url, &code).unwrap();
    }
    client.sync_once(&mut county).unwrap();
    client.sync_once(&mut laptop).unwrap();
    raise(&mut county, 2020, "云南省", 4200.0);
    client.sync_once(&mut county).unwrap();
    client.sync_once(&mut laptop).unwrap();
    assert_eq!(
        standard_for(&laptop, 2020, "云南省").unwrap().income_line,
        4200.0
    );
    assert_eq!(income_status(&laptop, id), CheckStatus::NotMet);

    // A village laptop may not set the county's rules: the hub holds its op aside.
    raise(&mut laptop, 2020, "云南省", 4600.0);
    let refused = client.sync_once(&mut laptop);
    assert!(
        refused.is_err(),
        "the village's standard is held, not stored"
    );
    client.sync_once(&mut county).unwrap();
    assert_eq!(
        standard_for(&county, 2020, "云南省").unwrap().income_line,
        4200.0
    );
}

#[test]
fn a_village_the_hub_learns_later_gets_the_standards_set_before() {
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县扶贫办", CLOCK);
    let storage = std::sync::Arc::new(SqliteStorage::open(&dir.path().join("hub")).unwrap());
    let running = RunningHub::start(bind("127.0.0.1:0").unwrap(), storage.clone()).unwrap();
    let url = running.url();
    let client = HubClient::new(ClientConfig::default());
    let code = storage
        .issue_code(&Scope::parse("530826").unwrap())
        .unwrap();
    client.enrol(&mut county, &url, &code).unwrap();
    raise(&mut county, 2020, "云南省", 4200.0);
    client.sync_once(&mut county).unwrap();
    // Only now does the county file the village; its laptop enrols afterwards.
    let v = village();
    county.write(&[put_change(&v)]).unwrap();
    client.sync_once(&mut county).unwrap();
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let code = storage
        .issue_code(&Scope::parse("530826103201").unwrap())
        .unwrap();
    client.enrol(&mut laptop, &url, &code).unwrap();
    client.sync_once(&mut laptop).unwrap();
    assert_eq!(
        standard_for(&laptop, 2020, "云南省").unwrap().income_line,
        4200.0
    );
}

#[test]
fn the_countys_first_filing_year_reaches_a_village_laptop_through_the_hub_and_only_the_county_sets_it()
 {
    use bangfu_core::county_settings::{county_settings, set_first_filing_year};
    let dir = common::scratch();
    let (mut county, mut laptop, _) = county_and_laptop(dir.path());
    let storage = std::sync::Arc::new(SqliteStorage::open(&dir.path().join("hub")).unwrap());
    let running = RunningHub::start(bind("127.0.0.1:0").unwrap(), storage.clone()).unwrap();
    let url = running.url();
    let client = HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    });
    for (store, scope) in [(&mut county, "530826"), (&mut laptop, "530826103201")] {
        let code = storage.issue_code(&Scope::parse(scope).unwrap()).unwrap();
        client.enrol(store, &url, &code).unwrap();
    }
    set_first_filing_year(&mut county, 2013, "县建档立卡试点方案").unwrap();
    client.sync_once(&mut county).unwrap();
    client.sync_once(&mut laptop).unwrap();
    assert_eq!(
        county_settings(&laptop).unwrap().first_filing_year.year,
        2013
    );

    // A village laptop may not set the county's settings: the hub holds its op aside.
    set_first_filing_year(&mut laptop, 2010, "村里自定").unwrap();
    assert!(client.sync_once(&mut laptop).is_err(), "held, not stored");
    client.sync_once(&mut county).unwrap();
    assert_eq!(
        county_settings(&county).unwrap().first_filing_year.year,
        2013
    );
}
