//! What the household page shows beside what was typed, computed from the unsaved page: every
//! finding with the record it is about, what each 证件号码 says (birth, age, sex), each year's
//! income lines against that year's poverty line, and the 一超 两不愁 三保障 evaluation.
//!
//! Nothing here writes: the page calls it on every pause in typing.

use serde::Serialize;
use uuid::Uuid;

use crate::UserFacing;
use crate::exit::evaluate::{EvaluationInput, HouseholdEvaluation, evaluation_of};
use crate::exit::{procedure, standards};
use crate::filing::{HouseholdFile, LocatedIssue};
use crate::model::derived::{IncomeSummary, family_size, family_size_in_year, income_summary};
use crate::model::{Village, codes};
use crate::store::{Filter, Store, StoreError};
use crate::validate::resident_id;

/// What a member's valid 证件号码 says; empty fields for an empty or invalid number.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct MemberFacts {
    pub row_id: Uuid,
    pub birth: Option<String>,
    /// 周岁 today.
    pub age: Option<u32>,
    /// A code of the 性别 list.
    pub sex: Option<&'static str>,
    pub sex_label: Option<&'static str>,
}

/// One year's income lines, and the year's line (贫困线) where a standard exists.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct IncomeFacts {
    pub row_id: Uuid,
    pub year: Option<i64>,
    pub family_size: usize,
    pub summary: IncomeSummary,
    pub income_line: Option<f64>,
    /// 人均纯收入 above the line; `None` without a line or without members.
    pub above_line: Option<bool>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct PageReview {
    pub issues: Vec<LocatedIssue>,
    pub members: Vec<MemberFacts>,
    pub incomes: Vec<IncomeFacts>,
    /// The evaluation for the asked year, if that year has a standard.
    pub evaluation: Option<HouseholdEvaluation>,
    /// Why there is no evaluation, in Chinese.
    pub evaluation_note: Option<String>,
}

