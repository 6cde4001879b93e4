//! Checks that the demo village is realistic and clean apart from its listed problems, and
//! that the generators repeat themselves for a seed.

// A test that cannot open its store or read back what it wrote should stop right there.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use tempfile::TempDir;

use super::*;
use crate::model::{Helper, Household, Income, Member, Pairing, Visit};
use crate::store::{Filter, OpenOptions};

fn open(dir: &TempDir, name: &str) -> Store {
    let options = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("identity")),
        device_name: Some("测试".into()),
        fixed_clock_ms: Some(1_500_000_000_000),
    };
    Store::open(dir.path().join(name), &options).unwrap()
}

/// GB 11643-1999, written again here so the test does not trust the generator's copy.
fn id_is_valid(id: &str) -> bool {
    let id = if id.len() == 20 { &id[..18] } else { id };
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = bytes[..17]
        .iter()
        .zip(weights)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d");
    bytes[17] == b"10X98765432"[(sum % 11) as usize] && birth.is_ok()
}

fn is_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

fn birth(m: &Member) -> NaiveDate {
    NaiveDate::parse_from_str(&m.id_number[6..14], "%Y%m%d").unwrap()
}

#[test]
fn check_digit_matches_the_standards_example() {
    assert!(id_is_valid("11010519491231002X"));
    assert_eq!(check_char("11010519491231002"), 'X');
    assert!(!id_is_valid("110105194912310021"));
}

#[test]
fn the_demo_village_is_clean_except_for_its_listed_problems() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir, "demo.bangfu");
    let summary = write_demo_village(&mut store).unwrap();
    let households = store.read::<Household>(Filter::All).unwrap();
    let members = store.read::<Member>(Filter::All).unwrap();
    assert_eq!(households.len(), 300);
    assert_eq!(summary.members, members.len());
    assert!(
        (1000..=1200).contains(&members.len()),
        "{} members",
        members.len()
    );
    assert!((20..=30).contains(&store.read::<Helper>(Filter::All).unwrap().len()));
    assert_eq!(DEMO_PROBLEMS.len(), 9);

    let mut by_household: HashMap<_, Vec<&Member>> = HashMap::new();
    for m in &members {
        by_household
            .entry(m.household_id.unwrap())
            .or_default()
            .push(m);
    }
    let headless: Vec<_> = households
        .iter()
        .filter(|h| {
            by_household[&h.id]
                .iter()
                .filter(|m| m.relation == "01")
                .count()
                != 1
        })
        .map(|h| h.code.as_str())
        .collect();
    assert_eq!(headless, ["530826103201047"]);

    let bad_ids: Vec<_> = members
        .iter()
        .filter(|m| !id_is_valid(&m.id_number))
        .collect();
    assert_eq!(bad_ids.len(), 1);
    let mut seen = HashSet::new();
    let repeated: Vec<_> = members
        .iter()
        .filter(|m| !seen.insert(&m.id_number[..18]))
        .map(|m| &m.name)
        .collect();
    assert_eq!(repeated.len(), 1, "one ID in two households");

    for (household, people) in &by_household {
        let head = people.iter().find(|m| m.relation == "01");
        for m in people.iter().filter(|m| id_is_valid(&m.id_number)) {
            let male_by_id = (m.id_number.as_bytes()[16] - b'0') % 2 == 1;
            assert_eq!(m.sex == "1", male_by_id, "{}", m.name);
            let must_be_male = match m.relation.as_str() {
                "03" | "06" | "07" | "09" | "11" | "13" | "15" | "17" | "19" => Some(true),
                "04" | "05" | "08" | "10" | "12" | "14" | "16" | "18" | "20" => Some(false),
                "02" => head.map(|h| h.sex != "1"),
                _ => None,
            };
            if let Some(male) = must_be_male {
                assert_eq!(m.sex == "1", male, "{} {}", m.name, m.relation);
            }
            assert!(m.phone.is_empty() || is_mobile(&m.phone), "{}", m.phone);
            let age = 2017 - birth(m).year();
            if (7..=14).contains(&age) {
                assert!(
                    !matches!(m.schooling.as_str(), "00" | "01"),
                    "{} is {age}",
                    m.name
                );
            }
            if let Some(head) = head.filter(|h| id_is_valid(&h.id_number)) {
                let gap = birth(head).year() - birth(m).year();
                match m.relation.as_str() {
                    "03" | "04" => assert!(gap <= -19, "{household} child {gap}"),
                    "07" | "08" => assert!(gap <= -38, "{household} grandchild {gap}"),
                    "11" | "12" => assert!(gap >= 19, "{household} parent {gap}"),
                    _ => {}
                }
            }
        }
    }

    for h in &households {
        assert_eq!(h.code.len(), 15);
        assert!(h.code.starts_with(VILLAGE_CODE_FOR_TESTS));
        assert!(
            is_mobile(&h.phone) || h.code.ends_with("047"),
            "{}",
            h.phone
        );
        let far = h.road_distance_km.unwrap() > 5.0 && h.remark.is_empty();
        assert_eq!(far, h.code.ends_with("201"), "{}", h.code);
    }
    let incomes = store.read::<Income>(Filter::All).unwrap();
    assert_eq!(incomes.len(), 600);
    let attribute: HashMap<_, _> = households
        .iter()
        .map(|h| (h.id, h.attribute.as_str()))
        .collect();
    let dibao_on_ordinary = incomes
        .iter()
        .filter(|i| i.dibao_allowance.is_some() && attribute[&i.household_id.unwrap()] != "2");
    assert_eq!(dibao_on_ordinary.count(), 1);
    assert!(
        incomes
            .iter()
            .all(|i| i.business.is_none() || i.business_expense.is_some())
    );
    assert!(
        incomes
            .iter()
            .all(|i| i.wage.is_none_or(|w| (300.0..=300_000.0).contains(&w)))
    );
    let exited = households
        .iter()
        .filter(|h| h.poverty_status == "2")
        .count();
    assert!((60..=200).contains(&exited), "{exited} exited");

    let pairings = store.read::<Pairing>(Filter::All).unwrap();
    let ended = pairings.iter().filter(|p| p.end_date.is_some()).count();
    assert!(ended > 0 && pairings.len() == 300 + ended);
    let visits = store.read::<Visit>(Filter::All).unwrap();
    assert_eq!(visits.len(), summary.visits);
    // Every visit is made by the cadre paired with the household that day.
    for v in &visits {
        let date = v.visit_date.unwrap();
        assert!(pairings.iter().any(|p| p.household_id == v.household_id
            && p.helper_id == v.helper_id
            && p.start_date.unwrap() <= date
            && p.end_date.is_none_or(|end| date <= end)));
    }
}

