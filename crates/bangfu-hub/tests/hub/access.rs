//! Tokens and scopes: wrong, missing and revoked tokens get 401; a village device cannot read
//! or write another village's people by any request we could think of.

use std::collections::HashSet;

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::put_change;
use bangfu_core::sync::changeset;
use bangfu_core::sync::{Hlc, Op, OpId};
use bangfu_hub::wire;
use bangfu_hub::{HubError, Scope};
use uuid::Uuid;

use crate::common::*;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into()
}

fn token(store: &bangfu_core::store::Store) -> String {
    store
        .hub_link()
        .ok()
        .flatten()
        .map(|l| l.token)
        .unwrap_or_default()
}

/// A raw pull: (status, ops).
fn pull(url: &str, auth: Option<&str>, after: &str, limit: &str) -> (u16, Vec<Op>) {
    let mut req = agent()
        .get(format!("{url}{}", wire::PULL))
        .query("after", after)
        .query("limit", limit);
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    let mut reply = req.call().expect("request");
    let status = reply.status().as_u16();
    let body = reply.body_mut().read_to_vec().unwrap_or_default();
    let ops = changeset::decode(&body)
        .map(|(_, ops)| ops)
        .unwrap_or_default();
    (status, ops)
}

/// A raw push: (status, the ops the hub held aside as (seq, reason)).
fn push_held(url: &str, auth: &str, origin: Uuid, ops: &[Op]) -> (u16, Vec<(i64, String)>) {
    let body = wire::encode_ops(origin, "test", ops, Default::default());
    let mut reply = agent()
        .post(format!("{url}{}", wire::PUSH))
        .header("Authorization", auth)
        .query("origin", origin.to_string())
        .send(&body[..])
        .expect("request");
    let status = reply.status().as_u16();
    let bytes = reply.body_mut().read_to_vec().unwrap_or_default();
    let held = serde_json::from_slice::<wire::PushOutcome>(&bytes)
        .map(|o| o.held.into_iter().map(|h| (h.seq, h.reason)).collect())
        .unwrap_or_default();
    (status, held)
}

fn push(url: &str, auth: &str, origin: Uuid, ops: &[Op]) -> u16 {
    push_held(url, auth, origin, ops).0
}

fn op(origin: Uuid, seq: i64, table: Table, row: Uuid, field: &str, value: FieldValue) -> Op {
    Op {
        id: OpId { origin, seq },
        hlc: Hlc::new(T0, 0),
        table: table.code(),
        row,
        field: field.into(),
        value,
        preds: vec![],
        seen: vec![],
    }
}

fn uuid_value(id: Uuid) -> FieldValue {
    FieldValue::Bytes(id.as_bytes().to_vec())
}

crate::on_both_backends!(wrong_missing_and_revoked_tokens_are_refused);
fn wrong_missing_and_revoked_tokens_are_refused(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut store = open(dir.path(), "A村");
    let client = enrol(&mut store, &url, &storage, VILLAGE_A);
    sync(&client, &mut store);
    let good = format!("Bearer {}", token(&store));
    let cases: [(Option<&str>, u16); 6] = [
        (Some(good.as_str()), 200),
        (None, 401),
        (Some("Bearer "), 401),
        (Some("Bearer 0000"), 401),
        (Some(&good[7..]), 401), // the token without the scheme
        (Some("Basic dXNlcjpwYXNz"), 401),
    ];
    for (auth, want) in cases {
        assert_eq!(pull(&url, auth, "0", "10").0, want, "{auth:?}");
        let origin = Uuid::now_v7();
        let status = agent()
            .get(format!("{url}{}", wire::PUSH_CURSOR))
            .header("Authorization", auth.unwrap_or(""))
            .query("origin", origin.to_string())
            .call()
            .map(|r| r.status().as_u16());
        assert_eq!(status.ok(), Some(want), "cursor {auth:?}");
    }

    // A code works once.
    let code = storage
        .issue_code(&Scope::parse(VILLAGE_A).expect("scope"))
        .expect("code");
    let mut other = open(dir.path(), "A村-2");
    assert!(client.enrol(&mut other, &url, &code).is_ok());
    let mut third = open(dir.path(), "A村-3");
    assert!(matches!(
        client.enrol(&mut third, &url, &code),
        Err(HubError::CodeUsed)
    ));

    // Revoked: every request of that device is refused (what it pushes is quarantined, see
    // hardening.rs), others go on.
    let id = storage
        .devices()
        .expect("devices")
        .iter()
        .find(|d| d.name == "A村")
        .map(|d| d.id)
        .expect("device");
    assert!(storage.revoke(id).expect("revoke"));
    assert_eq!(pull(&url, Some(&good), "0", "10").0, 401);
    assert!(matches!(
        client.sync_once(&mut store),
        Err(HubError::Revoked)
    ));
    assert!(client.sync_once(&mut other).is_ok());
}

/// In the cases below: the op is held aside by the hub (the push itself answers 200).
const HELD: u16 = 0;

