//! From a grid to typed rows: finding the header (also under merged title and group cells),
//! matching columns by the names people use, and reading each cell into its field's value.

use rust_xlsxwriter::column_number_to_name;
use serde::Serialize;

use super::columns::{CodeMatch, Target, match_code, match_header};
use super::roll::{Grid, Raw};
use crate::model::input::{parse_input, split_codes, to_half_width};
use crate::model::{FieldKind, FieldSpec, FieldValue};
use crate::validate::Severity;

/// Rows searched for the header: titles, unit lines and group headings come first.
const HEADER_SEARCH_ROWS: usize = 10;
/// At least this many recognised column names make a header row.
const MIN_HEADER_MATCHES: usize = 3;

/// One column of the roll and where it goes.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct ColumnMatch {
    /// The column letter in Excel, e.g. "C".
    pub column: String,
    pub header: String,
    /// The form's label it fills, `None` when the column is not imported.
    pub field: Option<&'static str>,
    #[serde(skip)]
    pub(crate) target: Option<Target>,
}

/// One finding about one row of a roll.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
#[ts(rename = "RollIssue")]
pub struct RowIssue {
    /// The roll's header of the column, "" for the row as a whole.
    pub column: String,
    pub severity: Severity,
    pub rule: &'static str,
    pub message: String,
}

impl RowIssue {
    /// The form label the issue is about: import issues name the roll's header, which maps to
    /// a label through the header match.
    pub(crate) fn column_label(&self) -> &str {
        match match_header(&self.column) {
            Some(t) => t.label(),
            None => &self.column,
        }
    }

    pub(crate) fn new(
        column: &str,
        severity: Severity,
        rule: &'static str,
        message: String,
    ) -> Self {
        RowIssue {
            column: column.to_owned(),
            severity,
            rule,
            message,
        }
    }
}

