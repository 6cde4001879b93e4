//! Checks of one village, one household and one 脱贫标准 record on their own: codes, areas,
//! housing, phone, the standard's figures.

use chrono::NaiveDate;

use crate::county_settings::CountySettings;
use crate::model::{Household, Standard, Village};

use super::{Checker, Issue, codes, label};

/// The 12 digits of a 统计用区划代码 of a village: 省2 市2 县2 乡3 村3.
const VILLAGE_CODE_LEN: usize = 12;
/// A household code is its village's code plus a three-digit sequence.
const HOUSEHOLD_CODE_LEN: usize = VILLAGE_CODE_LEN + 3;
/// Most 其他致贫原因 the form has room for.
const MAX_OTHER_CAUSES: usize = 2;

/// A village's record as of `today`: its code and name, and its 村情 (see `village::village_sheet`).
pub fn check_village(v: &Village, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<Village>::new();
    c.required_text("name", &v.name);
    if v.code.is_empty() {
        c.required_text("code", &v.code);
    } else if let Some(problem) = village_code_problem(&v.code) {
        let text = format!("{} {} {}", label::<Village>("code"), v.code, problem.text());
        c.error("code", problem.rule(false), text);
    }
    super::village::village_sheet(&mut c, v, today);
    c.finish()
}

/// A household's record as of `today` (its 建档日期 is not in the future), judged by the
/// county's settings (a 建档日期 before its first year of 建档立卡 is questioned).
pub fn check_household(h: &Household, today: NaiveDate, county: &CountySettings) -> Vec<Issue> {
    let mut c = Checker::<Household>::new();
    household_code(&mut c, &h.code);

    c.codes(h);
    c.required_text("main_cause", &h.main_cause);
    other_causes(&mut c, h);

    for (field, value) in [
        ("arable_area", h.arable_area),
        ("forest_area", h.forest_area),
        ("returned_farmland_area", h.returned_farmland_area),
        ("fruit_area", h.fruit_area),
        ("pasture_area", h.pasture_area),
        ("water_area", h.water_area),
        ("road_distance_km", h.road_distance_km),
        ("house_area", h.house_area),
    ] {
        c.not_negative(field, value);
    }

    danger_level(&mut c, h);
    c.phone("phone", &h.phone);
    c.year("plan_exit_year", h.plan_exit_year);
    filing_date(&mut c, h.filing_date, today, county.first_filing_year.year);
    if let Some(ch) = h.bank_account.chars().find(|ch| !ch.is_ascii_digit()) {
        let shown = if ch.is_whitespace() {
            "空格".to_owned()
        } else {
            format!("“{ch}”")
        };
        c.error(
            "bank_account",
            "bank_account.non_digit",
            format!(
                "{} {} 只能由数字组成，其中有{shown}",
                label::<Household>("bank_account"),
                h.bank_account
            ),
        );
    }
    c.finish()
}

/// 建档日期: not after today (a household is filed once identified), and before the county's
/// first year of 建档立卡 (2014 unless the county set another) only as a question, not a
/// refusal, since a county that filed earlier (a pilot) keeps its own date.
fn filing_date(
    c: &mut Checker<Household>,
    date: Option<NaiveDate>,
    today: NaiveDate,
    first_year: i32,
) {
    let Some(day) = date else { return };
    let name = label::<Household>("filing_date");
    if day > today {
        c.error(
            "filing_date",
            "filing_date.future",
            format!("{name} {day} 晚于今天：建档日期填识别建档那一天"),
        );
    } else if chrono::Datelike::year(&day) < first_year {
        c.warning(
            "filing_date",
            "filing_date.before_first_year",
            format!(
                "{name} {day} 早于{first_year}年建档立卡，请核对；县里另有规定（试点早建档）的可保留"
            ),
        );
    }
}

/// What is wrong with a village or household code, shared so both say it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeProblem {
    Length {
        expected: usize,
        actual: usize,
    },
    NonDigit,
    /// `000` in the village part is the township's own code, not a village's.
    NotVillage,
    /// Household sequence `000`: sequences start at 001.
    SequenceZero,
}

