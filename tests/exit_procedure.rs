//! The exit procedure (脱贫退出) through the core's public API: the steps in order, every
//! illegal transition refused with nothing written, send-back and redo, 返贫 with the history
//! kept, the village checks, and two devices advancing the same household concurrently.

// The helpers of this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::exit::procedure::{
    Phase, Step, StepRecord, history, procedure_state, record_step, resolve_record_conflict,
    return_to_poverty, send_back,
};
use bangfu_core::exit::{
    ExitError, double_confirmation_sheet, evaluate_household, evaluate_village, exit_overview,
};
use bangfu_core::model::{ExitStep, Household, Income, Member, Village};
use bangfu_core::store::{Store, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::review::{ReviewKey, resolve_key, review_items};
use chrono::NaiveDate;
use uuid::Uuid;

const T0: u64 = 1_500_000_000_000; // July 2017

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A village of 云南省 and one household of three, filed on `store`.
fn file_household(store: &mut Store, rural_population: i64) -> (Uuid, Uuid) {
    let village = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        province: "云南省".into(),
        rural_population: Some(rural_population),
        ..Default::default()
    };
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: "530826103201001".into(),
        main_cause: "01".into(),
        poverty_status: "1".into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let members = ["张大山", "李秀英", "张小花"].map(|name| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: name.into(),
        relation: if name == "张大山" { "01" } else { "02" }.into(),
        id_number: String::new(),
        medical_insurance: Some(true),
        pension_insurance: Some(true),
        ..Default::default()
    });
    let income = Income {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        year: Some(2017),
        wage: Some(12003.0),
        ..Default::default()
    };
    let mut changes = vec![
        put_change(&village),
        put_change(&household),
        put_change(&income),
    ];
    changes.extend(members.iter().map(put_change));
    store.write(&changes).unwrap();
    (village.id, household.id)
}

/// A complete, valid record of each step, a few days apart.
fn step(step: Step) -> StepRecord {
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
            r.signatures = "张大山、王村长、刘队员".into();
        }
        Step::Deliberation => {
            r.vote_type = "2".into();
            r.result = "1".into();
            r.work_team_present = Some(true);
        }
        Step::PublicNotice => {
            // 6 to 10 August: exactly the 5 days required.
            r.notice_start = Some(day("2017-08-06"));
            r.notice_end = Some(day("2017-08-10"));
        }
        Step::TownshipCheck | Step::CountyApproval => {}
    }
    common::signed_and_reviewed(&mut r);
    r
}

#[derive(Debug, Clone)]
enum Event {
    Do(Box<StepRecord>),
    SendBack(Step, &'static str),
    Return(&'static str),
}

fn doing(record: StepRecord) -> Event {
    Event::Do(Box::new(record))
}

fn apply(store: &mut Store, household: Uuid, event: &Event) -> Result<(), ExitError> {
    let people = "工作队";
    match event {
        Event::Do(r) => record_step(store, household, r).map(|_| ()),
        Event::SendBack(s, date) => {
            send_back(store, household, *s, day(date), people, "材料不全").map(|_| ())
        }
        Event::Return(date) => {
            return_to_poverty(store, household, day(date), people, "因病返贫").map(|_| ())
        }
    }
}

fn steps(upto: usize) -> Vec<Event> {
    Step::ALL[..upto].iter().map(|s| doing(step(*s))).collect()
}

#[test]
fn a_household_that_refused_to_sign_passes_deliberation_only_with_a_recorded_reason_and_person() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    let mut survey = step(Step::Survey);
    survey.household_signed = Some(false);
    record_step(&mut store, household, &survey).unwrap();
    let agreed = step(Step::Deliberation);
    let refused = record_step(&mut store, household, &agreed);
    match &refused {
        Err(e @ ExitError::ExceptionUnrecorded { why }) => {
            assert!(why.contains("未签字"), "{why}");
            assert!(
                e.message_zh().contains("理由和决定人"),
                "{}",
                e.message_zh()
            );
        }
        other => panic!("expected the exception asked for, got {other:?}"),
    }
    assert_eq!(
        history(&store, household).unwrap().len(),
        1,
        "nothing written"
    );
    // A reason without the person deciding is not enough either.
    let mut half = agreed.clone();
    half.exception_reason = Some("户主外出务工，电话确认同意".into());
    assert!(record_step(&mut store, household, &half).is_err());
    let mut whole = half.clone();
    whole.exception_by = Some("李明 村党总支书记".into());
    record_step(&mut store, household, &whole).unwrap();
    let trail = history(&store, household).unwrap();
    assert_eq!(
        trail.last().map(|r| r.reason.as_str()),
        Some("户主外出务工，电话确认同意（决定人：李明 村党总支书记）")
    );
}

#[test]
fn a_household_below_the_line_is_refused_at_deliberation_without_a_reason() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    let income: Income = store
        .read::<Income>(bangfu_core::store::Filter::OfHousehold(household))
        .unwrap()
        .remove(0);
    store
        .write(&[put_change(&Income {
            wage: Some(9000.0),
            ..income
        })])
        .unwrap();
    record_step(&mut store, household, &step(Step::Survey)).unwrap();
    let refused = record_step(&mut store, household, &step(Step::Deliberation));
    match refused {
        Err(ExitError::ExceptionUnrecorded { why }) => assert!(why.contains("一超"), "{why}"),
        other => panic!("expected the failing income named, got {other:?}"),
    }
    // 不同意 needs no exception: the household goes back to the start.
    let mut disagree = step(Step::Deliberation);
    disagree.result = "2".into();
    record_step(&mut store, household, &disagree).unwrap();
}

