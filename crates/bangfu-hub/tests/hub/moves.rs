//! A household moved to another village (易地扶贫搬迁): the hub's scope follows its current
//! village, both villages keep syncing, edits made before the move was learnt still arrive,
//! and a refused op is held without stopping the rest of the push or the pull.

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store, put_change};
use bangfu_core::sync::{Hlc, Op, OpId};
use bangfu_hub::storage::{HubStorage, SqliteStorage};
use bangfu_hub::{HubError, Scope};
use uuid::Uuid;

use crate::common::*;

fn set(table: Table, id: Uuid, field: &'static str, value: FieldValue) -> Change {
    Change::Put {
        table,
        id,
        fields: vec![(field, value)],
    }
}

fn text(table: Table, id: Uuid, field: &'static str, value: &str) -> Change {
    set(table, id, field, FieldValue::Text(value.into()))
}

/// A household's field as this copy shows it (text or id bytes as hex).
fn household_field(store: &Store, id: Uuid, field: &str) -> Option<String> {
    let sql = match field {
        "village_id" => "SELECT hex(village_id) FROM household WHERE id = ?1",
        "group_name" => "SELECT group_name FROM household WHERE id = ?1",
        _ => "SELECT remark FROM household WHERE id = ?1",
    };
    store
        .sql()
        .unwrap()
        .query_row(sql, [id.as_bytes().as_slice()], |r| r.get(0))
        .ok()
        .flatten()
}

fn hex(id: Uuid) -> String {
    id.simple().to_string().to_uppercase()
}

crate::on_both_backends!(a_household_moved_to_another_village_keeps_both_villages_syncing);
fn a_household_moved_to_another_village_keeps_both_villages_syncing(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    let cadre = helper("王干部"); // helps households in A and, after the move, in B
    write(
        &mut county,
        &[put_change(&va), put_change(&vb), put_change(&cadre)],
    );
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);

    let mut a1 = open(dir.path(), "A村-1");
    let a1_client = enrol(&mut a1, &url, &storage, VILLAGE_A);
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, &url, &storage, VILLAGE_A);
    let mut b = open(dir.path(), "B村");
    let b_client = enrol(&mut b, &url, &storage, VILLAGE_B);
    sync(&a1_client, &mut a1);
    sync(&b_client, &mut b);

    // A's two households, both paired with the cadre; the first will move.
    let (mut changes, moving, moving_members) = family(va.id, "530828101201001");
    changes.push(put_change(&pairing(moving, cadre.id)));
    let (more, staying, _) = family(va.id, "530828101201002");
    changes.extend(more);
    changes.push(put_change(&pairing(staying, cadre.id)));
    write(&mut a1, &changes);
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);
    sync(&county_client, &mut county);
    assert!(rows(&b, "household").is_empty());

    // The county moves the household to B (the write `bangfu household move` makes), while
    // both A laptops, not knowing yet, edit it.
    write(
        &mut county,
        &[set(
            Table::Household,
            moving,
            "village_id",
            FieldValue::Bytes(vb.id.as_bytes().to_vec()),
        )],
    );
    write(
        &mut a1,
        &[text(Table::Household, moving, "remark", "搬迁前一号本")],
    );
    write(
        &mut a2,
        &[text(Table::Household, moving, "group_name", "新寨组")],
    );
    sync(&county_client, &mut county);

    // Each side's edit made before it learnt of the move is accepted; each learns the move.
    sync(&a1_client, &mut a1);
    sync(&a2_client, &mut a2);
    for copy in [&a1, &a2] {
        assert_eq!(
            household_field(copy, moving, "village_id"),
            Some(hex(vb.id)),
            "{}: the old village's copy shows the household in B",
            copy.device().name
        );
    }

    // B receives the household's whole history, both edits, and the shared cadre.
    sync(&b_client, &mut b);
    assert_eq!(rows(&b, "household"), vec![moving]);
    let mut b_members = rows(&b, "member");
    b_members.sort();
    let mut want = moving_members.clone();
    want.sort();
    assert_eq!(b_members, want, "B has the moved household's members");
    assert_eq!(rows(&b, "pairing").len(), 1);
    assert_eq!(
        rows(&b, "helper"),
        vec![cadre.id],
        "the cadre is shared into B"
    );
    assert_eq!(
        household_field(&b, moving, "remark").as_deref(),
        Some("搬迁前一号本")
    );
    assert_eq!(
        household_field(&b, moving, "group_name").as_deref(),
        Some("新寨组")
    );

    // After the move: B edits the household and adds a member; A edits its other household.
    // Neither side is refused, and A does not receive B's new member.
    let newcomer = Uuid::now_v7();
    let mut b_changes = vec![text(Table::Household, moving, "remark", "搬到B村后")];
    b_changes.push(set(
        Table::Member,
        newcomer,
        "household_id",
        FieldValue::Bytes(moving.as_bytes().to_vec()),
    ));
    b_changes.push(text(Table::Member, newcomer, "name", "新生儿"));
    write(&mut b, &b_changes);
    write(
        &mut a1,
        &[text(Table::Household, staying, "remark", "留在A村")],
    );
    for _ in 0..2 {
        sync(&b_client, &mut b);
        sync(&a1_client, &mut a1);
        sync(&a2_client, &mut a2);
        sync(&county_client, &mut county);
    }
    assert_eq!(
        household_field(&a2, staying, "remark").as_deref(),
        Some("留在A村")
    );
    assert_eq!(
        household_field(&county, moving, "remark").as_deref(),
        Some("搬到B村后")
    );
    assert!(
        !rows(&a1, "member").contains(&newcomer),
        "A no longer receives the moved household's new rows"
    );
    assert!(
        rows(&b, "household").len() == 1,
        "B never receives A's other household"
    );
    assert_eq!(storage.counts().expect("counts").held_ops, 0);
}

