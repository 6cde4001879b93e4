//! 培训 (issue 17): a member's training as a 转移就业 measure naming its attendee, with its kind
//! (引导性培训 / 技能培训), its days and the certificate obtained. A 引导性培训 carries out the
//! county's `training_guided` policy of its year when that policy is in force, so the household's
//! 户均 1 人 entitlement counts it; a 技能培训 is a measure of the same path. Written through
//! `Store::write` (the household page's checks), so it syncs and conflicts like any measure;
//! the coverage per village and township is in `report::stats` and the 培训台帐 lists each one.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PolicyError;
use super::catalogue::{policies_in_force, policy_id};
use crate::access::Permission;
use crate::model::{Measure, Member, codes};
use crate::store::{Store, StoreError};

/// The policy a 引导性培训 carries out.
const GUIDED_POLICY: &str = "training_guided";

/// A training to record.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTraining {
    pub household_id: Uuid,
    /// Who attended.
    pub member_id: Uuid,
    pub year: i32,
    /// 培训类别 code or label: 引导性培训, 技能培训.
    pub kind: String,
    pub days: i64,
    /// The certificate obtained (a 技能培训's 职业技能证书), if any.
    #[serde(default)]
    pub certificate: String,
}

/// Records a training; the measure's id.
pub fn record_training(store: &mut Store, input: &NewTraining) -> Result<Uuid, PolicyError> {
    store.require(Permission::FileHouseholds)?;
    let kind = codes::TRAINING_KIND
        .code_of(&input.kind)
        .ok_or_else(|| PolicyError::UnknownTrainingKind(input.kind.trim().to_owned()))?;
    let member = match store.get::<Member>(input.member_id) {
        Ok(m) if m.household_id == Some(input.household_id) => m,
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::MemberNotInHousehold {
                member: input.member_id,
                household: input.household_id,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let policy = if kind == "1" {
        policies_in_force(store, input.year)?
            .into_iter()
            .find(|p| p.code == GUIDED_POLICY)
            .map(|p| policy_id(input.year, &p.code))
    } else {
        None
    };
    let label = codes::TRAINING_KIND.label(kind).unwrap_or(kind);
    let measure = Measure {
        id: Uuid::now_v7(),
        household_id: Some(input.household_id),
        year: Some(i64::from(input.year)),
        path: "03".into(),
        description: format!("{}：{label}{}天", member.name, input.days),
        status: "3".into(),
        policy_id: policy,
        member_id: Some(member.id),
        training_kind: kind.to_owned(),
        training_days: Some(input.days),
        certificate: input.certificate.trim().to_owned(),
        ..Measure::default()
    };
    store.put(&measure)?;
    Ok(measure.id)
}