#[test]
fn the_five_steps_in_order_exit_the_household() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    for event in steps(5) {
        apply(&mut store, household, &event).unwrap();
    }
    let state = procedure_state(&store, household).unwrap();
    assert_eq!(
        (state.phase, state.done, state.next, state.round),
        (Phase::Exited, Some(Step::CountyApproval), None, 1)
    );
    let h: Household = store.get(household).unwrap();
    assert_eq!(h.poverty_status, "2");
    let trail: Vec<(Option<i64>, String)> = history(&store, household)
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.step))
        .collect();
    assert_eq!(
        trail,
        (1..=5)
            .map(|i| (Some(i), i.to_string()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn every_illegal_transition_is_refused_and_writes_nothing() {
    let with = |s: Step, edit: fn(&mut StepRecord)| {
        let mut r = step(s);
        edit(&mut r);
        doing(r)
    };
    let cases: Vec<(&str, Vec<Event>, Event, &str)> = vec![
        (
            "skip the survey",
            vec![],
            doing(step(Step::Deliberation)),
            "wrong_step",
        ),
        (
            "skip the deliberation",
            steps(1),
            doing(step(Step::PublicNotice)),
            "wrong_step",
        ),
        (
            "skip to the county",
            steps(2),
            doing(step(Step::CountyApproval)),
            "wrong_step",
        ),
        (
            "redo an earlier step",
            steps(2),
            doing(step(Step::Survey)),
            "wrong_step",
        ),
        (
            "repeat the last step",
            steps(3),
            doing(step(Step::PublicNotice)),
            "wrong_step",
        ),
        (
            "second 县审定销号",
            steps(5),
            doing(step(Step::CountyApproval)),
            "already_exited",
        ),
        (
            "survey after 销号",
            steps(5),
            doing(step(Step::Survey)),
            "already_exited",
        ),
        (
            "next step after a send-back without redo",
            [
                steps(2),
                vec![Event::SendBack(Step::Deliberation, "2017-08-06")],
            ]
            .concat(),
            doing(step(Step::PublicNotice)),
            "wrong_step",
        ),
        (
            "send back a step not yet done",
            steps(1),
            Event::SendBack(Step::PublicNotice, "2017-08-02"),
            "step_not_recorded",
        ),
        (
            "send back after 销号",
            steps(5),
            Event::SendBack(Step::TownshipCheck, "2017-09-02"),
            "already_exited",
        ),
        (
            "返贫 before 销号",
            steps(4),
            Event::Return("2017-09-02"),
            "not_exited",
        ),
        (
            "a date before the previous step",
            steps(1),
            with(Step::Deliberation, |r| r.date = day("2017-07-31")),
            "date_before_previous",
        ),
        (
            "deliberation without the work team",
            steps(1),
            with(Step::Deliberation, |r| r.work_team_present = Some(false)),
            "work_team_absent",
        ),
        (
            "deliberation without a vote type",
            steps(1),
            with(Step::Deliberation, |r| r.vote_type.clear()),
            "missing_field",
        ),
        (
            "a notice of 4 days",
            steps(2),
            with(Step::PublicNotice, |r| {
                r.notice_start = Some(day("2017-08-07"))
            }),
            "notice_too_short",
        ),
        (
            "a notice recorded before it ends",
            steps(2),
            with(Step::PublicNotice, |r| r.date = day("2017-08-09")),
            "notice_not_over",
        ),
        (
            "objections without how they were settled",
            steps(2),
            with(Step::PublicNotice, |r| {
                r.objections = "村民李某认为收入偏高".into()
            }),
            "objections_unsettled",
        ),
        (
            "township check without signatures",
            steps(3),
            with(Step::TownshipCheck, |r| {
                r.signatures.clear();
                r.signers = None;
            }),
            "signer_missing",
        ),
        (
            "county approval with its 统计局长 left blank",
            steps(4),
            with(Step::CountyApproval, |r| {
                if let Some(s) = r.signers.as_mut() {
                    s.retain(|s| s.role != "统计局长");
                }
            }),
            "signer_missing",
        ),
        (
            "a signer under a title the step does not have",
            steps(4),
            with(Step::CountyApproval, |r| {
                if let Some(s) = r.signers.as_mut() {
                    s.push(bangfu_core::exit::Signer {
                        role: "村主任".into(),
                        name: "李四".into(),
                    });
                }
            }),
            "unknown_signer_role",
        ),
        (
            "a notice without its 民主评议",
            steps(2),
            with(Step::PublicNotice, |r| r.review_date = None),
            "missing_field",
        ),
        (
            "a 民主评议 where only half agreed",
            steps(2),
            with(Step::PublicNotice, |r| {
                r.review_attendance = Some(40);
                r.review_agreed = Some(20);
            }),
            "review_without_majority",
        ),
        (
            "a 民主评议 with more agreeing than took part",
            steps(2),
            with(Step::PublicNotice, |r| r.review_agreed = Some(41)),
            "review_figures",
        ),
        (
            "a 民主评议 after the notice started",
            steps(2),
            with(Step::PublicNotice, |r| {
                r.review_date = Some(day("2017-08-07"))
            }),
            "review_after_notice",
        ),
        (
            "survey without the household's answer",
            vec![],
            with(Step::Survey, |r| r.household_signed = None),
            "missing_field",
        ),
    ];
    let dir = common::scratch();
    for (i, (name, before, attempt, kind)) in cases.into_iter().enumerate() {
        let mut store = common::open_at(dir.path(), &format!("case{i}"), T0);
        let (_, household) = file_household(&mut store, 1000);
        for event in &before {
            apply(&mut store, household, event).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let ops = store.op_count().unwrap();
        let state = procedure_state(&store, household).unwrap();
        let err = apply(&mut store, household, &attempt).expect_err(name);
        assert_eq!(err.kind(), kind, "{name}: {}", err.message_zh());
        assert_eq!(
            store.op_count().unwrap(),
            ops,
            "{name}: something was written"
        );
        assert_eq!(procedure_state(&store, household).unwrap(), state, "{name}");
    }
}

#[test]
fn a_step_sent_back_is_redone_and_the_trail_keeps_both() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    for event in steps(2) {
        apply(&mut store, household, &event).unwrap();
    }
    let state = send_back(
        &mut store,
        household,
        Step::Deliberation,
        day("2017-08-06"),
        "乡镇工作站",
        "表决人数不足",
    )
    .unwrap();
    assert_eq!(state.phase, Phase::SentBack);
    assert_eq!(state.next, Some(Step::Deliberation));
    assert_eq!(
        state.sent_back,
        Some((Step::Deliberation, "表决人数不足".into()))
    );
    let err = apply(&mut store, household, &doing(step(Step::PublicNotice))).unwrap_err();
    assert_eq!(
        err.message_zh(),
        "村两委商议已被退回，须先重新办理村两委商议，不能办理村评议公示。"
    );
    let mut redo = step(Step::Deliberation);
    redo.date = day("2017-08-06");
    record_step(&mut store, household, &redo).unwrap();
    for event in &steps(5)[2..] {
        apply(&mut store, household, event).unwrap();
    }
    assert_eq!(
        procedure_state(&store, household).unwrap().phase,
        Phase::Exited
    );
    let trail: Vec<(String, String)> = history(&store, household)
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.step))
        .collect();
    let expected: Vec<(String, String)> = [
        ("1", "1"),
        ("1", "2"),
        ("2", "2"),
        ("1", "2"),
        ("1", "3"),
        ("1", "4"),
        ("1", "5"),
    ]
    .iter()
    .map(|(a, s)| ((*a).into(), (*s).into()))
    .collect();
    assert_eq!(trail, expected);
}

#[test]
fn return_to_poverty_reopens_with_the_history_kept() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    for event in steps(5) {
        apply(&mut store, household, &event).unwrap();
    }
    let state = return_to_poverty(
        &mut store,
        household,
        day("2018-03-01"),
        "工作队",
        "因病返贫",
    )
    .unwrap();
    assert_eq!(
        (state.phase, state.round, state.next),
        (Phase::NotStarted, 2, Some(Step::Survey))
    );
    assert_eq!(
        store.get::<Household>(household).unwrap().poverty_status,
        "4"
    );
    // The first round's survey no longer answers 两不愁 for the new round.
    let evaluation = evaluate_household(&store, household, 2017).unwrap();
    let food = evaluation.checks.iter().find(|c| c.code == "food").unwrap();
    assert_eq!(food.reason, "尚未入户调查。");
    // The new round starts from the survey, dated after the return.
    let mut survey = step(Step::Survey);
    survey.date = day("2018-06-01");
    let state = record_step(&mut store, household, &survey).unwrap();
    assert_eq!((state.round, state.done), (2, Some(Step::Survey)));
    let rounds: Vec<(Option<i64>, String)> = history(&store, household)
        .unwrap()
        .into_iter()
        .map(|r| (r.round, r.action))
        .collect();
    assert_eq!(rounds.len(), 7);
    assert_eq!(rounds[5], (Some(2), "3".into()));
    assert_eq!(rounds[6], (Some(2), "1".into()));
    assert!(rounds[..5].iter().all(|(round, _)| *round == Some(1)));
}

