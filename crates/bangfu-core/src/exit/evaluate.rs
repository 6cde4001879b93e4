//! The household standard (一超 两不愁 三保障, plus 安全饮水): each check met, not met or not
//! yet known, with the reason and the data it used, so a station can show why.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::standards::{ExitStandard, standard_for};
use super::{ExitError, procedure};
use crate::model::derived::{family_size_in_year, income_summary, is_current, present_at_year_end};
use crate::model::{ExitStep, Household, Income, Member, codes};
use crate::store::{Filter, Store};
use crate::validate::resident_id;

#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Met,
    NotMet,
    /// The data needed is missing or contradictory: someone must look.
    Unknown,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Met => "达标",
            CheckStatus::NotMet => "未达标",
            CheckStatus::Unknown => "待核实",
        }
    }
}

/// One figure a check used, as the form calls it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct DataItem {
    pub label: String,
    pub value: String,
}

fn item(label: impl Into<String>, value: impl Into<String>) -> DataItem {
    DataItem {
        label: label.into(),
        value: value.into(),
    }
}

/// A check's verdict from what its members show: not met when some failed, unknown when some
/// could not be judged, met otherwise (the order every member-wise check reads in).
fn verdict(
    (code, label): (&'static str, &'static str),
    not_met: Option<String>,
    unknown: Option<String>,
    met: String,
    data: Vec<DataItem>,
) -> CheckResult {
    match (not_met, unknown) {
        (Some(reason), _) => CheckResult::new(code, label, CheckStatus::NotMet, reason, data),
        (None, Some(reason)) => CheckResult::new(code, label, CheckStatus::Unknown, reason, data),
        (None, None) => CheckResult::new(code, label, CheckStatus::Met, met, data),
    }
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Stable English id: income, food, clothing, education, medical, housing, water.
    pub code: &'static str,
    pub label: &'static str,
    pub status: CheckStatus,
    pub status_label: &'static str,
    pub reason: String,
    pub data: Vec<DataItem>,
}

impl CheckResult {
    pub(crate) fn new(
        code: &'static str,
        label: &'static str,
        status: CheckStatus,
        reason: String,
        data: Vec<DataItem>,
    ) -> CheckResult {
        CheckResult {
            code,
            label,
            status,
            status_label: status.label(),
            reason,
            data,
        }
    }
}

