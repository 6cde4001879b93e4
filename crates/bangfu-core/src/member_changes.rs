//! 增员/减员: a person joining or leaving a filed household, with the date and reason of the
//! forms, kept on the member's row instead of deleting it (so past years keep their people,
//! `model::derived::present_in_year`), and the ledger of a household's member changes.
//!
//! Both changes are saved through the household page's own checked save
//! (`Store::file_household_page` against the page's base): they are ops on the member's fields
//! like any edit, refused where the page refuses, synced and in conflict like any field.
//!
//! Deleting a member stays possible for a person typed by mistake (the page's 删除 of a row,
//! `bangfu delete`-style corrections): a mistake has no past to keep. A person who really lived
//! in the household leaves by 减员.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::error::UserFacing;
use crate::filing::FilingOutcome;
use crate::model::codes::{self, CodeList};
use crate::model::{Member, derived};
use crate::store::{Filter, Store, StoreError};

/// Other words the forms and people use for the reasons of the lists (typed in the CLI or read
/// from a roll), each with the list's own label it means.
const REASON_WORDS: &[(&str, &str)] = &[
    ("去世", "死亡"),
    ("病故", "死亡"),
    ("嫁出", "婚出"),
    ("出嫁", "婚出"),
    ("婚出/嫁出", "婚出"),
    ("外出落户", "户口迁出"),
    ("迁出", "户口迁出"),
    ("户籍迁出", "户口迁出"),
    ("入伍", "参军"),
    ("其它", "其他"),
    ("出生", "新生儿"),
    ("新生", "新生儿"),
    ("娶进", "婚入"),
    ("嫁入", "婚入"),
    ("婚入/娶进", "婚入"),
];

#[derive(Debug, thiserror::Error)]
pub enum MemberChangeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("member {id} not found")]
    MemberNotFound { id: Uuid },
    #[error("member {name} already left on {date}")]
    AlreadyLeft { name: String, date: NaiveDate },
    #[error("member {name} has not left")]
    NotLeft { name: String },
    #[error("unknown {} reason {text}", list.key)]
    UnknownReason {
        list: &'static CodeList,
        text: String,
    },
    #[error("new head {id} is not a current member of the household")]
    BadNewHead { id: Uuid },
    #[error("the head {name} leaves without a new head")]
    HeadLeavesAlone { name: String },
}

impl UserFacing for MemberChangeError {
    fn kind(&self) -> &'static str {
        match self {
            MemberChangeError::Store(e) => e.kind(),
            MemberChangeError::MemberNotFound { .. } => "member_not_found",
            MemberChangeError::AlreadyLeft { .. } => "member_already_left",
            MemberChangeError::NotLeft { .. } => "member_not_left",
            MemberChangeError::UnknownReason { .. } => "unknown_member_change_reason",
            MemberChangeError::BadNewHead { .. } => "bad_new_head",
            MemberChangeError::HeadLeavesAlone { .. } => "head_leaves_alone",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            MemberChangeError::Store(e) => e.message_zh(),
            MemberChangeError::MemberNotFound { .. } => {
                "找不到这名家庭成员，可能已被删除或尚未同步到本机。".into()
            }
            MemberChangeError::AlreadyLeft { name, date } => {
                format!("{name}已于{date}减员，不能再次减员。")
            }
            MemberChangeError::NotLeft { name } => format!("{name}没有减员记录，无需撤销。"),
            MemberChangeError::UnknownReason { list, text } => format!(
                "“{text}”不是{}：可选{}。",
                list.title,
                list.entries
                    .iter()
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            MemberChangeError::BadNewHead { .. } => {
                "新户主必须是本户现有的家庭成员（未减员）。".into()
            }
            MemberChangeError::HeadLeavesAlone { name } => {
                format!("{name}是户主：户主减员时请同时指定新户主（本户现有成员之一）。")
            }
        }
    }
}

