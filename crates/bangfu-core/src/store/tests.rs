//! Tests of the write path and the op log: which ops a write appends, heads, conflicts,
//! deletes, idempotence and order independence.

use rusqlite::params;
use uuid::Uuid;

use super::*;
use crate::model::{Entity, FieldValue, Household, Member, Table};

const T0: u64 = 1_700_000_000_000;

fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    open_reporting_rebuild(dir, name).0
}

/// Opens a store as `open` does, with the rebuild progress an upgrade reported.
fn open_reporting_rebuild(dir: &tempfile::TempDir, name: &str) -> (Store, Vec<RebuildProgress>) {
    let options = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("registry")),
        device_name: Some(name.to_owned()),
        fixed_clock_ms: Some(T0),
    };
    let mut seen = Vec::new();
    let path = dir.path().join(format!("{name}.sqlite"));
    match Store::open_with_progress(path, &options, &mut |p| seen.push(p)) {
        Ok(store) => (store, seen),
        Err(e) => panic!("open {name}: {e}"),
    }
}

/// The one number a query gives.
fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The one text column a query gives, row by row.
fn texts(store: &Store, sql: &str) -> Vec<String> {
    texts_of(store.conn(), sql)
}

fn texts_of(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn household(code: &str) -> Household {
    Household {
        id: Uuid::now_v7(),
        code: code.into(),
        group_name: "上寨组".into(),
        main_cause: "01".into(),
        attribute: "1".into(),
        ..Default::default()
    }
}

/// The op log as (device name, seq, field, value, number of preds) rows.
fn op_rows(store: &Store) -> Vec<(String, i64, String, FieldValue, usize)> {
    let ops = store
        .ops_missing_from(&VersionVector::new())
        .unwrap_or_default();
    let names: std::collections::HashMap<Uuid, String> = store
        .conn()
        .prepare("SELECT id, name FROM device")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    Uuid::from_slice(&r.get::<_, Vec<u8>>(0)?).unwrap_or_default(),
                    r.get(1)?,
                ))
            })?
            .collect()
        })
        .unwrap_or_default();
    ops.into_iter()
        .map(|o| {
            (
                names.get(&o.id.origin).cloned().unwrap_or_default(),
                o.id.seq,
                o.field,
                o.value,
                o.preds.len(),
            )
        })
        .collect()
}

fn review_count(store: &Store) -> i64 {
    store
        .conn()
        .query_row("SELECT count(*) FROM review_item", [], |r| r.get(0))
        .unwrap_or(-1)
}

/// A conflict: `a` and `b` each set the household's group, `b` with the later clock, then
/// exchange everything.
fn edit_group_on_both(a: &mut Store, b: &mut Store, h: &mut Household) {
    h.group_name = "A组".into();
    a.put(h).unwrap();
    b.set_fixed_clock(T0 + 5);
    h.group_name = "B组".into();
    b.put(h).unwrap();
    sync_all(a, b);
}

fn sync_all(a: &mut Store, b: &mut Store) {
    let to_b = a
        .ops_missing_from(&b.version_vector().unwrap_or_default())
        .unwrap_or_default();
    let to_a = b
        .ops_missing_from(&a.version_vector().unwrap_or_default())
        .unwrap_or_default();
    b.apply_remote(&to_b)
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{e}"));
    a.apply_remote(&to_a)
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Sorts and temporary tables larger than their memory bound go to disk, so a county's merge
/// does not hold its index sorts in memory; on every connection of a data file they reach the
/// disk only encrypted (SQLCipher leaves temporary files in the clear).
#[cfg(target_os = "linux")]
#[test]
fn a_sort_larger_than_its_memory_goes_to_disk_only_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.sqlite");
    let code = protect::set_up(&path, "山间小路弯弯曲曲").unwrap();
    let options = OpenOptions {
        key: Some(code.data_key()),
        identity_dir: Some(dir.path().join("registry")),
        device_name: Some("甲".into()),
        fixed_clock_ms: Some(T0),
    };
    let store = Store::open(&path, &options).unwrap();
    let reader = store.open_reader().unwrap();
    let name = "王秀英-110101199001011234";
    for conn in [store.conn(), reader.conn()] {
        // What a county's end of merge does at 64 MB, here at 1 MB (SQLite's least).
        conn.pragma_update(None, "cache_size", -512).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA temp.cache_size = 100;
             CREATE TEMP TABLE names AS
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60000)
             SELECT i, '{name}-' || ((i * 7919) % 60000) AS v FROM c;"
        ))
        .unwrap();
        let before = bangfu_temp_vfs::bytes_sealed();
        let mut stmt = conn
            .prepare("SELECT v FROM temp.names ORDER BY substr(v, -3), v")
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut n = 0;
        let mut on_disk = Vec::new();
        while rows.next().unwrap().is_some() {
            if n == 0 {
                // The sort's runs and the temporary table, open now (deleted at open: only
                // `/proc` reaches them).
                for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
                    if let Ok(target) = std::fs::read_link(entry.path())
                        && target.to_string_lossy().contains("etilqs_")
                        && let Ok(bytes) = std::fs::read(entry.path())
                    {
                        on_disk.push(bytes);
                    }
                }
            }
            n += 1;
        }
        assert_eq!(n, 60_000);
        assert!(bangfu_temp_vfs::bytes_sealed() - before > 1 << 20);
        assert!(on_disk.iter().map(Vec::len).sum::<usize>() > 1 << 20);
        for file in &on_disk {
            assert!(!file.windows(name.len()).any(|w| w == name.as_bytes()));
        }
        let temp_store: i64 = conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .unwrap();
        assert_eq!(temp_store, 1, "temporary files on disk");
    }
}

#[test]
fn filing_a_household_appends_one_op_per_filled_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    let out = a.put(&h).unwrap();
    assert_eq!(out.ops, 4);
    let rows = op_rows(&a);
    let fields: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(fields, ["code", "group_name", "attribute", "main_cause"]);
    assert!(rows.iter().all(|r| r.0 == "a" && r.4 == 0));
    assert_eq!(rows.iter().map(|r| r.1).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(a.get::<Household>(h.id).unwrap(), h);
}

#[test]
fn editing_one_field_appends_one_op_naming_the_previous_head() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    h.group_name = "下寨组".into();
    let out = a.put(&h).unwrap();
    assert_eq!(out.ops, 1);
    let last = op_rows(&a).pop().unwrap();
    assert_eq!(
        last,
        (
            "a".into(),
            5,
            "group_name".into(),
            FieldValue::Text("下寨组".into()),
            1
        )
    );
    // Writing the same record again writes nothing.
    assert_eq!(a.put(&h).unwrap().ops, 0);
}

#[test]
fn a_damaged_head_list_is_named_as_such_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    let ops = a.op_count().unwrap();
    // A varint cut in the middle: no list decodes from it.
    a.conn()
        .execute(
            "UPDATE row_head SET heads = x'80' WHERE row = ?1",
            [h.id.as_bytes().as_slice()],
        )
        .unwrap();
    h.group_name = "下寨组".into();
    let error = a.put(&h).unwrap_err();
    let message = crate::UserFacing::message_zh(&error);
    assert!(message.contains("版本信息已损坏"), "{message}");
    assert!(message.contains("备份"), "{message}");
    assert_eq!(a.op_count().unwrap(), ops);
    // Any other database error keeps the general message.
    let other = StoreError::Sqlite(rusqlite::Error::InvalidQuery);
    assert!(!crate::UserFacing::message_zh(&other).contains("版本信息"));
}

#[test]
fn concurrent_edits_become_a_conflict_with_the_same_shown_value_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut b = open(&dir, "b");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    sync_all(&mut a, &mut b);
    edit_group_on_both(&mut a, &mut b, &mut h);
    let shown_a = a.get::<Household>(h.id).unwrap().group_name;
    let shown_b = b.get::<Household>(h.id).unwrap().group_name;
    assert_eq!(shown_a, shown_b);
    assert_eq!(shown_a, "B组", "the later clock wins the display");
    assert_eq!((review_count(&a), review_count(&b)), (1, 1));

    // Resolving writes one op over both heads and closes the item on both sides.
    a.write(&[Change::Resolve {
        table: Table::Household,
        id: h.id,
        field: "group_name".into(),
        value: FieldValue::Text("A组".into()),
    }])
    .unwrap();
    let resolution = op_rows(&a).into_iter().rfind(|r| r.0 == "a");
    assert_eq!(
        resolution.map(|r| (r.2, r.4)),
        Some(("group_name".into(), 2))
    );
    sync_all(&mut a, &mut b);
    assert_eq!((review_count(&a), review_count(&b)), (0, 0));
    assert_eq!(b.get::<Household>(h.id).unwrap().group_name, "A组");
}

#[test]
fn an_edit_concurrent_with_a_delete_is_a_review_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut b = open(&dir, "b");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    sync_all(&mut a, &mut b);
    a.write(&[Change::Delete {
        table: Table::Household,
        id: h.id,
    }])
    .unwrap();
    h.phone = "13800000000".into();
    b.put(&h).unwrap();
    sync_all(&mut a, &mut b);
    for s in [&a, &b] {
        assert!(matches!(
            s.get::<Household>(h.id),
            Err(StoreError::NotFound { .. })
        ));
        let kind: i64 = s
            .conn()
            .query_row("SELECT kind FROM review_item", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kind, 2);
    }
    // Restoring brings the edit back and closes the item.
    b.write(&[Change::Restore {
        table: Table::Household,
        id: h.id,
    }])
    .unwrap();
    sync_all(&mut a, &mut b);
    assert_eq!(a.get::<Household>(h.id).unwrap().phone, "13800000000");
    assert_eq!(review_count(&a), 0);
}

#[test]
fn a_delete_that_saw_every_edit_is_not_a_review_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    a.write(&[Change::Delete {
        table: Table::Household,
        id: h.id,
    }])
    .unwrap();
    assert_eq!(review_count(&a), 0);
    let err = a.put(&h).unwrap_err();
    assert!(matches!(err, StoreError::Deleted { .. }));
}

#[test]
fn applying_ops_twice_or_in_reverse_order_gives_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    for group in ["一组", "二组", "三组"] {
        h.group_name = group.into();
        a.put(&h).unwrap();
    }
    let ops = a.ops_missing_from(&VersionVector::new()).unwrap();

    let mut forward = open(&dir, "forward");
    let first = forward.apply_remote(&ops).unwrap();
    let again = forward.apply_remote(&ops).unwrap();
    assert_eq!(
        (first.applied, again.applied, again.duplicates),
        (ops.len() as u64, 0, ops.len() as u64)
    );

    let mut reversed = open(&dir, "reversed");
    let mut rev = ops.clone();
    rev.reverse();
    reversed.apply_remote(&rev).unwrap();
    for s in [&forward, &reversed] {
        assert_eq!(s.get::<Household>(h.id).unwrap().group_name, "三组");
        let heads = super::heads::count(s.conn()).unwrap();
        assert_eq!(heads, 4);
        assert_eq!(review_count(s), 0);
        assert_eq!(s.version_vector().unwrap().get(&a.device().id), Some(&7));
    }
}

