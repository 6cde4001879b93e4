//! One exit step for a list of households (issue 16): one 村评议公示 covering 20 households in
//! one transaction; a household that cannot take the step refuses the whole list with who and
//! why, unless the person asked to skip it; each household checked as one at a time would be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::exit::procedure::{Phase, Step, StepRecord, procedure_state, record_step};
use bangfu_core::exit::{
    BatchStep, ExitError, HouseholdException, households_due_for_step, procedure_trail,
    record_step_for_households,
};
use bangfu_core::model::{Household, Income, Member, Village};
use bangfu_core::store::{Store, put_change};
use chrono::NaiveDate;
use uuid::Uuid;

const CLOCK: u64 = 1_577_000_000_000; // December 2019

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// `count` households of three, each with 2017's income well above the line.
fn village_of(store: &mut Store, count: u32) -> (Village, Vec<Uuid>) {
    let v = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        province: "云南省".into(),
        ..Default::default()
    };
    let mut changes = vec![put_change(&v)];
    let mut ids = Vec::new();
    for seq in 1..=count {
        let h = Household {
            id: Uuid::now_v7(),
            village_id: Some(v.id),
            code: format!("{}{seq:03}", v.code),
            main_cause: "01".into(),
            poverty_status: "1".into(),
            dangerous_house: Some(false),
            water_safe: Some(true),
            water_difficult: Some(false),
            ..Default::default()
        };
        changes.push(put_change(&h));
        for n in 0..3 {
            changes.push(put_change(&Member {
                id: Uuid::now_v7(),
                household_id: Some(h.id),
                name: format!("成员{n}"),
                relation: if n == 0 { "01" } else { "03" }.into(),
                medical_insurance: Some(true),
                pension_insurance: Some(true),
                ..Default::default()
            }));
        }
        changes.push(put_change(&Income {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            year: Some(2017),
            wage: Some(30000.0),
            ..Default::default()
        }));
        ids.push(h.id);
    }
    store.write(&changes).unwrap();
    (v, ids)
}

fn record(step: Step, date: &str) -> StepRecord {
    let mut r = StepRecord::new(step, day(date), "村两委、驻村工作队");
    match step {
        Step::Survey => {
            r.household_signed = Some(true);
            r.food_secure = Some(true);
            r.clothing_secure = Some(true);
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
        Step::TownshipCheck | Step::CountyApproval => r.result = "1".into(),
    }
    common::signed_and_reviewed(&mut r);
    r
}

fn ops(store: &Store) -> i64 {
    store
        .sql()
        .unwrap()
        .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
        .unwrap()
}

/// 21 households, all surveyed and deliberated one by one, except the last (only surveyed).
fn ready_for_notice(store: &mut Store) -> (Village, Vec<Uuid>) {
    let (v, ids) = village_of(store, 21);
    for (n, id) in ids.iter().enumerate() {
        record_step(store, *id, &record(Step::Survey, "2017-08-01")).unwrap();
        if n < 20 {
            record_step(store, *id, &record(Step::Deliberation, "2017-08-05"))
                .unwrap_or_else(|e| panic!("{}", e.message_zh()));
        }
    }
    (v, ids)
}

#[test]
fn one_notice_for_twenty_households_is_one_transaction() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let (v, ids) = ready_for_notice(&mut store);
    let due = households_due_for_step(&store, v.id, Step::PublicNotice).unwrap();
    assert_eq!(due.iter().map(|h| h.id).collect::<Vec<_>>(), ids[..20]);
    let batches_before: i64 = store
        .sql()
        .unwrap()
        .query_row("SELECT count(*) FROM op_batch", [], |r| r.get(0))
        .unwrap();
    let outcome = record_step_for_households(
        &mut store,
        &BatchStep {
            households: ids[..20].to_vec(),
            record: record(Step::PublicNotice, "2017-08-11"),
            skip_failing: false,
            exceptions: Vec::new(),
            check_only: false,
        },
    )
    .unwrap();
    assert_eq!(outcome.recorded.len(), 20);
    assert!(outcome.failed.is_empty());
    for id in &ids[..20] {
        assert_eq!(
            procedure_state(&store, *id).unwrap().done,
            Some(Step::PublicNotice)
        );
    }
    let batches_after: i64 = store
        .sql()
        .unwrap()
        .query_row("SELECT count(*) FROM op_batch", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        batches_after - batches_before,
        1,
        "one signed write for the list"
    );
}

