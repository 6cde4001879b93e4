//! 脱贫状态 changes only through the exit procedure: a direct edit (the household page, `bangfu
//! edit`, any `Store::write`) is refused with nothing written, while the procedure's own
//! status ops from another device still merge, and a conflict between two of them is settled
//! by keeping one of the versions that arrived.

// The helpers of this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use bangfu_core::UserFacing;
use bangfu_core::exit::procedure::{Step, StepRecord, record_step, return_to_poverty};
use bangfu_core::model::{FieldValue, Household, Member, Table, Village};
use bangfu_core::store::{Change, Store, StoreError, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::review::review_items;
use chrono::NaiveDate;
use uuid::Uuid;

const T0: u64 = 1_500_000_000_000; // July 2017

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A household of one in a village of 云南省, filed with the given 脱贫状态.
fn file_household(store: &mut Store, status: &str) -> Uuid {
    let village = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        province: "云南省".into(),
        rural_population: Some(1000),
        ..Default::default()
    };
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: "530826103201001".into(),
        main_cause: "01".into(),
        poverty_status: status.into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        ..Default::default()
    };
    let head = Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: "张大山".into(),
        relation: "01".into(),
        medical_insurance: Some(true),
        ..Default::default()
    };
    store
        .write(&[
            put_change(&village),
            put_change(&household),
            put_change(&head),
        ])
        .unwrap();
    household.id
}

fn set_status(store: &mut Store, household: Uuid, status: &str) -> Result<(), StoreError> {
    store
        .write(&[Change::Put {
            table: Table::Household,
            id: household,
            fields: vec![
                ("remark", FieldValue::Text("改状态".into())),
                ("poverty_status", FieldValue::Text(status.into())),
            ],
        }])
        .map(|_| ())
}

fn status(store: &Store, household: Uuid) -> String {
    store.get::<Household>(household).unwrap().poverty_status
}

/// The five steps, each valid, a few days apart.
fn exit_through_procedure(store: &mut Store, household: Uuid) {
    for (s, date) in Step::ALL.into_iter().zip([
        "2017-08-01",
        "2017-08-05",
        "2017-08-11",
        "2017-08-20",
        "2017-09-01",
    ]) {
        let mut r = StepRecord::new(s, day(date), "村委会、工作队");
        r.signatures = "书记、乡镇长".into();
        r.household_signed = Some(true);
        r.vote_type = "2".into();
        r.result = "1".into();
        r.work_team_present = Some(true);
        r.notice_start = Some(day("2017-08-06"));
        r.notice_end = Some(day("2017-08-10"));
        common::signed_and_reviewed(&mut r);
        record_step(store, household, &r).unwrap();
    }
}

#[test]
fn a_direct_edit_of_the_status_is_refused_with_nothing_written() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let household = file_household(&mut store, "1");
    let ops = store.op_count().unwrap();
    for to in ["2", "3", "4", ""] {
        let err = set_status(&mut store, household, to).unwrap_err();
        assert_eq!(err.kind(), "exit_status_by_procedure", "to {to:?}");
        let message = err.message_zh();
        assert!(message.contains("现为“未脱贫”"), "{message}");
        assert!(message.contains("退出程序"), "{message}");
    }
    // The whole write was refused: not even the remark beside the status was saved.
    assert_eq!(store.op_count().unwrap(), ops);
    let h: Household = store.get(household).unwrap();
    assert_eq!((h.poverty_status.as_str(), h.remark.as_str()), ("1", ""));

    // The household page saves the same way: a page that changes the status is refused, and
    // the same page with the status left alone is saved.
    let mut page = store.load_household_file(household).unwrap();
    page.household.remark = "已核实".into();
    page.household.poverty_status = "2".into();
    let err = store.file_household(&page).unwrap_err();
    assert_eq!(err.kind(), "exit_status_by_procedure");
    assert_eq!(store.op_count().unwrap(), ops);
    page.household.poverty_status = "1".into();
    store.file_household(&page).unwrap();
    assert_eq!(store.get::<Household>(household).unwrap().remark, "已核实");
}

