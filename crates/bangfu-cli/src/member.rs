//! `bangfu member list|leave|join|undo-leave`: 增员/减员 of a household's members with the
//! reasons and dates of the forms, saved through the household page's own checked save.

use std::path::{Path, PathBuf};

use bangfu_core::member_changes::{Leave, member_changes, reason_code};
use bangfu_core::model::input::parse_input;
use bangfu_core::model::{Entity, Member, codes, derived};
use bangfu_core::store::{Filter, Store};
use chrono::NaiveDate;
use clap::Subcommand;
use serde::Serialize;
use uuid::Uuid;

use crate::edit::find_household;
use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// 一户的家庭成员：现有成员、已减员成员和增减员记录
    List {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        #[arg(long)]
        json: bool,
    },
    /// 减员：成员死亡、婚出、服刑、户口迁出、参军等，保留记录并登记原因和日期
    Leave {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        /// 成员的姓名或证件号码
        #[arg(long)]
        member: String,
        /// 减员原因：死亡、婚出、服刑、户口迁出、参军、其他
        #[arg(long)]
        reason: String,
        /// 减员日期，如 2019-03-01
        #[arg(long)]
        date: String,
        /// 户主减员时的新户主（姓名或证件号码）
        #[arg(long)]
        new_head: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 撤销误登记的减员
    UndoLeave {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        #[arg(long)]
        member: String,
        #[arg(long)]
        json: bool,
    },
    /// 增员：新生儿、婚入等，如 --name 张小宝 --relation 之子 --reason 新生儿 --date 2020-01-05
    Join {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        #[arg(long)]
        name: String,
        /// 与户主关系，如 之子
        #[arg(long)]
        relation: String,
        /// 增员原因：新生儿、婚入、其他
        #[arg(long)]
        reason: String,
        /// 增员日期
        #[arg(long)]
        date: String,
        /// 其他项目=值，如 --set 证件号码=… --set 性别=男
        #[arg(long = "set")]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: MemberCommand) -> Result<(), Failure> {
    match command {
        MemberCommand::List {
            db,
            household,
            json,
        } => list(&db, &household, json),
        MemberCommand::Leave {
            db,
            household,
            member,
            reason,
            date,
            new_head,
            json,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let members: Vec<Member> = store.read(Filter::OfHousehold(h.id))?;
            let leaving = find_member(&members, &member, &household)?;
            let new_head = match new_head {
                Some(text) => Some(find_member(&members, &text, &household)?.id),
                None => None,
            };
            let leave = Leave {
                member_id: leaving.id,
                date: parse_date(&date)?,
                reason: reason_code(&codes::MEMBER_LEAVE_REASON, &reason)?.to_owned(),
                new_head,
            };
            let outcome = store.record_member_leave(&leave)?;
            if json {
                print_json(&outcome);
            } else {
                println!(
                    "已登记减员：{}，{}，{}。",
                    leaving.name,
                    codes::MEMBER_LEAVE_REASON
                        .label(&leave.reason)
                        .unwrap_or(""),
                    leave.date
                );
                warnings(&outcome.warnings);
            }
            Ok(())
        }
        MemberCommand::UndoLeave {
            db,
            household,
            member,
            json,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let members: Vec<Member> = store.read(Filter::OfHousehold(h.id))?;
            let m = find_member(&members, &member, &household)?;
            let outcome = store.undo_member_leave(m.id)?;
            if json {
                print_json(&outcome);
            } else {
                println!("已撤销{}的减员。", m.name);
                warnings(&outcome.warnings);
            }
            Ok(())
        }
        MemberCommand::Join {
            db,
            household,
            name,
            relation,
            reason,
            date,
            set,
            json,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let mut assignments = vec![format!("name={name}"), format!("relation={relation}")];
            assignments.extend(set);
            let mut member = member_from(&assignments)?;
            member.household_id = Some(h.id);
            member.join_date = Some(parse_date(&date)?);
            member.join_reason = reason_code(&codes::MEMBER_JOIN_REASON, &reason)?.to_owned();
            let outcome = store.record_member_join(&member)?;
            if json {
                print_json(&outcome);
            } else {
                println!(
                    "已登记增员：{}，{}，{}。",
                    member.name,
                    codes::MEMBER_JOIN_REASON
                        .label(&member.join_reason)
                        .unwrap_or(""),
                    date
                );
                warnings(&outcome.warnings);
            }
            Ok(())
        }
    }
}

fn warnings(found: &[bangfu_core::validate::Issue]) {
    for warning in found {
        println!("提示：{}", warning.message);
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Failure::new(
            format!("日期“{text}”格式不对，应写成 2019-03-01。"),
            format!("bad date {text}"),
        )
    })
}