#[test]
fn a_household_that_cannot_take_the_step_refuses_the_list_unless_skipped() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let (_, ids) = ready_for_notice(&mut store);
    let before = ops(&store);
    let batch = |skip_failing| BatchStep {
        households: ids.clone(),
        record: record(Step::PublicNotice, "2017-08-11"),
        skip_failing,
        exceptions: Vec::new(),
        check_only: false,
    };
    let error = record_step_for_households(&mut store, &batch(false)).unwrap_err();
    let message = error.message_zh();
    assert!(matches!(error, ExitError::BatchRefused { ref failed, .. } if failed.len() == 1));
    assert!(
        message.contains("名单中有 1 户不能办理村评议公示，全部未保存")
            && message
                .contains("户 530826103201021：退出程序不能跳过或颠倒：下一步应办理村两委商议"),
        "{message}"
    );
    assert_eq!(ops(&store), before, "nothing written");

    let outcome = record_step_for_households(&mut store, &batch(true)).unwrap();
    assert_eq!(outcome.recorded.len(), 20);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].code, "530826103201021");
    assert_eq!(
        procedure_state(&store, ids[20]).unwrap().done,
        Some(Step::Survey),
        "the skipped household is where it was"
    );
    assert_eq!(
        procedure_state(&store, ids[0]).unwrap().phase,
        Phase::InProgress
    );
    // The same list again: every household now refuses, as one at a time would.
    let again = record_step_for_households(&mut store, &batch(true)).unwrap();
    assert!(again.recorded.is_empty());
    assert_eq!(again.failed.len(), 21);
}

#[test]
fn a_list_naming_a_household_twice_or_none_is_refused() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let (_, ids) = village_of(&mut store, 2);
    let twice = BatchStep {
        households: vec![ids[0], ids[1], ids[0]],
        record: record(Step::Survey, "2017-08-01"),
        skip_failing: true,
        exceptions: Vec::new(),
        check_only: false,
    };
    let error = record_step_for_households(&mut store, &twice).unwrap_err();
    assert_eq!(
        error.message_zh(),
        "户 530826103201001 在名单中出现了两次，请核对名单。"
    );
    let none = BatchStep {
        households: Vec::new(),
        ..twice
    };
    assert_eq!(
        record_step_for_households(&mut store, &none)
            .unwrap_err()
            .message_zh(),
        "请至少选择一户。"
    );
    assert_eq!(procedure_state(&store, ids[0]).unwrap().records, 0);
}

/// Four surveyed households for one 村两委商议: 001 and 004 meet the standard; 002's 2017
/// income is below the line; 003 refused to sign the 双认定表.
fn ready_for_deliberation(store: &mut Store) -> Vec<Uuid> {
    let (_, ids) = village_of(store, 4);
    let poor = store
        .read::<Income>(bangfu_core::store::Filter::All)
        .unwrap()
        .into_iter()
        .find(|i| i.household_id == Some(ids[1]))
        .unwrap();
    store
        .write(&[put_change(&Income {
            wage: Some(1000.0),
            ..poor
        })])
        .unwrap();
    for (n, id) in ids.iter().enumerate() {
        let mut survey = record(Step::Survey, "2017-08-01");
        survey.household_signed = Some(n != 2);
        record_step(store, *id, &survey).unwrap_or_else(|e| panic!("{}", e.message_zh()));
    }
    ids
}

/// Which households a case gives an exception: (index in the list, reason, person).
type Given = &'static [(usize, &'static str, &'static str)];

