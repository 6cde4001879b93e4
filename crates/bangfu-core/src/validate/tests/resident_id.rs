//! Tests of 证件号码 parsing, age and duplicate keys: every error variant and both sides of
//! every date boundary.

use chrono::NaiveDate;

use super::{date, id, id_ending_in_digit, id_ending_in_x, today, with_wrong_check};
use crate::validate::resident_id::{
    CardDisability, ResidentIdError as E, age_on, parse, person_key,
};

/// What a parse must give: the birth, the sex code and the disability on the card, or an error.
type Expect = Result<
    (
        NaiveDate,
        &'static str,
        Option<(&'static str, &'static str)>,
    ),
    E,
>;

fn ok(birth: NaiveDate, sex: &'static str) -> Expect {
    Ok((birth, sex, None))
}

fn parse_cases() -> Vec<(&'static str, String, Expect)> {
    let male = id("530826", "19900101", "123");
    let female = id("530826", "19900101", "124");
    let x = id_ending_in_x(true);
    vec![
        ("valid male", male.clone(), ok(date(1990, 1, 1), "1")),
        ("valid female", female.clone(), ok(date(1990, 1, 1), "2")),
        ("check char X", x.clone(), ok(date(1985, 3, 15), "1")),
        (
            "lowercase x is the same check value",
            x.to_lowercase(),
            ok(date(1985, 3, 15), "1"),
        ),
        (
            "GB 11643 sample",
            "11010519491231002X".into(),
            ok(date(1949, 12, 31), "2"),
        ),
        // 510221 was 四川省重庆市长寿县 until 1997: old IDs keep abolished area codes.
        (
            "abolished area code",
            id("510221", "19620704", "215"),
            ok(date(1962, 7, 4), "1"),
        ),
        (
            "unknown province",
            id("990000", "19620704", "215"),
            ok(date(1962, 7, 4), "1"),
        ),
        (
            "wrong check digit",
            with_wrong_check(&male),
            Err(E::Checksum { expected: '0' }),
        ),
        (
            "X where a digit is due",
            format!("{}X", &id_ending_in_digit("19900101", true)[..17]),
            Err(E::Checksum {
                expected: id_ending_in_digit("19900101", true).chars().last().unwrap(),
            }),
        ),
        (
            "digit where X is due",
            x.replace('X', "9"),
            Err(E::Checksum { expected: 'X' }),
        ),
        (
            "17 chars",
            male[..17].to_owned(),
            Err(E::Length { len: 17 }),
        ),
        ("19 chars", format!("{male}1"), Err(E::Length { len: 19 })),
        (
            "15-digit first-generation ID: its 18-digit form is offered",
            "530826900101123".into(),
            Err(E::OldForm {
                upgraded: "530826199001011230".into(),
            }),
        ),
        (
            "15 digits that are no ID (a 户编号 typed in its place: no real birth date)",
            "530828101299001".into(),
            Err(E::Length { len: 15 }),
        ),
        ("empty", String::new(), Err(E::Length { len: 0 })),
        ("trailing space", format!("{male} "), Err(E::Whitespace)),
        (
            "inner space",
            format!("530826 {}", &male[6..]),
            Err(E::Whitespace),
        ),
        (
            "letter in area",
            format!("53O{}", &male[3..]),
            Err(E::NonDigit {
                position: 3,
                ch: 'O',
            }),
        ),
        (
            "X before the check position",
            format!("{}X{}", &male[..16], &male[17..]),
            Err(E::NonDigit {
                position: 17,
                ch: 'X',
            }),
        ),
        (
            "full-width digit",
            format!("５{}", &male[1..]),
            Err(E::NonDigit {
                position: 1,
                ch: '５',
            }),
        ),
        (
            "Feb 29 of a leap year",
            id("530826", "20000229", "123"),
            ok(date(2000, 2, 29), "1"),
        ),
        (
            "Feb 29 of 2024",
            id("530826", "20240229", "124"),
            ok(date(2024, 2, 29), "2"),
        ),
        (
            "Feb 29 of a common year",
            id("530826", "20230229", "123"),
            Err(E::BadDate {
                text: "20230229".into(),
            }),
        ),
        (
            "Feb 29 of 1900, not a leap year",
            id("530826", "19000229", "123"),
            Err(E::BadDate {
                text: "19000229".into(),
            }),
        ),
        (
            "month 13",
            id("530826", "19901301", "123"),
            Err(E::BadDate {
                text: "19901301".into(),
            }),
        ),
        (
            "month 00",
            id("530826", "19900001", "123"),
            Err(E::BadDate {
                text: "19900001".into(),
            }),
        ),
        (
            "day 00",
            id("530826", "19900100", "123"),
            Err(E::BadDate {
                text: "19900100".into(),
            }),
        ),
        (
            "April 31",
            id("530826", "19900431", "123"),
            Err(E::BadDate {
                text: "19900431".into(),
            }),
        ),
        (
            "born today",
            id("530826", "20240615", "123"),
            ok(today(), "1"),
        ),
        (
            "born tomorrow",
            id("530826", "20240616", "123"),
            Err(E::FutureDate {
                birth: date(2024, 6, 16),
            }),
        ),
        (
            "born next century",
            id("530826", "21000101", "123"),
            Err(E::FutureDate {
                birth: date(2100, 1, 1),
            }),
        ),
        (
            "born 1900-01-01",
            id("530826", "19000101", "123"),
            ok(date(1900, 1, 1), "1"),
        ),
        (
            "born 1899-12-31",
            id("530826", "18991231", "123"),
            Err(E::TooEarly {
                birth: date(1899, 12, 31),
            }),
        ),
        (
            "disabled card",
            format!("{male}42"),
            Ok((date(1990, 1, 1), "1", Some(("4", "2")))),
        ),
        (
            "disabled card on an X id",
            format!("{x}71"),
            Ok((date(1985, 3, 15), "1", Some(("7", "1")))),
        ),
        (
            "disabled card grade 4",
            format!("{female}14"),
            Ok((date(1990, 1, 1), "2", Some(("1", "4")))),
        ),
        (
            "card category 0",
            format!("{male}02"),
            Err(E::DisabilityCategory { digit: '0' }),
        ),
        (
            "card category 8",
            format!("{male}82"),
            Err(E::DisabilityCategory { digit: '8' }),
        ),
        (
            "card grade 0",
            format!("{male}40"),
            Err(E::DisabilityGrade { digit: '0' }),
        ),
        (
            "card grade 5",
            format!("{male}45"),
            Err(E::DisabilityGrade { digit: '5' }),
        ),
        (
            "card with a letter",
            format!("{male}4A"),
            Err(E::NonDigit {
                position: 20,
                ch: 'A',
            }),
        ),
        (
            "card on an invalid id",
            format!("{}42", with_wrong_check(&male)),
            Err(E::Checksum { expected: '0' }),
        ),
    ]
}

