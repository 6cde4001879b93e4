//! 增员/减员 (issue 16): a member who left keeps the row, past years keep their family size
//! and per-capita income (evaluation, household page, income ledger), and a 减员 on one laptop
//! meets an edit of the same person on another through the township's relay.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::exit::evaluate_household;
use bangfu_core::filing::HouseholdFile;
use bangfu_core::household_page::review_household_page;
use bangfu_core::ledger::{LedgerKind, Scope, export_ledger_of_year};
use bangfu_core::member_changes::{Leave, MemberChangeError, member_changes};
use bangfu_core::model::{Household, Income, Member, Village};
use bangfu_core::store::{Filter, Store};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::review::{ReviewKey, resolve_key, review_items};
use calamine::{Data, Reader, open_workbook_auto};
use chrono::NaiveDate;
use uuid::Uuid;

/// 2026-12-04, the laptops' clock.
const CLOCK: u64 = 1_796_342_400_000;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn village() -> Village {
    Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        province: "云南省".into(),
        ..Default::default()
    }
}

/// Four people; 12,000 元 net in each of 2018, 2019 and 2020.
fn household(village: &Village) -> HouseholdFile {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: format!("{}001", village.code),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        address: "一组".into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let person = |name: &str, relation: &str, prefix: &str, sex: &str| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: name.into(),
        relation: relation.into(),
        id_number: common::id_number(prefix),
        sex: sex.into(),
        medical_insurance: Some(true),
        ..Default::default()
    };
    let income = |year: i64| Income {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        year: Some(year),
        wage: Some(12_000.0),
        ..Default::default()
    };
    HouseholdFile {
        members: vec![
            person("李发", "01", "53082619700101001", "1"),
            person("王英", "02", "53082619720101002", "2"),
            person("李强", "05", "53082619980101003", "1"),
            person("李老汉", "12", "53082619400101005", "1"),
        ],
        incomes: vec![income(2018), income(2019), income(2020)],
        household,
        ..Default::default()
    }
}

fn filed(store: &mut Store) -> HouseholdFile {
    let v = village();
    store.write(&[bangfu_core::store::put_change(&v)]).unwrap();
    let file = household(&v);
    store.file_household(&file).unwrap();
    file
}

fn member_named(store: &Store, household: Uuid, name: &str) -> Member {
    store
        .read::<Member>(Filter::OfHousehold(household))
        .unwrap()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap()
}

/// 家庭人口 and 人均纯收入 of a year as the exit evaluation's 一超 check reports them.
fn evaluated(store: &Store, household: Uuid, year: i32) -> (String, String) {
    let evaluation = evaluate_household(store, household, year).unwrap();
    let income = evaluation
        .checks
        .iter()
        .find(|c| c.code == "income")
        .unwrap();
    let value = |label: &str| {
        income
            .data
            .iter()
            .find(|d| d.label == label)
            .map(|d| d.value.clone())
            .unwrap_or_default()
    };
    (value("家庭人口"), value("人均纯收入"))
}

/// The income ledger of a year: (家庭人口, 人均纯收入) of its one row.
fn income_ledger(store: &Store, dir: &std::path::Path, year: i32) -> (f64, f64) {
    let out = dir.join(format!("incomes-{year}.xlsx"));
    export_ledger_of_year(store, LedgerKind::Incomes, &Scope::All, Some(year), &out).unwrap();
    let mut book = open_workbook_auto(&out).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let header = rows
        .iter()
        .position(|r| r.iter().any(|c| c == &Data::String("家庭人口".into())))
        .unwrap();
    let column = |name: &str| {
        rows[header]
            .iter()
            .position(|c| c == &Data::String(name.into()))
            .unwrap()
    };
    let number = |c: &Data| match c {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    };
    let row = rows[header + 1];
    (
        number(&row[column("家庭人口")]),
        number(&row[column("人均纯收入")]),
    )
}

