//! Tests of whole-household checks: one 户主, duplicate IDs, one income per year, county 疑点.

use super::{Case, head_id, household, id, id_ending_in_x, income, member, messages, run_cases};
use crate::model::{Household, Income, Member};
use crate::validate::{Issue, check_household_file};

/// A household as one form save.
#[derive(Debug, Clone)]
struct Filed {
    h: Household,
    members: Vec<Member>,
    incomes: Vec<Income>,
}

fn filed() -> Filed {
    let spouse = Member {
        name: "李秀英".into(),
        sex: "2".into(),
        id_number: id("530826", "19820305", "246"),
        relation: "02".into(),
        ..member()
    };
    let son = Member {
        name: "张小明".into(),
        sex: "1".into(),
        id_number: id("530826", "20080910", "013"),
        relation: "03".into(),
        ..member()
    };
    Filed {
        h: household(),
        members: vec![member(), spouse, son],
        incomes: vec![income()],
    }
}

fn check(f: &Filed) -> Vec<Issue> {
    check_household_file(&f.h, &f.members, &f.incomes)
}

#[test]
fn household_head_rules() {
    let cases: &[Case<Filed>] = &[
        ("valid", |_| {}, &[]),
        ("head alone", |f| f.members.truncate(1), &[]),
        ("head listed last", |f| f.members.rotate_left(1), &[]),
        (
            "no members",
            |f| f.members.clear(),
            &["E relation household.head_missing"],
        ),
        (
            "no head",
            |f| f.members[0].relation = "99".into(),
            &["E relation household.head_missing"],
        ),
        (
            "relation not filled",
            |f| f.members[0].relation = String::new(),
            &["E relation household.head_missing"],
        ),
        (
            "two heads",
            |f| f.members[1].relation = "01".into(),
            &["E relation household.head_multiple"],
        ),
        (
            "three heads",
            |f| {
                f.members[1].relation = "01".into();
                f.members[2].relation = "01".into();
            },
            &["E relation household.head_multiple"],
        ),
    ];
    run_cases(&filed(), cases, check);
}

#[test]
fn duplicate_id_and_year_rules() {
    let cases: &[Case<Filed>] = &[
        (
            "same id twice",
            |f| f.members[2].id_number = head_id(),
            &["E id_number household.duplicate_id"],
        ),
        (
            "same id three times",
            |f| {
                f.members[1].id_number = head_id();
                f.members[2].id_number = head_id();
            },
            &["E id_number household.duplicate_id"],
        ),
        (
            "two pairs",
            |f| {
                f.members.push(Member {
                    relation: "03".into(),
                    ..f.members[0].clone()
                });
                f.members.push(Member {
                    relation: "04".into(),
                    ..f.members[1].clone()
                });
            },
            &[
                "E id_number household.duplicate_id",
                "E id_number household.duplicate_id",
            ],
        ),
        (
            "id and card of the same person",
            |f| f.members[2].id_number = format!("{}42", head_id()),
            &["E id_number household.duplicate_id"],
        ),
        (
            "x and X",
            |f| {
                f.members[0].id_number = id_ending_in_x(true);
                f.members[2].id_number = id_ending_in_x(true).to_lowercase();
            },
            &["E id_number household.duplicate_id"],
        ),
        // An invalid number typed twice is still the same number twice.
        (
            "same invalid number twice",
            |f| {
                f.members[1].id_number = "12345".into();
                f.members[2].id_number = "12345".into();
            },
            &["E id_number household.duplicate_id"],
        ),
        (
            "ids not filled",
            |f| {
                for m in &mut f.members {
                    m.id_number = String::new();
                }
            },
            &[],
        ),
        (
            "two years",
            |f| {
                f.incomes.push(Income {
                    year: Some(2017),
                    ..income()
                })
            },
            &[],
        ),
        (
            "same year twice",
            |f| f.incomes.push(income()),
            &["E year household.income_duplicate_year"],
        ),
        (
            "years not filled",
            |f| {
                f.incomes = vec![
                    Income {
                        year: None,
                        ..income()
                    },
                    Income {
                        year: None,
                        ..income()
                    },
                ];
            },
            &[],
        ),
        ("no incomes", |f| f.incomes.clear(), &[]),
    ];
    run_cases(&filed(), cases, check);
}

