//! People and roles on a shared laptop (issue 15): who signs in, what each role may do, full
//! 证件号码 only for the roles that need them (list, search, ledgers, cards), the audit log of
//! full exports, and the person recorded beside this copy's own writes.

// The helpers of this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use bangfu_core::UserFacing;
use bangfu_core::access::{AccessError, Role};
use bangfu_core::cards::{CardRequest, help_cards};
use bangfu_core::exit::procedure::{Step, StepRecord, record_step};
use bangfu_core::ledger::{LedgerKind, Scope, export_ledger};
use bangfu_core::model::{FieldValue, Household, Member, Table, Village};
use bangfu_core::query::{HouseholdQuery, households, search_people};
use bangfu_core::report::quality::data_quality_shown;
use bangfu_core::store::restore::request_restore_by;
use bangfu_core::store::{Change, Store, StoreError, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::review::{ReviewKey, resolve_key, review_items};
use bangfu_core::sync::trust::confirm_device;
use calamine::{Data, Reader, open_workbook_auto};
use chrono::NaiveDate;
use uuid::Uuid;

const T0: u64 = 1_500_000_000_000; // July 2017
const PIN: &str = "2468";

fn head_id() -> String {
    common::id_number("53082619700101123")
}

fn spouse_id() -> String {
    common::id_number("53082619720202124")
}

/// A village of 云南省 and one household of two with valid IDs, filed on `store`.
fn file_household(store: &mut Store) -> Uuid {
    let village = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        township: "者竜乡".into(),
        province: "云南省".into(),
        rural_population: Some(400),
        ..Default::default()
    };
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: "530826103201001".into(),
        identify_standard: "1".into(),
        attribute: "1".into(),
        main_cause: "01".into(),
        poverty_status: "1".into(),
        address: "一组".into(),
        ..Default::default()
    };
    let member = |name: &str, relation: &str, sex: &str, id: String| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: name.into(),
        relation: relation.into(),
        sex: sex.into(),
        id_number: id,
        medical_insurance: Some(true),
        ..Default::default()
    };
    let changes = vec![
        put_change(&village),
        put_change(&household),
        put_change(&member("张大山", "01", "1", head_id())),
        put_change(&member("李秀英", "02", "2", spouse_id())),
    ];
    store.write(&changes).unwrap();
    household.id
}

/// A copy with a household filed before anyone was added, then the team's four people.
fn team_copy(dir: &Path) -> (Store, Uuid) {
    let mut store = common::open_at(dir, "laptop", T0);
    let household = file_household(&mut store);
    store.add_person("刘书记", Role::Leader, PIN).unwrap();
    store.sign_in("刘书记", PIN).unwrap();
    store.add_person("王队员", Role::Member, PIN).unwrap();
    store
        .add_person("赵站长", Role::TownshipAdmin, PIN)
        .unwrap();
    store.add_person("陈检查", Role::ReadOnly, PIN).unwrap();
    store.sign_out();
    (store, household)
}

fn person_of(role: Role) -> &'static str {
    match role {
        Role::Member => "王队员",
        Role::Leader => "刘书记",
        Role::TownshipAdmin => "赵站长",
        Role::ReadOnly => "陈检查",
    }
}

fn access_error(error: &StoreError) -> Option<&AccessError> {
    match error {
        StoreError::Access(e) => Some(e),
        _ => None,
    }
}

fn survey() -> StepRecord {
    let mut r = StepRecord::new(
        Step::Survey,
        NaiveDate::from_ymd_opt(2017, 8, 1).unwrap(),
        "村委会、工作队",
    );
    r.household_signed = Some(true);
    r.food_secure = Some(true);
    r.clothing_secure = Some(true);
    r.signatures = "张大山、刘书记".into();
    r
}

/// Every text cell of a workbook's first sheet.
fn sheet_text(path: &Path) -> String {
    let mut book = open_workbook_auto(path).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    range
        .rows()
        .flat_map(|row| row.iter())
        .filter_map(|c| match c {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn a_file_without_people_keeps_full_rights_and_asks_nobody_to_sign_in() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "laptop", T0);
    let household = file_household(&mut store);
    assert!(!store.people_defined().unwrap());
    assert!(store.sees_full_ids().unwrap());
    record_step(&mut store, household, &survey()).unwrap();
    let page = households(&store, &HouseholdQuery::default()).unwrap();
    assert_eq!(page.rows[0].head_id_number, head_id());
    // Exports with full numbers on a file without people are not audited: nobody to name.
    let out = dir.path().join("members.xlsx");
    export_ledger(&store, LedgerKind::Members, &Scope::All, &out).unwrap();
    assert!(sheet_text(&out).contains(&head_id()));
    assert!(store.audit_log().unwrap().is_empty());
    let e = store.sign_in("刘书记", PIN).unwrap_err();
    assert_eq!(e.kind(), "unknown_person");
}

#[test]
fn the_first_person_manages_people_and_the_rest_are_added_by_one_who_may() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "laptop", T0);
    // (name, role, pin, signed in as, expected kind or "ok")
    let cases: &[(&str, Role, &str, Option<&str>, &str)] = &[
        ("王队员", Role::Member, PIN, None, "first_person_manages"),
        ("刘书记", Role::Leader, "12a4", None, "bad_pin"),
        ("刘书记", Role::Leader, "123", None, "bad_pin"),
        ("", Role::Leader, PIN, None, "bad_person_name"),
        ("刘书记", Role::Leader, PIN, None, "ok"),
        ("王队员", Role::Member, PIN, None, "not_signed_in"),
        (
            "刘书记",
            Role::Member,
            PIN,
            Some("刘书记"),
            "person_name_taken",
        ),
        ("王队员", Role::Member, "12345678", Some("刘书记"), "ok"),
        ("李队员", Role::Member, PIN, Some("王队员"), "not_allowed"),
        ("赵站长", Role::TownshipAdmin, PIN, Some("刘书记"), "ok"),
    ];
    for (name, role, pin, signed_in, want) in cases {
        store.sign_out();
        if let Some(who) = signed_in {
            let pin = if *who == "王队员" { "12345678" } else { PIN };
            store.sign_in(who, pin).unwrap();
        }
        let got = match store.add_person(name, *role, pin) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        assert_eq!(got, *want, "add {name} as {signed_in:?}");
    }
    let people: Vec<(String, String)> = store
        .people()
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.role_label))
        .collect();
    assert_eq!(
        people,
        [
            ("刘书记".to_owned(), "第一书记/队长".to_owned()),
            ("王队员".to_owned(), "队员".to_owned()),
            ("赵站长".to_owned(), "乡镇管理员".to_owned()),
        ]
    );
}

