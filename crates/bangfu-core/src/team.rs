//! 驻村工作队 (issue 17): the people of a village's resident work team (第一书记, 队长, 队员)
//! as replicated, village-scoped records: who was sent by which unit, from when to when.
//!
//! A member is a `team_member` row written through `Store::write` (checked like the household
//! page's records), so it travels in changesets and through the hub like any row, and only to
//! its village's copies: the hub files it by its `village_id` (`model::village_ref_field`) and
//! a copy refuses a village device's file that touches another village's team
//! (`sync::trust`). Leaving the village (离村) sets the 离村日期 and keeps the row, so the
//! team of any past day can be named on a card or in the archive. Editing a member
//! (`set_team_member`, the page's 修改 dialog) writes only the fields the person changed over the
//! heads the dialog loaded, like the household page, so an edit that arrived meanwhile is kept
//! or becomes a conflict; `set_team_fields` is the command line's.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::access::Permission;
use crate::error::UserFacing;
use crate::model::{FieldType, FieldValue, Table, TeamMember, Village, codes};
use crate::page_base::RowBase;
use crate::store::{Change, Filter, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no village {0}")]
    UnknownVillage(String),
    #[error("several villages with code {0}")]
    AmbiguousVillage(String),
    #[error("no team member {0}")]
    UnknownMember(String),
    #[error("several team members match {0}")]
    AmbiguousMember(String),
    #[error("unknown team role {0}")]
    UnknownRole(String),
    #[error("unknown sex {0}")]
    UnknownSex(String),
    #[error("unknown unit level {0}")]
    UnknownUnitLevel(String),
    #[error("{name} already left on {date}")]
    AlreadyLeft { name: String, date: NaiveDate },
    #[error("the edit names member {edited}, its base {base}")]
    BaseMismatch { edited: Uuid, base: Uuid },
    #[error("an edit moves {name} to another village")]
    OtherVillage { name: String },
}

impl UserFacing for TeamError {
    fn kind(&self) -> &'static str {
        match self {
            TeamError::Store(e) => e.kind(),
            TeamError::UnknownVillage(_) => "unknown_village",
            TeamError::AmbiguousVillage(_) => "ambiguous_village",
            TeamError::UnknownMember(_) => "unknown_team_member",
            TeamError::AmbiguousMember(_) => "ambiguous_team_member",
            TeamError::UnknownRole(_) => "unknown_team_role",
            TeamError::UnknownUnitLevel(_) => "unknown_unit_level",
            TeamError::UnknownSex(_) => "unknown_sex",
            TeamError::AlreadyLeft { .. } => "team_member_left",
            TeamError::BaseMismatch { .. } => "team_member_base_mismatch",
            TeamError::OtherVillage { .. } => "team_member_other_village",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            TeamError::Store(e) => e.message_zh(),
            TeamError::UnknownVillage(code) => {
                format!("本数据文件中没有村代码为 {code} 的村，请核对 12 位村代码。")
            }
            TeamError::AmbiguousVillage(code) => {
                format!("村代码 {code} 对应多个村，请先在“冲突与重复”中核对。")
            }
            TeamError::UnknownMember(who) => format!("本村驻村工作队中没有“{who}”。"),
            TeamError::AmbiguousMember(who) => {
                format!("本村驻村工作队中有多人叫“{who}”，请用编号指明是哪一位。")
            }
            TeamError::UnknownRole(text) => format!(
                "队内职务“{text}”不在表内，应为：{}。",
                labels(&codes::TEAM_ROLE)
            ),
            TeamError::UnknownUnitLevel(text) => format!(
                "单位隶属“{text}”不在表内，应为：{}。",
                labels(&codes::UNIT_LEVEL)
            ),
            TeamError::UnknownSex(text) => format!("性别“{text}”应为男或女。"),
            TeamError::AlreadyLeft { name, date } => {
                format!("{name} 已于 {date} 离村，不能再次登记离村。")
            }
            TeamError::BaseMismatch { .. } => {
                "修改所依据的队员和要保存的队员不是同一位，请关闭对话框重新打开后再改。".into()
            }
            TeamError::OtherVillage { name } => format!(
                "{name} 是本村驻村工作队的队员，修改时不能换到别的村；到别村驻村请在那个村另行登记。"
            ),
        }
    }
}

