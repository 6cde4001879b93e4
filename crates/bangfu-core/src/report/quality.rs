//! The data-quality list: every household checked with the same rules as the filing form, plus
//! what only the whole data file shows (the same person filed in two households or villages,
//! a household code used twice).
//!
//! A county holds 100k households with a million visits: loading each household's file with
//! its own queries took half a minute. The list therefore reads each table once, in household
//! order through the `household_id` indexes, and walks them side by side (one household's
//! records in memory at a time); what the data file shows across households is found first
//! with two grouped queries.

use std::collections::{HashMap, HashSet};

use rusqlite::{Rows, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::filing::{HouseholdFile, code_used_twice, filed_elsewhere, record_checks};
use crate::model::{Entity, Household, Income, Measure, Member, Pairing, Payment, Table, Visit};
use crate::store::read::{entity_columns, entity_from_row};
use crate::store::{Store, StoreError};
use crate::validate::Severity;

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct QualityItem {
    pub household_id: String,
    pub household_code: String,
    pub head_name: String,
    pub severity: Severity,
    pub rule: &'static str,
    pub message: String,
}

/// Every finding in the data file, by household code.
pub fn data_quality(store: &Store) -> Result<Vec<QualityItem>, StoreError> {
    data_quality_of_year(store, None)
}

/// [`data_quality`] as the signed-in person may read it: the 证件号码 its messages name are
/// masked for a role that does not see full numbers (issue 15).
pub fn data_quality_shown(store: &Store) -> Result<Vec<QualityItem>, StoreError> {
    let items = data_quality(store)?;
    mask_for_reader(store, items)
}

/// The 15-digit 证件号码 of the file's members: an old-form ID a message names is masked as
/// one ([`crate::access::mask_ids_in_text_known`]).
pub fn known_15_ids(store: &Store) -> Result<HashSet<String>, StoreError> {
    let mut stmt = store.conn().prepare(
        "SELECT DISTINCT id_number FROM member WHERE deleted = 0 AND length(id_number) = 15",
    )?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The findings as the signed-in person may read them: the numbers their messages name are
/// masked for a role that does not see full IDs (the app's list, `bangfu quality`).
pub fn mask_for_reader(
    store: &Store,
    mut items: Vec<QualityItem>,
) -> Result<Vec<QualityItem>, StoreError> {
    if !store.sees_full_ids()? {
        let known_15 = known_15_ids(store)?;
        for item in &mut items {
            item.message = crate::access::mask_ids_in_text_known(&item.message, &known_15).0;
        }
    }
    Ok(items)
}

/// The findings of one work year: those about an income, a measure or a visit only when the
/// record is of `year`; those about the household, its members and its pairings always (they
/// do not belong to a year). Every finding without a year.
pub fn data_quality_of_year(
    store: &Store,
    year: Option<i32>,
) -> Result<Vec<QualityItem>, StoreError> {
    let conn = store.conn();
    let today = store.today();
    // Members' schooling and work are what the file says now, whichever year is looked at:
    // ages are judged at the end of the file's own work year (today for a file kept up to
    // date, 2018 for a roll of 2018 never updated since).
    let ages_on = super::year::reference_day(super::year::default_work_year(store)?, today);
    let codes_used_twice = codes_used_twice(store)?;
    let ids_elsewhere = ids_in_several_households(store)?;

    let mut households = conn.prepare(&format!(
        "SELECT rowid, {} FROM household WHERE deleted = 0 ORDER BY id",
        entity_columns::<Household>()
    ))?;
    let mut members = children_statement::<Member>(store)?;
    let mut incomes = children_statement::<Income>(store)?;
    let mut pairings = children_statement::<Pairing>(store)?;
    let mut measures = children_statement::<Measure>(store)?;
    let mut visits = children_statement::<Visit>(store)?;
    let mut payments = children_statement::<Payment>(store)?;
    // The policies structured measures name, of every year they are of, read once.
    let policies = crate::policy::catalogue::policies_by_id(store, measure_policy_years(store)?)?;
    let mut members = Children::<Member>::new(&mut members)?;
    let mut incomes = Children::<Income>::new(&mut incomes)?;
    let mut pairings = Children::<Pairing>::new(&mut pairings)?;
    let mut measures = Children::<Measure>::new(&mut measures)?;
    let mut visits = Children::<Visit>::new(&mut visits)?;
    let mut payments = Children::<Payment>::new(&mut payments)?;

    // (household code, rule, household rowid, finding's place): the order of the list.
    let county = crate::county_settings::county_settings(store)?;
    let mut keyed: Vec<((i64, usize), QualityItem)> = Vec::new();
    let mut rows = households.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let household: Household = entity_from_row(r, 1)?;
        let id = household.id;
        let file = HouseholdFile {
            household,
            members: members.of(id)?,
            incomes: incomes.of(id)?,
            pairings: pairings.of(id)?,
            measures: measures.of(id)?,
            visits: visits.of(id)?,
        };
        let h = &file.household;
        let mut issues = record_checks(&file, today, ages_on, &county);
        let paid = payments.of(id)?;
        if !paid.is_empty() {
            issues.extend(crate::policy::payments::overpaid_findings(
                &file, &paid, &policies,
            ));
        }
        if let Some(year) = year {
            issues.retain(|issue| record_year(&file, issue).is_none_or(|y| y == year));
        }
        let village = h
            .village_id
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        if !h.code.is_empty() && codes_used_twice.contains(&(village, h.code.clone())) {
            issues.push(code_used_twice(h));
        }
        for m in file
            .members
            .iter()
            .filter(|m| !m.id_number.is_empty() && m.leave_date.is_none())
        {
            let other = ids_elsewhere
                .get(&crate::validate::resident_id::person_key(&m.id_number))
                .and_then(|filed| filed.iter().find(|(household, _)| *household != id));
            if let Some((_, code)) = other {
                issues.push(filed_elsewhere(m, code));
            }
        }
        if issues.is_empty() {
            continue;
        }
        let head = file
            .members
            .iter()
            .find(|m| m.relation == crate::model::codes::RELATION_HEAD)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        for (place, located) in issues.into_iter().enumerate() {
            let issue = located.issue;
            keyed.push((
                (rowid, place),
                QualityItem {
                    household_id: id.to_string(),
                    household_code: h.code.clone(),
                    head_name: head.clone(),
                    severity: issue.severity,
                    rule: issue.rule,
                    message: issue.message,
                },
            ));
        }
    }
    keyed.sort_by(|(a_at, a), (b_at, b)| {
        (&a.household_code, a.rule, a_at).cmp(&(&b.household_code, b.rule, b_at))
    });
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// The year of the record a finding is about, when it is an income, a measure or a visit.
fn record_year(file: &HouseholdFile, issue: &crate::filing::LocatedIssue) -> Option<i32> {
    let id = issue.row_id?;
    let year = match issue.table {
        Table::Income => file.incomes.iter().find(|i| i.id == id)?.year,
        Table::Measure => file.measures.iter().find(|m| m.id == id)?.year,
        Table::Visit => {
            let date = file.visits.iter().find(|v| v.id == id)?.visit_date?;
            Some(i64::from(chrono::Datelike::year(&date)))
        }
        _ => None,
    }?;
    i32::try_from(year).ok()
}

/// The years of the live measures that name a policy.
fn measure_policy_years(store: &Store) -> Result<Vec<i32>, StoreError> {
    let mut stmt = store.conn().prepare(
        "SELECT DISTINCT year FROM measure
         WHERE deleted = 0 AND policy_id IS NOT NULL AND year IS NOT NULL",
    )?;
    let years = stmt
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(years
        .into_iter()
        .filter_map(|y| i32::try_from(y).ok())
        .collect())
}

/// (village id or empty, code) of every household code that two live households of one
/// village share.
fn codes_used_twice(store: &Store) -> Result<HashSet<(Vec<u8>, String)>, StoreError> {
    let mut stmt = store.conn().prepare(
        "SELECT coalesce(village_id, x''), code FROM household
         WHERE deleted = 0 AND code <> '' GROUP BY 1, 2 HAVING count(*) > 1",
    )?;
    let found = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// Every person (by [`person_key`]: 残疾人证 number, `x`/`X` and 15/18 digits are one person)
/// that current (not 减员) live members of more than one live household are: the households (id, code) the
/// person is filed in, in the order the members were filed. Grouped here, not in SQL, so every
/// duplicate check uses the one key.
///
/// [`person_key`]: crate::validate::resident_id::person_key
pub(crate) fn ids_in_several_households(
    store: &Store,
) -> Result<HashMap<String, Vec<(Uuid, String)>>, StoreError> {
    let mut stmt = store.conn().prepare(LIVE_ID_NUMBERS)?;
    let mut rows = stmt.query([])?;
    let mut filed: HashMap<String, Vec<(Uuid, String)>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let household: Vec<u8> = r.get(1)?;
        let Ok(household) = Uuid::from_slice(&household) else {
            continue;
        };
        let number: String = r.get(0)?;
        let key = crate::validate::resident_id::person_key(&number);
        if key.is_empty() {
            continue;
        }
        filed.entry(key).or_default().push((household, r.get(2)?));
    }
    // A person filed in one household only (however many times) is not a duplicate here.
    filed.retain(|_, households| households.iter().any(|(h, _)| *h != households[0].0));
    Ok(filed)
}

/// Every live member's ID number with the household's id and code, in filing order.
const LIVE_ID_NUMBERS: &str = "SELECT m.id_number, m.household_id, coalesce(h.code, '')
     FROM member m JOIN household h ON h.id = m.household_id
     WHERE m.deleted = 0 AND h.deleted = 0 AND coalesce(m.id_number, '') <> ''
       AND m.leave_date IS NULL
     ORDER BY m.rowid";

/// How many people (by the person key) are filed in more than one live household: the
/// number [`ids_in_several_households`] lists, counted after every import in about 40 bytes
/// a person (a person key of digits and X packed in a number), so an import's memory does not
/// grow with the county's people (issue 20).
pub(crate) fn count_people_in_several_households(store: &Store) -> Result<i64, StoreError> {
    /// The first household a person was met in, and whether another one followed.
    type Seen = (Uuid, bool);
    fn note(seen: &mut Seen, household: Uuid) {
        seen.1 |= seen.0 != household;
    }
    let mut packed: rustc_hash::FxHashMap<u128, Seen> = Default::default();
    let mut other: HashMap<String, Seen> = HashMap::new();
    let mut stmt = store.conn().prepare(LIVE_ID_NUMBERS)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let household: Vec<u8> = r.get(1)?;
        let Ok(household) = Uuid::from_slice(&household) else {
            continue;
        };
        let number: String = r.get(0)?;
        let key = crate::validate::resident_id::person_key(&number);
        if key.is_empty() {
            continue;
        }
        match pack_person_key(&key) {
            Some(k) => note(packed.entry(k).or_insert((household, false)), household),
            None => note(other.entry(key).or_insert((household, false)), household),
        }
    }
    let several = packed
        .values()
        .chain(other.values())
        .filter(|s| s.1)
        .count();
    Ok(several as i64)
}

/// A person key of up to 30 digits and X as one number (base 11, after a leading 1 so that
/// leading zeros count); `None` for any other key.
fn pack_person_key(key: &str) -> Option<u128> {
    if key.len() > 30 {
        return None;
    }
    key.bytes().try_fold(1u128, |n, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'X' => 10,
            _ => return None,
        };
        Some(n * 11 + u128::from(digit))
    })
}