/// A data row read into values, not yet checked as a household.
#[derive(Debug, Default)]
pub(crate) struct ParsedRow {
    pub excel_row: usize,
    pub household: Vec<(&'static str, FieldValue)>,
    pub member: Vec<(&'static str, FieldValue)>,
    pub village_name: String,
    pub township: String,
    pub head_name: String,
    pub family_size: Option<i64>,
    pub issues: Vec<RowIssue>,
}

impl ParsedRow {
    pub fn member_text(&self, field: &str) -> String {
        text_of(&self.member, field)
    }

    pub fn household_text(&self, field: &str) -> String {
        text_of(&self.household, field)
    }
}

fn text_of(values: &[(&'static str, FieldValue)], field: &str) -> String {
    values
        .iter()
        .find(|(n, _)| *n == field)
        .map(|(_, v)| v.display())
        .unwrap_or_default()
}

/// The header row (index into the grid) and its columns. A blank header cell takes the text
/// above it, which is where a vertically merged cell keeps its text.
pub(crate) fn find_header(grid: &Grid) -> Option<(usize, Vec<ColumnMatch>)> {
    let mut best: Option<(usize, usize)> = None;
    for at in 0..grid.rows.len().min(HEADER_SEARCH_ROWS) {
        // A row is scored with the texts it shows, merged cells above included, so a
        // two-level header beats its own group row.
        let score = headers_at(grid, at)
            .iter()
            .filter(|h| matches!(match_header(h), Some(t) if t != Target::Ignored))
            .count();
        if score >= MIN_HEADER_MATCHES && best.is_none_or(|(_, s)| score > s) {
            best = Some((at, score));
        }
    }
    let (at, _) = best?;
    let mut columns = Vec::new();
    let mut taken: Vec<Target> = Vec::new();
    for (col, header) in headers_at(grid, at).into_iter().enumerate() {
        let mut target = match_header(&header);
        // A second column for the same field (two 联系电话 columns, say) is not imported: the
        // first one wins, and the preview shows which.
        if let Some(t) = target {
            if t != Target::Ignored && taken.contains(&t) {
                target = None;
            } else {
                taken.push(t);
            }
        }
        columns.push(ColumnMatch {
            column: column_number_to_name(col as u16),
            header: header.replace(['\n', '\r'], ""),
            field: target.map(Target::label),
            target,
        });
    }
    Some((at, columns))
}

/// The header text of each column if row `at` were the header: the cell, or for a blank cell
/// the nearest text up to two rows above it (a vertically merged cell keeps its text on top).
fn headers_at(grid: &Grid, at: usize) -> Vec<String> {
    let width = grid.rows.get(at).map_or(0, Vec::len);
    (0..width)
        .map(|col| {
            (at.saturating_sub(2)..=at)
                .rev()
                .map(|r| {
                    grid.rows
                        .get(r)
                        .and_then(|row| row.get(col))
                        .map(Raw::text)
                        .unwrap_or_default()
                })
                .find(|t| !t.is_empty())
                .unwrap_or_default()
        })
        .collect()
}

/// A total or subtotal line at the end of a roll, not a person.
fn is_total_row(row: &[Raw]) -> bool {
    row.iter()
        .map(Raw::text)
        .find(|t| !t.is_empty())
        .is_some_and(|t| {
            let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            t.starts_with("合计") || t.starts_with("小计") || t.starts_with("总计")
        })
}

/// Reads every data row below the header; blank and total rows are skipped.
pub(crate) fn parse_rows(grid: &Grid, header_at: usize, columns: &[ColumnMatch]) -> Vec<ParsedRow> {
    let mut out = Vec::new();
    for (i, row) in grid.rows.iter().enumerate().skip(header_at + 1) {
        if row.iter().all(Raw::is_blank) || is_total_row(row) {
            continue;
        }
        let mut parsed = ParsedRow {
            excel_row: grid.excel_row(i),
            ..Default::default()
        };
        for (col, m) in columns.iter().enumerate() {
            let Some(target) = m.target else { continue };
            let raw = row.get(col).unwrap_or(&Raw::Empty);
            read_cell(&mut parsed, target, &m.header, raw);
        }
        out.push(parsed);
    }
    out
}

/// Identifiers longer than Excel's 15 significant digits: stored as a number, their tail is
/// already zeros and cannot be recovered.
fn long_number_field(spec: &FieldSpec) -> bool {
    matches!(spec.name, "id_number" | "bank_account")
}

/// "5.30826E+17" as a CSV or a text cell shows an ID that went through a number cell.
fn is_scientific(text: &str) -> bool {
    let t = text.trim();
    (t.contains("E+") || t.contains("e+")) && t.parse::<f64>().is_ok()
}

fn read_cell(row: &mut ParsedRow, target: Target, header: &str, raw: &Raw) {
    let text = to_half_width(&raw.text()).trim().to_owned();
    match target {
        Target::Ignored => {}
        Target::VillageName => row.village_name = text,
        Target::Township => row.township = text,
        Target::HeadName => row.head_name = text,
        Target::FamilySize => row.family_size = text.parse().ok(),
        Target::Household(spec) => {
            if let Some(v) = read_value(spec, header, raw, &text, &mut row.issues) {
                row.household.push((spec.name, v));
            }
        }
        Target::Member(spec) => {
            if let Some(v) = read_value(spec, header, raw, &text, &mut row.issues) {
                row.member.push((spec.name, v));
            }
        }
    }
}

/// The value of one cell, or `None` (with an issue) when it cannot be read.
fn read_value(
    spec: &'static FieldSpec,
    header: &str,
    raw: &Raw,
    text: &str,
    issues: &mut Vec<RowIssue>,
) -> Option<FieldValue> {
    if text.is_empty() {
        return Some(FieldValue::Null);
    }
    if long_number_field(spec) {
        let lost = match raw {
            Raw::Number(n) => n.abs() >= 1e15,
            Raw::Text(t) => is_scientific(t),
            _ => false,
        };
        if lost {
            issues.push(RowIssue::new(
                header,
                Severity::Error,
                "import.number_lost_digits",
                format!(
                    "{}“{}”已被 Excel 存成数字（科学计数法），最后几位已变成 0，无法还原。请在原表中把该列设为“文本”格式，照原件重新录入后再导入",
                    spec.label,
                    shown_number(raw, text)
                ),
            ));
            return None;
        }
    }
    if let (FieldKind::Text, Some(list)) = (spec.kind, spec.codes) {
        let parts: Vec<&str> = if spec.multi {
            split_codes(text)
        } else {
            vec![text]
        };
        let mut codes = Vec::with_capacity(parts.len());
        for part in parts {
            match match_code(list, part) {
                CodeMatch::Exact(code) => codes.push(code),
                CodeMatch::Alias { code, label } => {
                    issues.push(RowIssue::new(
                        header,
                        Severity::Warning,
                        "import.value_alias",
                        format!("{}“{part}”按“{label}”导入，请核对", spec.label),
                    ));
                    codes.push(code);
                }
                CodeMatch::Unknown => {
                    let allowed: Vec<&str> = list.entries.iter().map(|(_, l)| *l).collect();
                    issues.push(RowIssue::new(
                        header,
                        Severity::Error,
                        "import.value_unknown",
                        format!(
                            "{}“{part}”不是可选的值，应为：{}",
                            spec.label,
                            allowed.join("、")
                        ),
                    ));
                    return None;
                }
            }
        }
        return Some(FieldValue::Text(codes.join(",")));
    }
    match parse_input(spec, text) {
        Ok(v) => Some(v),
        Err(e) => {
            issues.push(RowIssue::new(
                header,
                Severity::Error,
                "import.value_invalid",
                e.message,
            ));
            None
        }
    }
}

/// A lost number as Excel shows it, e.g. 5.30826E+17.
fn shown_number(raw: &Raw, text: &str) -> String {
    match raw {
        Raw::Number(n) => format!("{n:.5E}").replace('E', "E+"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: Vec<Vec<&str>>) -> Grid {
        Grid {
            sheet: "Sheet1".into(),
            first_row: 0,
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|t| {
                            if t.is_empty() {
                                Raw::Empty
                            } else {
                                Raw::Text(t.into())
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn the_header_is_found_under_a_title_and_merged_group_cells() {
        let g = grid(vec![
            vec!["某某村家庭成员花名册", "", "", "", ""],
            vec!["户编号", "家庭成员", "", "", "致贫原因"],
            vec!["", "姓名", "身份证号", "与户主关系", ""],
            vec!["530826103201001", "王大山", "x", "户主", "因病"],
        ]);
        let (at, cols) = find_header(&g).unwrap();
        assert_eq!(at, 2);
        let fields: Vec<_> = cols.iter().map(|c| c.field.unwrap_or("-")).collect();
        assert_eq!(
            fields,
            ["户编号", "姓名", "证件号码", "与户主关系", "主要致贫原因"]
        );
    }

    #[test]
    fn ids_that_became_numbers_are_refused_not_guessed() {
        let spec = crate::model::Table::Member.field("id_number").unwrap();
        for raw in [
            Raw::Number(530826197001011000.0),
            Raw::Text("5.30826E+17".into()),
        ] {
            let mut issues = Vec::new();
            let v = read_value(spec, "身份证号", &raw, &raw.text(), &mut issues);
            assert_eq!(v, None);
            assert_eq!(issues[0].rule, "import.number_lost_digits", "{raw:?}");
            assert!(issues[0].message.contains("E+17"), "{}", issues[0].message);
        }
    }

    /// The roll import splits multi-code cells with the same `split_codes` as the page.
    #[test]
    fn a_roll_takes_every_multi_code_separator() {
        let spec = crate::model::Table::Household
            .field("other_causes")
            .unwrap();
        for cell in [
            "缺技术，缺资金",
            "缺技术 缺资金",
            "缺技术、缺资金",
            "缺技术/缺资金",
        ] {
            let raw = Raw::Text(cell.into());
            let mut issues = Vec::new();
            let v = read_value(spec, "其他致贫原因", &raw, &raw.text(), &mut issues);
            assert_eq!(
                v,
                Some(FieldValue::Text("07,09".into())),
                "{cell}: {issues:?}"
            );
            assert!(issues.is_empty(), "{cell}: {issues:?}");
        }
    }
}
