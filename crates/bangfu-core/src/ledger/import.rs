//! Import of an existing roll: every row checked and previewed before anything is written;
//! then the good households, and only those, are filed through `Store::file_household`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::OptionalExtension;
use serde::Serialize;
use uuid::Uuid;

use super::LedgerError;
use super::roll::read_roll;
use super::rows::{ColumnMatch, ParsedRow, RowIssue, find_header, parse_rows};
use crate::filing::HouseholdFile;
use crate::model::codes::RELATION_HEAD;
use crate::model::{Entity, FieldValue, Household, Member, Village};
use crate::store::{Store, StoreError};
use crate::validate::resident_id::person_key;
use crate::validate::{self, Issue, Severity};

/// Columns without which a roll cannot be read as households and people.
const REQUIRED: [&str; 4] = ["户编号", "姓名", "证件号码", "与户主关系"];
/// A household code is its village's 12-digit code plus a sequence.
const VILLAGE_CODE_LEN: usize = 12;

#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[ts(rename = "RollRowStatus")]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Will be imported (possibly with warnings to look at).
    Ready,
    /// Has an error: this row's household is not imported.
    Error,
    /// Fine itself, but another row of its household has an error.
    Blocked,
    /// Its household is already in the data file: not imported again.
    Existing,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "RollRow")]
pub struct PreviewRow {
    /// The row number shown in Excel.
    pub row: usize,
    pub household_code: String,
    pub name: String,
    pub id_number: String,
    pub status: RowStatus,
    pub issues: Vec<RowIssue>,
}

#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct PreviewSummary {
    pub rows: usize,
    pub households: usize,
    pub households_ready: usize,
    pub households_with_errors: usize,
    pub households_existing: usize,
    pub members_ready: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Villages the import will add, by code.
    pub new_villages: Vec<String>,
}

/// What the user sees before deciding: every row with its errors and warnings.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct ImportPreview {
    pub file: String,
    pub sheet: String,
    /// The header's row number in Excel.
    pub header_row: usize,
    pub columns: Vec<ColumnMatch>,
    pub rows: Vec<PreviewRow>,
    pub summary: PreviewSummary,
    #[serde(skip)]
    ready: Vec<HouseholdFile>,
    #[serde(skip)]
    new_villages: Vec<Village>,
}

#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub villages_created: usize,
    pub households: usize,
    pub members: usize,
    pub ops: u64,
    /// Warnings the store returned while filing (疑点), by household code.
    pub warnings: Vec<(String, String)>,
}

/// One household of the roll as its rows gather.
struct Group {
    code: String,
    rows: Vec<usize>,
}

