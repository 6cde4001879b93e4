//! Who is owed what: for each household (and each member) and each policy in force in a year,
//! whether the rule names them, what they received (the payments of the measures naming the
//! policy), and so who qualifies and has not received (应享未享), who received part (未足额),
//! who received more than the rule allows (超标准) and who received without qualifying (不符合条件).
//! Per household, and for a village, a township or the whole file with totals per policy.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use uuid::Uuid;

use super::PolicyError;
use super::catalogue::{PolicyDef, policies_in_force, policy_id};
use super::rule::{Beneficiaries, Rule};
use crate::filing::HouseholdFile;
use crate::ledger::Scope;
use crate::model::{Measure, Payment, codes};
use crate::store::{Filter, Store, StoreError};

/// Where one beneficiary stands under one policy.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// 应享未享: qualifies, nothing received.
    Due,
    /// 未足额: qualifies, received less than the amount.
    Short,
    /// 超标准: received more than the amount or the cap.
    Over,
    /// 不符合条件: a measure under the policy for someone the rule does not name.
    NotQualified,
    /// 已享受.
    Received,
}

impl DueState {
    pub fn label(self) -> &'static str {
        match self {
            DueState::Due => "应享未享",
            DueState::Short => "未足额",
            DueState::Over => "超标准",
            DueState::NotQualified => "不符合条件",
            DueState::Received => "已享受",
        }
    }
}

/// One beneficiary under one policy.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Entitlement {
    pub household_id: Uuid,
    pub household_code: String,
    /// 户主 name.
    pub head_name: String,
    pub member_id: Option<Uuid>,
    /// The member's name; empty for a household's policy.
    pub member_name: String,
    pub policy_code: String,
    pub policy_name: String,
    /// 七个一批 path, as the forms say it.
    pub path: String,
    pub qualifies: bool,
    /// The amount, else the cap (元); none: a service with no money figure.
    pub allowed: Option<f64>,
    /// Payments counted (the year's, or every year's for a one-off policy).
    pub received: f64,
    /// Measures naming the policy for this beneficiary (same counting).
    pub measures: usize,
    /// What is still owed, for a policy with an amount (元).
    pub owed: f64,
    /// Paid above what is allowed (元).
    pub excess: f64,
    pub state: DueState,
}

/// Totals of one policy over a scope.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyTotals {
    pub policy_code: String,
    pub policy_name: String,
    pub qualifying: usize,
    pub due: usize,
    pub short: usize,
    pub over: usize,
    pub not_qualified: usize,
    pub received_count: usize,
    pub received: f64,
    pub owed: f64,
    pub excess: f64,
}

/// The policy picture of a scope for a year.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDue {
    pub year: i32,
    pub unit: String,
    pub households: usize,
    /// Every line needing action (应享未享, 未足额, 超标准, 不符合条件), by household code.
    pub lines: Vec<Entitlement>,
    /// Per policy in force, in catalogue order.
    pub totals: Vec<PolicyTotals>,
}

/// Households with status 已脱贫(不再享受政策) are owed nothing more: the label says so.
fn enjoys_policies(file: &HouseholdFile) -> bool {
    file.household.poverty_status != codes::STATUS_EXITED
}

/// What the household received under each policy: by (policy code, member) the payments and
/// number of measures, counting a measure of year `y` under the policy id of (y, code).
struct Received {
    by_key: HashMap<(String, Option<Uuid>), Tally>,
}

/// What one beneficiary received under one policy.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    paid: f64,
    measures: usize,
    /// Measures of the year itself (a one-off policy also counts earlier years').
    this_year: usize,
}