const VILLAGE_CODE_FOR_TESTS: &str = "530826103201";

#[test]
fn the_same_seed_gives_the_same_data() {
    let dir = TempDir::new().unwrap();
    let mut a = open(&dir, "a.bangfu");
    let mut b = open(&dir, "b.bangfu");
    write_demo_village(&mut a).unwrap();
    write_demo_village(&mut b).unwrap();
    assert_eq!(
        a.read::<Member>(Filter::All).unwrap(),
        b.read::<Member>(Filter::All).unwrap()
    );
    assert_eq!(
        a.read::<Visit>(Filter::All).unwrap(),
        b.read::<Visit>(Filter::All).unwrap()
    );

    let mut c = open(&dir, "c.bangfu");
    let mut d = open(&dir, "d.bangfu");
    generate_county(&mut c, 120, 7, &mut |_| {}).unwrap();
    generate_county(&mut d, 120, 7, &mut |_| {}).unwrap();
    assert_eq!(
        c.read::<Household>(Filter::All).unwrap(),
        d.read::<Household>(Filter::All).unwrap()
    );
    let mut e = open(&dir, "e.bangfu");
    generate_county(&mut e, 120, 8, &mut |_| {}).unwrap();
    assert_ne!(
        c.read::<Member>(Filter::All).unwrap(),
        e.read::<Member>(Filter::All).unwrap()
    );
}

#[test]
fn a_county_of_2000_households_is_written_in_batches() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir, "county.bangfu");
    let mut reported = Vec::new();
    let summary = generate_county(&mut store, 2000, 42, &mut |n| reported.push(n)).unwrap();
    assert_eq!(reported, [500, 1000, 1500, 2000]);
    assert_eq!(summary.households, 2000);
    assert_eq!(summary.villages, 7);
    assert_eq!(store.read::<Household>(Filter::All).unwrap().len(), 2000);
    let members = store.read::<Member>(Filter::All).unwrap();
    assert_eq!(members.len(), summary.members);
    assert!((3.2..=4.4).contains(&(members.len() as f64 / 2000.0)));
    assert!(members.iter().all(|m| id_is_valid(&m.id_number)));
    let ids: HashSet<_> = members.iter().map(|m| &m.id_number[..18]).collect();
    assert_eq!(ids.len(), members.len());
    assert_eq!(summary.ops, store.op_count().unwrap() as u64);
    assert!((16_000..=24_000).contains(&summary.visits));
}

