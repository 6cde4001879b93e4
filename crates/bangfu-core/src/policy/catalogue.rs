//! The policy catalogue (政策目录) as the county's synced, yearly configuration: the county's
//! rows in the replicated `policy` table (one per (year, code), ops, signatures, review items
//! like the 脱贫标准) lie over the policies the program ships from the report
//! (`shipped.rs`). `set_policy` is the one writer; `Store::write` refuses policy rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PolicyError;
use super::rule::Rule;
use super::shipped;
use crate::model::{Policy, Table, codes};
use crate::store::{Store, StoreError};

/// One policy of one year, as every reader uses it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[ts(rename = "PolicyEntry")]
pub struct PolicyDef {
    pub year: i32,
    /// Stable code, the same from year to year (e.g. `edu_high_school`).
    pub code: String,
    pub name: String,
    /// 七个一批 path (code of `measure_path`).
    pub path: String,
    /// 补助标准 per beneficiary (元); none: a service, or help up to `cap`.
    pub amount: Option<f64>,
    /// 年度封顶 per beneficiary (元).
    pub cap: Option<f64>,
    /// 一次性: received once ever (under any year's policy of the same code), not yearly.
    pub once: bool,
    pub rule: Rule,
    /// How the amount is split (the "2355"), in the report's words.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// A policy the county stopped for the year.
    pub in_force: bool,
    pub source: String,
    /// Set by the county (a synced row), not shipped by the program.
    pub edited: bool,
}

/// A part of a policy's amount and who receives it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub label: String,
    pub amount: f64,
    /// 农户 / 龙头企业 / 村集体 …
    pub to: String,
}

impl PolicyDef {
    /// The most a beneficiary may receive under it (the amount, else the cap).
    pub fn allowed(&self) -> Option<f64> {
        self.amount.or(self.cap)
    }

    pub fn path_label(&self) -> &str {
        codes::MEASURE_PATH
            .label(&self.path)
            .unwrap_or(self.path.as_str())
    }
}

/// The row id of a (year, code): the same on every copy.
pub fn policy_id(year: i32, code: &str) -> Uuid {
    crate::model::key_id(&[
        b"bangfu/policy/",
        code.trim().as_bytes(),
        b"/",
        &year.to_le_bytes(),
    ])
}

/// A synced row as a policy; a row whose key, name or rule has not arrived (or does not parse,
/// written by a newer version) is skipped.
fn from_record(p: Policy) -> Option<PolicyDef> {
    let rule: Rule = serde_json::from_str(&p.rule).ok()?;
    let parts: Vec<Part> = if p.parts.trim().is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&p.parts).ok()?
    };
    if p.code.is_empty() || p.name.is_empty() {
        return None;
    }
    Some(PolicyDef {
        year: i32::try_from(p.year?).ok()?,
        code: p.code,
        name: p.name,
        path: p.path,
        amount: p.amount,
        cap: p.cap,
        once: p.once.unwrap_or(false),
        rule,
        parts,
        in_force: p.in_force.unwrap_or(true),
        source: p.source,
        edited: true,
    })
}

/// The county's rows (synced), live ones only, of one year.
fn synced(store: &Store, year: i32) -> Result<Vec<PolicyDef>, StoreError> {
    let ids: Vec<Vec<u8>> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT id FROM policy WHERE deleted = 0 AND year = ?1")?;
        stmt.query_map([year], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())?
    };
    let mut out = Vec::new();
    for id in ids {
        let Ok(id) = Uuid::from_slice(&id) else {
            continue;
        };
        let record: Policy = store.get(id)?;
        out.extend(from_record(record));
    }
    Ok(out)
}

/// Every policy of a year on this copy, by code: the county's rows over the shipped ones of
/// the same code, the stopped ones included (`in_force` false).
pub fn list_policies(store: &Store, year: i32) -> Result<Vec<PolicyDef>, PolicyError> {
    let mut by_code: BTreeMap<String, PolicyDef> = BTreeMap::new();
    for p in shipped::policies(year)
        .into_iter()
        .chain(synced(store, year)?)
    {
        by_code.insert(p.code.clone(), p);
    }
    let mut all: Vec<PolicyDef> = by_code.into_values().collect();
    all.sort_by(|a, b| (&a.path, &a.code).cmp(&(&b.path, &b.code)));
    Ok(all)
}