#[test]
fn members_are_found_by_name_initials_and_id_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    let m = Member {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        name: "张三丰".into(),
        id_number: "53082619800101123X".into(),
        relation: "01".into(),
        ..Default::default()
    };
    // The search index takes what arrives; this ID's check digit is wrong on purpose (a
    // typed x must still find it), so it is written past the page's checks.
    a.write_unchecked(&[put_change(&h), put_change(&m)])
        .unwrap();
    for text in ["张三丰", "zsf", "ZS", "张", "0101123x", "103201001"] {
        let page = crate::query::households(
            &a,
            &crate::query::HouseholdQuery {
                text: text.into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(page.total, 1, "search {text}");
        assert_eq!(page.rows[0].head_name, "张三丰");
        assert_eq!(page.rows[0].members, 1);
    }
    let none = crate::query::households(
        &a,
        &crate::query::HouseholdQuery {
            text: "李四".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(none.total, 0);
}

/// Searches under 3 characters: a name's start is read through the initials index (there is
/// no name index since schema 16), so each case says which people a short text finds, by
/// name or by initials, in the household list and in the people search alike.
#[test]
fn short_searches_find_names_and_initials_through_the_initials_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let people = ["张三丰", "章三", "王小红", "阿依·木呷", "Tom李", "欧阳"];
    let mut changes = Vec::new();
    for (i, name) in people.iter().enumerate() {
        let h = household(&format!("5308261032010{i:02}"));
        let m = Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: (*name).into(),
            relation: "01".into(),
            ..Default::default()
        };
        changes.push(put_change(&h));
        changes.push(put_change(&m));
    }
    a.write_unchecked(&changes).unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("张", &["张三丰"]),
        ("张三", &["张三丰"]),
        ("章", &["章三"]),
        ("z", &["张三丰", "章三"]),
        ("zs", &["张三丰", "章三"]),
        ("ZS", &["张三丰", "章三"]),
        ("王小", &["王小红"]),
        ("wx", &["王小红"]),
        ("阿依", &["阿依·木呷"]),
        ("ay", &["阿依·木呷"]),
        ("to", &["Tom李"]),
        ("欧", &["欧阳"]),
        ("张四", &[]),
        ("李", &[]),
        ("·", &[]),
    ];
    for (text, expected) in cases {
        let page = crate::query::households(
            &a,
            &crate::query::HouseholdQuery {
                text: (*text).into(),
                ..Default::default()
            },
        )
        .unwrap();
        let mut found: Vec<String> = page.rows.iter().map(|r| r.head_name.clone()).collect();
        found.sort();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(found, want, "household list, search {text}");
        let mut hits: Vec<String> = crate::query::search_people(&a, text, 50)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect();
        hits.sort();
        assert_eq!(hits, want, "people search, search {text}");
    }
    // The name's start is looked up in the initials index, not by reading every member.
    let plan: Vec<String> = a
        .conn()
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM member
             WHERE initials >= 'z' AND initials < 'z\u{10FFFF}' AND name >= '张'
                 AND name < '张\u{10FFFF}' AND deleted = 0",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|step| step.contains("USING INDEX member_initials")),
        "{plan:?}"
    );
}

#[test]
fn a_copied_data_file_takes_a_new_identity_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    let original = a.device().id;
    drop(a);
    std::fs::copy(dir.path().join("a.sqlite"), dir.path().join("copy.sqlite")).unwrap();
    let copy = open(&dir, "copy");
    assert_ne!(copy.device().id, original);
    assert_eq!(copy.identity_change(), Some(IdentityChange::CopiedFile));
    // The original keeps its identity.
    let a = open(&dir, "a");
    assert_eq!(a.device().id, original);
    assert_eq!(a.identity_change(), None);
}

#[test]
fn a_data_file_restored_from_backup_takes_a_new_identity() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    let original = a.device().id;
    drop(a);
    let path = dir.path().join("a.sqlite");
    let backup = dir.path().join("a.backup");
    std::fs::copy(&path, &backup).unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201002")).unwrap();
    drop(a);
    std::fs::copy(&backup, &path).unwrap();
    let _ = std::fs::remove_file(dir.path().join("a.sqlite-wal"));
    let restored = open(&dir, "a");
    assert_ne!(restored.device().id, original);
    assert_eq!(
        restored.identity_change(),
        Some(IdentityChange::RestoredBackup)
    );
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn files_that_are_not_ours_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        identity_dir: Some(dir.path().join("r")),
        ..Default::default()
    };

    let text = dir.path().join("notes.sqlite");
    std::fs::write(&text, "这不是数据库").unwrap();
    let err = Store::open(&text, &options).unwrap_err();
    assert_eq!(crate::UserFacing::kind(&err), "not_a_data_file");
    assert_eq!(file_bytes(&text), "这不是数据库".as_bytes());

    let foreign = dir.path().join("foreign.sqlite");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = file_bytes(&foreign);
    let err = Store::open(&foreign, &options).unwrap_err();
    assert_eq!(crate::UserFacing::kind(&err), "foreign_database");
    assert_eq!(file_bytes(&foreign), before);
    assert!(!dir.path().join("foreign.sqlite-wal").exists());

    let newer = dir.path().join("newer.sqlite");
    drop(Store::open(&newer, &options).unwrap());
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", migrate::latest_version() + 1)
            .unwrap();
    }
    let before = file_bytes(&newer);
    let err = Store::open(&newer, &options).unwrap_err();
    assert_eq!(crate::UserFacing::kind(&err), "newer_schema");
    assert!(crate::UserFacing::message_zh(&err).contains("请先升级"));
    assert_eq!(file_bytes(&newer), before);

    let corrupt = dir.path().join("corrupt.sqlite");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 4096));
    std::fs::write(&corrupt, &bytes).unwrap();
    let err = Store::open(&corrupt, &options).unwrap_err();
    assert!(
        matches!(crate::UserFacing::kind(&err), "not_a_data_file" | "corrupt"),
        "{err}"
    );
    assert_eq!(file_bytes(&corrupt), bytes);
}

#[test]
fn migrations_apply_from_empty_and_give_the_expected_schema() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a");
    let version: i64 = a
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, migrate::latest_version());
    let schema = texts(
        &a,
        "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'person_fts_%' ORDER BY type, name",
    );
    insta::assert_snapshot!(schema.join("\n"));
}

#[test]
fn every_catalog_field_has_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a");
    for table in Table::ALL {
        let cols = texts(
            &a,
            &format!("SELECT name FROM pragma_table_info('{}')", table.sql_name()),
        );
        for f in table.fields() {
            assert!(
                cols.iter().any(|c| c == f.name),
                "{}.{}",
                table.sql_name(),
                f.name
            );
        }
    }
    let _ = params![1];
    assert_eq!(Household::TABLE, Table::Household);
}

#[test]
fn fields_of_a_newer_version_are_kept_relayed_and_shown_after_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    let mut ops = a.ops_missing_from(&VersionVector::new()).unwrap();
    // An op of a field this version does not know, from a newer laptop.
    let mut newer = ops[0].clone();
    newer.id = crate::sync::OpId {
        origin: Uuid::now_v7(),
        seq: 1,
    };
    newer.field = "toilet_renovated_year".into();
    newer.value = FieldValue::Int(2025);
    ops.push(newer.clone());
    let mut b = open(&dir, "b");
    b.apply_remote(&ops).unwrap();
    assert_eq!(b.get::<Household>(h.id).unwrap(), h);
    // Kept and relayed to the next copy.
    let relayed = b.ops_missing_from(&VersionVector::new()).unwrap();
    assert!(
        relayed
            .iter()
            .any(|o| o.field == "toilet_renovated_year" && o.value == FieldValue::Int(2025))
    );
    // A rebuild restores materialized values from the heads (what an upgrade does once its
    // migration has added the column).
    b.conn()
        .execute("UPDATE household SET group_name = NULL", [])
        .unwrap();
    b.rematerialize().unwrap();
    assert_eq!(b.get::<Household>(h.id).unwrap().group_name, "上寨组");
}

#[test]
fn hub_link_keeps_positions_and_own_ops_come_in_pages() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = open(&dir, "新文村-笔记本1");
    assert_eq!(store.hub_link().ok().flatten(), None);
    let write = store.write(&[put_change(&household("530826103201001"))]);
    assert!(write.is_ok(), "{write:?}");
    let last = store.own_last_seq();
    assert!(last > 3);
    let pages: Vec<Vec<i64>> = [(0, 2), (2, 2), (last - 1, 10), (last, 10)]
        .iter()
        .map(|&(after, limit)| {
            let ops = store.own_ops_after(after, limit).unwrap_or_default();
            ops.iter().map(|op| op.id.seq).collect()
        })
        .collect();
    assert_eq!(pages, vec![vec![1, 2], vec![3, 4], vec![last], vec![]]);

    let steps = [
        store.set_hub_link("http://127.0.0.1:1", "t", "530826103201"),
        store.record_hub_pull(40),
        store.record_hub_pull(30), // an older position never moves the mark back
        store.record_hub_push(store.device().id, 5),
        store.record_hub_sync(99),
    ];
    assert!(steps.iter().all(Result::is_ok), "{steps:?}");
    let link = store.hub_link().ok().flatten();
    let got = link.map(|l| {
        (
            l.scope,
            l.pulled_pos,
            l.pushed_origin,
            l.pushed_seq,
            l.last_sync_ms,
        )
    });
    assert_eq!(
        got,
        Some((
            "530826103201".to_owned(),
            40,
            Some(store.device().id),
            5,
            Some(99)
        ))
    );
}

#[test]
fn a_daily_backup_is_taken_once_a_day_and_old_backups_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    let first = a.daily_backup().unwrap();
    assert!(first.is_some());
    assert_eq!(a.daily_backup().unwrap(), None, "one a day");
    for _ in 0..backup::KEEP_BACKUPS + 3 {
        a.backup("before-import").unwrap();
    }
    // The daily one is kept apart from the rotated import ones.
    assert_eq!(a.backups().unwrap().len(), 1 + backup::KEEP_BACKUPS);
    // A backup is a working data file with the same content.
    let copy = a.backups().unwrap().pop().unwrap();
    let restored = dir.path().join("restored.sqlite");
    backup::restore_backup(&copy, &restored).unwrap();
    let options = OpenOptions {
        identity_dir: Some(dir.path().join("registry")),
        ..Default::default()
    };
    let r = Store::open(&restored, &options).unwrap();
    assert_eq!(
        crate::sync::digest::state_hash(&r).unwrap(),
        crate::sync::digest::state_hash(&a).unwrap()
    );
}

