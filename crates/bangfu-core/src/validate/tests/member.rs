//! Tests of member records: name, 证件号码 and what it implies, code lists, health, work.

use super::{
    Case, head_id, id, id_ending_in_x, member, messages, run_cases, today, with_wrong_check,
};
use crate::model::Member;
use crate::validate::{Issue, check_member};

fn check(m: &Member) -> Vec<Issue> {
    check_member(m, today())
}

#[test]
fn member_id_number_rules() {
    let cases: &[Case<Member>] = &[
        ("valid", |_| {}, &[]),
        ("no id number", |m| m.id_number = String::new(), &[]),
        (
            "wrong check",
            |m| m.id_number = with_wrong_check(&head_id()),
            &["E id_number resident_id.checksum"],
        ),
        (
            "17 digits",
            |m| m.id_number = head_id()[..17].to_owned(),
            &["E id_number resident_id.length"],
        ),
        (
            "trailing space",
            |m| m.id_number = format!("{} ", head_id()),
            &["E id_number resident_id.whitespace"],
        ),
        (
            "letter",
            |m| m.id_number = format!("A{}", &head_id()[1..]),
            &["E id_number resident_id.non_digit"],
        ),
        (
            "old 15-digit ID",
            |m| m.id_number = "530826900101123".into(),
            &["E id_number resident_id.old_form"],
        ),
        (
            "Excel number",
            |m| m.id_number = "5.30826E+17".into(),
            &["E id_number resident_id.length"],
        ),
        ("uppercase X", |m| m.id_number = id_ending_in_x(true), &[]),
        (
            "lowercase x",
            |m| m.id_number = id_ending_in_x(true).to_lowercase(),
            &["W id_number resident_id.lowercase_x"],
        ),
        (
            "leap day",
            |m| m.id_number = id("530826", "20000229", "011"),
            &[],
        ),
        (
            "Feb 29 of a common year",
            |m| m.id_number = id("530826", "20010229", "011"),
            &["E id_number resident_id.bad_date"],
        ),
        (
            "born today",
            |m| m.id_number = id("530826", "20240615", "011"),
            &[],
        ),
        (
            "born tomorrow",
            |m| m.id_number = id("530826", "20240616", "011"),
            &["E id_number resident_id.future_date"],
        ),
        (
            "born 1899",
            |m| m.id_number = id("530826", "18991231", "011"),
            &["E id_number resident_id.too_early"],
        ),
        (
            "abolished area",
            |m| m.id_number = id("510221", "19620704", "215"),
            &[],
        ),
        (
            "female id, sex 男",
            |m| m.id_number = id("530826", "19800101", "124"),
            &["E sex resident_id.sex_mismatch"],
        ),
        (
            "male id, sex 女",
            |m| m.sex = "2".into(),
            &["E sex resident_id.sex_mismatch"],
        ),
        (
            "female id, sex 女",
            |m| {
                m.id_number = id("530826", "19800101", "124");
                m.sex = "2".into();
            },
            &[],
        ),
        ("sex not filled", |m| m.sex = String::new(), &[]),
        (
            "sex code unknown",
            |m| m.sex = "9".into(),
            &["E sex code.unknown"],
        ),
        // An invalid ID says nothing reliable about sex, so only the ID is reported.
        (
            "invalid id and other sex",
            |m| {
                m.id_number = with_wrong_check(&head_id());
                m.sex = "2".into();
            },
            &["E id_number resident_id.checksum"],
        ),
    ];
    run_cases(&member(), cases, check);
}

#[test]
fn member_disabled_card_rules() {
    let cases: &[Case<Member>] = &[
        (
            "card with matching fields",
            |m| {
                m.id_number = format!("{}42", head_id());
                m.health = "4".into();
                m.disability_category = "4".into();
                m.disability_grade = "2".into();
            },
            &[],
        ),
        (
            "card, fields not yet filled",
            |m| {
                m.id_number = format!("{}42", head_id());
                m.health = "2,4".into();
            },
            &[
                "W disability_category disability.details_missing",
                "W disability_grade disability.details_missing",
            ],
        ),
        (
            "card but health without 残疾",
            |m| {
                m.id_number = format!("{}42", head_id());
                m.health = "2".into();
            },
            &["W health disability.card_without_health"],
        ),
        (
            "card disagrees with fields",
            |m| {
                m.id_number = format!("{}42", head_id());
                m.health = "4".into();
                m.disability_category = "1".into();
                m.disability_grade = "3".into();
            },
            &[
                "W disability_category disability.card_mismatch",
                "W disability_grade disability.card_mismatch",
            ],
        ),
        (
            "card category 8",
            |m| {
                m.id_number = format!("{}82", head_id());
                m.health = "4".into();
                m.disability_category = "4".into();
                m.disability_grade = "2".into();
            },
            &["E id_number resident_id.disability_category"],
        ),
        (
            "card grade 5",
            |m| {
                m.id_number = format!("{}45", head_id());
                m.health = "4".into();
                m.disability_category = "4".into();
                m.disability_grade = "2".into();
            },
            &["E id_number resident_id.disability_grade"],
        ),
        (
            "card with wrong id checksum",
            |m| {
                m.id_number = format!("{}42", with_wrong_check(&head_id()));
                m.health = "4".into();
                m.disability_category = "4".into();
                m.disability_grade = "2".into();
            },
            &["E id_number resident_id.checksum"],
        ),
        (
            "card with sex mismatch",
            |m| {
                m.id_number = format!("{}42", head_id());
                m.sex = "2".into();
                m.health = "4".into();
                m.disability_category = "4".into();
                m.disability_grade = "2".into();
            },
            &["E sex resident_id.sex_mismatch"],
        ),
    ];
    run_cases(&member(), cases, check);
}

