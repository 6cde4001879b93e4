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
use bangfu_hub::storage::{HubStorage, Location, PgStorage, StoreOptions};
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

/// A device's push retried at a second hub process while the first attempt is still being
/// stored by another (a load balancer retrying after a timeout, a laptop that gave up waiting
/// and synced again): the same ops, new households' and members' first links among them,
/// arrive at two processes at the same instant, round after round. Both answers must say the
/// whole push is stored, and the hub must hold exactly what one push stores: each op once, every
/// feed (village, township, county, full and compacted) the same as a hub that got each push
/// once, nothing held.
#[test]
fn the_same_push_sent_to_two_hub_processes_at_once_is_stored_once() {
    const ROUNDS: usize = 6;
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let pools: Vec<std::sync::Arc<dyn HubStorage>> = (0..2)
        .map(|_| database.open(4).expect("hub storage"))
        .collect();
    let reference = location(&dir.path().join("once"), Backend::Postgres)
        .open(2)
        .expect("reference hub");
    let mut county = open(dir.path(), "县管理员");
    let villages = [village(VILLAGE_A), village(VILLAGE_B), village(VILLAGE_C)];
    let cadre = helper("王干部");
    let mut changes: Vec<Change> = villages.iter().map(put_change).collect();
    changes.push(put_change(&cadre));
    write(&mut county, &changes);
    let device = county_device(&*pools[0]);
    let once = county_device(&*reference);
    let origin = county.device().id;
    let mut stored = 0;
    let mut households = Vec::new();
    for round in 0..ROUNDS {
        for village in &villages {
            for k in 0..3 + round {
                let code = format!("{}{}{:02}", village.code, round + 1, k + 1);
                let (mut changes, h, _) = family(village.id, &code);
                if k == 0 {
                    changes.push(put_change(&pairing(h, cadre.id)));
                }
                write(&mut county, &changes);
                households.push(h);
            }
        }
        for h in households.iter().step_by(4) {
            write(&mut county, &[remark(*h, &format!("第{round}轮"))]);
        }
        let ops: Vec<Op> = county
            .ops_of_origin_after(origin, stored, 100_000)
            .expect("ops");
        let last = ops.last().expect("new ops").id.seq;
        let start = std::sync::Barrier::new(pools.len());
        let answers: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = pools
                .iter()
                .map(|storage| {
                    let (start, ops, device) = (&start, &ops, &device);
                    s.spawn(move || {
                        start.wait();
                        storage.push(device, origin, ops)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("push thread"))
                .collect()
        });
        for (at, answer) in answers.into_iter().enumerate() {
            let outcome = answer.unwrap_or_else(|e| {
                panic!("round {round}: the push sent to process {at} as well failed: {e}")
            });
            assert_eq!(outcome.stored_seq, last, "round {round}, process {at}");
            assert!(outcome.held.is_empty(), "{:?}", outcome.held);
        }
        let outcome = reference.push(&once, origin, &ops).expect("push once");
        assert_eq!(outcome.stored_seq, last);
        stored = last;
    }
    assert_eq!(
        feeds(&*pools[1]),
        feeds(&*reference),
        "every feed as a hub that got each push once"
    );
    let (got, want) = (
        pools[0].counts().expect("counts"),
        reference.counts().expect("counts"),
    );
    assert_eq!(
        (got.ops, got.feed_entries, got.pending_ops, got.held_ops),
        (want.ops, want.feed_entries, want.pending_ops, 0),
        "each op and feed entry once, none held"
    );
    assert_eq!(got.ops, county.op_count().expect("ops"));
}

/// Three counties' first uploads at the same time, through two hub processes, each in many
/// transactions: a push holds only its own county's lock and runs at REPEATABLE READ, and the
/// counties' rows are distinct, so no push of one county makes a push of another run again
/// (under SERIALIZABLE they did: their predicate locks share index pages). Every county's feed
/// then holds every op its admin pushed.
#[test]
fn first_uploads_of_three_counties_at_once_never_make_one_another_run_again() {
    const CHUNK: usize = 150;
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let pools: Vec<std::sync::Arc<dyn HubStorage>> = (0..2)
        .map(|_| database.open(4).expect("hub storage"))
        .collect();
    let uploads: Vec<_> = ["530828", "530829", "530830"]
        .iter()
        .enumerate()
        .map(|(c, county)| {
            let mut store = open(dir.path(), &format!("{county}县管理员"));
            let villages = [
                village(&format!("{county}101201")),
                village(&format!("{county}102201")),
            ];
            let cadre = helper(&format!("{county}干部"));
            let mut changes: Vec<Change> = villages.iter().map(put_change).collect();
            changes.push(put_change(&cadre));
            write(&mut store, &changes);
            for v in &villages {
                for k in 1..=12 {
                    let (mut changes, h, _) = family(v.id, &format!("{}{k:03}", v.code));
                    if k % 3 == 0 {
                        changes.push(put_change(&pairing(h, cadre.id)));
                    }
                    write(&mut store, &changes);
                }
            }
            let storage = pools[c % pools.len()].clone();
            let device = device_of(&*storage, county);
            let origin = store.device().id;
            let ops = store
                .ops_of_origin_after(origin, 0, 1_000_000)
                .expect("ops");
            (
                storage,
                device,
                origin,
                ops,
                Scope::parse(county).expect("scope"),
            )
        })
        .collect();
    let before: u64 = pools.iter().map(|p| p.conflicts_retried()).sum();
    let start = std::sync::Barrier::new(uploads.len());
    std::thread::scope(|s| {
        for (storage, device, origin, ops, _) in &uploads {
            let start = &start;
            s.spawn(move || {
                start.wait();
                for chunk in ops.chunks(CHUNK) {
                    let outcome = storage.push(device, *origin, chunk).expect("push");
                    assert_eq!(outcome.stored_seq, chunk.last().expect("op").id.seq);
                    assert!(outcome.held.is_empty(), "{:?}", outcome.held);
                }
            });
        }
    });
    let retried: u64 = pools.iter().map(|p| p.conflicts_retried()).sum::<u64>() - before;
    assert_eq!(
        retried, 0,
        "transactions run again while only different counties pushed"
    );
    for (storage, _, _, ops, scope) in &uploads {
        let mut pulled = HashSet::new();
        let mut after = 0;
        loop {
            let page = storage.pull(scope, after, 5_000).expect("pull");
            pulled.extend(page.ops.iter().map(|op| op.id));
            after = page.next;
            if !page.more {
                break;
            }
        }
        let pushed: HashSet<OpId> = ops.iter().map(|op| op.id).collect();
        assert_eq!(
            pulled,
            pushed,
            "county {} holds its admin's ops",
            scope.as_str()
        );
    }
}

/// An op made by hand: `seq` of `origin` sets `field` of a `table` row.
fn op_at(origin: Uuid, seq: i64, table: Table, row: Uuid, field: &str, value: FieldValue) -> Op {
    Op {
        id: OpId { origin, seq },
        hlc: Hlc::new(T0 + seq as u64, 0),
        table: table.code(),
        row,
        field: field.into(),
        value,
        preds: vec![],
        seen: vec![],
    }
}

fn id_value(id: Uuid) -> FieldValue {
    FieldValue::Bytes(id.as_bytes().to_vec())
}

/// The one row two counties' pushes share: county 530828's helper, whom county 530829 names in
/// a pairing of a new village of its own while 530828 edits the helper, at the same instant,
/// round after round. The two pushes hold different counties' locks; each reads what the other
/// writes (the helper's villages, the helper's ops), so without their claims on the helper's
/// row one of 530828's edits could miss a village 530829 had just shared the helper into. In
/// any order one after the other, each new village gets every op of the helper (its history
/// when shared, later edits as they come): so must they here. Every row touched keeps its
/// claim (nothing prunes them before 100,000).
#[test]
fn a_helper_shared_into_another_county_while_edited_reaches_every_village_it_joined() {
    let claims = share_a_helper_while_edited(StoreOptions::default());
    assert!(
        claims >= 3 * ROUNDS + 2,
        "a claim for each village, household and pairing made, and the helper: {claims}"
    );
}

/// The same with `row_claim` pruned after every push, while the other county's push runs: a
/// prune waits for the writes running and lets none start until it is done, so no claim a
/// running push could still meet is removed, and the helper still reaches every village.
/// The table is left nearly empty instead of holding a claim for every row ever pushed.
#[test]
fn with_row_claims_pruned_after_every_push_a_shared_helper_still_reaches_every_village() {
    let claims = share_a_helper_while_edited(StoreOptions {
        claims_before_prune: Some(1),
        ..StoreOptions::default()
    });
    assert!(
        claims < ROUNDS,
        "claims left after the last prune: {claims}"
    );
}

/// A quiet hub does not keep its claims until 100,000 come: a process prunes the claims it
/// wrote once its last try is `prune_every` old (here at once), however few they are.
#[test]
fn a_quiet_hub_prunes_its_row_claims_after_a_while_however_few() {
    let claims = share_a_helper_while_edited(StoreOptions {
        prune_every: Some(std::time::Duration::ZERO),
        ..StoreOptions::default()
    });
    assert!(
        claims < ROUNDS,
        "claims left after the last prune: {claims}"
    );
}

/// Rounds of sharing and editing the helper at once.
const ROUNDS: i64 = 12;

/// Runs the rounds on two storages opened with `options` over one database: asserts every
/// village the helper joined got every op of the helper, and answers how many row claims
/// the database holds at the end.
fn share_a_helper_while_edited(options: StoreOptions) -> i64 {
    let dir = scratch();
    let database = location(dir.path(), Backend::Postgres);
    let pools: Vec<std::sync::Arc<dyn HubStorage>> = (0..2)
        .map(|_| database.open_with(4, options).expect("hub storage"))
        .collect();
    let (x, y) = (
        device_of(&*pools[0], "530828"),
        device_of(&*pools[1], "530829"),
    );
    let (ox, oy) = (Uuid::now_v7(), Uuid::now_v7());
    let (vx, hx, px, cadre) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let setup = [
        op_at(
            ox,
            1,
            Table::Village,
            vx,
            "code",
            FieldValue::Text(VILLAGE_A.into()),
        ),
        op_at(ox, 2, Table::Household, hx, "village_id", id_value(vx)),
        op_at(
            ox,
            3,
            Table::Helper,
            cadre,
            "name",
            FieldValue::Text("王干部".into()),
        ),
        op_at(ox, 4, Table::Pairing, px, "household_id", id_value(hx)),
        op_at(ox, 5, Table::Pairing, px, "helper_id", id_value(cadre)),
    ];
    pools[0].push(&x, ox, &setup).expect("county 530828");
    let mut codes = Vec::new();
    for r in 0..ROUNDS {
        let code = format!("530829101{:03}", 201 + r);
        let (v, h, p) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let share = [
            op_at(
                oy,
                4 * r + 1,
                Table::Village,
                v,
                "code",
                FieldValue::Text(code.clone()),
            ),
            op_at(
                oy,
                4 * r + 2,
                Table::Household,
                h,
                "village_id",
                id_value(v),
            ),
            op_at(
                oy,
                4 * r + 3,
                Table::Pairing,
                p,
                "household_id",
                id_value(h),
            ),
            op_at(
                oy,
                4 * r + 4,
                Table::Pairing,
                p,
                "helper_id",
                id_value(cadre),
            ),
        ];
        let edit = [op_at(
            ox,
            6 + r,
            Table::Helper,
            cadre,
            "unit",
            FieldValue::Text(format!("第{r}个单位")),
        )];
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let start = &start;
            let (pools, x, y, share, edit) = (&pools, &x, &y, &share, &edit);
            s.spawn(move || {
                start.wait();
                pools[1].push(y, oy, share).expect("share the helper");
            });
            s.spawn(move || {
                start.wait();
                pools[0].push(x, ox, edit).expect("edit the helper");
            });
        });
        codes.push(code);
    }
    let helper_ops: HashSet<OpId> = (3..=5 + ROUNDS)
        .filter(|seq| *seq == 3 || *seq > 5)
        .map(|seq| OpId { origin: ox, seq })
        .collect();
    for code in &codes {
        let page = pools[0]
            .pull(&Scope::parse(code).expect("scope"), 0, 1_000)
            .expect("pull");
        let got: HashSet<OpId> = page
            .ops
            .iter()
            .filter(|op| op.row == cadre)
            .map(|op| op.id)
            .collect();
        assert_eq!(got, helper_ops, "the helper's ops in village {code}");
    }
    let held = pools[0].counts().expect("counts").held_ops;
    assert_eq!(held, 0, "nothing held");
    let Location::Postgres(url) = &database else {
        unreachable!("a PostgreSQL location")
    };
    pg_count(url, "row_claim")
}

