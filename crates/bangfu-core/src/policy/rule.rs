//! A policy's eligibility rule as data: who benefits (a member, the household, a township's
//! fund) and the conditions over the filed data that make them qualify, evaluated here. The
//! rule travels in the synced `policy` row as the JSON of these types, so a county can change
//! who qualifies without a new program, and nothing but these conditions can ever run.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::filing::HouseholdFile;
use crate::model::{Member, codes};
use crate::validate::resident_id;

/// Who a policy is for, and when they qualify.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "who", rename_all = "snake_case")]
pub enum Rule {
    /// Each member who meets every member condition, in a household that meets every
    /// household condition (a student, a patient).
    Member {
        #[serde(default)]
        when: Vec<MemberCondition>,
        #[serde(default)]
        household: Vec<HouseholdCondition>,
    },
    /// The household, when it meets every condition (产业扶持, 搬迁, 住房).
    Household {
        #[serde(default)]
        when: Vec<HouseholdCondition>,
    },
    /// A township's fund by formula, paid to the township, not to a household.
    Township { fund: FundFormula },
}

/// A condition on one member, judged as of the last day of the policy's year.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "snake_case")]
pub enum MemberCondition {
    /// 周岁 on 31 December of the year, from the 证件号码, inclusive.
    Age { from: u32, to: u32 },
    /// 在校生状况 is one of these codes.
    Schooling { codes: Vec<String> },
    /// 健康状况 has 残疾; with grades, 残疾等级 is one of them.
    Disabled {
        #[serde(default)]
        grades: Vec<String>,
    },
    /// 健康状况 has one of these codes.
    Health { codes: Vec<String> },
    /// 劳动技能 is one of these codes.
    LaborSkill { codes: Vec<String> },
}

/// A condition on the household.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "snake_case")]
pub enum HouseholdCondition {
    /// 贫困户属性 is one of these codes.
    Attribute { codes: Vec<String> },
    /// 是否危房 is 是.
    DangerousHouse,
    /// The household has a measure on this 七个一批 path (any year): a 易地扶贫搬迁 measure
    /// makes it a 搬迁户.
    HasMeasurePath { path: String },
    /// Some member meets every condition.
    AnyMember { when: Vec<MemberCondition> },
}

/// A township's fund: a base, amounts per counted household or person, and how it is shared.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FundFormula {
    /// 保底 per township (元).
    pub base: f64,
    /// Per household that exited (县审定销号) in the year.
    pub per_exited_household: f64,
    /// Per 搬迁户 (a household with a 易地扶贫搬迁 measure).
    pub per_relocated_household: f64,
    /// Per filed person (建档立卡贫困人口: members of live filed households).
    pub per_poor_person: f64,
    /// Who gets which share (e.g. 县级挂钩部门 2, 乡镇 3, 村 5); empty: the township alone.
    pub split: Vec<Share>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub to: String,
    pub share: u32,
}

impl MemberCondition {
    fn holds(&self, m: &Member, year_end: NaiveDate) -> bool {
        let any = |codes: &[String], value: &str| codes.iter().any(|c| c == value);
        match self {
            MemberCondition::Age { from, to } => resident_id::parse(&m.id_number, year_end)
                .map(|id| resident_id::age_on(id.birth, year_end))
                .is_ok_and(|age| (*from..=*to).contains(&age)),
            MemberCondition::Schooling { codes } => any(codes, &m.schooling),
            MemberCondition::Disabled { grades } => {
                has_code(&m.health, codes::HEALTH_DISABLED)
                    && (grades.is_empty() || any(grades, &m.disability_grade))
            }
            MemberCondition::Health { codes } => codes.iter().any(|c| has_code(&m.health, c)),
            MemberCondition::LaborSkill { codes } => any(codes, &m.labor_skill),
        }
    }

    /// The codes the condition names, with the list they belong to, for checking a rule.
    fn named_codes(&self) -> Vec<(&'static codes::CodeList, &str)> {
        fn of<'a>(
            list: &'static codes::CodeList,
            codes: &'a [String],
        ) -> Vec<(&'static codes::CodeList, &'a str)> {
            codes.iter().map(|c| (list, c.as_str())).collect()
        }
        match self {
            MemberCondition::Age { .. } => Vec::new(),
            MemberCondition::Schooling { codes } => of(&codes::SCHOOLING, codes),
            MemberCondition::Disabled { grades } => of(&codes::DISABILITY_GRADE, grades),
            MemberCondition::Health { codes } => of(&codes::HEALTH, codes),
            MemberCondition::LaborSkill { codes } => of(&codes::LABOR_SKILL, codes),
        }
    }
}

/// Whether a multi-code field (`"2,4"`) holds a code.
fn has_code(multi: &str, code: &str) -> bool {
    crate::model::input::split_codes(multi).contains(&code)
}