#[test]
fn a_wrong_pin_is_refused_and_the_tries_are_bounded() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    let mut messages = Vec::new();
    for _ in 0..5 {
        messages.push(store.sign_in("王队员", "0000").unwrap_err().message_zh());
    }
    assert_eq!(
        messages,
        [
            "王队员的 PIN 码不对，请重新输入（还可以再试 4 次）。",
            "王队员的 PIN 码不对，请重新输入（还可以再试 3 次）。",
            "王队员的 PIN 码不对，请重新输入（还可以再试 2 次）。",
            "王队员的 PIN 码不对，请重新输入（还可以再试 1 次）。",
            "王队员的 PIN 码连续输错 5 次，请 5 分钟后再试；忘记 PIN 码请找第一书记、队长或乡镇管理员重新设置。",
        ]
    );
    // Locked out: even the right PIN waits, and a restart does not lift it.
    assert_eq!(
        store.sign_in("王队员", PIN).unwrap_err().kind(),
        "too_many_tries"
    );
    drop(store);
    let mut store = common::open_at(dir.path(), "laptop", T0 + 60_000);
    assert_eq!(
        store.sign_in("王队员", PIN).unwrap_err().kind(),
        "too_many_tries"
    );
    drop(store);
    let mut store = common::open_at(dir.path(), "laptop", T0 + 6 * 60_000);
    let actor = store.sign_in("王队员", PIN).unwrap();
    assert_eq!((actor.name.as_str(), actor.role), ("王队员", Role::Member));
    // A right PIN cleared the count: the next wrong one has all tries left again.
    store.sign_out();
    let e = store.sign_in("王队员", "1111").unwrap_err();
    assert_eq!(
        access_error(&e),
        Some(&AccessError::WrongPin {
            name: "王队员".into(),
            tries_left: 4
        })
    );
    assert_eq!(
        store.sign_in("谁", PIN).unwrap_err().kind(),
        "unknown_person"
    );
    // A forgotten PIN is set again by one who manages people, never by the person alone.
    let member = store.people().unwrap()[1].id;
    store.sign_out();
    assert_eq!(
        store.reset_pin(member, "9999").unwrap_err().kind(),
        "not_signed_in"
    );
    store.sign_in("王队员", PIN).unwrap();
    assert_eq!(
        store.reset_pin(member, "9999").unwrap_err().kind(),
        "not_allowed"
    );
    store.sign_in("刘书记", PIN).unwrap();
    assert_eq!(store.reset_pin(member, "99").unwrap_err().kind(), "bad_pin");
    store.reset_pin(member, "9999").unwrap();
    assert_eq!(
        store.sign_in("王队员", PIN).unwrap_err().kind(),
        "wrong_pin"
    );
    assert_eq!(store.sign_in("王队员", "9999").unwrap().role, Role::Member);
}

#[test]
fn an_exit_step_is_refused_to_a_member_and_allowed_to_a_leader() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    store.sign_in("王队员", PIN).unwrap();
    let e = record_step(&mut store, household, &survey()).unwrap_err();
    assert_eq!(e.kind(), "not_allowed");
    assert_eq!(
        e.message_zh(),
        "只有第一书记或队长可以办理退出步骤。您的角色是队员。请让有权限的人登录后再办理。"
    );
    store.sign_out();
    assert_eq!(
        record_step(&mut store, household, &survey())
            .unwrap_err()
            .kind(),
        "not_signed_in"
    );
    store.sign_in("刘书记", PIN).unwrap();
    let state = record_step(&mut store, household, &survey()).unwrap();
    assert_eq!(state.done, Some(Step::Survey));
}

