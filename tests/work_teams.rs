//! 驻村工作队 as records (issue 17), in the users' topology: a team member added at the
//! township reaches that village's laptop by a USB file and through the hub, never another
//! village's laptop through the hub; a village device cannot write another village's team
//! (refused at the township, held at the hub); the card and the 档案目录 name the team.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pdf;

use std::ops::ControlFlow;

use bangfu_core::cards::{CardRequest, archive_list_pdf, help_cards, help_cards_pdf};
use bangfu_core::filing::HouseholdFile;
use bangfu_core::model::{Household, Member, TeamMember, Village};
use bangfu_core::store::{Filter, Store, put_change};
use bangfu_core::sync::exchange::{export_changeset, import_changeset};
use bangfu_core::sync::trust::{confirm_device, merge_held_outside, own_fingerprint};
use bangfu_core::team::{NewTeamMember, add_team_member, end_team_member, team_on};
use bangfu_hub::Scope;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::server::{RunningHub, bind};
use bangfu_hub::storage::{HubStorage, SqliteStorage};
use chrono::NaiveDate;
use uuid::Uuid;

/// 2025-06-15.
const CLOCK: u64 = 1_750_000_000_000;
const TOWNSHIP: &str = "530826103";
const VILLAGE_A: &str = "530826103201";
const VILLAGE_B: &str = "530826103202";

fn village(code: &str, name: &str) -> Village {
    Village {
        id: Uuid::now_v7(),
        code: code.into(),
        name: name.into(),
        township: "大寨镇".into(),
        county: "景东县".into(),
        ..Default::default()
    }
}

fn household(v: &Village, head: &str, id_prefix: &str) -> HouseholdFile {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(v.id),
        code: format!("{}001", v.code),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        ..Default::default()
    };
    HouseholdFile {
        members: vec![Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: head.into(),
            relation: "01".into(),
            sex: "1".into(),
            id_number: common::id_number(id_prefix),
            ..Default::default()
        }],
        household,
        ..Default::default()
    }
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn secretary(v: &Village, name: &str, phone: &str) -> NewTeamMember {
    NewTeamMember {
        village_id: v.id,
        name: name.into(),
        sex: "男".into(),
        role: "第一书记".into(),
        unit: "景东县农业农村局".into(),
        unit_level: "县直".into(),
        post: "副局长".into(),
        phone: phone.into(),
        start_date: Some(day("2024-03-01")),
        note: String::new(),
    }
}

fn team_names(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .read::<TeamMember>(Filter::All)
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    names.sort();
    names
}

/// The township station files two villages, each with a household.
fn township_with_two_villages(dir: &std::path::Path) -> (Store, Village, Village) {
    let mut township = common::open_at(dir, "大寨镇工作站", CLOCK);
    let a = village(VILLAGE_A, "新文村");
    let b = village(VILLAGE_B, "安乐村");
    township.write(&[put_change(&a), put_change(&b)]).unwrap();
    township
        .file_household(&household(&a, "李发", "53082619700101001"))
        .unwrap();
    township
        .file_household(&household(&b, "张勇", "53082619700101003"))
        .unwrap();
    (township, a, b)
}

fn hub(dir: &std::path::Path) -> (std::sync::Arc<SqliteStorage>, RunningHub, HubClient) {
    let storage = std::sync::Arc::new(SqliteStorage::open(&dir.join("hub")).unwrap());
    let running = RunningHub::start(bind("127.0.0.1:0").unwrap(), storage.clone()).unwrap();
    let client = HubClient::new(ClientConfig {
        timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    });
    (storage, running, client)
}

#[test]
fn a_team_member_added_at_the_township_reaches_its_village_laptop_by_usb_file() {
    let dir = common::scratch();
    let (mut township, a, _b) = township_with_two_villages(dir.path());
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    assert!(team_names(&laptop).is_empty());

    let id = add_team_member(&mut township, &secretary(&a, "王明", "13987654321")).unwrap();
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    let team = team_on(&laptop, a.id, day("2025-06-15")).unwrap();
    assert_eq!(team.len(), 1);
    assert_eq!(
        (
            team[0].name.as_str(),
            team[0].role.as_str(),
            team[0].phone.as_str()
        ),
        ("王明", "第一书记", "13987654321")
    );

    // Leaving the village travels the same way and keeps the row.
    end_team_member(&mut township, id, day("2025-05-31")).unwrap();
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();
    assert!(
        team_on(&laptop, a.id, day("2025-06-15"))
            .unwrap()
            .is_empty()
    );
    let kept = laptop.get::<TeamMember>(id).unwrap();
    assert_eq!(kept.end_date, Some(day("2025-05-31")));
}

