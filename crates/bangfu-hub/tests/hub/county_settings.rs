//! 县级设置 (issue 16): the county's first year of 建档立卡 reaches every village of the county
//! like the 脱贫标准; setting ops an older hub stored without knowing their table (kept under the
//! pusher's scope, filed into no village) reach the villages once the hub is upgraded (SQLite
//! schema 9, PostgreSQL migration 10).

use bangfu_core::county_settings::{county_settings, set_first_filing_year};
use bangfu_core::store::put_change;
use bangfu_hub::storage::Location;

use crate::common::*;

/// What an older hub left of setting ops: stored under the pusher's scope, in no feed.
const FORGET_SQLITE: &str = "
    DELETE FROM feed WHERE op IN (SELECT key FROM op WHERE tbl = 16);
    DELETE FROM hub_meta WHERE key = 'reindex_county_setting';
    ALTER TABLE batch_sig DROP COLUMN parts_sig;
    PRAGMA user_version = 8;";

crate::on_both_backends!(
    a_first_filing_year_an_older_hub_stored_reaches_the_villages_after_the_upgrade
);
fn a_first_filing_year_an_older_hub_stored_reaches_the_villages_after_the_upgrade(
    backend: Backend,
) {
    let dir = scratch();
    let location = location(dir.path(), backend);
    let (hub, storage) = serve_at(&location, "127.0.0.1:0");
    let mut county = open(dir.path(), "县管理员");
    let (va, vb) = (village(VILLAGE_A), village(VILLAGE_B));
    write(&mut county, &[put_change(&va), put_change(&vb)]);
    let county_client = enrol(&mut county, &hub.url(), &storage, COUNTY);
    sync(&county_client, &mut county);
    set_first_filing_year(&mut county, 2013, "县建档立卡试点方案").expect("set");
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
                    "{}DELETE FROM schema_version WHERE version >= 10;",
                    FORGET_SQLITE.replace("PRAGMA user_version = 8;", "")
                ))
                .expect("as an older hub");
        }
    }

    // The upgraded hub files it at its first open: both villages judge by 2013.
    let (hub, storage) = serve_at(&location, "127.0.0.1:0");
    let url = hub.url();
    for (name, scope) in [("A村", VILLAGE_A), ("B村", VILLAGE_B)] {
        let mut laptop = open(dir.path(), name);
        let client = enrol(&mut laptop, &url, &storage, scope);
        sync(&client, &mut laptop);
        let first = county_settings(&laptop).expect("read").first_filing_year;
        assert_eq!((first.year, first.edited), (2013, true), "{name}");
    }
}