#[test]
fn each_guarded_entry_point_answers_each_role_as_the_table_says() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    // Each act answers "ok" or the kind of its error.
    type Act = fn(&mut Store, Uuid) -> String;
    fn kind_of<T, E: UserFacing>(r: Result<T, E>) -> String {
        r.map_or_else(|e| e.kind().to_owned(), |_| "ok".to_owned())
    }
    let acts: &[(&str, Act)] = &[
        ("import", |s, _| kind_of(import_changeset(s, b"not a file"))),
        ("resolve", |s, h| {
            let key = ReviewKey {
                table: Table::Household.label().into(),
                row_id: h.to_string(),
                field: "phone".into(),
            };
            kind_of(resolve_key(s, &key, "13800000000"))
        }),
        ("confirm", |s, _| {
            kind_of(confirm_device(s, "1234-5678", None))
        }),
        ("edit", |s, h| {
            let change = Change::Put {
                table: Table::Household,
                id: h,
                fields: vec![("phone", FieldValue::Text("13800000000".into()))],
            };
            kind_of(s.write(&[change]))
        }),
        ("ledger", |s, _| {
            let out = std::env::temp_dir().join(format!("roles-{}.xlsx", Uuid::now_v7()));
            let r = export_ledger(s, LedgerKind::Households, &Scope::All, &out);
            let _ = std::fs::remove_file(&out);
            kind_of(r)
        }),
    ];
    // Per role: which acts are refused as not allowed (the others may fail for their own
    // reasons, a bad file or an unknown 安全码, after the permission passed).
    let expected: &[(Role, &[&str])] = &[
        (Role::Member, &["import", "resolve", "confirm"]),
        (Role::Leader, &["confirm"]),
        (Role::TownshipAdmin, &[]),
        (Role::ReadOnly, &["import", "resolve", "confirm", "edit"]),
    ];
    for (role, refused) in expected {
        store.sign_in(person_of(*role), PIN).unwrap();
        let got: Vec<&str> = acts
            .iter()
            .filter(|(_, act)| act(&mut store, household) == "not_allowed")
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(&got, refused, "{}", role.label());
        store.sign_out();
    }
}

#[test]
fn full_ids_only_for_the_roles_that_see_them_in_list_search_ledgers_and_cards() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    let masked_head = "530826********".to_owned() + &head_id()[14..];
    assert_eq!(masked_head.len(), 18);
    // (role, full numbers shown)
    let cases = [
        (Role::Member, false),
        (Role::Leader, true),
        (Role::TownshipAdmin, true),
        (Role::ReadOnly, false),
    ];
    for (role, full) in cases {
        store.sign_in(person_of(role), PIN).unwrap();
        let shown = if full { head_id() } else { masked_head.clone() };
        let list = households(&store, &HouseholdQuery::default()).unwrap();
        assert_eq!(list.rows[0].head_id_number, shown, "list, {}", role.label());
        // A search by the full number still finds the person; the number shown is masked.
        let hits = search_people(&store, &head_id(), 10).unwrap();
        assert_eq!(hits[0].id_number, shown, "search, {}", role.label());
        for kind in [LedgerKind::Households, LedgerKind::Members] {
            let out = dir
                .path()
                .join(format!("{}-{}.xlsx", kind.key(), role.code()));
            export_ledger(&store, kind, &Scope::All, &out).unwrap();
            let text = sheet_text(&out);
            assert!(
                text.contains(&shown),
                "{} {}: {text}",
                kind.key(),
                role.label()
            );
            assert_eq!(
                text.contains(&head_id()),
                full,
                "{} {}",
                kind.key(),
                role.label()
            );
            assert_eq!(
                text.contains(&spouse_id()),
                full && kind == LedgerKind::Members
            );
        }
        // The help-contact card carries no 证件号码 for anyone.
        let cards = help_cards(&store, &CardRequest::default()).unwrap();
        let card_text = format!("{cards:?}");
        assert!(card_text.contains("张大山"));
        assert!(
            !card_text.contains(&head_id()[6..14]),
            "card, {}",
            role.label()
        );
        store.sign_out();
    }
    // Each full export by a role that sees full numbers is in the audit log: who, what, how
    // many people (the household ledger has one head, the member ledger two people).
    let audit: Vec<(String, String, i64)> = store
        .audit_log()
        .unwrap()
        .into_iter()
        .rev()
        .map(|a| (a.person_name, a.what, a.people))
        .collect();
    let row = |who: &str, what: &str, n| (who.to_owned(), what.to_owned(), n);
    assert_eq!(
        audit,
        [
            row("刘书记", "全部贫困户台帐", 1),
            row("刘书记", "全部家庭成员台帐", 2),
            row("赵站长", "全部贫困户台帐", 1),
            row("赵站长", "全部家庭成员台帐", 2),
        ]
    );
}

#[test]
fn a_read_only_household_page_is_masked_and_a_member_files_with_full_numbers() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    for (role, full) in [(Role::Member, true), (Role::ReadOnly, false)] {
        store.sign_in(person_of(role), PIN).unwrap();
        let page = store.load_household_page(household).unwrap().page;
        let ids: Vec<bool> = page
            .members
            .iter()
            .map(|m| m.id_number == head_id() || m.id_number == spouse_id())
            .collect();
        assert_eq!(ids, [full, full], "{}", role.label());
        store.sign_out();
    }
}

#[test]
fn the_history_of_a_field_names_person_device_and_time() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    let phone = |store: &mut Store, value: &str| {
        let change = Change::Put {
            table: Table::Household,
            id: household,
            fields: vec![("phone", FieldValue::Text(value.into()))],
        };
        store.write(&[change]).unwrap();
    };
    store.sign_in("王队员", PIN).unwrap();
    phone(&mut store, "13800000001");
    store.sign_out();
    drop(store);
    let mut store = common::open_at(dir.path(), "laptop", T0 + 3_600_000);
    store.sign_in("刘书记", PIN).unwrap();
    phone(&mut store, "13800000002");
    let history: Vec<(Option<String>, String, Option<String>, u64)> = store
        .field_history(Table::Household, household, "phone")
        .unwrap()
        .into_iter()
        .map(|c| (c.value, c.device, c.person, c.at_ms))
        .collect();
    let change = |v: &str, who: &str, at| {
        (
            Some(v.to_owned()),
            "laptop".to_owned(),
            Some(who.to_owned()),
            at,
        )
    };
    assert_eq!(
        history,
        [
            change("13800000001", "王队员", T0),
            change("13800000002", "刘书记", T0 + 3_600_000),
        ]
    );
    // Written before anyone was added: the device and time, no person.
    let code = store
        .field_history(Table::Household, household, "code")
        .unwrap();
    assert_eq!(
        code.iter()
            .map(|c| (c.person.clone(), c.device.as_str()))
            .collect::<Vec<_>>(),
        [(None, "laptop")]
    );
}