crate::on_both_backends!(an_edit_held_before_the_hub_learnt_a_move_is_merged_when_it_does);
/// The county moves a household from B to A and hands village A the file on a stick before it
/// syncs; A's laptop edits the household and syncs first. The hub, which still has the
/// household in B, holds the edit (outside A's scope); when the county's move arrives the
/// held edit (and a new member's) is taken, so the edit is not lost to every other copy.
fn an_edit_held_before_the_hub_learnt_a_move_is_merged_when_it_does(backend: Backend) {
    use bangfu_core::sync::exchange::{export_changeset, import_changeset};
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    let (changes, moving, _) = family(vb.id, "530828101202001");
    let (others, staying, _) = family(vb.id, "530828101202002");
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    write(&mut county, &changes);
    write(&mut county, &others);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    sync(&a_client, &mut a);
    assert!(rows(&a, "household").is_empty());
    // A station that knows A's laptop: a file of it names its key.
    let mut station = open(dir.path(), "乡镇站");
    let (from_a, _) = export_changeset(&a, None).expect("export");
    import_changeset(&mut station, &from_a).expect("import");

    // The move, carried to A on a stick before the county syncs.
    write(
        &mut county,
        &[set(
            Table::Household,
            moving,
            "village_id",
            FieldValue::Bytes(va.id.as_bytes().to_vec()),
        )],
    );
    let (file, _) = export_changeset(&county, None).expect("export");
    import_changeset(&mut a, &file).expect("import");
    assert_eq!(household_field(&a, moving, "village_id"), Some(hex(va.id)));
    let newcomer = Uuid::now_v7();
    write(
        &mut a,
        &[
            text(Table::Household, moving, "remark", "搬来A村后入户"),
            set(
                Table::Member,
                newcomer,
                "household_id",
                FieldValue::Bytes(moving.as_bytes().to_vec()),
            ),
            text(Table::Member, newcomer, "name", "新成员"),
        ],
    );
    // The stick also brought B's other household, which stays in B: A's edit of it waits.
    write(
        &mut a,
        &[text(Table::Household, staying, "remark", "不是本村的户")],
    );
    let first = a_client.sync_once(&mut a);
    assert!(
        matches!(first, Err(HubError::Held { .. })),
        "the hub does not know the move yet: {first:?}"
    );
    assert!(storage.counts().expect("counts").held_ops > 0);

    // The county syncs its move: what waited is taken and reaches every copy.
    sync(&county_client, &mut county);
    let left: Vec<Uuid> = storage
        .held()
        .expect("held")
        .into_iter()
        .map(|h| h.row)
        .collect();
    assert_eq!(left, vec![staying], "only the edit outside A still waits");
    sync(&county_client, &mut county);
    assert_eq!(
        household_field(&county, moving, "remark").as_deref(),
        Some("搬来A村后入户")
    );
    assert!(rows(&county, "member").contains(&newcomer));
    let mut a2 = open(dir.path(), "A村-2");
    let a2_client = enrol(&mut a2, &url, &storage, VILLAGE_A);
    sync(&a2_client, &mut a2);
    assert_eq!(
        household_field(&a2, moving, "remark").as_deref(),
        Some("搬来A村后入户")
    );
    assert!(rows(&a2, "member").contains(&newcomer));
    assert_ne!(
        household_field(&county, staying, "remark").as_deref(),
        Some("不是本村的户")
    );
    // The hub kept the signature of A's write batch while it held the edit and hands it on
    // with what it took back, so the station that knows A's laptop takes the county's copy of
    // the edit: an op of a known writer that came unsigned would be left aside.
    let (relayed, _) = export_changeset(&county, None).expect("export");
    let (header, ops) = bangfu_core::sync::changeset::decode(&relayed).expect("decode");
    let edit = ops
        .iter()
        .find(|op| op.row == moving && op.field == "remark")
        .expect("the edit is in the county's file");
    assert!(
        header
            .batches
            .iter()
            .flatten()
            .any(|b| b.origin == edit.id.origin && b.first <= edit.id.seq && edit.id.seq <= b.last),
        "the edit goes on with its writer's signature"
    );
    let summary = import_changeset(&mut station, &relayed).expect("import");
    assert_eq!(summary.unsigned_ops, 0, "{summary:?}");
    assert_eq!(
        household_field(&station, moving, "remark").as_deref(),
        Some("搬来A村后入户")
    );
    assert!(rows(&station, "member").contains(&newcomer));
}