#[test]
fn through_the_hub_a_team_member_reaches_its_village_and_no_other() {
    let dir = common::scratch();
    let (mut township, a, b) = township_with_two_villages(dir.path());
    let (storage, running, client) = hub(dir.path());
    let url = running.url();
    let mut laptop_a = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    let mut laptop_b = common::open_at(dir.path(), "安乐村-笔记本", CLOCK + 20);
    for (store, scope) in [
        (&mut township, TOWNSHIP),
        (&mut laptop_a, VILLAGE_A),
        (&mut laptop_b, VILLAGE_B),
    ] {
        let code = storage.issue_code(&Scope::parse(scope).unwrap()).unwrap();
        client.enrol(store, &url, &code).unwrap();
    }
    add_team_member(&mut township, &secretary(&a, "王明", "13987654321")).unwrap();
    add_team_member(&mut township, &secretary(&b, "赵刚", "13812345678")).unwrap();
    client.sync_once(&mut township).unwrap();
    client.sync_once(&mut laptop_a).unwrap();
    client.sync_once(&mut laptop_b).unwrap();
    assert_eq!(team_names(&laptop_a), ["王明"]);
    assert_eq!(team_names(&laptop_b), ["赵刚"]);
    // Any op of village A's team would have made a row on village B's laptop.
    let rows_on_b = laptop_b.read::<TeamMember>(Filter::All).unwrap();
    assert_eq!(rows_on_b.len(), 1, "{rows_on_b:?}");

    // A member added on the village laptop goes up and reaches the township, not village B.
    let mut member = secretary(&a, "李华", "13700000001");
    member.role = "工作队员".into();
    add_team_member(&mut laptop_a, &member).unwrap();
    client.sync_once(&mut laptop_a).unwrap();
    client.sync_once(&mut township).unwrap();
    client.sync_once(&mut laptop_b).unwrap();
    assert_eq!(team_names(&township), ["李华", "王明", "赵刚"]);
    assert_eq!(team_names(&laptop_b), ["赵刚"]);
}

#[test]
fn a_village_laptop_writing_another_villages_team_is_held_at_the_hub() {
    let dir = common::scratch();
    let (mut township, a, b) = township_with_two_villages(dir.path());
    let (storage, running, client) = hub(dir.path());
    let url = running.url();
    // Laptop A got the township's whole file (files between a township and its villages may
    // be unscoped), so it knows village B's row.
    let mut laptop_a = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    import_changeset(&mut laptop_a, &export_changeset(&township, None).unwrap().0).unwrap();
    let mut laptop_b = common::open_at(dir.path(), "安乐村-笔记本", CLOCK + 20);
    for (store, scope) in [
        (&mut township, TOWNSHIP),
        (&mut laptop_a, VILLAGE_A),
        (&mut laptop_b, VILLAGE_B),
    ] {
        let code = storage.issue_code(&Scope::parse(scope).unwrap()).unwrap();
        client.enrol(store, &url, &code).unwrap();
    }
    client.sync_once(&mut township).unwrap();
    add_team_member(&mut laptop_a, &secretary(&b, "冒名", "13700000002")).unwrap();
    add_team_member(&mut laptop_a, &secretary(&a, "王明", "13987654321")).unwrap();
    let refused = client.sync_once(&mut laptop_a);
    assert!(
        refused.is_err(),
        "the foreign team member is held, not stored"
    );
    client.sync_once(&mut township).unwrap();
    client.sync_once(&mut laptop_b).unwrap();
    assert_eq!(
        team_names(&township),
        ["王明"],
        "held ops never block the rest"
    );
    assert!(team_names(&laptop_b).is_empty());
    let held = storage.held().unwrap();
    assert!(!held.is_empty(), "{held:?}");
}

