//! Checks across one household's records saved together: 户主, duplicate IDs, county 疑点.
//!
//! Per-record checks are not repeated here: the caller runs [`super::check_household`],
//! [`super::check_member`] and [`super::check_income`] on each record and this on the whole,
//! so every finding appears once.

use std::collections::BTreeMap;

use crate::model::codes::RELATION_HEAD;
use crate::model::{Household, Income, Member};

use super::resident_id::person_key;
use super::{Issue, label};

/// 与村主干路距离 above this needs a 备注: the county reads longer distances as typing slips
/// (metres typed as kilometres) unless the team explains them.
const MAX_ROAD_DISTANCE_KM: f64 = 5.0;
/// 工资性收入 the county accepts without a second look, in 元 per year.
const WAGE_MIN: f64 = 300.0;
const WAGE_MAX: f64 = 300_000.0;
/// 低保贫困户 in [`crate::model::codes::HOUSEHOLD_ATTRIBUTE`].
const ATTRIBUTE_DIBAO: &str = "2";
/// Areas are typed with a decimal or two; this absorbs float rounding of a sum of areas.
const AREA_EPSILON: f64 = 1e-9;

/// Checks a household, its live members and its yearly incomes as one filed household.
pub fn check_household_file(h: &Household, members: &[Member], incomes: &[Income]) -> Vec<Issue> {
    let mut issues = Vec::new();
    head(&mut issues, members);
    duplicate_ids(&mut issues, members);
    duplicate_years(&mut issues, incomes);
    household_suspects(&mut issues, h);
    for income in incomes {
        income_suspects(&mut issues, h, income);
    }
    issues
}

fn head(issues: &mut Vec<Issue>, members: &[Member]) {
    let heads: Vec<&Member> = members
        .iter()
        .filter(|m| m.relation == RELATION_HEAD)
        .collect();
    let relation = label::<Member>("relation");
    match heads.len() {
        1 => {}
        0 => issues.push(Issue::error(
            "relation",
            "household.head_missing",
            format!("没有{relation}为“户主”的家庭成员：每户必须有且只有一名户主"),
        )),
        n => issues.push(Issue::error(
            "relation",
            "household.head_multiple",
            format!(
                "有{n}名户主（{}）：每户只能有一名户主",
                names(heads.iter().copied())
            ),
        )),
    }
}

fn duplicate_ids(issues: &mut Vec<Issue>, members: &[Member]) {
    let mut by_person: BTreeMap<String, Vec<&Member>> = BTreeMap::new();
    for m in members.iter().filter(|m| !m.id_number.trim().is_empty()) {
        by_person
            .entry(person_key(&m.id_number))
            .or_default()
            .push(m);
    }
    for (key, same) in by_person.into_iter().filter(|(_, same)| same.len() > 1) {
        issues.push(Issue::error(
            "id_number",
            "household.duplicate_id",
            format!(
                "{} {key} 在本户出现{}次（{}）",
                label::<Member>("id_number"),
                same.len(),
                names(same.into_iter())
            ),
        ));
    }
}

/// One income row per household and year: two rows of one year would double the year's income.
fn duplicate_years(issues: &mut Vec<Issue>, incomes: &[Income]) {
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for year in incomes.iter().filter_map(|i| i.year) {
        *count.entry(year).or_default() += 1;
    }
    for (year, n) in count.into_iter().filter(|(_, n)| *n > 1) {
        issues.push(Issue::error(
            "year",
            "household.income_duplicate_year",
            format!("{year}年的收入登记了{n}次，每年只能有一条"),
        ));
    }
}

fn household_suspects(issues: &mut Vec<Issue>, h: &Household) {
    let far = h.road_distance_km.filter(|km| *km > MAX_ROAD_DISTANCE_KM);
    if let (Some(km), true) = (far, h.remark.trim().is_empty()) {
        issues.push(Issue::warning(
            "road_distance_km",
            "suspect.road_distance",
            format!(
                "{} {km} 超过{MAX_ROAD_DISTANCE_KM}公里，请核实并在{}中说明",
                label::<Household>("road_distance_km"),
                label::<Household>("remark")
            ),
        ));
    }
    let returned = h.returned_farmland_area.unwrap_or(0.0);
    let forest = h.forest_area.unwrap_or(0.0);
    let pasture = h.pasture_area.unwrap_or(0.0);
    if returned > forest + pasture + AREA_EPSILON {
        issues.push(Issue::warning(
            "returned_farmland_area",
            "suspect.returned_farmland_exceeds_land",
            format!(
                "{} {returned} 大于{} {forest} 与{} {pasture} 之和",
                label::<Household>("returned_farmland_area"),
                label::<Household>("forest_area"),
                label::<Household>("pasture_area")
            ),
        ));
    }
}

/// An amount counts as entered when it is above zero: the forms fill 0 for "none".
fn entered(v: Option<f64>) -> bool {
    v.is_some_and(|v| v > 0.0)
}

fn income_suspects(issues: &mut Vec<Issue>, h: &Household, i: &Income) {
    let year = i.year.map_or_else(String::new, |y| format!("{y}年"));
    let odd_wage = i
        .wage
        .filter(|w| *w != 0.0 && !(WAGE_MIN..=WAGE_MAX).contains(w));
    if let Some(wage) = odd_wage {
        issues.push(Issue::warning(
            "wage",
            "suspect.wage_range",
            format!(
                "{year}{} {wage} 元不在{WAGE_MIN}至{WAGE_MAX}元之间，请核实",
                label::<Income>("wage")
            ),
        ));
    }
    if entered(i.business) && !entered(i.business_expense) {
        issues.push(Issue::warning(
            "business_expense",
            "suspect.business_without_expense",
            format!(
                "{year}有{}却没有{}，请核实",
                label::<Income>("business"),
                label::<Income>("business_expense")
            ),
        ));
    }
    if entered(i.eco_compensation) && !entered(h.returned_farmland_area) {
        issues.push(Issue::warning(
            "eco_compensation",
            "suspect.eco_without_returned_farmland",
            format!(
                "{year}有{}却没有{}，请核实",
                label::<Income>("eco_compensation"),
                label::<Household>("returned_farmland_area")
            ),
        ));
    }
    if entered(i.dibao_allowance) && h.attribute != ATTRIBUTE_DIBAO {
        issues.push(Issue::warning(
            "dibao_allowance",
            "suspect.dibao_not_dibao_household",
            format!(
                "{year}有{}，但{}不是“低保贫困户”",
                label::<Income>("dibao_allowance"),
                label::<Household>("attribute")
            ),
        ));
    }
}

fn names<'a>(members: impl Iterator<Item = &'a Member>) -> String {
    members
        .map(|m| {
            if m.name.is_empty() {
                "未填姓名"
            } else {
                m.name.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join("、")
}
