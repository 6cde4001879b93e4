//! Read-side queries of the screens: the household list with its search and filters.
//!
//! Search matches a member's name, its pinyin initials (张三丰 → zsf) or a resident-ID
//! fragment through a trigram index, and a household code by substring (trigrams too). It runs
//! on every keystroke over a county's 400k people, so its cost must follow the page, not the
//! matches: the matching households are streamed from the indexes and counted up to
//! [`SEARCH_COUNT_CAP`]; up to the cap they are sorted as the list asks, past it (a surname,
//! two initials) the households are walked in list order and tested one by one until the page
//! is full. Only bound parameters carry user input; the SQL text is assembled from fixed
//! fragments.

use std::collections::HashSet;
use std::rc::Rc;

use chrono::Duration;
use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::codes;
use crate::store::{Store, StoreError};

#[derive(ts_rs::TS, Debug, Clone, Default, Deserialize)]
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

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
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

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct HouseholdPage {
    /// Households matching; with `capped`, only a lower bound: a search stops counting at
    /// [`SEARCH_COUNT_CAP`].
    pub total: i64,
    pub capped: bool,
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

/// A search stops counting households past this many: the list then reads "1000+ 户" and the
/// user types on. Counting every household a surname or two initials match would cost a
/// county-sized scan on every keystroke.
pub const SEARCH_COUNT_CAP: usize = 1000;

/// The bounds of a name search under 3 characters, read through the initials index (a save
/// writes no name index, issue 20): a name that starts with `text` has initials that start
/// with `text`'s initials (they are worked out character by character), so the name's range
/// lies inside that initials range. Parameters: initials from, to; name from, to.
fn name_prefix_params(text: &str) -> Vec<Value> {
    let initials = crate::store::name_initials(text);
    vec![
        Value::Text(initials.clone()),
        Value::Text(format!("{initials}{MAX_CHAR}")),
        Value::Text(text.to_owned()),
        Value::Text(format!("{text}{MAX_CHAR}")),
    ]
}

/// The households of members whose trigram entry waits in `search_pending` (128 new ones
/// or so at most, `store::apply::index`) that a search text of 3 characters or more matches,
/// tested on the text the entry will hold as the index would: a trigram phrase matches where
/// the text contains it, ASCII case aside.
const PENDING_PEOPLE_HOUSEHOLDS: &str = "SELECT m.household_id AS hid FROM search_pending p
     JOIN member m ON m.rowid = p.entry
     WHERE p.kind = 0 AND m.deleted = 0
        AND instr(lower(coalesce(m.name, '') || ' ' || coalesce(m.initials, '') || ' '
            || coalesce(m.id_number, '')), lower(?)) > 0";

/// Where the households a search text matches come from, each through an index: members by
/// name, initials or ID number (trigrams; a prefix of a name or of its initials under 3
/// characters) and, for digits, household codes. Each source yields household ids as `hid`.
fn search_sources(text: &str) -> Vec<(&'static str, Vec<Value>)> {
    let mut sources = Vec::new();
    let digits = text.chars().all(|c| c.is_ascii_digit());
    let trigrams = text.chars().count() >= 3;
    if trigrams {
        sources.push((
            "SELECT m.household_id AS hid FROM person_fts f JOIN member m ON m.rowid = f.rowid
             WHERE person_fts MATCH ? AND m.deleted = 0",
            vec![Value::Text(fts_phrase(text))],
        ));
        sources.push((
            PENDING_PEOPLE_HOUSEHOLDS,
            vec![Value::Text(text.to_owned())],
        ));
    } else {
        let range = || {
            vec![
                Value::Text(text.to_owned()),
                Value::Text(format!("{text}{MAX_CHAR}")),
            ]
        };
        sources.push((
            "SELECT household_id AS hid FROM member
             WHERE initials >= ? AND initials < ? AND name >= ? AND name < ? AND deleted = 0",
            name_prefix_params(text),
        ));
        sources.push((
            "SELECT household_id AS hid FROM member
             WHERE initials >= ? AND initials < ? AND deleted = 0",
            range(),
        ));
    }
    // Only digits can be part of a household code.
    match (digits, trigrams) {
        (true, true) => {
            sources.push((
                "SELECT h.id AS hid FROM household_fts f JOIN household h ON h.rowid = f.rowid
                 WHERE household_fts MATCH ?",
                vec![Value::Text(fts_phrase(text))],
            ));
            // New households whose code waits for the index: tested on the row itself.
            sources.push((
                "SELECT h.id AS hid FROM search_pending p JOIN household h ON h.rowid = p.entry
                 WHERE p.kind = 1 AND h.deleted = 0 AND instr(h.code, ?) > 0",
                vec![Value::Text(text.to_owned())],
            ));
        }
        (true, false) => sources.push((
            "SELECT id AS hid FROM household WHERE instr(code, ?) > 0",
            vec![Value::Text(text.to_owned())],
        )),
        (false, _) => {}
    }
    sources
}

/// The matches of [`search_sources`] tested on one household's own row and members, for
/// walking the households in list order.
fn search_predicate(text: &str, params: &mut Vec<Value>) -> String {
    let digits = text.chars().all(|c| c.is_ascii_digit());
    let member = if text.chars().count() >= 3 {
        params.extend(std::iter::repeat_n(Value::Text(text.to_owned()), 3));
        "instr(m.name, ?) > 0 OR instr(m.initials, ?) > 0 OR instr(lower(m.id_number), ?) > 0"
    } else {
        for _ in 0..2 {
            params.extend([
                Value::Text(text.to_owned()),
                Value::Text(format!("{text}{MAX_CHAR}")),
            ]);
        }
        "m.name >= ? AND m.name < ? OR m.initials >= ? AND m.initials < ?"
    };
    let mut sql = format!(
        " AND (EXISTS (SELECT 1 FROM member m WHERE m.household_id = h.id AND m.deleted = 0
               AND ({member}))"
    );
    if digits {
        sql.push_str(" OR instr(h.code, ?) > 0");
        params.push(Value::Text(text.to_owned()));
    }
    sql.push(')');
    sql
}

