//! The data-quality list: every household checked with the same rules as the filing form, plus
//! what only the whole data file shows (the same person filed in two households or villages,
//! a household code used twice).

use serde::Serialize;

use crate::model::Household;
use crate::store::{Filter, Store, StoreError};
use crate::validate::Severity;

#[derive(Debug, Clone, Serialize, PartialEq)]
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
    let mut items = Vec::new();
    let households = store.read::<Household>(Filter::All)?;
    for h in households {
        let file = store.load_household_file(h.id)?;
        let head = file
            .members
            .iter()
            .find(|m| m.relation == crate::model::codes::RELATION_HEAD)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        for issue in store.check_household_file(&file)? {
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
    Ok(items)
}