/// What one household's evaluation reads.
#[derive(Debug, Clone, Default)]
pub struct EvaluationInput {
    pub household: Household,
    /// Every member, those who left (减员) included: each check picks the members of its year.
    pub members: Vec<Member>,
    /// The household's income rows of the evaluated year.
    pub incomes: Vec<Income>,
    /// The 入户调查 of the current round, if recorded (两不愁 is found at the door).
    pub survey: Option<ExitStep>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
#[ts(rename = "ExitEvaluation")]
pub struct HouseholdEvaluation {
    pub household_id: Uuid,
    pub household_code: String,
    pub head_name: String,
    pub year: i32,
    pub standard: ExitStandard,
    pub checks: Vec<CheckResult>,
    /// Every check met.
    pub meets: bool,
    pub summary: String,
}

/// Evaluates one household for a year against the standard of its province.
pub fn evaluate_household(
    store: &Store,
    household_id: Uuid,
    year: i32,
) -> Result<HouseholdEvaluation, ExitError> {
    let household: Household = store.get(household_id)?;
    let province = super::province_of(store, &household)?;
    let standard = standard_for(store, year, &province)?;
    let members: Vec<Member> = store.read(Filter::OfHousehold(household_id))?;
    let incomes: Vec<Income> = store
        .read::<Income>(Filter::OfHousehold(household_id))?
        .into_iter()
        .filter(|i| i.year == Some(i64::from(year)))
        .collect();
    let survey = procedure::current_survey(store, household_id)?;
    let input = EvaluationInput {
        household,
        members,
        incomes,
        survey,
    };
    Ok(evaluation_of(&input, year, standard))
}

/// Evaluates already-read data; the store-free core of [`evaluate_household`].
pub fn evaluation_of(
    input: &EvaluationInput,
    year: i32,
    standard: ExitStandard,
) -> HouseholdEvaluation {
    let checks = evaluate(input, year, &standard);
    let meets = checks.iter().all(|c| c.status == CheckStatus::Met);
    let failing: Vec<&str> = checks
        .iter()
        .filter(|c| c.status != CheckStatus::Met)
        .map(|c| c.label)
        .collect();
    let summary = if meets {
        format!("{year}年各项均达到脱贫标准。")
    } else {
        format!("{year}年未达标或待核实：{}。", failing.join("、"))
    };
    let head_name = input
        .members
        .iter()
        .find(|m| m.relation == codes::RELATION_HEAD && is_current(m))
        .map(|m| m.name.clone())
        .unwrap_or_default();
    HouseholdEvaluation {
        household_id: input.household.id,
        household_code: input.household.code.clone(),
        head_name,
        year,
        standard,
        checks,
        meets,
        summary,
    }
}

/// Every check of the standard, in the order of the 双认定表.
pub fn evaluate(input: &EvaluationInput, year: i32, standard: &ExitStandard) -> Vec<CheckResult> {
    let mut checks = vec![income_check(input, year, standard)];
    checks.extend(two_worries(input.survey.as_ref()));
    // 三保障 asks about the people still in the household at the year's end; 一超 divides the
    // year's income by everyone who lived on it (`derived::present_in_year`).
    let at_year_end: Vec<Member> = input
        .members
        .iter()
        .filter(|m| present_at_year_end(m, year))
        .cloned()
        .collect();
    checks.push(education_check(&at_year_end, year, standard));
    checks.push(medical_check(&at_year_end));
    checks.push(housing_check(&input.household));
    if standard.check_safe_water {
        checks.push(water_check(&input.household));
    }
    if standard.check_pension {
        checks.push(pension_check(&at_year_end, year, standard));
    }
    checks
}

fn yuan(v: f64) -> String {
    format!("{v:.2}元")
}

/// 一超: 人均纯收入 strictly above the line ("超过"); compared in whole fen so that 12000 元
/// shared by 3 people is exactly 4000.00 and therefore not above a 4000 元 line.
fn income_check(input: &EvaluationInput, year: i32, standard: &ExitStandard) -> CheckResult {
    const CODE: &str = "income";
    const LABEL: &str = "一超：人均纯收入稳定超过当年标准";
    let line = standard.income_line;
    let mut data = vec![item(format!("{year}年标准"), yuan(line))];
    let income = match input.incomes.as_slice() {
        [] => {
            return CheckResult::new(
                CODE,
                LABEL,
                CheckStatus::Unknown,
                format!("没有{year}年的收入记录。"),
                data,
            );
        }
        [one] => one,
        several => {
            return CheckResult::new(
                CODE,
                LABEL,
                CheckStatus::Unknown,
                format!("{year}年有{}条收入记录，请先核对合并。", several.len()),
                data,
            );
        }
    };
    let size = family_size_in_year(&input.members, year);
    let summary = income_summary(income, size);
    data.push(item("纯收入", yuan(summary.net)));
    data.push(item("家庭人口", format!("{size}人")));
    let Some(per_capita) = summary.per_capita else {
        return CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Unknown,
            "家庭人口为0，无法计算人均纯收入。".into(),
            data,
        );
    };
    data.push(item("人均纯收入", yuan(per_capita)));
    let fen = |v: f64| (v * 100.0).round() as i64;
    if fen(per_capita) > fen(line) {
        CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Met,
            format!("人均纯收入{}，超过标准{}。", yuan(per_capita), yuan(line)),
            data,
        )
    } else {
        CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::NotMet,
            format!("人均纯收入{}，未超过标准{}。", yuan(per_capita), yuan(line)),
            data,
        )
    }
}

/// 两不愁 is not on the filing forms; it is found at the door and recorded with the 入户调查.
fn two_worries(survey: Option<&ExitStep>) -> [CheckResult; 2] {
    let one = |code, label, found: Option<Option<bool>>, what: &str| {
        let data = match found {
            Some(Some(v)) => vec![item(
                format!("入户调查：{what}"),
                if v { "是" } else { "否" },
            )],
            _ => Vec::new(),
        };
        match found {
            None => CheckResult::new(
                code,
                label,
                CheckStatus::Unknown,
                "尚未入户调查。".into(),
                data,
            ),
            Some(None) => CheckResult::new(
                code,
                label,
                CheckStatus::Unknown,
                format!("入户调查未填写“{what}”。"),
                data,
            ),
            Some(Some(true)) => CheckResult::new(
                code,
                label,
                CheckStatus::Met,
                format!("入户调查认定{what}。"),
                data,
            ),
            Some(Some(false)) => CheckResult::new(
                code,
                label,
                CheckStatus::NotMet,
                format!("入户调查认定未做到{what}。"),
                data,
            ),
        }
    };
    [
        one(
            "food",
            "两不愁：不愁吃",
            survey.map(|s| s.food_secure),
            "不愁吃",
        ),
        one(
            "clothing",
            "两不愁：不愁穿",
            survey.map(|s| s.clothing_secure),
            "不愁穿",
        ),
    ]
}

