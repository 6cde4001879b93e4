//! Several hub processes on one PostgreSQL database: devices enrol at one, sync at any other at
//! random, concurrently, and everything converges as through one hub (the same state as the
//! same edits carried by changeset files, every op stored once, every scope complete).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::store::{Change, Store, put_change};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::{Hlc, Op, OpId};
use bangfu_hub::Scope;
use bangfu_hub::client::HubClient;
use bangfu_hub::storage::HubStorage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::common::*;

/// Points the device at another hub process (same database, same token).
fn sync_at(url: &str, client: &HubClient, store: &mut Store) {
    let link = store.hub_link().ok().flatten().expect("enrolled");
    store
        .set_hub_link(url, &link.token, &link.scope)
        .expect("relink");
    sync(client, store);
}

#[test]
fn three_hub_processes_on_one_postgres_database_converge_as_one_hub() {
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let hubs: Vec<_> = (0..3).map(|_| serve_at(&database, "127.0.0.1:0")).collect();
    let urls: Vec<String> = hubs.iter().map(|(h, _)| h.url()).collect();
    let storage = hubs[0].1.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(18);

    let mut admin = open(dir.path(), "县管理员");
    let villages = [village(VILLAGE_A), village(VILLAGE_B), village(VILLAGE_C)];
    let cadre = helper("王干部");
    let mut changes: Vec<Change> = villages.iter().map(put_change).collect();
    changes.push(put_change(&cadre));
    write(&mut admin, &changes);
    let admin_client = enrol(&mut admin, &urls[0], &hubs[1].1, crate::common::COUNTY);
    sync(&admin_client, &mut admin);

    let scopes = [
        ("A村-笔记本1", VILLAGE_A, 0),
        ("A村-笔记本2", VILLAGE_A, 0),
        ("B村", VILLAGE_B, 1),
        ("C村", VILLAGE_C, 2),
        ("一乡镇", "530828101", 0),
    ];
    let devices: Vec<(Store, HubClient, usize, u64)> = scopes
        .iter()
        .map(|(name, scope, v)| {
            let mut store = open(dir.path(), name);
            let at = rng.gen_range(0..urls.len());
            let client = enrol(&mut store, &urls[at], &hubs[at].1, scope);
            (store, client, *v, rng.r#gen())
        })
        .collect();

    // Each device, on its own thread, files households and edits them, syncing after each
    // step with a hub process drawn at random: pushes and pulls of different devices run at
    // the same time on different processes.
    let urls_ref = &urls;
    let villages_ref = &villages;
    let cadre_id = cadre.id;
    let devices: Vec<(Store, HubClient)> = std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(d, (mut store, client, v, seed))| {
                s.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    let mut mine = Vec::new();
                    for step in 0..6 {
                        if step % 2 == 0 || mine.is_empty() {
                            let code = format!("{}{}{:02}", villages_ref[v].code, d, step + 1);
                            let (mut changes, h, _) = family(villages_ref[v].id, &code[..15]);
                            if v > 0 {
                                changes.push(put_change(&pairing(h, cadre_id)));
                            }
                            write(&mut store, &changes);
                            mine.push(h);
                        } else {
                            let h = mine[rng.gen_range(0..mine.len())];
                            write(&mut store, &[remark(h, &format!("第{d}台第{step}步"))]);
                        }
                        let at = rng.gen_range(0..urls_ref.len());
                        sync_at(&urls_ref[at], &client, &mut store);
                    }
                    (store, client)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("device thread"))
            .collect()
    });
    let mut devices = devices;
    // The quiet point: everyone syncs twice more, each time at a random process.
    for _ in 0..2 {
        for (store, client) in &mut devices {
            let at = rng.gen_range(0..urls.len());
            sync_at(&urls[at], client, store);
        }
        let at = rng.gen_range(0..urls.len());
        sync_at(&urls[at], &admin_client, &mut admin);
    }

    let mut by_files = open(dir.path(), "按文件");
    for store in std::iter::once(&admin).chain(devices.iter().map(|(s, _)| s)) {
        let (file, _) = export_changeset(store, None).expect("export");
        import_changeset(&mut by_files, &file).expect("import");
    }
    assert_eq!(
        state_hash(&admin).ok(),
        state_hash(&by_files).ok(),
        "the county copy holds what the files carry"
    );
    assert_eq!(
        state_hash(&devices[0].0).ok(),
        state_hash(&devices[1].0).ok(),
        "the two laptops of A hold the same"
    );
    let households: Vec<usize> = devices
        .iter()
        .map(|(s, _)| rows(s, "household").len())
        .collect();
    // A: 3 from each of its laptops and 3 from the township; B, C: 3 each; the township: A and B.
    assert_eq!(households, vec![9, 9, 3, 3, 12], "households per device");
    let counts = storage.counts().expect("counts");
    assert_eq!(
        (counts.ops, counts.pending_ops, counts.held_ops),
        (admin.op_count().expect("ops"), 0, 0),
        "each op stored once, none pending or held"
    );
    // A late county laptop at the third process gets the same.
    let mut late = open(dir.path(), "县-新笔记本");
    let late_client = enrol(&mut late, &urls[2], &hubs[2].1, crate::common::COUNTY);
    sync(&late_client, &mut late);
    assert_eq!(state_hash(&late).ok(), state_hash(&admin).ok());
}

