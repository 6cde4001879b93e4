//! Tests of village and household records: codes, causes, areas, housing, phone, year, bank.

use super::{Case, household, messages, run_cases};
use crate::county_settings::CountySettings;
use crate::model::{Household, Village};
use crate::validate::{check_household, check_village};

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2019, 7, 1).expect("a day")
}

fn village() -> Village {
    Village {
        code: "530826103201".into(),
        name: "大寨村".into(),
        township: "某某镇".into(),
        county: "某某县".into(),
        province: "云南省".into(),
        ..Default::default()
    }
}

#[test]
fn village_rules() {
    let cases: &[Case<Village>] = &[
        ("valid", |_| {}, &[]),
        (
            "no name",
            |v| v.name = String::new(),
            &["E name value.required"],
        ),
        (
            "blank name",
            |v| v.name = "  ".into(),
            &["E name value.required"],
        ),
        (
            "no code",
            |v| v.code = String::new(),
            &["E code value.required"],
        ),
        (
            "11 digits",
            |v| v.code = "53082610320".into(),
            &["E code village_code.length"],
        ),
        (
            "13 digits",
            |v| v.code = "5308261032011".into(),
            &["E code village_code.length"],
        ),
        (
            "15-digit household code",
            |v| v.code = "530826103201001".into(),
            &["E code village_code.length"],
        ),
        (
            "letter",
            |v| v.code = "53082610320A".into(),
            &["E code village_code.non_digit"],
        ),
        (
            "township code",
            |v| v.code = "530826103000".into(),
            &["E code village_code.not_village"],
        ),
        (
            "residents' committee 001",
            |v| v.code = "530826103001".into(),
            &[],
        ),
        (
            "村情 filled in full",
            |v| {
                v.rural_population = Some(1260);
                v.poor_village = Some(true);
                v.exit_year = Some(2019);
                v.hardened_road = Some(true);
                v.road_date = chrono::NaiveDate::from_ymd_opt(2018, 10, 1);
                v.road_evidence = "县交通局验收单 2018-17 号，存村委会档案柜".into();
                v.broadcast_coverage = Some(99.5);
            },
            &[],
        ),
        (
            "negative 农村人口",
            |v| v.rural_population = Some(-5),
            &["E rural_population value.negative"],
        ),
        (
            "coverage over 100",
            |v| v.broadcast_coverage = Some(120.0),
            &["E broadcast_coverage village.rate_range"],
        ),
        (
            "退出年度 of a village not marked 贫困村",
            |v| v.exit_year = Some(2018),
            &["E exit_year village.exit_year_not_poor"],
        ),
        (
            "退出年度 next year",
            |v| {
                v.poor_village = Some(true);
                v.exit_year = Some(2020);
            },
            &["E exit_year village.exit_year_future"],
        ),
        (
            "退出年度 typed 219",
            |v| {
                v.poor_village = Some(true);
                v.exit_year = Some(219);
            },
            &["E exit_year year.out_of_range"],
        ),
        (
            "达标日期 tomorrow",
            |v| {
                v.safe_water = Some(true);
                v.water_date = chrono::NaiveDate::from_ymd_opt(2019, 7, 2);
            },
            &["E water_date village.date_future"],
        ),
        (
            "达标日期 on an item marked 否",
            |v| {
                v.standard_clinic = Some(false);
                v.clinic_date = chrono::NaiveDate::from_ymd_opt(2018, 1, 2);
            },
            &["E clinic_date village.date_not_met"],
        ),
        (
            "佐证材料 too long",
            |v| v.venue_evidence = "文".repeat(501),
            &["E venue_evidence village.evidence_too_long"],
        ),
    ];
    run_cases(&village(), cases, |v| check_village(v, today()));
}

