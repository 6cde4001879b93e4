//! Turning what a person typed (in a form, a command or a spreadsheet cell) into a field value.

use chrono::NaiveDate;

use super::{FieldKind, FieldSpec, FieldValue};

/// Why typed text is not a value of its field; the message names the field and the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    pub message: String,
}

fn bad(spec: &FieldSpec, text: &str, expected: &str) -> InputError {
    InputError {
        message: format!("“{}”填写的“{text}”不是{expected}", spec.label),
    }
}

/// Full-width digits and punctuation, as Chinese input methods type them, become ASCII.
pub fn to_half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            other => other,
        })
        .collect()
}

/// What separates the codes of a multi-code field, wherever text is typed or imported: commas
/// (half or full width), 、, semicolons (half or full width), / and spaces.
pub const CODE_SEPARATORS: &[char] = &[',', '，', '、', ';', '；', '/'];

/// Splits the text of a multi-code field into its parts, trimmed, empty parts dropped. The one
/// splitter for the household page, `bangfu edit`, conflict resolution and roll imports.
pub fn split_codes(text: &str) -> Vec<&str> {
    text.split(|c: char| CODE_SEPARATORS.contains(&c) || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect()
}

/// Parses typed text for a field. Empty text clears the field. Value-list fields take the
/// label ("因病") or the code ("01"); several values are separated as [`split_codes`] says.
pub fn parse_input(spec: &FieldSpec, text: &str) -> Result<FieldValue, InputError> {
    let text = to_half_width(text.trim());
    let text = text.trim();
    if text.is_empty() {
        return Ok(FieldValue::Null);
    }
    match spec.kind {
        FieldKind::Text => match spec.codes {
            None => Ok(FieldValue::Text(text.to_owned())),
            Some(list) => {
                let parts: Vec<&str> = if spec.multi {
                    split_codes(text)
                } else {
                    vec![text]
                };
                let mut codes = Vec::with_capacity(parts.len());
                for part in parts {
                    let code = list
                        .code_of(part)
                        .ok_or_else(|| bad(spec, part, &format!("“{}”中的一项", list.title)))?;
                    codes.push(code);
                }
                Ok(FieldValue::Text(codes.join(",")))
            }
        },
        FieldKind::Int => text
            .parse::<i64>()
            .map(FieldValue::Int)
            .map_err(|_| bad(spec, text, "整数")),
        FieldKind::Real => text
            .trim_end_matches(['元', '亩'])
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(FieldValue::Real)
            .ok_or_else(|| bad(spec, text, "数字")),
        FieldKind::Bool => match text {
            "是" | "有" | "1" | "true" | "√" | "Y" | "y" => Ok(FieldValue::Int(1)),
            "否" | "无" | "0" | "false" | "×" | "N" | "n" => Ok(FieldValue::Int(0)),
            _ => Err(bad(spec, text, "“是”或“否”")),
        },
        FieldKind::Date => ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
            .map(|d| FieldValue::Text(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| bad(spec, text, "日期（如 2024-03-01）")),
        FieldKind::Ref => Err(InputError {
            message: format!("“{}”不能直接填写", spec.label),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn spec(name: &str) -> &'static FieldSpec {
        Table::Household
            .field(name)
            .or_else(|| Table::Member.field(name))
            .unwrap()
    }

    #[test]
    fn typed_text_becomes_values() {
        let cases: &[(&str, &str, FieldValue)] = &[
            ("main_cause", "因病", FieldValue::Text("01".into())),
            ("main_cause", "01", FieldValue::Text("01".into())),
            (
                "other_causes",
                "缺技术、缺资金",
                FieldValue::Text("07,09".into()),
            ),
            ("arable_area", "３.５", FieldValue::Real(3.5)),
            ("arable_area", "2亩", FieldValue::Real(2.0)),
            ("dangerous_house", "是", FieldValue::Int(1)),
            ("plan_exit_year", "２０１９", FieldValue::Int(2019)),
            (
                "phone",
                " 13800000000 ",
                FieldValue::Text("13800000000".into()),
            ),
            ("phone", "", FieldValue::Null),
        ];
        for (field, text, want) in cases {
            assert_eq!(
                parse_input(spec(field), text).as_ref(),
                Ok(want),
                "{field} {text}"
            );
        }
    }

    #[test]
    fn split_codes_takes_every_separator_people_type() {
        for text in [
            "缺技术，缺资金",
            "缺技术,缺资金",
            "缺技术、缺资金",
            "缺技术；缺资金",
            "缺技术;缺资金",
            "缺技术 缺资金",
            "缺技术\u{3000}缺资金",
            "缺技术/缺资金",
            " 缺技术 ，， 缺资金 ",
        ] {
            assert_eq!(split_codes(text), ["缺技术", "缺资金"], "{text}");
        }
        assert_eq!(split_codes(""), Vec::<&str>::new());
        assert_eq!(split_codes("因病"), ["因病"]);
    }

    /// Regression: the page and `bangfu edit` refused what a roll import took (a space, a /).
    #[test]
    fn multi_code_fields_accept_the_roll_import_separators() {
        for text in [
            "缺技术，缺资金",
            "缺技术 缺资金",
            "缺技术/缺资金",
            "缺技术\u{3000}缺资金",
        ] {
            assert_eq!(
                parse_input(spec("other_causes"), text),
                Ok(FieldValue::Text("07,09".into())),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_text_names_the_field_and_the_text() {
        let err = parse_input(spec("main_cause"), "因穷").unwrap_err();
        assert_eq!(
            err.message,
            "“主要致贫原因”填写的“因穷”不是“致贫原因”中的一项"
        );
        assert!(parse_input(spec("arable_area"), "三亩").is_err());
        assert!(parse_input(spec("dangerous_house"), "也许").is_err());
        assert!(parse_input(spec("household_id"), "x").is_err());
    }
}
