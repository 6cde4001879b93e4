//! Property tests of convergence: 2-6 replicas, random edits, deletes, restores and
//! resolutions, files exchanged with duplicates, reordering, loss and staleness, clocks skewed
//! by weeks. After a full exchange every replica holds the same tables and review queue.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bangfu_core::model::{FieldValue, Household, Table};
use bangfu_core::store::{Change, Store, VersionVector, put_change};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{PeerHoldings, export_changeset, import_changeset};
use bangfu_core::sync::review::{resolve_item, review_items};
use proptest::prelude::*;
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;
const WEEK: u64 = 7 * 24 * 3600 * 1000;
const ROWS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Edit {
        replica: usize,
        row: usize,
        field: usize,
        value: u8,
    },
    Delete {
        replica: usize,
        row: usize,
    },
    Restore {
        replica: usize,
        row: usize,
    },
    ResolveFirst {
        replica: usize,
        pick: usize,
    },
    /// Export from one replica (whole or what the other lacks) and keep the file.
    Export {
        from: usize,
        whole: bool,
        to: usize,
    },
    /// Deliver a kept file (any of them, again and again, in any order).
    Deliver {
        file: usize,
        to: usize,
    },
    Tick {
        replica: usize,
        ms: u32,
    },
}

fn action(replicas: usize) -> impl Strategy<Value = Action> {
    let r = 0..replicas;
    prop_oneof![
        6 => (r.clone(), 0..ROWS, 0..3usize, 0..4u8).prop_map(|(replica, row, field, value)| Action::Edit { replica, row, field, value }),
        1 => (r.clone(), 0..ROWS).prop_map(|(replica, row)| Action::Delete { replica, row }),
        1 => (r.clone(), 0..ROWS).prop_map(|(replica, row)| Action::Restore { replica, row }),
        1 => (r.clone(), 0..3usize).prop_map(|(replica, pick)| Action::ResolveFirst { replica, pick }),
        3 => (r.clone(), any::<bool>(), r.clone()).prop_map(|(from, whole, to)| Action::Export { from, whole, to }),
        4 => (0..64usize, r.clone()).prop_map(|(file, to)| Action::Deliver { file, to }),
        1 => (r, 0..3_000_000u32).prop_map(|(replica, ms)| Action::Tick { replica, ms }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<i8>, Vec<Action>, u64)> {
    (2..=6usize).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(-3i8..=3, n),
            proptest::collection::vec(action(n), 1..40),
            any::<u64>(),
        )
    })
}

const FIELDS: [&str; 3] = ["group_name", "phone", "address"];

fn value(field: usize, v: u8) -> FieldValue {
    match field {
        0 => FieldValue::Text(["上寨组", "下寨组", "新寨组", "老寨组"][v as usize].into()),
        1 => FieldValue::Text(format!("1380000000{v}")),
        _ => FieldValue::Text(format!("{v}号")),
    }
}

/// Every op any replica holds.
fn all_ops(stores: &[Store]) -> BTreeMap<(Uuid, i64), bangfu_core::sync::Op> {
    let mut all = BTreeMap::new();
    for s in stores {
        for op in s.ops_missing_from(&VersionVector::new()).unwrap() {
            all.insert((op.id.origin, op.id.seq), op);
        }
    }
    all
}