#[test]
fn a_second_connection_on_the_same_file_keeps_the_identity_and_the_clock_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = open(&dir, "a");
    let mut h = household("530826103201001");
    app.put(&h).unwrap();
    // The background sync's own connection: the same device, no copy alarm.
    let mut sync = open(&dir, "a");
    assert_eq!(sync.device().id, app.device().id);
    assert_eq!(sync.identity_change(), None);

    // Another laptop, its clock an hour ahead, edits the household; the sync connection
    // applies its op.
    let ahead = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("registry")),
        device_name: Some("c".into()),
        fixed_clock_ms: Some(T0 + 3_600_000),
    };
    let mut other = Store::open(dir.path().join("c.sqlite"), &ahead).unwrap();
    sync_all(&mut app, &mut other);
    h.group_name = "下寨组".into();
    other.put(&h).unwrap();
    let theirs = other
        .ops_missing_from(&app.version_vector().unwrap())
        .unwrap();
    sync.apply_remote(&theirs).unwrap();

    // The app's connection writes next: its op comes after the one it saw, by clock too.
    h.group_name = "中寨组".into();
    assert_eq!(app.put(&h).unwrap().ops, 1);
    let ops = app.ops_missing_from(&VersionVector::new()).unwrap();
    let mine = ops
        .iter()
        .rfind(|o| o.id.origin == app.device().id)
        .unwrap();
    assert!(
        mine.hlc > theirs[0].hlc,
        "{:?} vs {:?}",
        mine.hlc,
        theirs[0].hlc
    );
    assert_eq!(mine.preds, vec![theirs[0].id]);
    assert_eq!(review_count(&app), 0);

    // The sync connection sees the app's ops waiting to go up, though it did not write them.
    assert_eq!(sync.own_last_seq_in_file().unwrap(), app.own_last_seq());
    assert_eq!(sync.own_last_seq(), 4);
    drop((app, sync));
    assert_eq!(open(&dir, "a").identity_change(), None);
}

#[test]
fn a_device_is_named_once_and_a_blank_or_long_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        identity_dir: Some(dir.path().join("registry")),
        ..OpenOptions::default()
    };
    let mut store = Store::open(dir.path().join("x.sqlite"), &options).unwrap();
    assert!(store.device().is_unnamed(), "{}", store.device().name);
    for bad in ["", "   ", &"村".repeat(DEVICE_NAME_MAX_CHARS + 1)] {
        let error = store.rename_device(bad).unwrap_err();
        assert!(matches!(error, StoreError::BadDeviceName(_)), "{bad:?}");
        assert!(store.device().is_unnamed());
    }
    store.rename_device("  新文村-笔记本1 ").unwrap();
    assert_eq!(store.device().name, "新文村-笔记本1");
    assert!(!store.device().is_unnamed());
    drop(store);
    let again = Store::open(dir.path().join("x.sqlite"), &options).unwrap();
    assert_eq!(again.device().name, "新文村-笔记本1");
}

#[test]
fn a_rebuild_in_batches_restores_every_table_and_index_and_says_how_far_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    crate::demo::write_demo_village(&mut a).unwrap();
    let search = |s: &Store, text: &str| {
        crate::query::households(
            s,
            &crate::query::HouseholdQuery {
                text: text.into(),
                ..Default::default()
            },
        )
        .unwrap()
        .rows
    };
    let code = a.read::<Household>(super::Filter::All).unwrap()[7]
        .code
        .clone();
    let person = a.read::<Member>(super::Filter::All).unwrap()[20].clone();
    let texts = [
        code[9..].to_owned(),
        person.name.clone(),
        name_initials(&person.name),
        person.id_number[10..].to_owned(),
    ];
    let found: Vec<_> = texts.iter().map(|t| search(&a, t)).collect();
    assert!(found.iter().all(|rows| !rows.is_empty()), "{texts:?}");
    let hash = crate::sync::digest::state_hash(&a).unwrap();
    // Everything derived is lost; only the op log and its heads remain.
    a.conn()
        .execute_batch(
            "UPDATE household SET code = NULL, group_name = NULL;
             UPDATE member SET name = NULL, initials = NULL;
             DELETE FROM household_summary;
             INSERT INTO person_fts (person_fts) VALUES ('delete-all');
             INSERT INTO household_fts (household_fts) VALUES ('delete-all');",
        )
        .unwrap();
    assert!(search(&a, &texts[1]).is_empty());

    a.set_merge_rows_in_memory(500);
    let mut seen = Vec::new();
    a.rematerialize_with(&mut |p| seen.push(p)).unwrap();
    let rows: i64 = a
        .conn()
        .query_row("SELECT count(*) FROM row_head", [], |r| r.get(0))
        .unwrap();
    assert!(seen.len() > 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].rows_done <= w[1].rows_done));
    assert!(seen.iter().all(|p| p.rows_total == rows as u64));
    assert_eq!(seen.last().map(|p| p.rows_done), Some(rows as u64));
    assert_eq!(crate::sync::digest::state_hash(&a).unwrap(), hash);
    let again: Vec<_> = texts.iter().map(|t| search(&a, t)).collect();
    assert_eq!(again, found);
}

#[test]
fn an_upgrade_cut_off_between_its_migration_and_its_rebuild_rebuilds_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    back_to_schema_4(a.conn());
    a.conn()
        .execute_batch("DROP TABLE household_fts; PRAGMA user_version = 3;")
        .unwrap();
    drop(a);
    // The migrations commit; the process dies before the rebuild does. A row the rebuild
    // would have written again still shows something the op log never held.
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    migrate::migrate(&mut conn, 3).unwrap();
    conn.execute("UPDATE household SET group_name = '未重建'", [])
        .unwrap();
    drop(conn);
    assert_eq!(
        Store::pending_upgrade(&path, None),
        Some(PendingUpgrade {
            from: migrate::latest_version(),
            to: migrate::latest_version(),
            rebuilds_rows: true
        })
    );
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert_eq!(seen.last().map(|p| p.rows_done), Some(1));
    let group: String = a
        .conn()
        .query_row("SELECT group_name FROM household", [], |r| r.get(0))
        .unwrap();
    assert_eq!(group, "上寨组");
    assert!(!migrate::rebuild_pending(a.conn()).unwrap());
    assert_eq!(Store::pending_upgrade(&path, None), None);
}

#[test]
fn a_file_of_schema_3_is_upgraded_with_progress_and_finds_household_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    back_to_schema_4(a.conn());
    a.conn()
        .execute_batch("DROP TABLE household_fts; PRAGMA user_version = 3;")
        .unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert_eq!(
        seen.last(),
        Some(&RebuildProgress {
            rows_done: 1,
            rows_total: 1
        })
    );
    let page = crate::query::households(
        &a,
        &crate::query::HouseholdQuery {
            text: "3201001".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((page.total, page.rows.len()), (1, 1));
}

/// Turns a file back into schema 4, whose heads were one `head` row per field head.
fn back_to_schema_4(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "CREATE TABLE head (
             row BLOB NOT NULL, field INTEGER NOT NULL, origin INTEGER NOT NULL,
             seq INTEGER NOT NULL, PRIMARY KEY (row, field, origin, seq)
         ) WITHOUT ROWID;",
    )
    .unwrap();
    super::heads::for_each_row(conn, |row, keys| {
        for (field, origin, seq) in keys {
            conn.execute(
                "INSERT INTO head (row, field, origin, seq) VALUES (?1, ?2, ?3, ?4)",
                params![row, field, origin, seq],
            )?;
        }
        Ok::<_, rusqlite::Error>(())
    })
    .unwrap();
    back_to_schema_13(conn);
    back_to_schema_11_members(conn);
    conn.execute_batch(
        "DROP TABLE row_head; DROP TABLE clock_flag;
         DROP TABLE op_batch; DROP TABLE device_key; DROP TABLE held_file;
         DROP TABLE standard; ALTER TABLE standard_default RENAME TO exit_standard;
         DROP TABLE policy; DROP TABLE payment; DROP TABLE relocation; DROP INDEX measure_policy;
         ALTER TABLE measure DROP COLUMN policy_id; ALTER TABLE measure DROP COLUMN member_id;
         ALTER TABLE measure DROP COLUMN amount_due;
         DROP TABLE person; DROP TABLE audit_log; DROP TABLE op_author;
         DROP TABLE attachment; DROP TABLE blob;
         DELETE FROM meta WHERE key = 'signing_key'; PRAGMA user_version = 4;",
    )
    .unwrap();
}

#[test]
fn a_pending_upgrade_is_seen_before_the_file_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    assert_eq!(Store::pending_upgrade(&path, None), None, "no file yet");
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    assert_eq!(Store::pending_upgrade(&path, None), None, "current schema");
    back_to_schema_4(a.conn());
    drop(a);
    let before = file_bytes(&path);
    assert_eq!(
        Store::pending_upgrade(&path, None),
        Some(PendingUpgrade {
            from: 4,
            to: migrate::latest_version(),
            rebuilds_rows: false
        })
    );
    assert_eq!(file_bytes(&path), before, "looking writes nothing");
    let a = open(&dir, "a");
    assert_eq!(Store::pending_upgrade(&path, None), None, "upgraded");
    assert_eq!(count(&a, "SELECT count(*) FROM household"), 1);
    std::fs::write(dir.path().join("text.sqlite"), "not a data file").unwrap();
    assert_eq!(
        Store::pending_upgrade(dir.path().join("text.sqlite"), None),
        None
    );
}

