//! 证件号码: the 18-digit resident ID of GB 11643-1999 and the 20-digit 残疾人证 built on it.
//!
//! Layout of the 18 characters: 6 digits of area (the place of first registration), 8 digits of
//! birth date `YYYYMMDD`, 3 digits of sequence whose last digit is odd for men and even for women,
//! and a check character (`0`-`9` or `X`). A 残疾人证 number appends the disability category
//! (1-7) and grade (1-4) to the holder's resident ID.
//!
//! Area codes are deliberately not checked against a list: counties merge and get renamed, and
//! people keep the ID of their first registration for life.

use chrono::{Datelike, NaiveDate};

/// GB 11643-1999 weights of the first 17 digits: 2^(18-i) mod 11 for position i.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Nobody alive was born before this; a birth year of 18xx is a typing slip.
const EARLIEST_BIRTH_YEAR: i32 = 1900;

/// What a valid 证件号码 tells about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    pub birth: NaiveDate,
    /// `"1"` 男 or `"2"` 女, codes of [`crate::model::codes::SEX`].
    pub sex_code: &'static str,
    /// The six-digit area of first registration, possibly of an area that no longer exists.
    pub area: String,
    /// Present for a 20-digit 残疾人证 number.
    pub disability: Option<CardDisability>,
}

/// The two trailing digits of a 残疾人证 number, as codes of the member's disability lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardDisability {
    /// A code of [`crate::model::codes::DISABILITY_CATEGORY`] ("1"-"7").
    pub category: &'static str,
    /// A code of [`crate::model::codes::DISABILITY_GRADE`] ("1"-"4").
    pub grade: &'static str,
}

/// Why a 证件号码 is not valid. The Display text completes a sentence that starts with the
/// number itself, e.g. "证件号码 530826199001011234 校验位错误：应为 X".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("含有空格")]
    Whitespace,
    #[error("位数不对：应为18位（残疾人证为20位），实际为{len}位")]
    Length { len: usize },
    /// A 15-digit ID of the old form (issued before 1999): the 18-digit number it became is
    /// offered (`19` before the year, a check character).
    #[error("是15位的旧证件号码，应换为18位：{upgraded}")]
    OldForm { upgraded: String },
    #[error("第{position}位“{ch}”不是数字")]
    NonDigit { position: usize, ch: char },
    #[error("第7-14位的出生日期 {text} 不是真实日期")]
    BadDate { text: String },
    #[error("出生日期 {birth} 晚于今天")]
    FutureDate { birth: NaiveDate },
    #[error("出生日期 {birth} 早于{EARLIEST_BIRTH_YEAR}年，应是输入错误")]
    TooEarly { birth: NaiveDate },
    #[error("校验位错误：应为 {expected}")]
    Checksum { expected: char },
    #[error("残疾人证第19位（残疾类别）应为1-7，实际为{digit}")]
    DisabilityCategory { digit: char },
    #[error("残疾人证第20位（残疾等级）应为1-4，实际为{digit}")]
    DisabilityGrade { digit: char },
}

impl ResidentIdError {
    /// The stable rule id of this error, as [`super::Issue::rule`] carries it.
    pub fn rule(&self) -> &'static str {
        match self {
            ResidentIdError::Whitespace => "resident_id.whitespace",
            ResidentIdError::Length { .. } => "resident_id.length",
            ResidentIdError::OldForm { .. } => "resident_id.old_form",
            ResidentIdError::NonDigit { .. } => "resident_id.non_digit",
            ResidentIdError::BadDate { .. } => "resident_id.bad_date",
            ResidentIdError::FutureDate { .. } => "resident_id.future_date",
            ResidentIdError::TooEarly { .. } => "resident_id.too_early",
            ResidentIdError::Checksum { .. } => "resident_id.checksum",
            ResidentIdError::DisabilityCategory { .. } => "resident_id.disability_category",
            ResidentIdError::DisabilityGrade { .. } => "resident_id.disability_grade",
        }
    }
}