/// 义务教育有保障: no member of compulsory-school age (周岁 on 1 September, when the school
/// year starts) out of school, unless they already finished 初中.
fn education_check(members: &[Member], year: i32, standard: &ExitStandard) -> CheckResult {
    const CODE: &str = "education";
    const LABEL: &str = "三保障：义务教育有保障";
    let Some(start) = NaiveDate::from_ymd_opt(year, 9, 1) else {
        return CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Unknown,
            format!("年度{year}无效。"),
            Vec::new(),
        );
    };
    let ages = standard.school_age_from..=standard.school_age_to;
    let finished_middle_school = |m: &Member| matches!(m.education.as_str(), "3" | "4" | "5");
    let (mut out, mut unknown, mut data) = (Vec::new(), Vec::new(), Vec::new());
    for m in members {
        // Any date after every possible birth: age is what matters, and a birth after the
        // school year's start simply makes the child too young.
        let Ok(id) = resident_id::parse(&m.id_number, NaiveDate::MAX) else {
            unknown.push(format!("{}（证件号码无法算出年龄）", m.name));
            continue;
        };
        let age = resident_id::age_on(id.birth, start);
        if !ages.contains(&age) {
            continue;
        }
        let schooling = codes::SCHOOLING.label(&m.schooling).unwrap_or("未填");
        data.push(item(
            format!("{}（{age}周岁）在校生状况", m.name),
            schooling,
        ));
        match m.schooling.as_str() {
            "00" if finished_middle_school(m) => {}
            "00" => out.push(m.name.clone()),
            "" => unknown.push(format!("{}（未填在校生状况）", m.name)),
            _ => {}
        }
    }
    let range = format!("{}-{}周岁", ages.start(), ages.end());
    verdict(
        (CODE, LABEL),
        (!out.is_empty()).then(|| format!("义务教育阶段（{range}）未在校：{}。", out.join("、"))),
        (!unknown.is_empty()).then(|| format!("无法判断：{}。", unknown.join("、"))),
        format!("义务教育阶段（{range}）的{}人均在校。", data.len()),
        data,
    )
}

/// 养老有保障 (the report's 五保障: "全部参加新型农村社会养老保险"): every member of insurable
/// age (`pension_age_from` 周岁 or more on the year's last day) in 城乡居民基本养老保险. Students
/// at school are not enrolled until they leave it, and soldiers in active service are covered
/// by the army; older people drawing the pension are members of the scheme too.
fn pension_check(members: &[Member], year: i32, standard: &ExitStandard) -> CheckResult {
    const CODE: &str = "pension";
    const LABEL: &str = "养老有保障：参加城乡居民基本养老保险";
    let from = standard.pension_age_from;
    let Some(end) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Unknown,
            format!("年度{year}无效。"),
            Vec::new(),
        );
    };
    let (mut uninsured, mut unknown) = (Vec::new(), Vec::new());
    let mut counted = 0;
    for m in members {
        if m.active_military == Some(true) || is_at_school(&m.schooling) {
            continue;
        }
        let Ok(id) = resident_id::parse(&m.id_number, NaiveDate::MAX) else {
            unknown.push(format!("{}（证件号码无法算出年龄）", m.name));
            continue;
        };
        if resident_id::age_on(id.birth, end) < from {
            continue;
        }
        counted += 1;
        match m.pension_insurance {
            Some(true) => {}
            Some(false) => uninsured.push(m.name.clone()),
            None => unknown.push(format!("{}（未填参保情况）", m.name)),
        }
    }
    let data = vec![
        item("参保起始年龄", format!("{from}周岁")),
        item("应参保人数", format!("{counted}人")),
        item("未参保", uninsured.join("、")),
    ];
    verdict(
        (CODE, LABEL),
        (!uninsured.is_empty())
            .then(|| format!("未参加城乡居民基本养老保险：{}。", uninsured.join("、"))),
        (!unknown.is_empty()).then(|| format!("无法判断：{}。", unknown.join("、"))),
        format!("{from}周岁以上应参保的{counted}人均已参加城乡居民基本养老保险。"),
        data,
    )
}

