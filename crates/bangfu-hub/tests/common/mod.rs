//! What the hub tests share: scratch folders, stores, a hub on loopback, enrolled clients and
//! small hand-made villages.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use bangfu_core::model::{Entity, Helper, Household, Member, Pairing, Village};
use bangfu_core::store::{Change, OpenOptions, Store, put_change};
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::server::{RunningHub, bind};
use bangfu_hub::storage::{HubStorage, SqliteStorage};
use uuid::Uuid;

pub const T0: u64 = 1_750_000_000_000;
pub const COUNTY: &str = "530828";
pub const VILLAGE_A: &str = "530828101201";
pub const VILLAGE_B: &str = "530828101202";
pub const VILLAGE_C: &str = "530828102201";

pub fn scratch() -> tempfile::TempDir {
    if Path::new("/dev/shm").is_dir()
        && let Ok(dir) = tempfile::tempdir_in("/dev/shm")
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

pub fn open(dir: &Path, name: &str) -> Store {
    let options = OpenOptions {
        identity_dir: Some(dir.join("registry")),
        device_name: Some(name.to_owned()),
        fixed_clock_ms: Some(T0),
        key: None,
    };
    Store::open(dir.join(format!("{name}.sqlite")), &options)
        .unwrap_or_else(|e| panic!("open {name}: {e}"))
}

/// A hub on 127.0.0.1 with an ephemeral port, on its own thread.
pub fn start_hub(dir: &Path) -> (RunningHub, Arc<SqliteStorage>) {
    let storage = Arc::new(SqliteStorage::open(&dir.join("hub")).expect("hub storage"));
    let listener = bind("127.0.0.1:0").expect("bind");
    let hub = RunningHub::start(listener, storage.clone()).expect("start hub");
    (hub, storage)
}

pub fn client() -> HubClient {
    HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        page_ops: 500,
        ..Default::default()
    })
}

/// Enrols `store` for `scope` with a fresh code; returns the client.
pub fn enrol(store: &mut Store, url: &str, storage: &SqliteStorage, scope: &str) -> HubClient {
    let code = storage
        .issue_code(&Scope::parse(scope).expect("scope"))
        .expect("code");
    let client = client();
    client.enrol(store, url, &code).expect("enrol");
    client
}

pub fn sync(client: &HubClient, store: &mut Store) {
    if let Err(e) = client.sync_once(store) {
        panic!("sync {}: {e}", store.device().name);
    }
}

pub fn write(store: &mut Store, changes: &[Change]) {
    store
        .write(changes)
        .unwrap_or_else(|e| panic!("write: {e}"));
}

pub fn village(code: &str) -> Village {
    Village {
        id: Uuid::now_v7(),
        code: code.into(),
        name: format!("村{}", &code[9..]),
        township: "乡镇".into(),
        county: "县".into(),
        province: "云南省".into(),
        rural_population: Some(1000),
        ..Default::default()
    }
}

/// A household of `village` with two members; returns the changes and the household's id.
pub fn family(village: Uuid, code: &str) -> (Vec<Change>, Uuid, Vec<Uuid>) {
    let h = Household {
        id: Uuid::now_v7(),
        village_id: Some(village),
        code: code.into(),
        group_name: "上寨组".into(),
        main_cause: "01".into(),
        ..Default::default()
    };
    let members: Vec<Member> = ["张", "李"]
        .iter()
        .map(|n| Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: format!("{n}{code}"),
            relation: "01".into(),
            ..Default::default()
        })
        .collect();
    let mut changes = vec![put_change(&h)];
    changes.extend(members.iter().map(put_change));
    (changes, h.id, members.iter().map(Entity::id).collect())
}

pub fn helper(name: &str) -> Helper {
    Helper {
        id: Uuid::now_v7(),
        name: name.into(),
        unit: "县农业局".into(),
        ..Default::default()
    }
}

pub fn pairing(household: Uuid, helper: Uuid) -> Pairing {
    Pairing {
        id: Uuid::now_v7(),
        household_id: Some(household),
        helper_id: Some(helper),
        ..Default::default()
    }
}

/// Rows of a table in a store, as ids.
pub fn rows(store: &Store, table: &str) -> Vec<Uuid> {
    let sql = match table {
        "household" => "SELECT id FROM household",
        "member" => "SELECT id FROM member",
        "helper" => "SELECT id FROM helper",
        "pairing" => "SELECT id FROM pairing",
        _ => "SELECT id FROM village",
    };
    let conn = store.sql().expect("query-only view");
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .filter_map(|b| b.ok().and_then(|b| Uuid::from_slice(&b).ok()))
        .collect()
}