impl Received {
    fn of(measures: &[Measure], payments: &[Payment], policy: &PolicyDef, year: i32) -> Received {
        let mut by_key: HashMap<(String, Option<Uuid>), Tally> = HashMap::new();
        for m in measures {
            let Some(pid) = m.policy_id else { continue };
            let Some(my) = m.year.and_then(|y| i32::try_from(y).ok()) else {
                continue;
            };
            // One-off policies count what was received in any year up to this one.
            let counts = if policy.once { my <= year } else { my == year };
            if !counts || pid != policy_id(my, &policy.code) {
                continue;
            }
            let paid: f64 = payments
                .iter()
                .filter(|p| p.measure_id == Some(m.id))
                .filter_map(|p| p.amount)
                .sum();
            let member = match policy.rule {
                Rule::Member { .. } => m.member_id,
                _ => None,
            };
            let entry = by_key.entry((policy.code.clone(), member)).or_default();
            entry.paid += paid;
            entry.measures += 1;
            if my == year {
                entry.this_year += 1;
            }
        }
        Received { by_key }
    }

    fn get(&self, code: &str, member: Option<Uuid>) -> Tally {
        self.by_key
            .get(&(code.to_owned(), member))
            .copied()
            .unwrap_or_default()
    }

    fn beneficiaries(&self) -> impl Iterator<Item = Option<Uuid>> + '_ {
        self.by_key.keys().map(|(_, m)| *m)
    }
}

/// Half a fen: amounts are compared to the fen.
const FEN: f64 = 0.005;

fn state_of(policy: &PolicyDef, qualifies: bool, received: f64, measures: usize) -> DueState {
    match (policy.amount, policy.allowed()) {
        (_, Some(allowed)) if received > allowed + FEN => DueState::Over,
        _ if !qualifies => DueState::NotQualified,
        _ if measures == 0 && received <= FEN => DueState::Due,
        // Help up to a cap (医疗救助) or a service: any measure of the year is the help given.
        (None, _) => DueState::Received,
        (Some(_), _) if received <= FEN => DueState::Due,
        (Some(amount), _) if received < amount - FEN => DueState::Short,
        (Some(_), _) => DueState::Received,
    }
}

/// Every entitlement of one household under the policies in force in `year` (a line per
/// beneficiary the rule names or who received under the policy).
pub fn household_entitlements(
    file: &HouseholdFile,
    payments: &[Payment],
    policies: &[PolicyDef],
    year: i32,
) -> Vec<Entitlement> {
    let head_name = file
        .members
        .iter()
        .find(|m| m.relation == codes::RELATION_HEAD)
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let member_name = |id: Option<Uuid>| {
        id.and_then(|id| file.members.iter().find(|m| m.id == id))
            .map(|m| m.name.clone())
            .unwrap_or_default()
    };
    let enjoys = enjoys_policies(file);
    let mut out = Vec::new();
    for policy in policies {
        let named: Vec<Option<Uuid>> = match policy.rule.beneficiaries(file, year) {
            Beneficiaries::Township => continue,
            Beneficiaries::Household(true) if enjoys => vec![None],
            Beneficiaries::Household(_) => Vec::new(),
            Beneficiaries::Members(members) if enjoys => {
                members.into_iter().map(|m| Some(m.id)).collect()
            }
            Beneficiaries::Members(_) => Vec::new(),
        };
        let received = Received::of(&file.measures, payments, policy, year);
        let mut who: Vec<Option<Uuid>> = named.clone();
        for extra in received.beneficiaries() {
            if !who.contains(&extra) {
                who.push(extra);
            }
        }
        for member in who {
            let tally = received.get(&policy.code, member);
            let (paid, measures) = (tally.paid, tally.measures);
            let qualifies = named.contains(&member);
            let allowed = policy.allowed();
            let state = state_of(policy, qualifies, paid, measures);
            // Someone who received a one-off aid in an earlier year, when the rule named them
            // (a student since left school), is no finding; only this year's help, or more
            // than the rule allows, is.
            if state == DueState::NotQualified && tally.this_year == 0 {
                continue;
            }
            let owed = match (state, policy.amount) {
                (DueState::Due | DueState::Short, Some(amount)) => (amount - paid).max(0.0),
                _ => 0.0,
            };
            let excess = match (state, allowed) {
                (DueState::Over, Some(allowed)) => paid - allowed,
                (DueState::NotQualified, _) => paid,
                _ => 0.0,
            };
            out.push(Entitlement {
                household_id: file.household.id,
                household_code: file.household.code.clone(),
                head_name: head_name.clone(),
                member_id: member,
                member_name: member_name(member),
                policy_code: policy.code.clone(),
                policy_name: policy.name.clone(),
                path: policy.path_label().to_owned(),
                qualifies,
                allowed,
                received: paid,
                measures,
                owed,
                excess,
                state,
            });
        }
    }
    out
}

