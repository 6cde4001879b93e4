//! Who may do what on a shared laptop (issue 15, people and roles): the roles of a work team and
//! a township station, the permissions the core checks, the table between them, and how a
//! 证件号码 is masked for a role that does not need the full number.
//!
//! The table is data ([`PERMISSIONS`]), so one test reads it case by case and the 设置 → 人员
//! page can show it. People themselves (names, PINs, sign-in) live in `store::people`.

use serde::{Deserialize, Serialize};

use crate::error::UserFacing;

/// A person's role on this laptop.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 队员: files households and records visits.
    Member,
    /// 第一书记/队长: what a 队员 does, plus exit steps, conflicts, imports and full IDs.
    Leader,
    /// 乡镇管理员: merges files, ledgers with full IDs, trusts devices, resolves conflicts.
    TownshipAdmin,
    /// 只读: inspection; reads with masked IDs and writes nothing.
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Member,
        Role::Leader,
        Role::TownshipAdmin,
        Role::ReadOnly,
    ];

    /// The stable code kept in the `person` table.
    pub fn code(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Leader => "leader",
            Role::TownshipAdmin => "township_admin",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The name people know the role by.
    pub fn label(self) -> &'static str {
        match self {
            Role::Member => "队员",
            Role::Leader => "第一书记/队长",
            Role::TownshipAdmin => "乡镇管理员",
            Role::ReadOnly => "只读",
        }
    }

    /// Whether this role may do `permission`, as [`PERMISSIONS`] says.
    pub fn allows(self, permission: Permission) -> bool {
        permission.roles().contains(&self)
    }
}

/// Something the core checks before doing it for a signed-in person.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// File and edit households, members, incomes, measures, cadres (any local write).
    FileHouseholds,
    /// Record 走访记录.
    RecordVisits,
    /// Record, send back or undo 脱贫退出 steps; 返贫.
    ExitSteps,
    /// Settle a review item (conflict, deleted row with edits).
    ResolveConflicts,
    /// Import a changeset file (merge a village's or the township's file).
    ImportChanges,
    /// Export a 台帐 (masked IDs unless the role also has [`Permission::SeeFullIds`]).
    ExportLedgers,
    /// Confirm another device's 安全码 so its ops merge.
    TrustDevices,
    /// See and export full 证件号码 (exports with full IDs are written to the audit log).
    SeeFullIds,
    /// Add and disable people on this laptop.
    ManagePeople,
    /// Restore a backup (one from before people were added would give everyone full rights).
    RestoreBackups,
    /// Set a village's 村情: 农村人口, 贫困村 status, the 贫困村退出 checklist items with their
    /// 达标日期 and 佐证材料 (the figures the village's exit is judged on).
    SetVillageData,
    /// Change what holds for everyone: 脱贫标准 and policies (county-wide rows), the data
    /// file's passphrase, this laptop's name and its hub link.
    ChangeSettings,
    /// Move a household to another village (its 所属村 and 户编号, as after 易地扶贫搬迁 入住):
    /// the village's leader or the township decides it, not a 队员 at the door.
    MoveHouseholds,
}

use Role::{Leader, Member, ReadOnly, TownshipAdmin};