#[test]
fn a_village_device_writing_another_villages_team_waits_at_the_township() {
    let dir = common::scratch();
    let (mut township, a, b) = township_with_two_villages(dir.path());
    let mut laptop_a = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    import_changeset(&mut laptop_a, &export_changeset(&township, None).unwrap().0).unwrap();
    // The township learns the laptop's key from its first file and confirms it for village A.
    add_team_member(&mut laptop_a, &secretary(&a, "王明", "13987654321")).unwrap();
    import_changeset(&mut township, &export_changeset(&laptop_a, None).unwrap().0).unwrap();
    let fp = own_fingerprint(&laptop_a).unwrap().unwrap();
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    assert_eq!(team_names(&township), ["王明"]);

    // Its own village's team passes; another village's team is kept aside, the rest merges.
    let mut member = secretary(&a, "李华", "13700000001");
    member.role = "工作队员".into();
    add_team_member(&mut laptop_a, &member).unwrap();
    import_changeset(&mut township, &export_changeset(&laptop_a, None).unwrap().0).unwrap();
    assert_eq!(team_names(&township), ["李华", "王明"]);
    add_team_member(&mut laptop_a, &secretary(&b, "冒名", "13700000002")).unwrap();
    let mut after = secretary(&a, "赵强", "13700000004");
    after.role = "工作队员".into();
    add_team_member(&mut laptop_a, &after).unwrap();
    let summary =
        import_changeset(&mut township, &export_changeset(&laptop_a, None).unwrap().0).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    let said = summary.message_zh();
    assert!(
        said.contains("驻村工作队") && said.contains(VILLAGE_B) && said.contains("暂存"),
        "{said}"
    );
    assert_eq!(team_names(&township), ["李华", "王明", "赵强"]);

    // A person who checked it with the team merges it; the limit stays for later files.
    merge_held_outside(&mut township, &fp).unwrap();
    assert_eq!(team_names(&township), ["冒名", "李华", "王明", "赵强"]);
    add_team_member(&mut laptop_a, &secretary(&b, "再冒名", "13700000005")).unwrap();
    let summary =
        import_changeset(&mut township, &export_changeset(&laptop_a, None).unwrap().0).unwrap();
    assert!(summary.outside_village_ops > 0, "{summary:?}");
    assert!(!team_names(&township).contains(&"再冒名".to_owned()));
}

#[test]
fn the_card_and_the_archive_list_name_the_villages_team() {
    let dir = common::scratch();
    let (mut township, a, _b) = township_with_two_villages(dir.path());
    let first = add_team_member(&mut township, &secretary(&a, "王明", "13987654321")).unwrap();
    let mut member = secretary(&a, "李华", "13700000001");
    member.role = "工作队员".into();
    member.start_date = Some(day("2025-01-10"));
    add_team_member(&mut township, &member).unwrap();
    let mut earlier = secretary(&a, "陈旧", "13700000003");
    earlier.start_date = Some(day("2022-01-01"));
    let gone = add_team_member(&mut township, &earlier).unwrap();
    end_team_member(&mut township, gone, day("2024-02-29")).unwrap();

    let request = CardRequest {
        household: Some(format!("{VILLAGE_A}001")),
        printed_on: Some(day("2025-06-15")),
        ..CardRequest::default()
    };
    let card = &help_cards(&township, &request).unwrap()[0];
    let names: Vec<(&str, &str)> = card
        .team
        .iter()
        .map(|m| (m.role.as_str(), m.name.as_str()))
        .collect();
    assert_eq!(names, [("第一书记", "王明"), ("工作队员", "李华")]);
    // A card printed before 李华 came names only the secretaries of that day.
    let before = CardRequest {
        printed_on: Some(day("2024-01-15")),
        ..request.clone()
    };
    let names_then: Vec<String> = help_cards(&township, &before).unwrap()[0]
        .team
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(names_then, ["陈旧"]);
    // Village B's card has no team row.
    let b_card = CardRequest {
        household: Some(format!("{VILLAGE_B}001")),
        ..request.clone()
    };
    assert!(help_cards(&township, &b_card).unwrap()[0].team.is_empty());

    let bytes = help_cards_pdf(&township, &request, &mut |_, _| ControlFlow::Continue(())).unwrap();
    let path = pdf::write(dir.path(), "card.pdf", &bytes);
    let text = pdf::pages_text(&path).join("");
    assert!(
        text.contains("驻村工作队") && text.contains("第一书记王明13987654321"),
        "{text}"
    );
    assert!(text.contains("工作队员李华13700000001"), "{text}");
    assert!(!text.contains("陈旧"), "{text}");
    if let Ok(keep) = std::env::var("BANGFU_KEEP_PDF") {
        std::fs::copy(
            &path,
            std::path::Path::new(&keep).join("work-team-card.pdf"),
        )
        .unwrap();
    }

    let list = archive_list_pdf(&township, &format!("{VILLAGE_A}001")).unwrap();
    let path = pdf::write(dir.path(), "archive.pdf", &list);
    let text = pdf::pages_text(&path).join("");
    assert!(text.contains("驻村工作队:第一书记王明"), "{text}");
    assert!(
        text.contains("第一书记王明(景东县农业农村局,2024-03-01起)"),
        "{text}"
    );
    assert!(
        text.contains("陈旧(景东县农业农村局,2022-01-01至2024-02-29)"),
        "{text}"
    );
    if let Ok(keep) = std::env::var("BANGFU_KEEP_PDF") {
        std::fs::copy(
            &path,
            std::path::Path::new(&keep).join("work-team-archive.pdf"),
        )
        .unwrap();
    }
    let _ = first;
}