#[test]
fn a_file_of_schema_4_keeps_every_head_and_conflict_when_its_heads_move_to_one_entry_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut b = open(&dir, "b");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    for i in 0..3 {
        let m = Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: format!("成员{i}"),
            ..Default::default()
        };
        a.put(&m).unwrap();
    }
    sync_all(&mut a, &mut b);
    edit_group_on_both(&mut a, &mut b, &mut h);
    assert_eq!(review_count(&a), 1);
    let hash = crate::sync::digest::state_hash(&a).unwrap();
    let heads = super::heads::count(a.conn()).unwrap();
    let rows = count(&a, "SELECT count(*) FROM row_head");
    back_to_schema_4(a.conn());
    assert_eq!(count(&a, "SELECT count(*) FROM head") as u64, heads);
    drop(a);

    let (a, rebuilt) = open_reporting_rebuild(&dir, "a");
    assert!(rebuilt.is_empty(), "moving the heads needs no rebuild");
    assert_eq!(count(&a, "PRAGMA user_version"), migrate::latest_version());
    assert_eq!(
        count(&a, "SELECT count(*) FROM sqlite_master WHERE name = 'head'"),
        0,
        "the per-field head table is gone"
    );
    let new_rows = count(&a, "SELECT count(*) FROM row_head");
    assert_eq!(
        (new_rows, super::heads::count(a.conn()).unwrap()),
        (rows, heads)
    );
    assert_eq!(crate::sync::digest::state_hash(&a).unwrap(), hash);
    assert_eq!(review_count(&a), 1);
    let items = crate::sync::review::review_items(&a).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].values.len(), 2, "{items:?}");
}

/// What a copy shows and derives, for comparing two copies beyond the state hash.
fn derived_state(s: &Store) -> (String, Vec<String>, Vec<String>, i64, Vec<usize>) {
    let summary = texts(
        s,
        "SELECT hex(household_id) || head_name || head_id_number || members || heads
             || coalesce(last_visit, '') FROM household_summary ORDER BY household_id",
    );
    let indexes = texts(
        s,
        "SELECT name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY name",
    );
    // The same people whatever order each copy materialized them in.
    let mut people = s.read::<Member>(super::Filter::All).unwrap();
    people.sort_by_key(|p| p.id);
    let found = people
        .iter()
        .step_by(7)
        .flat_map(|p| {
            [
                p.name.clone(),
                name_initials(&p.name),
                p.id_number[12..].to_owned(),
            ]
        })
        .map(|text| {
            crate::query::households(
                s,
                &crate::query::HouseholdQuery {
                    text,
                    ..Default::default()
                },
            )
            .unwrap()
            .rows
            .len()
        })
        .collect();
    (
        crate::sync::digest::state_hash(s).unwrap(),
        summary,
        indexes,
        review_count(s),
        found,
    )
}

#[test]
fn a_bulk_load_into_an_empty_copy_gives_exactly_what_a_row_by_row_merge_gives() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut b = open(&dir, "b");
    crate::demo::write_demo_village(&mut a).unwrap();
    sync_all(&mut a, &mut b);
    // A conflict, and an edit concurrent with a delete, so the review queue is not empty.
    let mut h = a.read::<Household>(super::Filter::All).unwrap()[3].clone();
    let m = a.read::<Member>(super::Filter::All).unwrap()[11].clone();
    h.group_name = "甲组".into();
    a.put(&h).unwrap();
    a.write(&[Change::Delete {
        table: Table::Member,
        id: m.id,
    }])
    .unwrap();
    b.set_fixed_clock(T0 + 9);
    h.group_name = "乙组".into();
    b.put(&h).unwrap();
    let mut edited = m.clone();
    edited.phone = "13800000000".into();
    b.put(&edited).unwrap();
    sync_all(&mut a, &mut b);
    let ops = a.ops_missing_from(&VersionVector::new()).unwrap();

    let mut row_by_row = open(&dir, "row-by-row");
    row_by_row.set_merge_rows_in_memory(300);
    row_by_row
        .apply_remote_stream(
            ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
            0,
        )
        .unwrap();
    let mut bulk = open(&dir, "bulk");
    bulk.set_merge_rows_in_memory(300);
    // Heads go to the file every few windows: rows met again later are read back from it.
    bulk.set_bulk_heads_held(1000);
    // A stream that fails part way leaves the empty copy as it was, its indexes included.
    let failing = ops
        .iter()
        .take(ops.len() / 2)
        .cloned()
        .map(Ok::<crate::sync::Op, StoreError>)
        .chain(std::iter::once(Err(StoreError::BadDeviceName("x".into()))));
    assert!(bulk.apply_remote_stream(failing, u64::MAX).is_err());
    assert_eq!(bulk.op_count().unwrap(), 0);
    // It was written with a rollback journal (the copy was empty and no one else had it
    // open), and the rollback put the file back in WAL mode, shared, with nothing beside it.
    assert_shared_in_wal_mode(&bulk);
    let empty = derived_state(&bulk);
    assert!(
        empty.2.iter().any(|i| i.starts_with("member_initials")),
        "{:?}",
        empty.2
    );
    let _ = super::last_bulk_load_times();
    bulk.apply_remote_stream(
        ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
        u64::MAX,
    )
    .unwrap();
    // Its parts were timed, for the bench.
    let times = super::last_bulk_load_times().expect("the bulk load's times");
    assert!(times.rollback_journal, "{times:?}");
    assert_shared_in_wal_mode(&bulk);
    for (part, secs) in [
        ("load", times.load),
        ("indexes", times.indexes),
        ("search", times.search),
        ("commit", times.commit),
    ] {
        assert!(secs > 0.0, "{part}: {times:?}");
    }

    let expected = derived_state(&a);
    assert_eq!(
        expected.3, 2,
        "one conflict and one edit of a deleted member"
    );
    assert!(expected.4.iter().all(|&n| n > 0), "{:?}", expected.4);
    assert_eq!(derived_state(&row_by_row), expected);
    assert_eq!(derived_state(&bulk), expected);
    assert_eq!(bulk.version_vector().unwrap(), a.version_vector().unwrap());
    // A second large file into the now filled copy is an ordinary merge.
    let again = bulk
        .apply_remote_stream(
            ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
            u64::MAX,
        )
        .unwrap();
    assert_eq!((again.applied, again.duplicates), (0, ops.len() as u64));
    assert_eq!(derived_state(&bulk), expected);
}

/// After a bulk load held the file alone: back in WAL mode, no journal beside the file, the
/// checkpoint thread running again, and another connection can open the file and write.
fn assert_shared_in_wal_mode(store: &Store) {
    assert_shared_in_wal_mode_with(store, false);
}

/// [`assert_shared_in_wal_mode`], the other connection given the store's key when `encrypted`.
fn assert_shared_in_wal_mode_with(store: &Store, encrypted: bool) {
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut journal = store.path().as_os_str().to_owned();
    journal.push("-journal");
    assert!(!std::path::Path::new(&journal).exists());
    assert!(store.checkpointer.is_some());
    let other = rusqlite::Connection::open(store.path()).unwrap();
    if encrypted {
        protect::apply_key(&other, store.key().unwrap()).unwrap();
    }
    other
        .busy_timeout(std::time::Duration::from_millis(200))
        .unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; SELECT count(*) FROM op; ROLLBACK;")
        .unwrap();
}

/// A bulk load held alone writes a rollback journal beside the data file while it runs: on
/// an encrypted file that journal holds only encrypted pages (a laptop lost mid-import leaks
/// nothing), where a file in the clear shows its schema in it. The file and its journal as a
/// crash would leave them part way (copied from inside the load, after pages of the load went
/// to the file) open again as the empty copy, the encrypted one with its key, and take the
/// whole load after.
#[test]
fn a_bulk_load_held_alone_journals_only_encrypted_pages_and_a_cut_one_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    crate::demo::write_demo_village(&mut a).unwrap();
    let ops = a.ops_missing_from(&VersionVector::new()).unwrap();
    for encrypted in [false, true] {
        let path = dir.path().join(format!("held-{encrypted}.sqlite"));
        let key = encrypted.then(|| {
            protect::set_up(&path, "山间小路弯弯曲曲")
                .unwrap()
                .data_key()
        });
        let options = OpenOptions {
            key,
            identity_dir: Some(dir.path().join("registry")),
            device_name: Some(format!("held-{encrypted}")),
            fixed_clock_ms: Some(T0),
        };
        let mut held = Store::open(&path, &options).unwrap();
        // A small page cache, so the load writes pages to the file as it goes.
        held.conn().pragma_update(None, "cache_size", 64).unwrap();
        let beside = |p: &std::path::Path, suffix: &str| {
            let mut name = p.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        };
        let journal_path = beside(&path, "-journal");
        let cut = dir.path().join(format!("cut-{encrypted}.sqlite"));
        let empty_size = std::fs::metadata(&path).unwrap().len();
        // Read part way through the load, from inside the stream it applies.
        let mut journal: Option<Vec<u8>> = None;
        let half = ops.len() / 2;
        let stream = ops.iter().cloned().enumerate().map(|(i, op)| {
            if i == half {
                journal = Some(std::fs::read(&journal_path).unwrap_or_default());
                std::fs::copy(&path, &cut).unwrap();
                std::fs::copy(&journal_path, beside(&cut, "-journal")).unwrap();
            }
            Ok::<crate::sync::Op, StoreError>(op)
        });
        held.apply_remote_stream(stream, u64::MAX).unwrap();
        let journal = journal.unwrap();
        assert!(journal.len() > 4096, "{encrypted}: {} bytes", journal.len());
        let schema_in_clear = journal.windows(12).any(|w| w == b"CREATE TABLE");
        assert_eq!(schema_in_clear, !encrypted);
        assert_shared_in_wal_mode_with(&held, encrypted);
        assert_eq!(derived_state(&held), derived_state(&a));

        // The cut copy: pages of the load were in the file, and its open rolls them back.
        assert!(std::fs::metadata(&cut).unwrap().len() > empty_size);
        let mut reopened = Store::open(
            &cut,
            &OpenOptions {
                key: held.key().cloned(),
                identity_dir: Some(dir.path().join(format!("registry-cut-{encrypted}"))),
                device_name: Some("cut".into()),
                fixed_clock_ms: Some(T0),
            },
        )
        .unwrap();
        assert!(!beside(&cut, "-journal").exists());
        assert_eq!(reopened.op_count().unwrap(), 0);
        assert_eq!(count(&reopened, "SELECT count(*) FROM row_head"), 0);
        assert_eq!(count(&reopened, "SELECT count(*) FROM household"), 0);
        let empty = open(&dir, &format!("empty-{encrypted}"));
        assert_eq!(derived_state(&reopened).2, derived_state(&empty).2);
        reopened
            .apply_remote_stream(
                ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
                u64::MAX,
            )
            .unwrap();
        assert_eq!(derived_state(&reopened), derived_state(&a));
    }
}

