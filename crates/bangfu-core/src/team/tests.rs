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

/// The 修改 dialog as a person fills it: the member as loaded, the base, `edit` applied.
fn edit_of(store: &Store, id: Uuid, edit: impl FnOnce(&mut TeamMemberEdit)) -> TeamMemberEdit {
    let sheet = team_member_sheet(store, id).unwrap();
    let m = sheet.member;
    let mut out = TeamMemberEdit {
        id,
        base: sheet.base,
        member: NewTeamMember {
            village_id: m.village_id,
            name: m.name,
            sex: m.sex,
            role: m.role,
            unit: m.unit,
            unit_level: m.unit_level,
            post: m.post,
            phone: m.phone,
            start_date: m.start_date,
            note: m.note,
        },
        end_date: m.end_date,
    };
    edit(&mut out);
    out
}

#[test]
fn an_edit_sets_what_was_changed_or_is_refused_in_chinese_with_nothing_written() {
    type Edit = fn(&mut TeamMemberEdit);
    let cases: &[(&str, Edit, Result<&str, &str>)] = &[
        (
            "post and phone",
            |e| {
                e.member.post = "局长".into();
                e.member.phone = "13900001111".into();
            },
            Ok("第一书记 王明（县农业农村局 局长） 13900001111"),
        ),
        (
            "role by label, unit",
            |e| {
                e.member.role = "第一书记兼工作队长".into();
                e.member.unit = "县财政局".into();
            },
            Ok("第一书记兼工作队长 王明（县财政局 副局长） 13987654321"),
        ),
        (
            "name",
            |e| e.member.name = "王小明".into(),
            Ok("第一书记 王小明（县农业农村局 副局长） 13987654321"),
        ),
        (
            "left before arriving",
            |e| e.end_date = Some(day("2024-02-01")),
            Err("离村日期 2024-02-01 早于驻村日期 2024-03-01"),
        ),
        (
            "arrival moved after leaving",
            |e| {
                e.end_date = Some(day("2024-12-31"));
                e.member.start_date = Some(day("2025-01-05"));
            },
            Err("早于驻村日期 2025-01-05"),
        ),
        (
            "arrival in the future",
            |e| e.member.start_date = Some(day("2025-07-01")),
            Err("晚于今天"),
        ),
        ("no name", |e| e.member.name = " ".into(), Err("姓名")),
        (
            "bad phone",
            |e| e.member.phone = "12".into(),
            Err("联系电话"),
        ),
        (
            "unknown role",
            |e| e.member.role = "组长".into(),
            Err("队内职务“组长”不在表内"),
        ),
        (
            "another village",
            |e| e.member.village_id = Uuid::now_v7(),
            Err("不能换到别的村"),
        ),
        (
            "another member's base",
            |e| e.base.id = Uuid::now_v7(),
            Err("不是同一位"),
        ),
    ];
    for (name, edit, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, village) = open(&dir);
        let id = add_team_member(&mut store, &member(village)).unwrap();
        let before = village_team(&store, village, store.today()).unwrap();
        let typed = edit_of(&store, id, *edit);
        let result = set_team_member(&mut store, &typed);
        let after = village_team(&store, village, store.today()).unwrap();
        match expected {
            Ok(line) => {
                assert!(result.is_ok(), "{name}: {result:?}");
                assert_eq!(
                    format!("{} {}", after[0].line(), after[0].phone),
                    *line,
                    "{name}"
                );
            }
            Err(words) => {
                let message = result.expect_err(name).message_zh();
                assert!(message.contains(words), "{name}: {message}");
                assert_eq!(after, before, "{name}: nothing half-written");
            }
        }
    }
}

/// Two people edit the same member: the later save writes only the fields its person
/// changed, so the other's 职务 stays; a field both changed becomes a conflict (two heads),
/// never a silent overwrite.
#[test]
fn an_edit_over_a_stale_dialog_keeps_the_other_edit_and_conflicts_on_the_same_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, village) = open(&dir);
    let id = add_team_member(&mut store, &member(village)).unwrap();
    let first = edit_of(&store, id, |e| e.member.phone = "13900002222".into());
    let second = edit_of(&store, id, |e| {
        e.member.post = "局长".into();
        e.member.phone = "13900003333".into();
    });
    set_team_member(&mut store, &second).unwrap();
    set_team_member(&mut store, &first).unwrap();
    let now = store.get::<TeamMember>(id).unwrap();
    assert_eq!(now.post, "局长", "the first dialog did not touch 职务");
    let heads = store.row_heads_by_field(id).unwrap();
    assert_eq!(heads["phone"].len(), 2, "{heads:?}");
    assert_eq!(heads["post"].len(), 1, "{heads:?}");
    // An unchanged dialog writes nothing.
    let unchanged = edit_of(&store, id, |_| {});
    let ops = store.op_count().unwrap();
    set_team_member(&mut store, &unchanged).unwrap();
    assert_eq!(store.op_count().unwrap(), ops);
}

#[test]
fn the_command_line_sets_given_fields_and_clears_a_mistaken_leave() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, village) = open(&dir);
    let id = add_team_member(&mut store, &member(village)).unwrap();
    end_team_member(&mut store, id, day("2025-05-31")).unwrap();
    set_team_fields(
        &mut store,
        id,
        &[
            TeamField::Post("局长".into()),
            TeamField::UnitLevel("市直".into()),
            TeamField::End(None),
        ],
    )
    .unwrap();
    let m = store.get::<TeamMember>(id).unwrap();
    assert_eq!(
        (m.post.as_str(), m.unit_level.as_str(), m.end_date),
        ("局长", "2", None)
    );
    let refused = set_team_fields(&mut store, id, &[TeamField::Start(day("2025-09-01"))])
        .unwrap_err()
        .message_zh();
    assert!(refused.contains("晚于今天"), "{refused}");
    let bad_level = set_team_fields(&mut store, id, &[TeamField::UnitLevel("部委".into())])
        .unwrap_err()
        .message_zh();
    assert!(bad_level.contains("单位隶属“部委”不在表内"), "{bad_level}");
}