fn run(n: usize, skews: &[i8], actions: &[Action], seed: u64) -> Result<(), TestCaseError> {
    let dir = common::scratch();
    let clocks: Vec<u64> = skews
        .iter()
        .map(|s| (T0 as i64 + i64::from(*s) * WEEK as i64) as u64)
        .collect();
    let mut stores: Vec<Store> = (0..n)
        .map(|i| common::open_at(dir.path(), &format!("r{i}"), clocks[i]))
        .collect();
    // Odd replicas materialize after every few rows, so merges also take the flushing path;
    // every third replica takes its first file as a bulk load (indexes built at the end, the
    // rows' heads written out every couple of rows and read back when met again).
    for (i, s) in stores.iter_mut().enumerate() {
        if i % 2 == 1 {
            s.set_merge_rows_in_memory(1 + i % 3);
        }
        if i % 3 == 2 {
            s.set_bulk_load_min_ops(1);
            s.set_bulk_heads_held(2);
        }
    }
    let mut clock = clocks.clone();
    // The rows exist on replica 0 first; the others learn them by files, or write them too.
    let rows: Vec<Household> = (0..ROWS)
        .map(|i| Household {
            id: Uuid::now_v7(),
            code: format!("530826103201{:03}", i + 1),
            main_cause: "01".into(),
            ..Default::default()
        })
        .collect();
    stores[0]
        .write(&rows.iter().map(put_change).collect::<Vec<_>>())
        .unwrap();
    let mut files: Vec<Vec<u8>> = Vec::new();

    for a in actions {
        match a {
            Action::Edit {
                replica,
                row,
                field,
                value: v,
            } => {
                let change = Change::Put {
                    table: Table::Household,
                    id: rows[*row].id,
                    fields: vec![(FIELDS[*field], value(*field, *v))],
                };
                // Editing a deleted row is refused and changes nothing; that is part of the model.
                let _ = stores[*replica].write(&[change]);
            }
            Action::Delete { replica, row } => {
                let _ = stores[*replica].write(&[Change::Delete {
                    table: Table::Household,
                    id: rows[*row].id,
                }]);
            }
            Action::Restore { replica, row } => {
                let _ = stores[*replica].write(&[Change::Restore {
                    table: Table::Household,
                    id: rows[*row].id,
                }]);
            }
            Action::ResolveFirst { replica, pick } => {
                let items = review_items(&stores[*replica]).unwrap();
                if let Some(item) = items.first() {
                    // Settled as the review page does: the value as shown (a label for a coded
                    // field), parsed back by the core. Writing the shown label raw was refused
                    // by the checked write once a conflict of 主要致贫原因 came up.
                    let text = if item.field == "deleted" {
                        if pick % 2 == 0 { "删除" } else { "恢复" }.to_owned()
                    } else {
                        item.values[pick % item.values.len()].value.clone()
                    };
                    let item = item.clone();
                    resolve_item(&mut stores[*replica], &item, &text).unwrap();
                }
            }
            Action::Export { from, whole, to } => {
                // Half the exports take the peer's exact holdings, half its gap-free prefix
                // (what a file of an older version states).
                let peer = if files.len().is_multiple_of(2) {
                    PeerHoldings::Exactly(stores[*to].held_ranges().unwrap())
                } else {
                    PeerHoldings::AtLeast(stores[*to].version_vector().unwrap())
                };
                let (bytes, _) =
                    export_changeset(&stores[*from], if *whole { None } else { Some(&peer) })
                        .unwrap();
                files.push(bytes);
            }
            Action::Deliver { file, to } => {
                if !files.is_empty() {
                    let bytes = files[file % files.len()].clone();
                    import_changeset(&mut stores[*to], &bytes).unwrap();
                }
            }
            Action::Tick { replica, ms } => {
                clock[*replica] += u64::from(*ms);
                stores[*replica].set_fixed_clock(clock[*replica]);
            }
        }
    }

    // Full exchange: every replica's whole file to every replica, in a seeded random order.
    let finals: Vec<Vec<u8>> = stores
        .iter()
        .map(|s| export_changeset(s, None).unwrap().0)
        .collect();
    let mut order: Vec<(usize, usize)> = (0..n).flat_map(|f| (0..n).map(move |t| (f, t))).collect();
    let mut state = seed | 1;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    for (f, t) in order {
        import_changeset(&mut stores[t], &finals[f]).unwrap();
    }
    let hashes: BTreeSet<String> = stores.iter().map(|s| state_hash(s).unwrap()).collect();
    prop_assert_eq!(hashes.len(), 1, "replicas disagree after a full exchange");
    // The replicated review queue is identical everywhere; which values each copy found
    // stamped ahead of its own date is that copy's observation (its clock differs), so those
    // local flags stay out of the comparison.
    let reviews: BTreeSet<String> = stores
        .iter()
        .map(|s| {
            let mut items = review_items(s).unwrap();
            items.retain(|i| i.kind != "clock_ahead");
            for item in &mut items {
                for v in &mut item.values {
                    v.clock_ahead = false;
                }
            }
            format!("{items:?}")
        })
        .collect();
    prop_assert_eq!(reviews.len(), 1, "review queues differ");

    // Re-importing changes nothing.
    let before = state_hash(&stores[0]).unwrap();
    for f in &finals {
        let again = import_changeset(&mut stores[0], f).unwrap();
        prop_assert_eq!(again.applied, 0);
    }
    prop_assert_eq!(state_hash(&stores[0]).unwrap(), before.clone());

    // The files in reverse order into a fresh copy give the same state.
    let mut fresh = common::open_at(dir.path(), "fresh", T0);
    for f in finals.iter().rev() {
        import_changeset(&mut fresh, f).unwrap();
    }
    prop_assert_eq!(state_hash(&fresh).unwrap(), before);

    // No value lost: every op no other op names is shown or waiting in review.
    let ops = all_ops(&stores);
    let named: BTreeSet<(Uuid, i64)> = ops
        .values()
        .flat_map(|o| o.preds.iter().map(|p| (p.origin, p.seq)))
        .collect();
    let mut heads: BTreeMap<(Uuid, String), Vec<&bangfu_core::sync::Op>> = BTreeMap::new();
    for op in ops
        .values()
        .filter(|o| !named.contains(&(o.id.origin, o.id.seq)))
    {
        heads
            .entry((op.row, op.field.clone()))
            .or_default()
            .push(op);
    }
    let items = review_items(&stores[0]).unwrap();
    for ((row, field), hs) in &heads {
        if hs.len() > 1 {
            let item = items
                .iter()
                .find(|i| i.row_id == row.to_string() && &i.field == field);
            prop_assert!(item.is_some(), "conflict on {row} {field} not in review");
            prop_assert_eq!(item.map(|i| i.values.len()), Some(hs.len()));
        } else if field != "deleted" {
            let shown: Option<Household> = stores[0].get::<Household>(*row).ok();
            if let Some(h) = shown {
                let fields: BTreeMap<&str, FieldValue> = bangfu_core::model::Entity::to_fields(&h)
                    .into_iter()
                    .collect();
                let want = match &hs[0].value {
                    FieldValue::Text(t) if t.is_empty() => FieldValue::Null,
                    v => v.clone(),
                };
                let got = match fields.get(field.as_str()) {
                    Some(FieldValue::Text(t)) if t.is_empty() => FieldValue::Null,
                    Some(v) => v.clone(),
                    None => FieldValue::Null,
                };
                prop_assert_eq!(got, want, "{} {}", row, field);
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_files_do((n, skews, actions, seed) in scenario()) {
        run(n, &skews, &actions, seed)?;
    }
}
