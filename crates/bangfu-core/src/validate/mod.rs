//! Validation of what users type and import: resident IDs, phones, codes, cross-field checks.
//!
//! Every check is a pure function from a record (and, where the clock matters, today's date) to a
//! list of [`Issue`]s. Nothing here reads the store or the clock: the store decides when to call
//! which check and whether an `Error` blocks a save. An empty optional field is never an issue;
//! a field is only "required" where the forms or the county's import insist on it.
//!
//! Architecture Invariant: checks never drop or rewrite data. A duplicate ID or a strange income
//! is reported so that a person can look at it; only the person fixes it.
//!
//! Rule ids are stable English identifiers (the UI and reports may count and filter by them);
//! messages are Chinese, name the field's form label and quote the offending value.

mod codes;
mod composition;
mod file;
mod household;
mod member;
pub mod phone;
mod records;
pub mod resident_id;
mod village;

#[cfg(test)]
mod tests;

use std::ops::RangeInclusive;

use serde::Serialize;

use crate::model::{Entity, FieldValue};

pub use composition::check_composition;
pub use file::check_household_file;
pub use household::{check_household, check_standard, check_village};
pub use member::check_member;
pub use records::{
    check_attachment, check_helper, check_income, check_measure, check_pairing, check_payment,
    check_relocation, check_team_member, check_visit,
};
pub use village::EVIDENCE_MAX_CHARS;

#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The value is wrong: the county's system would reject it, or it contradicts another field.
    Error,
    /// The value is possible but suspicious (a county 疑点): someone should look at it.
    Warning,
}

/// One finding about one field of a record.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// The entity's field name, "" when the issue concerns the whole record.
    pub field: &'static str,
    pub severity: Severity,
    /// Stable English id of the rule, e.g. `resident_id.checksum`.
    pub rule: &'static str,
    /// What is wrong, in Chinese, naming the form label and the bad value.
    pub message: String,
    /// A value of the field that would set it right, offered to the user with one click (a
    /// 15-digit ID's 18-digit form); never applied without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub suggestion: Option<String>,
}

impl Issue {
    /// An error of the core's own checks (outside the record checks here too).
    pub(crate) fn error(field: &'static str, rule: &'static str, message: String) -> Issue {
        Issue {
            field,
            severity: Severity::Error,
            rule,
            message,
            suggestion: None,
        }
    }

    fn warning(field: &'static str, rule: &'static str, message: String) -> Issue {
        Issue {
            field,
            severity: Severity::Warning,
            rule,
            message,
            suggestion: None,
        }
    }
}

/// The years a filing record can be about. 2013 is the income year the 2014 identification
/// (建档立卡) used; the upper bound leaves room for the consolidation years after 2020 while
/// still catching typed-in nonsense such as 20019 or 219.
const FILING_YEARS: RangeInclusive<i64> = 2013..=2035;

/// The form label of an entity's field; falls back to the field name so a typo in a check still
/// produces a readable message instead of a panic.
fn label<E: Entity>(field: &'static str) -> &'static str {
    E::FIELDS
        .iter()
        .find(|f| f.name == field)
        .map_or(field, |f| f.label)
}

/// Shared checks that many entities need, bound to one entity so labels come from its catalog.
struct Checker<E> {
    issues: Vec<Issue>,
    entity: std::marker::PhantomData<E>,
}

impl<E: Entity> Checker<E> {
    fn new() -> Self {
        Checker {
            issues: Vec::new(),
            entity: std::marker::PhantomData,
        }
    }

    fn error(&mut self, field: &'static str, rule: &'static str, message: String) {
        self.issues.push(Issue::error(field, rule, message));
    }

    /// An error with the value that would set it right, offered to the user.
    fn error_suggesting(
        &mut self,
        field: &'static str,
        rule: &'static str,
        message: String,
        suggestion: String,
    ) {
        self.issues.push(Issue {
            suggestion: Some(suggestion),
            ..Issue::error(field, rule, message)
        });
    }

    fn warning(&mut self, field: &'static str, rule: &'static str, message: String) {
        self.issues.push(Issue::warning(field, rule, message));
    }

    fn required_text(&mut self, field: &'static str, value: &str) {
        if value.trim().is_empty() {
            self.error(
                field,
                "value.required",
                format!("{}不能为空", label::<E>(field)),
            );
        }
    }

    fn required<T>(&mut self, field: &'static str, value: &Option<T>) {
        if value.is_none() {
            self.error(
                field,
                "value.required",
                format!("{}不能为空", label::<E>(field)),
            );
        }
    }

    /// Areas, distances and amounts: a negative value is always a typing slip, and NaN or
    /// infinity can only come from a broken import, never from a person.
    fn not_negative(&mut self, field: &'static str, value: Option<f64>) {
        let Some(v) = value else { return };
        if !v.is_finite() {
            self.error(
                field,
                "value.not_finite",
                format!("{} {v} 不是有效数字", label::<E>(field)),
            );
        } else if v < 0.0 {
            self.error(
                field,
                "value.negative",
                format!("{} {v} 不能为负数", label::<E>(field)),
            );
        }
    }

    fn year(&mut self, field: &'static str, value: Option<i64>) {
        let Some(y) = value else { return };
        if !FILING_YEARS.contains(&y) {
            self.error(
                field,
                "year.out_of_range",
                format!(
                    "{} {y} 不合理：应在 {} 至 {} 之间",
                    label::<E>(field),
                    FILING_YEARS.start(),
                    FILING_YEARS.end()
                ),
            );
        }
    }

    fn phone(&mut self, field: &'static str, value: &str) {
        if value.is_empty() {
            return;
        }
        if let Err(e) = phone::parse(value) {
            self.error(
                field,
                e.rule(),
                format!("{} {value} 不正确：{e}", label::<E>(field)),
            );
        }
    }

    /// Every field of the entity that draws from a value list must hold codes of that list.
    fn codes(&mut self, record: &E) {
        let values = record.to_fields();
        for spec in E::FIELDS {
            let Some(list) = spec.codes else { continue };
            let Some((_, FieldValue::Text(text))) = values.iter().find(|(n, _)| *n == spec.name)
            else {
                continue;
            };
            self.issues.extend(codes::check(spec, list, text));
        }
    }

    fn finish(self) -> Vec<Issue> {
        self.issues
    }
}
