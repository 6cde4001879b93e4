//! The county's 疑点 on who lives in a household: ages against 与户主关系, 在校生状况 and
//! 劳动技能, a spouse of the 户主's own sex, a 低保 member in a household not filed as 低保, a 低保 household with no
//! member on 低保 (低保应保尽保), a
//! household with no 帮扶责任人, and 已脱贫 in a 危房. Warnings: each may be true (a
//! grandmother raising a grandchild as 户主's "child"), so they are saved and listed for the
//! team to confirm, never refused.
//!
//! Ages come from the 证件号码 (a member without a readable one is not judged on age).

use chrono::NaiveDate;

use super::resident_id::{age_on, parse};
use super::{Issue, label};
use crate::model::{Household, Member, Pairing, codes};

/// 与户主关系 of a child of the 户主: 之子, 之女.
const CHILD_RELATIONS: [&str; 2] = ["03", "04"];
/// 配偶.
const RELATION_SPOUSE: &str = "02";
/// The youngest a 户主 is expected to be.
const HEAD_MIN_AGE: u32 = 16;
/// How much older than a child of theirs a 户主 is at the least.
const PARENT_MIN_GAP_YEARS: u32 = 12;
/// 普通劳动力 and 技能劳动力.
const ABLE_TO_WORK: [&str; 2] = ["1", "2"];
/// The youngest a person is counted in the labour force (劳动力). (No upper bound: many
/// elderly villagers still farm, and the county counts them.)
const LABOUR_MIN_AGE: u32 = 16;
/// 低保贫困户 and 特困供养贫困户: households whose members may receive 低保.
const DIBAO_ATTRIBUTES: [&str; 2] = ["2", "3"];
/// 低保贫困户.
const ATTRIBUTE_DIBAO: &str = "2";
/// 危房级别 C and D: unsafe to live in (B is repairable).
const UNSAFE_HOUSE: [&str; 2] = ["C", "D"];

/// The ages a child is in each stage of schooling (在校生状况), wide enough for late starts and
/// repeated years.
fn school_ages(schooling: &str) -> Option<std::ops::RangeInclusive<u32>> {
    Some(match schooling {
        "01" => 2..=7,
        "02" => 5..=16,
        "07" | "08" | "09" => 10..=19,
        "11" | "12" | "13" | "21" | "22" | "23" => 13..=23,
        "31" | "32" | "33" | "40" => 15..=35,
        _ => return None,
    })
}

fn birth(m: &Member, today: NaiveDate) -> Option<NaiveDate> {
    parse(&m.id_number, today).ok().map(|id| id.birth)
}

fn code_label(list: &codes::CodeList, code: &str) -> String {
    list.label(code).unwrap_or(code).to_owned()
}