/// Every entitlement of one household in `year`, for the household page's eligibility box.
pub fn household_due(
    store: &Store,
    household: Uuid,
    year: i32,
) -> Result<Vec<Entitlement>, PolicyError> {
    let policies = policies_in_force(store, year)?;
    let file = store.load_household_file(household)?;
    let payments = store.read::<Payment>(Filter::OfHousehold(household))?;
    Ok(household_entitlements(&file, &payments, &policies, year))
}

/// The live households of a scope, by 户编号.
pub fn households_in(store: &Store, scope: &Scope) -> Result<Vec<Uuid>, StoreError> {
    let (condition, key) = scope.condition();
    // The condition is one of the scope's fixed fragments; the key is bound.
    let sql = format!(
        "SELECT h.id FROM household h LEFT JOIN village v ON v.id = h.village_id
         WHERE h.deleted = 0 AND {condition} ORDER BY h.code, h.id"
    );
    let mut stmt = store.conn().prepare(&sql)?;
    let rows: Vec<Vec<u8>> = match key {
        Some(k) => stmt
            .query_map([k], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        None => stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
    };
    Ok(rows
        .into_iter()
        .filter_map(|b| Uuid::from_slice(&b).ok())
        .collect())
}

/// The policy picture of a village, a township or the whole file for `year`: the lines that
/// need action and the totals per policy in force.
pub fn scope_due(store: &Store, scope: &Scope, year: i32) -> Result<PolicyDue, PolicyError> {
    let unit = scope.unit_name(store)?;
    let policies = policies_in_force(store, year)?;
    let households = households_in(store, scope)?;
    let mut totals: BTreeMap<String, PolicyTotals> = BTreeMap::new();
    let mut lines = Vec::new();
    for &id in &households {
        let file = store.load_household_file(id)?;
        let payments = store.read::<Payment>(Filter::OfHousehold(id))?;
        for e in household_entitlements(&file, &payments, &policies, year) {
            let t = totals
                .entry(e.policy_code.clone())
                .or_insert_with(|| PolicyTotals {
                    policy_code: e.policy_code.clone(),
                    policy_name: e.policy_name.clone(),
                    ..PolicyTotals::default()
                });
            if e.qualifies {
                t.qualifying += 1;
            }
            match e.state {
                DueState::Due => t.due += 1,
                DueState::Short => t.short += 1,
                DueState::Over => t.over += 1,
                DueState::NotQualified => t.not_qualified += 1,
                DueState::Received => t.received_count += 1,
            }
            t.received += e.received;
            t.owed += e.owed;
            t.excess += e.excess;
            if e.state != DueState::Received {
                lines.push(e);
            }
        }
    }
    let totals = policies
        .iter()
        .filter(|p| !matches!(p.rule, Rule::Township { .. }))
        .map(|p| {
            totals.remove(&p.code).unwrap_or_else(|| PolicyTotals {
                policy_code: p.code.clone(),
                policy_name: p.name.clone(),
                ..PolicyTotals::default()
            })
        })
        .collect();
    Ok(PolicyDue {
        year,
        unit,
        households: households.len(),
        lines,
        totals,
    })
}
