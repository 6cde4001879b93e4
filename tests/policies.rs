//! Policies as data (issue 17): the report's policies in the catalogue, who qualifies in a
//! household, a student's aid from 应享未享 to 超标准, the catalogue written only by itself, a
//! county's change reaching a laptop by a changeset file, payments from two laptops merged,
//! free-text measures matched, a township's funds checked by hand, and every rule firing on the
//! demo village.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use bangfu_core::demo::write_demo_village;
use bangfu_core::exit::{Step, StepRecord, record_step};
use bangfu_core::ledger::Scope;
use bangfu_core::model::{Household, Income, Measure, Member, Payment, Village};
use bangfu_core::policy::{
    DueState, NewPayment, PolicyError, PolicyMeasure, household_due, list_policies,
    match_free_text_measures, policy_of, record_payment, record_policy_measure, scope_due,
    set_policy, township_funds,
};
use bangfu_core::store::{Filter, Store, StoreError, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use chrono::NaiveDate;
use uuid::Uuid;

/// 20 December 2017, 00:00 UTC: the filing years' end, when the report's policies applied.
const DEC_2017: u64 = 1_513_728_000_000;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn village(code: &str, name: &str, township: &str) -> Village {
    Village {
        id: Uuid::now_v7(),
        code: code.into(),
        name: name.into(),
        township: township.into(),
        county: "澜江县".into(),
        province: "云南省".into(),
        rural_population: Some(1000),
        ..Default::default()
    }
}

/// A member as the form has it: name, relation, the first 17 characters of the ID, 在校生状况,
/// 健康状况 and 劳动技能.
struct Person {
    name: &'static str,
    relation: &'static str,
    id17: &'static str,
    schooling: &'static str,
    health: &'static str,
    labor: &'static str,
}

const fn person(
    name: &'static str,
    relation: &'static str,
    id17: &'static str,
    schooling: &'static str,
    health: &'static str,
    labor: &'static str,
) -> Person {
    Person {
        name,
        relation,
        id17,
        schooling,
        health,
        labor,
    }
}

/// Files a household of the village with its people (insured, income of 4,001 元 a head in
/// 2017); its id.
fn file(
    store: &mut Store,
    village: &Village,
    seq: u32,
    attribute: &str,
    dangerous: bool,
    people: &[Person],
) -> Uuid {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: format!("{}{seq:03}", village.code),
        identify_standard: "1".into(),
        attribute: attribute.into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        dangerous_house: Some(dangerous),
        danger_level: if dangerous { "D" } else { "" }.into(),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let mut changes = vec![put_change(&household)];
    for p in people {
        let health_disabled = p.health.contains('4');
        changes.push(put_change(&Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: p.name.into(),
            relation: p.relation.into(),
            sex: if p.id17.as_bytes()[16] % 2 == 1 {
                "1"
            } else {
                "2"
            }
            .into(),
            id_number: common::id_number(p.id17),
            schooling: p.schooling.into(),
            health: p.health.into(),
            disability_category: if health_disabled { "4" } else { "" }.into(),
            disability_grade: if health_disabled { "2" } else { "" }.into(),
            labor_skill: p.labor.into(),
            medical_insurance: Some(true),
            ..Default::default()
        }));
    }
    changes.push(put_change(&Income {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        year: Some(2017),
        wage: Some(4001.0 * people.len() as f64),
        ..Default::default()
    }));
    store.write(&changes).unwrap();
    household.id
}

fn member(store: &Store, household: Uuid, name: &str) -> Uuid {
    store
        .read::<Member>(Filter::OfHousehold(household))
        .unwrap()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no member {name}"))
        .id
}

fn county_village(dir: &std::path::Path, name: &str) -> (Store, Village) {
    let mut store = common::open_at(dir, name, DEC_2017);
    let v = village("530826103201", "新文村", "勐康镇");
    store.put(&v).unwrap();
    (store, v)
}

/// The Li family: a 高中 student, a disabled 中职 student, a grandfather with a 大病, two
/// working parents.
const LI_FAMILY: [Person; 5] = [
    person("李发", "01", "53082619750101001", "00", "1", "1"),
    person("王英", "02", "53082619770101002", "00", "1", "1"),
    person("李强", "03", "53082620010101003", "11", "1", "4"),
    person("李梅", "04", "53082620000101004", "21", "4", "4"),
    person("李老汉", "11", "53082619450101005", "00", "3", "3"),
];

#[test]
fn the_catalogue_holds_the_reports_policies_and_amounts() {
    let dir = common::scratch();
    let store = common::open_at(dir.path(), "a", DEC_2017);
    let policies = list_policies(&store, 2017).unwrap();
    let shown: Vec<String> = policies
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {:?} {:?}{}",
                p.path_label(),
                p.code,
                p.name,
                p.amount,
                p.cap,
                if p.once { " 一次性" } else { "" }
            )
        })
        .collect();
    let expected = [
        "发展产业 disabled_startup 残疾人自主创业扶持 Some(4000.0) None 一次性",
        "发展产业 industry_2355 产业扶持（2355） Some(6000.0) None 一次性",
        "易地扶贫搬迁 relocation_house 易地扶贫搬迁建房补助 Some(60000.0) None 一次性",
        "转移就业 training_guided 引导性培训（户均1人） None None",
        "教育支持 disabled_high_school 残疾高中生每学年补助 Some(500.0) None",
        "教育支持 disabled_junior_college 残疾大学生（专科）一次性补助 Some(2000.0) None 一次性",
        "教育支持 disabled_university 残疾大学生（本科）一次性补助 Some(3000.0) None 一次性",
        "教育支持 disabled_vocational 残疾中专生一次性入学补助 Some(1000.0) None 一次性",
        "教育支持 edu_college 大专院校学生一次性补助 Some(8000.0) None 一次性",
        "教育支持 edu_high_school 普通高中学生一次性补助 Some(3000.0) None 一次性",
        "教育支持 edu_vocational 职高中专技校学生一次性补助 Some(2000.0) None 一次性",
        "健康救助 medical_aid 重特大疾病医疗救助 None Some(50000.0)",
        "兜底保障 fund_incentive 脱贫攻坚考核奖励 None None",
        "兜底保障 fund_work 脱贫攻坚工作经费 None None",
        "兜底保障 housing_wubao 无房五保户保障性住房 Some(60000.0) None 一次性",
        "危房改造 housing_disabled 无房一二级残疾人住房保障 None None 一次性",
    ];
    assert_eq!(shown, expected);
    let industry = policy_of(&store, 2017, "industry_2355").unwrap();
    let split: Vec<(String, f64, String)> = industry
        .parts
        .iter()
        .map(|p| (p.label.clone(), p.amount, p.to.clone()))
        .collect();
    assert_eq!(
        split,
        [
            ("到户补助".into(), 2000.0, "农户".into()),
            ("龙头企业带动".into(), 3000.0, "龙头企业".into()),
            ("如期脱贫奖励".into(), 500.0, "农户".into()),
            ("全村脱贫奖励".into(), 500.0, "村集体".into()),
        ]
    );
    assert!(
        policies
            .iter()
            .all(|p| p.source.starts_with("县脱贫攻坚工作报告："))
    );
}