fn labels(list: &codes::CodeList) -> String {
    list.entries
        .iter()
        .map(|(_, l)| *l)
        .collect::<Vec<_>>()
        .join("、")
}

/// A team member as typed (on the 驻村工作队 page or `bangfu team add`): the role and 单位隶属
/// as their codes or their labels.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct NewTeamMember {
    pub village_id: Uuid,
    pub name: String,
    /// 性别 code or label (男/女), may be empty.
    pub sex: String,
    /// 队内职务 code or label: 第一书记, 第一书记兼工作队长, 工作队长, 工作队员.
    pub role: String,
    pub unit: String,
    /// 单位隶属 code or label (省直 … 村级), may be empty.
    pub unit_level: String,
    pub post: String,
    pub phone: String,
    #[ts(type = "string | null")]
    pub start_date: Option<NaiveDate>,
    pub note: String,
}

/// One member of a village's team as the page, the card and the archive list show it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct TeamEntry {
    pub id: Uuid,
    pub village_id: Uuid,
    pub name: String,
    pub sex: String,
    /// 队内职务 as the forms say it.
    pub role: String,
    pub role_code: String,
    pub unit: String,
    /// 单位隶属 as the forms say it.
    pub unit_level: String,
    pub post: String,
    pub phone: String,
    #[ts(type = "string | null")]
    pub start_date: Option<NaiveDate>,
    #[ts(type = "string | null")]
    pub end_date: Option<NaiveDate>,
    pub note: String,
    /// Still in the village on the day asked about (today for the page).
    pub serving: bool,
}

impl TeamEntry {
    fn of(m: &TeamMember, day: NaiveDate) -> TeamEntry {
        TeamEntry {
            id: m.id,
            village_id: m.village_id.unwrap_or_default(),
            name: m.name.clone(),
            sex: codes::SEX.label(&m.sex).unwrap_or_default().to_owned(),
            role: codes::TEAM_ROLE
                .label(&m.role)
                .unwrap_or(&m.role)
                .to_owned(),
            role_code: m.role.clone(),
            unit: m.unit.clone(),
            unit_level: codes::UNIT_LEVEL
                .label(&m.unit_level)
                .unwrap_or_default()
                .to_owned(),
            post: m.post.clone(),
            phone: m.phone.clone(),
            start_date: m.start_date,
            end_date: m.end_date,
            note: m.note.clone(),
            serving: serving_on(m, day),
        }
    }

    /// "第一书记 王明（县农业局 副局长）": how a card or list names the person.
    pub fn line(&self) -> String {
        let mut unit = self.unit.clone();
        if !self.post.is_empty() {
            unit = format!("{unit} {}", self.post);
        }
        format!("{} {}（{}）", self.role, self.name, unit.trim())
    }
}

/// Whether a member was in the village on `day`: arrived on or before it, not left before it.
pub fn serving_on(m: &TeamMember, day: NaiveDate) -> bool {
    m.start_date.is_none_or(|s| s <= day) && m.end_date.is_none_or(|e| e >= day)
}

/// The code of a value typed as its code or label; empty stays empty.
fn code_or_label(
    list: &'static codes::CodeList,
    text: &str,
    unknown: fn(String) -> TeamError,
) -> Result<String, TeamError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    list.code_of(text)
        .map(str::to_owned)
        .ok_or_else(|| unknown(text.to_owned()))
}

/// Adds a member to a village's team (checked like every record: name, role, 派出单位 and
/// 驻村日期 required, not in the future, a phone that is a phone). Returns the new row's id.
pub fn add_team_member(store: &mut Store, new: &NewTeamMember) -> Result<Uuid, TeamError> {
    store.require(Permission::FileHouseholds)?;
    village(store, new.village_id)?;
    let member = member_of(new, Uuid::now_v7(), None)?;
    store.put(&member)?;
    Ok(member.id)
}

