//! 易地扶贫搬迁 progress: the stages a relocated household's new house reached at its 安置点
//! (开工, 基础, 主体, 竣工, 入住), each dated, with any loan taken. A stage is a row of its own
//! (`relocation`, written through `Store::write`), so stages recorded on two laptops both stay.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PolicyError;
use crate::model::{Household, Relocation, codes};
use crate::store::{Filter, Store, StoreError};

/// A stage to record.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStage {
    pub household_id: Uuid,
    /// 安置点.
    pub site: String,
    /// Code of `relocation_stage`.
    pub stage: String,
    pub stage_date: NaiveDate,
    /// 贷款金额 taken at this stage.
    pub loan: Option<f64>,
    #[serde(default)]
    pub note: String,
}

/// Records a stage of a household's relocation; its row id. The store checks the 安置点, the
/// stage, the day and the loan as the page does.
pub fn record_stage(store: &mut Store, input: &NewStage) -> Result<Uuid, PolicyError> {
    match store.get::<Household>(input.household_id) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::HouseholdNotFound {
                id: input.household_id,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let row = Relocation {
        id: Uuid::now_v7(),
        household_id: Some(input.household_id),
        site: input.site.trim().to_owned(),
        stage: input.stage.clone(),
        stage_date: Some(input.stage_date),
        loan: input.loan,
        note: input.note.clone(),
    };
    store.put(&row)?;
    Ok(row.id)
}

/// Where a household's relocation stands.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct RelocationProgress {
    /// The 安置点 of its latest stage.
    pub site: String,
    /// The furthest stage reached, as the forms say it.
    pub stage: String,
    pub stage_date: Option<NaiveDate>,
    /// Every stage recorded, in order: (stage, date).
    pub stages: Vec<(String, Option<NaiveDate>)>,
    /// 贷款金额 over all stages (元).
    pub loans: f64,
}

/// The household's relocation progress; `None` when no stage is recorded.
pub fn relocation_progress(
    store: &Store,
    household: Uuid,
) -> Result<Option<RelocationProgress>, PolicyError> {
    let mut rows = store.read::<Relocation>(Filter::OfHousehold(household))?;
    rows.sort_by(|a, b| (&a.stage, a.stage_date).cmp(&(&b.stage, b.stage_date)));
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let label = |code: &str| {
        codes::RELOCATION_STAGE
            .label(code)
            .unwrap_or(code)
            .to_owned()
    };
    Ok(Some(RelocationProgress {
        site: last.site.clone(),
        stage: label(&last.stage),
        stage_date: last.stage_date,
        stages: rows
            .iter()
            .map(|r| (label(&r.stage), r.stage_date))
            .collect(),
        loans: rows.iter().filter_map(|r| r.loan).sum(),
    }))
}