/// The 修改 dialog on two copies of one member, meeting by USB file: the township corrects the
/// 职务 while the village laptop corrects the phone; each save writes only what its person
/// changed, so both corrections stand on both copies. When both change the phone, neither is
/// lost: the field becomes a review item on both copies.
#[test]
fn edits_of_one_team_member_on_two_copies_both_stand_and_the_same_field_is_a_conflict() {
    use bangfu_core::team::{TeamMemberEdit, set_team_member, team_member_sheet};
    let dir = common::scratch();
    let (mut township, a, _b) = township_with_two_villages(dir.path());
    let id = add_team_member(&mut township, &secretary(&a, "王明", "13987654321")).unwrap();
    let mut laptop = common::open_at(dir.path(), "新文村-笔记本", CLOCK + 10);
    import_changeset(&mut laptop, &export_changeset(&township, None).unwrap().0).unwrap();

    let edit = |store: &Store, change: &dyn Fn(&mut NewTeamMember)| -> TeamMemberEdit {
        let sheet = team_member_sheet(store, id).unwrap();
        let mut member = secretary(&a, "王明", &sheet.member.phone);
        member.post = sheet.member.post.clone();
        change(&mut member);
        TeamMemberEdit {
            id,
            base: sheet.base,
            member,
            end_date: sheet.member.end_date,
        }
    };
    let at_township = edit(&township, &|m| m.post = "局长".into());
    set_team_member(&mut township, &at_township).unwrap();
    let at_laptop = edit(&laptop, &|m| m.phone = "13900001111".into());
    set_team_member(&mut laptop, &at_laptop).unwrap();
    // The laptop's signing key is made with its first write; the township confirms it.
    let fp = own_fingerprint(&laptop).unwrap().unwrap();
    let exchange = |township: &mut Store, laptop: &mut Store| {
        import_changeset(township, &export_changeset(laptop, None).unwrap().0).unwrap();
        import_changeset(laptop, &export_changeset(township, None).unwrap().0).unwrap();
    };
    exchange(&mut township, &mut laptop);
    confirm_device(&mut township, &fp, Some(VILLAGE_A)).unwrap();
    exchange(&mut township, &mut laptop);
    for store in [&township, &laptop] {
        let m = store.get::<TeamMember>(id).unwrap();
        assert_eq!((m.post.as_str(), m.phone.as_str()), ("局长", "13900001111"));
        assert!(
            bangfu_core::sync::review::review_items(store)
                .unwrap()
                .is_empty()
        );
    }

    // Both change the phone before they meet: a review item on both, neither value lost.
    let at_township = edit(&township, &|m| m.phone = "13900002222".into());
    set_team_member(&mut township, &at_township).unwrap();
    let at_laptop = edit(&laptop, &|m| m.phone = "13900003333".into());
    set_team_member(&mut laptop, &at_laptop).unwrap();
    exchange(&mut township, &mut laptop);
    for store in [&township, &laptop] {
        let heads = store.row_heads_by_field(id).unwrap();
        assert_eq!(heads["phone"].len(), 2, "{heads:?}");
        assert_eq!(
            bangfu_core::sync::review::review_items(store)
                .unwrap()
                .len(),
            1
        );
    }
}