/// The record a form's fields make, names and codes trimmed and checked.
fn member_of(
    new: &NewTeamMember,
    id: Uuid,
    end_date: Option<NaiveDate>,
) -> Result<TeamMember, TeamError> {
    Ok(TeamMember {
        id,
        village_id: Some(new.village_id),
        name: new.name.trim().to_owned(),
        sex: code_or_label(&codes::SEX, &new.sex, TeamError::UnknownSex)?,
        role: code_or_label(&codes::TEAM_ROLE, &new.role, TeamError::UnknownRole)?,
        unit: new.unit.trim().to_owned(),
        unit_level: code_or_label(
            &codes::UNIT_LEVEL,
            &new.unit_level,
            TeamError::UnknownUnitLevel,
        )?,
        post: new.post.trim().to_owned(),
        phone: new.phone.trim().to_owned(),
        start_date: new.start_date,
        end_date,
        note: new.note.trim().to_owned(),
    })
}

/// Records that a member left the village (离村日期); the row stays, so the team of a past day
/// still names them.
pub fn end_team_member(store: &mut Store, id: Uuid, end: NaiveDate) -> Result<(), TeamError> {
    store.require(Permission::FileHouseholds)?;
    let member = match store.get::<TeamMember>(id) {
        Ok(m) => m,
        Err(StoreError::NotFound { .. }) => return Err(TeamError::UnknownMember(id.to_string())),
        Err(e) => return Err(e.into()),
    };
    if let Some(date) = member.end_date {
        return Err(TeamError::AlreadyLeft {
            name: member.name,
            date,
        });
    }
    store.write(&[Change::Put {
        table: Table::TeamMember,
        id,
        fields: vec![("end_date", Some(end).to_value())],
    }])?;
    Ok(())
}

/// A member as the 修改 dialog loads it: the row and the heads its save is written over.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct TeamMemberSheet {
    pub member: TeamEntry,
    pub base: RowBase,
}

/// A member as the 修改 dialog saves it: every field as typed (role, sex and 单位隶属 as codes
/// or labels, like [`NewTeamMember`]), and the base it was loaded with.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct TeamMemberEdit {
    pub id: Uuid,
    pub base: RowBase,
    pub member: NewTeamMember,
    #[ts(type = "string | null")]
    pub end_date: Option<NaiveDate>,
}

/// The member `id` with the heads of its fields, for the 修改 dialog.
pub fn team_member_sheet(store: &Store, id: Uuid) -> Result<TeamMemberSheet, TeamError> {
    let member = stored_member(store, id)?;
    Ok(TeamMemberSheet {
        member: TeamEntry::of(&member, store.today()),
        base: RowBase {
            id,
            heads: store.row_heads_by_field(id)?,
        },
    })
}

/// Saves the 修改 dialog: 姓名, 性别, 队内职务, 派出单位, 单位隶属, 职务, 联系电话, 驻村日期, 离村日期
/// and 备注, only those the person changed, written over the loaded heads through
/// `Store::write` (checked as a new member is: 离村 not before 驻村, 驻村 not in the future …).
/// The member stays in its village.
pub fn set_team_member(store: &mut Store, edit: &TeamMemberEdit) -> Result<(), TeamError> {
    store.require(Permission::FileHouseholds)?;
    if edit.base.id != edit.id {
        return Err(TeamError::BaseMismatch {
            edited: edit.id,
            base: edit.base.id,
        });
    }
    let current = stored_member(store, edit.id)?;
    let new = &edit.member;
    if current.village_id != Some(new.village_id) {
        return Err(TeamError::OtherVillage { name: current.name });
    }
    let edited = member_of(new, current.id, edit.end_date)?;
    let mut changes = Vec::new();
    store.put_over(&edited, &edit.base, &mut changes)?;
    if !changes.is_empty() {
        store.write(&changes)?;
    }
    Ok(())
}

/// A field of a member `bangfu team set` may change, with its value as typed.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamField {
    Name(String),
    Sex(String),
    Role(String),
    Unit(String),
    UnitLevel(String),
    Post(String),
    Phone(String),
    Start(NaiveDate),
    /// 离村日期; none clears it (a 离村 recorded by mistake).
    End(Option<NaiveDate>),
    Note(String),
}