/// Two devices holding the same household, after `prefix` was done on the first.
fn two_devices(dir: &std::path::Path, prefix: usize) -> (Store, Store, Uuid) {
    let mut a = common::open_at(dir, "village-laptop", T0);
    let mut b = common::open_at(dir, "township-station", T0 + 1000);
    let (_, household) = file_household(&mut a, 1000);
    for event in steps(prefix) {
        apply(&mut a, household, &event).unwrap();
    }
    exchange(&mut a, &mut b);
    (a, b, household)
}

fn exchange(a: &mut Store, b: &mut Store) {
    let (to_b, _) = export_changeset(a, None).unwrap();
    let (to_a, _) = export_changeset(b, None).unwrap();
    import_changeset(b, &to_b).unwrap();
    import_changeset(a, &to_a).unwrap();
}

fn exit_review_fields(store: &Store) -> Vec<String> {
    review_items(store)
        .unwrap()
        .into_iter()
        .filter(|i| i.table == "脱贫退出程序")
        .inspect(|i| assert_eq!(i.household_code, "530826103201001"))
        .map(|i| i.field)
        .collect()
}

#[test]
fn both_devices_recording_the_deliberation_meet_in_review_not_in_a_merge() {
    let dir = common::scratch();
    let (mut a, mut b, household) = two_devices(dir.path(), 1);
    let mut on_b = step(Step::Deliberation);
    on_b.date = day("2017-08-06");
    on_b.vote_type = "3".into();
    record_step(&mut a, household, &step(Step::Deliberation)).unwrap();
    record_step(&mut b, household, &on_b).unwrap();
    exchange(&mut a, &mut b);
    for store in [&a, &b] {
        let fields = exit_review_fields(store);
        assert!(fields.contains(&"step_date".to_owned()), "{fields:?}");
        assert!(fields.contains(&"vote_type".to_owned()), "{fields:?}");
        let state = procedure_state(store, household).unwrap();
        assert_eq!(state.phase, Phase::Blocked);
        assert_eq!(state.done, Some(Step::Survey));
    }
    let err = record_step(&mut a, household, &step(Step::PublicNotice)).unwrap_err();
    assert_eq!(err.kind(), "open_conflict");
    // Settling the record (keeping the secret ballot) lets the procedure go on.
    let kept = history(&b, household).unwrap()[1].clone();
    let kept = ExitStep {
        vote_type: "3".into(),
        step_date: Some(day("2017-08-06")),
        ..kept
    };
    let state = resolve_record_conflict(&mut a, household, 2, &kept).unwrap();
    assert_eq!(
        (state.phase, state.next),
        (Phase::InProgress, Some(Step::PublicNotice))
    );
    assert_eq!(history(&a, household).unwrap()[1].vote_type, "3");
    // The same kind of conflict settled on the 冲突与重复 page, field by field: the page's
    // resolution reaches the procedure's rows though the public write refuses them.
    let mut on_a = step(Step::Survey);
    on_a.date = day("2017-08-01");
    let mut on_b = step(Step::Survey);
    on_b.date = day("2017-08-02");
    let cd = dir.path().join("cd");
    std::fs::create_dir_all(&cd).unwrap();
    let (mut c, mut d, other) = two_devices(&cd, 0);
    record_step(&mut c, other, &on_a).unwrap();
    record_step(&mut d, other, &on_b).unwrap();
    exchange(&mut c, &mut d);
    let date_item = |store: &Store| {
        review_items(store)
            .unwrap()
            .into_iter()
            .find(|i| i.table == "脱贫退出程序" && i.field == "step_date")
    };
    let item = date_item(&c).expect("the two dates meet in review");
    let key = ReviewKey {
        table: item.table.clone(),
        row_id: item.row_id.clone(),
        field: item.field.clone(),
    };
    resolve_key(&mut c, &key, "2017-08-02").unwrap();
    assert!(date_item(&c).is_none(), "settled from the review page");
    assert_eq!(
        history(&c, other).unwrap()[0].step_date,
        Some(day("2017-08-02"))
    );
    record_step(&mut a, household, &step(Step::PublicNotice)).unwrap();
    exchange(&mut a, &mut b);
    assert!(exit_review_fields(&b).is_empty());
    assert_eq!(
        procedure_state(&b, household).unwrap().done,
        Some(Step::PublicNotice)
    );
}