impl CodeProblem {
    fn rule(self, of_household: bool) -> &'static str {
        match (self, of_household) {
            (CodeProblem::Length { .. }, false) => "village_code.length",
            (CodeProblem::NonDigit, false) => "village_code.non_digit",
            (CodeProblem::NotVillage, false) => "village_code.not_village",
            (CodeProblem::Length { .. }, true) => "household_code.length",
            (CodeProblem::NonDigit, true) => "household_code.non_digit",
            (CodeProblem::NotVillage, true) => "household_code.not_village",
            (CodeProblem::SequenceZero, _) => "household_code.sequence_zero",
        }
    }

    fn text(self) -> String {
        match self {
            CodeProblem::Length { expected, actual } => {
                format!("应为{expected}位数字，实际为{actual}位")
            }
            CodeProblem::NonDigit => "只能由数字组成".to_owned(),
            CodeProblem::NotVillage => "第10-12位为000，是乡镇的代码而不是村的代码".to_owned(),
            CodeProblem::SequenceZero => "最后3位户序号不能为000".to_owned(),
        }
    }
}

fn village_code_problem(code: &str) -> Option<CodeProblem> {
    digits_problem(code, VILLAGE_CODE_LEN)
        .or_else(|| (code.get(9..12) == Some("000")).then_some(CodeProblem::NotVillage))
}

fn digits_problem(code: &str, expected: usize) -> Option<CodeProblem> {
    let actual = code.chars().count();
    if actual != expected {
        Some(CodeProblem::Length { expected, actual })
    } else if !code.bytes().all(|b| b.is_ascii_digit()) {
        Some(CodeProblem::NonDigit)
    } else {
        None
    }
}

fn household_code(c: &mut Checker<Household>, code: &str) {
    if code.is_empty() {
        c.required_text("code", code);
        return;
    }
    let problem = digits_problem(code, HOUSEHOLD_CODE_LEN)
        .or_else(|| village_code_problem(&code[..VILLAGE_CODE_LEN]))
        .or_else(|| (code.get(12..) == Some("000")).then_some(CodeProblem::SequenceZero));
    if let Some(problem) = problem {
        c.error(
            "code",
            problem.rule(true),
            format!("{} {code} {}", label::<Household>("code"), problem.text()),
        );
    }
}

fn other_causes(c: &mut Checker<Household>, h: &Household) {
    let causes: Vec<&str> = codes::split(&h.other_causes).collect();
    if causes.len() > MAX_OTHER_CAUSES {
        c.error(
            "other_causes",
            "other_causes.too_many",
            format!(
                "{}最多选{MAX_OTHER_CAUSES}项，现选了{}项",
                label::<Household>("other_causes"),
                causes.len()
            ),
        );
    }
    if !h.main_cause.is_empty() && causes.contains(&h.main_cause.as_str()) {
        let shown = crate::model::codes::POVERTY_CAUSE
            .label(&h.main_cause)
            .unwrap_or(&h.main_cause);
        c.error(
            "other_causes",
            "other_causes.repeats_main",
            format!(
                "{}不能再选{}“{shown}”",
                label::<Household>("other_causes"),
                label::<Household>("main_cause")
            ),
        );
    }
}

/// 危房级别 is graded only for a house that is 危房, and such a house must be graded because the
/// 危房改造 subsidy depends on the grade.
fn danger_level(c: &mut Checker<Household>, h: &Household) {
    let is_dangerous = h.dangerous_house == Some(true);
    let level = label::<Household>("danger_level");
    let dangerous = label::<Household>("dangerous_house");
    if is_dangerous && h.danger_level.is_empty() {
        c.error(
            "danger_level",
            "danger_level.required",
            format!("{dangerous}为“是”时{level}不能为空"),
        );
    } else if !is_dangerous && !h.danger_level.is_empty() {
        let answer = match h.dangerous_house {
            Some(false) => "否",
            _ => "未填",
        };
        c.error(
            "danger_level",
            "danger_level.not_dangerous",
            format!(
                "{dangerous}为“{answer}”，不应填写{level} {}",
                h.danger_level
            ),
        );
    }
}

/// A 脱贫标准 row as a settled conflict leaves it: a year, a positive line, figures in range.
pub fn check_standard(s: &Standard) -> Vec<Issue> {
    let mut c = Checker::<Standard>::new();
    c.year("year", s.year);
    c.required("income_line", &s.income_line);
    if s.income_line.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
        let text = format!("{}必须大于0。", label::<Standard>("income_line"));
        c.error("income_line", "standard.income_line", text);
    }
    for field in ["incidence_limit", "broadcast_min"] {
        let value = if field == "incidence_limit" {
            s.incidence_limit
        } else {
            s.broadcast_min
        };
        if value.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
            let text = format!("{}应在0到100之间。", label::<Standard>(field));
            c.error(field, "standard.percent", text);
        }
    }
    c.codes(s);
    c.finish()
}