/// The household list's row columns and joins.
const ROW_COLUMNS: &str = "SELECT h.id, h.code, v.name, h.group_name, s.head_name,
        s.head_id_number, s.members, h.attribute, h.poverty_status, h.main_cause, s.last_visit";
const FROM: &str = " FROM household h
        LEFT JOIN household_summary s ON s.household_id = h.id
        LEFT JOIN village v ON v.id = h.village_id";

/// The WHERE clause of a query's filters (search text aside), with its bound parameters.
fn conditions(store: &Store, q: &HouseholdQuery) -> (String, Vec<Value>) {
    let mut cond = String::from(" WHERE h.deleted = 0");
    let mut params: Vec<Value> = Vec::new();
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
/// list screen's "all of these" acts on. Not capped: each household is tested in turn.
pub fn household_ids(store: &Store, q: &HouseholdQuery) -> Result<Vec<Uuid>, StoreError> {
    let (mut cond, mut params) = conditions(store, q);
    let text = q.text.trim().to_lowercase();
    if !text.is_empty() {
        cond.push_str(&search_predicate(&text, &mut params));
    }
    let mut stmt = store
        .conn()
        .prepare_cached(&format!("SELECT h.id{FROM}{cond} ORDER BY h.code, h.id"))?;
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
    let mut page = households_counting_to(store, q, SEARCH_COUNT_CAP)?;
    mask_rows(store, &mut page.rows)?;
    Ok(page)
}

/// The list shows full 证件号码 only to a role that sees them (issue 15); a search by a
/// number still finds the household, it is the shown number that is masked.
fn mask_rows(store: &Store, rows: &mut [HouseholdRow]) -> Result<(), StoreError> {
    if !store.sees_full_ids()? {
        for row in rows {
            row.head_id_number = crate::access::mask_id_number(&row.head_id_number);
        }
    }
    Ok(())
}

fn households_counting_to(
    store: &Store,
    q: &HouseholdQuery,
    cap: usize,
) -> Result<HouseholdPage, StoreError> {
    let (cond, mut params) = conditions(store, q);
    let conn = store.conn();
    let limit = if q.limit <= 0 { 100 } else { q.limit.min(5000) };
    let order = sort_column(q.sort.as_deref());
    let dir = if q.descending { "DESC" } else { "ASC" };
    // The id last: households with the same code (a reported duplicate) keep one order
    // whichever way the page is found.
    let page_tail = format!(" ORDER BY {order} {dir}, h.code {dir}, h.id {dir} LIMIT ? OFFSET ?");
    let page_params = [Value::Integer(limit), Value::Integer(q.offset.max(0))];

    let text = q.text.trim().to_lowercase();
    if text.is_empty() {
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*){FROM}{cond}"))?
            .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;
        let rows = page_rows(
            store,
            &format!("{ROW_COLUMNS}{FROM}{cond}{page_tail}"),
            params.iter().chain(&page_params),
        )?;
        return Ok(HouseholdPage {
            total,
            capped: false,
            rows,
        });
    }

    // The matching households that pass the filters, each source streamed through its index
    // until the count passes the cap.
    let mut found: Vec<Value> = Vec::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    'sources: for (source, source_params) in search_sources(&text) {
        let sql = format!(
            "SELECT h.id FROM ({source}) x CROSS JOIN household h ON h.id = x.hid
             LEFT JOIN household_summary s ON s.household_id = h.id
             LEFT JOIN village v ON v.id = h.village_id{cond}"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(
            source_params.iter().chain(params.iter()),
        ))?;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            if seen.insert(id.clone()) {
                found.push(Value::Blob(id));
                if found.len() > cap {
                    break 'sources;
                }
            }
        }
    }
    let capped = found.len() > cap;
    let total = found.len().min(cap) as i64;
    let rows = if capped {
        // Too many to sort: the households are walked in list order (an index serves the
        // household code) and each is tested, until the page is full.
        let predicate = search_predicate(&text, &mut params);
        page_rows(
            store,
            &format!("{ROW_COLUMNS}{FROM}{cond}{predicate}{page_tail}"),
            params.iter().chain(&page_params),
        )?
    } else {
        let [limit, offset] = page_params;
        let ids: Array = Rc::new(found);
        let mut stmt = conn.prepare_cached(&format!(
            "{ROW_COLUMNS}{FROM} WHERE h.id IN rarray(?){page_tail}"
        ))?;
        stmt.query_map(rusqlite::params![ids, limit, offset], household_row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(HouseholdPage {
        total,
        capped,
        rows,
    })
}

/// The list rows of the given households, in the given order (ids not found left out).
pub fn household_rows(store: &Store, ids: &[Uuid]) -> Result<Vec<HouseholdRow>, StoreError> {
    let wanted: Array = Rc::new(
        ids.iter()
            .map(|id| Value::Blob(id.as_bytes().to_vec()))
            .collect(),
    );
    let mut stmt = store
        .conn()
        .prepare_cached(&format!("{ROW_COLUMNS}{FROM} WHERE h.id IN rarray(?)"))?;
    let mut rows = stmt
        .query_map(rusqlite::params![wanted], household_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let at = |row: &HouseholdRow| {
        ids.iter()
            .position(|id| id.to_string() == row.id)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(at);
    mask_rows(store, &mut rows)?;
    Ok(rows)
}

fn page_rows<'p>(
    store: &Store,
    sql: &str,
    params: impl Iterator<Item = &'p Value>,
) -> Result<Vec<HouseholdRow>, StoreError> {
    let mut stmt = store.conn().prepare_cached(sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), household_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn household_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HouseholdRow> {
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
             WHERE person_fts MATCH ?1 AND m.deleted = 0
             UNION ALL
             SELECT m.id, m.household_id, m.name, m.id_number FROM search_pending p
             JOIN member m ON m.rowid = p.entry
             WHERE p.kind = 0 AND m.deleted = 0
                AND instr(lower(coalesce(m.name, '') || ' ' || coalesce(m.initials, '')
                    || ' ' || coalesce(m.id_number, '')), lower(?3)) > 0
             LIMIT ?2",
            vec![
                Value::Text(fts_phrase(&text)),
                Value::Integer(limit),
                Value::Text(text.clone()),
            ],
        )
    } else {
        let mut params = name_prefix_params(&text);
        params.push(Value::Integer(limit));
        (
            "SELECT id, household_id, name, id_number FROM member
             WHERE deleted = 0
                AND ((initials >= ?1 AND initials < ?2 AND name >= ?3 AND name < ?4)
                    OR (initials >= ?3 AND initials < ?4))
             LIMIT ?5",
            params,
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
    let full = store.sees_full_ids()?;
    Ok(hits
        .into_iter()
        .map(|hit| PersonHit {
            id_number: store.shown_id_number(&hit.id_number, full),
            ..hit
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Household, Member};
    use crate::store::Filter;

    /// Households whose live members' name, initials or ID number contain the text (start
    /// with it, under 3 characters), or whose code contains it (digits only): read record by
    /// record, no index.
    fn matching(store: &Store, text: &str) -> usize {
        let text = text.to_lowercase();
        let short = text.chars().count() < 3;
        let hit = |field: &str| {
            let field = field.to_lowercase();
            if short {
                field.starts_with(&text)
            } else {
                field.contains(&text)
            }
        };
        let digits = text.chars().all(|c| c.is_ascii_digit());
        let households = store.read::<Household>(Filter::All).unwrap();
        let members = store.read::<Member>(Filter::All).unwrap();
        households
            .iter()
            .filter(|h| {
                digits && h.code.contains(&text)
                    || members.iter().any(|m| {
                        m.household_id == Some(h.id)
                            && (hit(&m.name)
                                || hit(&crate::store::name_initials(&m.name))
                                || !short && hit(&m.id_number))
                    })
            })
            .count()
    }

    #[test]
    fn a_broad_search_counts_to_the_cap_and_pages_like_an_exact_one() {
        let (_dir, store) = crate::report::demo_store();
        let members = store.read::<Member>(Filter::All).unwrap();
        let some = &members[members.len() / 3];
        let initials = crate::store::name_initials(&some.name);
        let texts = [
            some.name.clone(),
            some.name.chars().take(1).collect(),
            initials.clone(),
            initials.chars().take(1).collect(),
            some.id_number[8..14].to_owned(),
            some.id_number[14..].to_lowercase(),
            "19".into(),
            "001".into(),
            "1".into(),
            "不存在的人".into(),
        ];
        let sorts = [
            (None, false),
            (Some("code"), true),
            (Some("head_name"), false),
            (Some("last_visit"), true),
        ];
        for text in &texts {
            let expected = matching(&store, text);
            for (sort, descending) in sorts {
                for (offset, group) in [(0, None), (3, None), (0, Some("上寨组"))] {
                    let q = HouseholdQuery {
                        text: text.clone(),
                        sort: sort.map(str::to_owned),
                        descending,
                        offset,
                        limit: 7,
                        group_name: group.map(str::to_owned),
                        ..HouseholdQuery::default()
                    };
                    let exact = households_counting_to(&store, &q, usize::MAX).unwrap();
                    let capped = households_counting_to(&store, &q, 5).unwrap();
                    let case = format!("{text:?} {sort:?} {descending} {offset} {group:?}");
                    assert_eq!(capped.rows, exact.rows, "{case}");
                    assert_eq!(capped.total, exact.total.min(5), "{case}");
                    assert_eq!(capped.capped, exact.total > 5, "{case}");
                    assert!(!exact.capped);
                    if group.is_none() {
                        assert_eq!(exact.total as usize, expected, "{case}");
                    }
                }
            }
        }
    }
}
