//! A push stored in batches files exactly what the same ops pushed one at a time file: the
//! same feed of every village, township and county (order included), the same superseded
//! marks (the snapshot) and the same counts, with a household moved to another village in the
//! middle of the push, its fields edited before and after the move, its members following it.

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, put_change};
use bangfu_core::sync::{Op, OpId};
use bangfu_hub::Scope;
use bangfu_hub::storage::{DeviceAuth, HubStorage};

use crate::common::*;

fn set(table: Table, id: uuid::Uuid, field: &'static str, value: FieldValue) -> Change {
    Change::Put {
        table,
        id,
        fields: vec![(field, value)],
    }
}

/// A county device enrolled straight on the storage.
fn county_device(storage: &dyn HubStorage) -> DeviceAuth {
    let code = storage
        .issue_code(&Scope::parse(COUNTY).expect("scope"))
        .expect("code");
    let enrolment = storage
        .enrol(&code, "县管理员", &[])
        .expect("enrol")
        .expect("code accepted");
    storage
        .authenticate(&enrolment.token)
        .expect("authenticate")
        .expect("live device")
}

/// Every feed the hub serves, as op ids in feed order, full and compacted.
fn feeds(storage: &dyn HubStorage) -> Vec<(String, bool, Vec<OpId>)> {
    let scopes = [VILLAGE_A, VILLAGE_B, VILLAGE_C, "530828101", COUNTY];
    let mut out = Vec::new();
    for scope in scopes {
        let scope = Scope::parse(scope).expect("scope");
        for snapshot in [false, true] {
            let page = if snapshot {
                storage.pull_snapshot(&scope, 0, 20_000)
            } else {
                storage.pull(&scope, 0, 20_000)
            }
            .expect("pull");
            assert!(!page.more, "one page holds the test's feed");
            out.push((
                scope.as_str().to_owned(),
                snapshot,
                page.ops.iter().map(|op| op.id).collect(),
            ));
        }
    }
    out
}

crate::on_both_backends!(a_push_stored_in_batches_files_what_one_op_at_a_time_files);
fn a_push_stored_in_batches_files_what_one_op_at_a_time_files(backend: Backend) {
    let dir = scratch();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb, vc) = (village(VILLAGE_A), village(VILLAGE_B), village(VILLAGE_C));
    let cadre = helper("王干部");
    write(
        &mut county,
        &[
            put_change(&va),
            put_change(&vb),
            put_change(&vc),
            put_change(&cadre),
        ],
    );
    let (changes, moved, members) = family(va.id, "530828101201001");
    write(&mut county, &changes);
    let (changes, _, _) = family(vb.id, "530828101202001");
    write(&mut county, &changes);
    let (changes, _, _) = family(vc.id, "530828102201001");
    write(&mut county, &changes);
    write(&mut county, &[put_change(&pairing(moved, cadre.id))]);
    for (n, text) in ["搬迁前一", "搬迁前二"].iter().enumerate() {
        write(
            &mut county,
            &[
                set(
                    Table::Household,
                    moved,
                    "remark",
                    FieldValue::Text((*text).into()),
                ),
                set(
                    Table::Member,
                    members[n],
                    "name",
                    FieldValue::Text(format!("改名{n}")),
                ),
            ],
        );
    }
    // 易地扶贫搬迁 to B in the middle of the push, then more edits of the household and a member.
    write(
        &mut county,
        &[set(
            Table::Household,
            moved,
            "village_id",
            FieldValue::Bytes(vb.id.as_bytes().to_vec()),
        )],
    );
    write(
        &mut county,
        &[
            set(
                Table::Household,
                moved,
                "remark",
                FieldValue::Text("搬迁后".into()),
            ),
            set(
                Table::Member,
                members[1],
                "name",
                FieldValue::Text("搬迁后改名".into()),
            ),
        ],
    );
    let origin = county.device().id;
    let ops: Vec<Op> = county.ops_of_origin_after(origin, 0, 100_000).expect("ops");
    assert!(ops.len() > 50, "{} ops", ops.len());

    let batched = location(&dir.path().join("batched"), backend)
        .open(4)
        .expect("hub");
    let device = county_device(&*batched);
    let outcome = batched.push(&device, origin, &ops).expect("one push");
    assert_eq!(outcome.stored_seq, ops.len() as i64);
    assert!(outcome.held.is_empty(), "{:?}", outcome.held);

    let single = location(&dir.path().join("single"), backend)
        .open(4)
        .expect("hub");
    let device = county_device(&*single);
    for op in &ops {
        let outcome = single
            .push(&device, origin, std::slice::from_ref(op))
            .expect("push of one op");
        assert!(outcome.held.is_empty(), "{:?}", outcome.held);
    }

    let (got, want) = (feeds(&*batched), feeds(&*single));
    assert_eq!(got, want);
    // The move reached B with the household's whole history and its members' ops.
    let b = &got
        .iter()
        .find(|(scope, snapshot, _)| scope == VILLAGE_B && !snapshot)
        .expect("B's feed")
        .2;
    for op in ops
        .iter()
        .filter(|op| op.row == moved || members.contains(&op.row))
    {
        assert!(
            b.contains(&op.id),
            "op {:?} on {} not in B",
            op.id,
            op.field
        );
    }
    let (got, want) = (
        batched.counts().expect("counts"),
        single.counts().expect("counts"),
    );
    assert_eq!(
        (got.ops, got.feed_entries, got.pending_ops, got.held_ops),
        (want.ops, want.feed_entries, want.pending_ops, want.held_ops)
    );
}