/// The code of a reason typed as the list's label, its code, or a word the forms also use
/// (嫁出 for 婚出, 外出落户 for 户口迁出, 娶进 for 婚入 …).
pub fn reason_code(list: &'static CodeList, text: &str) -> Result<&'static str, MemberChangeError> {
    let typed = text.trim();
    list.code_of(typed)
        .or_else(|| {
            REASON_WORDS
                .iter()
                .find(|(word, _)| *word == typed)
                .and_then(|(_, label)| list.code_of(label))
        })
        .ok_or_else(|| MemberChangeError::UnknownReason {
            list,
            text: typed.to_owned(),
        })
}

/// A 减员 to record: the member, the day and the reason (a code of
/// [`codes::MEMBER_LEAVE_REASON`]); `new_head` names the current member who becomes 户主 when
/// the 户主 leaves (the household must keep one).
#[derive(Debug, Clone, PartialEq)]
pub struct Leave {
    pub member_id: Uuid,
    pub date: NaiveDate,
    pub reason: String,
    pub new_head: Option<Uuid>,
}

impl Store {
    /// 减员: sets the member's 减员日期 and 减员原因 (the row stays) through the household
    /// page's checked save.
    pub fn record_member_leave(
        &mut self,
        leave: &Leave,
    ) -> Result<FilingOutcome, MemberChangeError> {
        let member = self.member(leave.member_id)?;
        if let Some(date) = member.leave_date {
            return Err(MemberChangeError::AlreadyLeft {
                name: member.name,
                date,
            });
        }
        let household = member.household_id.unwrap_or_default();
        let mut loaded = self.load_household_page(household)?;
        let others_current = loaded
            .page
            .members
            .iter()
            .any(|m| m.id != member.id && derived::is_current(m));
        // The household keeps one 户主: a 户主 who leaves hands over to a current member (a
        // household whose last member leaves has none to hand over to).
        if member.relation == codes::RELATION_HEAD && leave.new_head.is_none() && others_current {
            return Err(MemberChangeError::HeadLeavesAlone { name: member.name });
        }
        if let Some(head) = leave.new_head {
            let found = loaded
                .page
                .members
                .iter_mut()
                .find(|m| m.id == head && m.id != leave.member_id && derived::is_current(m))
                .ok_or(MemberChangeError::BadNewHead { id: head })?;
            found.relation = codes::RELATION_HEAD.into();
        }
        let row = loaded
            .page
            .members
            .iter_mut()
            .find(|m| m.id == leave.member_id)
            .ok_or(MemberChangeError::MemberNotFound {
                id: leave.member_id,
            })?;
        row.leave_date = Some(leave.date);
        row.leave_reason = leave.reason.clone();
        Ok(self.file_household_page(&loaded.page, loaded.base.as_ref())?)
    }

    /// Takes back a 减员 recorded by mistake: the member is current again.
    pub fn undo_member_leave(
        &mut self,
        member_id: Uuid,
    ) -> Result<FilingOutcome, MemberChangeError> {
        let member = self.member(member_id)?;
        if member.leave_date.is_none() && member.leave_reason.is_empty() {
            return Err(MemberChangeError::NotLeft { name: member.name });
        }
        let mut loaded = self.load_household_page(member.household_id.unwrap_or_default())?;
        if let Some(row) = loaded.page.members.iter_mut().find(|m| m.id == member_id) {
            row.leave_date = None;
            row.leave_reason.clear();
        }
        Ok(self.file_household_page(&loaded.page, loaded.base.as_ref())?)
    }

    /// 增员: adds `member` (its household, fields, 增员日期 and 增员原因 set by the caller) to
    /// its household through the household page's checked save.
    pub fn record_member_join(
        &mut self,
        member: &Member,
    ) -> Result<FilingOutcome, MemberChangeError> {
        let household = member.household_id.unwrap_or_default();
        let mut loaded = self.load_household_page(household)?;
        loaded.page.members.push(member.clone());
        Ok(self.file_household_page(&loaded.page, loaded.base.as_ref())?)
    }

    fn member(&self, id: Uuid) -> Result<Member, MemberChangeError> {
        self.read::<Member>(Filter::Id(id))?
            .into_iter()
            .next()
            .ok_or(MemberChangeError::MemberNotFound { id })
    }
}

/// One line of a household's ledger of member changes.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct MemberChange {
    pub member_id: Uuid,
    pub name: String,
    pub id_number: String,
    /// 增员 or 减员.
    pub kind: &'static str,
    pub date: NaiveDate,
    /// The reason's label as the form shows it.
    pub reason: String,
}