#[test]
fn parse_accepts_valid_ids_and_names_what_is_wrong() {
    let mut failures = Vec::new();
    for (name, input, expected) in parse_cases() {
        let got = parse(&input, today()).map(|id| {
            (
                id.birth,
                id.sex_code,
                id.disability.map(|d| (d.category, d.grade)),
            )
        });
        if got != expected {
            failures.push(format!("{name} ({input}): want {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parse_keeps_the_area_of_first_registration() {
    let parsed = parse(&id("510221", "19620704", "215"), today()).unwrap();
    assert_eq!(parsed.area, "510221");
    let card = parse(&format!("{}42", id("530826", "19900101", "123")), today()).unwrap();
    assert_eq!(
        card.disability,
        Some(CardDisability {
            category: "4",
            grade: "2"
        })
    );
}

#[test]
fn every_error_says_in_chinese_what_is_wrong() {
    let cases = [
        (E::Whitespace, "含有空格", "resident_id.whitespace"),
        (
            E::Length { len: 17 },
            "位数不对：应为18位（残疾人证为20位），实际为17位",
            "resident_id.length",
        ),
        (
            E::NonDigit {
                position: 3,
                ch: 'O',
            },
            "第3位“O”不是数字",
            "resident_id.non_digit",
        ),
        (
            E::BadDate {
                text: "20230229".into(),
            },
            "第7-14位的出生日期 20230229 不是真实日期",
            "resident_id.bad_date",
        ),
        (
            E::FutureDate {
                birth: date(2024, 6, 16),
            },
            "出生日期 2024-06-16 晚于今天",
            "resident_id.future_date",
        ),
        (
            E::TooEarly {
                birth: date(1899, 12, 31),
            },
            "出生日期 1899-12-31 早于1900年，应是输入错误",
            "resident_id.too_early",
        ),
        (
            E::Checksum { expected: 'X' },
            "校验位错误：应为 X",
            "resident_id.checksum",
        ),
        (
            E::DisabilityCategory { digit: '8' },
            "残疾人证第19位（残疾类别）应为1-7，实际为8",
            "resident_id.disability_category",
        ),
        (
            E::DisabilityGrade { digit: '5' },
            "残疾人证第20位（残疾等级）应为1-4，实际为5",
            "resident_id.disability_grade",
        ),
    ];
    for (error, text, rule) in cases {
        assert_eq!((error.to_string().as_str(), error.rule()), (text, rule));
    }
}

#[test]
fn age_counts_full_years() {
    let cases = [
        // (birth, day, age)
        (date(1990, 6, 15), date(2024, 6, 14), 33),
        (date(1990, 6, 15), date(2024, 6, 15), 34),
        (date(1990, 6, 15), date(2024, 6, 16), 34),
        (date(1990, 12, 31), date(1991, 1, 1), 0),
        (date(1990, 1, 1), date(1990, 12, 31), 0),
        // Born on 29 February: a year older on 1 March in common years, on the 29th in leap ones.
        (date(2000, 2, 29), date(2001, 2, 28), 0),
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2000, 2, 29), date(2004, 2, 28), 3),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
        // A day before the birth is not a negative age.
        (date(2000, 1, 1), date(2000, 1, 1), 0),
        (date(2000, 1, 2), date(2000, 1, 1), 0),
        (date(1900, 1, 1), date(2024, 6, 15), 124),
    ];
    for (birth, day, age) in cases {
        assert_eq!(age_on(birth, day), age, "born {birth}, on {day}");
    }
}

#[test]
fn person_key_treats_card_and_id_and_x_case_as_one_person() {
    let x = id_ending_in_x(false);
    let cases = [
        (x.clone(), x.clone()),
        (x.to_lowercase(), x.clone()),
        (format!("{x}42"), x.clone()),
        (format!(" {} ", x.to_lowercase()), x.clone()),
        // Invalid numbers are compared as typed (upper-cased): the same typo twice is a duplicate.
        ("53082619900101123".into(), "53082619900101123".into()),
        // GB 11643-1999's own example: 15 digits of 1949-12-31 and the 18-digit ID they became.
        ("110105491231002".into(), "11010519491231002X".into()),
    ];
    for (input, key) in cases {
        assert_eq!(person_key(&input), key, "{input}");
    }
}

#[test]
fn person_key_prefixes_name_every_form_a_number_was_typed_in() {
    let prefixes = super::super::resident_id::person_key_prefixes("11010519491231002X");
    assert_eq!(
        prefixes,
        vec![
            "11010519491231002X".to_owned(),
            "11010519491231002x".to_owned(),
            "110105491231002".to_owned(),
        ]
    );
    // Born in 2001: no 15-digit form existed.
    let young = super::super::resident_id::person_key_prefixes("110105200101010011");
    assert_eq!(young, vec!["110105200101010011".to_owned()]);
}
