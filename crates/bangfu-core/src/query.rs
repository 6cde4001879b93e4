//! Read-side queries of the screens: the household list with its search and filters.
//!
//! Search matches a member's name, its pinyin initials (张三丰 → zsf) or a resident-ID
//! fragment through a trigram index, and a household code by substring. Only bound parameters
//! carry user input; the SQL text is assembled from fixed fragments.

use chrono::Duration;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::codes;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HouseholdQuery {
    pub text: String,
    pub village_code: Option<String>,
    pub group_name: Option<String>,
    pub poverty_status: Option<String>,
    pub attribute: Option<String>,
    pub main_cause: Option<String>,
    /// Only households not visited for at least this many days (or never).
    pub not_visited_days: Option<i64>,
    /// One of: code, head_name, group_name, members, attribute, poverty_status, main_cause,
    /// last_visit. Anything else sorts by code.
    pub sort: Option<String>,
    pub descending: bool,
    pub offset: i64,
    /// 0 means 100.
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HouseholdRow {
    pub id: String,
    pub code: String,
    pub village_name: String,
    pub group_name: String,
    pub head_name: String,
    pub head_id_number: String,
    pub members: i64,
    pub attribute: String,
    pub poverty_status: String,
    pub main_cause: String,
    pub last_visit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HouseholdPage {
    pub total: i64,
    pub rows: Vec<HouseholdRow>,
}

/// The upper bound of a prefix range on a text index.
const MAX_CHAR: char = '\u{10FFFF}';

fn sort_column(sort: Option<&str>) -> &'static str {
    match sort {
        Some("head_name") => "s.head_name",
        Some("group_name") => "h.group_name",
        Some("members") => "s.members",
        Some("attribute") => "h.attribute",
        Some("poverty_status") => "h.poverty_status",
        Some("main_cause") => "h.main_cause",
        Some("last_visit") => "s.last_visit",
        _ => "h.code",
    }
}

/// The FTS5 phrase for a search text (double quotes inside are doubled).
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Appends the search condition for `text` to `sql`, binding into `params`.
fn push_search(text: &str, sql: &mut String, params: &mut Vec<Value>) {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return;
    }
    // The matching households are collected first (through the trigram or name indexes) and
    // the list then looks them up by id; an OR against a household column would scan every
    // household of a county for every keystroke.
    if text.chars().count() >= 3 {
        sql.push_str(
            " AND h.id IN (SELECT m.household_id FROM member m WHERE m.deleted = 0 AND m.rowid IN
                   (SELECT rowid FROM person_fts WHERE person_fts MATCH ?)",
        );
        params.push(Value::Text(fts_phrase(&text)));
    } else {
        // Too short for trigrams: prefix of a name or of its initials, through their indexes.
        sql.push_str(
            " AND h.id IN (SELECT m.household_id FROM member m WHERE m.deleted = 0 AND
                   ((m.name >= ? AND m.name < ?) OR (m.initials >= ? AND m.initials < ?))",
        );
        let upper = format!("{text}{MAX_CHAR}");
        params.extend([
            Value::Text(text.clone()),
            Value::Text(upper.clone()),
            Value::Text(text.clone()),
            Value::Text(upper),
        ]);
    }
    // Only digits can be part of a household code.
    if text.chars().all(|c| c.is_ascii_digit()) {
        sql.push_str(" UNION SELECT id FROM household WHERE instr(code, ?) > 0");
        params.push(Value::Text(text));
    }
    sql.push(')');
}

const LIST_FROM: &str = " FROM household h
        LEFT JOIN household_summary s ON s.household_id = h.id
        LEFT JOIN village v ON v.id = h.village_id";

/// The WHERE clause of a query's search and filters, with its bound parameters.
fn conditions(store: &Store, q: &HouseholdQuery) -> (String, Vec<Value>) {
    let mut cond = String::from(" WHERE h.deleted = 0");
    let mut params: Vec<Value> = Vec::new();
    push_search(&q.text, &mut cond, &mut params);
    let filters: [(&str, &Option<String>); 5] = [
        (" AND v.code = ?", &q.village_code),
        (" AND h.group_name = ?", &q.group_name),
        (" AND h.poverty_status = ?", &q.poverty_status),
        (" AND h.attribute = ?", &q.attribute),
        (" AND h.main_cause = ?", &q.main_cause),
    ];
    for (fragment, value) in filters {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            cond.push_str(fragment);
            params.push(Value::Text(v.clone()));
        }
    }
    if let Some(days) = q.not_visited_days {
        let cutoff = store.today() - Duration::days(days.max(0));
        cond.push_str(" AND (s.last_visit IS NULL OR s.last_visit <= ?)");
        params.push(Value::Text(cutoff.format("%Y-%m-%d").to_string()));
    }
    (cond, params)
}

