//! 联系电话: mainland mobile numbers and landlines with area code and optional extension.
//!
//! Accepted shapes:
//! - mobile: `1[3-9]` followed by 9 digits, nothing else (`^1[3-9]\d{9}$`);
//! - landline: area code, optional `-` or space, local number of 7-8 digits not starting with
//!   0, optional extension after `-`, `转` or `#` (1-6 digits), e.g. `0871-1234567`,
//!   `08711234567`, `0871 12345678`, `010-12345678转801`.
//!
//! The area-code length is read from its second digit: 010 and 02x are the only three-digit
//! codes, every other code has four digits. That makes `08711234567` unambiguous without a
//! separator. The matcher is written by hand because these few shapes do not justify a regex
//! dependency and hand-written branches can say precisely what is wrong.

/// What kind of number a valid 联系电话 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    Mobile,
    Landline,
}

/// Why a 联系电话 is not valid. The Display text completes "联系电话 {number} 不正确：".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("号码为空")]
    Empty,
    #[error("含有不能出现在电话号码中的字符“{ch}”")]
    InvalidChar { ch: char },
    #[error("手机号码应为11位，实际为{len}位")]
    MobileLength { len: usize },
    #[error("手机号码应以13-19开头，实际以{prefix}开头")]
    MobilePrefix { prefix: String },
    #[error("区号 {area} 不存在（区号以0开头，第二位不能为0）")]
    AreaCode { area: String },
    #[error("固定电话应带区号，如 0871-1234567")]
    MissingAreaCode,
    #[error("本地号码 {local} 应为7-8位数字且不以0开头")]
    LocalNumber { local: String },
    #[error("分机号 {extension} 应为1-6位数字")]
    Extension { extension: String },
}

impl PhoneError {
    /// The stable rule id of this error, as [`super::Issue::rule`] carries it.
    pub fn rule(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone.empty",
            PhoneError::InvalidChar { .. } => "phone.invalid_char",
            PhoneError::MobileLength { .. } => "phone.mobile_length",
            PhoneError::MobilePrefix { .. } => "phone.mobile_prefix",
            PhoneError::AreaCode { .. } => "phone.area_code",
            PhoneError::MissingAreaCode => "phone.missing_area_code",
            PhoneError::LocalNumber { .. } => "phone.local_number",
            PhoneError::Extension { .. } => "phone.extension",
        }
    }
}

/// Classifies a phone number, or says what is wrong with it. Surrounding whitespace is ignored.
pub fn parse(s: &str) -> Result<PhoneKind, PhoneError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(PhoneError::Empty);
    }
    if let Some(ch) = s
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, '-' | ' ' | '转' | '#')))
    {
        return Err(PhoneError::InvalidChar { ch });
    }
    match s.as_bytes()[0] {
        b'1' => mobile(s),
        b'0' => landline(s),
        _ => Err(PhoneError::MissingAreaCode),
    }
}

fn mobile(s: &str) -> Result<PhoneKind, PhoneError> {
    if let Some(ch) = s.chars().find(|c| !c.is_ascii_digit()) {
        return Err(PhoneError::InvalidChar { ch });
    }
    if s.len() != 11 {
        return Err(PhoneError::MobileLength { len: s.len() });
    }
    if !matches!(s.as_bytes()[1], b'3'..=b'9') {
        return Err(PhoneError::MobilePrefix {
            prefix: s[..2].to_owned(),
        });
    }
    Ok(PhoneKind::Mobile)
}

fn landline(s: &str) -> Result<PhoneKind, PhoneError> {
    // `s` starts with '0' and holds only ASCII digits, '-', ' ', '#' and '转'.
    let area_len = match s.as_bytes().get(1) {
        Some(b'1' | b'2') => 3,
        Some(b'3'..=b'9') => 4,
        _ => {
            let area: String = s.chars().take_while(char::is_ascii_digit).take(4).collect();
            return Err(PhoneError::AreaCode { area });
        }
    };
    let area_digits = s.bytes().take(area_len).filter(u8::is_ascii_digit).count();
    if area_digits != area_len {
        let area: String = s.chars().take_while(char::is_ascii_digit).collect();
        return Err(PhoneError::AreaCode { area });
    }
    let rest = &s[area_len..];
    let rest = rest.strip_prefix(['-', ' ']).unwrap_or(rest);

    let (local, extension) = match rest.find(['-', ' ', '转', '#']) {
        Some(at) => {
            let sep_len = rest[at..].chars().next().map_or(1, char::len_utf8);
            (&rest[..at], Some(&rest[at + sep_len..]))
        }
        None => (rest, None),
    };
    let local_ok = (7..=8).contains(&local.len())
        && local.bytes().all(|b| b.is_ascii_digit())
        && !local.starts_with('0');
    if !local_ok {
        return Err(PhoneError::LocalNumber {
            local: local.to_owned(),
        });
    }
    if let Some(extension) = extension {
        let ok =
            (1..=6).contains(&extension.len()) && extension.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(PhoneError::Extension {
                extension: extension.to_owned(),
            });
        }
    }
    Ok(PhoneKind::Landline)
}