/// Who may do what. A village team's leader does everything the village needs; a township
/// station's administrator merges, trusts devices and exports, and records no exit step (the
/// township's 核查公告 is recorded by the village's leader from the township's notice, as the
/// procedure already has it); 只读 is an inspector reading ledgers with masked IDs.
pub const PERMISSIONS: &[(Permission, &[Role])] = &[
    (Permission::FileHouseholds, &[Member, Leader, TownshipAdmin]),
    (Permission::RecordVisits, &[Member, Leader, TownshipAdmin]),
    (Permission::ExitSteps, &[Leader]),
    (Permission::ResolveConflicts, &[Leader, TownshipAdmin]),
    (Permission::ImportChanges, &[Leader, TownshipAdmin]),
    (
        Permission::ExportLedgers,
        &[Member, Leader, TownshipAdmin, ReadOnly],
    ),
    (Permission::TrustDevices, &[TownshipAdmin]),
    (Permission::SeeFullIds, &[Leader, TownshipAdmin]),
    (Permission::ManagePeople, &[Leader, TownshipAdmin]),
    (Permission::RestoreBackups, &[Leader, TownshipAdmin]),
    (Permission::ChangeSettings, &[Leader, TownshipAdmin]),
    (Permission::SetVillageData, &[Leader, TownshipAdmin]),
    (Permission::MoveHouseholds, &[Leader, TownshipAdmin]),
];

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::FileHouseholds,
        Permission::RecordVisits,
        Permission::ExitSteps,
        Permission::ResolveConflicts,
        Permission::ImportChanges,
        Permission::ExportLedgers,
        Permission::TrustDevices,
        Permission::SeeFullIds,
        Permission::ManagePeople,
        Permission::RestoreBackups,
        Permission::ChangeSettings,
        Permission::SetVillageData,
        Permission::MoveHouseholds,
    ];

    /// The roles that may do this.
    pub fn roles(self) -> &'static [Role] {
        PERMISSIONS
            .iter()
            .find(|(p, _)| *p == self)
            .map_or(&[], |(_, roles)| roles)
    }

    /// What the permission lets a person do, as a refusal says it (办理退出步骤).
    pub fn action_zh(self) -> &'static str {
        match self {
            Permission::FileHouseholds => "录入或修改户的信息",
            Permission::RecordVisits => "记录走访",
            Permission::ExitSteps => "办理退出步骤",
            Permission::ResolveConflicts => "处理冲突",
            Permission::ImportChanges => "导入数据文件",
            Permission::ExportLedgers => "导出台帐",
            Permission::TrustDevices => "确认设备",
            Permission::SeeFullIds => "查看或导出完整证件号码",
            Permission::ManagePeople => "管理人员",
            Permission::RestoreBackups => "用备份恢复数据文件",
            Permission::ChangeSettings => "修改脱贫标准、政策、口令或同步设置",
            Permission::SetVillageData => "填写村情（农村人口、贫困村退出核对项目）",
            Permission::MoveHouseholds => "把户迁到另一个村（所属村和户编号）",
        }
    }
}

/// The person signed in on this copy, as the store checks and records them.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The `person` row's local id.
    pub person_id: i64,
    pub name: String,
    pub role: Role,
}

/// A refusal of the people and roles rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{action:?} needs one of {roles:?}; signed in: {role:?}")]
    NotAllowed {
        action: Permission,
        roles: &'static [Role],
        role: Option<Role>,
    },
    #[error("nobody is signed in on a file with people")]
    NotSignedIn,
    #[error("wrong PIN for {name}, {tries_left} tries left")]
    WrongPin { name: String, tries_left: u32 },
    #[error("{name} is locked out for {minutes} more minutes after wrong PINs")]
    TooManyTries { name: String, minutes: u64 },
    #[error("no person named {0:?}")]
    UnknownPerson(String),
    #[error("person {0:?} is disabled")]
    Disabled(String),
    #[error("bad PIN (4 to 8 digits)")]
    BadPin,
    #[error("bad person name {0:?}")]
    BadName(String),
    #[error("a person named {0:?} exists")]
    NameTaken(String),
    #[error("the first person must be able to manage people")]
    FirstPersonManages,
    #[error("disabling {0:?} would leave nobody who can manage people")]
    LastManager(String),
    #[error("{actor:?} may not give or reset the role {role:?}, which may do more")]
    BeyondOwnRole { actor: Role, role: Role },
}

/// The shortest and longest PIN, in digits.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=8;
/// Wrong PINs in a row before a person must wait.
pub const PIN_TRIES: u32 = 5;
/// How long a person waits after [`PIN_TRIES`] wrong PINs; each further lockout before a right
/// PIN doubles it, up to [`PIN_LOCKOUT_MAX_MINUTES`].
pub const PIN_LOCKOUT_MINUTES: u64 = 5;
/// The longest wait after wrong PINs: a day.
pub const PIN_LOCKOUT_MAX_MINUTES: u64 = 24 * 60;
/// The longest person name, in characters.
pub const PERSON_NAME_MAX_CHARS: usize = 20;