#[test]
fn a_notice_recorded_while_the_deliberation_was_sent_back_is_a_review_item() {
    let dir = common::scratch();
    let (mut a, mut b, household) = two_devices(dir.path(), 2);
    // The village laptop records the notice and then the township check; meanwhile the
    // township station sends the deliberation back.
    record_step(&mut a, household, &step(Step::PublicNotice)).unwrap();
    record_step(&mut a, household, &step(Step::TownshipCheck)).unwrap();
    send_back(
        &mut b,
        household,
        Step::Deliberation,
        day("2017-08-07"),
        "乡镇工作站",
        "未见表决记录",
    )
    .unwrap();
    let b_version = history(&b, household).unwrap()[2].clone();
    exchange(&mut a, &mut b);
    for store in [&a, &b] {
        let fields = exit_review_fields(store);
        assert!(fields.contains(&"action".to_owned()), "{fields:?}");
        let state = procedure_state(store, household).unwrap();
        assert_eq!(
            state.phase,
            Phase::Blocked,
            "no step may be taken past a conflict"
        );
        assert_ne!(state.done, Some(Step::TownshipCheck));
    }
    // The station keeps the send-back: the notice is gone from the current record (it stays in
    // the op log) and the township check after it is kept in the trail but not counted.
    let state = resolve_record_conflict(&mut b, household, 3, &b_version).unwrap();
    assert_eq!(state.phase, Phase::SentBack);
    assert_eq!(state.next, Some(Step::Deliberation));
    assert_eq!(state.irregular.len(), 1);
    assert_eq!(state.irregular[0].seq, 4);
    exchange(&mut a, &mut b);
    assert_eq!(procedure_state(&a, household).unwrap(), state);
    assert_eq!(history(&a, household).unwrap().len(), 4);
    let mut redo = step(Step::Deliberation);
    redo.date = day("2017-08-21");
    let state = record_step(&mut a, household, &redo).unwrap();
    assert_eq!(state.done, Some(Step::Deliberation));
}