impl HouseholdCondition {
    fn holds(&self, file: &HouseholdFile, year_end: NaiveDate) -> bool {
        let h = &file.household;
        match self {
            HouseholdCondition::Attribute { codes } => codes.contains(&h.attribute),
            HouseholdCondition::DangerousHouse => h.dangerous_house == Some(true),
            HouseholdCondition::HasMeasurePath { path } => {
                file.measures.iter().any(|m| m.path == *path)
            }
            HouseholdCondition::AnyMember { when } => file
                .members
                .iter()
                .any(|m| when.iter().all(|c| c.holds(m, year_end))),
        }
    }

    fn named_codes(&self) -> Vec<(&'static codes::CodeList, &str)> {
        match self {
            HouseholdCondition::Attribute { codes } => codes
                .iter()
                .map(|c| (&codes::HOUSEHOLD_ATTRIBUTE, c.as_str()))
                .collect(),
            HouseholdCondition::DangerousHouse => Vec::new(),
            HouseholdCondition::HasMeasurePath { path } => {
                vec![(&codes::MEASURE_PATH, path.as_str())]
            }
            HouseholdCondition::AnyMember { when } => {
                when.iter().flat_map(MemberCondition::named_codes).collect()
            }
        }
    }
}

/// Who in a household a rule names for a year.
#[derive(Debug, Clone, PartialEq)]
pub enum Beneficiaries<'a> {
    /// The household qualifies (or not).
    Household(bool),
    /// These members qualify.
    Members(Vec<&'a Member>),
    /// The rule is a township's fund: no household qualifies for it.
    Township,
}

impl Rule {
    /// Who in the household qualifies in `year`.
    pub fn beneficiaries<'a>(&self, file: &'a HouseholdFile, year: i32) -> Beneficiaries<'a> {
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        match self {
            Rule::Household { when } => {
                Beneficiaries::Household(when.iter().all(|c| c.holds(file, year_end)))
            }
            Rule::Member { when, household } => {
                if !household.iter().all(|c| c.holds(file, year_end)) {
                    return Beneficiaries::Members(Vec::new());
                }
                Beneficiaries::Members(
                    file.members
                        .iter()
                        .filter(|m| when.iter().all(|c| c.holds(m, year_end)))
                        .collect(),
                )
            }
            Rule::Township { .. } => Beneficiaries::Township,
        }
    }

    /// The first code the rule names that its value list does not know, as "列表: 代码".
    pub fn unknown_code(&self) -> Option<String> {
        let named: Vec<(&'static codes::CodeList, &str)> = match self {
            Rule::Member { when, household } => when
                .iter()
                .flat_map(MemberCondition::named_codes)
                .chain(household.iter().flat_map(HouseholdCondition::named_codes))
                .collect(),
            Rule::Household { when } => when
                .iter()
                .flat_map(HouseholdCondition::named_codes)
                .collect(),
            Rule::Township { .. } => Vec::new(),
        };
        named
            .into_iter()
            .find(|(list, code)| list.label(code).is_none())
            .map(|(list, code)| format!("{}: {code}", list.title))
    }

    /// The rule in the words of the forms, for lists and ledgers.
    pub fn describe(&self) -> String {
        match self {
            Rule::Member { when, household } => {
                let mut parts: Vec<String> = household.iter().map(describe_household).collect();
                parts.extend(when.iter().map(describe_member));
                if parts.is_empty() {
                    "建档立卡户的每位成员".into()
                } else {
                    format!("成员：{}", parts.join("，"))
                }
            }
            Rule::Household { when } => {
                if when.is_empty() {
                    "每个建档立卡户".into()
                } else {
                    format!(
                        "户：{}",
                        when.iter()
                            .map(describe_household)
                            .collect::<Vec<_>>()
                            .join("，")
                    )
                }
            }
            Rule::Township { fund } => {
                let mut parts = Vec::new();
                if fund.base > 0.0 {
                    parts.push(format!("每乡镇保底{}元", fund.base));
                }
                if fund.per_exited_household > 0.0 {
                    parts.push(format!("每脱贫1户{}元", fund.per_exited_household));
                }
                if fund.per_relocated_household > 0.0 {
                    parts.push(format!(
                        "易地扶贫搬迁户均{}元",
                        fund.per_relocated_household
                    ));
                }
                if fund.per_poor_person > 0.0 {
                    parts.push(format!("贫困人口人均{}元", fund.per_poor_person));
                }
                if !fund.split.is_empty() {
                    let split: Vec<String> = fund
                        .split
                        .iter()
                        .map(|s| format!("{}{}", s.to, s.share))
                        .collect();
                    parts.push(format!("按{}分配", split.join("：")));
                }
                format!("乡镇：{}", parts.join("，"))
            }
        }
    }
}

fn labels(list: &codes::CodeList, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| list.label(c).unwrap_or(c.as_str()))
        .collect::<Vec<_>>()
        .join("/")
}