fn village_op(origin: Uuid, seq: i64, row: Uuid, field: &str, value: FieldValue) -> Op {
    Op {
        id: OpId { origin, seq },
        hlc: Hlc::new(T0, seq as u16),
        table: Table::Village.code(),
        row,
        field: field.into(),
        value,
        preds: vec![],
        seen: vec![],
    }
}

/// Regression guard for the feed numbering: with positions taken from a bare sequence, a push
/// that took position 9 could commit after one that took 10, and a device pulling in between
/// would move past 9 and never see it. Writers on two pools push into four villages of one
/// county while a reader pulls the county page by page; the reader must end with every op.
#[test]
fn a_county_pulled_while_pushes_commit_concurrently_misses_no_position() {
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let pools: Vec<_> = (0..2)
        .map(|_| database.open(8).expect("hub storage"))
        .collect();
    let county = Scope::parse(COUNTY).expect("scope");
    let device = |storage: &std::sync::Arc<dyn HubStorage>| {
        let code = storage.issue_code(&county).expect("code");
        let token = storage
            .enrol(&code, "写入", &[])
            .expect("enrol")
            .expect("code valid")
            .token;
        storage.authenticate(&token).expect("auth").expect("device")
    };
    const WRITERS: usize = 4;
    const PUSHES: i64 = 40;
    let codes = [
        "530828101201",
        "530828101202",
        "530828102201",
        "530828102202",
    ];
    let done = AtomicUsize::new(0);
    let pulled: HashSet<OpId> = std::thread::scope(|s| {
        for (w, code) in codes.iter().enumerate().take(WRITERS) {
            let storage = pools[w % pools.len()].clone();
            let me = device(&storage);
            let done = &done;
            s.spawn(move || {
                let origin = Uuid::now_v7();
                let row = Uuid::now_v7();
                let first = village_op(origin, 1, row, "code", FieldValue::Text((*code).into()));
                storage.push(&me, origin, &[first]).expect("push code");
                for p in 0..PUSHES {
                    let ops: Vec<Op> = (0..3)
                        .map(|k| {
                            let seq = 2 + p * 3 + k;
                            village_op(origin, seq, row, "name", FieldValue::Text(format!("{seq}")))
                        })
                        .collect();
                    storage.push(&me, origin, &ops).expect("push");
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let reader = pools[1].clone();
        let done = &done;
        let county = &county;
        s.spawn(move || {
            let mut after = 0;
            let mut seen = HashSet::new();
            loop {
                let finished = done.load(Ordering::SeqCst) == WRITERS;
                let page = reader.pull(county, after, 7).expect("pull");
                seen.extend(page.ops.iter().map(|op| op.id));
                after = page.next;
                if finished && page.ops.is_empty() {
                    return seen;
                }
            }
        })
        .join()
        .expect("reader")
    });
    let expected = WRITERS * (1 + PUSHES as usize * 3);
    let stored = pools[0].counts().expect("counts");
    assert_eq!(stored.ops as usize, expected, "every op stored");
    assert_eq!(
        pulled.len(),
        expected,
        "the reader pulled every op though it paged while pushes committed"
    );
}