#[test]
fn household_code_rules() {
    let cases: &[Case<Household>] = &[
        ("valid", |_| {}, &[]),
        (
            "no code",
            |h| h.code = String::new(),
            &["E code value.required"],
        ),
        (
            "14 digits",
            |h| h.code = "53082610320101".into(),
            &["E code household_code.length"],
        ),
        (
            "16 digits",
            |h| h.code = "5308261032010011".into(),
            &["E code household_code.length"],
        ),
        (
            "village code only",
            |h| h.code = "530826103201".into(),
            &["E code household_code.length"],
        ),
        (
            "letter",
            |h| h.code = "530826103201O01".into(),
            &["E code household_code.non_digit"],
        ),
        (
            "full-width digit",
            |h| h.code = "５30826103201001".into(),
            &["E code household_code.non_digit"],
        ),
        (
            "Excel scientific notation",
            |h| h.code = "5.30826E+14".into(),
            &["E code household_code.length"],
        ),
        (
            "township part",
            |h| h.code = "530826103000001".into(),
            &["E code household_code.not_village"],
        ),
        (
            "sequence 000",
            |h| h.code = "530826103201000".into(),
            &["E code household_code.sequence_zero"],
        ),
        ("sequence 999", |h| h.code = "530826103201999".into(), &[]),
    ];
    run_cases(&household(), cases, |h| {
        check_household(h, today(), &CountySettings::default())
    });
}

#[test]
fn household_cause_and_code_list_rules() {
    let cases: &[Case<Household>] = &[
        (
            "no main cause",
            |h| h.main_cause = String::new(),
            &["E main_cause value.required"],
        ),
        (
            "unknown main cause",
            |h| h.main_cause = "00".into(),
            &["E main_cause code.unknown"],
        ),
        (
            "main cause as label",
            |h| h.main_cause = "因病".into(),
            &["E main_cause code.unknown"],
        ),
        ("main cause 其它", |h| h.main_cause = "99".into(), &[]),
        ("no other causes", |h| h.other_causes = String::new(), &[]),
        ("one other cause", |h| h.other_causes = "05".into(), &[]),
        (
            "three other causes",
            |h| h.other_causes = "05,09,10".into(),
            &["E other_causes other_causes.too_many"],
        ),
        (
            "other repeats main",
            |h| h.other_causes = "01,05".into(),
            &["E other_causes other_causes.repeats_main"],
        ),
        (
            "three with main among them",
            |h| h.other_causes = "01,05,09".into(),
            &[
                "E other_causes other_causes.repeats_main",
                "E other_causes other_causes.too_many",
            ],
        ),
        (
            "other twice the same",
            |h| h.other_causes = "05,05".into(),
            &["E other_causes code.duplicate"],
        ),
        (
            "trailing comma",
            |h| h.other_causes = "05,".into(),
            &["E other_causes code.empty_part"],
        ),
        (
            "space after comma",
            |h| h.other_causes = "05, 09".into(),
            &["E other_causes code.unknown"],
        ),
        (
            "unknown other",
            |h| h.other_causes = "05,77".into(),
            &["E other_causes code.unknown"],
        ),
        (
            "identify standard 4",
            |h| h.identify_standard = "4".into(),
            &["E identify_standard code.unknown"],
        ),
        (
            "attribute 0",
            |h| h.attribute = "0".into(),
            &["E attribute code.unknown"],
        ),
        (
            "poverty status 5",
            |h| h.poverty_status = "5".into(),
            &["E poverty_status code.unknown"],
        ),
        (
            "road type 5",
            |h| h.road_type = "5".into(),
            &["E road_type code.unknown"],
        ),
        ("fuel 其它", |h| h.fuel_type = "9".into(), &[]),
        (
            "fuel 5",
            |h| h.fuel_type = "5".into(),
            &["E fuel_type code.unknown"],
        ),
        (
            "optional codes empty",
            |h| {
                h.identify_standard = String::new();
                h.attribute = String::new();
                h.poverty_status = String::new();
                h.road_type = String::new();
                h.fuel_type = String::new();
            },
            &[],
        ),
    ];
    run_cases(&household(), cases, |h| {
        check_household(h, today(), &CountySettings::default())
    });
}