/// Parses an 18-digit resident ID or a 20-digit 残疾人证 number.
///
/// A lowercase `x` check character is accepted: it is the same check value, people type it that
/// way and phones' keyboards offer it. [`super::check_member`] warns about it because the county
/// system compares numbers as text.
pub fn parse(s: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
    if s.chars().any(char::is_whitespace) {
        return Err(ResidentIdError::Whitespace);
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() == 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && let Some(upgraded) = upgrade_15(s).filter(|id| parse(id, today).is_ok())
    {
        return Err(ResidentIdError::OldForm { upgraded });
    }
    if chars.len() != 18 && chars.len() != 20 {
        return Err(ResidentIdError::Length { len: chars.len() });
    }
    let mut digits = [0u32; 17];
    for (i, ch) in chars.iter().enumerate() {
        let is_check_x = i == 17 && matches!(ch, 'X' | 'x');
        match ch.to_digit(10) {
            Some(d) if i < 17 => digits[i] = d,
            Some(_) => {}
            None if is_check_x => {}
            None => {
                return Err(ResidentIdError::NonDigit {
                    position: i + 1,
                    ch: *ch,
                });
            }
        }
    }

    let number =
        |range: std::ops::Range<usize>| digits[range].iter().fold(0u32, |acc, d| acc * 10 + d);
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    let birth = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or_else(|| ResidentIdError::BadDate {
            text: chars[6..14].iter().collect(),
        })?;
    if birth > today {
        return Err(ResidentIdError::FutureDate { birth });
    }
    if birth.year() < EARLIEST_BIRTH_YEAR {
        return Err(ResidentIdError::TooEarly { birth });
    }

    let expected = check_char(&digits);
    if chars[17].to_ascii_uppercase() != expected {
        return Err(ResidentIdError::Checksum { expected });
    }

    let disability = if chars.len() == 20 {
        Some(card_disability(chars[18], chars[19])?)
    } else {
        None
    };
    Ok(ResidentId {
        birth,
        sex_code: if digits[16] % 2 == 1 { "1" } else { "2" },
        area: chars[..6].iter().collect(),
        disability,
    })
}

/// The check character for the first 17 digits of an ID, for code that issues numbers (the
/// demo generator); `None` unless given exactly 17 digits.
pub fn check_character(first17: &str) -> Option<char> {
    let mut digits = [0u32; 17];
    let mut chars = first17.chars();
    for d in &mut digits {
        *d = chars.next()?.to_digit(10)?;
    }
    if chars.next().is_some() {
        return None;
    }
    Some(check_char(&digits))
}

/// The check character of the first 17 digits.
fn check_char(digits: &[u32; 17]) -> char {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn card_disability(category: char, grade: char) -> Result<CardDisability, ResidentIdError> {
    const CATEGORIES: [&str; 7] = ["1", "2", "3", "4", "5", "6", "7"];
    const GRADES: [&str; 4] = ["1", "2", "3", "4"];
    let pick = |ch: char, codes: &[&'static str]| {
        codes
            .iter()
            .copied()
            .find(|c| c.chars().eq(std::iter::once(ch)))
    };
    let category = pick(category, &CATEGORIES)
        .ok_or(ResidentIdError::DisabilityCategory { digit: category })?;
    let grade = pick(grade, &GRADES).ok_or(ResidentIdError::DisabilityGrade { digit: grade })?;
    Ok(CardDisability { category, grade })
}

/// Full years of age on `day` (周岁). Someone born on 29 February turns a year older on
/// 1 March in common years, the usual reading of 周岁 in Chinese administrative practice.
/// A `day` before the birth gives 0 rather than a negative age.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> u32 {
    if day <= birth {
        return 0;
    }
    let before_birthday = (day.month(), day.day()) < (birth.month(), birth.day());
    let years = day.year() - birth.year() - i32::from(before_birthday);
    u32::try_from(years).unwrap_or(0)
}

/// The text that identifies a person for duplicate detection, the one key every duplicate check
/// uses: a 残疾人证 number and the resident ID inside it are the same person, `x` and `X` are
/// the same check character, and a 15-digit ID of before 1999 is the 18-digit one it became
/// (century 19 inserted, its check character computed).
pub fn person_key(s: &str) -> String {
    let upper = s.trim().to_uppercase();
    match upper.chars().count() {
        20 => upper.chars().take(18).collect(),
        15 if upper.bytes().all(|b| b.is_ascii_digit()) => upgrade_15(&upper).unwrap_or(upper),
        _ => upper,
    }
}

/// The prefixes under which a person's number may have been typed, for an index range lookup
/// (`id_number >= prefix AND id_number < prefix || '~'`, then [`person_key`] compared): the
/// key itself (also the start of its 20-digit 残疾人证 number), with a lower-case `x`, and the
/// 15-digit ID a 19xx-born person's key upgrades from.
pub fn person_key_prefixes(key: &str) -> Vec<String> {
    let mut out = vec![key.to_owned()];
    if key.ends_with('X') {
        out.push(key.to_lowercase());
    }
    if key.len() == 18
        && key.get(6..8) == Some("19")
        && let (Some(area), Some(rest)) = (key.get(..6), key.get(8..17))
    {
        let id15 = format!("{area}{rest}");
        if upgrade_15(&id15).as_deref() == Some(key) {
            out.push(id15);
        }
    }
    out
}

/// The 18-digit ID a 15-digit one became: `19` before the two-digit year, a check character.
pub fn upgrade_15(id15: &str) -> Option<String> {
    let (area, rest) = (id15.get(..6)?, id15.get(6..)?);
    let first17 = format!("{area}19{rest}");
    let check = check_character(&first17)?;
    Some(format!("{first17}{check}"))
}