/// "第一书记、队长或乡镇管理员": the roles, as people read them in a refusal.
fn roles_zh(roles: &[Role]) -> String {
    let words: Vec<&str> = roles
        .iter()
        .flat_map(|r| match r {
            // "第一书记/队长" reads as two people inside a sentence.
            Role::Leader => vec!["第一书记", "队长"],
            other => vec![other.label()],
        })
        .collect();
    match words.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{}或{last}", rest.join("、")),
        None => String::new(),
    }
}

impl UserFacing for AccessError {
    fn kind(&self) -> &'static str {
        match self {
            AccessError::NotAllowed { .. } => "not_allowed",
            AccessError::NotSignedIn => "not_signed_in",
            AccessError::WrongPin { .. } => "wrong_pin",
            AccessError::TooManyTries { .. } => "too_many_tries",
            AccessError::UnknownPerson(_) => "unknown_person",
            AccessError::Disabled(_) => "person_disabled",
            AccessError::BadPin => "bad_pin",
            AccessError::BadName(_) => "bad_person_name",
            AccessError::NameTaken(_) => "person_name_taken",
            AccessError::FirstPersonManages => "first_person_manages",
            AccessError::LastManager(_) => "last_manager",
            AccessError::BeyondOwnRole { .. } => "beyond_own_role",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            AccessError::NotAllowed {
                action,
                roles,
                role,
            } => {
                let who = match role {
                    Some(role) => format!("您的角色是{}。", role.label()),
                    None => String::new(),
                };
                format!(
                    "只有{}可以{}。{who}请让有权限的人登录后再办理。",
                    roles_zh(roles),
                    action.action_zh()
                )
            }
            AccessError::NotSignedIn => "这台电脑已设置人员，请先用姓名和 PIN 码登录。".into(),
            AccessError::WrongPin { name, tries_left } => {
                format!("{name}的 PIN 码不对，请重新输入（还可以再试 {tries_left} 次）。")
            }
            AccessError::TooManyTries { name, minutes } => format!(
                "{name}的 PIN 码连续输错 {PIN_TRIES} 次，请 {minutes} 分钟后再试；忘记 PIN 码请找第一书记、队长或乡镇管理员重新设置。"
            ),
            AccessError::UnknownPerson(name) => {
                format!("这台电脑上没有叫“{name}”的人员，请核对姓名。")
            }
            AccessError::Disabled(name) => {
                format!("“{name}”已被停用，不能登录。请找第一书记、队长或乡镇管理员。")
            }
            AccessError::BadPin => format!(
                "PIN 码要由 {} 到 {} 位数字组成。",
                PIN_DIGITS.start(),
                PIN_DIGITS.end()
            ),
            AccessError::BadName(_) => format!("姓名不能为空，最多 {PERSON_NAME_MAX_CHARS} 个字。"),
            AccessError::NameTaken(name) => {
                format!("已经有叫“{name}”的人员了，请换一个名字（可加上编号区分）。")
            }
            AccessError::FirstPersonManages => {
                "第一个人员必须是第一书记/队长或乡镇管理员：以后添加和停用人员都由他们办理。".into()
            }
            AccessError::LastManager(name) => format!(
                "停用“{name}”后就没有人能管理人员了。请先添加另一位第一书记/队长或乡镇管理员。"
            ),
            AccessError::BeyondOwnRole { actor, role } => format!(
                "{actor_label}不能添加{role_label}，也不能重设{role_label}的 PIN 码：{role_label}能办的事超出了{actor_label}的权限。",
                actor_label = actor.label(),
                role_label = role.label(),
            ),
        }
    }
}

