//! Tests of income, helper, pairing, measure and visit records.

use uuid::Uuid;

use super::{Case, date, income, messages, run_cases, today};
use crate::model::{Helper, Income, Measure, Pairing, Visit};
use crate::validate::{check_helper, check_income, check_measure, check_pairing, check_visit};

#[test]
fn income_rules() {
    let cases: &[Case<Income>] = &[
        ("valid", |_| {}, &[]),
        (
            "year only",
            |i| {
                *i = Income {
                    year: Some(2017),
                    ..Default::default()
                }
            },
            &[],
        ),
        ("no year", |i| i.year = None, &["E year value.required"]),
        (
            "year 2012",
            |i| i.year = Some(2012),
            &["E year year.out_of_range"],
        ),
        ("year 2013", |i| i.year = Some(2013), &[]),
        ("year 2035", |i| i.year = Some(2035), &[]),
        (
            "year 2036",
            |i| i.year = Some(2036),
            &["E year year.out_of_range"],
        ),
        ("zero wage", |i| i.wage = Some(0.0), &[]),
        (
            "negative wage",
            |i| i.wage = Some(-0.01),
            &["E wage value.negative"],
        ),
        (
            "negative business",
            |i| i.business = Some(-1.0),
            &["E business value.negative"],
        ),
        (
            "negative dividend",
            |i| i.dividend = Some(-1.0),
            &["E dividend value.negative"],
        ),
        (
            "negative property",
            |i| i.property_other = Some(-1.0),
            &["E property_other value.negative"],
        ),
        (
            "negative family planning",
            |i| i.family_planning = Some(-1.0),
            &["E family_planning value.negative"],
        ),
        (
            "negative 低保金",
            |i| i.dibao_allowance = Some(-1.0),
            &["E dibao_allowance value.negative"],
        ),
        (
            "negative 五保金",
            |i| i.tekun_allowance = Some(-1.0),
            &["E tekun_allowance value.negative"],
        ),
        (
            "negative pension",
            |i| i.pension_income = Some(-1.0),
            &["E pension_income value.negative"],
        ),
        (
            "negative eco",
            |i| i.eco_compensation = Some(-1.0),
            &["E eco_compensation value.negative"],
        ),
        (
            "negative other transfer",
            |i| i.other_transfer = Some(-1.0),
            &["E other_transfer value.negative"],
        ),
        (
            "negative expense",
            |i| i.business_expense = Some(-1.0),
            &["E business_expense value.negative"],
        ),
        (
            "NaN wage",
            |i| i.wage = Some(f64::NAN),
            &["E wage value.not_finite"],
        ),
    ];
    run_cases(&income(), cases, check_income);
}

fn helper() -> Helper {
    Helper {
        name: "李四".into(),
        sex: "1".into(),
        unit: "县农业局".into(),
        unit_level: "3".into(),
        title: "科员".into(),
        phone: "13987654321".into(),
        ..Default::default()
    }
}

#[test]
fn helper_rules() {
    let cases: &[Case<Helper>] = &[
        ("valid", |_| {}, &[]),
        (
            "no name",
            |h| h.name = String::new(),
            &["E name value.required"],
        ),
        (
            "no unit",
            |h| h.unit = " ".into(),
            &["E unit value.required"],
        ),
        ("no phone", |h| h.phone = String::new(), &[]),
        (
            "office phone with extension",
            |h| h.phone = "0871-1234567转8".into(),
            &[],
        ),
        (
            "bad phone",
            |h| h.phone = "1398765432".into(),
            &["E phone phone.mobile_length"],
        ),
        (
            "unit level 6",
            |h| h.unit_level = "6".into(),
            &["E unit_level code.unknown"],
        ),
        ("sex 3", |h| h.sex = "3".into(), &["E sex code.unknown"]),
    ];
    run_cases(&helper(), cases, check_helper);
}

fn pairing() -> Pairing {
    Pairing {
        household_id: Some(Uuid::from_u128(1)),
        helper_id: Some(Uuid::from_u128(2)),
        start_date: Some(date(2016, 3, 1)),
        end_date: None,
        ..Default::default()
    }
}

