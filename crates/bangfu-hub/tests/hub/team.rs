//! 驻村工作队 (issue 17): a team member row is scoped by its `village_id` like a household, so
//! it reaches its village's devices and no other; team ops an older hub stored without knowing
//! their table (kept under the pusher's scope, filed into no village) reach their village once
//! the hub is upgraded (SQLite schema 7, PostgreSQL migration 7), and still no other.

use bangfu_core::model::TeamMember;
use bangfu_core::store::{Filter, Store, put_change};
use bangfu_core::team::{NewTeamMember, add_team_member};
use bangfu_hub::storage::Location;
use uuid::Uuid;

use crate::common::*;

fn member(village: Uuid, name: &str) -> NewTeamMember {
    NewTeamMember {
        village_id: village,
        name: name.into(),
        role: "第一书记".into(),
        unit: "县农业农村局".into(),
        start_date: "2024-03-01".parse().ok(),
        ..Default::default()
    }
}

fn team(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .read::<TeamMember>(Filter::All)
        .expect("read")
        .into_iter()
        .map(|m| m.name)
        .collect();
    names.sort();
    names
}

crate::on_both_backends!(a_team_member_reaches_its_village_and_no_other);
fn a_team_member_reaches_its_village_and_no_other(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    add_team_member(&mut county, &member(va.id, "王明")).expect("add");
    add_team_member(&mut county, &member(vb.id, "赵刚")).expect("add");
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, &url, &storage, VILLAGE_B);
    sync(&a_client, &mut a);
    sync(&b_client, &mut b);
    assert_eq!(team(&a), ["王明"]);
    assert_eq!(team(&b), ["赵刚"]);
    // A member added on village A's laptop reaches the county, not village B.
    add_team_member(&mut a, &member(va.id, "李华")).expect("add");
    sync(&a_client, &mut a);
    sync(&county_client, &mut county);
    sync(&b_client, &mut b);
    assert_eq!(team(&county), ["李华", "王明", "赵刚"]);
    assert_eq!(team(&b), ["赵刚"]);
}

/// What an older hub left of team ops: stored under the pusher's scope, in no feed, no link.
const FORGET_SQLITE: &str = "
    DELETE FROM feed WHERE op IN (SELECT key FROM op WHERE tbl = 15);
    DELETE FROM link WHERE row IN (SELECT row FROM op WHERE tbl = 15);
    DELETE FROM link_pred WHERE row IN (SELECT row FROM op WHERE tbl = 15);
    DELETE FROM row_scope WHERE row IN (SELECT row FROM op WHERE tbl = 15);
    UPDATE op SET pending_scope = '530828' WHERE tbl = 15;
    DELETE FROM hub_meta WHERE key = 'reindex_team_member';
    ALTER TABLE batch_sig DROP COLUMN author; ALTER TABLE batch_sig DROP COLUMN author_sig;
    ALTER TABLE batch_sig DROP COLUMN parts_sig;
    PRAGMA user_version = 6;";

crate::on_both_backends!(team_ops_an_older_hub_stored_reach_their_village_after_the_upgrade);
fn team_ops_an_older_hub_stored_reach_their_village_after_the_upgrade(backend: Backend) {
    let dir = scratch();
    let location = location(dir.path(), backend);
    let (hub, storage) = serve_at(&location, "127.0.0.1:0");
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    add_team_member(&mut county, &member(va.id, "王明")).expect("add");
    let county_client = enrol(&mut county, &hub.url(), &storage, COUNTY);
    sync(&county_client, &mut county);
    drop(hub);
    drop(storage);
    match &location {
        Location::Dir(dir) => {
            let conn = rusqlite::Connection::open(dir.join("hub.sqlite")).expect("open");
            conn.execute_batch(FORGET_SQLITE).expect("as an older hub");
        }
        Location::Postgres(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            client
                .batch_execute(&format!(
                    "{}DELETE FROM schema_version WHERE version >= 7; DROP TABLE row_claim;",
                    FORGET_SQLITE.replace("PRAGMA user_version = 6;", "")
                ))
                .expect("as an older hub");
        }
    }

    // The upgraded hub indexes them at its first open: village A gets its team, B nothing.
    let (hub, storage) = serve_at(&location, "127.0.0.1:0");
    let url = hub.url();
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, &url, &storage, VILLAGE_B);
    sync(&a_client, &mut a);
    sync(&b_client, &mut b);
    assert_eq!(team(&a), ["王明"]);
    assert!(team(&b).is_empty());
    assert_eq!(
        rows(&b, "village").len(),
        1,
        "village B's own row still arrives"
    );
}