/// Every household the query's search and filters match (paging ignored), by code: what a
/// list screen's "all of these" acts on.
pub fn household_ids(store: &Store, q: &HouseholdQuery) -> Result<Vec<Uuid>, StoreError> {
    let (cond, params) = conditions(store, q);
    let mut stmt = store
        .conn()
        .prepare_cached(&format!("SELECT h.id{LIST_FROM}{cond} ORDER BY h.code"))?;
    let ids = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            r.get::<_, Vec<u8>>(0)
        })?
        .filter_map(|id| id.map(|id| Uuid::from_slice(&id).ok()).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// One page of the household list.
pub fn households(store: &Store, q: &HouseholdQuery) -> Result<HouseholdPage, StoreError> {
    let (cond, mut params) = conditions(store, q);
    let from = LIST_FROM;
    let conn = store.conn();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*){from}{cond}"))?
        .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;

    let limit = if q.limit <= 0 { 100 } else { q.limit.min(5000) };
    let order = sort_column(q.sort.as_deref());
    let dir = if q.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT h.id, h.code, v.name, h.group_name, s.head_name, s.head_id_number, s.members,
                h.attribute, h.poverty_status, h.main_cause, s.last_visit
         {from}{cond} ORDER BY {order} {dir}, h.code {dir} LIMIT ? OFFSET ?"
    );
    params.push(Value::Integer(limit));
    params.push(Value::Integer(q.offset.max(0)));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            let id: Vec<u8> = r.get(0)?;
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            let label = |list: &codes::CodeList, i: usize| -> rusqlite::Result<String> {
                let code = text(i)?;
                Ok(list.label(&code).map_or(code, str::to_owned))
            };
            Ok(HouseholdRow {
                id: Uuid::from_slice(&id).unwrap_or_default().to_string(),
                code: text(1)?,
                village_name: text(2)?,
                group_name: text(3)?,
                head_name: text(4)?,
                head_id_number: text(5)?,
                members: r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                attribute: label(&codes::HOUSEHOLD_ATTRIBUTE, 7)?,
                poverty_status: label(&codes::POVERTY_STATUS, 8)?,
                main_cause: label(&codes::POVERTY_CAUSE, 9)?,
                last_visit: r.get(10)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HouseholdPage { total, rows })
}

/// A person found by search.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonHit {
    pub member_id: String,
    pub household_id: String,
    pub name: String,
    pub id_number: String,
}

/// People whose name, initials or ID number contain (or, under 3 characters, start with) text.
pub fn search_people(store: &Store, text: &str, limit: i64) -> Result<Vec<PersonHit>, StoreError> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let (sql, params): (&str, Vec<Value>) = if text.chars().count() >= 3 {
        (
            "SELECT m.id, m.household_id, m.name, m.id_number FROM person_fts f
             JOIN member m ON m.rowid = f.rowid
             WHERE person_fts MATCH ?1 AND m.deleted = 0 LIMIT ?2",
            vec![Value::Text(fts_phrase(&text)), Value::Integer(limit)],
        )
    } else {
        let upper = format!("{text}{MAX_CHAR}");
        (
            "SELECT id, household_id, name, id_number FROM member
             WHERE deleted = 0 AND ((name >= ?1 AND name < ?2) OR (initials >= ?1 AND initials < ?2))
             LIMIT ?3",
            vec![Value::Text(text), Value::Text(upper), Value::Integer(limit)],
        )
    };
    let mut stmt = store.conn().prepare_cached(sql)?;
    let hits = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            let id: Vec<u8> = r.get(0)?;
            let household: Option<Vec<u8>> = r.get(1)?;
            Ok(PersonHit {
                member_id: Uuid::from_slice(&id).unwrap_or_default().to_string(),
                household_id: household
                    .and_then(|h| Uuid::from_slice(&h).ok())
                    .unwrap_or_default()
                    .to_string(),
                name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                id_number: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(hits)
}
