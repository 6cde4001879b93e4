//! Validation of what users type and import: resident IDs, phones, codes, cross-field checks.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Issue {
    pub field: &'static str,
    pub severity: Severity,
    pub rule: &'static str,
    pub message: String,
}