#[test]
fn household_area_housing_and_contact_rules() {
    let cases: &[Case<Household>] = &[
        (
            "zero areas",
            |h| {
                h.arable_area = Some(0.0);
                h.forest_area = Some(0.0);
                h.returned_farmland_area = Some(0.0);
                h.road_distance_km = Some(0.0);
                h.house_area = Some(0.0);
            },
            &[],
        ),
        (
            "no areas",
            |h| {
                h.arable_area = None;
                h.forest_area = None;
                h.returned_farmland_area = None;
                h.fruit_area = None;
                h.pasture_area = None;
                h.road_distance_km = None;
                h.house_area = None;
            },
            &[],
        ),
        (
            "negative arable",
            |h| h.arable_area = Some(-0.01),
            &["E arable_area value.negative"],
        ),
        (
            "negative forest",
            |h| h.forest_area = Some(-1.0),
            &["E forest_area value.negative"],
        ),
        (
            "negative returned",
            |h| h.returned_farmland_area = Some(-1.0),
            &["E returned_farmland_area value.negative"],
        ),
        (
            "negative fruit",
            |h| h.fruit_area = Some(-1.0),
            &["E fruit_area value.negative"],
        ),
        (
            "negative pasture",
            |h| h.pasture_area = Some(-1.0),
            &["E pasture_area value.negative"],
        ),
        (
            "negative water",
            |h| h.water_area = Some(-1.0),
            &["E water_area value.negative"],
        ),
        (
            "negative distance",
            |h| h.road_distance_km = Some(-0.5),
            &["E road_distance_km value.negative"],
        ),
        (
            "negative house",
            |h| h.house_area = Some(-80.0),
            &["E house_area value.negative"],
        ),
        (
            "NaN house",
            |h| h.house_area = Some(f64::NAN),
            &["E house_area value.not_finite"],
        ),
        (
            "infinite distance",
            |h| h.road_distance_km = Some(f64::INFINITY),
            &["E road_distance_km value.not_finite"],
        ),
        (
            "危房 graded",
            |h| {
                h.dangerous_house = Some(true);
                h.danger_level = "C".into();
            },
            &[],
        ),
        (
            "危房 not graded",
            |h| h.dangerous_house = Some(true),
            &["E danger_level danger_level.required"],
        ),
        (
            "not 危房 but graded",
            |h| h.danger_level = "D".into(),
            &["E danger_level danger_level.not_dangerous"],
        ),
        (
            "危房 unknown but graded",
            |h| {
                h.dangerous_house = None;
                h.danger_level = "B".into();
            },
            &["E danger_level danger_level.not_dangerous"],
        ),
        (
            "危房 grade A",
            |h| {
                h.dangerous_house = Some(true);
                h.danger_level = "A".into();
            },
            &["E danger_level code.unknown"],
        ),
        ("landline", |h| h.phone = "0871-1234567".into(), &[]),
        ("no phone", |h| h.phone = String::new(), &[]),
        (
            "short mobile",
            |h| h.phone = "1381234567".into(),
            &["E phone phone.mobile_length"],
        ),
        (
            "local number without area code",
            |h| h.phone = "5123456".into(),
            &["E phone phone.missing_area_code"],
        ),
        ("exit year 2013", |h| h.plan_exit_year = Some(2013), &[]),
        ("exit year 2035", |h| h.plan_exit_year = Some(2035), &[]),
        (
            "exit year 2012",
            |h| h.plan_exit_year = Some(2012),
            &["E plan_exit_year year.out_of_range"],
        ),
        (
            "exit year 2036",
            |h| h.plan_exit_year = Some(2036),
            &["E plan_exit_year year.out_of_range"],
        ),
        (
            "exit year typo",
            |h| h.plan_exit_year = Some(20019),
            &["E plan_exit_year year.out_of_range"],
        ),
        ("no exit year", |h| h.plan_exit_year = None, &[]),
        ("no filing date", |h| h.filing_date = None, &[]),
        (
            "filed 2014-10-01",
            |h| h.filing_date = chrono::NaiveDate::from_ymd_opt(2014, 10, 1),
            &[],
        ),
        ("filed today", |h| h.filing_date = Some(today()), &[]),
        (
            "filed tomorrow",
            |h| h.filing_date = today().succ_opt(),
            &["E filing_date filing_date.future"],
        ),
        (
            "filed 2013-12-31: asked, kept",
            |h| h.filing_date = chrono::NaiveDate::from_ymd_opt(2013, 12, 31),
            &["W filing_date filing_date.before_first_year"],
        ),
        ("no bank account", |h| h.bank_account = String::new(), &[]),
        (
            "bank account with spaces",
            |h| h.bank_account = "6228 4801 2345".into(),
            &["E bank_account bank_account.non_digit"],
        ),
        (
            "bank account with dash",
            |h| h.bank_account = "6228-4801".into(),
            &["E bank_account bank_account.non_digit"],
        ),
        (
            "bank account as Excel number",
            |h| h.bank_account = "6.22848E+18".into(),
            &["E bank_account bank_account.non_digit"],
        ),
    ];
    run_cases(&household(), cases, |h| {
        check_household(h, today(), &CountySettings::default())
    });
}