/// The 修改记录 of a 证件号码 shows past numbers as masked as the current one to a role that
/// does not see full numbers; a member who files sees them whole.
#[test]
fn the_history_of_an_id_number_is_masked_as_the_page_masks_it() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    let head = store.load_household_page(household).unwrap().page.members[0].id;
    let corrected = common::id_number("53082619700101321");
    store.sign_in("王队员", PIN).unwrap();
    let change = Change::Put {
        table: Table::Member,
        id: head,
        fields: vec![("id_number", FieldValue::Text(corrected.clone()))],
    };
    store.write(&[change]).unwrap();
    for (role, expected) in [
        (Role::Member, vec![head_id(), corrected.clone()]),
        (
            Role::ReadOnly,
            vec![
                bangfu_core::access::mask_id_number(&head_id()),
                bangfu_core::access::mask_id_number(&corrected),
            ],
        ),
    ] {
        store.sign_out();
        store.sign_in(person_of(role), PIN).unwrap();
        let values: Vec<String> = store
            .field_history(Table::Member, head, "id_number")
            .unwrap()
            .into_iter()
            .filter_map(|c| c.value)
            .collect();
        assert_eq!(values, expected, "{}", role.label());
    }
    assert!(!head_id().contains('*'));
}

/// A 银行卡号 is shown as a 证件号码 is: whole to the team, masked to a 只读 inspector on the
/// page and in the field's history.
#[test]
fn a_bank_card_number_is_masked_for_a_read_only_inspector() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    let card = "6228480123456789012";
    store.sign_in("王队员", PIN).unwrap();
    store
        .write(&[Change::Put {
            table: Table::Household,
            id: household,
            fields: vec![("bank_account", FieldValue::Text(card.into()))],
        }])
        .unwrap();
    let shown = |store: &Store| {
        let page = store.load_household_file_shown(household).unwrap();
        let history: Vec<String> = store
            .field_history(Table::Household, household, "bank_account")
            .unwrap()
            .into_iter()
            .filter_map(|c| c.value)
            .collect();
        (page.household.bank_account, history)
    };
    let (page, history) = shown(&store);
    assert_eq!(page, card);
    assert_eq!(history, [card]);
    store.sign_out();
    store.sign_in("陈检查", PIN).unwrap();
    let (page, history) = shown(&store);
    assert_eq!(page, "622848*********9012");
    assert_eq!(history, ["622848*********9012"]);
    // The inspector's page is checked as shown: the stars are not reported as wrong numbers.
    let masked = store.load_household_file_shown(household).unwrap();
    let review = bangfu_core::household_page::review_household_page(&store, &masked, 2026).unwrap();
    let on_masked: Vec<_> = review
        .issues
        .iter()
        .filter(|i| matches!(i.issue.field, "id_number" | "bank_account"))
        .map(|i| i.issue.message.clone())
        .collect();
    assert!(on_masked.is_empty(), "{on_masked:?}");
}

/// Drafts hold full numbers as typed at a door: a 只读 inspector neither reads the team's
/// drafts nor leaves any; the member who typed finds theirs.
#[test]
fn a_read_only_inspector_neither_reads_nor_leaves_drafts() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    let typed = format!(r#"{{"id_number":"{}"}}"#, head_id());
    store.sign_in("王队员", PIN).unwrap();
    store
        .save_draft("household:new", "新建贫困户", &typed)
        .unwrap();
    store.sign_out();
    store.sign_in("陈检查", PIN).unwrap();
    assert_eq!(store.drafts().unwrap(), []);
    store.save_draft("household:other", "别的户", "{}").unwrap();
    store.sign_out();
    store.sign_in("王队员", PIN).unwrap();
    let keys: Vec<String> = store.drafts().unwrap().into_iter().map(|d| d.key).collect();
    assert_eq!(keys, ["household:new"]);
}

#[test]
fn disabling_leaves_someone_who_manages_people() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    let id_of = |store: &Store, name: &str| {
        store
            .people()
            .unwrap()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap()
            .id
    };
    store.sign_in("王队员", PIN).unwrap();
    let leader = id_of(&store, "刘书记");
    assert_eq!(
        store.disable_person(leader).unwrap_err().kind(),
        "not_allowed"
    );
    store.sign_out();
    store.sign_in("刘书记", PIN).unwrap();
    let admin = id_of(&store, "赵站长");
    store.disable_person(admin).unwrap();
    assert_eq!(
        store.sign_in("赵站长", PIN).unwrap_err().kind(),
        "person_disabled"
    );
    store.sign_in("刘书记", PIN).unwrap();
    let e = store.disable_person(leader).unwrap_err();
    assert_eq!(
        e.message_zh(),
        "停用“刘书记”后就没有人能管理人员了。请先添加另一位第一书记/队长或乡镇管理员。"
    );
}

