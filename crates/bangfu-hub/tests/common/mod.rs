//! What the hub tests share: scratch folders, stores, a hub on loopback, enrolled clients and
//! small hand-made villages.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bangfu_core::model::{Entity, FieldValue, Helper, Household, Member, Pairing, Table, Village};
use bangfu_core::store::{Change, OpenOptions, Store, put_change};
use bangfu_core::sync::OpId;
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::server::{RunningHub, ServerConfig, bind};
use bangfu_hub::storage::{DeviceAuth, HubStorage, Location};
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

/// Which storage a hub test runs on; each test of the suite runs once on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a hub test once per backend: `on_both_backends!(name);` makes `name::sqlite` and
/// `name::postgres` of `fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::common::Backend::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name($crate::common::Backend::Postgres);
            }
        }
    };
}

/// A new, empty PostgreSQL database of its own for one test, on the server named by
/// `BANGFU_TEST_POSTGRES` (set by `scripts/with-postgres`). Without it the test fails and says
/// how to run it: a PostgreSQL variant never passes by skipping.
pub fn new_postgres_database() -> String {
    let Ok(admin) = std::env::var("BANGFU_TEST_POSTGRES") else {
        panic!(
            "BANGFU_TEST_POSTGRES is not set: the PostgreSQL variants of the hub tests need a \
             server. Run them as `bash scripts/with-postgres cargo nextest run -p bangfu-hub` \
             (it starts a throwaway PostgreSQL and sets the variable), or point \
             BANGFU_TEST_POSTGRES at a server where the user may CREATE DATABASE."
        )
    };
    let name = format!("bangfu_test_{}", Uuid::now_v7().simple());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to BANGFU_TEST_POSTGRES={admin}: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// Waits until a session of the PostgreSQL database at `url` waits for a lock: a hub write
/// blocked on a row another session holds, with its snapshot taken.
pub fn await_lock_waiter(url: &str) {
    let mut watch = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    for _ in 0..600 {
        let waiting: i64 = watch
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .expect("activity")
            .get(0);
        if waiting > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no session of {url} ever waited for a lock");
}

/// The number of rows of `table` in the PostgreSQL database at `url`.
pub fn pg_count(url: &str, table: &str) -> i64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .expect("count")
        .get(0)
}

/// Copies a PostgreSQL test database (no one may be connected to it): a backup of it.
pub fn copy_postgres_database(url: &str) -> String {
    let admin = std::env::var("BANGFU_TEST_POSTGRES").expect("BANGFU_TEST_POSTGRES");
    let (base, from) = url.rsplit_once('/').expect("database url");
    let name = format!("bangfu_copy_{}", Uuid::now_v7().simple());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
    // The hub's pooled connections close a moment after it is dropped.
    for attempt in 0.. {
        match client.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {from}")) {
            Ok(()) => break,
            Err(e) if attempt < 100 => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("copy database {from}: {e}"),
        }
    }
    format!("{base}/{name}")
}

/// Where a test hub keeps its data on `backend`: `DIR/hub`, or a new database.
pub fn location(dir: &Path, backend: Backend) -> Location {
    match backend {
        Backend::Sqlite => Location::Dir(dir.join("hub")),
        Backend::Postgres => Location::Postgres(new_postgres_database()),
    }
}

/// A hub on 127.0.0.1 with an ephemeral port, on its own thread, on SQLite.
pub fn start_hub(dir: &Path) -> (RunningHub, Arc<dyn HubStorage>) {
    start_hub_on(dir, Backend::Sqlite)
}

/// A hub on 127.0.0.1 with an ephemeral port, on its own thread.
pub fn start_hub_on(dir: &Path, backend: Backend) -> (RunningHub, Arc<dyn HubStorage>) {
    serve_at(&location(dir, backend), "127.0.0.1:0")
}

/// A hub serving `location` on `addr`.
pub fn serve_at(location: &Location, addr: &str) -> (RunningHub, Arc<dyn HubStorage>) {
    let storage = location.open(8).expect("hub storage");
    let listener = bind(addr).expect("bind");
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
pub fn enrol(
    store: &mut Store,
    url: &str,
    storage: &Arc<dyn HubStorage>,
    scope: &str,
) -> HubClient {
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
        "attachment" => "SELECT id FROM attachment",
        _ => "SELECT id FROM village",
    };
    let conn = store.sql().expect("query-only view");
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .filter_map(|b| b.ok().and_then(|b| Uuid::from_slice(&b).ok()))
        .collect()
}

/// A plain HTTP agent for raw requests: statuses are answers, not errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// A hub with its own server settings, on loopback.
pub fn start_with(
    dir: &std::path::Path,
    backend: Backend,
    config: ServerConfig,
) -> (RunningHub, Arc<dyn HubStorage>) {
    let storage = location(dir, backend).open(8).expect("hub storage");
    let hub = RunningHub::start_with(bind("127.0.0.1:0").expect("bind"), storage.clone(), config)
        .expect("start hub");
    (hub, storage)
}

/// Server settings for tests that enrol many devices from loopback.
pub fn generous() -> ServerConfig {
    ServerConfig {
        enrol_attempts: 1_000,
        ..ServerConfig::default()
    }
}

/// A counter's value on the hub's `/metrics` page (0 when absent).
pub fn metric_at(url: &str, name: &str) -> f64 {
    let text = agent()
        .get(format!("{url}/metrics"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// A change of a household's 备注: the edit the hub tests make and follow.
pub fn remark(id: Uuid, text: &str) -> Change {
    Change::Put {
        table: Table::Household,
        id,
        fields: vec![("remark", FieldValue::Text(text.into()))],
    }
}

/// A household's 备注 as `store` holds it.
pub fn remark_of(store: &Store, id: Uuid) -> Option<String> {
    store
        .sql()
        .unwrap()
        .query_row(
            "SELECT remark FROM household WHERE id = ?1",
            [id.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .ok()
        .flatten()
}

/// A county device enrolled straight on the storage.
pub fn county_device(storage: &dyn HubStorage) -> DeviceAuth {
    device_of(storage, COUNTY)
}

/// A device of `scope` enrolled straight on the storage.
pub fn device_of(storage: &dyn HubStorage, scope: &str) -> DeviceAuth {
    let code = storage
        .issue_code(&Scope::parse(scope).expect("scope"))
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
pub fn feeds(storage: &dyn HubStorage) -> Vec<(String, bool, Vec<OpId>)> {
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
