//! What the printed 《贫困户脱贫销号双认定表》 needs, as data: the `cards` module prints it.
//! A household that refused to sign gets the 《贫困户帮扶情况认定表》 from the same data.

use serde::Serialize;
use uuid::Uuid;

use super::evaluate::{CheckResult, evaluate_household};
use super::{ExitError, procedure};
use crate::model::derived::{family_size_in_year, income_summary, present_in_year};
use crate::model::{Helper, Household, Income, Measure, Member, Pairing, Village, codes};
use crate::store::{Filter, Store};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetPerson {
    pub name: String,
    pub relation: String,
    pub id_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetHelper {
    pub name: String,
    pub unit: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetMeasure {
    pub path: String,
    pub description: String,
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoubleConfirmationSheet {
    /// 《贫困户脱贫销号双认定表》, or 《贫困户帮扶情况认定表》 when the household refused to sign.
    pub title: &'static str,
    pub household_refused: bool,
    pub year: i32,
    pub household_id: Uuid,
    pub household_code: String,
    pub province: String,
    pub county: String,
    pub township: String,
    pub village: String,
    pub group_name: String,
    pub address: String,
    pub attribute: String,
    pub main_cause: String,
    pub head_name: String,
    pub members: Vec<SheetPerson>,
    pub family_size: usize,
    pub income_net: Option<f64>,
    pub income_per_capita: Option<f64>,
    pub income_line: f64,
    /// Each check of the standard with its verdict and reason.
    pub checks: Vec<CheckResult>,
    pub meets_standard: bool,
    pub helpers: Vec<SheetHelper>,
    pub measures: Vec<SheetMeasure>,
    /// The 入户调查 as recorded (empty when not yet done).
    pub survey_date: Option<chrono::NaiveDate>,
    pub survey_people: String,
    pub survey_signatures: String,
    pub survey_notes: String,
}

/// Gathers the 双认定表 of a household for a year.
pub fn double_confirmation_sheet(
    store: &Store,
    household_id: Uuid,
    year: i32,
) -> Result<DoubleConfirmationSheet, ExitError> {
    let household: Household = store.get(household_id)?;
    let village = match household.village_id {
        Some(id) => store.read::<Village>(Filter::Id(id))?.into_iter().next(),
        None => None,
    }
    .unwrap_or_default();
    let evaluation = evaluate_household(store, household_id, year)?;
    // The year's people: the sheet lists and counts those who lived on the year's income.
    let members: Vec<Member> = store.read(Filter::OfHousehold(household_id))?;
    let size = family_size_in_year(&members, year);
    let income = store
        .read::<Income>(Filter::OfHousehold(household_id))?
        .into_iter()
        .find(|i| i.year == Some(i64::from(year)))
        .map(|i| income_summary(&i, size));
    let mut helpers = Vec::new();
    for pairing in store.read::<Pairing>(Filter::OfHousehold(household_id))? {
        if pairing.end_date.is_some() {
            continue;
        }
        if let Some(helper) = pairing
            .helper_id
            .and_then(|id| store.read::<Helper>(Filter::Id(id)).ok())
            .and_then(|h| h.into_iter().next())
        {
            helpers.push(SheetHelper {
                name: helper.name,
                unit: helper.unit,
                phone: helper.phone,
            });
        }
    }
    let measures = store
        .read::<Measure>(Filter::OfHousehold(household_id))?
        .into_iter()
        .filter(|m| m.year == Some(i64::from(year)))
        .map(|m| SheetMeasure {
            path: codes::MEASURE_PATH.label(&m.path).unwrap_or("").into(),
            description: m.description,
            amount: m.amount,
        })
        .collect();
    let survey = procedure::current_survey(store, household_id)?;
    let refused = survey
        .as_ref()
        .is_some_and(|s| s.household_signed == Some(false));
    let label = |list: &codes::CodeList, code: &str| list.label(code).unwrap_or("").to_owned();
    Ok(DoubleConfirmationSheet {
        title: if refused {
            "贫困户帮扶情况认定表"
        } else {
            "贫困户脱贫销号双认定表"
        },
        household_refused: refused,
        year,
        household_id,
        household_code: household.code.clone(),
        province: village.province,
        county: village.county,
        township: village.township,
        village: village.name,
        group_name: household.group_name.clone(),
        address: household.address.clone(),
        attribute: label(&codes::HOUSEHOLD_ATTRIBUTE, &household.attribute),
        main_cause: label(&codes::POVERTY_CAUSE, &household.main_cause),
        head_name: evaluation.head_name.clone(),
        members: members
            .iter()
            .filter(|m| present_in_year(m, year))
            .map(|m| SheetPerson {
                name: m.name.clone(),
                relation: label(&codes::RELATION, &m.relation),
                id_number: m.id_number.clone(),
            })
            .collect(),
        family_size: size,
        income_net: income.map(|i| i.net),
        income_per_capita: income.and_then(|i| i.per_capita),
        income_line: evaluation.standard.income_line,
        meets_standard: evaluation.meets,
        checks: evaluation.checks,
        helpers,
        measures,
        survey_date: survey.as_ref().and_then(|s| s.step_date),
        survey_people: survey
            .as_ref()
            .map(|s| s.people.clone())
            .unwrap_or_default(),
        survey_signatures: survey
            .as_ref()
            .map(|s| s.signatures.clone())
            .unwrap_or_default(),
        survey_notes: survey.map(|s| s.notes).unwrap_or_default(),
    })
}