#[test]
fn the_quality_list_and_the_read_only_handles_export_follow_the_signed_in_person() {
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    store.sign_in("刘书记", PIN).unwrap();
    // The head's number typed again for a child: the quality list names it.
    let child = Member {
        id: Uuid::now_v7(),
        household_id: Some(household),
        name: "张小山".into(),
        relation: "03".into(),
        sex: "1".into(),
        id_number: head_id(),
        ..Default::default()
    };
    store.write(&[put_change(&child)]).unwrap();
    let masked_head = "530826********".to_owned() + &head_id()[14..];
    for (who, full) in [("刘书记", true), ("王队员", false)] {
        store.sign_in(who, PIN).unwrap();
        let messages: Vec<String> = data_quality_shown(&store)
            .unwrap()
            .into_iter()
            .map(|i| i.message)
            .filter(|m| m.contains(&masked_head) || m.contains(&head_id()))
            .collect();
        assert!(!messages.is_empty(), "the repeated number is listed");
        assert!(
            messages.iter().all(|m| m.contains(&head_id()) == full),
            "{who}: {messages:?}"
        );
    }
    // The app exports ledgers from a read-only handle: it masks and audits for the same
    // person, writing the audit row through a connection of its own.
    for (who, full) in [("王队员", false), ("赵站长", true)] {
        store.sign_in(who, PIN).unwrap();
        let mut reader = store.open_reader().unwrap();
        reader.set_actor(store.actor().cloned());
        let out = dir.path().join(format!("reader-{who}.xlsx"));
        export_ledger(&reader, LedgerKind::Members, &Scope::All, &out).unwrap();
        assert_eq!(sheet_text(&out).contains(&head_id()), full, "{who}");
    }
    let audit: Vec<(String, i64)> = store
        .audit_log()
        .unwrap()
        .into_iter()
        .map(|a| (a.person_name, a.people))
        .collect();
    assert_eq!(audit, [("赵站长".to_owned(), 3)]);
}

#[test]
fn only_a_leader_or_township_admin_restores_a_backup() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    let not_a_backup = dir.path().join("old.sqlite");
    // (person, what the request answers): the permission is checked before the file is.
    for (who, kind) in [
        ("王队员", "not_allowed"),
        ("陈检查", "not_allowed"),
        ("刘书记", "not_a_backup"),
        ("赵站长", "not_a_backup"),
    ] {
        store.sign_in(who, PIN).unwrap();
        let e = request_restore_by(&store, &not_a_backup).unwrap_err();
        assert_eq!(e.kind(), kind, "{who}");
    }
}

#[test]
fn a_conflict_names_who_wrote_this_copys_value() {
    let dir = common::scratch();
    let (mut laptop, household) = team_copy(dir.path());
    let mut station = common::open_at(dir.path(), "station", T0);
    let (to_station, _) = export_changeset(&laptop, None).unwrap();
    import_changeset(&mut station, &to_station).unwrap();
    let phone = |store: &mut Store, value: &str| {
        let change = Change::Put {
            table: Table::Household,
            id: household,
            fields: vec![("phone", FieldValue::Text(value.into()))],
        };
        store.write(&[change]).unwrap();
    };
    phone(&mut station, "13800000009");
    laptop.sign_in("王队员", PIN).unwrap();
    phone(&mut laptop, "13800000001");
    laptop.sign_in("刘书记", PIN).unwrap();
    let (to_laptop, _) = export_changeset(&station, None).unwrap();
    import_changeset(&mut laptop, &to_laptop).unwrap();
    let items = review_items(&laptop).unwrap();
    let mut values: Vec<(String, String)> = items
        .iter()
        .flat_map(|i| i.values.iter())
        .map(|v| (v.value.clone(), v.device.clone()))
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            ("13800000001".to_owned(), "laptop（王队员）".to_owned()),
            ("13800000009".to_owned(), "station".to_owned()),
        ]
    );
}