#[test]
fn county_suspect_rules() {
    let cases: &[Case<Filed>] = &[
        (
            "5 km without remark",
            |f| f.h.road_distance_km = Some(5.0),
            &[],
        ),
        (
            "5.01 km without remark",
            |f| f.h.road_distance_km = Some(5.01),
            &["W road_distance_km suspect.road_distance"],
        ),
        (
            "5.01 km with remark",
            |f| {
                f.h.road_distance_km = Some(5.01);
                f.h.remark = "住山顶，距主干路6公里".into();
            },
            &[],
        ),
        (
            "5.01 km with blank remark",
            |f| {
                f.h.road_distance_km = Some(5.01);
                f.h.remark = "  ".into();
            },
            &["W road_distance_km suspect.road_distance"],
        ),
        ("distance not filled", |f| f.h.road_distance_km = None, &[]),
        ("wage 300", |f| f.incomes[0].wage = Some(300.0), &[]),
        (
            "wage 299.99",
            |f| f.incomes[0].wage = Some(299.99),
            &["W wage suspect.wage_range"],
        ),
        ("wage 300000", |f| f.incomes[0].wage = Some(300_000.0), &[]),
        (
            "wage 300000.01",
            |f| f.incomes[0].wage = Some(300_000.01),
            &["W wage suspect.wage_range"],
        ),
        ("wage 0 means none", |f| f.incomes[0].wage = Some(0.0), &[]),
        ("wage not filled", |f| f.incomes[0].wage = None, &[]),
        (
            "each year checked",
            |f| {
                f.incomes.push(Income {
                    year: Some(2017),
                    wage: Some(100.0),
                    ..income()
                });
            },
            &["W wage suspect.wage_range"],
        ),
        (
            "business without expense",
            |f| f.incomes[0].business_expense = None,
            &["W business_expense suspect.business_without_expense"],
        ),
        (
            "business with zero expense",
            |f| f.incomes[0].business_expense = Some(0.0),
            &["W business_expense suspect.business_without_expense"],
        ),
        (
            "no business, no expense",
            |f| {
                f.incomes[0].business = Some(0.0);
                f.incomes[0].business_expense = None;
            },
            &[],
        ),
        (
            "expense without business",
            |f| f.incomes[0].business = None,
            &[],
        ),
        (
            "eco with returned farmland",
            |f| f.incomes[0].eco_compensation = Some(300.0),
            &[],
        ),
        (
            "eco without returned farmland",
            |f| {
                f.incomes[0].eco_compensation = Some(300.0);
                f.h.returned_farmland_area = None;
            },
            &["W eco_compensation suspect.eco_without_returned_farmland"],
        ),
        (
            "eco with zero returned farmland",
            |f| {
                f.incomes[0].eco_compensation = Some(300.0);
                f.h.returned_farmland_area = Some(0.0);
            },
            &["W eco_compensation suspect.eco_without_returned_farmland"],
        ),
        (
            "低保金 in a 低保 household",
            |f| {
                f.incomes[0].dibao_allowance = Some(1200.0);
                f.h.attribute = "2".into();
            },
            &[],
        ),
        (
            "低保金 in an ordinary household",
            |f| f.incomes[0].dibao_allowance = Some(1200.0),
            &["W dibao_allowance suspect.dibao_not_dibao_household"],
        ),
        (
            "低保金 in a 五保 household",
            |f| {
                f.incomes[0].dibao_allowance = Some(1200.0);
                f.h.attribute = "3".into();
            },
            &["W dibao_allowance suspect.dibao_not_dibao_household"],
        ),
        (
            "低保金 with attribute not filled",
            |f| {
                f.incomes[0].dibao_allowance = Some(1200.0);
                f.h.attribute = String::new();
            },
            &["W dibao_allowance suspect.dibao_not_dibao_household"],
        ),
        (
            "低保金 0",
            |f| f.incomes[0].dibao_allowance = Some(0.0),
            &[],
        ),
        (
            "returned equals forest + pasture",
            |f| {
                f.h.forest_area = Some(1.0);
                f.h.pasture_area = Some(2.0);
                f.h.returned_farmland_area = Some(3.0);
            },
            &[],
        ),
        (
            "returned equals a sum that floats round",
            |f| {
                f.h.forest_area = Some(1.1);
                f.h.pasture_area = Some(2.2);
                f.h.returned_farmland_area = Some(3.3);
            },
            &[],
        ),
        (
            "returned above forest + pasture",
            |f| {
                f.h.forest_area = Some(1.0);
                f.h.pasture_area = Some(2.0);
                f.h.returned_farmland_area = Some(3.01);
            },
            &["W returned_farmland_area suspect.returned_farmland_exceeds_land"],
        ),
        (
            "returned without forest or pasture",
            |f| {
                f.h.forest_area = None;
                f.h.pasture_area = None;
            },
            &["W returned_farmland_area suspect.returned_farmland_exceeds_land"],
        ),
    ];
    run_cases(&filed(), cases, check);
}

#[test]
fn household_file_messages_name_the_people_and_the_values() {
    let mut f = filed();
    f.members[1].relation = "01".into();
    f.members[2].id_number = head_id();
    f.incomes.push(income());
    assert_eq!(
        messages(&check(&f)),
        [
            "有2名户主（张三、李秀英）：每户只能有一名户主".to_owned(),
            format!("证件号码 {} 在本户出现2次（张三、张小明）", head_id()),
            "2016年的收入登记了2次，每年只能有一条".to_owned(),
        ]
    );

    let mut f = filed();
    f.members.clear();
    f.h.road_distance_km = Some(7.5);
    f.h.returned_farmland_area = Some(4.0);
    f.h.attribute = "1".into();
    f.incomes[0] = Income {
        year: Some(2016),
        wage: Some(299.99),
        business: Some(2000.0),
        dibao_allowance: Some(1200.0),
        ..Default::default()
    };
    assert_eq!(
        messages(&check(&f)),
        [
            "没有与户主关系为“户主”的家庭成员：每户必须有且只有一名户主",
            "与村主干路距离(公里) 7.5 超过5公里，请核实并在备注中说明",
            "退耕还林面积(亩) 4 大于林地面积(亩) 2 与牧草地面积(亩) 0.5 之和",
            "2016年工资性收入 299.99 元不在300至300000元之间，请核实",
            "2016年有生产经营性收入却没有生产经营性支出，请核实",
            "2016年有低保金，但贫困户属性不是“低保贫困户”",
        ]
    );
}
