//! Structured measures: a 帮扶措施 that names its policy, the member or household it benefits
//! and the amount due, and its payments (发放记录: date, amount, channel). Both are written
//! through `Store::write` (the household page's checks, the op log), so they sync like any
//! record. Free-text measures stay as they are; `match_free_text_measures` names the policy of
//! those that clearly fit one (path, the words of the description and the amount agree).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PolicyError;
use super::catalogue::{PolicyDef, policy_id, policy_of};
use super::rule::Rule;
use crate::access::Permission;
use crate::model::{FieldValue, Measure, Member, Payment, Table};
use crate::store::{Change, Filter, Store, StoreError};

/// A measure to record under a policy.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeasure {
    pub household_id: Uuid,
    /// The member it benefits; required by a policy for members; for a household's, the member
    /// who took part (a training's attendee), if any.
    pub member_id: Option<Uuid>,
    pub year: i32,
    pub policy_code: String,
    /// 应发金额; none: the policy's amount.
    pub amount_due: Option<f64>,
    /// 落实情况 (code of `measure_status`); empty: 实施中.
    #[serde(default)]
    pub status: String,
}

/// Records a structured measure; its row id. The path, description and amount due come from
/// the policy unless given.
pub fn record_policy_measure(
    store: &mut Store,
    input: &PolicyMeasure,
) -> Result<Uuid, PolicyError> {
    store.require(Permission::FileHouseholds)?;
    let policy = policy_of(store, input.year, &input.policy_code)?;
    if !policy.in_force {
        return Err(PolicyError::NotInForce {
            year: input.year,
            code: policy.code,
        });
    }
    let member = match (&policy.rule, input.member_id) {
        (Rule::Township { .. }, _) => {
            return Err(PolicyError::TownshipFund { code: policy.code });
        }
        (Rule::Member { .. }, None) => {
            return Err(PolicyError::MemberRequired { code: policy.code });
        }
        // A household's policy may still name the member who took part (who attended a
        // training, whose 户均1人 it is); it is owed to the household all the same.
        (Rule::Member { .. } | Rule::Household { .. }, Some(id)) => {
            Some(member_of(store, input.household_id, id)?)
        }
        (Rule::Household { .. }, None) => None,
    };
    let description = match &member {
        Some(m) => format!("{}：{}", m.name, policy.name),
        None => policy.name.clone(),
    };
    let measure = Measure {
        id: Uuid::now_v7(),
        household_id: Some(input.household_id),
        year: Some(i64::from(input.year)),
        path: policy.path.clone(),
        description,
        target: String::new(),
        amount: None,
        funding_source: String::new(),
        status: if input.status.is_empty() {
            "2".into()
        } else {
            input.status.clone()
        },
        policy_id: Some(policy_id(input.year, &policy.code)),
        member_id: member.map(|m| m.id),
        amount_due: input.amount_due.or(policy.amount),
        ..Measure::default()
    };
    store.put(&measure)?;
    Ok(measure.id)
}

fn member_of(store: &Store, household: Uuid, member: Uuid) -> Result<Member, PolicyError> {
    match store.get::<Member>(member) {
        Ok(m) if m.household_id == Some(household) => Ok(m),
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            Err(PolicyError::MemberNotInHousehold { member, household })
        }
        Err(e) => Err(e.into()),
    }
}

/// A payment to record against a measure.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPayment {
    pub measure_id: Uuid,
    pub pay_date: NaiveDate,
    pub amount: f64,
    /// 发放渠道 (code of `payment_channel`).
    pub channel: String,
    #[serde(default)]
    pub note: String,
}