/// Who typed a value travels with it (signed by the laptop with its batch): the township and
/// the county, which know none of the laptop's people, name the person in a field's history
/// and in a conflict; a name altered on the way refuses the file; a name dropped by a relay
/// leaves the value without one, never with another's.
#[test]
fn the_person_who_typed_a_value_is_named_on_every_copy_it_reaches() {
    let dir = common::scratch();
    let (mut laptop, household) = team_copy(dir.path());
    let mut station = common::open_at(dir.path(), "station", T0);
    let mut county = common::open_at(dir.path(), "county", T0);
    let (first, _) = export_changeset(&laptop, None).unwrap();
    import_changeset(&mut station, &first).unwrap();
    let phone = |store: &mut Store, value: &str| {
        let change = Change::Put {
            table: Table::Household,
            id: household,
            fields: vec![("phone", FieldValue::Text(value.into()))],
        };
        store.write(&[change]).unwrap();
    };
    laptop.sign_in("王队员", PIN).unwrap();
    phone(&mut laptop, "13800000001");
    laptop.sign_in("刘书记", PIN).unwrap();
    phone(&mut laptop, "13800000002");
    let history = |store: &Store| -> Vec<(Option<String>, String, Option<String>)> {
        store
            .field_history(Table::Household, household, "phone")
            .unwrap()
            .into_iter()
            .map(|c| (c.value, c.device, c.person))
            .collect()
    };
    let expected = |device: &str| {
        vec![
            (
                Some("13800000001".to_owned()),
                device.to_owned(),
                Some("王队员".to_owned()),
            ),
            (
                Some("13800000002".to_owned()),
                device.to_owned(),
                Some("刘书记".to_owned()),
            ),
        ]
    };
    assert_eq!(history(&laptop), expected("laptop"));

    // A name altered in the file (checksums recomputed) refuses the whole file.
    let (file, _) = export_changeset(&laptop, None).unwrap();
    let (mut header, ops) = bangfu_core::sync::changeset::decode(&file).unwrap();
    let batches = header.batches.as_mut().unwrap();
    let named = batches
        .iter_mut()
        .find(|b| b.by.as_deref() == Some("王队员"))
        .expect("the batch names its writer");
    named.by = Some("刘书记".into());
    let altered = bangfu_core::sync::changeset::encode(header.clone(), &ops);
    let e = import_changeset(&mut station, &altered).unwrap_err();
    assert_eq!(e.kind(), "bad_signature");
    assert_eq!(history(&station).len(), 0, "nothing of it merged");

    // The file as written: the station names both people, and relays the names to the county.
    import_changeset(&mut station, &file).unwrap();
    assert_eq!(history(&station), expected("laptop"));
    let (relayed, _) = export_changeset(&station, None).unwrap();
    import_changeset(&mut county, &relayed).unwrap();
    assert_eq!(history(&county), expected("laptop"));

    // A conflict at the station names the person who wrote the laptop's value.
    phone(&mut station, "13800000009");
    laptop.sign_in("王队员", PIN).unwrap();
    phone(&mut laptop, "13800000003");
    let (later, _) = export_changeset(&laptop, None).unwrap();
    import_changeset(&mut station, &later).unwrap();
    let values: Vec<String> = review_items(&station)
        .unwrap()
        .iter()
        .flat_map(|i| i.values.iter())
        .map(|v| format!("{} {}", v.value, v.device))
        .collect();
    assert!(
        values.contains(&"13800000003 laptop（王队员）".to_owned()),
        "{values:?}"
    );

    // A relay that drops the names (an older version) leaves those values nameless; the name
    // arrives later with a file that carries it.
    let mut late = common::open_at(dir.path(), "late", T0);
    let (mut header, ops) = bangfu_core::sync::changeset::decode(&first).unwrap();
    header.source_sig = None;
    import_changeset(
        &mut late,
        &bangfu_core::sync::changeset::encode(header, &ops),
    )
    .unwrap();
    let (mut header, ops) = bangfu_core::sync::changeset::decode(&file).unwrap();
    for b in header.batches.iter_mut().flatten() {
        b.by = None;
        b.by_sig = None;
    }
    import_changeset(
        &mut late,
        &bangfu_core::sync::changeset::encode(header, &ops),
    )
    .unwrap();
    assert!(history(&late).iter().all(|(_, _, who)| who.is_none()));
    import_changeset(&mut late, &file).unwrap();
    assert_eq!(history(&late), expected("laptop"));
}

#[test]
fn no_one_but_the_first_person_gives_a_role_that_may_do_more_than_their_own() {
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    // 刘书记 set the laptop up; a second leader and the township admin were added by them.
    store.sign_in("刘书记", PIN).unwrap();
    store.add_person("孙队长", Role::Leader, PIN).unwrap();
    // (signed in as, new person, role, expected kind or "ok")
    let cases: &[(&str, &str, Role, &str)] = &[
        ("孙队长", "周站长", Role::TownshipAdmin, "beyond_own_role"),
        ("赵站长", "吴书记", Role::Leader, "beyond_own_role"),
        ("孙队长", "郑队员", Role::Member, "ok"),
        ("赵站长", "冯检查", Role::ReadOnly, "ok"),
        ("刘书记", "钱站长", Role::TownshipAdmin, "ok"),
    ];
    for (who, name, role, want) in cases {
        store.sign_in(who, PIN).unwrap();
        let got = match store.add_person(name, *role, PIN) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        assert_eq!(got, *want, "{who} adds {name} as {role:?}");
    }
    // Resetting the PIN of a role that may do more is signing in as them: refused alike.
    let admin = store
        .people()
        .unwrap()
        .into_iter()
        .find(|p| p.name == "赵站长")
        .unwrap();
    store.sign_in("孙队长", PIN).unwrap();
    let refused = store.reset_pin(admin.id, "9999").unwrap_err();
    assert_eq!(refused.kind(), "beyond_own_role");
    assert!(
        refused.message_zh().contains("超出了第一书记/队长的权限"),
        "{}",
        refused.message_zh()
    );
    assert!(
        store.sign_in("赵站长", "9999").is_err(),
        "the admin's PIN is unchanged"
    );
}

#[test]
fn county_settings_and_the_hub_link_are_changed_only_by_a_leader_or_admin() {
    use bangfu_core::county_settings::{county_settings, set_first_filing_year};
    use bangfu_core::exit::standards::{set_standard, standard_for};
    let dir = common::scratch();
    let (mut store, _) = team_copy(dir.path());
    store.sign_in("王队员", PIN).unwrap();
    let mut line = standard_for(&store, 2017, "云南省").unwrap();
    line.income_line -= 500.0;
    let refused = set_standard(&mut store, &line, true).unwrap_err();
    assert!(
        refused.message_zh().contains("修改脱贫标准"),
        "{}",
        refused.message_zh()
    );
    assert_eq!(store.forget_hub_link().unwrap_err().kind(), "not_allowed");
    let refused = set_first_filing_year(&mut store, 2013, "县扶贫办文件").unwrap_err();
    assert!(
        refused.message_zh().contains("修改脱贫标准"),
        "{}",
        refused.message_zh()
    );
    assert_eq!(
        county_settings(&store).unwrap().first_filing_year.year,
        2014
    );
    store.sign_in("刘书记", PIN).unwrap();
    set_standard(&mut store, &line, true).unwrap();
    set_first_filing_year(&mut store, 2013, "县扶贫办文件").unwrap();
    assert_eq!(
        county_settings(&store).unwrap().first_filing_year.year,
        2013
    );
    store.forget_hub_link().unwrap();
}