/// Reads and checks a roll; writes nothing.
pub fn preview_roll(store: &Store, path: &Path) -> Result<ImportPreview, LedgerError> {
    let grids = read_roll(path)?;
    if grids.iter().all(|g| g.rows.is_empty()) {
        return Err(LedgerError::EmptyRoll {
            path: path.to_path_buf(),
        });
    }
    let (grid, (header_at, columns)) = grids
        .iter()
        .find_map(|g| find_header(g).map(|h| (g, h)))
        .ok_or_else(|| LedgerError::NoHeader {
            path: path.to_path_buf(),
        })?;
    let missing: Vec<&'static str> = REQUIRED
        .into_iter()
        .filter(|need| !columns.iter().any(|c| c.field == Some(*need)))
        .collect();
    if !missing.is_empty() {
        return Err(LedgerError::MissingColumns {
            path: path.to_path_buf(),
            missing,
        });
    }
    let mut rows = parse_rows(grid, header_at, &columns);

    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter_mut().enumerate() {
        let code = row.household_text("code");
        if code.is_empty() {
            row.issues.push(RowIssue::new(
                "户编号",
                Severity::Error,
                "import.household_code_missing",
                "户编号为空：无法判断此人属于哪一户".into(),
            ));
            continue;
        }
        let g = *group_of.entry(code.clone()).or_insert_with(|| {
            groups.push(Group {
                code: code.clone(),
                rows: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].rows.push(i);
    }

    let today = store.today();
    let county = crate::county_settings::county_settings(store)?;
    let mut ready = Vec::new();
    let mut new_villages: BTreeMap<String, Village> = BTreeMap::new();
    let mut existing_groups = Vec::new();
    let mut people: HashMap<String, (usize, String)> = HashMap::new();
    for (gi, group) in groups.iter().enumerate() {
        let first = group.rows[0];
        let village_code: String = group.code.chars().take(VILLAGE_CODE_LEN).collect();
        let village_id = match village_by_code(store, &village_code)? {
            Some(id) => Some(id),
            None => {
                let name = group
                    .rows
                    .iter()
                    .map(|&r| rows[r].village_name.clone())
                    .find(|n| !n.is_empty());
                match name {
                    Some(name) if village_code.len() == VILLAGE_CODE_LEN => {
                        let township = group
                            .rows
                            .iter()
                            .map(|&r| rows[r].township.clone())
                            .find(|n| !n.is_empty())
                            .unwrap_or_default();
                        let v =
                            new_villages
                                .entry(village_code.clone())
                                .or_insert_with(|| Village {
                                    id: Uuid::now_v7(),
                                    code: village_code.clone(),
                                    name,
                                    township,
                                    ..Default::default()
                                });
                        Some(v.id)
                    }
                    _ => {
                        rows[first].issues.push(RowIssue::new(
                            "户编号",
                            Severity::Error,
                            "import.village_unknown",
                            format!(
                                "数据文件中没有村代码为 {village_code} 的村，表中也没有村名：请先建立该村，或在表中加上“村名”列"
                            ),
                        ));
                        None
                    }
                }
            }
        };
        if village_id.is_some() && household_exists(store, &group.code, village_id)? {
            existing_groups.push(gi);
            for &r in &group.rows {
                rows[r].issues.push(RowIssue::new(
                    "户编号",
                    Severity::Warning,
                    "import.household_exists",
                    format!("户 {} 已在数据文件中，本行不再导入", group.code),
                ));
            }
            continue;
        }

        let file = build_file(&mut rows, group, village_id);
        // Per-record checks land on their row; household-wide ones on the household's first row.
        for issue in validate::check_household(&file.household, today, &county) {
            let issue = from_issue(&issue, Household::TABLE);
            // A cell that could not be read is already reported; "cannot be empty" would only
            // repeat it.
            let repeated = issue.rule == "value.required"
                && group.rows.iter().any(|&r| {
                    rows[r]
                        .issues
                        .iter()
                        .any(|i| i.column_label() == issue.column && i.severity == Severity::Error)
                });
            if !repeated {
                rows[first].issues.push(issue);
            }
        }
        for (m, &r) in file.members.iter().zip(&group.rows) {
            for issue in validate::check_member(m, today) {
                rows[r].issues.push(from_issue(&issue, Member::TABLE));
            }
        }
        for issue in validate::check_household_file(&file.household, &file.members, &[]) {
            rows[first].issues.push(from_issue(&issue, Member::TABLE));
        }
        household_consistency(&mut rows, group, &file);
        for (m, &r) in file.members.iter().zip(&group.rows) {
            if m.id_number.is_empty() {
                continue;
            }
            let key = person_key(&m.id_number);
            match people.get(&key) {
                Some((other_row, other_code)) if *other_code != group.code => {
                    rows[r].issues.push(RowIssue::new(
                        "证件号码",
                        Severity::Warning,
                        "import.duplicate_person",
                        format!(
                            "{} 的证件号码与第 {other_row} 行（户 {other_code}）相同：同一人登记在两户，请核实",
                            m.name
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    people.insert(key, (rows[r].excel_row, group.code.clone()));
                }
            }
            if let Some(code) = filed_elsewhere(store, &m.id_number)? {
                rows[r].issues.push(RowIssue::new(
                    "证件号码",
                    Severity::Warning,
                    "resident_id.filed_elsewhere",
                    format!(
                        "{} 的证件号码 {} 已在户 {code} 登记，请核实是否重复建档",
                        m.name, m.id_number
                    ),
                ));
            }
        }
        let has_error = group
            .rows
            .iter()
            .any(|&r| rows[r].issues.iter().any(|i| i.severity == Severity::Error));
        if !has_error && village_id.is_some() {
            ready.push(file);
        }
    }

    let ready_codes: std::collections::HashSet<&str> =
        ready.iter().map(|f| f.household.code.as_str()).collect();
    let existing: std::collections::HashSet<usize> = existing_groups.iter().copied().collect();
    let mut summary = PreviewSummary {
        rows: rows.len(),
        households: groups.len(),
        households_ready: ready.len(),
        households_existing: existing.len(),
        households_with_errors: groups.len() - ready.len() - existing.len(),
        members_ready: ready.iter().map(|f| f.members.len()).sum(),
        ..Default::default()
    };
    let mut preview_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let code = row.household_text("code");
        let own_error = row.issues.iter().any(|i| i.severity == Severity::Error);
        let status = if own_error {
            RowStatus::Error
        } else if row
            .issues
            .iter()
            .any(|i| i.rule == "import.household_exists")
        {
            RowStatus::Existing
        } else if ready_codes.contains(code.as_str()) {
            RowStatus::Ready
        } else {
            RowStatus::Blocked
        };
        summary.errors += row
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count();
        summary.warnings += row
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count();
        preview_rows.push(PreviewRow {
            row: row.excel_row,
            household_code: code,
            name: row.member_text("name"),
            id_number: row.member_text("id_number"),
            status,
            issues: row.issues,
        });
    }
    // Only villages that a ready household needs are created.
    let needed: Vec<Village> = new_villages
        .into_values()
        .filter(|v| ready.iter().any(|f| f.household.village_id == Some(v.id)))
        .collect();
    summary.new_villages = needed.iter().map(|v| v.code.clone()).collect();
    Ok(ImportPreview {
        file: path.display().to_string(),
        sheet: grid.sheet.clone(),
        header_row: grid.excel_row(header_at),
        columns,
        rows: preview_rows,
        summary,
        ready,
        new_villages: needed,
    })
}

/// The 疑点 rule of a household with no current 帮扶责任人.
const NO_CURRENT_HELPER: &str = "suspect.no_current_helper";

/// Files every household the preview found ready, with the villages they need, in one
/// transaction (`Store::file_households`: each household checked as the household page checks
/// it). Households already in the file are skipped, so running an import again after it was
/// interrupted (nothing of it kept) or after it finished adds nothing twice.
pub fn import_good_rows(
    store: &mut Store,
    preview: &ImportPreview,
) -> Result<ImportOutcome, LedgerError> {
    let mut outcome = ImportOutcome::default();
    let mut villages = Vec::new();
    for v in &preview.new_villages {
        if village_by_code(store, &v.code)?.is_none() {
            let issues = validate::check_village(v, store.today());
            if issues.iter().any(|i| i.severity == Severity::Error) {
                return Err(StoreError::Invalid(issues).into());
            }
            villages.push(crate::store::put_change(v));
            outcome.villages_created += 1;
        }
    }
    let mut files = Vec::new();
    for file in &preview.ready {
        if household_exists(store, &file.household.code, file.household.village_id)? {
            continue;
        }
        files.push(file);
        outcome.households += 1;
        outcome.members += file.members.len();
    }
    let filed = store.file_households(&villages, &files)?;
    outcome.ops = filed.ops;
    // A roll carries no pairings: every household not exited has no 帮扶责任人 yet. Said once,
    // not once a household, so the other findings stay readable.
    let (no_helper, others): (Vec<_>, Vec<_>) = filed
        .warnings
        .into_iter()
        .partition(|(_, w)| w.rule == NO_CURRENT_HELPER);
    outcome
        .warnings
        .extend(others.into_iter().map(|(code, w)| (code, w.message)));
    if !no_helper.is_empty() {
        outcome.warnings.push((
            "全部".into(),
            format!(
                "{} 户尚未安排帮扶责任人（名册中没有结对），请在各户的“帮扶责任人”中结对",
                no_helper.len()
            ),
        ));
    }
    Ok(outcome)
}

/// The household and members of a group; the household's fields come from its first row
/// that fills them.
fn build_file(rows: &mut [ParsedRow], group: &Group, village_id: Option<Uuid>) -> HouseholdFile {
    let mut fields: HashMap<&'static str, FieldValue> = HashMap::new();
    for &r in &group.rows {
        for (name, value) in &rows[r].household {
            if !value.is_null() {
                fields.entry(*name).or_insert_with(|| value.clone());
            }
        }
    }
    let id = Uuid::now_v7();
    fields.insert(
        "village_id",
        village_id.map_or(FieldValue::Null, |v| {
            FieldValue::Bytes(v.as_bytes().to_vec())
        }),
    );
    let household = Household::from_fields(id, &mut |n| fields.get(n).cloned().unwrap_or_default())
        .unwrap_or_else(|_| Household {
            id,
            code: group.code.clone(),
            village_id,
            ..Default::default()
        });
    let members = group
        .rows
        .iter()
        .map(|&r| {
            let mut values: HashMap<&'static str, FieldValue> =
                rows[r].member.iter().cloned().collect();
            values.insert("household_id", FieldValue::Bytes(id.as_bytes().to_vec()));
            let mid = Uuid::now_v7();
            Member::from_fields(mid, &mut |n| values.get(n).cloned().unwrap_or_default()).unwrap_or(
                Member {
                    id: mid,
                    household_id: Some(id),
                    ..Default::default()
                },
            )
        })
        .collect();
    HouseholdFile {
        household,
        members,
        ..Default::default()
    }
}

/// Household columns repeated on every member row must agree; 户主姓名 and 家庭人口, when the
/// roll has them, must match the member rows.
fn household_consistency(rows: &mut [ParsedRow], group: &Group, file: &HouseholdFile) {
    let first = group.rows[0];
    for &r in group.rows.iter().skip(1) {
        let differing: Vec<(&'static str, String)> = rows[r]
            .household
            .iter()
            .filter(|(n, v)| {
                !v.is_null()
                    && file
                        .household
                        .to_fields()
                        .iter()
                        .any(|(m, w)| m == n && w != v)
            })
            .map(|(n, v)| (*n, v.display()))
            .collect();
        for (name, value) in differing {
            let label = crate::model::Table::Household
                .field(name)
                .map_or(name, |f| f.label);
            rows[r].issues.push(RowIssue::new(
                label,
                Severity::Warning,
                "import.household_value_differs",
                format!(
                    "{label}“{value}”与本户第 {} 行不同，以第 {} 行为准",
                    rows[first].excel_row, rows[first].excel_row
                ),
            ));
        }
    }
    let head = file.members.iter().find(|m| m.relation == RELATION_HEAD);
    for &r in &group.rows {
        let named = rows[r].head_name.clone();
        if let Some(h) = head
            && !named.is_empty()
            && named != h.name
        {
            rows[r].issues.push(RowIssue::new(
                "户主姓名",
                Severity::Warning,
                "import.head_name_differs",
                format!("户主姓名“{named}”与本户户主“{}”不一致", h.name),
            ));
        }
        if let Some(n) = rows[r].family_size
            && r == first
            && n != file.members.len() as i64
        {
            rows[r].issues.push(RowIssue::new(
                "家庭人口",
                Severity::Warning,
                "import.family_size_differs",
                format!("家庭人口填写为 {n}，但表中本户有 {} 人", file.members.len()),
            ));
        }
    }
}

fn from_issue(issue: &Issue, table: crate::model::Table) -> RowIssue {
    let column = table
        .field(issue.field)
        .or_else(|| crate::model::Table::Household.field(issue.field))
        .map_or("", |f| f.label);
    RowIssue::new(column, issue.severity, issue.rule, issue.message.clone())
}

fn village_by_code(store: &Store, code: &str) -> Result<Option<Uuid>, StoreError> {
    let id: Option<Vec<u8>> = store
        .conn()
        .query_row(
            "SELECT id FROM village WHERE deleted = 0 AND code = ?1 LIMIT 1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.and_then(|b| Uuid::from_slice(&b).ok()))
}

fn household_exists(store: &Store, code: &str, village: Option<Uuid>) -> Result<bool, StoreError> {
    let found: Option<i64> = store
        .conn()
        .query_row(
            "SELECT 1 FROM household WHERE deleted = 0 AND code = ?1
             AND coalesce(village_id, x'') = coalesce(?2, x'') LIMIT 1",
            rusqlite::params![code, village.map(|v| v.as_bytes().to_vec())],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

fn filed_elsewhere(store: &Store, id_number: &str) -> Result<Option<String>, StoreError> {
    crate::report::quality::person_filed_elsewhere(store.conn(), id_number, None)
}