fn describe_member(c: &MemberCondition) -> String {
    match c {
        MemberCondition::Age { from, to } => format!("{from}至{to}周岁"),
        MemberCondition::Schooling { codes } => {
            format!("在校生状况为{}", labels(&codes::SCHOOLING, codes))
        }
        MemberCondition::Disabled { grades } if grades.is_empty() => "残疾".into(),
        MemberCondition::Disabled { grades } => {
            format!("残疾（{}）", labels(&codes::DISABILITY_GRADE, grades))
        }
        MemberCondition::Health { codes } => {
            format!("健康状况为{}", labels(&codes::HEALTH, codes))
        }
        MemberCondition::LaborSkill { codes } => {
            format!("劳动技能为{}", labels(&codes::LABOR_SKILL, codes))
        }
    }
}

fn describe_household(c: &HouseholdCondition) -> String {
    match c {
        HouseholdCondition::Attribute { codes } => {
            format!("属性为{}", labels(&codes::HOUSEHOLD_ATTRIBUTE, codes))
        }
        HouseholdCondition::DangerousHouse => "住危房".into(),
        HouseholdCondition::HasMeasurePath { path } => format!(
            "有“{}”措施",
            codes::MEASURE_PATH.label(path).unwrap_or(path.as_str())
        ),
        HouseholdCondition::AnyMember { when } => format!(
            "有成员{}",
            when.iter()
                .map(describe_member)
                .collect::<Vec<_>>()
                .join("且")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Household;

    fn member(name: &str, id17: &str, schooling: &str, health: &str) -> Member {
        let check = resident_id::check_character(id17).unwrap_or('0');
        Member {
            name: name.into(),
            id_number: format!("{id17}{check}"),
            schooling: schooling.into(),
            health: health.into(),
            ..Default::default()
        }
    }

    fn file(members: Vec<Member>, attribute: &str, dangerous: bool) -> HouseholdFile {
        HouseholdFile {
            household: Household {
                attribute: attribute.into(),
                dangerous_house: Some(dangerous),
                ..Default::default()
            },
            members,
            ..Default::default()
        }
    }

    fn names(b: Beneficiaries<'_>) -> String {
        match b {
            Beneficiaries::Household(yes) => format!("户:{yes}"),
            Beneficiaries::Members(ms) => ms
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(","),
            Beneficiaries::Township => "乡镇".into(),
        }
    }

    #[test]
    fn rules_name_who_qualifies_in_a_household() {
        // 李强 born 2008 is 18 at the end of 2026; 李梅 born 2012 is 14.
        let li_qiang = member("李强", "53082620080101003", "12", "1");
        let li_mei = member("李梅", "53082620120101004", "09", "1,4");
        let grandpa = member("李发", "53082619500101001", "00", "3");
        let f = file(vec![li_qiang, li_mei, grandpa], "3", true);
        let json = |text: &str| -> Rule {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
        };
        let cases = [
            (
                r#"{"who":"member","when":[{"if":"schooling","codes":["11","12","13"]}]}"#,
                "李强",
            ),
            (r#"{"who":"member","when":[{"if":"disabled"}]}"#, "李梅"),
            (
                r#"{"who":"member","when":[{"if":"disabled","grades":["1","2"]}]}"#,
                "",
            ),
            (
                r#"{"who":"member","when":[{"if":"health","codes":["3"]}]}"#,
                "李发",
            ),
            (
                r#"{"who":"member","when":[{"if":"age","from":16,"to":55}]}"#,
                "李强",
            ),
            (
                r#"{"who":"member","when":[],"household":[{"if":"attribute","codes":["1"]}]}"#,
                "",
            ),
            (
                r#"{"who":"household","when":[{"if":"attribute","codes":["3"]},{"if":"dangerous_house"}]}"#,
                "户:true",
            ),
            (
                r#"{"who":"household","when":[{"if":"has_measure_path","path":"02"}]}"#,
                "户:false",
            ),
            (
                r#"{"who":"household","when":[{"if":"any_member","when":[{"if":"disabled"},{"if":"age","from":10,"to":16}]}]}"#,
                "户:true",
            ),
            (r#"{"who":"township","fund":{"base":500000}}"#, "乡镇"),
        ];
        for (rule, expected) in cases {
            assert_eq!(
                names(json(rule).beneficiaries(&f, 2026)),
                expected,
                "{rule}"
            );
        }
    }

    #[test]
    fn a_rule_naming_a_code_no_list_knows_is_caught() {
        let rule: Rule =
            serde_json::from_str(r#"{"who":"member","when":[{"if":"schooling","codes":["99"]}]}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.unknown_code().as_deref(), Some("在校生状况: 99"));
        let ok: Rule =
            serde_json::from_str(r#"{"who":"household"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.unknown_code(), None);
    }
}