/// (case, exceptions given, check only, households refused by 户编号 suffix, or the whole
/// list's refusal message)
type Case = (
    &'static str,
    Given,
    bool,
    Result<&'static [&'static str], &'static str>,
);

/// 村两委商议 for a list with failing households: each needs its own reason and person, the
/// list stays all or nothing, and a reason is kept on that household's record only.
#[test]
fn a_deliberation_for_a_list_carries_each_failing_households_reason() {
    const BY: &str = "王五（村党总支书记）";
    let cases: &[Case] = &[
        ("no reason at all", &[], false, Ok(&["002", "003"])),
        (
            "a reason for one of the two",
            &[(1, "因病住院，已落实医疗救助，收入可达标", BY)],
            false,
            Ok(&["003"]),
        ),
        (
            "reasons without the person deciding",
            &[(1, "因病住院", ""), (2, "户主外出务工未能签字", " ")],
            false,
            Ok(&["002", "003"]),
        ),
        (
            "a reason for a household not in the list",
            &[(9, "理由", BY)],
            false,
            Err("写了例外理由，但不在本次办理的名单中"),
        ),
        (
            "two reasons for one household",
            &[(1, "理由一", BY), (1, "理由二", BY)],
            false,
            Err("写了两条例外理由，请只保留一条。"),
        ),
        (
            "a check names who needs a reason",
            &[],
            true,
            Ok(&["002", "003"]),
        ),
        (
            "both reasons recorded",
            &[
                (1, "因病住院，已落实医疗救助，收入可达标", BY),
                (2, "户主外出务工未能签字，电话确认同意", BY),
            ],
            false,
            Ok(&[]),
        ),
    ];
    for (case, given, check_only, expected) in cases {
        let dir = common::scratch();
        let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
        let ids = ready_for_deliberation(&mut store);
        let outsider = Uuid::now_v7();
        let before = ops(&store);
        let batch = BatchStep {
            households: ids.clone(),
            record: record(Step::Deliberation, "2017-08-05"),
            skip_failing: false,
            exceptions: given
                .iter()
                .map(|(n, reason, by)| HouseholdException {
                    household_id: ids.get(*n).copied().unwrap_or(outsider),
                    reason: (*reason).into(),
                    by: (*by).into(),
                })
                .collect(),
            check_only: *check_only,
        };
        let result = record_step_for_households(&mut store, &batch);
        match (expected, result) {
            (Err(message), Err(error)) => {
                assert!(
                    error.message_zh().contains(message),
                    "{case}: {}",
                    error.message_zh()
                );
                assert_eq!(ops(&store), before, "{case}: nothing written");
            }
            (Ok(refused), Ok(outcome)) if *check_only => {
                let codes: Vec<&str> = outcome.failed.iter().map(|f| &f.code[12..]).collect();
                assert_eq!(codes, *refused, "{case}");
                assert!(
                    outcome
                        .failed
                        .iter()
                        .all(|f| f.kind == "exception_unrecorded"),
                    "{case}: {:?}",
                    outcome.failed
                );
                assert_eq!(outcome.recorded.len(), 4 - refused.len(), "{case}");
                assert_eq!(ops(&store), before, "{case}: a check writes nothing");
            }
            (Ok([]), Ok(outcome)) => {
                assert_eq!(outcome.recorded.len(), 4, "{case}");
                for (n, id) in ids.iter().enumerate() {
                    let trail = procedure_trail(&store, *id).unwrap();
                    let reason = &trail.records.last().unwrap().record.reason;
                    let expected = given
                        .iter()
                        .find(|(i, ..)| *i == n)
                        .map(|(_, r, by)| format!("{r}（决定人：{by}）"))
                        .unwrap_or_default();
                    assert_eq!(*reason, expected, "{case}: household {n}");
                    assert_eq!(trail.state.done, Some(Step::Deliberation), "{case}");
                }
            }
            (Ok(refused), Err(error)) => {
                let ExitError::BatchRefused { ref failed, .. } = error else {
                    panic!("{case}: {}", error.message_zh());
                };
                let codes: Vec<&str> = failed.iter().map(|(c, _)| &c[12..]).collect();
                assert_eq!(codes, *refused, "{case}");
                let message = error.message_zh();
                assert!(
                    message.contains("村两委商议同意其退出须写明理由和决定人")
                        && message.contains("全部未保存"),
                    "{case}: {message}"
                );
                if refused.contains(&"003") {
                    assert!(
                        message.contains("贫困户在入户调查时未签字认可"),
                        "{case}: {message}"
                    );
                }
                assert_eq!(ops(&store), before, "{case}: nothing written");
            }
            (expected, got) => panic!("{case}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn an_exception_reason_outside_the_deliberation_is_refused() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let (_, ids) = ready_for_notice(&mut store);
    let before = ops(&store);
    let error = record_step_for_households(
        &mut store,
        &BatchStep {
            households: ids[..2].to_vec(),
            record: record(Step::PublicNotice, "2017-08-11"),
            skip_failing: true,
            exceptions: vec![HouseholdException {
                household_id: ids[0],
                reason: "理由".into(),
                by: "王五".into(),
            }],
            check_only: false,
        },
    )
    .unwrap_err();
    assert_eq!(
        error.message_zh(),
        "例外理由只在村两委商议时记录，村评议公示不能填写，请去掉例外理由。"
    );
    assert_eq!(ops(&store), before);
}

/// A reason given for a household that meets the standard and signed is not needed: the
/// household takes the step without it, nothing of the reason is recorded, and the outcome
/// names it (a check says so too, writing nothing). A single step leaves it out the same way.
#[test]
fn an_exception_reason_a_household_does_not_need_is_said_and_not_recorded() {
    const BY: &str = "王五（村党总支书记）";
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本", CLOCK);
    let ids = ready_for_deliberation(&mut store);
    let exception = |n: usize, reason: &str| HouseholdException {
        household_id: ids[n],
        reason: reason.into(),
        by: BY.into(),
    };
    let mut batch = BatchStep {
        // 001 meets the standard and signed; 002 is below the line.
        households: ids[..2].to_vec(),
        record: record(Step::Deliberation, "2017-08-05"),
        skip_failing: false,
        exceptions: vec![exception(0, "多写的理由"), exception(1, "因病住院")],
        check_only: true,
    };
    let before = ops(&store);
    let checked = record_step_for_households(&mut store, &batch).unwrap();
    assert_eq!(ops(&store), before, "a check writes nothing");
    let codes: Vec<String> = ids
        .iter()
        .map(|id| store.get::<Household>(*id).unwrap().code)
        .collect();
    let code_of = |n: usize| codes[n].clone();
    assert_eq!(checked.exceptions_not_needed, [code_of(0)]);
    assert_eq!(
        checked.exception_notes(),
        [format!(
            "户 {} 达到标准且已签字认可，不需要例外理由，例外理由未记录。",
            code_of(0)
        )]
    );

    batch.check_only = false;
    let outcome = record_step_for_households(&mut store, &batch).unwrap();
    assert_eq!(outcome.recorded, [code_of(0), code_of(1)]);
    assert_eq!(outcome.exceptions_not_needed, [code_of(0)]);
    let reason_of = |store: &Store, n: usize| {
        procedure_trail(store, ids[n])
            .unwrap()
            .records
            .last()
            .unwrap()
            .record
            .reason
            .clone()
    };
    assert_eq!(
        reason_of(&store, 0),
        "",
        "the unneeded reason is not recorded"
    );
    assert_eq!(reason_of(&store, 1), format!("因病住院（决定人：{BY}）"));

    // One household alone: asked first, then recorded without the reason.
    let mut single = record(Step::Deliberation, "2017-08-05");
    single.exception_reason = Some("多写的理由".into());
    single.exception_by = Some(BY.into());
    assert!(bangfu_core::exit::procedure::exception_not_needed(&store, ids[3], &single).unwrap());
    record_step(&mut store, ids[3], &single).unwrap();
    assert_eq!(reason_of(&store, 3), "");
}