/// Records a payment of a measure (its household taken from the measure); its row id. The
/// store checks the date, the amount and the channel as the page does.
pub fn record_payment(store: &mut Store, input: &NewPayment) -> Result<Uuid, PolicyError> {
    store.require(Permission::FileHouseholds)?;
    let measure = match store.get::<Measure>(input.measure_id) {
        Ok(m) => m,
        Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::MeasureNotFound {
                id: input.measure_id,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let payment = Payment {
        id: Uuid::now_v7(),
        household_id: measure.household_id,
        measure_id: Some(measure.id),
        pay_date: Some(input.pay_date),
        amount: Some(input.amount),
        channel: input.channel.clone(),
        note: input.note.clone(),
    };
    store.put(&payment)?;
    Ok(payment.id)
}

/// A free-text measure that clearly fits a policy.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct MeasureMatch {
    pub measure_id: Uuid,
    pub household_id: Uuid,
    pub year: i32,
    pub policy_code: String,
    pub policy_name: String,
    /// The member named at the start of the description, for a policy for members.
    pub member_id: Option<Uuid>,
    pub description: String,
}

/// What makes a free-text measure clearly one policy's: its path, a phrase of the description
/// and, where the report fixes one, its amount.
struct Fit {
    path: &'static str,
    phrase: &'static str,
    amount: Option<f64>,
    code: &'static str,
}

const FITS: &[Fit] = &[
    Fit {
        path: "01",
        phrase: "2355",
        amount: Some(6000.0),
        code: "industry_2355",
    },
    Fit {
        path: "02",
        phrase: "搬迁",
        amount: Some(60000.0),
        code: "relocation_house",
    },
    Fit {
        path: "04",
        phrase: "普通高中",
        amount: Some(3000.0),
        code: "edu_high_school",
    },
    Fit {
        path: "04",
        phrase: "中职",
        amount: Some(2000.0),
        code: "edu_vocational",
    },
    Fit {
        path: "04",
        phrase: "大专院校",
        amount: Some(8000.0),
        code: "edu_college",
    },
    Fit {
        path: "04",
        phrase: "残疾学生",
        amount: Some(500.0),
        code: "disabled_high_school",
    },
    Fit {
        path: "06",
        phrase: "医疗救助",
        amount: None,
        code: "medical_aid",
    },
];

/// The free-text measures of the given households that clearly fit a policy of their year
/// (see [`FITS`]); for a policy for members, only when the description starts with the name
/// of exactly one member of the household. With `apply`, each is written as a structured
/// measure (policy, member, amount due = its amount), all in one write.
pub fn match_free_text_measures(
    store: &mut Store,
    households: &[Uuid],
    apply: bool,
) -> Result<Vec<MeasureMatch>, PolicyError> {
    if apply {
        store.require(Permission::FileHouseholds)?;
    }
    let mut found = Vec::new();
    let mut changes = Vec::new();
    for &household in households {
        let members = store.read::<Member>(Filter::OfHousehold(household))?;
        for m in store.read::<Measure>(Filter::OfHousehold(household))? {
            if m.policy_id.is_some() {
                continue;
            }
            let Some(year) = m.year.and_then(|y| i32::try_from(y).ok()) else {
                continue;
            };
            let Some(fit) = FITS.iter().find(|f| {
                f.path == m.path
                    && m.description.contains(f.phrase)
                    && f.amount.is_none_or(|a| m.amount == Some(a))
            }) else {
                continue;
            };
            let policy: PolicyDef = match policy_of(store, year, fit.code) {
                Ok(p) if p.in_force => p,
                Ok(_) | Err(PolicyError::UnknownPolicy { .. }) => continue,
                Err(e) => return Err(e),
            };
            let member_id = match policy.rule {
                Rule::Member { .. } => {
                    let named: Vec<&Member> = members
                        .iter()
                        .filter(|p| !p.name.is_empty() && m.description.starts_with(&p.name))
                        .collect();
                    match named.as_slice() {
                        [one] => Some(one.id),
                        _ => continue,
                    }
                }
                _ => None,
            };
            let amount_due = policy.amount.or(m.amount);
            let mut fields = vec![(
                "policy_id",
                FieldValue::Bytes(policy_id(year, &policy.code).as_bytes().to_vec()),
            )];
            if let Some(id) = member_id {
                fields.push(("member_id", FieldValue::Bytes(id.as_bytes().to_vec())));
            }
            if let Some(amount) = amount_due {
                fields.push(("amount_due", FieldValue::Real(amount)));
            }
            changes.push(Change::Put {
                table: Table::Measure,
                id: m.id,
                fields,
            });
            found.push(MeasureMatch {
                measure_id: m.id,
                household_id: household,
                year,
                policy_code: policy.code.clone(),
                policy_name: policy.name.clone(),
                member_id,
                description: m.description.clone(),
            });
        }
    }
    if apply && !changes.is_empty() {
        store.write(&changes)?;
    }
    Ok(found)
}
