//! The policies the program ships: the county work report's policies and amounts
//! (`seed/000_fa21d200ee6d8508.txt`), each naming where in the report it comes from. They apply
//! to every year the county has not set otherwise (a county row of the same year and code lies
//! over them), as the report's amounts stood until changed.

use super::catalogue::{Part, PolicyDef};
use super::rule::{FundFormula, HouseholdCondition, MemberCondition, Rule, Share};

const REPORT: &str = "县脱贫攻坚工作报告";

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| (*c).to_owned()).collect()
}

fn schooling(list: &[&str]) -> MemberCondition {
    MemberCondition::Schooling { codes: codes(list) }
}

fn disabled() -> MemberCondition {
    MemberCondition::Disabled { grades: Vec::new() }
}

/// 高中 (普通高中一至三年级).
const HIGH_SCHOOL: &[&str] = &["11", "12", "13"];
/// 中职 (职业高中、中专、技校一至三年级).
const VOCATIONAL: &[&str] = &["21", "22", "23"];
/// 高职 (大学专科) 一至三年级.
const HIGHER_VOCATIONAL: &[&str] = &["31", "32", "33"];
/// 大专及以上: the forms' last level, where 本科 students are filed.
const COLLEGE: &[&str] = &["40"];

/// 16-55 周岁 with labour: who the report trains.
fn working_age() -> Vec<MemberCondition> {
    vec![
        MemberCondition::Age { from: 16, to: 55 },
        MemberCondition::LaborSkill {
            codes: codes(&["1", "2"]),
        },
    ]
}

struct Draft {
    code: &'static str,
    name: &'static str,
    path: &'static str,
    amount: Option<f64>,
    cap: Option<f64>,
    once: bool,
    rule: Rule,
    parts: Vec<Part>,
    source: &'static str,
}

fn part(label: &str, amount: f64, to: &str) -> Part {
    Part {
        label: label.into(),
        amount,
        to: to.into(),
    }
}