#[test]
fn village_incidence_is_checked_on_both_sides_of_three_percent() {
    let dir = common::scratch();
    // 3 poor people in a village of 100 is exactly 3%: not below the limit.
    for (population, status) in [(100, "not_met"), (101, "met")] {
        let mut store = common::open_at(dir.path(), &format!("v{population}"), T0);
        let (village, _) = file_household(&mut store, population);
        let evaluation = evaluate_village(&store, village, 2017).unwrap();
        assert_eq!(evaluation.poor_people, 3);
        let incidence = &evaluation.checks[0];
        assert_eq!(
            serde_json::to_value(incidence.status).unwrap(),
            status,
            "{population}: {}",
            incidence.reason
        );
        assert!(!evaluation.meets, "the checklist is not filled in");
    }
}

#[test]
fn the_overview_counts_steps_and_finds_who_is_ready() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (village, household) = file_household(&mut store, 1000);
    // Members without resident IDs: their ages (义务教育) are unknown, so not "ready".
    let overview = exit_overview(&store, Some(village), 2017).unwrap();
    assert_eq!(overview.by_step[0].households, 1);
    assert!(overview.ready_not_started.is_empty());
    // Every check the filed data answers is met once the ages are known; 两不愁 waits for the
    // survey and does not hold the household back.
    let mut members: Vec<Member> = store
        .read(bangfu_core::store::Filter::OfHousehold(household))
        .unwrap();
    for (m, id) in members.iter_mut().zip([
        "530826197003050015",
        "530826197206110014",
        "53082619700101001X",
    ]) {
        m.id_number = id.into();
    }
    let changes: Vec<_> = members.iter().map(put_change).collect();
    store.write(&changes).unwrap();
    let overview = exit_overview(&store, Some(village), 2017).unwrap();
    let ready: Vec<&str> = overview
        .ready_not_started
        .iter()
        .map(|r| r.household_code.as_str())
        .collect();
    assert_eq!(ready, ["530826103201001"]);
    for event in steps(2) {
        apply(&mut store, household, &event).unwrap();
    }
    send_back(
        &mut store,
        household,
        Step::Deliberation,
        day("2017-08-06"),
        "工作站",
        "缺签字",
    )
    .unwrap();
    let overview = exit_overview(&store, Some(village), 2017).unwrap();
    let counts: Vec<(String, usize)> = overview
        .by_step
        .iter()
        .filter(|c| c.households > 0)
        .map(|c| (c.label.clone(), c.households))
        .collect();
    assert_eq!(counts, [("已退回".to_owned(), 1)]);
    assert_eq!(overview.stuck.len(), 1);
    assert_eq!(overview.stuck[0].reason, "村两委商议被退回：缺签字");
}