#[test]
fn who_qualifies_in_a_household_follows_the_rules_over_the_filed_data() {
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    // A 五保 widow in a dangerous house, alone.
    let wubao = file(
        &mut store,
        &v,
        2,
        "3",
        true,
        &[person("赵婆婆", "01", "53082619400101006", "00", "2", "4")],
    );
    let lines = |household| -> BTreeSet<String> {
        household_due(&store, household, 2017)
            .unwrap()
            .into_iter()
            .map(|e| {
                let who = if e.member_name.is_empty() {
                    "户".to_owned()
                } else {
                    e.member_name
                };
                format!("{who} {} {}", e.policy_code, e.state.label())
            })
            .collect()
    };
    assert_eq!(
        lines(li),
        BTreeSet::from(
            [
                "户 industry_2355 应享未享",
                "户 training_guided 应享未享",
                "李强 edu_high_school 应享未享",
                "李梅 edu_vocational 应享未享",
                "李梅 disabled_vocational 应享未享",
                "李老汉 medical_aid 应享未享",
            ]
            .map(String::from)
        )
    );
    assert_eq!(
        lines(wubao),
        BTreeSet::from(["户 housing_wubao 应享未享".to_owned()])
    );
}

#[test]
fn a_students_aid_goes_from_due_to_short_to_received_and_over() {
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let qiang = member(&store, li, "李强");
    let state = |store: &Store| {
        let e = household_due(store, li, 2017)
            .unwrap()
            .into_iter()
            .find(|e| e.policy_code == "edu_high_school")
            .unwrap();
        (e.state, e.received, e.owed, e.excess)
    };
    assert_eq!(state(&store), (DueState::Due, 0.0, 3000.0, 0.0));
    let measure = record_policy_measure(
        &mut store,
        &PolicyMeasure {
            household_id: li,
            member_id: Some(qiang),
            year: 2017,
            policy_code: "edu_high_school".into(),
            amount_due: None,
            status: String::new(),
        },
    )
    .unwrap();
    let recorded = store.get::<Measure>(measure).unwrap();
    assert_eq!(
        (
            recorded.path.as_str(),
            recorded.amount_due,
            recorded.member_id
        ),
        ("04", Some(3000.0), Some(qiang))
    );
    assert_eq!(
        state(&store),
        (DueState::Due, 0.0, 3000.0, 0.0),
        "recorded, not paid"
    );

    // 户均1人: the mother attends the guided training; the household's line is met.
    let mother = member(&store, li, "王英");
    let training = record_policy_measure(
        &mut store,
        &PolicyMeasure {
            household_id: li,
            member_id: Some(mother),
            year: 2017,
            policy_code: "training_guided".into(),
            amount_due: None,
            status: "3".into(),
        },
    )
    .unwrap();
    assert_eq!(
        store.get::<Measure>(training).unwrap().description,
        "王英：引导性培训（户均1人）"
    );
    let trained = household_due(&store, li, 2017)
        .unwrap()
        .into_iter()
        .find(|e| e.policy_code == "training_guided")
        .unwrap();
    assert_eq!(
        (trained.state, trained.member_name.as_str()),
        (DueState::Received, "")
    );
    let pay = |store: &mut Store, date: &str, amount: f64| {
        record_payment(
            store,
            &NewPayment {
                measure_id: measure,
                pay_date: day(date),
                amount,
                channel: "1".into(),
                note: String::new(),
            },
        )
        .unwrap();
    };
    pay(&mut store, "2017-09-01", 2000.0);
    assert_eq!(state(&store), (DueState::Short, 2000.0, 1000.0, 0.0));
    pay(&mut store, "2017-10-01", 1000.0);
    assert_eq!(state(&store), (DueState::Received, 3000.0, 0.0, 0.0));
    pay(&mut store, "2017-11-01", 3000.0);
    assert_eq!(state(&store), (DueState::Over, 6000.0, 0.0, 3000.0));

    // A one-off aid is owed once: in 2018 the same student is no longer due.
    let e2018 = household_due(&store, li, 2018).unwrap();
    let aid = e2018
        .iter()
        .find(|e| e.policy_code == "edu_high_school")
        .unwrap();
    assert_eq!((aid.state, aid.received), (DueState::Over, 6000.0));
}