/// At school in the year (any 在校生状况 but 非在校生 and blank).
fn is_at_school(schooling: &str) -> bool {
    !schooling.is_empty() && schooling != "00"
}

/// 基本医疗有保障: every member insured (城乡居民基本医疗保险); soldiers in active service are
/// covered by the army and are not on the village's insurance roll.
fn medical_check(members: &[Member]) -> CheckResult {
    const CODE: &str = "medical";
    const LABEL: &str = "三保障：基本医疗有保障";
    let (mut uninsured, mut unknown) = (Vec::new(), Vec::new());
    let mut counted = 0;
    for m in members {
        if m.active_military == Some(true) {
            continue;
        }
        counted += 1;
        match m.medical_insurance {
            Some(true) => {}
            Some(false) => uninsured.push(m.name.clone()),
            None => unknown.push(m.name.clone()),
        }
    }
    let data = vec![
        item("应参保人数", format!("{counted}人")),
        item("未参保", uninsured.join("、")),
        item("未填参保情况", unknown.join("、")),
    ];
    if !uninsured.is_empty() {
        CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::NotMet,
            format!("未参加城乡居民基本医疗保险：{}。", uninsured.join("、")),
            data,
        )
    } else if !unknown.is_empty() || counted == 0 {
        CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Unknown,
            if counted == 0 {
                "没有家庭成员。".into()
            } else {
                format!("未填参保情况：{}。", unknown.join("、"))
            },
            data,
        )
    } else {
        CheckResult::new(
            CODE,
            LABEL,
            CheckStatus::Met,
            format!("{counted}人均已参加城乡居民基本医疗保险。"),
            data,
        )
    }
}

/// 住房安全有保障: no C- or D-grade 危房. A B-grade house (局部危险) counts as safe, as in the
/// housing ministry's appraisal rules; a 危房 without a grade cannot be called safe.
fn housing_check(h: &Household) -> CheckResult {
    const CODE: &str = "housing";
    const LABEL: &str = "三保障：住房安全有保障";
    let level = codes::DANGER_LEVEL.label(&h.danger_level);
    let data = vec![
        item(
            "是否危房",
            match h.dangerous_house {
                Some(true) => "是",
                Some(false) => "否",
                None => "未填",
            },
        ),
        item("危房级别", level.unwrap_or("")),
    ];
    let status = match (h.dangerous_house, h.danger_level.as_str()) {
        (_, "C" | "D") => (
            CheckStatus::NotMet,
            format!("住房为{}危房。", level.unwrap_or("")),
        ),
        (Some(true), "B") => (
            CheckStatus::Met,
            "住房为B级，属局部危险，按规定视为安全。".into(),
        ),
        (Some(true), _) => (CheckStatus::NotMet, "住房是危房，未填危房级别。".into()),
        (Some(false), _) => (CheckStatus::Met, "住房不是危房。".into()),
        (None, _) => (CheckStatus::Unknown, "未填是否危房。".into()),
    };
    CheckResult::new(CODE, LABEL, status.0, status.1, data)
}

/// 安全饮水: water safe and not hard to get.
fn water_check(h: &Household) -> CheckResult {
    const CODE: &str = "water";
    const LABEL: &str = "安全饮水有保障";
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "是",
        Some(false) => "否",
        None => "未填",
    };
    let data = vec![
        item("饮水是否安全", yes_no(h.water_safe)),
        item("饮水是否困难", yes_no(h.water_difficult)),
    ];
    let (status, reason) = match (h.water_safe, h.water_difficult) {
        (Some(false), _) => (CheckStatus::NotMet, "饮水不安全。"),
        (_, Some(true)) => (CheckStatus::NotMet, "饮水困难。"),
        (Some(true), Some(false)) => (CheckStatus::Met, "饮水安全，不困难。"),
        (Some(true), None) => (CheckStatus::Unknown, "未填饮水是否困难。"),
        (None, _) => (CheckStatus::Unknown, "未填饮水是否安全。"),
    };
    CheckResult::new(CODE, LABEL, status, reason.into(), data)
}
