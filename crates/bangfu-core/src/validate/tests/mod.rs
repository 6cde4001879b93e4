//! Test fixtures of the validation module: dates and ID generation.
//!
//! Parsers are tested as tables of inputs and expected results.

// In tests a failed unwrap is a failed test with a backtrace, which is exactly what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod phone;
mod resident_id;

use chrono::NaiveDate;

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

#[test]
fn the_test_check_char_agrees_with_published_sample_ids() {
    // The example of GB 11643-1999 itself and a widely published sample with an X.
    assert_eq!(check_char("11010519491231002"), 'X');
    assert_eq!(check_char("44052418800101001"), '4');
}