#[test]
fn wrong_measures_and_payments_are_refused_in_the_words_of_the_forms() {
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let attempt = |store: &mut Store, code: &str, member: Option<Uuid>| {
        record_policy_measure(
            store,
            &PolicyMeasure {
                household_id: li,
                member_id: member,
                year: 2017,
                policy_code: code.into(),
                amount_due: None,
                status: String::new(),
            },
        )
        .map(|_| ())
    };
    use bangfu_core::UserFacing;
    let message = |r: Result<(), PolicyError>| r.unwrap_err().message_zh();
    assert_eq!(
        message(attempt(&mut store, "edu_high_school", None)),
        "政策 edu_high_school 按人享受，请选择受益的家庭成员。"
    );
    assert_eq!(
        message(attempt(&mut store, "fund_work", None)),
        "政策 fund_work 是拨付给乡（镇）的经费，不按户登记帮扶措施；请在乡镇经费表中查看。"
    );
    assert_eq!(
        message(attempt(&mut store, "no_such", None)),
        "2017年的政策目录中没有代码为 no_such 的政策，请先核对政策目录。"
    );
    let stranger = Uuid::now_v7();
    assert_eq!(
        message(attempt(&mut store, "edu_high_school", Some(stranger))),
        "所选受益成员不是本户的家庭成员，请重新选择。"
    );
    let measure = record_policy_measure(
        &mut store,
        &PolicyMeasure {
            household_id: li,
            member_id: None,
            year: 2017,
            policy_code: "industry_2355".into(),
            amount_due: None,
            status: String::new(),
        },
    )
    .unwrap();
    let payment = |date: &str, amount: f64, channel: &str| NewPayment {
        measure_id: measure,
        pay_date: day(date),
        amount,
        channel: channel.into(),
        note: String::new(),
    };
    for (bad, rule) in [
        (payment("2018-01-05", 2000.0, "1"), "date.future"),
        (payment("2017-05-01", 0.0, "1"), "payment.amount"),
        (payment("2017-05-01", 2000.0, "9"), "code.unknown"),
    ] {
        match record_payment(&mut store, &bad) {
            Err(PolicyError::Store(StoreError::Invalid(issues))) => {
                assert_eq!(issues[0].rule, rule, "{bad:?}");
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    assert!(store.read::<Payment>(Filter::All).unwrap().is_empty());
}

#[test]
fn policy_rows_are_written_only_by_the_catalogue_which_checks_them() {
    let dir = common::scratch();
    let (mut store, _) = county_village(dir.path(), "a");
    let mut policy = policy_of(&store, 2017, "edu_high_school").unwrap();
    let row = bangfu_core::model::Policy {
        id: bangfu_core::policy::policy_id(2017, "edu_high_school"),
        year: Some(2017),
        code: "edu_high_school".into(),
        name: "普通高中".into(),
        ..Default::default()
    };
    assert!(matches!(
        store.write(&[put_change(&row)]),
        Err(StoreError::PolicyByCatalogue)
    ));
    policy.rule =
        serde_json::from_str(r#"{"who":"member","when":[{"if":"schooling","codes":["高中"]}]}"#)
            .unwrap();
    assert!(matches!(
        set_policy(&mut store, &policy),
        Err(PolicyError::UnknownCodeInRule { code }) if code == "在校生状况: 高中"
    ));
    let mut industry = policy_of(&store, 2017, "industry_2355").unwrap();
    industry.amount = Some(8000.0);
    assert!(matches!(
        set_policy(&mut store, &industry),
        Err(PolicyError::PartsDoNotAddUp { sum, amount }) if sum == 6000.0 && amount == 8000.0
    ));
    assert_eq!(
        store
            .sql()
            .unwrap()
            .query_row("SELECT count(*) FROM policy", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        0
    );
}

#[test]
fn a_policy_change_at_the_county_reaches_a_laptop_by_changeset_file() {
    let dir = common::scratch();
    let (mut county, v) = county_village(dir.path(), "county");
    let li = file(&mut county, &v, 1, "1", false, &LI_FAMILY);
    let mut laptop = common::open_at(dir.path(), "laptop", DEC_2017);
    let (file_out, _) = export_changeset(&county, None).unwrap();
    import_changeset(&mut laptop, &file_out).unwrap();
    let owed = |store: &Store| -> Vec<(String, f64)> {
        household_due(store, li, 2017)
            .unwrap()
            .into_iter()
            .filter(|e| e.member_name == "李强" || e.member_name == "李老汉")
            .map(|e| (e.policy_code, e.owed))
            .collect()
    };
    assert_eq!(
        owed(&laptop),
        [
            ("edu_high_school".into(), 3000.0),
            ("medical_aid".into(), 0.0)
        ]
    );

    // The county raises the 高中 aid for 2017 and stops the 医疗救助 line of the catalogue.
    let mut aid = policy_of(&county, 2017, "edu_high_school").unwrap();
    aid.amount = Some(3500.0);
    aid.source = "县扶贫办〔2017〕12号：高中生一次性补助提高到3500元".into();
    set_policy(&mut county, &aid).unwrap();
    let mut medical = policy_of(&county, 2017, "medical_aid").unwrap();
    medical.in_force = false;
    medical.source = "县扶贫办〔2017〕13号：医疗救助并入县级统筹基金".into();
    set_policy(&mut county, &medical).unwrap();

    let (file_out, _) = export_changeset(&county, None).unwrap();
    import_changeset(&mut laptop, &file_out).unwrap();
    assert_eq!(owed(&laptop), [("edu_high_school".into(), 3500.0)]);
    let on_laptop = policy_of(&laptop, 2017, "edu_high_school").unwrap();
    assert!(on_laptop.edited);
    assert_eq!(
        on_laptop.source,
        "县扶贫办〔2017〕12号：高中生一次性补助提高到3500元"
    );
    // Other years keep the report's figure.
    assert_eq!(
        policy_of(&laptop, 2018, "edu_high_school").unwrap().amount,
        Some(3000.0)
    );
}

#[test]
fn payments_entered_on_two_laptops_both_stay_after_an_exchange() {
    let dir = common::scratch();
    let (mut a, v) = county_village(dir.path(), "a");
    let li = file(&mut a, &v, 1, "1", false, &LI_FAMILY);
    let measure = record_policy_measure(
        &mut a,
        &PolicyMeasure {
            household_id: li,
            member_id: None,
            year: 2017,
            policy_code: "industry_2355".into(),
            amount_due: None,
            status: String::new(),
        },
    )
    .unwrap();
    let mut b = common::open_at(dir.path(), "b", DEC_2017);
    import_changeset(&mut b, &export_changeset(&a, None).unwrap().0).unwrap();
    let pay = |store: &mut Store, amount: f64, note: &str| {
        record_payment(
            store,
            &NewPayment {
                measure_id: measure,
                pay_date: day("2017-06-30"),
                amount,
                channel: "2".into(),
                note: note.into(),
            },
        )
        .unwrap();
    };
    pay(&mut a, 2000.0, "到户补助");
    pay(&mut b, 3000.0, "龙头企业带动");
    import_changeset(&mut b, &export_changeset(&a, None).unwrap().0).unwrap();
    import_changeset(&mut a, &export_changeset(&b, None).unwrap().0).unwrap();
    for store in [&a, &b] {
        let e = household_due(store, li, 2017)
            .unwrap()
            .into_iter()
            .find(|e| e.policy_code == "industry_2355")
            .unwrap();
        assert_eq!(
            (e.state, e.received, e.owed),
            (DueState::Short, 5000.0, 1000.0)
        );
        assert_eq!(store.read::<Payment>(Filter::All).unwrap().len(), 2);
    }
}

#[test]
fn free_text_measures_that_clearly_fit_a_policy_are_matched() {
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let measure = |path: &str, description: &str, amount: Option<f64>| Measure {
        id: Uuid::now_v7(),
        household_id: Some(li),
        year: Some(2017),
        path: path.into(),
        description: description.into(),
        amount,
        status: "3".into(),
        ..Default::default()
    };
    let written = [
        measure(
            "04",
            "李强就读普通高中，建档立卡学生一次性资助",
            Some(3000.0),
        ),
        // The amount is not the policy's: not clearly it.
        measure(
            "04",
            "李强就读普通高中，建档立卡学生一次性资助",
            Some(2500.0),
        ),
        // No member's name leads the description: whose aid is it?
        measure("04", "就读普通高中，一次性资助", Some(3000.0)),
        measure("01", "产业扶持6000元（“2355”），发展养牛", Some(6000.0)),
        measure("06", "李老汉患大病，落实医疗救助", Some(8000.0)),
        measure("03", "组织外出务工", Some(500.0)),
    ];
    store
        .write(&written.iter().map(put_change).collect::<Vec<_>>())
        .unwrap();
    let listed = match_free_text_measures(&mut store, &[li], false).unwrap();
    let shown: Vec<(String, String)> = listed
        .iter()
        .map(|m| (m.description.clone(), m.policy_code.clone()))
        .collect();
    let expected: Vec<(String, String)> = [
        (
            "李强就读普通高中，建档立卡学生一次性资助",
            "edu_high_school",
        ),
        ("产业扶持6000元（“2355”），发展养牛", "industry_2355"),
        ("李老汉患大病，落实医疗救助", "medical_aid"),
    ]
    .map(|(d, c)| (d.to_owned(), c.to_owned()))
    .to_vec();
    assert_eq!(shown, expected);
    assert!(
        store
            .read::<Measure>(Filter::All)
            .unwrap()
            .iter()
            .all(|m| m.policy_id.is_none()),
        "listing writes nothing"
    );
    match_free_text_measures(&mut store, &[li], true).unwrap();
    let medical = store.get::<Measure>(written[4].id).unwrap();
    assert_eq!(
        (medical.member_id, medical.amount_due),
        (Some(member(&store, li, "李老汉")), Some(8000.0))
    );
    assert!(
        match_free_text_measures(&mut store, &[li], false)
            .unwrap()
            .is_empty(),
        "matched once"
    );
}

/// A complete record of each exit step in 2017, as the exit procedure tests make them.
fn exit_step(step: Step) -> StepRecord {
    let (date, people) = match step {
        Step::Survey => ("2017-08-01", "村委会 王村长、工作队 刘队员"),
        Step::Deliberation => ("2017-08-05", "村两委、驻村工作队"),
        Step::PublicNotice => ("2017-08-11", "村委会"),
        Step::TownshipCheck => ("2017-08-20", "乡镇工作站"),
        Step::CountyApproval => ("2017-09-01", "县扶贫办"),
    };
    let mut r = StepRecord::new(step, day(date), people);
    match step {
        Step::Survey => {
            r.household_signed = Some(true);
            r.food_secure = Some(true);
            r.clothing_secure = Some(true);
            r.signatures = "户主、王村长、刘队员".into();
        }
        Step::Deliberation => {
            r.vote_type = "2".into();
            r.result = "1".into();
            r.work_team_present = Some(true);
        }
        Step::PublicNotice => {
            r.notice_start = Some(day("2017-08-06"));
            r.notice_end = Some(day("2017-08-10"));
        }
        Step::TownshipCheck | Step::CountyApproval => {}
    }
    common::signed_and_reviewed(&mut r);
    r
}

#[test]
fn the_funds_of_one_township_are_what_the_formula_gives_by_hand() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "station", DEC_2017);
    let xinwen = village("530826103201", "新文村", "勐康镇");
    let nanpo = village("530826103202", "南坡村", "勐康镇");
    let other = village("530826104201", "河边村", "勐撒镇");
    for v in [&xinwen, &nanpo, &other] {
        store.put(v).unwrap();
    }
    let adult = |name, id17| person(name, "01", id17, "00", "1", "1");
    // 新文村: the Li family (5 people) relocated and exited in 2017; a couple (2).
    let li = file(&mut store, &xinwen, 1, "1", false, &LI_FAMILY);
    file(
        &mut store,
        &xinwen,
        2,
        "1",
        false,
        &[
            adult("周平", "53082619800101011"),
            person("吴兰", "02", "53082619820101012", "00", "1", "1"),
        ],
    );
    // 南坡村: a relocated household of 2.
    let nan = file(
        &mut store,
        &nanpo,
        1,
        "2",
        false,
        &[
            adult("杨山", "53082619700101021"),
            person("杨树", "03", "53082619990101023", "00", "1", "1"),
        ],
    );
    // A household of a roll imported as 已脱贫(享受政策) in 2017, with no procedure in the program:
    // its 计划脱贫年度 is the year it counts in.
    let imported = Household {
        id: Uuid::now_v7(),
        village_id: Some(nanpo.id),
        code: "530826103202002".into(),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "2".into(),
        main_cause: "05".into(),
        plan_exit_year: Some(2017),
        ..Default::default()
    };
    store
        .write(&[
            put_change(&imported),
            put_change(&Member {
                id: Uuid::now_v7(),
                household_id: Some(imported.id),
                name: "罗成".into(),
                relation: "01".into(),
                sex: "1".into(),
                id_number: common::id_number("53082619850101031"),
                ..Default::default()
            }),
        ])
        .unwrap();
    // 勐撒镇 is another township: its household counts nowhere here.
    let far = file(
        &mut store,
        &other,
        1,
        "1",
        false,
        &[adult("白云", "53082619900101031")],
    );
    for household in [li, nan, far] {
        store
            .put(&Measure {
                id: Uuid::now_v7(),
                household_id: Some(household),
                year: Some(2017),
                path: "02".into(),
                description: "易地扶贫搬迁，集中安置".into(),
                amount: Some(60000.0),
                status: "2".into(),
                ..Default::default()
            })
            .unwrap();
    }
    for step in Step::ALL {
        record_step(&mut store, li, &exit_step(step)).unwrap();
    }

    let funds = township_funds(&store, "勐康镇", 2017).unwrap();
    // By hand: exited 2 (the Li family by the procedure, 罗成's imported household), relocated 2
    // (Li, 杨山), people 5 + 2 + 2 + 1 = 10.
    assert_eq!(
        (
            funds.exited_households,
            funds.relocated_households,
            funds.poor_people
        ),
        (2, 2, 10)
    );
    let lines: Vec<String> = funds
        .lines
        .iter()
        .map(|l| {
            let shares: Vec<String> = l.shares.iter().map(|(to, a)| format!("{to} {a}")).collect();
            format!("{} {} [{}]", l.policy_name, l.amount, shares.join("，"))
        })
        .collect();
    assert_eq!(
        lines,
        [
            // 2 × 1,000, shared 2:3:5.
            "脱贫攻坚考核奖励 2000 [县级挂钩部门 400，乡（镇） 600，村 1000]",
            // 500,000 + 2 × 100 + 10 × 100.
            "脱贫攻坚工作经费 501200 []",
        ]
    );
    assert_eq!(funds.total, 503_200.0);
    assert_eq!(
        funds.lines[1].formula,
        "保底500000元 + 搬迁户2×100元 + 贫困人口10×100元"
    );
    // The workbook says the same to a second reader.
    let out = dir.path().join("乡镇经费表.xlsx");
    bangfu_core::policy::write_township_funds(&store, "勐康镇", 2017, &out).unwrap();
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    use calamine::{Data, Reader};
    let sheet = book.worksheet_range("乡镇经费").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(
        rows.last().unwrap()[..3],
        [
            Data::String("合计".into()),
            Data::Empty,
            Data::Float(503_200.0)
        ]
    );
    let shares: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|r| match (&r[3], &r[4]) {
            (Data::String(to), Data::Float(a)) => Some((to.clone(), *a)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shares,
        [
            ("县级挂钩部门".to_owned(), 400.0),
            ("乡（镇）".to_owned(), 600.0),
            ("村".to_owned(), 1000.0)
        ]
    );
    // The exit was in 2017: 2018 counts none.
    assert_eq!(
        township_funds(&store, "勐康镇", 2018)
            .unwrap()
            .exited_households,
        0
    );
}

#[test]
fn every_rule_fires_on_the_demo_village() {
    let dir = common::scratch();
    // 30 June 2026, 01:00 UTC: the demo's recent years are 2025 and 2026.
    let mut store = common::open_at(dir.path(), "demo", 1_782_781_200_000);
    write_demo_village(&mut store).unwrap();
    let due = scope_due(&store, &Scope::Village("530826103201".into()), 2026).unwrap();
    assert_eq!(due.households, 300);
    let silent: Vec<&str> = due
        .totals
        .iter()
        .filter(|t| t.qualifying == 0)
        .map(|t| t.policy_name.as_str())
        .collect();
    assert!(silent.is_empty(), "rules naming no one: {silent:?}");
    let states: BTreeSet<DueState> = due.lines.iter().map(|l| l.state).collect();
    assert_eq!(
        states,
        BTreeSet::from([
            DueState::Due,
            DueState::Short,
            DueState::Over,
            DueState::NotQualified
        ])
    );
    let flagged: Vec<(String, String, f64)> = due
        .lines
        .iter()
        .filter(|l| matches!(l.state, DueState::Over | DueState::NotQualified))
        .map(|l| (l.policy_code.clone(), l.state.label().to_owned(), l.excess))
        .collect();
    assert_eq!(
        flagged,
        [
            ("medical_aid".into(), "超标准".into(), 2000.0),
            ("edu_high_school".into(), "超标准".into(), 3000.0),
            ("edu_high_school".into(), "不符合条件".into(), 3000.0),
        ]
    );
    // The funds of the demo's township add up from its own counts.
    let funds = township_funds(&store, "勐康镇", 2026).unwrap();
    let work = funds
        .lines
        .iter()
        .find(|l| l.policy_code == "fund_work")
        .unwrap();
    assert_eq!(
        work.amount,
        500_000.0 + 100.0 * (funds.relocated_households + funds.poor_people) as f64
    );
}

#[test]
fn two_copies_setting_the_same_policy_meet_on_one_row_and_a_person_settles_it() {
    use bangfu_core::model::{FieldValue, Policy, Table};
    use bangfu_core::store::Change;
    let dir = common::scratch();
    let mut county = common::open_at(dir.path(), "县扶贫办", DEC_2017);
    let mut station = common::open_at(dir.path(), "乡镇工作站", DEC_2017 + 5);
    for (store, amount) in [(&mut county, 3500.0), (&mut station, 4000.0)] {
        let mut aid = policy_of(store, 2017, "edu_high_school").unwrap();
        aid.amount = Some(amount);
        aid.source = format!("高中生一次性补助{amount}元");
        set_policy(store, &aid).unwrap();
    }
    import_changeset(&mut station, &export_changeset(&county, None).unwrap().0).unwrap();
    import_changeset(&mut county, &export_changeset(&station, None).unwrap().0).unwrap();
    let id = bangfu_core::policy::policy_id(2017, "edu_high_school");
    for store in [&county, &station] {
        assert_eq!(store.read::<Policy>(Filter::All).unwrap().len(), 1);
        assert!(
            bangfu_core::sync::review::review_items(store)
                .unwrap()
                .iter()
                .any(|i| i.row_id == id.to_string()),
            "the two amounts wait for a person"
        );
    }
    let shown = |store: &Store| policy_of(store, 2017, "edu_high_school").unwrap().amount;
    assert_eq!(
        shown(&county),
        shown(&station),
        "both show the same one meanwhile"
    );
    // Settling the conflict is the one write of a policy row `Store::write` takes. Every field
    // both wrote is a review item (each copy made the row); a person keeps 3,500 元 and, for the
    // fields both gave the same value, that value.
    use bangfu_core::model::Entity;
    let current: std::collections::HashMap<&str, FieldValue> = county
        .get::<Policy>(id)
        .unwrap()
        .to_fields()
        .into_iter()
        .collect();
    let fields: Vec<String> = bangfu_core::sync::review::review_items(&county)
        .unwrap()
        .into_iter()
        .filter(|i| i.row_id == id.to_string())
        .map(|i| i.field)
        .collect();
    assert!(fields.contains(&"amount".to_owned()), "{fields:?}");
    for field in fields {
        let value = match field.as_str() {
            "amount" => FieldValue::Real(3500.0),
            "source" => FieldValue::Text("高中生一次性补助3500元".into()),
            other => current[other].clone(),
        };
        county
            .write(&[Change::Resolve {
                table: Table::Policy,
                id,
                field,
                value,
            }])
            .unwrap();
    }
    import_changeset(&mut station, &export_changeset(&county, None).unwrap().0).unwrap();
    assert_eq!(shown(&station), Some(3500.0));
    let left: Vec<String> = bangfu_core::sync::review::review_items(&station)
        .unwrap()
        .into_iter()
        .filter(|i| i.row_id == id.to_string())
        .map(|i| i.field)
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_policy_reaches_a_village_laptop_through_the_hub_and_its_payments_come_back() {
    use bangfu_hub::Scope as HubScope;
    use bangfu_hub::client::{ClientConfig, HubClient};
    use bangfu_hub::server::{RunningHub, bind};
    use bangfu_hub::storage::{HubStorage, SqliteStorage};
    let dir = common::scratch();
    let (mut county, v) = county_village(dir.path(), "县扶贫办");
    let li = file(&mut county, &v, 1, "1", false, &LI_FAMILY);
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", DEC_2017 + 10);
    let storage = std::sync::Arc::new(SqliteStorage::open(&dir.path().join("hub")).unwrap());
    let running = RunningHub::start(bind("127.0.0.1:0").unwrap(), storage.clone()).unwrap();
    let url = running.url();
    let client = HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    });
    for (store, scope) in [(&mut county, "530826"), (&mut laptop, "530826103201")] {
        let code = storage
            .issue_code(&HubScope::parse(scope).unwrap())
            .unwrap();
        client.enrol(store, &url, &code).unwrap();
    }
    client.sync_once(&mut county).unwrap();
    client.sync_once(&mut laptop).unwrap();
    let mut aid = policy_of(&county, 2017, "edu_high_school").unwrap();
    aid.amount = Some(3500.0);
    aid.source = "县扶贫办〔2017〕12号".into();
    set_policy(&mut county, &aid).unwrap();
    client.sync_once(&mut county).unwrap();
    client.sync_once(&mut laptop).unwrap();
    assert_eq!(
        policy_of(&laptop, 2017, "edu_high_school").unwrap().amount,
        Some(3500.0)
    );

    // The work team records the aid and its payment; the county sees it paid.
    let qiang = member(&laptop, li, "李强");
    let measure = record_policy_measure(
        &mut laptop,
        &PolicyMeasure {
            household_id: li,
            member_id: Some(qiang),
            year: 2017,
            policy_code: "edu_high_school".into(),
            amount_due: None,
            status: String::new(),
        },
    )
    .unwrap();
    record_payment(
        &mut laptop,
        &NewPayment {
            measure_id: measure,
            pay_date: day("2017-12-01"),
            amount: 3500.0,
            channel: "1".into(),
            note: String::new(),
        },
    )
    .unwrap();
    client.sync_once(&mut laptop).unwrap();
    client.sync_once(&mut county).unwrap();
    let e = household_due(&county, li, 2017)
        .unwrap()
        .into_iter()
        .find(|e| e.policy_code == "edu_high_school")
        .unwrap();
    assert_eq!((e.state, e.received), (DueState::Received, 3500.0));

    // A village laptop may not set the county's policies: the hub holds its op aside.
    let mut own = policy_of(&laptop, 2017, "edu_high_school").unwrap();
    own.amount = Some(9000.0);
    set_policy(&mut laptop, &own).unwrap();
    assert!(client.sync_once(&mut laptop).is_err(), "held, not stored");
    client.sync_once(&mut county).unwrap();
    assert_eq!(
        policy_of(&county, 2017, "edu_high_school").unwrap().amount,
        Some(3500.0)
    );
}

/// The household page's 易地扶贫搬迁 box: shown for a household with a 易地扶贫搬迁 measure or a
/// stage, offering the next stage; a stage recorded twice, a day out of the stages' order or
/// no 安置点 is refused in Chinese with nothing written; a 只读 person may not record.
#[test]
fn the_relocation_box_offers_the_next_stage_and_refuses_a_repeat_or_a_day_out_of_order() {
    use bangfu_core::UserFacing;
    use bangfu_core::access::Role;
    use bangfu_core::policy::{NewStage, household_relocation, record_stage};
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let b = household_relocation(&store, li).unwrap();
    assert_eq!(
        (
            b.relevant,
            b.next_stage.as_deref(),
            b.editable,
            b.stages.len()
        ),
        (false, Some("1"), true, 0)
    );
    store
        .put(&Measure {
            id: Uuid::now_v7(),
            household_id: Some(li),
            year: Some(2017),
            path: "02".into(),
            description: "易地扶贫搬迁建房补助".into(),
            status: "2".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(household_relocation(&store, li).unwrap().relevant);

    let stage = |code: &str, date: &str, site: &str| NewStage {
        household_id: li,
        site: site.into(),
        stage: code.into(),
        stage_date: day(date),
        loan: (code == "1").then_some(30_000.0),
        note: String::new(),
        site_village: None,
    };
    const SITE: &str = "勐康镇集镇安置点";
    // Recorded out of order of entry: 基础 first, then 开工 on an earlier day.
    record_stage(&mut store, &stage("2", "2017-05-20", SITE)).unwrap();
    record_stage(&mut store, &stage("1", "2017-03-10", SITE)).unwrap();
    let b = household_relocation(&store, li).unwrap();
    let lines: Vec<(&str, String)> = b
        .stages
        .iter()
        .map(|s| (s.label.as_str(), s.stage_date.unwrap().to_string()))
        .collect();
    assert_eq!(
        lines,
        [
            ("开工", "2017-03-10".to_owned()),
            ("基础", "2017-05-20".to_owned())
        ]
    );
    assert_eq!(
        (b.site.as_str(), b.next_stage.as_deref(), b.loans),
        (SITE, Some("3"), 30_000.0)
    );

    let refusals: &[(NewStage, &str)] = &[
        (
            stage("2", "2017-06-01", SITE),
            "本户已登记过“基础”（2017-05-20），同一进度不能重复登记。",
        ),
        (
            stage("3", "2017-05-01", SITE),
            "“主体”的日期 2017-05-01 早于已登记的“基础”（2017-05-20），请核对日期：建设进度应按开工、基础、主体、竣工、入住的先后。",
        ),
        (stage("3", "2017-08-15", " "), "安置点"),
        (stage("4", "2018-01-10", SITE), "晚于今天"),
        (stage("9", "2017-08-15", SITE), "建设进度"),
    ];
    for (input, words) in refusals {
        let message = record_stage(&mut store, input).unwrap_err().message_zh();
        assert!(message.contains(words), "{message}");
    }
    assert_eq!(household_relocation(&store, li).unwrap().stages.len(), 2);

    // 只读: the box shows, and recording is refused by the store.
    store.add_person("刘书记", Role::Leader, "2468").unwrap();
    store.sign_in("刘书记", "2468").unwrap();
    store.add_person("陈检查", Role::ReadOnly, "1357").unwrap();
    store.sign_in("陈检查", "1357").unwrap();
    let b = household_relocation(&store, li).unwrap();
    assert_eq!((b.editable, b.stages.len()), (false, 2));
    let refused = record_stage(&mut store, &stage("3", "2017-08-15", SITE)).unwrap_err();
    assert!(
        refused.message_zh().contains("只读") || refused.message_zh().contains("只有"),
        "{}",
        refused.message_zh()
    );
    store.sign_in("刘书记", "2468").unwrap();
    record_stage(&mut store, &stage("3", "2017-08-15", SITE)).unwrap();
    assert_eq!(
        household_relocation(&store, li)
            .unwrap()
            .next_stage
            .as_deref(),
        Some("4")
    );
}

#[test]
fn a_relocated_households_house_is_followed_stage_by_stage() {
    use bangfu_core::policy::{NewStage, record_stage, relocation_progress};
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    store
        .put(&village("530826103202", "勐康村", "勐康镇"))
        .unwrap();
    assert_eq!(relocation_progress(&store, li).unwrap(), None);
    // The 安置点's village is named from 主体 on (the ledger takes the latest stage naming it).
    let stage = |code: &str, date: &str, loan: Option<f64>| NewStage {
        household_id: li,
        site: "勐康镇集镇安置点".into(),
        stage: code.into(),
        stage_date: day(date),
        loan,
        note: String::new(),
        site_village: (code == "3").then(|| "530826103202".to_owned()),
    };
    for (code, date, loan) in [
        ("1", "2017-03-10", Some(30_000.0)),
        ("2", "2017-05-20", None),
        ("3", "2017-08-15", None),
    ] {
        record_stage(&mut store, &stage(code, date, loan)).unwrap();
    }
    let p = relocation_progress(&store, li).unwrap().unwrap();
    assert_eq!(
        (p.site.as_str(), p.stage.as_str(), p.stage_date, p.loans),
        (
            "勐康镇集镇安置点",
            "主体",
            Some(day("2017-08-15")),
            30_000.0
        )
    );
    let stages: Vec<&str> = p.stages.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(stages, ["开工", "基础", "主体"]);
    // 竣工 dated after today is refused; nothing is written.
    match record_stage(&mut store, &stage("4", "2018-01-10", None)) {
        Err(PolicyError::Store(StoreError::Invalid(issues))) => {
            assert_eq!(issues[0].rule, "date.future")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        relocation_progress(&store, li)
            .unwrap()
            .unwrap()
            .stages
            .len(),
        3
    );

    // A household followed only by its stages counts as relocated in the township's funds,
    // and the 易地搬迁 ledger shows where its house stands beside its measure.
    assert_eq!(
        township_funds(&store, "勐康镇", 2017)
            .unwrap()
            .relocated_households,
        1
    );
    record_policy_measure(
        &mut store,
        &PolicyMeasure {
            household_id: li,
            member_id: None,
            year: 2017,
            policy_code: "relocation_house".into(),
            amount_due: None,
            status: String::new(),
        },
    )
    .unwrap();
    let out = dir.path().join("搬迁.xlsx");
    bangfu_core::ledger::export_ledger(
        &store,
        bangfu_core::ledger::LedgerKind::Relocation,
        &Scope::All,
        &out,
    )
    .unwrap();
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    let sheet = book.worksheet_range("易地搬迁台帐").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    let header = &rows[2];
    let at = |name: &str| {
        header
            .iter()
            .position(|c| c == &Data::String(name.into()))
            .unwrap()
    };
    let row = &rows[3];
    assert_eq!(row[at("安置点")], Data::String("勐康镇集镇安置点".into()));
    assert_eq!(
        row[at("安置点所在村")],
        Data::String("勐康村（530826103202）".into())
    );
    assert_eq!(row[at("建设进度")], Data::String("主体".into()));
    assert_eq!(row[at("贷款金额(元)")], Data::Float(30_000.0));
    assert_eq!(row[at("应发金额(元)")], Data::Float(60_000.0));
}

/// 入住 at a 安置点 in another village offers the household's move there (the village, the
/// 户编号 it would take) and does not move it; the move is `moving::move_household`, made when
/// the person accepts. 入住 in its own village, or an earlier stage, offers nothing; an unknown
/// village of the 安置点 refuses the stage with nothing written. The 安置点's village is kept
/// (issue 17): the box names it and, while the household is filed elsewhere after 入住, offers
/// the move again; a copy that receives the stages by a changeset shows the same.
#[test]
fn moving_in_at_a_site_of_another_village_offers_the_move_and_makes_none() {
    use bangfu_core::UserFacing;
    use bangfu_core::moving::move_household;
    use bangfu_core::policy::{NewStage, household_relocation, record_stage};
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    let site_village = village("530826103202", "勐康村", "勐康镇");
    store.put(&site_village).unwrap();
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let code_of = |store: &Store| store.get::<Household>(li).unwrap().code;
    let old_code = code_of(&store);
    let stage = |code: &str, date: &str, village: Option<&str>| NewStage {
        household_id: li,
        site: "勐康镇集镇安置点".into(),
        stage: code.into(),
        stage_date: day(date),
        loan: None,
        note: String::new(),
        site_village: village.map(str::to_owned),
    };
    for (code, date) in [
        ("1", "2017-03-10"),
        ("2", "2017-05-20"),
        ("3", "2017-06-20"),
    ] {
        let recorded = record_stage(&mut store, &stage(code, date, Some("530826103202"))).unwrap();
        assert_eq!(recorded.move_offer, None, "no offer before 入住 ({code})");
    }
    record_stage(&mut store, &stage("4", "2017-09-01", None)).unwrap();

    let unknown = record_stage(&mut store, &stage("5", "2017-10-01", Some("530826103299")))
        .unwrap_err()
        .message_zh();
    assert!(
        unknown.contains("找不到村代码为 530826103299 的村"),
        "{unknown}"
    );
    assert_eq!(household_relocation(&store, li).unwrap().stages.len(), 4);

    let b = household_relocation(&store, li).unwrap();
    assert_eq!(
        (b.site_village.map(|v| (v.code, v.name)), b.move_offer),
        (Some(("530826103202".to_owned(), "勐康村".to_owned())), None),
        "named from 开工 on, no move before 入住"
    );

    let recorded =
        record_stage(&mut store, &stage("5", "2017-10-01", Some("530826103202"))).unwrap();
    let offer = recorded
        .move_offer
        .expect("入住 in another village offers the move");
    // 暂不迁移: the box still names the village and offers the move, here and on a copy that
    // got the stages by a changeset.
    let b = household_relocation(&store, li).unwrap();
    assert_eq!(
        b.site_village.as_ref().map(|v| v.name.as_str()),
        Some("勐康村")
    );
    assert_eq!(b.move_offer.as_ref(), Some(&offer));
    let stages = store
        .read::<bangfu_core::model::Relocation>(Filter::OfHousehold(li))
        .unwrap();
    let named: Vec<(&str, &str)> = stages
        .iter()
        .map(|r| (r.stage.as_str(), r.site_village.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("1", "530826103202"),
            ("2", "530826103202"),
            ("3", "530826103202"),
            ("4", ""),
            ("5", "530826103202")
        ]
    );
    let copy_dir = common::scratch();
    let mut copy = common::open_at(copy_dir.path(), "b", DEC_2017);
    import_changeset(&mut copy, &export_changeset(&store, None).unwrap().0).unwrap();
    assert_eq!(
        household_relocation(&copy, li).unwrap().move_offer.as_ref(),
        Some(&offer)
    );
    assert_eq!(
        (
            offer.household_code.as_str(),
            offer.from_village.as_str(),
            offer.to_village_code.as_str(),
            offer.to_village_name.as_str(),
            offer.new_code.as_str(),
        ),
        (
            old_code.as_str(),
            "新文村",
            "530826103202",
            "勐康村",
            "530826103202001"
        )
    );
    // Offered, not made.
    let h = store.get::<Household>(li).unwrap();
    assert_eq!(
        (h.village_id, h.code.clone()),
        (Some(v.id), old_code.clone())
    );

    let moved = move_household(&mut store, li, &offer.to_village_code).unwrap();
    assert_eq!(moved.new_code, offer.new_code);
    let h = store.get::<Household>(li).unwrap();
    assert_eq!(
        (h.village_id, code_of(&store)),
        (Some(site_village.id), offer.new_code)
    );
    // Filed in the 安置点's village now: named, no longer offered.
    let b = household_relocation(&store, li).unwrap();
    assert_eq!(
        (
            b.site_village.map(|v| v.code),
            b.move_offer.map(|o| o.to_village_code)
        ),
        (Some("530826103202".to_owned()), None)
    );

    // Another household settling at a 安置点 of its own village is offered nothing.
    let wang = file(
        &mut store,
        &v,
        2,
        "1",
        false,
        &[person("王大", "01", "53082619800101006", "00", "1", "1")],
    );
    let own = |code: &str, date: &str| NewStage {
        household_id: wang,
        ..stage(code, date, Some("530826103201"))
    };
    record_stage(&mut store, &own("1", "2017-03-10")).unwrap();
    let settled = record_stage(&mut store, &own("5", "2017-10-01")).unwrap();
    assert_eq!(settled.move_offer, None);
    let b = household_relocation(&store, wang).unwrap();
    assert_eq!(
        (b.site_village.map(|v| v.name), b.move_offer),
        (Some("新文村".to_owned()), None)
    );
}

/// The 易地搬迁台帐's 安置点所在村 of each household, by 户编号.
fn relocation_ledger_villages(store: &Store, dir: &std::path::Path) -> Vec<(String, String)> {
    use calamine::{Data, Reader};
    let out = dir.join("搬迁台帐.xlsx");
    bangfu_core::ledger::export_ledger(
        store,
        bangfu_core::ledger::LedgerKind::Relocation,
        &Scope::All,
        &out,
    )
    .unwrap();
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    let sheet = book.worksheet_range("易地搬迁台帐").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    let header = &rows[2];
    let at = |name: &str| {
        header
            .iter()
            .position(|c| c == &Data::String(name.into()))
            .unwrap()
    };
    let text = |d: &Data| match d {
        Data::String(s) => s.clone(),
        _ => String::new(),
    };
    rows[3..]
        .iter()
        .filter(|r| matches!(&r[at("户编号")], Data::String(s) if s.len() == 15))
        .map(|r| (text(&r[at("户编号")]), text(&r[at("安置点所在村")])))
        .collect()
}

/// Issue 17: a household that reached 入住 before the box asked for the 安置点's village has
/// none. Nothing in the data says it for sure, so nothing fills it: the box says it is missing
/// and asks for it, hinting the village the other households of the same 安置点 all named (a
/// hint, never written by itself), and the 易地搬迁台帐 says 未填. Once a person names it, the
/// box names it, offers the move, and the ledger shows it.
#[test]
fn a_household_moved_in_before_the_site_village_was_asked_shows_it_missing_and_is_asked_for_it() {
    use bangfu_core::UserFacing;
    use bangfu_core::policy::{NewStage, household_relocation, record_stage, set_site_village};
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    store
        .put(&village("530826103202", "勐康村", "勐康镇"))
        .unwrap();
    let li = file(&mut store, &v, 1, "1", false, &LI_FAMILY);
    let wang = file(
        &mut store,
        &v,
        2,
        "1",
        false,
        &[person("王大", "01", "53082619800101006", "00", "1", "1")],
    );
    let stage = |household, code: &str, date: &str, village: Option<&str>| NewStage {
        household_id: household,
        site: "勐康镇集镇安置点".into(),
        stage: code.into(),
        stage_date: day(date),
        loan: None,
        note: String::new(),
        site_village: village.map(str::to_owned),
    };
    // Li's stages as an older version recorded them: no village named.
    for (code, date) in [("1", "2017-03-10"), ("5", "2017-10-01")] {
        record_stage(&mut store, &stage(li, code, date, None)).unwrap();
    }
    for household in [li, wang] {
        record_policy_measure(
            &mut store,
            &PolicyMeasure {
                household_id: household,
                member_id: None,
                year: 2017,
                policy_code: "relocation_house".into(),
                amount_due: None,
                status: String::new(),
            },
        )
        .unwrap();
    }
    record_stage(&mut store, &stage(wang, "1", "2017-03-12", None)).unwrap();
    let b = household_relocation(&store, li).unwrap();
    assert_eq!(
        (
            b.site_village_missing,
            b.site_village_hint,
            b.site_village,
            b.move_offer
        ),
        (true, None, None, None),
        "missing, and no household of the site names one yet"
    );
    assert!(
        !household_relocation(&store, wang)
            .unwrap()
            .site_village_missing,
        "not at 入住 yet: not asked"
    );
    let li_code = store.get::<Household>(li).unwrap().code;
    let wang_code = store.get::<Household>(wang).unwrap().code;
    assert_eq!(
        relocation_ledger_villages(&store, dir.path()),
        [
            (li_code.clone(), "未填".to_owned()),
            (wang_code.clone(), String::new())
        ]
    );

    // Wang moves in at the same 安置点 naming 勐康村: a hint for Li, and only a hint.
    record_stage(
        &mut store,
        &stage(wang, "5", "2017-10-02", Some("530826103202")),
    )
    .unwrap();
    let b = household_relocation(&store, li).unwrap();
    let hint = b
        .site_village_hint
        .expect("the site's other household names it");
    assert_eq!(
        (
            hint.village.code.as_str(),
            hint.village.name.as_str(),
            hint.households
        ),
        ("530826103202", "勐康村", 1)
    );
    assert!(b.site_village_missing && b.site_village.is_none());
    let li_named: Vec<String> = store
        .read::<bangfu_core::model::Relocation>(Filter::OfHousehold(li))
        .unwrap()
        .into_iter()
        .map(|r| r.site_village)
        .collect();
    assert_eq!(li_named, ["", ""], "nothing written by the hint");

    // An unknown village is refused with nothing written; a household not at 入住 is refused.
    let unknown = set_site_village(&mut store, li, "530826103299").unwrap_err();
    assert!(
        unknown
            .message_zh()
            .contains("找不到村代码为 530826103299 的村"),
        "{}",
        unknown.message_zh()
    );
    let zhao = file(
        &mut store,
        &v,
        3,
        "1",
        false,
        &[person("赵三", "01", "53082619800101007", "00", "1", "1")],
    );
    let not_in = set_site_village(&mut store, zhao, "530826103202").unwrap_err();
    assert_eq!(not_in.kind(), "relocation_not_moved_in");
    assert!(
        household_relocation(&store, li)
            .unwrap()
            .site_village_missing
    );

    // The person names it: kept on the 入住 stage, the move offered, the ledger shows it.
    let saved = set_site_village(&mut store, li, "530826103202").unwrap();
    assert!(!saved.relocation.site_village_missing);
    assert_eq!(saved.relocation.site_village_hint, None);
    assert_eq!(
        saved.relocation.site_village.map(|v| v.name),
        Some("勐康村".to_owned())
    );
    let offer = saved
        .move_offer
        .expect("filed in 新文村: the move is offered");
    assert_eq!(offer.to_village_code, "530826103202");
    assert_eq!(
        store.get::<Household>(li).unwrap().code,
        li_code,
        "offered, not made"
    );
    assert_eq!(
        relocation_ledger_villages(&store, dir.path()),
        [
            (li_code, "勐康村（530826103202）".to_owned()),
            (wang_code, "勐康村（530826103202）".to_owned())
        ]
    );
}

/// Two households of the same 安置点 naming different villages give no hint: the box asks.
#[test]
fn households_of_one_site_naming_different_villages_give_no_hint() {
    use bangfu_core::policy::{NewStage, household_relocation, record_stage};
    let dir = common::scratch();
    let (mut store, v) = county_village(dir.path(), "a");
    for (code, name) in [("530826103202", "勐康村"), ("530826103203", "南榔村")] {
        store.put(&village(code, name, "勐康镇")).unwrap();
    }
    let ids = [
        "53082619800101001",
        "53082619800101002",
        "53082619800101003",
    ];
    let households: Vec<Uuid> = (1..=3)
        .zip(ids)
        .map(|(seq, id)| {
            file(
                &mut store,
                &v,
                seq,
                "1",
                false,
                &[person("户主", "01", id, "00", "1", "1")],
            )
        })
        .collect();
    let moved_in = |household, village: Option<&str>| NewStage {
        household_id: household,
        site: "集镇安置点".into(),
        stage: "5".into(),
        stage_date: day("2017-10-01"),
        loan: None,
        note: String::new(),
        site_village: village.map(str::to_owned),
    };
    record_stage(&mut store, &moved_in(households[0], None)).unwrap();
    record_stage(&mut store, &moved_in(households[1], Some("530826103202"))).unwrap();
    record_stage(&mut store, &moved_in(households[2], Some("530826103203"))).unwrap();
    let b = household_relocation(&store, households[0]).unwrap();
    assert!(b.site_village_missing);
    assert_eq!(b.site_village_hint, None);
}