/// Every policy of the given years by its row id (the id a measure names), for the checks of
/// a measure's payments against its policy (`payments::overpaid_findings`).
pub(crate) fn policies_by_id(
    store: &Store,
    years: impl IntoIterator<Item = i32>,
) -> Result<std::collections::HashMap<Uuid, PolicyDef>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for year in years {
        for p in shipped::policies(year)
            .into_iter()
            .chain(synced(store, year)?)
        {
            out.insert(policy_id(year, &p.code), p);
        }
    }
    Ok(out)
}

/// The policies of a year that are in force.
pub fn policies_in_force(store: &Store, year: i32) -> Result<Vec<PolicyDef>, PolicyError> {
    let mut all = list_policies(store, year)?;
    all.retain(|p| p.in_force);
    Ok(all)
}

/// One policy of a year by code.
pub fn policy_of(store: &Store, year: i32, code: &str) -> Result<PolicyDef, PolicyError> {
    list_policies(store, year)?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or_else(|| PolicyError::UnknownPolicy {
            year,
            code: code.to_owned(),
        })
}

fn check(policy: &PolicyDef) -> Result<(), PolicyError> {
    let bad = |field| Err(PolicyError::BadPolicy { field });
    if !(1978..=2100).contains(&policy.year) {
        return bad("年度");
    }
    let code_ok = !policy.code.is_empty()
        && policy
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !code_ok {
        return bad("政策代码");
    }
    if policy.name.trim().is_empty() {
        return bad("政策名称");
    }
    if codes::MEASURE_PATH.label(&policy.path).is_none() {
        return bad("帮扶措施类别");
    }
    let money = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v > 0.0);
    if !money(policy.amount) {
        return bad("补助标准");
    }
    if !money(policy.cap) {
        return bad("年度封顶");
    }
    if let Some(code) = policy.rule.unknown_code() {
        return Err(PolicyError::UnknownCodeInRule { code });
    }
    if let Rule::Township { fund } = &policy.rule {
        let figures = [
            fund.base,
            fund.per_exited_household,
            fund.per_relocated_household,
            fund.per_poor_person,
        ];
        if figures.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return bad("工作经费公式");
        }
        if !fund.split.is_empty() && fund.split.iter().all(|s| s.share == 0) {
            return bad("分配比例");
        }
    }
    if policy
        .parts
        .iter()
        .any(|p| !(p.amount.is_finite() && p.amount >= 0.0) || p.label.trim().is_empty())
    {
        return bad("资金分配");
    }
    if let (Some(amount), false) = (policy.amount, policy.parts.is_empty()) {
        let sum: f64 = policy.parts.iter().map(|p| p.amount).sum();
        if (sum - amount).abs() > 0.005 {
            return Err(PolicyError::PartsDoNotAddUp { sum, amount });
        }
    }
    if policy.source.trim().is_empty() {
        return bad("依据");
    }
    Ok(())
}

/// Sets a policy of a year (a synced row, the same row on every copy), after checking that its
/// rule names only codes the forms know and its parts add up to its amount.
pub fn set_policy(store: &mut Store, policy: &PolicyDef) -> Result<(), PolicyError> {
    store.require(crate::access::Permission::ChangeSettings)?;
    check(policy)?;
    let record = Policy {
        id: policy_id(policy.year, &policy.code),
        year: Some(i64::from(policy.year)),
        code: policy.code.trim().to_owned(),
        name: policy.name.trim().to_owned(),
        path: policy.path.clone(),
        amount: policy.amount,
        cap: policy.cap,
        once: Some(policy.once),
        rule: json(&policy.rule)?,
        parts: if policy.parts.is_empty() {
            String::new()
        } else {
            json(&policy.parts)?
        },
        in_force: Some(policy.in_force),
        source: policy.source.trim().to_owned(),
    };
    store.put_county_row(crate::store::put_change(&record))?;
    Ok(())
}

/// JSON of the rule and the parts, the one encoding the `policy` row holds.
fn json<T: Serialize>(value: &T) -> Result<String, PolicyError> {
    serde_json::to_string(value).map_err(PolicyError::Encode)
}

/// Takes back the county's row of a (year, code): the shipped policy applies again.
pub fn clear_policy(store: &mut Store, year: i32, code: &str) -> Result<bool, PolicyError> {
    Ok(store.clear_county_row(Table::Policy, policy_id(year, code.trim()))?)
}