/// The recent years (last year and this year by the clock) keep the demo's deliberate
/// problems and add none: no finding names one of those years.
#[test]
fn the_recent_years_add_records_up_to_today_and_no_data_problem() {
    let dir = TempDir::new().unwrap();
    let mut filing_years_only = open(&dir, "2017.bangfu");
    write_demo_village(&mut filing_years_only).unwrap();
    // 30 June 2026, 09:00 Beijing time.
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let options = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("identity")),
        device_name: Some("测试".into()),
        fixed_clock_ms: Some(clock_at(today)),
    };
    let mut recent = Store::open(dir.path().join("2026.bangfu"), &options).unwrap();
    write_demo_village(&mut recent).unwrap();
    assert_eq!(recent.today(), today);

    let incomes = recent.read::<Income>(Filter::All).unwrap();
    for year in [2025, 2026] {
        let of_year: HashSet<_> = incomes
            .iter()
            .filter(|i| i.year == Some(year))
            .map(|i| i.household_id)
            .collect();
        assert_eq!(of_year.len(), 300, "incomes of {year}");
    }
    let visits = recent.read::<Visit>(Filter::All).unwrap();
    assert!(visits.iter().all(|v| v.visit_date.unwrap() <= today));
    let visited_2026: HashSet<_> = visits
        .iter()
        .filter(|v| v.visit_date.unwrap().year() == 2026)
        .map(|v| v.household_id)
        .collect();
    assert!(
        (250..300).contains(&visited_2026.len()),
        "{} households visited in 2026",
        visited_2026.len()
    );
    assert!(
        crate::exit::standards::standard_for(&recent, 2026, "云南省").is_ok(),
        "the demo works in 2026 with a standard"
    );
    // Households whose 2026 income clears the line had this year's 入户调查, so some meet the
    // whole standard of 2026.
    let readiness =
        crate::report::readiness::exit_readiness(&recent, &crate::ledger::Scope::All, Some(2026))
            .unwrap();
    assert!(
        readiness.meeting > 0 && readiness.meeting < readiness.households,
        "{} of {} meet the 2026 standard",
        readiness.meeting,
        readiness.households
    );

    // The demo's deliberate payments above the rule (`policies.rs`: a 医疗救助 above its cap,
    // a student aid paid twice) are made in its policy year, the clock's, on whichever
    // households qualify that year: they follow the clock and are looked at apart.
    let overpaid = |rule: &str| rule.starts_with("measure.over");
    let findings = |store: &Store| -> HashSet<(String, &'static str)> {
        crate::report::quality::data_quality(store)
            .unwrap()
            .into_iter()
            .filter(|i| !overpaid(i.rule))
            .map(|i| (i.household_code, i.rule))
            .collect()
    };
    let policy_year: Vec<String> = crate::report::quality::data_quality(&recent)
        .unwrap()
        .into_iter()
        .filter(|i| overpaid(i.rule))
        .map(|i| i.message)
        .collect();
    assert!(
        policy_year.len() == 2 && policy_year.iter().all(|m| m.starts_with("2026年")),
        "{policy_year:?}"
    );
    let before = findings(&filing_years_only);
    let after = findings(&recent);
    assert!(
        before.is_subset(&after),
        "the deliberate problems are kept: {:?}",
        before.difference(&after).collect::<Vec<_>>()
    );
    let named: Vec<String> = crate::report::quality::data_quality(&recent)
        .unwrap()
        .into_iter()
        .filter(|i| !overpaid(i.rule))
        .map(|i| i.message)
        .filter(|m| m.contains("2025") || m.contains("2026"))
        .collect();
    assert!(named.is_empty(), "{named:?}");
}

#[test]
fn the_demo_shows_a_member_who_left_and_past_years_still_count_them() {
    use super::village::{PARENT_DIED, PARENT_DIED_ON};
    use crate::model::derived::{family_size, family_size_in_year};
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir, "demo.bangfu");
    write_demo_village(&mut store).unwrap();
    let code = format!("{}{PARENT_DIED:03}", super::village::VILLAGE_CODE);
    let household = store
        .read::<Household>(Filter::All)
        .unwrap()
        .into_iter()
        .find(|h| h.code == code)
        .unwrap();
    let members: Vec<Member> = store.read(Filter::OfHousehold(household.id)).unwrap();
    let left: Vec<&Member> = members.iter().filter(|m| m.leave_date.is_some()).collect();
    assert_eq!(left.len(), 1, "{code}");
    let (y, m, d) = PARENT_DIED_ON;
    assert_eq!(left[0].leave_date, chrono::NaiveDate::from_ymd_opt(y, m, d));
    assert_eq!(left[0].leave_reason, "1", "死亡");
    assert!(
        matches!(left[0].relation.as_str(), "11" | "12"),
        "a parent of the 户主"
    );
    assert_eq!(family_size_in_year(&members, 2016), members.len());
    assert_eq!(family_size_in_year(&members, 2017), members.len());
    assert_eq!(family_size_in_year(&members, 2018), members.len() - 1);
    assert_eq!(family_size(&members), members.len() - 1);
}
