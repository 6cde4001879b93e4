//! A household's measures with their payments, as the household page's 帮扶措施与发放 box shows
//! them: each measure with the policy it names (if any), its beneficiary, the amount due, what
//! was paid, and how far the payments went above the amount due (flagged, never refused: a
//! top-up the county decided is real money paid, and the ledger must show it). The same
//! excess is a 疑点 of the household page and of the data-quality list (`overpaid_findings`,
//! shared by both so the list stays what each page finds).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::PolicyError;
use super::catalogue::{PolicyDef, list_policies, policy_id};
use super::rule::Rule;
use crate::filing::{HouseholdFile, LocatedIssue};
use crate::model::{Measure, Member, Payment, Table, codes};
use crate::store::{Filter, Store};
use crate::validate::{Issue, Severity};

/// One payment of a measure.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct PaymentLine {
    pub id: Uuid,
    #[ts(type = "string | null")]
    pub pay_date: Option<NaiveDate>,
    pub amount: f64,
    /// 发放渠道 as the forms say it.
    pub channel: String,
    pub note: String,
}

/// One measure of the household with its payments.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct MeasurePayments {
    pub measure_id: Uuid,
    pub year: Option<i64>,
    /// 七个一批 path as the forms say it.
    pub path: String,
    /// The policy's code and name; empty for a free-text measure.
    pub policy_code: String,
    pub policy_name: String,
    pub description: String,
    /// The member it benefits; empty for the household.
    pub member_name: String,
    /// 应发金额 (元), else the free-text amount.
    pub amount_due: Option<f64>,
    /// 已发 (元): the sum of its payments.
    pub paid: f64,
    /// Paid above the amount due (元); 0 within it or with no amount due.
    pub over_by: f64,
    /// 落实情况 as the forms say it.
    pub status: String,
    /// A training's kind, days and certificate (`引导性培训 2天`, `技能培训 15天，证书：电工证`);
    /// empty for any other measure.
    pub training: String,
    pub payments: Vec<PaymentLine>,
}

/// A training measure as the box names it; empty for any other measure.
fn training_text(m: &Measure) -> String {
    if m.training_kind.is_empty() {
        return String::new();
    }
    let kind = codes::TRAINING_KIND
        .label(&m.training_kind)
        .unwrap_or(&m.training_kind);
    let mut text = match m.training_days {
        Some(days) => format!("{kind} {days}天"),
        None => kind.to_owned(),
    };
    if !m.certificate.is_empty() {
        text.push_str(&format!("，证书：{}", m.certificate));
    }
    text
}

/// The household's measures, latest year first, each with its payments in date order.
pub fn household_measures(
    store: &Store,
    household: Uuid,
) -> Result<Vec<MeasurePayments>, PolicyError> {
    let measures = store.read::<Measure>(Filter::OfHousehold(household))?;
    let members: HashMap<Uuid, String> = store
        .read::<Member>(Filter::OfHousehold(household))?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let mut payments: HashMap<Uuid, Vec<Payment>> = HashMap::new();
    for p in store.read::<Payment>(Filter::OfHousehold(household))? {
        if let Some(m) = p.measure_id {
            payments.entry(m).or_default().push(p);
        }
    }
    // The policies of each year a measure names, by their row id.
    let mut policies: HashMap<Uuid, (String, String)> = HashMap::new();
    let mut years: Vec<i64> = measures
        .iter()
        .filter(|m| m.policy_id.is_some())
        .filter_map(|m| m.year)
        .collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        let Ok(year) = i32::try_from(year) else {
            continue;
        };
        for p in list_policies(store, year)? {
            policies.insert(policy_id(year, &p.code), (p.code, p.name));
        }
    }
    let mut out: Vec<MeasurePayments> = measures
        .into_iter()
        .map(|m| {
            let mut lines: Vec<PaymentLine> = payments
                .remove(&m.id)
                .unwrap_or_default()
                .into_iter()
                .map(|p| PaymentLine {
                    id: p.id,
                    pay_date: p.pay_date,
                    amount: p.amount.unwrap_or(0.0),
                    channel: codes::PAYMENT_CHANNEL
                        .label(&p.channel)
                        .unwrap_or(&p.channel)
                        .to_owned(),
                    note: p.note,
                })
                .collect();
            lines.sort_by_key(|p| p.pay_date);
            let paid: f64 = lines.iter().map(|p| p.amount).sum();
            let amount_due = m.amount_due.or(m.amount);
            let over_by = amount_due.map_or(0.0, |due| (paid - due).max(0.0));
            let (policy_code, policy_name) = m
                .policy_id
                .and_then(|id| policies.get(&id).cloned())
                .unwrap_or_default();
            MeasurePayments {
                training: training_text(&m),
                measure_id: m.id,
                year: m.year,
                path: codes::MEASURE_PATH
                    .label(&m.path)
                    .unwrap_or(&m.path)
                    .to_owned(),
                policy_code,
                policy_name,
                description: m.description,
                member_name: m
                    .member_id
                    .and_then(|id| members.get(&id).cloned())
                    .unwrap_or_default(),
                amount_due,
                paid,
                over_by,
                status: codes::MEASURE_STATUS
                    .label(&m.status)
                    .unwrap_or(&m.status)
                    .to_owned(),
                payments: lines,
            }
        })
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.year));
    Ok(out)
}

