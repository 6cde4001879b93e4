//! A new laptop joins from a snapshot file (`changes export --snapshot`): the station's
//! current state only (every field's heads, an open conflict included), whole signed batches
//! with their signatures and the rest of a partly superseded batch unsigned. It then takes
//! the full-history file and a later file like any copy and ends with the same digest as a
//! copy that took the whole history. A copy that already holds older ops refuses a snapshot.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::error::UserFacing;
use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store};
use bangfu_core::sync::changeset;
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{Content, export_changeset, export_content, import_changeset};
use bangfu_core::sync::review::review_items;
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;

fn put(store: &mut Store, table: Table, id: Uuid, fields: Vec<(&'static str, FieldValue)>) {
    store.write(&[Change::Put { table, id, fields }]).unwrap();
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.into())
}

fn household(store: &mut Store, id: Uuid, code: &str, phone: &str) {
    put(
        store,
        Table::Household,
        id,
        vec![
            ("code", text(code)),
            ("main_cause", text("01")),
            ("phone", text(phone)),
            ("remark", text("初次建档")),
        ],
    );
}

fn full(store: &Store) -> Vec<u8> {
    export_changeset(store, None).unwrap().0
}

#[test]
fn a_laptop_joined_from_a_snapshot_file_converges_with_one_that_took_the_whole_history() {
    let dir = common::scratch();
    let mut v1 = common::open_at(dir.path(), "村电脑1", T0);
    let mut v2 = common::open_at(dir.path(), "村电脑2", T0);
    let mut station = common::open_at(dir.path(), "乡镇工作站", T0);
    let (h1, h2) = (Uuid::now_v7(), Uuid::now_v7());
    household(&mut v1, h1, "530826103201001", "13800000001");
    household(&mut v1, h2, "530826103201002", "13800000002");
    // h1's page saved again and again: its first batch is now superseded in part.
    for n in 0..5 {
        put(
            &mut v1,
            Table::Household,
            h1,
            vec![("remark", text(&format!("第{n}次走访")))],
        );
    }
    import_changeset(&mut v2, &full(&v1)).unwrap();
    // Both laptops change h1's phone without seeing each other: a conflict to review.
    put(
        &mut v1,
        Table::Household,
        h1,
        vec![("phone", text("13900000001"))],
    );
    put(
        &mut v2,
        Table::Household,
        h1,
        vec![("phone", text("13700000001"))],
    );
    import_changeset(&mut station, &full(&v1)).unwrap();
    import_changeset(&mut station, &full(&v2)).unwrap();
    assert_eq!(
        review_items(&station).unwrap().len(),
        1,
        "the phone conflict"
    );

    let whole = full(&station);
    let (snapshot, summary) = export_content(&station, Content::Snapshot).unwrap();
    let (header, ops) = changeset::decode(&snapshot).unwrap();
    assert_eq!(header.snapshot, Some(true));
    assert_eq!(summary.ops, ops.len() as u64);
    let history = changeset::decode(&whole).unwrap().1.len();
    assert!(
        ops.len() + 5 <= history,
        "five superseded remarks and a superseded phone stay out: {} of {history}",
        ops.len()
    );
    // Whole batches keep their signatures; the rest of h1's first batch goes unsigned.
    let batches = header.batches.clone().unwrap_or_default();
    assert!(
        !batches.is_empty(),
        "h2's page was carried whole, with its signature"
    );
    let signed = |op: &bangfu_core::sync::Op| {
        batches
            .iter()
            .any(|b| b.origin == op.id.origin && b.first <= op.id.seq && op.id.seq <= b.last)
    };
    assert!(ops.iter().any(|op| op.row == h2 && signed(op)));
    assert!(
        ops.iter()
            .any(|op| op.row == h1 && op.field == "code" && !signed(op))
    );

    // The new laptop joins from the snapshot; the other copy takes the whole history.
    let mut fresh = common::open_at(dir.path(), "新电脑", T0);
    let mut historian = common::open_at(dir.path(), "全量电脑", T0);
    import_changeset(&mut fresh, &snapshot).unwrap();
    import_changeset(&mut historian, &whole).unwrap();
    assert_eq!(state_hash(&fresh).unwrap(), state_hash(&station).unwrap());
    assert_eq!(
        review_items(&fresh).unwrap().len(),
        1,
        "the open conflict came along"
    );

    // Later: a full file, then a later one, as any copy takes them.
    put(
        &mut v2,
        Table::Household,
        h2,
        vec![("remark", text("搬迁后走访"))],
    );
    import_changeset(&mut station, &full(&v2)).unwrap();
    let later = full(&station);
    let took = import_changeset(&mut fresh, &whole).unwrap();
    assert_eq!(took.unsigned_ops, 0, "{took:?}");
    assert!(took.applied > 0, "the history it lacked: {took:?}");
    import_changeset(&mut fresh, &later).unwrap();
    import_changeset(&mut historian, &later).unwrap();
    let want = state_hash(&station).unwrap();
    assert_eq!(state_hash(&historian).unwrap(), want);
    assert_eq!(state_hash(&fresh).unwrap(), want);
    assert_eq!(fresh.op_count().unwrap(), historian.op_count().unwrap());

    // A copy holding older ops of other devices would see them as conflicts: refused whole.
    let mut older = common::open_at(dir.path(), "旧电脑", T0);
    let first = {
        let mut early = common::open_at(dir.path(), "早期", T0);
        household(&mut early, Uuid::now_v7(), "530826103201009", "13800000009");
        full(&early)
    };
    import_changeset(&mut older, &first).unwrap();
    let before = state_hash(&older).unwrap();
    let refused = import_changeset(&mut older, &snapshot).unwrap_err();
    assert_eq!(refused.kind(), "snapshot_into_held_copy");
    assert!(refused.message_zh().contains("快照"));
    assert_eq!(state_hash(&older).unwrap(), before);
}