/// Sets fields of a member (`bangfu team set`): each as typed, the row as it will be checked
/// as the dialog's save is, in one write through `Store::write`.
pub fn set_team_fields(store: &mut Store, id: Uuid, fields: &[TeamField]) -> Result<(), TeamError> {
    store.require(Permission::FileHouseholds)?;
    stored_member(store, id)?;
    let text = |s: &str| FieldValue::Text(s.trim().to_owned());
    let mut values: Vec<(&'static str, FieldValue)> = Vec::new();
    for field in fields {
        values.push(match field {
            TeamField::Name(v) => ("name", text(v)),
            TeamField::Sex(v) => (
                "sex",
                FieldValue::Text(code_or_label(&codes::SEX, v, TeamError::UnknownSex)?),
            ),
            TeamField::Role(v) => (
                "role",
                FieldValue::Text(code_or_label(&codes::TEAM_ROLE, v, TeamError::UnknownRole)?),
            ),
            TeamField::Unit(v) => ("unit", text(v)),
            TeamField::UnitLevel(v) => (
                "unit_level",
                FieldValue::Text(code_or_label(
                    &codes::UNIT_LEVEL,
                    v,
                    TeamError::UnknownUnitLevel,
                )?),
            ),
            TeamField::Post(v) => ("post", text(v)),
            TeamField::Phone(v) => ("phone", text(v)),
            TeamField::Start(d) => ("start_date", Some(*d).to_value()),
            TeamField::End(d) => ("end_date", d.to_value()),
            TeamField::Note(v) => ("note", text(v)),
        });
    }
    if values.is_empty() {
        return Ok(());
    }
    store.write(&[Change::Put {
        table: Table::TeamMember,
        id,
        fields: values,
    }])?;
    Ok(())
}

/// The stored member `id`.
fn stored_member(store: &Store, id: Uuid) -> Result<TeamMember, TeamError> {
    match store.get::<TeamMember>(id) {
        Ok(m) => Ok(m),
        Err(StoreError::NotFound { .. }) => Err(TeamError::UnknownMember(id.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// A village's whole team, past members included: serving ones first, then by role (第一书记
/// first) and 驻村日期. `day` decides who is serving.
pub fn village_team(
    store: &Store,
    village_id: Uuid,
    day: NaiveDate,
) -> Result<Vec<TeamEntry>, TeamError> {
    let mut members: Vec<TeamEntry> = store
        .read::<TeamMember>(Filter::OfVillage(village_id))?
        .iter()
        .map(|m| TeamEntry::of(m, day))
        .collect();
    members.sort_by(|a, b| {
        (!a.serving, &a.role_code, a.start_date, &a.name).cmp(&(
            !b.serving,
            &b.role_code,
            b.start_date,
            &b.name,
        ))
    });
    Ok(members)
}

/// The team serving a village on `day` (the card's 驻村工作队), 第一书记 first.
pub fn team_on(
    store: &Store,
    village_id: Uuid,
    day: NaiveDate,
) -> Result<Vec<TeamEntry>, TeamError> {
    let mut team = village_team(store, village_id, day)?;
    team.retain(|m| m.serving);
    Ok(team)
}

/// The member of a village's team named by `who`: their id, or their name when only one
/// member has it.
pub fn find_team_member(
    store: &Store,
    village_id: Uuid,
    who: &str,
) -> Result<TeamMember, TeamError> {
    let who = who.trim();
    let members = store.read::<TeamMember>(Filter::OfVillage(village_id))?;
    if let Ok(id) = Uuid::parse_str(who)
        && let Some(m) = members.iter().find(|m| m.id == id)
    {
        return Ok(m.clone());
    }
    let mut named: Vec<TeamMember> = members.into_iter().filter(|m| m.name == who).collect();
    match named.len() {
        0 => Err(TeamError::UnknownMember(who.to_owned())),
        1 => Ok(named.remove(0)),
        _ => Err(TeamError::AmbiguousMember(who.to_owned())),
    }
}

/// The live village with this id.
fn village(store: &Store, id: Uuid) -> Result<Village, TeamError> {
    match store.get::<Village>(id) {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound { .. }) => Err(TeamError::UnknownVillage(id.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// The live village with this 12-digit code.
pub fn village_by_code(store: &Store, code: &str) -> Result<Village, TeamError> {
    let mut found: Vec<Village> = store
        .read::<Village>(Filter::All)?
        .into_iter()
        .filter(|v| v.code == code.trim())
        .collect();
    match found.len() {
        0 => Err(TeamError::UnknownVillage(code.trim().to_owned())),
        1 => Ok(found.remove(0)),
        _ => Err(TeamError::AmbiguousVillage(code.trim().to_owned())),
    }
}

#[cfg(test)]
mod tests;