/// Every 增员 and 减员 of the household's members, oldest first.
pub fn member_changes(
    store: &Store,
    household: Uuid,
) -> Result<Vec<MemberChange>, MemberChangeError> {
    let members: Vec<Member> = store.read(Filter::OfHousehold(household))?;
    Ok(changes_of(&members))
}

/// The changes [`member_changes`] lists, from already-read members.
pub fn changes_of(members: &[Member]) -> Vec<MemberChange> {
    let mut changes = Vec::new();
    for m in members {
        for (kind, date, list, reason) in [
            (
                "增员",
                m.join_date,
                &codes::MEMBER_JOIN_REASON,
                &m.join_reason,
            ),
            (
                "减员",
                m.leave_date,
                &codes::MEMBER_LEAVE_REASON,
                &m.leave_reason,
            ),
        ] {
            if let Some(date) = date {
                changes.push(MemberChange {
                    member_id: m.id,
                    name: m.name.clone(),
                    id_number: m.id_number.clone(),
                    kind,
                    date,
                    reason: list.label(reason).unwrap_or(reason).to_owned(),
                });
            }
        }
    }
    changes.sort_by(|a, b| (a.date, a.kind).cmp(&(b.date, b.kind)));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_the_forms_write_them() {
        let leave = &codes::MEMBER_LEAVE_REASON;
        let join = &codes::MEMBER_JOIN_REASON;
        let cases: &[(&'static CodeList, &str, Option<&str>)] = &[
            (leave, "死亡", Some("1")),
            (leave, "嫁出", Some("2")),
            (leave, " 婚出 ", Some("2")),
            (leave, "服刑", Some("3")),
            (leave, "外出落户", Some("4")),
            (leave, "户口迁出", Some("4")),
            (leave, "参军", Some("5")),
            (leave, "其它", Some("9")),
            (leave, "4", Some("4")),
            (leave, "新生儿", None),
            (join, "新生儿", Some("1")),
            (join, "出生", Some("1")),
            (join, "娶进", Some("2")),
            (join, "婚入", Some("2")),
            (join, "死亡", None),
        ];
        for (list, text, want) in cases {
            assert_eq!(reason_code(list, text).ok(), *want, "{text}");
        }
        let refused = reason_code(leave, "出国").map(|_| ()).unwrap_err();
        assert_eq!(
            refused.message_zh(),
            "“出国”不是减员原因：可选死亡、婚出、服刑、户口迁出、参军、其他。"
        );
    }

    #[test]
    fn the_ledger_lists_each_change_by_date() {
        let day = |s: &str| s.parse::<NaiveDate>().ok();
        let members = [
            Member {
                name: "张父".into(),
                leave_date: day("2019-03-01"),
                leave_reason: "1".into(),
                ..Default::default()
            },
            Member {
                name: "李媳".into(),
                join_date: day("2018-05-01"),
                join_reason: "2".into(),
                ..Default::default()
            },
            Member {
                name: "张户主".into(),
                ..Default::default()
            },
        ];
        let lines: Vec<String> = changes_of(&members)
            .iter()
            .map(|c| format!("{} {} {} {}", c.date, c.kind, c.name, c.reason))
            .collect();
        assert_eq!(
            lines,
            ["2018-05-01 增员 李媳 婚入", "2019-03-01 减员 张父 死亡"]
        );
    }
}