#[test]
fn a_member_who_left_in_2019_leaves_2018_and_2019_unchanged() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本1", CLOCK);
    let file = filed(&mut store);
    let id = file.household.id;
    let before: Vec<_> = (2018..=2020).map(|y| evaluated(&store, id, y)).collect();
    assert_eq!(before[0], ("4人".into(), "3000.00元".into()));

    let old = member_named(&store, id, "李老汉");
    store
        .record_member_leave(&Leave {
            member_id: old.id,
            date: day("2019-03-01"),
            reason: "1".into(),
            new_head: None,
        })
        .unwrap();

    // The row stays, with its reason and date.
    let left = member_named(&store, id, "李老汉");
    assert_eq!(
        (left.leave_date, left.leave_reason.as_str()),
        (Some(day("2019-03-01")), "1")
    );
    let after: Vec<_> = (2018..=2020).map(|y| evaluated(&store, id, y)).collect();
    assert_eq!(after[0], before[0], "2018 unchanged");
    assert_eq!(after[1], before[1], "2019: he lived on that year's income");
    assert_eq!(
        after[2],
        ("3人".into(), "4000.00元".into()),
        "2020 without him"
    );

    // The household page shows each year's income with that year's people.
    let page = store.load_household_file(id).unwrap();
    let review = review_household_page(&store, &page, 2020).unwrap();
    let mut sizes: Vec<(Option<i64>, usize)> = review
        .incomes
        .iter()
        .map(|i| (i.year, i.family_size))
        .collect();
    sizes.sort();
    assert_eq!(sizes, [(Some(2018), 4), (Some(2019), 4), (Some(2020), 3)]);

    // The income ledger of each year divides by that year's people.
    assert_eq!(income_ledger(&store, dir.path(), 2018), (4.0, 3000.0));
    assert_eq!(income_ledger(&store, dir.path(), 2020), (3.0, 4000.0));

    // Today's list counts today's people; the ledger of changes names the 减员.
    let listed = bangfu_core::query::households(&store, &Default::default()).unwrap();
    assert_eq!(listed.rows[0].members, 3);
    let changes = member_changes(&store, id).unwrap();
    assert_eq!(
        changes
            .iter()
            .map(|c| format!("{} {} {} {}", c.date, c.kind, c.name, c.reason))
            .collect::<Vec<_>>(),
        ["2019-03-01 减员 李老汉 死亡"]
    );
}

#[test]
fn a_leave_is_refused_where_the_page_would_be_wrong() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本1", CLOCK);
    let file = filed(&mut store);
    let id = file.household.id;
    let head = member_named(&store, id, "李发");
    let wife = member_named(&store, id, "王英");
    let leave = |member: &Member, date: &str, new_head: Option<Uuid>| Leave {
        member_id: member.id,
        date: day(date),
        reason: "1".into(),
        new_head,
    };
    let refused = |store: &mut Store, l: Leave| {
        bangfu_core::UserFacing::message_zh(&store.record_member_leave(&l).unwrap_err())
    };
    assert_eq!(
        refused(&mut store, leave(&head, "2019-03-01", None)),
        "李发是户主：户主减员时请同时指定新户主（本户现有成员之一）。"
    );
    assert!(
        refused(&mut store, leave(&wife, "2027-01-01", None)).contains("晚于今天"),
        "a date after today"
    );
    // The 户主 leaves and his wife becomes 户主 in the same save.
    store
        .record_member_leave(&leave(&head, "2019-03-01", Some(wife.id)))
        .unwrap();
    assert_eq!(member_named(&store, id, "王英").relation, "01");
    assert!(matches!(
        store.record_member_leave(&leave(&head, "2019-04-01", None)),
        Err(MemberChangeError::AlreadyLeft { .. })
    ));
    // Nothing half-written: the refused leaves left no trace.
    assert_eq!(
        member_named(&store, id, "李发").leave_date,
        Some(day("2019-03-01"))
    );
    assert_eq!(member_named(&store, id, "王英").leave_date, None);
}

#[test]
fn a_person_who_married_out_is_not_filed_twice_in_the_household_she_joined() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村-笔记本1", CLOCK);
    let file = filed(&mut store);
    let daughter = member_named(&store, file.household.id, "李强");
    let v = store.read::<Village>(Filter::All).unwrap().remove(0);
    let mut other = household(&v);
    other.household.code = format!("{}002", v.code);
    for (m, prefix) in other.members.iter_mut().zip([
        "53082619750101011",
        "53082619760101022",
        "",
        "53082619450101015",
    ]) {
        m.id_number = if prefix.is_empty() {
            String::new()
        } else {
            common::id_number(prefix)
        };
    }
    other.members[2].id_number = daughter.id_number.clone();
    other.members[2].join_date = Some(day("2020-05-01"));
    other.members[2].join_reason = "2".into();
    let warned = store.check_household_file(&other).unwrap();
    assert!(
        warned
            .iter()
            .any(|i| i.rule == "resident_id.filed_elsewhere"
                && i.message.contains(&file.household.code)),
        "filed in 001 still: {warned:?}"
    );
    store
        .record_member_leave(&Leave {
            member_id: daughter.id,
            date: day("2020-05-01"),
            reason: "4".into(),
            new_head: None,
        })
        .unwrap();
    let now = store.check_household_file(&other).unwrap();
    assert!(
        !now.iter().any(|i| i.rule == "resident_id.filed_elsewhere"),
        "left 001: {now:?}"
    );
}