/// A bulk load takes the file alone only when no other connection has it open: with one
/// open (another program, or the app's own second connection), it goes through the log as
/// any merge does, and that connection reads on throughout and sees the load once committed.
#[test]
fn a_bulk_load_goes_through_the_log_when_another_connection_has_the_file_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    crate::demo::write_demo_village(&mut a).unwrap();
    let ops = a.ops_missing_from(&VersionVector::new()).unwrap();

    let mut held = open(&dir, "held");
    let other = rusqlite::Connection::open(held.path()).unwrap();
    let households = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM household", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(households(&other), 0);
    let _ = super::last_bulk_load_times();
    held.apply_remote_stream(
        ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
        u64::MAX,
    )
    .unwrap();
    let times = super::last_bulk_load_times().expect("a bulk load all the same");
    assert!(!times.rollback_journal, "{times:?}");
    assert_shared_in_wal_mode(&held);
    assert!(households(&other) > 0);
    assert_eq!(derived_state(&held), derived_state(&a));

    // Once the other connection is closed, the same load into another empty copy holds it.
    drop(other);
    let mut alone = open(&dir, "alone");
    alone
        .apply_remote_stream(
            ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
            u64::MAX,
        )
        .unwrap();
    assert!(super::last_bulk_load_times().unwrap().rollback_journal);
    assert_eq!(derived_state(&alone), derived_state(&a));
    // A store of this process on the same file counts as another connection.
    let mut twice = open(&dir, "twice");
    let again = Store::open(
        twice.path(),
        &OpenOptions {
            key: None,
            identity_dir: Some(dir.path().join("registry")),
            device_name: Some("twice".into()),
            fixed_clock_ms: Some(T0),
        },
    )
    .unwrap();
    twice
        .apply_remote_stream(
            ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
            u64::MAX,
        )
        .unwrap();
    assert!(!super::last_bulk_load_times().unwrap().rollback_journal);
    assert_eq!(derived_state(&again), derived_state(&a));
}

/// A bulk load finds a row it flushed before where it put it (the tables' id indexes wait for
/// the load's end): ops taken field by field, so every row comes back in many windows, some
/// after their heads went to disk, give what a row-by-row merge gives; the id indexes are
/// there again afterwards.
#[test]
fn a_bulk_load_finds_its_rows_again_however_their_ops_are_spread() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    crate::demo::generate_county(&mut a, 60, 7, &mut |_| {}).unwrap();
    // A member deleted and one edited after the demo's own ops, from a second device.
    let mut b = open(&dir, "b");
    sync_all(&mut a, &mut b);
    let members = b.read::<Member>(super::Filter::All).unwrap();
    b.write(&[Change::Delete {
        table: Table::Member,
        id: members[5].id,
    }])
    .unwrap();
    let mut edited = members[6].clone();
    edited.name = "李改名".into();
    b.put(&edited).unwrap();
    sync_all(&mut a, &mut b);
    // A field of a newer version (no column here) on 150 rows, from a device of its own.
    let newer = Uuid::now_v7();
    let known = a.ops_missing_from(&VersionVector::new()).unwrap();
    let mut seen_rows = std::collections::HashSet::new();
    let unknown: Vec<crate::sync::Op> = known
        .iter()
        .filter(|op| seen_rows.insert(op.row))
        .step_by(3)
        .take(150)
        .enumerate()
        .map(|(i, op)| crate::sync::Op {
            id: crate::sync::OpId {
                origin: newer,
                seq: i as i64 + 1,
            },
            field: "from_a_newer_version".into(),
            value: FieldValue::Text("新版本".into()),
            preds: Vec::new(),
            seen: Vec::new(),
            ..op.clone()
        })
        .collect();
    a.apply_remote(&unknown).unwrap();
    // The newer version's ops first, so their rows are flushed in no table; then the rest in
    // three passes, each taking a third of the fields: a row comes in three windows.
    let mut ops = unknown;
    let mut rest = known;
    rest.sort_by_key(|op| (op.field.len() % 3, op.id.origin, op.id.seq));
    ops.extend(rest);

    let mut bulk = open(&dir, "bulk");
    bulk.set_merge_rows_in_memory(100);
    bulk.set_bulk_heads_held(500);
    let stats = bulk
        .apply_remote_stream(
            ops.iter().cloned().map(Ok::<crate::sync::Op, StoreError>),
            u64::MAX,
        )
        .unwrap();
    let changed: u64 = stats.changed_rows.values().sum();
    assert!(changed > 1000, "rows met again in later windows: {changed}");
    assert_eq!(derived_state(&bulk), derived_state(&a));
    let id_indexes = texts(
        &bulk,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_id_unique'
         ORDER BY name",
    );
    assert_eq!(id_indexes.len(), Table::ALL.len(), "{id_indexes:?}");
}

/// A bulk load finds a row it flushed before by its rowid, checked against the row's id: a
/// row of one table whose ops left it no head (two ops naming each other, as a broken or
/// forged file can have), named later by an op of another table, goes into that table as a
/// row-by-row merge puts it, never over the row of that table that has the same rowid.
#[test]
fn a_bulk_load_never_writes_a_row_over_another_of_the_same_rowid() {
    use crate::sync::{Hlc, Op, OpId};
    let dir = tempfile::tempdir().unwrap();
    let device = Uuid::now_v7();
    let (x, kept) = (Uuid::now_v7(), Uuid::now_v7());
    let op = |seq: i64, table: Table, row: Uuid, field: &str, value: &str, preds: &[i64]| Op {
        id: OpId {
            origin: device,
            seq,
        },
        hlc: Hlc::from_i64(T0 as i64 * 65536 + seq),
        table: table.code(),
        row,
        field: field.into(),
        value: FieldValue::Text(value.into()),
        preds: preds
            .iter()
            .map(|&seq| OpId {
                origin: device,
                seq,
            })
            .collect(),
        seen: Vec::new(),
    };
    let ops = [
        // Household x: two codes naming each other, so neither is a head.
        op(1, Table::Household, x, "code", "530826103201901", &[2]),
        op(2, Table::Household, x, "code", "530826103201902", &[1]),
        // The first member of the file: rowid 1 in its table, as x has in the households'.
        op(3, Table::Member, kept, "name", "张三", &[]),
        // A later window: a member's name on x.
        op(
            4,
            Table::Household,
            Uuid::now_v7(),
            "code",
            "530826103201903",
            &[],
        ),
        op(
            5,
            Table::Household,
            Uuid::now_v7(),
            "code",
            "530826103201904",
            &[],
        ),
        op(6, Table::Member, x, "name", "李四", &[]),
    ];
    let merged = |name: &str, bulk: bool| {
        let mut s = open(&dir, name);
        s.set_merge_rows_in_memory(2);
        s.apply_remote_stream(
            ops.iter().cloned().map(Ok::<Op, StoreError>),
            if bulk { u64::MAX } else { 0 },
        )
        .unwrap();
        s
    };
    let row_by_row = merged("row-by-row", false);
    let bulk = merged("bulk", true);
    let name_of = |s: &Store, row: Uuid| -> Vec<String> {
        s.conn()
            .prepare("SELECT name FROM member WHERE id = ?1")
            .unwrap()
            .query_map([row.as_bytes().as_slice()], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(name_of(&bulk, kept), vec!["张三".to_owned()]);
    assert_eq!(name_of(&bulk, x), vec!["李四".to_owned()]);
    assert_eq!(
        crate::sync::digest::state_hash(&bulk).unwrap(),
        crate::sync::digest::state_hash(&row_by_row).unwrap()
    );
}

/// Schema 26 gives an empty materialized table a named unique index for its ids (a bulk load
/// drops it): a file of schema 25 keeps the tables that hold rows as they were (their rows,
/// rowids and search unchanged, ids still unique) and upgrades its empty ones; an empty file
/// of schema 25 upgrades to exactly a new file's schema.
#[test]
fn a_file_of_schema_25_names_the_id_index_of_its_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    let schema = |s: &Store| {
        texts(
            s,
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name",
        )
    };
    let empty = open(&dir, "empty");
    let fresh = schema(&empty);
    back_to_schema_25(empty.conn());
    empty
        .conn()
        .execute_batch("PRAGMA user_version = 25;")
        .unwrap();
    drop(empty);
    let empty = open(&dir, "empty");
    assert_eq!(schema(&empty), fresh, "an empty file: a new file's schema");

    let mut a = open(&dir, "a");
    crate::demo::write_demo_village(&mut a).unwrap();
    // What the copy shows (its index list differs by design: the rows' tables keep theirs).
    let shown = |s: &Store| {
        let (hash, summary, _, review, found) = derived_state(s);
        (hash, summary, review, found)
    };
    let before = shown(&a);
    let rowids = texts(&a, "SELECT hex(id) || ':' || rowid FROM member ORDER BY id");
    back_to_schema_25(a.conn());
    let entries_of = |s: &Store, t: &str| {
        texts(
            s,
            &format!(
                "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
                 WHERE tbl_name = '{t}' ORDER BY name"
            ),
        )
    };
    let taken_back: Vec<Vec<String>> = Table::ALL
        .iter()
        .map(|t| entries_of(&a, t.sql_name()))
        .collect();
    a.conn().execute_batch("PRAGMA user_version = 25;").unwrap();
    drop(a);

    let (a, rebuilt) = open_reporting_rebuild(&dir, "a");
    assert!(rebuilt.is_empty(), "the same rows: no rebuild");
    assert_eq!(shown(&a), before);
    assert_eq!(
        texts(&a, "SELECT hex(id) || ':' || rowid FROM member ORDER BY id"),
        rowids
    );
    let held_rows = |t: &str| count(&a, &format!("SELECT count(*) FROM {t}")) > 0;
    let (mut kept, mut named) = (Vec::new(), Vec::new());
    for (table, before) in Table::ALL.iter().zip(&taken_back) {
        let t = table.sql_name();
        let now = entries_of(&a, t);
        if held_rows(t) {
            assert_eq!(&now, before, "{t} holds rows: kept as it was");
            kept.push(t);
        } else {
            assert!(
                now.iter()
                    .any(|e| e.starts_with(&format!("index {t}_id_unique:")))
                    && !now.iter().any(|e| e.contains("sqlite_autoindex")),
                "{t} is empty: its id index is named: {now:?}"
            );
            named.push(t);
        }
    }
    assert!(kept.len() >= 5 && !named.is_empty(), "{kept:?} {named:?}");
    // Ids stay unique in both shapes.
    for t in [kept[0], named[0]] {
        let id = uuid::Uuid::now_v7();
        let put = |a: &Store| {
            a.conn().execute(
                &format!("INSERT INTO {t} (id) VALUES (?1)"),
                [id.as_bytes().as_slice()],
            )
        };
        put(&a).unwrap();
        assert!(
            put(&a).is_err(),
            "{t}: a second row of the same id is refused"
        );
    }
}

/// Takes schema 26's named id indexes back to the inline `UNIQUE` constraint of schema 25.
fn back_to_schema_25(conn: &rusqlite::Connection) {
    for table in Table::ALL {
        let t = table.sql_name();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |r| r.get(0),
            )
            .unwrap();
        if sql.contains("id BLOB NOT NULL UNIQUE") {
            continue;
        }
        let indexes: Vec<String> = texts_of(
            conn,
            &format!(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{t}'
                 AND sql IS NOT NULL AND name <> '{t}_id_unique'"
            ),
        );
        let columns = texts_of(
            conn,
            &format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"),
        )
        .join(", ");
        conn.execute_batch(&format!(
            "DROP INDEX {t}_id_unique;
             ALTER TABLE {t} RENAME TO {t}_newer;
             {};
             INSERT INTO {t} (rowid, {columns}) SELECT rowid, {columns} FROM {t}_newer;
             DROP TABLE {t}_newer;",
            sql.replacen("id BLOB NOT NULL", "id BLOB NOT NULL UNIQUE", 1)
        ))
        .unwrap();
        for index in indexes {
            conn.execute_batch(&index).unwrap();
        }
    }
}

