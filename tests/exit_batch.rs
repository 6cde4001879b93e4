//! One exit step for a list of households (issue 16): one 村评议公示 covering 20 households in
//! one transaction; a household that cannot take the step refuses the whole list with who and
//! why, unless the person asked to skip it; each household checked as one at a time would be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::exit::procedure::{Phase, Step, StepRecord, procedure_state, record_step};
use bangfu_core::exit::{
    BatchStep, ExitError, households_due_for_step, record_step_for_households,
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