crate::on_both_backends!(a_village_device_cannot_read_or_write_another_village);
fn a_village_device_cannot_read_or_write_another_village(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut admin = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    let cadre_b = helper("B村干部");
    write(
        &mut admin,
        &[put_change(&va), put_change(&vb), put_change(&cadre_b)],
    );
    let admin_client = enrol(&mut admin, &url, &storage, COUNTY);
    sync(&admin_client, &mut admin);

    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, &url, &storage, VILLAGE_B);
    let (mut changes, hb, mb) = family(vb.id, "530828101202001");
    let pb = pairing(hb, cadre_b.id);
    changes.push(put_change(&pb));
    write(&mut b, &changes);
    sync(&b_client, &mut b);

    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    let (changes, ha, _) = family(va.id, "530828101201001");
    write(&mut a, &changes);
    sync(&a_client, &mut a);
    let auth = format!("Bearer {}", token(&a));
    let b_origin = b.device().id;
    let mut b_private: HashSet<Uuid> = [hb, pb.id, vb.id].into_iter().collect();
    b_private.extend(&mb);

    // Pushes A must not get through: (what, ops, expected status). Each uses a fresh origin.
    let new = Uuid::now_v7;
    let cases: Vec<(&str, Uuid, Vec<Op>, u16)> = {
        let o = || Uuid::now_v7();
        let (o1, o2, o3, o4, o5, o6) = (o(), o(), o(), o(), o(), o());
        vec![
            (
                "edit B's household",
                o1,
                vec![op(
                    o1,
                    1,
                    Table::Household,
                    hb,
                    "remark",
                    FieldValue::Text("x".into()),
                )],
                HELD,
            ),
            (
                "a member into B's household",
                o2,
                vec![op(
                    o2,
                    1,
                    Table::Member,
                    new(),
                    "household_id",
                    uuid_value(hb),
                )],
                HELD,
            ),
            (
                "a household into B's village",
                o3,
                vec![op(
                    o3,
                    1,
                    Table::Household,
                    new(),
                    "village_id",
                    uuid_value(vb.id),
                )],
                HELD,
            ),
            (
                "a village row with B's code",
                o4,
                vec![op(
                    o4,
                    1,
                    Table::Village,
                    new(),
                    "code",
                    FieldValue::Text(VILLAGE_B.into()),
                )],
                HELD,
            ),
            (
                "edit B's cadre",
                o5,
                vec![op(
                    o5,
                    1,
                    Table::Helper,
                    cadre_b.id,
                    "phone",
                    FieldValue::Text("1".into()),
                )],
                HELD,
            ),
            (
                "ops under B's device id",
                b_origin,
                vec![op(
                    b_origin,
                    99,
                    Table::Member,
                    new(),
                    "name",
                    FieldValue::Text("x".into()),
                )],
                403,
            ),
            (
                "a gap in the seqs",
                o6,
                vec![op(
                    o6,
                    5,
                    Table::Member,
                    new(),
                    "name",
                    FieldValue::Text("x".into()),
                )],
                409,
            ),
        ]
    };
    let before = storage.counts().expect("counts").ops;
    for (what, origin, ops, want) in &cases {
        let (status, held) = push_held(&url, &auth, *origin, ops);
        if *want == HELD {
            // Accepted as a request, the op itself held aside and reported, not stored.
            assert_eq!(status, 200, "{what}");
            assert_eq!(held, vec![(1, "outside_scope".to_owned())], "{what}");
        } else {
            assert_eq!(status, *want, "{what}");
        }
    }
    let counts = storage.counts().expect("counts");
    assert_eq!(counts.ops, before, "refused ops are never stored");
    assert_eq!(counts.held_ops, 5, "each refused op is held for the admin");
    assert_eq!(storage.held().expect("held").len(), 5);

    // Accepted but harmless: A's own visit naming B's household as its "helper", and a member
    // of A's own household whose household_id is set to B's later in the same push.
    let o7 = Uuid::now_v7();
    let visit = Uuid::now_v7();
    let sneaky = vec![
        op(o7, 1, Table::Visit, visit, "household_id", uuid_value(ha)),
        op(o7, 2, Table::Visit, visit, "helper_id", uuid_value(hb)),
    ];
    assert_eq!(push(&url, &auth, o7, &sneaky), 200, "own visit");

    // Pulls from anywhere in the log, with any page size, never carry B's rows.
    for (after, limit) in [
        ("0", "1"),
        ("-1", "100000"),
        ("-9223372036854775808", "5"),
        ("1", "0"),
        ("9223372036854775807", "10"),
    ] {
        let (status, ops) = pull(&url, Some(&auth), after, limit);
        assert_eq!(status, 200, "{after} {limit}");
        let leaked: Vec<_> = ops
            .iter()
            .filter(|op| b_private.contains(&op.row))
            .collect();
        assert!(leaked.is_empty(), "after {after} limit {limit}: {leaked:?}");
    }
    for (after, limit) in [("x", "1"), ("0", "-1")] {
        assert_eq!(
            pull(&url, Some(&auth), after, limit).0,
            400,
            "bad query {after} {limit}"
        );
    }
    sync(&a_client, &mut a);
    let held: HashSet<Uuid> = ["household", "member", "pairing", "village", "helper"]
        .iter()
        .flat_map(|t| rows(&a, t))
        .collect();
    assert!(
        held.is_disjoint(&b_private),
        "A's copy holds none of B's rows"
    );
    assert!(!held.contains(&cadre_b.id), "nor B's cadre");
}