/// The code of a live household other than `except` where the same person (by the person key)
/// is filed, the earliest filed first; each form the number may have been typed in is an
/// index range of `member_id_number`.
pub(crate) fn person_filed_elsewhere(
    conn: &rusqlite::Connection,
    id_number: &str,
    except: Option<Uuid>,
) -> Result<Option<String>, StoreError> {
    use crate::validate::resident_id::{person_key, person_key_prefixes};
    let key = person_key(id_number);
    if key.is_empty() {
        return Ok(None);
    }
    let except = except.map(|e| e.as_bytes().to_vec()).unwrap_or_default();
    let mut stmt = conn.prepare_cached(
        "SELECT m.id_number, coalesce(h.code, ''), m.rowid FROM member m
         JOIN household h ON h.id = m.household_id
         WHERE m.deleted = 0 AND h.deleted = 0 AND m.id_number >= ?1 AND m.id_number < ?1 || '~'
           AND m.household_id <> ?2 AND m.leave_date IS NULL",
    )?;
    let mut best: Option<(i64, String)> = None;
    for prefix in person_key_prefixes(&key) {
        let mut rows = stmt.query(rusqlite::params![prefix, except])?;
        while let Some(r) = rows.next()? {
            let number: String = r.get(0)?;
            let rowid: i64 = r.get(2)?;
            if person_key(&number) == key && best.as_ref().is_none_or(|(b, _)| rowid < *b) {
                best = Some((rowid, r.get(1)?));
            }
        }
    }
    Ok(best.map(|(_, code)| code))
}