#[test]
fn a_gap_in_a_devices_ops_holds_its_version_vector_until_the_gap_is_filled() {
    // A village pulling from the hub gets only its own village's ops of a device: gaps.
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut h = household("530826103201001");
    a.put(&h).unwrap();
    h.group_name = "二组".into();
    a.put(&h).unwrap();
    let ops = a.ops_missing_from(&VersionVector::new()).unwrap();
    let top = ops.iter().map(|o| o.id.seq).max().unwrap();
    assert!(top >= 4);
    let (missing, rest): (Vec<_>, Vec<_>) = ops.into_iter().partition(|o| o.id.seq == 3);
    let vv = |s: &Store| s.version_vector().unwrap().get(&a.device().id).copied();

    let mut b = open(&dir, "b");
    b.apply_remote(&rest).unwrap();
    assert_eq!(vv(&b), Some(2), "held only up to the gap");
    b.apply_remote(&missing).unwrap();
    assert_eq!(vv(&b), Some(top), "the gap filled, the run is whole");

    // The other way round: the later ops alone, then the first ones.
    let mut c = open(&dir, "c");
    let all = a.ops_missing_from(&VersionVector::new()).unwrap();
    let (first, later): (Vec<_>, Vec<_>) = all.into_iter().partition(|o| o.id.seq <= 2);
    c.apply_remote(&later).unwrap();
    assert_eq!(vv(&c), Some(0));
    c.apply_remote(&first).unwrap();
    assert_eq!(vv(&c), Some(top));
}

#[test]
fn sql_outside_the_core_cannot_write_and_the_reader_reads_while_the_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.write(&[put_change(&h)]).unwrap();
    {
        let view = a.sql().unwrap();
        let nested = a.sql().unwrap();
        drop(nested);
        let refused = view.execute("UPDATE household SET phone = '1'", []);
        assert!(refused.is_err(), "a query-only view wrote");
        let count: i64 = view
            .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }
    // The view gone, the store writes again.
    a.write(&[Change::Put {
        table: Table::Household,
        id: h.id,
        fields: vec![("phone", FieldValue::Text("13800000001".into()))],
    }])
    .unwrap();

    let mut reader = a.open_reader().unwrap();
    assert!(matches!(
        reader.write(&[put_change(&household("530826103201002"))]),
        Err(StoreError::ReadOnlyView)
    ));
    // A read held open on the reader does not hold up the writer, and sees what was committed
    // when it started.
    let snapshot = reader.sql().unwrap();
    let tx = snapshot.unchecked_transaction().unwrap();
    let before: i64 = tx
        .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
        .unwrap();
    a.write(&[put_change(&household("530826103201003"))])
        .unwrap();
    let during: i64 = tx
        .query_row("SELECT count(*) FROM household", [], |r| r.get(0))
        .unwrap();
    assert_eq!((before, during), (1, 1));
    drop(tx);
    drop(snapshot);
    assert_eq!(reader.read::<Household>(Filter::All).unwrap().len(), 2);
}

#[test]
fn the_public_write_checks_records_and_leaves_exit_rows_to_the_procedure() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let mut bad = household("53082610320100");
    let refused = a.write(&[put_change(&bad)]).unwrap_err();
    assert!(matches!(refused, StoreError::Invalid(_)), "{refused:?}");
    bad.code = "530826103201001".into();
    a.write(&[put_change(&bad)]).unwrap();
    // A partial edit is checked as the row it leaves: clearing a required field is refused.
    let cleared = a.write(&[Change::Put {
        table: Table::Household,
        id: bad.id,
        fields: vec![("main_cause", FieldValue::Null)],
    }]);
    assert!(matches!(cleared, Err(StoreError::Invalid(_))));
    let step = a.write(&[Change::Put {
        table: Table::ExitStep,
        id: Uuid::now_v7(),
        fields: vec![],
    }]);
    assert!(matches!(step, Err(StoreError::ExitStepByProcedure)));
    assert_eq!(
        a.op_count().unwrap(),
        4,
        "only the valid household was written"
    );

    // A wrong check digit that arrived as it was does not block other edits of the member
    // (settling a conflict of its phone, say); writing the ID itself is still checked.
    let m = Member {
        id: Uuid::now_v7(),
        household_id: Some(bad.id),
        name: "张三丰".into(),
        id_number: "53082619800101123X".into(),
        relation: "01".into(),
        ..Default::default()
    };
    a.write_unchecked(&[put_change(&m)]).unwrap();
    a.write(&[Change::Put {
        table: Table::Member,
        id: m.id,
        fields: vec![("phone", FieldValue::Text("13800000001".into()))],
    }])
    .unwrap();
    let still_wrong = a.write(&[Change::Put {
        table: Table::Member,
        id: m.id,
        fields: vec![("id_number", FieldValue::Text("53082619800101124X".into()))],
    }]);
    assert!(
        matches!(still_wrong, Err(StoreError::Invalid(_))),
        "{still_wrong:?}"
    );
}

#[test]
fn a_long_local_write_flushes_rows_as_a_merge_does_and_keeps_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.set_merge_rows_in_memory(2);
    let households: Vec<Household> = (1..=9)
        .map(|n| household(&format!("530826103201{n:03}")))
        .collect();
    let mut changes: Vec<Change> = households.iter().map(put_change).collect();
    // The first household again, after it was flushed: its phone lands over the row on disk.
    changes.push(Change::Put {
        table: Table::Household,
        id: households[0].id,
        fields: vec![("phone", FieldValue::Text("13800000009".into()))],
    });
    a.write(&changes).unwrap();
    let read = a.read::<Household>(Filter::All).unwrap();
    assert_eq!(read.len(), 9);
    assert_eq!(
        a.get::<Household>(households[0].id).unwrap().phone,
        "13800000009"
    );
    assert_eq!(review_count(&a), 0, "one writer's changes never conflict");
}

/// What an older version (schema 9) has of a file: no policy or payment table, no structured
/// measure columns; whatever ops of them it received stay in its op log.
fn back_to_schema_9(conn: &rusqlite::Connection) {
    back_to_schema_13(conn);
    conn.execute_batch(
        "DROP TABLE policy; DROP TABLE payment; DROP TABLE relocation;
         DROP INDEX measure_policy; ALTER TABLE measure DROP COLUMN policy_id;
         ALTER TABLE measure DROP COLUMN member_id; ALTER TABLE measure DROP COLUMN amount_due;
         DROP TABLE person; DROP TABLE audit_log; DROP TABLE op_author;
         DROP TABLE attachment; DROP TABLE blob;
         PRAGMA user_version = 9;",
    )
    .unwrap();
    back_to_schema_11_members(conn);
}

/// Takes schema 12's columns away (the members' 增员/减员, the standards' 养老 check, the
/// notice's 民主评议).
fn back_to_schema_11_members(conn: &rusqlite::Connection) {
    back_to_schema_13(conn);
    conn.execute_batch(
        "ALTER TABLE member DROP COLUMN join_date; ALTER TABLE member DROP COLUMN join_reason;
         ALTER TABLE member DROP COLUMN leave_date; ALTER TABLE member DROP COLUMN leave_reason;
         ALTER TABLE standard DROP COLUMN check_pension;
         ALTER TABLE standard DROP COLUMN pension_age_from;
         ALTER TABLE standard_default DROP COLUMN check_pension;
         ALTER TABLE standard_default DROP COLUMN pension_age_from;
         ALTER TABLE exit_step DROP COLUMN review_date;
         ALTER TABLE exit_step DROP COLUMN review_attendance;
         ALTER TABLE exit_step DROP COLUMN review_agreed;",
    )
    .unwrap();
}

/// Whether `table` has `column` (a downgrade helper runs once however helpers chain).
fn has_column(conn: &rusqlite::Connection, table: &str, column: &str) -> bool {
    conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        [table, column],
        |r| r.get(0),
    )
    .unwrap()
}

/// Takes schema 25's local tables and columns away (the ops a key that gave way signed, and
/// who named a pending id).
fn back_to_schema_24(conn: &rusqlite::Connection) {
    if has_column(conn, "superseded", "row") {
        conn.execute_batch(
            "DROP TABLE withdraw_pending; DROP TABLE withdrawn_op;
             DELETE FROM meta WHERE key = 'hub_repull';
             CREATE TABLE superseded_before (
                 origin INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (origin, seq)
             ) WITHOUT ROWID;
             INSERT OR IGNORE INTO superseded_before SELECT origin, seq FROM superseded;
             DROP TABLE superseded;
             ALTER TABLE superseded_before RENAME TO superseded;",
        )
        .unwrap();
    }
}

/// Takes schema 24's local column away (whose word confirmed a device key), and schema 25's.
fn back_to_schema_23(conn: &rusqlite::Connection) {
    back_to_schema_24(conn);
    // Called again by helpers that chain to older schemas: once is enough.
    if has_column(conn, "device_key", "vouched_by") {
        conn.execute_batch("ALTER TABLE device_key DROP COLUMN vouched_by;")
            .unwrap();
    }
}