#[test]
fn pairing_rules() {
    let cases: &[Case<Pairing>] = &[
        ("valid", |_| {}, &[]),
        (
            "no household",
            |p| p.household_id = None,
            &["E household_id value.required"],
        ),
        (
            "no helper",
            |p| p.helper_id = None,
            &["E helper_id value.required"],
        ),
        (
            "ends the day it starts",
            |p| p.end_date = Some(date(2016, 3, 1)),
            &[],
        ),
        ("ends later", |p| p.end_date = Some(date(2018, 1, 1)), &[]),
        (
            "ends the day before it starts",
            |p| p.end_date = Some(date(2016, 2, 29)),
            &["E end_date date.end_before_start"],
        ),
        (
            "end without start",
            |p| {
                p.start_date = None;
                p.end_date = Some(date(2016, 2, 29));
            },
            &[],
        ),
    ];
    run_cases(&pairing(), cases, check_pairing);
}

fn measure() -> Measure {
    Measure {
        household_id: Some(Uuid::from_u128(1)),
        year: Some(2017),
        path: "01".into(),
        description: "发展产业“2355”".into(),
        amount: Some(6000.0),
        status: "3".into(),
        ..Default::default()
    }
}

#[test]
fn measure_rules() {
    let cases: &[Case<Measure>] = &[
        ("valid", |_| {}, &[]),
        ("危房改造", |m| m.path = "10".into(), &[]),
        (
            "no path",
            |m| m.path = String::new(),
            &["E path value.required"],
        ),
        (
            "path 11",
            |m| m.path = "11".into(),
            &["E path code.unknown"],
        ),
        (
            "path as label",
            |m| m.path = "发展产业".into(),
            &["E path code.unknown"],
        ),
        ("zero amount", |m| m.amount = Some(0.0), &[]),
        ("no amount", |m| m.amount = None, &[]),
        (
            "negative amount",
            |m| m.amount = Some(-6000.0),
            &["E amount value.negative"],
        ),
        ("no year", |m| m.year = None, &["E year value.required"]),
        (
            "year 2040",
            |m| m.year = Some(2040),
            &["E year year.out_of_range"],
        ),
        (
            "status 4",
            |m| m.status = "4".into(),
            &["E status code.unknown"],
        ),
    ];
    run_cases(&measure(), cases, check_measure);
}

fn visit() -> Visit {
    Visit {
        household_id: Some(Uuid::from_u128(1)),
        helper_id: Some(Uuid::from_u128(2)),
        visit_date: Some(date(2024, 5, 1)),
        found: "缺劳力".into(),
        done: "联系公益岗位".into(),
        ..Default::default()
    }
}

#[test]
fn visit_rules() {
    let cases: &[Case<Visit>] = &[
        ("valid", |_| {}, &[]),
        ("today", |v| v.visit_date = Some(date(2024, 6, 15)), &[]),
        (
            "tomorrow",
            |v| v.visit_date = Some(date(2024, 6, 16)),
            &["E visit_date date.future"],
        ),
        (
            "no date",
            |v| v.visit_date = None,
            &["E visit_date value.required"],
        ),
    ];
    run_cases(&visit(), cases, |v| check_visit(v, today()));
}

#[test]
fn record_messages_name_the_form_label_and_the_value() {
    let i = Income {
        year: None,
        wage: Some(-5.0),
        ..income()
    };
    assert_eq!(
        messages(&check_income(&i)),
        ["年度不能为空", "工资性收入 -5 不能为负数"]
    );
    let h = Helper {
        unit: String::new(),
        phone: "5123456".into(),
        ..helper()
    };
    assert_eq!(
        messages(&check_helper(&h)),
        [
            "帮扶单位不能为空",
            "联系电话 5123456 不正确：固定电话应带区号，如 0871-1234567"
        ]
    );
    let p = Pairing {
        end_date: Some(date(2016, 2, 29)),
        ..pairing()
    };
    assert_eq!(
        messages(&check_pairing(&p)),
        ["结束日期 2016-02-29 早于开始日期 2016-03-01"]
    );
    let m = Measure {
        path: "11".into(),
        ..measure()
    };
    assert_eq!(
        messages(&check_measure(&m)),
        ["帮扶措施类别 11 不在“帮扶措施类别”值列表中"]
    );
    let v = Visit {
        visit_date: Some(date(2024, 6, 16)),
        ..visit()
    };
    assert_eq!(
        messages(&check_visit(&v, today())),
        ["走访日期 2024-06-16 晚于今天"]
    );
}
