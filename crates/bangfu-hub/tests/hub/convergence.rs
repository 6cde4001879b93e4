//! Concurrent edits from three villages, a township and the county converge through the hub to
//! the same state as the same edits carried by changeset files; each copy holds its scope only.

use bangfu_core::store::{Change, put_change};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{export_changeset, import_changeset};

use crate::common::*;

crate::on_both_backends!(three_villages_converge_through_the_hub_like_by_files);
fn three_villages_converge_through_the_hub_like_by_files(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut admin = open(dir.path(), "县管理员");
    let villages = [village(VILLAGE_A), village(VILLAGE_B), village(VILLAGE_C)];
    let cadre = helper("王干部"); // helps households in B and C
    let mut changes: Vec<Change> = villages.iter().map(put_change).collect();
    changes.push(put_change(&cadre));
    write(&mut admin, &changes);
    let admin_client = enrol(&mut admin, &url, &storage, COUNTY);
    sync(&admin_client, &mut admin);

    let scopes = [
        ("A村-笔记本1", VILLAGE_A),
        ("A村-笔记本2", VILLAGE_A),
        ("B村", VILLAGE_B),
        ("C村", VILLAGE_C),
        ("一乡镇", "530828101"),
    ];
    let mut devices: Vec<_> = scopes
        .iter()
        .map(|(name, scope)| {
            let mut store = open(dir.path(), name);
            let client = enrol(&mut store, &url, &storage, scope);
            sync(&client, &mut store);
            (store, client)
        })
        .collect();

    // Each village files households; B and C pair theirs with the shared cadre.
    let mut households = Vec::new();
    for (i, (v, device)) in [(0, 0), (1, 2), (2, 3)].into_iter().enumerate() {
        for n in 0..3 {
            let (mut changes, h, _) =
                family(villages[v].id, &format!("{}{:03}", villages[v].code, n + 1));
            if i > 0 {
                changes.push(put_change(&pairing(h, cadre.id)));
            }
            write(&mut devices[device].0, &changes);
            households.push(h);
        }
    }
    for (store, client) in &mut devices {
        sync(client, store);
    }
    sync(&admin_client, &mut admin);
    // Concurrent edits: both A laptops on the same household; the county and B on B's.
    write(&mut devices[0].0, &[remark(households[0], "一号本")]);
    write(&mut devices[1].0, &[remark(households[0], "二号本")]);
    write(&mut devices[2].0, &[remark(households[3], "村里改")]);
    write(&mut admin, &[remark(households[3], "县里改")]);
    for _ in 0..2 {
        for (store, client) in &mut devices {
            sync(client, store);
        }
        sync(&admin_client, &mut admin);
    }

    // The same edits carried by whole changeset files into a fresh copy.
    let mut by_files = open(dir.path(), "按文件");
    for store in std::iter::once(&admin).chain(devices.iter().map(|(s, _)| s)) {
        let (file, _) = export_changeset(store, None).expect("export");
        import_changeset(&mut by_files, &file).expect("import");
    }
    let county_hash = state_hash(&admin).expect("hash");
    assert_eq!(county_hash, state_hash(&by_files).expect("hash"));
    assert_eq!(
        state_hash(&devices[0].0).ok(),
        state_hash(&devices[1].0).ok(),
        "the two laptops of A hold the same"
    );

    // Each copy holds exactly its scope: (device, households, villages, helpers).
    let held: Vec<(usize, usize, usize)> = devices
        .iter()
        .map(|(s, _)| {
            (
                rows(s, "household").len(),
                rows(s, "village").len(),
                rows(s, "helper").len(),
            )
        })
        .collect();
    assert_eq!(
        held,
        vec![(3, 1, 0), (3, 1, 0), (3, 1, 1), (3, 1, 1), (6, 2, 1)],
        "households, villages, helpers per device"
    );
    let a_members = rows(&devices[0].0, "member").len();
    assert_eq!(a_members, 6);
    assert!(
        !rows(&devices[0].0, "household")
            .iter()
            .any(|h| households[3..].contains(h)),
        "A holds no household of B or C"
    );
    let counts = storage.counts().expect("counts");
    assert_eq!(
        counts.ops,
        admin.op_count().expect("ops"),
        "each op stored once"
    );
}