/// Live rows of a household's table in household order (then filing order), which the
/// `household_id` index serves without sorting.
fn children_statement<E: Entity>(store: &Store) -> Result<Statement<'_>, StoreError> {
    Ok(store.conn().prepare(&format!(
        "SELECT household_id, {} FROM {} WHERE deleted = 0 AND household_id IS NOT NULL
         ORDER BY household_id, rowid",
        entity_columns::<E>(),
        E::TABLE.sql_name()
    ))?)
}

/// A cursor over one child table in household order, walked alongside the households.
struct Children<'s, E> {
    rows: Rows<'s>,
    /// The first row not yet handed out, with its household.
    next: Option<(Uuid, E)>,
}

impl<'s, E: Entity> Children<'s, E> {
    fn new(stmt: &'s mut Statement<'_>) -> Result<Self, StoreError> {
        let mut children = Children {
            rows: stmt.query([])?,
            next: None,
        };
        children.advance()?;
        Ok(children)
    }

    fn advance(&mut self) -> Result<(), StoreError> {
        self.next = match self.rows.next()? {
            Some(r) => {
                let household: Vec<u8> = r.get(0)?;
                let household = Uuid::from_slice(&household).unwrap_or_default();
                Some((household, entity_from_row(r, 1)?))
            }
            None => None,
        };
        Ok(())
    }