/// The member of the household named by 姓名 or 证件号码: exactly one.
fn find_member<'a>(
    members: &'a [Member],
    text: &str,
    household: &str,
) -> Result<&'a Member, Failure> {
    let text = text.trim();
    let found: Vec<&Member> = members
        .iter()
        .filter(|m| m.name == text || (!text.is_empty() && m.id_number == text))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Failure::new(
            format!("户 {household} 没有姓名或证件号码为“{text}”的成员。"),
            format!("member {text} not found"),
        )),
        _ => Err(Failure::new(
            format!(
                "户 {household} 有{}名成员叫“{text}”，请用证件号码指明。",
                found.len()
            ),
            format!("member {text} is ambiguous"),
        )),
    }
}

/// A new member from 项目=值 assignments (Chinese label or field name).
fn member_from(assignments: &[String]) -> Result<Member, Failure> {
    let mut values = std::collections::BTreeMap::new();
    for assignment in assignments {
        let Some((name, text)) = assignment.split_once('=') else {
            return Err(Failure::new(
                format!("“{assignment}”格式不对，应写成 项目=值。"),
                format!("bad assignment {assignment}"),
            ));
        };
        let name = name.trim();
        let spec = Member::FIELDS
            .iter()
            .find(|f| (f.name == name || f.label == name) && f.name != "household_id")
            .ok_or_else(|| {
                Failure::new(
                    format!("家庭成员没有“{name}”这一项。"),
                    format!("unknown member field {name}"),
                )
            })?;
        let value =
            parse_input(spec, text).map_err(|e| Failure::new(e.message.clone(), e.message))?;
        values.insert(spec.name, value);
    }
    Member::from_fields(Uuid::now_v7(), &mut |name| {
        values
            .get(name)
            .cloned()
            .unwrap_or(bangfu_core::model::FieldValue::Null)
    })
    .map_err(|field| {
        Failure::new(
            format!("家庭成员的“{field}”填写有误。"),
            format!("wrong type for {field}"),
        )
    })
}

#[derive(Serialize)]
struct MemberList {
    current: Vec<Member>,
    left: Vec<Member>,
    changes: Vec<bangfu_core::member_changes::MemberChange>,
}

fn list(db: &Path, household: &str, json: bool) -> Result<(), Failure> {
    let store: Store = open_store(db)?;
    let h = find_household(&store, household)?;
    let members: Vec<Member> = store.read(Filter::OfHousehold(h.id))?;
    let (current, left): (Vec<Member>, Vec<Member>) =
        members.into_iter().partition(derived::is_current);
    let changes = member_changes(&store, h.id)?;
    if json {
        print_json(&MemberList {
            current,
            left,
            changes,
        });
        return Ok(());
    }
    let relation = |m: &Member| codes::RELATION.label(&m.relation).unwrap_or("").to_owned();
    println!("户 {household} 现有成员 {} 人：", current.len());
    for m in &current {
        println!("  {}  {}  {}", m.name, relation(m), m.id_number);
    }
    if !left.is_empty() {
        println!("已减员 {} 人：", left.len());
        for m in &left {
            println!(
                "  {}  {}  {}  {}",
                m.name,
                relation(m),
                codes::MEMBER_LEAVE_REASON
                    .label(&m.leave_reason)
                    .unwrap_or(""),
                m.leave_date.map(|d| d.to_string()).unwrap_or_default()
            );
        }
    }
    if !changes.is_empty() {
        println!("增减员记录：");
        for c in &changes {
            println!("  {}  {}  {}  {}", c.date, c.kind, c.name, c.reason);
        }
    }
    Ok(())
}