#[test]
fn a_conflict_on_an_id_number_is_masked_for_a_role_that_does_not_see_full_numbers() {
    let dir = common::scratch();
    let (mut laptop, household) = team_copy(dir.path());
    let mut station = common::open_at(dir.path(), "station", T0);
    let (to_station, _) = export_changeset(&laptop, None).unwrap();
    import_changeset(&mut station, &to_station).unwrap();
    let head = households(&laptop, &HouseholdQuery::default())
        .unwrap()
        .rows[0]
        .head_id_number
        .clone();
    assert_ne!(
        head,
        head_id(),
        "nobody signed in on a file with people sees numbers masked"
    );
    let member = |store: &Store| -> Uuid {
        let bytes: Vec<u8> = store
            .sql()
            .unwrap()
            .query_row(
                "SELECT id FROM member WHERE household_id = ?1 AND relation = '02'",
                [household.as_bytes().to_vec()],
                |r| r.get(0),
            )
            .unwrap();
        Uuid::from_slice(&bytes).unwrap()
    };
    let spouse = member(&laptop);
    let fix = |store: &mut Store, id: String| {
        let change = Change::Put {
            table: Table::Member,
            id: spouse,
            fields: vec![("id_number", FieldValue::Text(id))],
        };
        store.write(&[change]).unwrap();
    };
    fix(&mut station, common::id_number("53082619720202126"));
    laptop.sign_in("刘书记", PIN).unwrap();
    fix(&mut laptop, common::id_number("53082619720202128"));
    let (to_laptop, _) = export_changeset(&station, None).unwrap();
    import_changeset(&mut laptop, &to_laptop).unwrap();
    let shown = |store: &Store| -> Vec<String> {
        review_items(store)
            .unwrap()
            .iter()
            .filter(|i| i.field == "id_number")
            .flat_map(|i| i.values.iter().map(|v| v.value.clone()))
            .collect()
    };
    let leader = shown(&laptop);
    assert_eq!(leader.len(), 2, "{leader:?}");
    assert!(
        leader.iter().all(|v| v.len() == 18 && !v.contains('*')),
        "{leader:?}"
    );
    laptop.sign_in("王队员", PIN).unwrap();
    let member_view = shown(&laptop);
    assert!(
        member_view.iter().all(|v| v.contains("********")),
        "a 队员 sees the numbers in conflict masked: {member_view:?}"
    );
}

#[test]
fn each_lockout_after_wrong_pins_is_twice_as_long_until_a_right_pin() {
    let dir = common::scratch();
    drop(team_copy(dir.path()));
    let mut waits = Vec::new();
    let mut at = T0;
    for _ in 0..3 {
        let mut store = common::open_at(dir.path(), "laptop", at);
        let mut last = None;
        for _ in 0..5 {
            last = Some(store.sign_in("王队员", "0000").unwrap_err());
        }
        match last.as_ref().and_then(access_error) {
            Some(AccessError::TooManyTries { minutes, .. }) => {
                waits.push(*minutes);
                at += minutes * 60_000 + 1;
            }
            other => panic!("the fifth wrong PIN locks out: {other:?}"),
        }
    }
    assert_eq!(waits, [5, 10, 20], "each lockout doubles the wait");
    // A right PIN after the wait clears it all: the next lockout is 5 minutes again.
    let mut store = common::open_at(dir.path(), "laptop", at);
    store.sign_in("王队员", PIN).unwrap();
    store.sign_out();
    for n in 1..=5 {
        let e = store.sign_in("王队员", "0000").unwrap_err();
        if n == 5 {
            assert!(
                e.message_zh().contains("请 5 分钟后再试"),
                "{}",
                e.message_zh()
            );
        }
    }
}