#[test]
fn a_household_that_refuses_to_sign_gets_its_help_sheet() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let (_, household) = file_household(&mut store, 1000);
    let mut survey = step(Step::Survey);
    survey.household_signed = Some(false);
    survey.notes = "户主不同意脱贫，拒绝签字".into();
    record_step(&mut store, household, &survey).unwrap();
    let sheet = double_confirmation_sheet(&store, household, 2017).unwrap();
    assert_eq!(sheet.title, "贫困户帮扶情况认定表");
    assert_eq!(sheet.family_size, 3);
    assert_eq!(sheet.income_per_capita, Some(4001.0));
    assert_eq!(sheet.head_name, "张大山");
    assert_eq!(sheet.survey_notes, "户主不同意脱贫，拒绝签字");
}

/// 村评议公示 keeps its 民主评议 and its signers by the seed's titles; the trail reads them.
#[test]
fn the_notice_keeps_its_democratic_review_and_signers_by_role() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", T0);
    let (_, household) = file_household(&mut store, 1000);
    for event in steps(3) {
        apply(&mut store, household, &event).unwrap();
    }
    let notice = history(&store, household)
        .unwrap()
        .into_iter()
        .find(|r| r.step == Step::PublicNotice.code())
        .unwrap();
    assert_eq!(
        notice.signatures,
        "村党总支书记：村党总支书记签字人；村主任：村主任签字人；第一书记：第一书记签字人；\
         入户核查人员：入户核查人员签字人"
    );
    assert_eq!(
        (
            notice.review_date,
            notice.review_attendance,
            notice.review_agreed
        ),
        (Some(day("2017-08-05")), Some(40), Some(36))
    );
    let details = bangfu_core::exit::forms::record_details(&notice);
    assert_eq!(details[0], "民主评议 2017-08-05：参加40人，同意36人");
}