/// Carries everything each copy holds to the others through the township: the laptops' files
/// to the station, then the station's file back to each laptop.
fn relay(a: &mut Store, b: &mut Store, township: &mut Store) {
    for laptop in [&*a, &*b] {
        let (file, _) = export_changeset(laptop, None).unwrap();
        import_changeset(township, &file).unwrap();
    }
    let (file, _) = export_changeset(township, None).unwrap();
    import_changeset(a, &file).unwrap();
    import_changeset(b, &file).unwrap();
}

#[test]
fn a_leave_on_one_laptop_and_an_edit_of_the_same_person_on_another_converge() {
    let dir = common::scratch();
    let mut a = common::open_at(dir.path(), "新文村-笔记本1", CLOCK);
    let mut b = common::open_at(dir.path(), "新文村-笔记本2", CLOCK + 7);
    let mut township = common::open_at(dir.path(), "乡镇工作站", CLOCK + 3);
    let file = filed(&mut a);
    let id = file.household.id;
    relay(&mut a, &mut b, &mut township);
    let son = member_named(&b, id, "李强");

    // Laptop 1 records that 李强 moved his 户口 away; laptop 2, not knowing, types his phone
    // and work on the household page.
    a.record_member_leave(&Leave {
        member_id: son.id,
        date: day("2020-06-30"),
        reason: "4".into(),
        new_head: None,
    })
    .unwrap();
    let mut page = b.load_household_page(id).unwrap();
    let row = page
        .page
        .members
        .iter_mut()
        .find(|m| m.id == son.id)
        .unwrap();
    row.phone = "13812345678".into();
    row.work_status = "4".into();
    b.file_household_page(&page.page, page.base.as_ref())
        .unwrap();

    relay(&mut a, &mut b, &mut township);
    let hash = state_hash(&township).unwrap();
    for store in [&a, &b] {
        assert_eq!(state_hash(store).unwrap(), hash);
        let merged = member_named(store, id, "李强");
        assert_eq!(merged.leave_date, Some(day("2020-06-30")));
        assert_eq!(merged.leave_reason, "4");
        assert_eq!(merged.phone, "13812345678");
        assert!(review_items(store).unwrap().is_empty(), "different fields");
        assert_eq!(evaluated(store, id, 2020).0, "4人");
        assert_eq!(
            bangfu_core::model::derived::family_size(
                &store.read::<Member>(Filter::OfHousehold(id)).unwrap()
            ),
            3
        );
    }

    // Both laptops record a 减员 of 王英 with different dates: a conflict on each field, the
    // same value shown everywhere, settled once at the station and relayed.
    let wife = member_named(&a, id, "王英");
    for (store, date, reason) in [(&mut a, "2020-03-01", "1"), (&mut b, "2020-04-01", "2")] {
        store
            .record_member_leave(&Leave {
                member_id: wife.id,
                date: day(date),
                reason: reason.into(),
                new_head: None,
            })
            .unwrap();
    }
    relay(&mut a, &mut b, &mut township);
    let shown = member_named(&township, id, "王英");
    for store in [&a, &b, &township] {
        let items = review_items(store).unwrap();
        let mut fields: Vec<&str> = items.iter().map(|i| i.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["leave_date", "leave_reason"]);
        assert_eq!(member_named(store, id, "王英"), shown);
    }
    for (field, value) in [("leave_date", "2020-03-01"), ("leave_reason", "死亡")] {
        let key = ReviewKey {
            table: "家庭成员".into(),
            row_id: wife.id.to_string(),
            field: field.into(),
        };
        resolve_key(&mut township, &key, value).unwrap();
    }
    relay(&mut a, &mut b, &mut township);
    let hash = state_hash(&township).unwrap();
    for store in [&a, &b, &township] {
        assert_eq!(state_hash(store).unwrap(), hash);
        assert!(review_items(store).unwrap().is_empty());
        let settled = member_named(store, id, "王英");
        assert_eq!(
            (settled.leave_date, settled.leave_reason.as_str()),
            (Some(day("2020-03-01")), "1")
        );
    }
}