/// The household page's 帮扶措施与发放, 培训, 易地扶贫搬迁 and 驻村工作队 boxes write through
/// entry points that refuse a 只读 inspector first, with the core's Chinese refusal, before
/// anything about the input (an unknown policy, measure, household, training kind or village
/// would otherwise answer), and write nothing; `Store::refusals` lists that refusal for the
/// window to disable the buttons with, and nothing for a 队员.
#[test]
fn the_measure_training_relocation_and_team_boxes_refuse_a_read_only_inspector() {
    use bangfu_core::access::Permission;
    use bangfu_core::policy::{
        NewPayment, NewStage, NewTraining, PolicyMeasure, record_payment, record_policy_measure,
        record_stage, record_training,
    };
    use bangfu_core::team::{NewTeamMember, add_team_member};

    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    let unknown = Uuid::now_v7();
    let refusal = "只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。您的角色是只读。请让有权限的人登录后再办理。";
    store.sign_in(person_of(Role::ReadOnly), PIN).unwrap();
    let refused = store.refusals().unwrap();
    let filing = refused
        .iter()
        .find(|r| r.permission == Permission::FileHouseholds)
        .expect("a 只读 inspector may not file");
    assert_eq!(filing.message, refusal);

    type Act = fn(&mut Store, Uuid, Uuid) -> Result<(), String>;
    fn said<T, E: UserFacing>(r: Result<T, E>) -> Result<(), String> {
        r.map(|_| ()).map_err(|e| e.message_zh())
    }
    let acts: &[(&str, Act)] = &[
        ("measure", |s, h, _| {
            said(record_policy_measure(
                s,
                &PolicyMeasure {
                    household_id: h,
                    member_id: None,
                    year: 2017,
                    policy_code: "no_such_policy".into(),
                    amount_due: None,
                    status: String::new(),
                },
            ))
        }),
        ("payment", |s, _, unknown| {
            said(record_payment(
                s,
                &NewPayment {
                    measure_id: unknown,
                    pay_date: NaiveDate::from_ymd_opt(2017, 6, 1).unwrap(),
                    amount: 100.0,
                    channel: "1".into(),
                    note: String::new(),
                },
            ))
        }),
        ("training", |s, h, unknown| {
            said(record_training(
                s,
                &NewTraining {
                    household_id: h,
                    member_id: unknown,
                    year: 2017,
                    kind: "不存在的培训".into(),
                    days: 2,
                    certificate: String::new(),
                },
            ))
        }),
        ("stage", |s, _, unknown| {
            said(record_stage(
                s,
                &NewStage {
                    household_id: unknown,
                    site: "勐康镇集镇安置点".into(),
                    stage: "1".into(),
                    stage_date: NaiveDate::from_ymd_opt(2017, 3, 1).unwrap(),
                    loan: None,
                    note: String::new(),
                    site_village: None,
                },
            ))
        }),
        ("team", |s, _, unknown| {
            said(add_team_member(
                s,
                &NewTeamMember {
                    village_id: unknown,
                    name: "刘书记".into(),
                    sex: "男".into(),
                    role: "第一书记".into(),
                    unit: "县扶贫办".into(),
                    unit_level: "县直".into(),
                    post: String::new(),
                    phone: String::new(),
                    start_date: NaiveDate::from_ymd_opt(2017, 3, 1),
                    note: String::new(),
                },
            ))
        }),
    ];
    let ops = |store: &Store| -> i64 {
        store
            .sql()
            .unwrap()
            .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
            .unwrap()
    };
    let before = ops(&store);
    for (name, act) in acts {
        assert_eq!(
            act(&mut store, household, unknown),
            Err(refusal.to_owned()),
            "{name}"
        );
    }
    assert_eq!(ops(&store), before, "nothing written");
    store.sign_out();

    // A 队员 files: nothing of it is refused, and each act answers about its input instead.
    store.sign_in(person_of(Role::Member), PIN).unwrap();
    assert!(
        store
            .refusals()
            .unwrap()
            .iter()
            .all(|r| r.permission != Permission::FileHouseholds)
    );
    for (name, act) in acts {
        let answer = act(&mut store, household, unknown);
        assert!(
            answer.as_ref().is_err_and(|m| m != refusal),
            "{name}: {answer:?}"
        );
    }
}

/// Issue 17: moving a household to another village (its 所属村 and 户编号) is the village
/// leader's or the township's act, refused to a 队员 in the core whichever shell asks (the
/// app's 易地扶贫搬迁 box and `bangfu household move` both call `move_household`).
#[test]
fn a_household_is_moved_to_another_village_only_by_a_leader_or_the_township() {
    use bangfu_core::moving::move_household;
    let dir = common::scratch();
    let (mut store, household) = team_copy(dir.path());
    store.sign_in(person_of(Role::Leader), PIN).unwrap();
    let site = Village {
        id: Uuid::now_v7(),
        code: "530826103202".into(),
        name: "新寨村".into(),
        township: "者竜乡".into(),
        province: "云南省".into(),
        ..Default::default()
    };
    store.write(&[put_change(&site)]).unwrap();
    let ops = |store: &Store| -> i64 {
        store
            .sql()
            .unwrap()
            .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
            .unwrap()
    };
    for role in [Role::Member, Role::ReadOnly] {
        store.sign_in(person_of(role), PIN).unwrap();
        let before = ops(&store);
        let refused = move_household(&mut store, household, &site.code).unwrap_err();
        assert_eq!(refused.kind(), "not_allowed", "{role:?}");
        assert_eq!(
            refused.message_zh(),
            format!(
                "只有第一书记、队长或乡镇管理员可以把户迁到另一个村（所属村和户编号）。您的角色是{}。请让有权限的人登录后再办理。",
                role.label()
            ),
        );
        assert_eq!(ops(&store), before, "nothing written for {role:?}");
        let h = store.get::<Household>(household).unwrap();
        assert_eq!(h.code, "530826103201001");
        assert_ne!(h.village_id, Some(site.id));
        // Nor through the household page's 所属村 (the page's save, fresh or over its base).
        let refused = store
            .edit_household_fields(
                household,
                &[(
                    "village_id",
                    bangfu_core::model::FieldValue::Bytes(site.id.as_bytes().to_vec()),
                )],
            )
            .unwrap_err();
        assert_eq!(refused.kind(), "not_allowed", "{role:?}");
        let mut page = store.load_household_file(household).unwrap();
        page.household.village_id = Some(site.id);
        assert_eq!(
            store.file_household(&page).unwrap_err().kind(),
            "not_allowed",
            "{role:?}"
        );
        assert_eq!(ops(&store), before, "nothing written for {role:?}");
        assert_ne!(
            store.get::<Household>(household).unwrap().village_id,
            Some(site.id)
        );
    }
    // A 队员 still saves the page when 所属村 stays as it is.
    store.sign_in(person_of(Role::Member), PIN).unwrap();
    store
        .edit_household_fields(
            household,
            &[(
                "remark",
                bangfu_core::model::FieldValue::Text("入户核实".into()),
            )],
        )
        .unwrap();
    store.sign_in(person_of(Role::Leader), PIN).unwrap();
    let moved = move_household(&mut store, household, &site.code).unwrap();
    assert_eq!(moved.new_code, "530826103202001");
    let h = store.get::<Household>(household).unwrap();
    assert_eq!(
        (h.village_id, h.code.as_str()),
        (Some(site.id), "530826103202001")
    );
    // The township moves a household too (back, say, after a mistaken move).
    store.sign_in(person_of(Role::TownshipAdmin), PIN).unwrap();
    let back = move_household(&mut store, household, "530826103201").unwrap();
    assert_eq!(back.old_code, "530826103202001");
}