crate::on_both_backends!(an_edit_of_a_cadre_held_before_the_cadre_helped_in_the_village_is_taken);
/// The same for a cadre (帮扶责任人) of village B whom the county then pairs with a household
/// of A: A's edit of the cadre, pushed before the pairing reached the hub, is taken when the
/// pairing shares the cadre into A.
fn an_edit_of_a_cadre_held_before_the_cadre_helped_in_the_village_is_taken(backend: Backend) {
    use bangfu_core::sync::exchange::{export_changeset, import_changeset};
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    let cadre = helper("李干部");
    let (in_b, household_b, _) = family(vb.id, "530828101202001");
    let (in_a, household_a, _) = family(va.id, "530828101201001");
    write(
        &mut county,
        &[put_change(&va), put_change(&vb), put_change(&cadre)],
    );
    write(&mut county, &in_b);
    write(&mut county, &in_a);
    write(&mut county, &[put_change(&pairing(household_b, cadre.id))]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    sync(&a_client, &mut a);

    // The county pairs the cadre with A's household and hands A the file before it syncs;
    // A corrects the cadre's phone and syncs first: held, the cadre being B's alone.
    write(&mut county, &[put_change(&pairing(household_a, cadre.id))]);
    let (file, _) = export_changeset(&county, None).expect("export");
    import_changeset(&mut a, &file).expect("import");
    write(
        &mut a,
        &[text(Table::Helper, cadre.id, "phone", "13912345678")],
    );
    let first = a_client.sync_once(&mut a);
    assert!(matches!(first, Err(HubError::Held { .. })), "{first:?}");

    // The pairing reaches the hub: the cadre helps in A now, and A's edit is taken.
    sync(&county_client, &mut county);
    assert_eq!(storage.counts().expect("counts").held_ops, 0);
    sync(&county_client, &mut county);
    let phone: Option<String> = county
        .sql()
        .unwrap()
        .query_row(
            "SELECT phone FROM helper WHERE id = ?1",
            [cadre.id.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(phone.as_deref(), Some("13912345678"));
}

crate::on_both_backends!(a_refused_op_is_held_and_neither_blocks_the_push_nor_stops_the_pull);
fn a_refused_op_is_held_and_neither_blocks_the_push_nor_stops_the_pull(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    sync(&county_client, &mut county);
    let mut a = open(dir.path(), "A村");
    let a_client = enrol(&mut a, &url, &storage, VILLAGE_A);
    sync(&a_client, &mut a);

    // A files a household into B's village (outside its scope), then one of its own.
    let (stray, _, _) = family(vb.id, "530828101202009");
    write(&mut a, &stray);
    let (own, own_household, _) = family(va.id, "530828101201001");
    write(&mut a, &own);
    // Meanwhile the county adds a household to A.
    let (from_county, county_household, _) = family(va.id, "530828101201002");
    write(&mut county, &from_county);
    sync(&county_client, &mut county);

    let outcome = a_client.sync_once(&mut a);
    let Err(HubError::Held { report }) = &outcome else {
        panic!("expected the held op to be reported: {outcome:?}");
    };
    // The op that puts the household into B is held; the row's other ops wait on the hub
    // (their village unknown, they may go only inside A's scope).
    assert_eq!(report.held, 1, "{report:?}");
    assert!(report.pulled > 0, "the pull ran: {report:?}");
    assert!(
        rows(&a, "household").contains(&county_household),
        "A received the county's household despite the held op"
    );
    let held = storage.held().expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(
        (
            held[0].reason.as_str(),
            held[0].device.as_str(),
            held[0].field.as_str()
        ),
        ("outside_scope", "A村", "village_id")
    );

    // The rest of the push went through, and the next sync is clean.
    sync(&county_client, &mut county);
    assert!(rows(&county, "household").contains(&own_household));
    write(
        &mut a,
        &[text(
            Table::Household,
            own_household,
            "remark",
            "后来的修改",
        )],
    );
    let report = a_client
        .sync_once(&mut a)
        .expect("a clean sync after the held ops");
    assert_eq!(report.pushed, 1);
    sync(&county_client, &mut county);
    assert_eq!(
        household_field(&county, own_household, "remark").as_deref(),
        Some("后来的修改")
    );
}

fn op(origin: Uuid, seq: i64, table: Table, row: Uuid, field: &str, value: FieldValue) -> Op {
    Op {
        id: OpId { origin, seq },
        hlc: Hlc::new(T0, seq as u16),
        table: table.code(),
        row,
        field: field.into(),
        value,
        preds: vec![],
        seen: vec![],
    }
}

#[test]
fn a_hub_file_of_schema_1_is_upgraded_with_its_scope_index_rebuilt_from_the_ops() {
    let dir = scratch();
    let data = dir.path().join("hub");
    let storage = SqliteStorage::open(&data).expect("hub");
    let county = Scope::parse(COUNTY).expect("scope");
    let code = storage.issue_code(&county).expect("code");
    let token = storage
        .enrol(&code, "县管理员", &[])
        .expect("enrol")
        .expect("enrolment")
        .token;
    let device = storage.authenticate(&token).expect("auth").expect("device");
    let (origin, village_row, household) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let ops = [
        op(
            origin,
            1,
            Table::Village,
            village_row,
            "code",
            FieldValue::Text(VILLAGE_A.into()),
        ),
        op(
            origin,
            2,
            Table::Household,
            household,
            "village_id",
            FieldValue::Bytes(village_row.as_bytes().to_vec()),
        ),
    ];
    storage.push(&device, origin, &ops).expect("push");
    let unused = storage.issue_code(&county).expect("code");
    drop(storage);
    // What a schema-1 file looks like: the old edge table, no index of links, codes that
    // never expire.
    let conn = rusqlite::Connection::open(data.join("hub.sqlite")).expect("open");
    conn.execute_batch(
        "DROP INDEX enrol_code_lookup; ALTER TABLE enrol_code DROP COLUMN expires_ms;
         ALTER TABLE enrol_code DROP COLUMN wrong_tries; ALTER TABLE enrol_code DROP COLUMN lookup;
         DROP TABLE link; DROP TABLE link_pred; DROP TABLE village_row; DROP TABLE row_left;
         DROP TABLE held; DROP TABLE hub_meta; DROP TABLE device_lineage; DROP TABLE superseded;
         DROP TABLE blob_ref; DROP TABLE blob; DROP TABLE batch_sig; DROP TABLE signer;
         DELETE FROM row_scope;
         CREATE TABLE edge (child BLOB NOT NULL, parent BLOB NOT NULL, shared INTEGER NOT NULL,
             PRIMARY KEY (child, parent)) WITHOUT ROWID;
         PRAGMA user_version = 1;",
    )
    .expect("downgrade");
    drop(conn);

    let storage = SqliteStorage::open(&data).expect("upgrade");
    assert_eq!(
        storage.epoch().len(),
        32,
        "the upgrade gives the hub an epoch"
    );
    let member = Uuid::now_v7();
    let more = [op(
        origin,
        3,
        Table::Member,
        member,
        "household_id",
        FieldValue::Bytes(household.as_bytes().to_vec()),
    )];
    storage.push(&device, origin, &more).expect("push");
    let page = storage
        .pull(&Scope::parse(VILLAGE_A).expect("scope"), 0, 100)
        .expect("pull");
    let rows: Vec<Uuid> = page.ops.iter().map(|o| o.row).collect();
    assert_eq!(rows, vec![village_row, household, member]);
    // A code issued before the upgrade is valid for 7 days from when it was made.
    let conn = rusqlite::Connection::open(data.join("hub.sqlite")).expect("open");
    let validity: i64 = conn
        .query_row(
            "SELECT max(expires_ms - created_ms) FROM enrol_code",
            [],
            |r| r.get(0),
        )
        .expect("validity");
    assert_eq!(validity, 7 * 24 * 3600 * 1000);
    assert!(storage.enrol(&unused, "乡镇", &[]).expect("enrol").is_ok());
}