#[test]
fn the_procedure_changes_the_status_and_a_person_still_cannot() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    let household = file_household(&mut store, "1");
    exit_through_procedure(&mut store, household);
    assert_eq!(status(&store, household), "2");
    // Putting an exited household back on the list by hand is refused too: that is 返贫.
    let err = set_status(&mut store, household, "1").unwrap_err();
    assert!(
        err.message_zh()
            .contains("现为“已脱贫(享受政策)”，不能改为“未脱贫”")
    );
    return_to_poverty(
        &mut store,
        household,
        day("2018-03-01"),
        "工作队",
        "因病返贫",
    )
    .unwrap();
    assert_eq!(status(&store, household), "4");
    assert_eq!(
        set_status(&mut store, household, "2").unwrap_err().kind(),
        "exit_status_by_procedure"
    );
    // Writing the value it already has is no change and is not refused.
    set_status(&mut store, household, "4").unwrap();
}

#[test]
fn filing_sets_a_status_and_an_unfilled_one_may_become_not_exited_only() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "a", T0);
    // A roll imported with households that exited before the app: filing sets the status.
    let exited = file_household(&mut store, "2");
    assert_eq!(status(&store, exited), "2");
    let unfilled = file_household(&mut store, "");
    assert_eq!(
        set_status(&mut store, unfilled, "2")
            .unwrap_err()
            .message_zh(),
        StoreError::ExitStatusByProcedure {
            from: "未填".into(),
            to: "已脱贫(享受政策)".into()
        }
        .message_zh()
    );
    set_status(&mut store, unfilled, "1").unwrap();
    assert_eq!(status(&store, unfilled), "1");
}

fn exchange(a: &mut Store, b: &mut Store) {
    let (to_b, _) = export_changeset(a, None).unwrap();
    let (to_a, _) = export_changeset(b, None).unwrap();
    import_changeset(b, &to_b).unwrap();
    import_changeset(a, &to_a).unwrap();
}

#[test]
fn the_status_another_devices_procedure_set_merges_and_a_conflict_keeps_an_arrived_version() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "village-laptop", T0);
    let mut b = common::open_at(dir.path(), "township-station", T0 + 1000);
    let household = file_household(&mut a, "1");
    exchange(&mut a, &mut b);

    // The laptop exits the household; the station receives the status with the trail.
    exit_through_procedure(&mut a, household);
    exchange(&mut a, &mut b);
    assert_eq!(status(&b, household), "2");
    // The station records the 返贫; the laptop receives it.
    return_to_poverty(&mut b, household, day("2018-03-01"), "工作队", "因灾返贫").unwrap();
    exchange(&mut a, &mut b);
    assert_eq!(
        (status(&a, household), status(&b, household)),
        ("4".into(), "4".into())
    );

    // Two fresh devices both run the procedure of another household concurrently, and one
    // of them also records a 返贫: their status ops meet as a conflict, merged without refusal.
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "village-laptop", T0);
    let mut b = common::open_at(dir.path(), "township-station", T0 + 1000);
    let household = file_household(&mut a, "1");
    exchange(&mut a, &mut b);
    exit_through_procedure(&mut a, household);
    return_to_poverty(&mut a, household, day("2018-03-01"), "工作队", "因病返贫").unwrap();
    exit_through_procedure(&mut b, household);
    exchange(&mut a, &mut b);
    let status_items = |store: &Store| {
        review_items(store)
            .unwrap()
            .into_iter()
            .filter(|i| i.field == "poverty_status")
            .count()
    };
    assert_eq!((status_items(&a), status_items(&b)), (1, 1));
    let settle = |store: &mut Store, to: &str| {
        store.write(&[Change::Resolve {
            table: Table::Household,
            id: household,
            field: "poverty_status".into(),
            value: FieldValue::Text(to.into()),
        }])
    };
    // A value no device's procedure wrote is refused; keeping the 返贫 that arrived is not.
    assert_eq!(
        settle(&mut a, "3").unwrap_err().kind(),
        "exit_status_by_procedure"
    );
    settle(&mut a, "4").unwrap();
    exchange(&mut a, &mut b);
    assert_eq!((status_items(&a), status_items(&b)), (0, 0));
    assert_eq!(
        (status(&a, household), status(&b, household)),
        ("4".into(), "4".into())
    );
}