fn drafts() -> Vec<Draft> {
    vec![
        Draft {
            code: "industry_2355",
            name: "产业扶持（2355）",
            path: "01",
            amount: Some(6000.0),
            cap: None,
            once: true,
            // Industry aid goes to households that can work a project: some member has labour.
            rule: Rule::Household {
                when: vec![HouseholdCondition::AnyMember {
                    when: vec![MemberCondition::LaborSkill {
                        codes: codes(&["1", "2"]),
                    }],
                }],
            },
            parts: vec![
                part("到户补助", 2000.0, "农户"),
                part("龙头企业带动", 3000.0, "龙头企业"),
                part("如期脱贫奖励", 500.0, "农户"),
                part("全村脱贫奖励", 500.0, "村集体"),
            ],
            source: "产业户均补助6000元，按照“2355”方式扶持",
        },
        Draft {
            code: "relocation_house",
            name: "易地扶贫搬迁建房补助",
            path: "02",
            amount: Some(60000.0),
            cap: None,
            once: true,
            rule: Rule::Household {
                when: vec![HouseholdCondition::HasMeasurePath { path: "02".into() }],
            },
            parts: Vec::new(),
            source: "建档立卡贫困户建房补助从4万元/户提高到6万元/户",
        },
        Draft {
            code: "training_guided",
            name: "引导性培训（户均1人）",
            path: "03",
            amount: None,
            cap: None,
            once: false,
            rule: Rule::Household {
                when: vec![HouseholdCondition::AnyMember {
                    when: working_age(),
                }],
            },
            parts: Vec::new(),
            source: "户均1人参加1次以上的引导性培训，培训时间为2天；16-55岁农村劳动力参加技能培训",
        },
        Draft {
            code: "edu_high_school",
            name: "普通高中学生一次性补助",
            path: "04",
            amount: Some(3000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![schooling(HIGH_SCHOOL)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "建档立卡贫困户学生在普通高中就读的，每生给予一次性补助3000元",
        },
        Draft {
            code: "edu_vocational",
            name: "职高中专技校学生一次性补助",
            path: "04",
            amount: Some(2000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![schooling(VOCATIONAL)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "在普通职业高中、中专、技工学校就读的，每生给予一次性补助2000元",
        },
        Draft {
            code: "edu_college",
            name: "大专院校学生一次性补助",
            path: "04",
            amount: Some(8000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![schooling(&["31", "32", "33", "40"])],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "在各大专院校就读的，每生给予一次性补助8000元",
        },
        Draft {
            code: "disabled_high_school",
            name: "残疾高中生每学年补助",
            path: "04",
            amount: Some(500.0),
            cap: None,
            once: false,
            rule: Rule::Member {
                when: vec![disabled(), schooling(HIGH_SCHOOL)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "扶残助学：在校困难残疾高中学生每生每学年500元",
        },
        Draft {
            code: "disabled_vocational",
            name: "残疾中专生一次性入学补助",
            path: "04",
            amount: Some(1000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![disabled(), schooling(VOCATIONAL)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "新入学的困难残疾中专学生一次性入学补助1000元",
        },
        Draft {
            code: "disabled_junior_college",
            name: "残疾大学生（专科）一次性补助",
            path: "04",
            amount: Some(2000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![disabled(), schooling(HIGHER_VOCATIONAL)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "新入学的困难残疾大学生，大学专科一次性补助2000元",
        },
        Draft {
            code: "disabled_university",
            name: "残疾大学生（本科）一次性补助",
            path: "04",
            amount: Some(3000.0),
            cap: None,
            once: true,
            rule: Rule::Member {
                when: vec![disabled(), schooling(COLLEGE)],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "新入学的困难残疾大学生，大学本科一次性补助3000元（表中“大专及以上”的学生按本科计）",
        },
        Draft {
            code: "medical_aid",
            name: "重特大疾病医疗救助",
            path: "06",
            amount: None,
            cap: Some(50000.0),
            once: false,
            rule: Rule::Member {
                when: vec![MemberCondition::Health {
                    codes: codes(&["3"]),
                }],
                household: Vec::new(),
            },
            parts: Vec::new(),
            source: "重特大疾病医疗救助，年救助封顶线提高到5万元",
        },
        Draft {
            code: "housing_wubao",
            name: "无房五保户保障性住房",
            path: "07",
            amount: Some(60000.0),
            cap: None,
            once: true,
            rule: Rule::Household {
                when: vec![
                    HouseholdCondition::Attribute {
                        codes: codes(&["3"]),
                    },
                    HouseholdCondition::DangerousHouse,
                ],
            },
            parts: Vec::new(),
            source: "农村分散供养的无房五保户建房补助与建档立卡贫困户建房补助标准相同，为6万元/户",
        },
        Draft {
            code: "housing_disabled",
            name: "无房一二级残疾人住房保障",
            path: "10",
            amount: None,
            cap: None,
            once: true,
            rule: Rule::Household {
                when: vec![
                    HouseholdCondition::AnyMember {
                        when: vec![MemberCondition::Disabled {
                            grades: codes(&["1", "2"]),
                        }],
                    },
                    HouseholdCondition::DangerousHouse,
                ],
            },
            parts: Vec::new(),
            source: "无房的一二级残疾人：户均建筑面积30至60平方米，3人以上农户人均不超过18平方米，资金为易地搬迁扶贫项目资金",
        },
        Draft {
            code: "disabled_startup",
            name: "残疾人自主创业扶持",
            path: "01",
            amount: Some(4000.0),
            cap: None,
            once: true,
            rule: Rule::Household {
                when: vec![HouseholdCondition::AnyMember {
                    when: vec![
                        disabled(),
                        MemberCondition::Age { from: 16, to: 60 },
                        MemberCondition::LaborSkill {
                            codes: codes(&["1", "2"]),
                        },
                    ],
                }],
            },
            parts: Vec::new(),
            source: "按照4000元/户的补助标准无偿安排残疾人自主创业扶持资金",
        },
        Draft {
            code: "fund_incentive",
            name: "脱贫攻坚考核奖励",
            path: "07",
            amount: None,
            cap: None,
            once: false,
            rule: Rule::Township {
                fund: FundFormula {
                    per_exited_household: 1000.0,
                    split: vec![
                        Share {
                            to: "县级挂钩部门".into(),
                            share: 2,
                        },
                        Share {
                            to: "乡（镇）".into(),
                            share: 3,
                        },
                        Share {
                            to: "村".into(),
                            share: 5,
                        },
                    ],
                    ..FundFormula::default()
                },
            },
            parts: Vec::new(),
            source: "每脱贫1户贫困户给予奖励1000元，奖励县级挂钩部门、乡（镇）、村，按“235”比例分配",
        },
        Draft {
            code: "fund_work",
            name: "脱贫攻坚工作经费",
            path: "07",
            amount: None,
            cap: None,
            once: false,
            rule: Rule::Township {
                fund: FundFormula {
                    base: 500_000.0,
                    per_relocated_household: 100.0,
                    per_poor_person: 100.0,
                    ..FundFormula::default()
                },
            },
            parts: Vec::new(),
            source: "每个乡（镇）50万元保底工作经费，易地扶贫搬迁户均100元，贫困人口人均100元",
        },
    ]
}

/// The shipped policies, as they stand for `year`.
pub fn policies(year: i32) -> Vec<PolicyDef> {
    drafts()
        .into_iter()
        .map(|d| PolicyDef {
            year,
            code: d.code.into(),
            name: d.name.into(),
            path: d.path.into(),
            amount: d.amount,
            cap: d.cap,
            once: d.once,
            rule: d.rule,
            parts: d.parts,
            in_force: true,
            source: format!("{REPORT}：{}", d.source),
            edited: false,
        })
        .collect()
}