#[test]
fn member_health_and_disability_rules() {
    let cases: &[Case<Member>] = &[
        (
            "disabled with details",
            |m| {
                m.health = "4".into();
                m.disability_category = "7".into();
                m.disability_grade = "1".into();
            },
            &[],
        ),
        (
            "chronic and disabled",
            |m| {
                m.health = "2,4".into();
                m.disability_category = "1".into();
                m.disability_grade = "4".into();
            },
            &[],
        ),
        ("no health", |m| m.health = String::new(), &[]),
        (
            "chronic and serious illness",
            |m| m.health = "2,3".into(),
            &[],
        ),
        (
            "healthy and ill",
            |m| m.health = "1,3".into(),
            &["E health health.healthy_with_condition"],
        ),
        (
            "healthy twice",
            |m| m.health = "1,1".into(),
            &["E health code.duplicate"],
        ),
        (
            "empty part",
            |m| m.health = "2,,3".into(),
            &["E health code.empty_part"],
        ),
        (
            "health as label",
            |m| m.health = "健康".into(),
            &["E health code.unknown"],
        ),
        (
            "disabled without details",
            |m| m.health = "4".into(),
            &[
                "W disability_category disability.details_missing",
                "W disability_grade disability.details_missing",
            ],
        ),
        (
            "category without 残疾",
            |m| m.disability_category = "4".into(),
            &["E disability_category disability.without_health_disability"],
        ),
        (
            "grade without 残疾",
            |m| {
                m.health = "2".into();
                m.disability_grade = "2".into();
            },
            &["E disability_grade disability.without_health_disability"],
        ),
        (
            "category 8",
            |m| {
                m.health = "4".into();
                m.disability_category = "8".into();
                m.disability_grade = "2".into();
            },
            &["E disability_category code.unknown"],
        ),
        (
            "grade 0",
            |m| {
                m.health = "4".into();
                m.disability_category = "1".into();
                m.disability_grade = "0".into();
            },
            &["E disability_grade code.unknown"],
        ),
    ];
    run_cases(&member(), cases, check);
}

#[test]
fn member_name_code_work_and_phone_rules() {
    let cases: &[Case<Member>] = &[
        (
            "no name",
            |m| m.name = String::new(),
            &["E name value.required"],
        ),
        (
            "blank name",
            |m| m.name = " ".into(),
            &["E name value.required"],
        ),
        ("relation 其他", |m| m.relation = "99".into(), &[]),
        (
            "relation 21",
            |m| m.relation = "21".into(),
            &["E relation code.unknown"],
        ),
        (
            "relation not padded",
            |m| m.relation = "1".into(),
            &["E relation code.unknown"],
        ),
        ("ethnicity 其他", |m| m.ethnicity = "97".into(), &[]),
        (
            "ethnicity 57",
            |m| m.ethnicity = "57".into(),
            &["E ethnicity code.unknown"],
        ),
        (
            "political 05",
            |m| m.political_status = "05".into(),
            &["E political_status code.unknown"],
        ),
        (
            "education 7",
            |m| m.education = "7".into(),
            &["E education code.unknown"],
        ),
        (
            "schooling 03",
            |m| m.schooling = "03".into(),
            &["E schooling code.unknown"],
        ),
        (
            "labor 5",
            |m| m.labor_skill = "5".into(),
            &["E labor_skill code.unknown"],
        ),
        (
            "work status 6",
            |m| m.work_status = "6".into(),
            &["E work_status code.unknown"],
        ),
        (
            "all optional codes empty",
            |m| {
                m.sex = String::new();
                m.relation = String::new();
                m.ethnicity = String::new();
                m.political_status = String::new();
                m.education = String::new();
                m.schooling = String::new();
                m.health = String::new();
                m.labor_skill = String::new();
                m.work_status = String::new();
            },
            &[],
        ),
        ("0 months", |m| m.work_months = Some(0), &[]),
        ("12 months", |m| m.work_months = Some(12), &[]),
        (
            "13 months",
            |m| m.work_months = Some(13),
            &["E work_months work_months.out_of_range"],
        ),
        (
            "-1 months",
            |m| m.work_months = Some(-1),
            &["E work_months work_months.out_of_range"],
        ),
        ("no months", |m| m.work_months = None, &[]),
        ("mobile", |m| m.phone = "15912345678".into(), &[]),
        (
            "bad phone",
            |m| m.phone = "159123".into(),
            &["E phone phone.mobile_length"],
        ),
    ];
    run_cases(&member(), cases, check);
}

