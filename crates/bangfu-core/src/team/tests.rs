//! The work team's records case by case: what a member must name, who is serving on a day,
//! and leaving the village once.

use super::*;
use crate::model::Village;
use crate::store::{OpenOptions, Store};

fn open(dir: &tempfile::TempDir) -> (Store, Uuid) {
    let options = OpenOptions {
        key: None,
        identity_dir: Some(dir.path().join("registry")),
        device_name: Some("乡镇工作站".to_owned()),
        // 2025-06-15.
        fixed_clock_ms: Some(1_750_000_000_000),
    };
    let mut store = Store::open(dir.path().join("a.sqlite"), &options).unwrap();
    let village = Village {
        id: Uuid::now_v7(),
        code: "530826103201".into(),
        name: "新文村".into(),
        ..Default::default()
    };
    store.put(&village).unwrap();
    (store, village.id)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn member(village_id: Uuid) -> NewTeamMember {
    NewTeamMember {
        village_id,
        name: "王明".into(),
        sex: "男".into(),
        role: "第一书记".into(),
        unit: "县农业农村局".into(),
        unit_level: "县直".into(),
        post: "副局长".into(),
        phone: "13987654321".into(),
        start_date: Some(day("2024-03-01")),
        note: String::new(),
    }
}

#[test]
fn a_member_names_the_person_role_unit_and_a_past_start_or_is_refused_in_chinese() {
    type Edit = fn(&mut NewTeamMember);
    let cases: &[(&str, Edit, Option<&str>)] = &[
        ("complete", |_| {}, None),
        ("no name", |m| m.name.clear(), Some("姓名")),
        ("no unit", |m| m.unit.clear(), Some("派出单位")),
        ("no start", |m| m.start_date = None, Some("驻村日期")),
        (
            "future start",
            |m| m.start_date = Some(day("2026-01-01")),
            Some("晚于今天"),
        ),
        ("bad phone", |m| m.phone = "1234".into(), Some("联系电话")),
        (
            "unknown role",
            |m| m.role = "村长".into(),
            Some("队内职务“村长”不在表内"),
        ),
        (
            "unknown level",
            |m| m.unit_level = "部委".into(),
            Some("单位隶属“部委”不在表内"),
        ),
        ("role by code", |m| m.role = "4".into(), None),
    ];
    for (name, edit, refusal) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, village) = open(&dir);
        let mut m = member(village);
        edit(&mut m);
        let result = add_team_member(&mut store, &m);
        match refusal {
            None => assert!(result.is_ok(), "{name}: {result:?}"),
            Some(words) => {
                let message = result.expect_err(name).message_zh();
                assert!(message.contains(words), "{name}: {message}");
                let left = store.read::<TeamMember>(Filter::All).unwrap();
                assert!(left.is_empty(), "{name}: nothing half-written");
            }
        }
    }
}

#[test]
fn the_team_of_a_day_counts_those_arrived_and_not_yet_left() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, village) = open(&dir);
    let first = add_team_member(&mut store, &member(village)).unwrap();
    let mut other = member(village);
    other.name = "李华".into();
    other.role = "工作队员".into();
    other.start_date = Some(day("2025-01-10"));
    add_team_member(&mut store, &other).unwrap();
    end_team_member(&mut store, first, day("2025-02-28")).unwrap();
    let names = |d: &str| -> Vec<String> {
        team_on(&store, village, day(d))
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect()
    };
    assert_eq!(names("2024-06-01"), ["王明"]);
    assert_eq!(names("2025-02-01"), ["王明", "李华"]);
    assert_eq!(names("2025-02-28"), ["王明", "李华"]);
    assert_eq!(names("2025-03-01"), ["李华"]);
    // The whole team keeps the one who left, after those serving.
    let all = village_team(&store, village, day("2025-06-15")).unwrap();
    let shown: Vec<(&str, bool)> = all.iter().map(|m| (m.name.as_str(), m.serving)).collect();
    assert_eq!(shown, [("李华", true), ("王明", false)]);
    assert_eq!(all[1].line(), "第一书记 王明（县农业农村局 副局长）");
}

#[test]
fn leaving_is_recorded_once_and_not_before_arriving() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, village) = open(&dir);
    let id = add_team_member(&mut store, &member(village)).unwrap();
    let early = end_team_member(&mut store, id, day("2024-01-01")).unwrap_err();
    assert!(
        early.message_zh().contains("早于"),
        "{}",
        early.message_zh()
    );
    end_team_member(&mut store, id, day("2025-05-31")).unwrap();
    let again = end_team_member(&mut store, id, day("2025-06-01")).unwrap_err();
    assert_eq!(
        again.message_zh(),
        "王明 已于 2025-05-31 离村，不能再次登记离村。"
    );
    let found = find_team_member(&store, village, "王明").unwrap();
    assert_eq!(found.end_date, Some(day("2025-05-31")));
}