/// A prune of `row_claim` never runs beside a write: while the hub's revoke is held up on a
/// row another session locked (its snapshot taken, the write gate held), the prune waits,
/// gives up after its 2 seconds and removes nothing; once the revoke is through, it removes
/// every claim, and pushes go on claiming afterwards.
#[test]
fn row_claims_are_pruned_only_while_no_write_runs() {
    let dir = scratch();
    let Location::Postgres(url) = location(dir.path(), Backend::Postgres) else {
        unreachable!("a PostgreSQL location")
    };
    let hub = PgStorage::open(&url, 4).expect("hub storage");
    let device = device_of(&hub, "530828");
    let origin = Uuid::now_v7();
    let (v, h) = (Uuid::now_v7(), Uuid::now_v7());
    let place = [
        op_at(
            origin,
            1,
            Table::Village,
            v,
            "code",
            FieldValue::Text(VILLAGE_A.into()),
        ),
        op_at(origin, 2, Table::Household, h, "village_id", id_value(v)),
    ];
    hub.push(&device, origin, &place).expect("push");
    let claims = pg_count(&url, "row_claim");
    assert!(
        claims >= 2,
        "the village and the household claimed: {claims}"
    );

    let mut other = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let mut holding = other.transaction().expect("begin");
    holding
        .execute("UPDATE device SET name = name WHERE id = $1", &[&device.id])
        .expect("hold the device's row");
    std::thread::scope(|s| {
        let revoking = s.spawn(|| hub.revoke(device.id));
        await_lock_waiter(&url);
        assert_eq!(hub.prune_row_claims().expect("prune"), None, "a write runs");
        assert_eq!(pg_count(&url, "row_claim"), claims);
        holding.commit().expect("commit");
        assert!(revoking.join().expect("revoke thread").expect("revoke"));
    });
    assert_eq!(
        hub.prune_row_claims().expect("prune"),
        Some(u64::try_from(claims).expect("count"))
    );
    assert_eq!(pg_count(&url, "row_claim"), 0);

    let named = op_at(
        origin,
        3,
        Table::Village,
        v,
        "name",
        FieldValue::Text("新文村".into()),
    );
    hub.push(&device, origin, &[named])
        .expect("push after the prune");
    assert!(
        pg_count(&url, "row_claim") >= 1,
        "the village claimed again"
    );
}