/// Reviews the page as typed, for `year`'s standard.
pub fn review_household_page(
    store: &Store,
    file: &HouseholdFile,
    year: i32,
) -> Result<PageReview, StoreError> {
    let today = store.today();
    let members = file
        .members
        .iter()
        .map(|m| {
            let id = resident_id::parse(&m.id_number, today).ok();
            MemberFacts {
                row_id: m.id,
                birth: id
                    .as_ref()
                    .map(|id| id.birth.format("%Y-%m-%d").to_string()),
                age: id.as_ref().map(|id| resident_id::age_on(id.birth, today)),
                sex: id.as_ref().map(|id| id.sex_code),
                sex_label: id.as_ref().and_then(|id| codes::SEX.label(id.sex_code)),
            }
        })
        .collect();
    let province = match file.household.village_id {
        Some(village) => store
            .read::<Village>(Filter::Id(village))?
            .into_iter()
            .next()
            .map(|v| v.province)
            .unwrap_or_default(),
        None => String::new(),
    };
    let incomes = file
        .incomes
        .iter()
        .map(|income| {
            let year = income.year.and_then(|y| i32::try_from(y).ok());
            // Each year's income is shared by that year's members (`derived::present_in_year`).
            let size = year.map_or_else(
                || family_size(&file.members),
                |y| family_size_in_year(&file.members, y),
            );
            let line = year
                .and_then(|y| standards::standard_for(store, y, &province).ok())
                .map(|s| s.income_line);
            let summary = income_summary(income, size);
            IncomeFacts {
                row_id: income.id,
                year: income.year,
                family_size: size,
                summary,
                income_line: line,
                above_line: line.zip(summary.per_capita).map(|(l, p)| p > l),
            }
        })
        .collect();
    let (evaluation, evaluation_note) = match standards::standard_for(store, year, &province) {
        Ok(standard) => {
            // A household not yet saved has no procedure records; nor does a read failure of
            // them hide the rest of the page.
            let survey = procedure::current_survey(store, file.household.id)
                .ok()
                .flatten();
            let input = EvaluationInput {
                household: file.household.clone(),
                members: file.members.clone(),
                incomes: file
                    .incomes
                    .iter()
                    .filter(|i| i.year == Some(i64::from(year)))
                    .cloned()
                    .collect(),
                survey,
            };
            (Some(evaluation_of(&input, year, standard)), None)
        }
        Err(e) => (None, Some(e.message_zh())),
    };
    let mut issues = store.check_household_file_located(file)?;
    if !store.page_shows_full_ids()? {
        // The page shows 证件号码 and 银行卡号 masked to this reader: what the checks say of
        // the stars is not the data's (its own findings are on the 疑点 list, masked).
        issues.retain(|i| !crate::access::is_masked_field(i.issue.field));
    }
    Ok(PageReview {
        issues,
        members,
        incomes,
        evaluation,
        evaluation_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Household, Income, Member, Table};
    use crate::store::OpenOptions;

    fn store(dir: &tempfile::TempDir) -> Store {
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("r")),
            // 2025-06-15 in Beijing.
            fixed_clock_ms: Some(1_750_000_000_000),
            ..Default::default()
        };
        Store::open(dir.path().join("a.sqlite"), &options).unwrap()
    }

    fn page() -> HouseholdFile {
        let household = Household {
            id: Uuid::now_v7(),
            code: "530826103201001".into(),
            identify_standard: "1".into(),
            attribute: "1".into(),
            poverty_status: "1".into(),
            main_cause: "01".into(),
            ..Default::default()
        };
        let member = |name: &str, relation: &str, id: &str, sex: &str| Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: name.into(),
            relation: relation.into(),
            id_number: id.into(),
            sex: sex.into(),
            ..Default::default()
        };
        HouseholdFile {
            members: vec![
                // 11010519491231002X: the standard's own example, a woman born 1949-12-31.
                member("王秀英", "01", "11010519491231002X", "2"),
                member("王小明", "03", "110105194912310021", "1"),
            ],
            incomes: vec![Income {
                id: Uuid::now_v7(),
                household_id: Some(household.id),
                year: Some(2016),
                wage: Some(5000.0),
                business_expense: Some(0.0),
                ..Default::default()
            }],
            household,
            ..Default::default()
        }
    }

    #[test]
    fn the_page_review_derives_locates_and_evaluates() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        let file = page();
        let review = review_household_page(&s, &file, 2016).unwrap();

        let head = &review.members[0];
        assert_eq!(head.birth.as_deref(), Some("1949-12-31"));
        assert_eq!(head.age, Some(75));
        assert_eq!((head.sex, head.sex_label), (Some("2"), Some("女")));
        assert_eq!(
            review.members[1].age, None,
            "a bad checksum derives nothing"
        );

        let checksum: Vec<_> = review
            .issues
            .iter()
            .filter(|i| i.issue.rule == "resident_id.checksum")
            .collect();
        assert_eq!(checksum.len(), 1);
        assert_eq!(checksum[0].table, Table::Member);
        assert_eq!(checksum[0].row_id, Some(file.members[1].id));
        assert!(checksum[0].issue.message.contains("校验位"));

        let income = &review.incomes[0];
        assert_eq!(income.summary.per_capita, Some(2500.0));
        // No village, so no province: the national line of 2016 at current prices.
        assert_eq!(income.income_line, Some(2952.0));
        assert_eq!(income.above_line, Some(false));

        let evaluation = review.evaluation.unwrap();
        let income_check = evaluation
            .checks
            .iter()
            .find(|c| c.code == "income")
            .unwrap();
        assert!(!income_check.reason.is_empty());
        assert!(!evaluation.meets);
    }

    #[test]
    fn a_year_without_a_standard_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        let review = review_household_page(&s, &page(), 1999).unwrap();
        assert!(review.evaluation.is_none());
        assert!(review.evaluation_note.unwrap().contains("1999"));
    }
}
