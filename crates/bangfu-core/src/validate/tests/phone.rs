//! Tests of 联系电话 parsing: the accepted mobile and landline shapes and each way to miss them.

use crate::validate::phone::{PhoneError as E, PhoneKind, parse};

#[test]
fn phone_numbers_are_classified_or_rejected_with_a_reason() {
    let cases: &[(&str, Result<PhoneKind, E>)] = &[
        ("13812345678", Ok(PhoneKind::Mobile)),
        ("19912345678", Ok(PhoneKind::Mobile)),
        ("13012345678", Ok(PhoneKind::Mobile)),
        (" 13812345678 ", Ok(PhoneKind::Mobile)),
        ("0871-1234567", Ok(PhoneKind::Landline)),
        ("08711234567", Ok(PhoneKind::Landline)),
        ("0871 12345678", Ok(PhoneKind::Landline)),
        ("087112345678", Ok(PhoneKind::Landline)),
        ("010-12345678", Ok(PhoneKind::Landline)),
        ("01012345678", Ok(PhoneKind::Landline)),
        ("023-6123456", Ok(PhoneKind::Landline)),
        ("0871-1234567-8001", Ok(PhoneKind::Landline)),
        ("0871-1234567转801", Ok(PhoneKind::Landline)),
        ("0871-1234567#12", Ok(PhoneKind::Landline)),
        ("0871 1234567 8", Ok(PhoneKind::Landline)),
        ("0871-1234567-123456", Ok(PhoneKind::Landline)),
        ("", Err(E::Empty)),
        ("   ", Err(E::Empty)),
        (
            "12812345678",
            Err(E::MobilePrefix {
                prefix: "12".into(),
            }),
        ),
        (
            "11012345678",
            Err(E::MobilePrefix {
                prefix: "11".into(),
            }),
        ),
        ("1381234567", Err(E::MobileLength { len: 10 })),
        ("138123456789", Err(E::MobileLength { len: 12 })),
        ("138-1234-5678", Err(E::InvalidChar { ch: '-' })),
        ("+8613812345678", Err(E::InvalidChar { ch: '+' })),
        ("0871-1234567 ext 8", Err(E::InvalidChar { ch: 'e' })),
        ("1381234567８", Err(E::InvalidChar { ch: '８' })),
        ("(0871)1234567", Err(E::InvalidChar { ch: '(' })),
        ("5123456", Err(E::MissingAreaCode)),
        (
            "0071-1234567",
            Err(E::AreaCode {
                area: "0071".into(),
            }),
        ),
        ("0", Err(E::AreaCode { area: "0".into() })),
        ("087", Err(E::AreaCode { area: "087".into() })),
        ("08-71234567", Err(E::AreaCode { area: "08".into() })),
        (
            "0871-123456",
            Err(E::LocalNumber {
                local: "123456".into(),
            }),
        ),
        (
            "0871-123456789",
            Err(E::LocalNumber {
                local: "123456789".into(),
            }),
        ),
        (
            "0871-0123456",
            Err(E::LocalNumber {
                local: "0123456".into(),
            }),
        ),
        (
            "0871",
            Err(E::LocalNumber {
                local: String::new(),
            }),
        ),
        (
            "0871--1234567",
            Err(E::LocalNumber {
                local: String::new(),
            }),
        ),
        (
            "0871-1234567-",
            Err(E::Extension {
                extension: String::new(),
            }),
        ),
        (
            "0871-1234567转",
            Err(E::Extension {
                extension: String::new(),
            }),
        ),
        (
            "0871-1234567-1234567",
            Err(E::Extension {
                extension: "1234567".into(),
            }),
        ),
        (
            "0871-1234567-12-3",
            Err(E::Extension {
                extension: "12-3".into(),
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (input, expected) in cases {
        let got = parse(input);
        if &got != expected {
            failures.push(format!("{input:?}: want {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_phone_error_says_in_chinese_what_is_wrong() {
    let cases = [
        (E::Empty, "号码为空", "phone.empty"),
        (
            E::InvalidChar { ch: '+' },
            "含有不能出现在电话号码中的字符“+”",
            "phone.invalid_char",
        ),
        (
            E::MobileLength { len: 10 },
            "手机号码应为11位，实际为10位",
            "phone.mobile_length",
        ),
        (
            E::MobilePrefix {
                prefix: "12".into(),
            },
            "手机号码应以13-19开头，实际以12开头",
            "phone.mobile_prefix",
        ),
        (
            E::AreaCode {
                area: "0071".into(),
            },
            "区号 0071 不存在（区号以0开头，第二位不能为0）",
            "phone.area_code",
        ),
        (
            E::MissingAreaCode,
            "固定电话应带区号，如 0871-1234567",
            "phone.missing_area_code",
        ),
        (
            E::LocalNumber {
                local: "123456".into(),
            },
            "本地号码 123456 应为7-8位数字且不以0开头",
            "phone.local_number",
        ),
        (
            E::Extension {
                extension: "1234567".into(),
            },
            "分机号 1234567 应为1-6位数字",
            "phone.extension",
        ),
    ];
    for (error, text, rule) in cases {
        assert_eq!((error.to_string().as_str(), error.rule()), (text, rule));
    }
}