#[test]
fn member_messages_name_the_form_label_and_the_value() {
    let bad = with_wrong_check(&head_id());
    let expected = head_id().chars().last().unwrap();
    let m = Member {
        id_number: bad.clone(),
        name: String::new(),
        work_months: Some(13),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        [
            "姓名不能为空".to_owned(),
            format!("证件号码 {bad} 校验位错误：应为 {expected}"),
            "务工时间(月) 13 应在0到12之间".to_owned(),
        ]
    );

    let female = id("530826", "19800101", "124");
    let m = Member {
        id_number: female.clone(),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        [format!("性别“男”与证件号码 {female} 不符：第17位表示女")]
    );

    let m = Member {
        id_number: id("530826", "20240616", "011"),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        [format!(
            "证件号码 {} 出生日期 2024-06-16 晚于今天",
            m.id_number
        )]
    );

    let lower = id_ending_in_x(true).to_lowercase();
    let m = Member {
        id_number: lower.clone(),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        [format!("证件号码 {lower} 的校验位应写成大写 X")]
    );

    let m = Member {
        health: "2".into(),
        disability_category: "4".into(),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        ["健康状况未选“残疾”，不应填写残疾类别"]
    );

    let m = Member {
        id_number: format!("{}42", head_id()),
        health: "4".into(),
        disability_category: "1".into(),
        disability_grade: "2".into(),
        ..member()
    };
    assert_eq!(
        messages(&check(&m)),
        ["残疾类别“视力残疾”与残疾人证号码上的“肢体残疾”不符"]
    );
}

/// 增员/减员 on the member's record (today is 2024-06-15).
#[test]
fn member_change_rules() {
    fn day(y: i32, m: u32, d: u32) -> Option<chrono::NaiveDate> {
        Some(super::date(y, m, d))
    }
    let cases: &[Case<Member>] = &[
        (
            "died",
            |m| {
                m.leave_date = day(2019, 3, 1);
                m.leave_reason = "1".into();
            },
            &[],
        ),
        (
            "born",
            |m| {
                m.join_date = day(2020, 1, 5);
                m.join_reason = "1".into();
            },
            &[],
        ),
        (
            "left today",
            |m| {
                m.leave_date = day(2024, 6, 15);
                m.leave_reason = "2".into();
            },
            &[],
        ),
        (
            "reason without date",
            |m| m.leave_reason = "1".into(),
            &["E leave_date member_change.date_missing"],
        ),
        (
            "date without reason",
            |m| m.join_date = day(2020, 1, 5),
            &["E join_reason member_change.reason_missing"],
        ),
        (
            "tomorrow",
            |m| {
                m.leave_date = day(2024, 6, 16);
                m.leave_reason = "1".into();
            },
            &["E leave_date member_change.future"],
        ),
        (
            "left before joining",
            |m| {
                m.join_date = day(2020, 1, 5);
                m.join_reason = "2".into();
                m.leave_date = day(2019, 1, 5);
                m.leave_reason = "4".into();
            },
            &["E leave_date member_change.left_before_joining"],
        ),
        (
            "a reason off the list",
            |m| {
                m.leave_date = day(2019, 3, 1);
                m.leave_reason = "7".into();
            },
            &["E leave_reason code.unknown"],
        ),
    ];
    run_cases(&member(), cases, check);
    let m = Member {
        leave_reason: "1".into(),
        ..member()
    };
    assert_eq!(messages(&check(&m)), ["张三办理减员，请填写减员日期"]);
}

#[test]
fn an_old_15_digit_id_offers_its_18_digit_form_and_other_issues_offer_nothing() {
    let mut m = member();
    m.id_number = "530826900101123".into();
    let issues = check(&m);
    let old = issues
        .iter()
        .find(|i| i.rule == "resident_id.old_form")
        .expect("the old form is named");
    assert_eq!(old.suggestion.as_deref(), Some("530826199001011230"));
    assert!(
        old.message.contains("应换为18位：530826199001011230"),
        "{}",
        old.message
    );
    m.id_number = head_id()[..17].to_owned();
    assert!(check(&m).iter().all(|i| i.suggestion.is_none()));
}