    /// The rows of `household`, skipping rows of households before it (deleted ones).
    fn of(&mut self, household: Uuid) -> Result<Vec<E>, StoreError> {
        let mut out = Vec::new();
        while let Some((h, _)) = &self.next {
            if *h > household {
                break;
            }
            let at = *h == household;
            if let Some((_, record)) = self.next.take()
                && at
            {
                out.push(record);
            }
            self.advance()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::RELATION_HEAD;
    use crate::store::Filter;

    /// The list as the household page sees each household: its file loaded and checked one
    /// household at a time, with the same lookups across the data file as a save.
    fn one_household_at_a_time(store: &Store) -> Vec<QualityItem> {
        let mut items = Vec::new();
        for h in store.read::<Household>(Filter::All).unwrap() {
            let file = store.load_household_file(h.id).unwrap();
            let head = file
                .members
                .iter()
                .find(|m| m.relation == RELATION_HEAD)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            for issue in store.check_household_file(&file).unwrap() {
                items.push(QualityItem {
                    household_id: h.id.to_string(),
                    household_code: h.code.clone(),
                    head_name: head.clone(),
                    severity: issue.severity,
                    rule: issue.rule,
                    message: issue.message,
                });
            }
        }
        items.sort_by(|a, b| (&a.household_code, a.rule).cmp(&(&b.household_code, b.rule)));
        items
    }

    /// The import summary's count of people filed in several households is the length of the
    /// quality list's map, however the numbers were typed: 15 and 18 digits, x and X, a
    /// 20-digit 残疾人证 number, a number that is not an ID at all, twice in one household.
    #[test]
    fn the_import_count_of_people_in_several_households_is_the_lists() {
        let (_dir, mut store) = crate::report::demo_store();
        let households = store.read::<Household>(Filter::All).unwrap();
        let files: Vec<HouseholdFile> = households[..4]
            .iter()
            .map(|h| store.load_household_file(h.id).unwrap())
            .collect();
        let cases: &[(usize, &str)] = &[
            (0, "53082619800101123X"),
            (1, "530826800101123"),
            (2, "53082619800101123x"),
            (0, "5308261980010112X"),
            (1, "5308261980010112x"),
            (0, "53082619900202456712"),
            (3, "530826199002024567"),
            (0, "甲乙丙"),
            (2, "甲乙丙"),
            (3, "530826200003034444"),
            (3, "530826200003034444"),
        ];
        for (i, &(file, number)) in cases.iter().enumerate() {
            let mut person = files[file].members[0].clone();
            person.id = Uuid::now_v7();
            person.name = format!("试{i}");
            person.id_number = number.into();
            store.put_unchecked(&person).unwrap();
        }
        let listed = ids_in_several_households(&store).unwrap().len() as i64;
        assert!(listed >= 4, "the cases make at least four: {listed}");
        assert_eq!(count_people_in_several_households(&store).unwrap(), listed);
    }

    #[test]
    fn the_list_is_what_each_household_page_finds() {
        let (_dir, mut store) = crate::report::demo_store();
        let households = store.read::<Household>(Filter::All).unwrap();
        // Across households: one person filed in three households (one of them deleted
        // afterwards), a code used twice, and a member moved between households.
        let files: Vec<HouseholdFile> = households[..4]
            .iter()
            .map(|h| store.load_household_file(h.id).unwrap())
            .collect();
        let shared = files[0].members[0].id_number.clone();
        for (i, file) in files[1..].iter().enumerate() {
            let mut copy = file.members[1].clone();
            copy.id_number = shared.clone();
            copy.name = format!("重复{i}");
            store.put_unchecked(&copy).unwrap();
        }
        store
            .write_unchecked(&[crate::store::Change::Delete {
                table: Household::TABLE,
                id: files[3].household.id,
            }])
            .unwrap();
        let mut twin = files[2].household.clone();
        twin.id = Uuid::now_v7();
        store.put_unchecked(&twin).unwrap();
        let mut moved = files[2].members[0].clone();
        moved.household_id = Some(files[0].household.id);
        store.put_unchecked(&moved).unwrap();

        // A measure paid above its amount due, one paid above its policy's amount, one within
        // (for another member), and two 医疗救助 for one member that are each within its cap
        // but together above it.
        let today = store.today();
        let year = chrono::Datelike::year(&today);
        let head = &files[0].members[0];
        let other = &files[0].members[1];
        let measure_of = |member: &Member, amount_due: Option<f64>, policy: Option<&str>| Measure {
            id: Uuid::now_v7(),
            household_id: Some(files[0].household.id),
            year: Some(i64::from(year)),
            path: "04".into(),
            description: "教育资助".into(),
            status: "2".into(),
            policy_id: policy.map(|code| crate::policy::policy_id(year, code)),
            member_id: Some(member.id),
            amount_due,
            ..Default::default()
        };
        let measure =
            |amount_due: Option<f64>, policy: Option<&str>| measure_of(head, amount_due, policy);
        let pay = |m: &Measure, amount: f64| crate::model::Payment {
            id: Uuid::now_v7(),
            household_id: m.household_id,
            measure_id: Some(m.id),
            pay_date: Some(today),
            amount: Some(amount),
            channel: "1".into(),
            note: String::new(),
        };
        let over_due = measure(Some(1000.0), None);
        let over_policy = measure(None, Some("edu_high_school"));
        let within = measure_of(other, Some(3000.0), Some("edu_high_school"));
        let medical = |description: &str| Measure {
            path: "06".into(),
            description: description.into(),
            ..measure_of(other, None, Some("medical_aid"))
        };
        let (hospital, clinic) = (medical("住院医疗救助"), medical("门诊医疗救助"));
        // The one-off 高中 aid paid to the same student last year too: above it over the years.
        let last_year = Measure {
            year: Some(i64::from(year - 1)),
            policy_id: Some(crate::policy::policy_id(year - 1, "edu_high_school")),
            ..measure_of(other, Some(3000.0), None)
        };
        for (m, amounts) in [
            (&over_due, &[800.0, 700.0][..]),
            (&over_policy, &[3000.0, 500.5][..]),
            (&within, &[3000.0][..]),
            (&last_year, &[3000.0][..]),
            (&hospital, &[30000.0][..]),
            (&clinic, &[15000.0, 8000.0][..]),
        ] {
            store.put_unchecked(m).unwrap();
            for &a in amounts {
                store.put_unchecked(&pay(m, a)).unwrap();
            }
        }

        let listed = data_quality(&store).unwrap();
        assert_eq!(listed, one_household_at_a_time(&store));
        let overpaid: Vec<(&str, &str)> = listed
            .iter()
            .filter(|i| {
                i.rule.starts_with("measure.over") && i.household_code == files[0].household.code
            })
            .map(|i| (i.rule, i.message.as_str()))
            .collect();
        let named = |words: &str| format!("{year}年帮扶措施{words}");
        assert_eq!(
            overpaid,
            [
                (
                    "measure.over_policy",
                    named(&format!(
                        "{}的“普通高中学生一次性补助”已发放 3500.50 元，超出政策标准 3000 元 500.50 元，请核实",
                        head.name
                    ))
                    .as_str()
                ),
                (
                    "measure.over_policy_total",
                    format!(
                        "历年{}的“普通高中学生一次性补助”有 2 项帮扶措施，合计已发放 6000 元，超出政策标准 3000 元 3000 元：“教育资助”（{}年，已发放 3000 元）、“教育资助”（{year}年，已发放 3000 元），请核实",
                        other.name,
                        year - 1
                    )
                    .as_str()
                ),
                (
                    "measure.over_policy_total",
                    format!(
                        "{year}年{}的“重特大疾病医疗救助”有 2 项帮扶措施，合计已发放 53000 元，超出政策标准 50000 元 3000 元：“住院医疗救助”（{year}年，已发放 30000 元）、“门诊医疗救助”（{year}年，已发放 23000 元），请核实",
                        other.name
                    )
                    .as_str()
                ),
                (
                    "measure.overpaid",
                    named("“教育资助”已发放 1500 元，超出应发金额 1000 元 500 元，请核实").as_str()
                ),
            ],
            "{listed:#?}"
        );
        let rules: HashSet<&str> = listed.iter().map(|i| i.rule).collect();
        for rule in [
            "resident_id.filed_elsewhere",
            "household_code.duplicate",
            "household.head_missing",
        ] {
            assert!(rules.contains(rule), "{rule} missing from {rules:?}");
        }
        let filed_elsewhere = listed
            .iter()
            .filter(|i| i.rule == "resident_id.filed_elsewhere" && i.message.contains(&shared))
            .count();
        // The owner and the two copies in live households; the deleted household's copy is
        // not listed and does not count.
        assert_eq!(filed_elsewhere, 3, "{listed:#?}");
    }

    #[test]
    fn a_work_years_findings_keep_the_household_ones_and_only_that_years_records() {
        let (_dir, mut store) = crate::report::demo_store();
        let this_year = chrono::Datelike::year(&store.today());
        let household = store
            .read::<Household>(crate::store::Filter::All)
            .unwrap()
            .into_iter()
            .find(|h| h.code == "530826103201264")
            .unwrap()
            .id;
        // A measure of 2017 with a negative amount, one of this year without its path.
        let measure = |year: i32, path: &str, amount: f64| Measure {
            id: Uuid::now_v7(),
            household_id: Some(household),
            year: Some(i64::from(year)),
            path: path.into(),
            description: "补录的措施".into(),
            amount: Some(amount),
            ..Default::default()
        };
        store.put_unchecked(&measure(2017, "01", -500.0)).unwrap();
        store.put_unchecked(&measure(this_year, "", 800.0)).unwrap();
        let of = |year: Option<i32>| -> HashSet<String> {
            data_quality_of_year(&store, year)
                .unwrap()
                .into_iter()
                .filter(|i| i.household_code == "530826103201264")
                .map(|i| format!("{} {}", i.rule, i.message))
                .collect()
        };
        let all = of(None);
        let of_2017 = of(Some(2017));
        let of_now = of(Some(this_year));
        let only_2017: HashSet<_> = all.difference(&of_now).collect();
        let only_now: HashSet<_> = all.difference(&of_2017).collect();
        assert_eq!(only_2017.len(), 1, "{only_2017:?}");
        assert_eq!(only_now.len(), 1, "{only_now:?}");
        assert!(
            only_2017
                .iter()
                .all(|f| f.contains("amount") || f.contains("金额"))
        );
        assert!(
            only_now
                .iter()
                .all(|f| f.contains("path") || f.contains("类别"))
        );
        // What concerns the household as a whole (its 低保金 finding, checked over all its
        // incomes) is listed in every year.
        let kept: HashSet<_> = of_2017.intersection(&of_now).collect();
        assert!(
            kept.iter()
                .any(|f| f.contains("suspect.dibao_not_dibao_household")),
            "{kept:?}"
        );
        let union: HashSet<String> = of_2017.union(&of_now).cloned().collect();
        assert_eq!(union, all);
    }
}