/// Half a fen: amounts are compared to the fen.
const FEN: f64 = 0.005;

/// The years whose policies the measures name (for [`overpaid_findings`]'s catalogue).
pub(crate) fn policy_years(measures: &[Measure]) -> Vec<i32> {
    let mut years: Vec<i32> = measures
        .iter()
        .filter(|m| m.policy_id.is_some())
        .filter_map(|m| m.year.and_then(|y| i32::try_from(y).ok()))
        .collect();
    years.sort_unstable();
    years.dedup();
    years
}

/// 疑点 of measures paid above what they may be: the sum of a measure's payments above its
/// amount due (应发金额, else the free-text amount), or, for a measure naming a policy, above
/// the policy's amount or cap when that is lower; and, for several measures of one policy for
/// one beneficiary in one period (the year; every year for a 一次性 policy), their sum above
/// the policy's amount or cap (two 教育资助 for one student in one year, 医疗救助 past its 5 万
/// cap over several measures), naming each measure. A warning on the measure's row (saved
/// anyway: a top-up the county decided is real money paid). `policies` holds the policies
/// the measures name, by id ([`super::catalogue::policies_by_id`]).
pub(crate) fn overpaid_findings(
    file: &HouseholdFile,
    payments: &[Payment],
    policies: &HashMap<Uuid, PolicyDef>,
) -> Vec<LocatedIssue> {
    let paid_of = |m: &Measure| -> f64 {
        payments
            .iter()
            .filter(|p| p.measure_id == Some(m.id))
            .filter_map(|p| p.amount)
            .sum()
    };
    let groups = policy_groups(file, policies, &paid_of);
    // Measures whose policy's limit their group's total answers for.
    let grouped: HashSet<Uuid> = groups
        .iter()
        .filter(|g| g.measures.len() > 1)
        .flat_map(|g| g.measures.iter().map(|(m, _)| m.id))
        .collect();
    let mut out = Vec::new();
    for m in &file.measures {
        let paid = paid_of(m);
        if paid <= FEN {
            continue;
        }
        let policy = m.policy_id.and_then(|id| policies.get(&id));
        let what = measure_words(file, m, policy);
        let year = m.year.map(|y| format!("{y}年")).unwrap_or_default();
        let due = m.amount_due.or(m.amount);
        let allowed = policy
            .filter(|_| !grouped.contains(&m.id))
            .and_then(PolicyDef::allowed);
        let finding = match (due, allowed) {
            (Some(due), _) if paid > due + FEN => Some((
                "measure.overpaid",
                format!(
                    "{year}帮扶措施{what}已发放 {} 元，超出应发金额 {} 元 {} 元，请核实",
                    yuan(paid),
                    yuan(due),
                    yuan(paid - due)
                ),
            )),
            (_, Some(allowed)) if paid > allowed + FEN => Some((
                "measure.over_policy",
                format!(
                    "{year}帮扶措施{what}已发放 {} 元，超出政策标准 {} 元 {} 元，请核实",
                    yuan(paid),
                    yuan(allowed),
                    yuan(paid - allowed)
                ),
            )),
            _ => None,
        };
        if let Some((rule, message)) = finding {
            out.push(measure_finding(m.id, rule, message));
        }
    }
    for group in groups.iter().filter(|g| g.measures.len() > 1) {
        let total: f64 = group.measures.iter().map(|(_, paid)| paid).sum();
        let Some(allowed) = group.policy.allowed() else {
            continue;
        };
        if total <= allowed + FEN {
            continue;
        }
        let Some((last, _)) = group.measures.last() else {
            continue;
        };
        let period = match group.year {
            Some(year) => format!("{year}年"),
            None => "历年".to_owned(),
        };
        let what = measure_words(file, last, Some(group.policy));
        let each: Vec<String> = group
            .measures
            .iter()
            .map(|(m, paid)| {
                let year = m.year.map(|y| format!("{y}年，")).unwrap_or_default();
                format!(
                    "“{}”（{year}已发放 {} 元）",
                    m.description.trim(),
                    yuan(*paid)
                )
            })
            .collect();
        out.push(measure_finding(
            last.id,
            "measure.over_policy_total",
            format!(
                "{period}{what}有 {} 项帮扶措施，合计已发放 {} 元，超出政策标准 {} 元 {} 元：{}，请核实",
                group.measures.len(),
                yuan(total),
                yuan(allowed),
                yuan(total - allowed),
                each.join("、")
            ),
        ));
    }
    out
}

