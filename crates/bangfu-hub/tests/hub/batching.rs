//! A push stored in batches files exactly what the same ops stored one at a time file
//! (`StoreOptions::op_by_op`, a storage of its own): the same feed of every village, township and county (order included),
//! the same superseded marks (the snapshot) and the same counts, with new households and
//! members filed by their first links, a household moved to another village in the middle of
//! the push and back, its fields edited before and after, its members following it, a member
//! moved to a household of another township, new members of a moved household, a
//! household whose members were linked before it had a village, and a helper shared into
//! villages by pairings.

use bangfu_core::model::{FieldValue, Household, Member, Table};
use bangfu_core::store::{Change, put_change};
use bangfu_core::sync::Op;
use bangfu_hub::storage::StoreOptions;

use crate::common::*;

fn set(table: Table, id: uuid::Uuid, field: &'static str, value: FieldValue) -> Change {
    Change::Put {
        table,
        id,
        fields: vec![(field, value)],
    }
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
    let (changes, in_b, _) = family(vb.id, "530828101202001");
    write(&mut county, &changes);
    let (changes, _, in_c) = family(vc.id, "530828102201001");
    write(&mut county, &changes);
    // Two more families of A, then an edit of the first one's member: stored in one batch,
    // the edit comes after the second family in A's feed.
    let (changes, _, early) = family(va.id, "530828101201002");
    write(&mut county, &changes);
    let (changes, _, _) = family(va.id, "530828101201003");
    write(&mut county, &changes);
    write(
        &mut county,
        &[set(
            Table::Member,
            early[0],
            "name",
            FieldValue::Text("随后改名".into()),
        )],
    );
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
    // A member of C's family moves into B's household (another township).
    write(
        &mut county,
        &[set(
            Table::Member,
            in_c[0],
            "household_id",
            FieldValue::Bytes(in_b.as_bytes().to_vec()),
        )],
    );
    // A newborn in the moved household, now in B; then the household goes back to A and
    // another member joins it there.
    let newborn = |name: &str| Member {
        id: uuid::Uuid::now_v7(),
        household_id: Some(moved),
        name: name.into(),
        relation: "03".into(),
        ..Default::default()
    };
    let (first, second) = (newborn("新生一"), newborn("新生二"));
    write(&mut county, &[put_change(&first)]);
    write(
        &mut county,
        &[set(
            Table::Household,
            moved,
            "village_id",
            FieldValue::Bytes(va.id.as_bytes().to_vec()),
        )],
    );
    write(&mut county, &[put_change(&second)]);
    // A household typed without its village: its members are linked to it before it has
    // one, then the village is set and they follow.
    let unplaced = Household {
        id: uuid::Uuid::now_v7(),
        village_id: None,
        code: "530828102201002".into(),
        group_name: "下寨组".into(),
        main_cause: "01".into(),
        ..Default::default()
    };
    let lodger = Member {
        id: uuid::Uuid::now_v7(),
        household_id: Some(unplaced.id),
        name: "赵后补".into(),
        relation: "01".into(),
        ..Default::default()
    };
    write(&mut county, &[put_change(&unplaced), put_change(&lodger)]);
    write(
        &mut county,
        &[set(
            Table::Household,
            unplaced.id,
            "village_id",
            FieldValue::Bytes(vc.id.as_bytes().to_vec()),
        )],
    );
    // The cadre also helps B's family and C's: shared into B (which the moved household
    // already took it to) and into C, with an edit of the cadre between.
    write(&mut county, &[put_change(&pairing(in_b, cadre.id))]);
    write(
        &mut county,
        &[set(
            Table::Helper,
            cadre.id,
            "unit",
            FieldValue::Text("县扶贫办".into()),
        )],
    );
    write(&mut county, &[put_change(&pairing(unplaced.id, cadre.id))]);
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
        .open_with(
            4,
            StoreOptions {
                op_by_op: true,
                ..StoreOptions::default()
            },
        )
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
    // The member from C is in B; the household and its newborns are back in A; the late
    // household's member is in C.
    let feed_of = |scope: &str| {
        got.iter()
            .find(|(s, snapshot, _)| s == scope && !snapshot)
            .map(|(_, _, ids)| ids.clone())
            .unwrap_or_default()
    };
    let (a, c) = (feed_of(VILLAGE_A), feed_of(VILLAGE_C));
    for (row, feed, village) in [
        (in_c[0], b, "B"),
        (first.id, &a, "A"),
        (second.id, &a, "A"),
        (lodger.id, &c, "C"),
        (cadre.id, &c, "C"),
    ] {
        for op in ops.iter().filter(|op| op.row == row) {
            assert!(
                feed.contains(&op.id),
                "{} of {row} not in {village}",
                op.field
            );
        }
    }
    assert!(
        !b.iter()
            .any(|id| ops.iter().any(|op| op.id == *id && op.row == second.id)),
        "a member who joined after the move back is not sent to B"
    );
    let (got, want) = (
        batched.counts().expect("counts"),
        single.counts().expect("counts"),
    );
    assert_eq!(
        (got.ops, got.feed_entries, got.pending_ops, got.held_ops),
        (want.ops, want.feed_entries, want.pending_ops, want.held_ops)
    );
}