/// A 证件号码 as a role without [`Permission::SeeFullIds`] sees it: the area code (6) and the
/// last 4 kept, everything between starred (`530826********1234`; a 20-digit 残疾人证 number
/// keeps its last 4 too). Anything shorter than 11 characters is starred whole but for its
/// last 4, so a partial number typed by mistake does not leak either.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = if n >= 11 { (6, 4) } else { (0, n.min(4)) };
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// The fields shown masked, as [`mask_id_number`] masks them, to a role without
/// [`Permission::SeeFullIds`]: a member's 证件号码 and the household's 银行卡号.
pub fn is_masked_field(name: &str) -> bool {
    matches!(name, "id_number" | "bank_account")
}

/// Every run of 16 to 20 digits in a message (an 18-digit ID, which may end in X, a 20-digit
/// 残疾人证 number, a 银行卡号, or an ID typed with a digit too many or too few), masked; and
/// how many there were. A run of 15 digits is left alone: it is far more often a 户编号 than an
/// ID of the old 15-digit form (see [`mask_ids_in_text_known`]).
pub fn mask_ids_in_text(text: &str) -> (String, u64) {
    mask_ids_in_text_known(text, &std::collections::HashSet::new())
}

/// [`mask_ids_in_text`], and a run of 15 digits masked too when it is one of `known_15`, the
/// 15-digit 证件号码 of the file's members (an old-form ID a message names).
///
/// A number typed in groups (`6228 4801 2345 6789 012`, `530826-19800101-1234`: a 疑点 names
/// it because of the spaces) counts as one run: groups of at least 3 digits joined by one
/// space or dash, none of them 15 digits long (a 户编号 next to another number stays apart).
pub fn mask_ids_in_text_known(
    text: &str,
    known_15: &std::collections::HashSet<String>,
) -> (String, u64) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut found = 0;
    let mut i = 0;
    // One group: digits, and an X or x right after 17 of them.
    let group_at = |start: usize| -> usize {
        let mut end = start;
        while end < chars.len() && chars[end].is_ascii_digit() {
            end += 1;
        }
        if end > start && end < chars.len() && matches!(chars[end], 'X' | 'x') {
            end += 1;
        }
        end
    };
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut groups = vec![(i, group_at(i))];
        loop {
            let (start, end) = *groups.last().unwrap_or(&(i, i));
            let next = end + 1;
            let joinable = |s: usize, e: usize| e - s >= 3 && e - s != 15;
            if end < chars.len()
                && matches!(chars[end], ' ' | '-')
                && next < chars.len()
                && chars[next].is_ascii_digit()
                && joinable(start, end)
            {
                let next_end = group_at(next);
                if joinable(next, next_end) {
                    groups.push((next, next_end));
                    continue;
                }
            }
            break;
        }
        let (_, last) = groups[groups.len() - 1];
        let digits: String = groups
            .iter()
            .flat_map(|(s, e)| chars[*s..*e].iter())
            .collect();
        let n = digits.chars().count();
        // A lone group, or groups that make a number: masked as one.
        let masked = if groups.len() == 1 {
            (16..=20).contains(&n) || (n == 15 && known_15.contains(digits.as_str()))
        } else {
            (15..=20).contains(&n)
        };
        if masked {
            found += 1;
            out.push_str(&mask_id_number(&digits));
            i = last;
        } else {
            // Not one number: the first group goes as it is, the rest are looked at anew.
            let (s, e) = groups[0];
            out.extend(&chars[s..e]);
            i = e;
        }
    }
    (out, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, case by case: role, permission, allowed.
    #[test]
    fn the_role_table_reads_as_the_issue_says() {
        use Permission as P;
        // (permission, 队员, 第一书记/队长, 乡镇管理员, 只读)
        let expected: &[(P, [bool; 4])] = &[
            (P::FileHouseholds, [true, true, true, false]),
            (P::RecordVisits, [true, true, true, false]),
            (P::ExitSteps, [false, true, false, false]),
            (P::ResolveConflicts, [false, true, true, false]),
            (P::ImportChanges, [false, true, true, false]),
            (P::ExportLedgers, [true, true, true, true]),
            (P::TrustDevices, [false, false, true, false]),
            (P::SeeFullIds, [false, true, true, false]),
            (P::ManagePeople, [false, true, true, false]),
            (P::RestoreBackups, [false, true, true, false]),
            (P::ChangeSettings, [false, true, true, false]),
            (P::SetVillageData, [false, true, true, false]),
            (P::MoveHouseholds, [false, true, true, false]),
        ];
        assert_eq!(expected.len(), Permission::ALL.len());
        for (permission, allowed) in expected {
            for (role, want) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(
                    role.allows(*permission),
                    *want,
                    "{} {:?}",
                    role.label(),
                    permission
                );
            }
        }
    }

    #[test]
    fn every_permission_is_in_the_table_once() {
        for p in Permission::ALL {
            assert_eq!(
                PERMISSIONS.iter().filter(|(q, _)| *q == p).count(),
                1,
                "{p:?}"
            );
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("admin"), None);
    }

    #[test]
    fn ids_are_masked_keeping_area_and_last_four() {
        let cases = [
            ("530826198001011234", "530826********1234"),
            ("53082619800101123X", "530826********123X"),
            ("53082619800101123411", "530826**********3411"),
            ("530826800101123", "530826*****1123"),
            ("1234567", "***4567"),
            ("123", "123"),
            ("", ""),
        ];
        for (id, masked) in cases {
            assert_eq!(mask_id_number(id), masked, "{id}");
        }
    }

    #[test]
    fn ids_inside_messages_are_masked() {
        let cases = [
            (
                "证件号码 530826198001011234 在本户出现2次",
                "证件号码 530826********1234 在本户出现2次",
                1,
            ),
            ("户编号530826103201001重复", "户编号530826103201001重复", 0),
            ("收入 12003 元", "收入 12003 元", 0),
            (
                "53082619800101123X、530826198001011234",
                "530826********123X、530826********1234",
                2,
            ),
            // An ID typed with a digit too few or too many, and a 银行卡号.
            (
                "证件号码 53082619800101123 位数不对",
                "证件号码 530826*******1123 位数不对",
                1,
            ),
            (
                "银行卡号 6228480123456789012 不全是数字",
                "银行卡号 622848*********9012 不全是数字",
                1,
            ),
            // Typed in groups: one number all the same.
            (
                "银行卡号 6228 4801 2345 6789 012 不全是数字",
                "银行卡号 622848*********9012 不全是数字",
                1,
            ),
            (
                "证件号码 530826-19800101-1234 含有空格",
                "证件号码 530826********1234 含有空格",
                1,
            ),
            // A 户编号 beside another number stays as it is.
            (
                "户530826103201001 2019年 3 人",
                "户530826103201001 2019年 3 人",
                0,
            ),
        ];
        for (text, masked, n) in cases {
            assert_eq!(mask_ids_in_text(text), (masked.to_owned(), n), "{text}");
        }
    }

    #[test]
    fn an_old_15_digit_id_in_a_message_is_masked_when_it_is_a_members_id() {
        let known: std::collections::HashSet<String> = ["530826800101123".to_owned()].into();
        let text = "证件号码 530826800101123 为15位旧号；户编号 530826103201001";
        assert_eq!(
            mask_ids_in_text_known(text, &known),
            (
                "证件号码 530826*****1123 为15位旧号；户编号 530826103201001".to_owned(),
                1
            )
        );
    }

    #[test]
    fn a_refusal_names_the_roles_needed() {
        let e = AccessError::NotAllowed {
            action: Permission::ExitSteps,
            roles: Permission::ExitSteps.roles(),
            role: Some(Role::Member),
        };
        assert_eq!(
            e.message_zh(),
            "只有第一书记或队长可以办理退出步骤。您的角色是队员。请让有权限的人登录后再办理。"
        );
        let e = AccessError::NotAllowed {
            action: Permission::ImportChanges,
            roles: Permission::ImportChanges.roles(),
            role: Some(Role::ReadOnly),
        };
        assert_eq!(
            e.message_zh(),
            "只有第一书记、队长或乡镇管理员可以导入数据文件。您的角色是只读。请让有权限的人登录后再办理。"
        );
    }
}