/// The measures of one policy for one beneficiary in one period that were paid anything,
/// oldest first, each with what was paid.
struct PolicyGroup<'a> {
    /// The policy of the group's latest measure (its amount or cap is the limit).
    policy: &'a PolicyDef,
    /// The year; none for a 一次性 policy (received once ever, whatever the year).
    year: Option<i64>,
    measures: Vec<(&'a Measure, f64)>,
}

/// The household's paid measures that name a policy, grouped by (beneficiary, policy code,
/// period): the member for a policy for members, the household for the others.
fn policy_groups<'a>(
    file: &'a HouseholdFile,
    policies: &'a HashMap<Uuid, PolicyDef>,
    paid_of: &dyn Fn(&Measure) -> f64,
) -> Vec<PolicyGroup<'a>> {
    let mut measures: Vec<&Measure> = file.measures.iter().collect();
    measures.sort_by_key(|m| (m.year, m.id));
    let mut groups: Vec<(GroupKey<'a>, PolicyGroup<'a>)> = Vec::new();
    for m in measures {
        let Some(policy) = m.policy_id.and_then(|id| policies.get(&id)) else {
            continue;
        };
        let paid = paid_of(m);
        if paid <= FEN {
            continue;
        }
        let beneficiary = match policy.rule {
            Rule::Member { .. } => m.member_id,
            _ => None,
        };
        let year = if policy.once { None } else { m.year };
        let key = (beneficiary, policy.code.as_str(), year);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => {
                group.policy = policy;
                group.measures.push((m, paid));
            }
            None => groups.push((
                key,
                PolicyGroup {
                    policy,
                    year,
                    measures: vec![(m, paid)],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

type GroupKey<'a> = (Option<Uuid>, &'a str, Option<i64>);

/// A measure as a finding names it: the member's policy (张三的“…”), the policy, else its
/// description.
fn measure_words(file: &HouseholdFile, m: &Measure, policy: Option<&PolicyDef>) -> String {
    let member = m
        .member_id
        .and_then(|id| file.members.iter().find(|p| p.id == id))
        .map(|p| p.name.as_str());
    match (policy, member) {
        (Some(p), Some(name)) => format!("{name}的“{}”", p.name),
        (Some(p), None) => format!("“{}”", p.name),
        (None, _) => format!("“{}”", m.description.trim()),
    }
}

fn measure_finding(measure: Uuid, rule: &'static str, message: String) -> LocatedIssue {
    LocatedIssue {
        table: Table::Measure,
        row_id: Some(measure),
        issue: Issue {
            field: "amount_due",
            severity: Severity::Warning,
            rule,
            message,
            suggestion: None,
        },
    }
}

/// An amount as the forms write it: whole yuan without decimals, otherwise two.
fn yuan(v: f64) -> String {
    if (v - v.round()).abs() < FEN {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
