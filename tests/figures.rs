//! One 贫困发生率: 村情概览, 统计报表 and 村退出核对 give the same figure for every village, on
//! the demo village and on a generated county, including households whose 脱贫状态 never
//! arrived filled (the three used to disagree there: the report counted 未脱贫 and 返贫 only).

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bangfu_core::exit::village::evaluate_village;
use bangfu_core::ledger::Scope;
use bangfu_core::model::{FieldValue, Household, Table, Village};
use bangfu_core::report::{figures, overview, stats};
use bangfu_core::store::{Filter, OpenOptions, Store};
use bangfu_core::sync::{Hlc, Op, OpId};
use uuid::Uuid;

fn open(dir: &tempfile::TempDir) -> Store {
    let options = OpenOptions {
        identity_dir: Some(dir.path().join("ids")),
        fixed_clock_ms: Some(1_700_000_000_000),
        ..OpenOptions::default()
    };
    Store::open(dir.path().join("f.sqlite"), &options).expect("open")
}

/// Clears the 脱贫状态 of every `nth` household as an op from another device would (an older
/// version's file, say): a household on the list with no status is still poor.
fn clear_status_of_some(store: &mut Store, nth: usize) -> usize {
    let households = store.read::<Household>(Filter::All).expect("read");
    let other = Uuid::now_v7();
    let mut ops = Vec::new();
    for h in households.iter().step_by(nth) {
        let preds = store
            .row_heads_by_field(h.id)
            .expect("heads")
            .remove("poverty_status")
            .unwrap_or_default();
        ops.push(Op {
            id: OpId {
                origin: other,
                seq: ops.len() as i64 + 1,
            },
            hlc: Hlc::new(1_800_000_000_000, 0),
            table: Table::Household.code(),
            row: h.id,
            field: "poverty_status".into(),
            value: FieldValue::Null,
            preds,
            seen: Vec::new(),
        });
    }
    store.apply_remote(&ops).expect("apply");
    ops.len()
}

/// Every village's figure from the three places, which must agree to the last digit.
fn assert_one_incidence(store: &Store) -> usize {
    let year = Some(2020);
    let overview = overview::overview(store, year, 90).expect("overview");
    let report = stats::stats(store, &Scope::All, year).expect("stats");
    let mut compared = 0;
    for village in store.read::<Village>(Filter::All).expect("villages") {
        let seen = overview
            .villages
            .iter()
            .find(|v| v.code == village.code)
            .expect("overview names every village");
        let exit = evaluate_village(store, village.id, 2020).expect("village exit check");
        let poor = figures::poor_people(store, village.id).expect("poor people");
        assert_eq!(seen.poor_people, poor, "村情概览 {}", village.name);
        assert_eq!(
            seen.incidence_percent, exit.incidence_percent,
            "村退出核对 {}",
            village.name
        );
        if let Some(row) = report
            .incidence
            .iter()
            .find(|r| r.village_code == village.code)
        {
            assert_eq!(row.poor_people, poor, "统计报表 {}", village.name);
            assert_eq!(
                row.incidence_pct, seen.incidence_percent,
                "统计报表 {}",
                village.name
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn one_incidence_on_the_demo_village_and_a_generated_county() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut demo = open(&dir);
    bangfu_core::demo::write_demo_village(&mut demo).expect("demo");
    assert!(clear_status_of_some(&mut demo, 7) > 0);
    assert!(assert_one_incidence(&demo) >= 1);

    let dir = tempfile::tempdir().expect("tempdir");
    let mut county = open(&dir);
    bangfu_core::demo::generate_county(&mut county, 1_200, 7, &mut |_| {}).expect("county");
    assert!(clear_status_of_some(&mut county, 5) > 0);
    let villages = assert_one_incidence(&county);
    assert!(
        villages >= 4,
        "a county of several villages, compared {villages}"
    );
}
