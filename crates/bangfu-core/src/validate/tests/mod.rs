//! Test fixtures of the validation module: valid records, ID generation and the case runner.
//!
//! Every rule is tested as a table of cases: a valid record, one edit, and the issues the edit
//! must produce (and nothing else). The baseline of each table is itself a case with no issues,
//! so a rule that fires on valid data shows up at once.

// In tests a failed unwrap is a failed test with a backtrace, which is exactly what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod composition;
mod file;
mod household;
mod member;
mod phone;
mod records;
mod resident_id;

use chrono::NaiveDate;

use super::{Issue, Severity};
use crate::model::{Household, Income, Member};

/// A fixed "today" so that tests of future dates do not depend on the clock.
pub(super) fn today() -> NaiveDate {
    date(2024, 6, 15)
}

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The GB 11643-1999 check character, derived from the standard's formula rather than from the
/// lookup tables the code uses: weight of position i is 2^(18-i) mod 11 and the check value is
/// (12 - S mod 11) mod 11, with 10 written as X.
pub(super) fn check_char(first17: &str) -> char {
    assert_eq!(first17.len(), 17, "{first17}");
    let sum: u64 = first17
        .bytes()
        .enumerate()
        .map(|(i, b)| u64::from(b - b'0') * (2u64.pow(17 - i as u32) % 11))
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        v => char::from_digit(v as u32, 10).unwrap(),
    }
}

/// A valid 18-digit resident ID from its parts: area (6), birth `YYYYMMDD` (8), sequence (3).
pub(super) fn id(area: &str, birth: &str, seq: &str) -> String {
    let first17 = format!("{area}{birth}{seq}");
    format!("{first17}{}", check_char(&first17))
}

/// A valid ID whose check character is X, with the sex digit odd (male) or even (female).
pub(super) fn id_ending_in_x(male: bool) -> String {
    (0..1000)
        .map(|n| id("530826", "19850315", &format!("{n:03}")))
        .find(|s| s.ends_with('X') && (s.as_bytes()[16] % 2 == 1) == male)
        .unwrap()
}

/// A valid ID whose check character is a digit, so that a tampered digit stays a digit.
pub(super) fn id_ending_in_digit(birth: &str, male: bool) -> String {
    (0..1000)
        .map(|n| id("530826", birth, &format!("{n:03}")))
        .find(|s| !s.ends_with('X') && (s.as_bytes()[16] % 2 == 1) == male)
        .unwrap()
}

/// The ID with a wrong check character (the next one in 0-9, X).
pub(super) fn with_wrong_check(id: &str) -> String {
    const ALL: &str = "0123456789X";
    let last = id.chars().last().unwrap().to_ascii_uppercase();
    let at = ALL.find(last).unwrap();
    let wrong = ALL.chars().cycle().nth(at + 1).unwrap();
    format!("{}{wrong}", &id[..17])
}

/// 张三's ID: male (sequence 123 ends odd), born 1980-01-01.
pub(super) fn head_id() -> String {
    id("530826", "19800101", "123")
}

pub(super) fn household() -> Household {
    Household {
        code: "530826103201001".into(),
        group_name: "大寨组".into(),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        other_causes: "05,09".into(),
        arable_area: Some(3.5),
        forest_area: Some(2.0),
        returned_farmland_area: Some(1.0),
        fruit_area: Some(0.0),
        pasture_area: Some(0.5),
        water_area: None,
        road_distance_km: Some(1.5),
        road_type: "3".into(),
        house_area: Some(80.0),
        dangerous_house: Some(false),
        fuel_type: "1".into(),
        phone: "13812345678".into(),
        bank_name: "农村信用社".into(),
        bank_account: "6228480123456789012".into(),
        plan_exit_year: Some(2019),
        ..Default::default()
    }
}

pub(super) fn member() -> Member {
    Member {
        name: "张三".into(),
        sex: "1".into(),
        id_number: head_id(),
        relation: "01".into(),
        ethnicity: "07".into(),
        political_status: "13".into(),
        education: "3".into(),
        schooling: "00".into(),
        health: "1".into(),
        labor_skill: "1".into(),
        work_status: "3".into(),
        work_months: Some(6),
        medical_insurance: Some(true),
        ..Default::default()
    }
}

pub(super) fn income() -> Income {
    Income {
        year: Some(2016),
        wage: Some(6000.0),
        business: Some(3000.0),
        business_expense: Some(1000.0),
        ..Default::default()
    }
}

/// One row of a rule table: a case name, an edit of the valid baseline, the expected issues
/// rendered by [`render`].
pub(super) type Case<T> = (&'static str, fn(&mut T), &'static [&'static str]);

/// `E field rule` for an error, `W field rule` for a warning: short enough for tables.
pub(super) fn render(issues: &[Issue]) -> Vec<String> {
    let mut out: Vec<String> = issues
        .iter()
        .map(|i| {
            let sev = match i.severity {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            format!("{sev} {} {}", i.field, i.rule)
        })
        .collect();
    out.sort();
    out
}

/// Runs every case and reports all mismatches at once, so one broken rule does not hide others.
pub(super) fn run_cases<T: Clone>(base: &T, cases: &[Case<T>], check: impl Fn(&T) -> Vec<Issue>) {
    let mut failures = Vec::new();
    for (name, edit, expected) in cases {
        let mut record = base.clone();
        edit(&mut record);
        let issues = check(&record);
        let got = render(&issues);
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        if got != want {
            failures.push(format!(
                "{name}:\n  want {want:?}\n  got  {got:?}\n  {issues:#?}"
            ));
        }
        for issue in &issues {
            assert!(
                !issue.message.is_empty(),
                "{name}: empty message for {}",
                issue.rule
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The messages of the issues, for tests that pin the exact Chinese wording.
pub(super) fn messages(issues: &[Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.message.as_str()).collect()
}

#[test]
fn the_test_check_char_agrees_with_published_sample_ids() {
    // The example of GB 11643-1999 itself and a widely published sample with an X.
    assert_eq!(check_char("11010519491231002"), 'X');
    assert_eq!(check_char("44052418800101001"), '4');
}