#[test]
fn a_filing_date_is_questioned_before_the_countys_first_filing_year() {
    let pilot = |year: i32| {
        let mut county = CountySettings::default();
        county.first_filing_year.year = year;
        county.first_filing_year.edited = true;
        county
    };
    let filed = |y, m, d| {
        let mut h = household();
        h.filing_date = chrono::NaiveDate::from_ymd_opt(y, m, d);
        h
    };
    let rules = |h: &Household, county: &CountySettings| -> Vec<&'static str> {
        check_household(h, today(), county)
            .iter()
            .map(|i| i.rule)
            .collect()
    };
    let asked = ["filing_date.before_first_year"];
    let cases: [(&str, Household, CountySettings, &[&str]); 5] = [
        (
            "2013 under the shipped 2014",
            filed(2013, 6, 1),
            CountySettings::default(),
            &asked,
        ),
        (
            "2013 in a county that filed from 2013",
            filed(2013, 6, 1),
            pilot(2013),
            &[],
        ),
        (
            "2012 in a county that filed from 2013",
            filed(2012, 12, 31),
            pilot(2013),
            &asked,
        ),
        (
            "2014 in a county that set 2015",
            filed(2014, 10, 1),
            pilot(2015),
            &asked,
        ),
        (
            "2015 in a county that set 2015",
            filed(2015, 1, 1),
            pilot(2015),
            &[],
        ),
    ];
    for (name, h, county, expected) in cases {
        assert_eq!(rules(&h, &county), expected, "{name}");
    }
    let message = check_household(&filed(2012, 12, 31), today(), &pilot(2013))[0]
        .message
        .clone();
    assert!(message.contains("早于2013年建档立卡"), "{message}");
}

#[test]
fn household_messages_name_the_form_label_and_the_value() {
    let mut h = household();
    h.code = "530826103201O01".into();
    h.other_causes = "01,05,09".into();
    h.arable_area = Some(-2.5);
    h.dangerous_house = Some(true);
    h.phone = "12812345678".into();
    h.plan_exit_year = Some(2012);
    h.bank_account = "6228 48".into();
    assert_eq!(
        messages(&check_household(&h, today(), &CountySettings::default())),
        [
            "户编号 530826103201O01 只能由数字组成",
            "其他致贫原因最多选2项，现选了3项",
            "其他致贫原因不能再选主要致贫原因“因病”",
            "耕地面积(亩) -2.5 不能为负数",
            "是否危房为“是”时危房级别不能为空",
            "联系电话 12812345678 不正确：手机号码应以13-19开头，实际以12开头",
            "计划脱贫年度 2012 不合理：应在 2013 至 2035 之间",
            "银行卡号 6228 48 只能由数字组成，其中有空格",
        ]
    );
    let mut v = village();
    v.code = "530826103000".into();
    v.name = String::new();
    assert_eq!(
        messages(&check_village(&v, today())),
        [
            "村名不能为空",
            "村代码 530826103000 第10-12位为000，是乡镇的代码而不是村的代码"
        ]
    );
    let h = Household {
        main_cause: "0".into(),
        ..household()
    };
    assert_eq!(
        messages(&check_household(&h, today(), &CountySettings::default())),
        ["主要致贫原因 0 不在“致贫原因”值列表中"]
    );
}