/// A file of schema 23 (before keys recorded whose word confirmed them) learns it at the
/// upgrade from its audit log: a key the county's word alone confirmed is the believed county
/// key's (so taking a renewed key withdraws it), one a person confirmed stays a person's.
#[test]
fn a_file_of_schema_23_learns_which_device_keys_the_county_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a");
    let county = "ab".repeat(32);
    let keys = [[1u8; 32], [2u8; 32], [3u8; 32], [4u8; 32]];
    let devices: Vec<Uuid> = keys.iter().map(|_| Uuid::now_v7()).collect();
    for (i, (device, key)) in devices.iter().zip(&keys).enumerate() {
        // The fourth was learnt from a file and never confirmed.
        a.conn()
            .execute(
                "INSERT INTO device_key (device, public_key, name, confirmed, first_seen_ms)
                 VALUES (?1, ?2, ?3, ?4, 0)",
                params![
                    device.as_bytes().as_slice(),
                    key.as_slice(),
                    format!("设备{i}"),
                    i < 3
                ],
            )
            .unwrap();
    }
    let audit = |action: &str, key: &[u8; 32]| {
        let what = format!(
            "设备（安全码 {}）",
            crate::sync::signing::fingerprint(key.as_slice())
        );
        super::people::insert_audit(a.conn(), None, T0, action, &what, 0).unwrap();
    };
    audit("vouch_device", &keys[0]);
    audit("confirm_device", &keys[1]);
    audit("vouch_device", &keys[2]);
    audit("confirm_device", &keys[2]);
    audit("vouch_device", &keys[3]);
    a.conn()
        .execute(
            "INSERT INTO meta (key, value) VALUES ('county_key', ?1)",
            [&county],
        )
        .unwrap();
    back_to_schema_23(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 23;").unwrap();
    drop(a);
    let a = open(&dir, "a");
    let word = |device: &Uuid| -> Option<String> {
        a.conn()
            .query_row(
                "SELECT vouched_by FROM device_key WHERE device = ?1",
                [device.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(word(&devices[0]).as_deref(), Some(county.as_str()));
    assert_eq!(word(&devices[1]), None, "a person's");
    assert_eq!(word(&devices[2]), None, "a person confirmed it too");
    assert_eq!(word(&devices[3]), None, "not confirmed");
}

/// Takes schema 23's local table away (the county's certificates), and schema 24's column.
fn back_to_schema_22(conn: &rusqlite::Connection) {
    back_to_schema_23(conn);
    conn.execute_batch("DROP TABLE IF EXISTS county_cert;")
        .unwrap();
}

/// Takes schema 22's local table away (the parts of cut batches), and schema 23's.
fn back_to_schema_21(conn: &rusqlite::Connection) {
    back_to_schema_22(conn);
    conn.execute_batch("DROP TABLE IF EXISTS op_batch_part;")
        .unwrap();
}

/// Takes schema 21's table away (the county's settings), and schema 22's.
fn back_to_schema_20(conn: &rusqlite::Connection) {
    back_to_schema_21(conn);
    conn.execute_batch("DROP TABLE IF EXISTS county_setting;")
        .unwrap();
}

#[test]
fn a_file_of_schema_20_holding_a_county_setting_is_rebuilt_so_it_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    back_to_schema_20(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 20;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "no county setting held: {seen:?}");

    crate::county_settings::set_first_filing_year(&mut a, 2013, "县试点文件").unwrap();
    back_to_schema_20(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 20;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    let settings = crate::county_settings::county_settings(&a).unwrap();
    assert_eq!(settings.first_filing_year.year, 2013);
}

/// Takes schema 20's column away (the 安置点's village of a relocation stage), and schema 21's.
fn back_to_schema_19(conn: &rusqlite::Connection) {
    back_to_schema_20(conn);
    // Called again by helpers that chain to older schemas: once is enough.
    let has: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('relocation') WHERE name = 'site_village'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has {
        conn.execute_batch("ALTER TABLE relocation DROP COLUMN site_village;")
            .unwrap();
    }
}

#[test]
fn a_file_of_schema_19_holding_a_site_village_is_rebuilt_so_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    let stage = crate::model::Relocation {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        site: "勐康镇集镇安置点".into(),
        stage: "1".into(),
        stage_date: chrono::NaiveDate::from_ymd_opt(2017, 3, 10),
        ..Default::default()
    };
    a.put(&stage).unwrap();
    back_to_schema_19(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 19;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "a stage naming no village: {seen:?}");

    let named = crate::model::Relocation {
        site_village: "530826103202".into(),
        ..stage.clone()
    };
    a.put(&named).unwrap();
    back_to_schema_19(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 19;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert_eq!(a.get::<crate::model::Relocation>(stage.id).unwrap(), named);
}

/// Takes schema 19's columns away (who wrote a batch), and schema 20's.
fn back_to_schema_18(conn: &rusqlite::Connection) {
    back_to_schema_19(conn);
    let has: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('op_batch') WHERE name = 'author'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has {
        conn.execute_batch(
            "ALTER TABLE op_batch DROP COLUMN author; ALTER TABLE op_batch DROP COLUMN author_sig;",
        )
        .unwrap();
    }
}

/// Takes schema 17's column away (the households' 建档日期), and the later schemas' too.
fn back_to_schema_16(conn: &rusqlite::Connection) {
    back_to_schema_18(conn);
    // Called again by helpers that chain to older schemas: once is enough.
    let has: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('household') WHERE name = 'filing_date'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has {
        conn.execute_batch("ALTER TABLE household DROP COLUMN filing_date;")
            .unwrap();
    }
}

#[test]
fn a_file_of_schema_16_holding_a_filing_date_is_rebuilt_so_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    back_to_schema_16(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 16;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(
        seen.is_empty(),
        "a household without a filing date: {seen:?}"
    );

    let filed = Household {
        filing_date: chrono::NaiveDate::from_ymd_opt(2014, 10, 12),
        ..h.clone()
    };
    a.put(&filed).unwrap();
    back_to_schema_16(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 16;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert_eq!(a.get::<Household>(h.id).unwrap(), filed);
}

/// Takes schema 15's columns away (the 村情 page's village fields).
fn back_to_schema_14(conn: &rusqlite::Connection) {
    back_to_schema_16(conn);
    // Called again by helpers that chain to older schemas: once is enough.
    let has: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('village') WHERE name = 'poor_village'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has {
        return;
    }
    conn.execute_batch("ALTER TABLE village DROP COLUMN poor_village;ALTER TABLE village DROP COLUMN exit_year;ALTER TABLE village DROP COLUMN road_date;ALTER TABLE village DROP COLUMN road_evidence;ALTER TABLE village DROP COLUMN power_date;ALTER TABLE village DROP COLUMN power_evidence;ALTER TABLE village DROP COLUMN broadcast_date;ALTER TABLE village DROP COLUMN broadcast_evidence;ALTER TABLE village DROP COLUMN broadband_date;ALTER TABLE village DROP COLUMN broadband_evidence;ALTER TABLE village DROP COLUMN water_date;ALTER TABLE village DROP COLUMN water_evidence;ALTER TABLE village DROP COLUMN clinic_date;ALTER TABLE village DROP COLUMN clinic_evidence;ALTER TABLE village DROP COLUMN venue_date;ALTER TABLE village DROP COLUMN venue_evidence;ALTER TABLE village DROP COLUMN school_date;ALTER TABLE village DROP COLUMN school_evidence;")
        .unwrap();
}

#[test]
fn a_file_of_schema_14_holding_a_village_sheet_value_is_rebuilt_so_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let v = crate::model::Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        ..Default::default()
    };
    a.put(&v).unwrap();
    back_to_schema_14(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 14;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "a village without 村情 values: {seen:?}");

    let filled = crate::model::Village {
        poor_village: Some(true),
        hardened_road: Some(true),
        road_date: chrono::NaiveDate::from_ymd_opt(2018, 10, 1),
        road_evidence: "县交通局验收单".into(),
        ..v.clone()
    };
    a.put(&filled).unwrap();
    back_to_schema_14(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 14;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert_eq!(a.get::<crate::model::Village>(v.id).unwrap(), filled);
}

/// Schema 11 whole: without schema 12's columns and schema 13's archive tables.
fn back_to_schema_11(conn: &rusqlite::Connection) {
    back_to_schema_13(conn);
    conn.execute_batch("DROP TABLE attachment; DROP TABLE blob;")
        .unwrap();
    back_to_schema_11_members(conn);
}

/// Takes schema 14's work teams and the measures' training fields away (and schema 15's).
fn back_to_schema_13(conn: &rusqlite::Connection) {
    back_to_schema_14(conn);
    let has: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'team_member'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has {
        return;
    }
    conn.execute_batch(
        "DROP TABLE team_member; ALTER TABLE measure DROP COLUMN training_kind;
         ALTER TABLE measure DROP COLUMN training_days;
         ALTER TABLE measure DROP COLUMN certificate;",
    )
    .unwrap();
}

#[test]
fn a_file_of_schema_13_holding_team_or_training_ops_is_rebuilt_so_they_show() {
    use crate::model::{Measure, TeamMember, Village};
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    back_to_schema_13(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 13;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "no team, no training: {seen:?}");

    // What a schema-13 copy kept from a newer laptop's file: a team member and a training.
    let village = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        ..Default::default()
    };
    a.put(&village).unwrap();
    let secretary = TeamMember {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        name: "王明".into(),
        role: "1".into(),
        unit: "县农业农村局".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2016, 3, 1),
        ..Default::default()
    };
    a.put(&secretary).unwrap();
    let trained = Member {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        name: "李强".into(),
        ..Default::default()
    };
    a.put(&trained).unwrap();
    let training = Measure {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        year: Some(2016),
        path: "03".into(),
        member_id: Some(trained.id),
        training_kind: "2".into(),
        training_days: Some(15),
        certificate: "电工".into(),
        ..Default::default()
    };
    a.put(&training).unwrap();
    back_to_schema_13(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 13;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert_eq!(a.get::<TeamMember>(secretary.id).unwrap(), secretary);
    assert_eq!(a.get::<Measure>(training.id).unwrap(), training);
}

#[test]
fn a_file_of_schema_11_holding_a_member_change_is_rebuilt_so_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    let stays = Member {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        name: "张三".into(),
        ..Default::default()
    };
    a.put(&stays).unwrap();
    back_to_schema_11(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 11;").unwrap();
    drop(a);
    let (mut a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "members without a change: {seen:?}");

    let left = Member {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        name: "张父".into(),
        leave_date: chrono::NaiveDate::from_ymd_opt(2019, 3, 1),
        leave_reason: "1".into(),
        ..Default::default()
    };
    a.put(&left).unwrap();
    back_to_schema_11(a.conn());
    a.conn().execute_batch("PRAGMA user_version = 11;").unwrap();
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert_eq!(a.get::<Member>(left.id).unwrap(), left);
    assert_eq!(a.get::<Member>(stays.id).unwrap(), stays);
}

#[test]
fn a_file_of_schema_9_holding_policy_ops_is_rebuilt_so_they_show() {
    use crate::model::{Measure, Payment};
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let h = household("530826103201001");
    a.put(&h).unwrap();
    let mut aid = crate::policy::policy_of(&a, 2017, "edu_high_school").unwrap();
    aid.amount = Some(3500.0);
    crate::policy::set_policy(&mut a, &aid).unwrap();
    let measure = Measure {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        year: Some(2017),
        path: "04".into(),
        status: "3".into(),
        policy_id: Some(crate::policy::policy_id(2017, "edu_high_school")),
        amount_due: Some(3500.0),
        ..Default::default()
    };
    a.put(&measure).unwrap();
    let payment = Payment {
        id: Uuid::now_v7(),
        household_id: Some(h.id),
        measure_id: Some(measure.id),
        pay_date: chrono::NaiveDate::from_ymd_opt(2017, 9, 1),
        amount: Some(3500.0),
        channel: "1".into(),
        note: String::new(),
    };
    a.put(&payment).unwrap();
    back_to_schema_9(a.conn());
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(!seen.is_empty(), "rebuilt from the op log");
    assert!(!migrate::rebuild_pending(a.conn()).unwrap());
    assert_eq!(
        crate::policy::policy_of(&a, 2017, "edu_high_school")
            .unwrap()
            .amount,
        Some(3500.0)
    );
    assert_eq!(a.get::<Measure>(measure.id).unwrap(), measure);
    assert_eq!(a.get::<Payment>(payment.id).unwrap(), payment);
}

#[test]
fn a_file_of_schema_9_without_policy_ops_opens_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    back_to_schema_9(a.conn());
    drop(a);
    let (a, seen) = open_reporting_rebuild(&dir, "a");
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(count(&a, "SELECT count(*) FROM household"), 1);
    assert_eq!(count(&a, "PRAGMA user_version"), migrate::latest_version());
}

/// New rows' search entries wait in `search_pending` until a write folds them into the
/// trigram indexes (issue 20). Whatever waits, each search finds what a fully indexed file
/// finds: saves one by one, edits and deletes of waiting and of indexed rows, checked against
/// the same searches after everything is folded and after a rebuild of both indexes.
#[test]
fn search_finds_the_same_whether_new_entries_wait_or_are_folded_into_the_index() {
    use super::apply::{PENDING_FOLD_FOR_TESTS, fold_search_pending};
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let pending = |s: &Store| count(s, "SELECT count(*) FROM search_pending");
    let person_entries = |s: &Store| count(s, "SELECT count(*) FROM person_fts_docsize");
    let names = ["张三丰", "李秀英", "王小明", "Tom李", "欧阳娜娜", "钱多多"];
    let mut households = Vec::new();
    let mut members = Vec::new();
    // Saves one household (and a member) at a time: fewer than a fold's worth wait.
    for i in 0..6 {
        let h = household(&format!("5308261032019{i:02}"));
        let m = Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: names[i % names.len()].into(),
            id_number: format!("53082619800101{i:03}X"),
            relation: "01".into(),
            ..Default::default()
        };
        a.write_unchecked(&[put_change(&h), put_change(&m)])
            .unwrap();
        households.push(h);
        members.push(m);
    }
    assert_eq!(pending(&a), 12, "six households and six members wait");
    assert_eq!(
        person_entries(&a),
        0,
        "nothing was written to the index yet"
    );
    // A waiting member renamed, a waiting member deleted, a waiting household's code changed.
    members[0].name = "张无忌".into();
    households[2].code = "530826103201777".into();
    a.write_unchecked(&[
        put_change(&members[0]),
        put_change(&households[2]),
        Change::Delete {
            table: Table::Member,
            id: members[1].id,
        },
    ])
    .unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("张无忌", &["530826103201900"]),
        ("zwj", &["530826103201900"]),
        ("张三丰", &[]),
        ("李秀英", &[]),
        ("lxy", &[]),
        ("王小明", &["530826103201777"]),
        ("tom", &["530826103201903"]),
        ("TOM李", &["530826103201903"]),
        ("阳娜娜", &["530826103201904"]),
        ("0101004x", &["530826103201904"]),
        ("777", &["530826103201777"]),
        (
            "1032019",
            &[
                "530826103201900",
                "530826103201901",
                "530826103201903",
                "530826103201904",
                "530826103201905",
            ],
        ),
        ("01902", &[]),
        ("丰 z", &[]),
        ("忌 zwj 5", &["530826103201900"]),
    ];
    let check = |s: &Store, when: &str| {
        for (text, expected) in cases {
            let page = crate::query::households(
                s,
                &crate::query::HouseholdQuery {
                    text: (*text).into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let mut found: Vec<String> = page.rows.iter().map(|r| r.code.clone()).collect();
            found.sort();
            assert_eq!(found, *expected, "{when}: household list, search {text}");
            // The people search finds the members of those households (not a code).
            if !text.chars().all(|c| c.is_ascii_digit()) {
                let mut hits: Vec<String> = crate::query::search_people(s, text, 50)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.household_id)
                    .collect();
                hits.sort();
                let mut want: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
                want.sort();
                assert_eq!(hits, want, "{when}: people search, search {text}");
            }
        }
    };
    check(&a, "entries waiting");
    assert_eq!(
        pending(&a),
        12,
        "an edit of a waiting row leaves the index alone"
    );

    fold_search_pending(a.conn()).unwrap();
    assert_eq!(pending(&a), 0);
    assert_eq!(person_entries(&a), 5, "the deleted member has no entry");
    check(&a, "folded");

    // An indexed member renamed: the index itself is written at once, as before.
    members[2].name = "王大明".into();
    a.write_unchecked(&[put_change(&members[2])]).unwrap();
    assert_eq!(pending(&a), 0);
    let page = crate::query::households(
        &a,
        &crate::query::HouseholdQuery {
            text: "王大明".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(page.total, 1);
    members[2].name = "王小明".into();
    a.write_unchecked(&[put_change(&members[2])]).unwrap();

    super::apply::rebuild_search_indexes(a.conn()).unwrap();
    check(&a, "rebuilt");
    for table in ["person_fts", "household_fts"] {
        let hash: i64 = a
            .conn()
            .query_row(
                &format!("SELECT v FROM {table}_config WHERE k = 'hashsize'"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            hash,
            1 << 20,
            "{table}: after a rebuild a save's entries are gathered as before"
        );
    }

    // A save that brings the waiting rows to a fold's worth folds them in its transaction.
    let mut changes = Vec::new();
    for i in 0..PENDING_FOLD_FOR_TESTS / 2 {
        let h = household(&format!("530826103202{i:03}"));
        let m = Member {
            id: Uuid::now_v7(),
            household_id: Some(h.id),
            name: "赵六".into(),
            relation: "01".into(),
            ..Default::default()
        };
        changes.push(put_change(&h));
        changes.push(put_change(&m));
    }
    a.write_unchecked(&changes[..changes.len() - 2]).unwrap();
    assert_eq!(pending(&a), PENDING_FOLD_FOR_TESTS - 2);
    a.write_unchecked(&changes[changes.len() - 2..]).unwrap();
    assert_eq!(
        pending(&a),
        0,
        "the save reaching the fold's worth folded them"
    );
    check(&a, "folded by a save");
}

/// A part of a cut batch that overlaps a whole batch the same file carries (batches held
/// with overlapping ranges) is left out: the file would refuse itself (a part overlapping a
/// batch), losing everything in it.
#[test]
fn a_part_overlapping_a_whole_batch_of_the_same_file_is_left_out() {
    use crate::sync::signing;
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    a.put(&household("530826103201001")).unwrap();
    a.put(&household("530826103201002")).unwrap();
    let me = a.device().id;
    let key = a.own_signing_key().unwrap().expect("a signing key");
    let ops = a.ops_missing_from(&Default::default()).unwrap();
    assert_eq!(ops.len(), 8);
    let idx: i64 = a
        .conn
        .query_row(
            "SELECT idx FROM device WHERE id = ?1",
            [me.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap();
    // Held: a whole batch 3..8 and a part 1..4 (a page cut it), both the device's own.
    let batch_sig = signing::sign_batch(&key, me, 3, 8, &ops[2..]);
    let part_sig = signing::sign_parts(&key, me, 1, 4, &ops[..4]);
    a.conn
        .execute_batch("DELETE FROM op_batch; DELETE FROM op_batch_part;")
        .unwrap();
    a.conn
        .execute(
            "INSERT INTO op_batch (origin, first_seq, last_seq, sig) VALUES (?1, 3, 8, ?2)",
            rusqlite::params![idx, batch_sig.to_vec()],
        )
        .unwrap();
    a.conn
        .execute(
            "INSERT INTO op_batch_part (origin, first_seq, last_seq, sig, left_out)
             VALUES (?1, 1, 4, ?2, x'')",
            rusqlite::params![idx, part_sig.to_vec()],
        )
        .unwrap();
    let mut carried = ops.clone();
    let (signers, batches) = a.signatures_for_export(&mut carried, true).unwrap();
    assert_eq!(batches.len(), 1);
    let parts = a.parts_for_export(&mut carried, &batches).unwrap();
    assert!(parts.is_empty(), "{parts:?}");
    // What the file states checks: no part overlapping a batch of it.
    assert!(
        signing::StreamVerifier::new(&signers, &batches)
            .unwrap()
            .with_parts(&parts, carried.len() as u64)
            .is_ok()
    );
}

/// A withdrawn batch may span ids this copy never held (a batch that came cut), with pending
/// entries of the ops that named them: the take-out clears those, so the device's real op of
/// such an id is not written over here while it is a head at every copy that never held the
/// forgery.
#[test]
fn a_take_out_clears_pending_entries_of_ids_in_its_batches_it_never_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, "a");
    let device = Uuid::now_v7();
    let idx: i64 = {
        a.conn()
            .execute(
                "INSERT INTO device (id, name) VALUES (?1, 'x')",
                [device.as_bytes().as_slice()],
            )
            .unwrap();
        a.conn()
            .query_row(
                "SELECT idx FROM device WHERE id = ?1",
                [device.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let row = Uuid::now_v7();
    a.conn()
        .execute_batch(&format!(
            "INSERT INTO withdraw_pending (origin, first_seq, last_seq, key) VALUES ({idx}, 1, 5, x'00');
             INSERT INTO superseded (origin, seq, row, field) VALUES ({idx}, 3, x'{}', 7);
             INSERT INTO superseded (origin, seq, row, field) VALUES ({idx}, 9, x'{}', 7);",
            hex(row.as_bytes()),
            hex(row.as_bytes())
        ))
        .unwrap();
    assert_eq!(a.settle_withdrawn().unwrap(), 0);
    let left: Vec<i64> = a
        .conn()
        .prepare("SELECT seq FROM superseded ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, vec![9]);
    let waiting: i64 = a
        .conn()
        .query_row("SELECT count(*) FROM withdraw_pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(waiting, 0);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