/// Checks a household's members, pairings and status as the county's 疑点 rules read them.
pub fn check_composition(
    h: &Household,
    members: &[Member],
    pairings: &[Pairing],
    today: NaiveDate,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    let head = members.iter().find(|m| m.relation == codes::RELATION_HEAD);
    let head_birth = head.and_then(|m| birth(m, today));
    if let (Some(head), Some(born)) = (head, head_birth) {
        let age = age_on(born, today);
        if age < HEAD_MIN_AGE {
            issues.push(Issue::warning(
                "relation",
                "suspect.head_under_16",
                format!(
                    "户主{}只有{age}岁，未满{HEAD_MIN_AGE}周岁，请核实户主是否登记正确",
                    head.name
                ),
            ));
        }
    }
    for m in members {
        let born = birth(m, today);
        if let (Some(head_born), Some(born), true) = (
            head_birth,
            born,
            CHILD_RELATIONS.contains(&m.relation.as_str()),
        ) {
            let gap = age_on(head_born, born);
            if born <= head_born || gap < PARENT_MIN_GAP_YEARS {
                issues.push(Issue::warning(
                    "relation",
                    "suspect.child_older_than_head",
                    format!(
                        "{}登记为户主{}，却{}，请核实{}",
                        m.name,
                        code_label(&codes::RELATION, &m.relation),
                        if born < head_born {
                            "比户主年长".to_owned()
                        } else if born == head_born {
                            "与户主同一天出生".to_owned()
                        } else {
                            format!("只比户主小{gap}岁")
                        },
                        label::<Member>("relation")
                    ),
                ));
            }
        }
        if let Some(head) = head
            && m.relation == RELATION_SPOUSE
            && !m.sex.is_empty()
            && m.sex == head.sex
        {
            issues.push(Issue::warning(
                "sex",
                "suspect.spouse_same_sex",
                format!(
                    "配偶{}与户主{}性别相同（都是{}），请核实{}或{}",
                    m.name,
                    head.name,
                    code_label(&codes::SEX, &m.sex),
                    label::<Member>("sex"),
                    label::<Member>("relation")
                ),
            ));
        }
        if let (Some(born), Some(ages)) = (born, school_ages(&m.schooling)) {
            let age = age_on(born, today);
            if !ages.contains(&age) {
                issues.push(Issue::warning(
                    "schooling",
                    "suspect.schooling_age",
                    format!(
                        "{}{age}岁，{}却是“{}”（该阶段一般为{}至{}岁），请核实",
                        m.name,
                        label::<Member>("schooling"),
                        code_label(&codes::SCHOOLING, &m.schooling),
                        ages.start(),
                        ages.end()
                    ),
                ));
            }
        }
        if let Some(born) = born
            && ABLE_TO_WORK.contains(&m.labor_skill.as_str())
        {
            let age = age_on(born, today);
            if age < LABOUR_MIN_AGE {
                issues.push(Issue::warning(
                    "labor_skill",
                    "suspect.labor_skill_age",
                    format!(
                        "{}{age}岁，{}却是“{}”（未满{LABOUR_MIN_AGE}周岁不算劳动力），请核实",
                        m.name,
                        label::<Member>("labor_skill"),
                        code_label(&codes::LABOR_SKILL, &m.labor_skill),
                    ),
                ));
            }
        }
        if m.dibao == Some(true)
            && !h.attribute.is_empty()
            && !DIBAO_ATTRIBUTES.contains(&h.attribute.as_str())
        {
            issues.push(Issue::warning(
                "dibao",
                "suspect.dibao_member_not_dibao_household",
                format!(
                    "{}享受低保，本户{}却是“{}”，请核实{}",
                    m.name,
                    label::<Household>("attribute"),
                    code_label(&codes::HOUSEHOLD_ATTRIBUTE, &h.attribute),
                    label::<Household>("attribute")
                ),
            ));
        }
    }
    // 低保应保尽保: a household filed as 低保贫困户 has someone on 低保; none marked means the
    // member flags were never filled in, or the household's 属性 is out of date.
    let current: Vec<&Member> = members.iter().filter(|m| m.leave_date.is_none()).collect();
    if h.attribute == ATTRIBUTE_DIBAO
        && !current.is_empty()
        && !current.iter().any(|m| m.dibao == Some(true))
    {
        issues.push(Issue::warning(
            "attribute",
            "suspect.dibao_household_without_dibao_member",
            format!(
                "本户{}是“低保贫困户”，却没有一位成员登记为享受低保，请核实（低保应保尽保）",
                label::<Household>("attribute")
            ),
        ));
    }
    let still_poor = crate::report::figures::is_still_poor(&h.poverty_status);
    let paired_now = pairings
        .iter()
        .any(|p| p.helper_id.is_some() && p.end_date.is_none_or(|end| end >= today));
    if still_poor && !h.poverty_status.is_empty() && !paired_now {
        issues.push(Issue::warning(
            "helper_id",
            "suspect.no_current_helper",
            "本户未脱贫，却没有在岗的帮扶责任人（没有结对或结对都已结束），请安排帮扶责任人".into(),
        ));
    }
    if !still_poor && UNSAFE_HOUSE.contains(&h.danger_level.as_str()) {
        issues.push(Issue::warning(
            "danger_level",
            "suspect.exited_in_unsafe_house",
            format!(
                "本户已脱贫，住房却是{}危房，不符合住房安全有保障，请核实",
                code_label(&codes::DANGER_LEVEL, &h.danger_level)
            ),
        ));
    }
    issues
}
