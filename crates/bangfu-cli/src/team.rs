//! `bangfu team list|add|set|end`: a village's 驻村工作队 (第一书记, 队长, 队员 with their 派出单位,
//! 职务, 驻村起止日期 and phone), written through the store's checked write so it syncs to the
//! village's copies.

use std::path::PathBuf;

use bangfu_core::team::{
    NewTeamMember, TeamEntry, TeamField, add_team_member, end_team_member, find_team_member,
    set_team_fields, village_by_code, village_team,
};
use chrono::NaiveDate;
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// 列出一个村的驻村工作队（在村的在前，已离村的在后）
    List {
        #[arg(long)]
        db: PathBuf,
        /// 村代码（12 位）
        #[arg(long)]
        village: String,
        #[arg(long)]
        json: bool,
    },
    /// 登记驻村工作队员，如 --name 王明 --role 第一书记 --unit 县农业农村局 --start 2024-03-01
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
        #[arg(long)]
        name: String,
        /// 队内职务：第一书记、第一书记兼工作队长、工作队长、工作队员
        #[arg(long)]
        role: String,
        /// 派出单位
        #[arg(long)]
        unit: String,
        /// 单位隶属：省直、市直、县直、乡镇、村级
        #[arg(long, default_value = "")]
        unit_level: String,
        /// 在派出单位的职务，如 副局长
        #[arg(long, default_value = "")]
        post: String,
        #[arg(long, default_value = "")]
        phone: String,
        /// 性别：男、女
        #[arg(long, default_value = "")]
        sex: String,
        /// 驻村日期，如 2024-03-01
        #[arg(long)]
        start: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        json: bool,
    },
    /// 修改驻村工作队员：只改给出的项，如 --member 王明 --post 局长 --phone 13987650000
    Set {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
        /// 队员姓名或编号
        #[arg(long)]
        member: String,
        /// 新的姓名
        #[arg(long)]
        name: Option<String>,
        /// 性别：男、女
        #[arg(long)]
        sex: Option<String>,
        /// 队内职务：第一书记、第一书记兼工作队长、工作队长、工作队员
        #[arg(long)]
        role: Option<String>,
        /// 派出单位
        #[arg(long)]
        unit: Option<String>,
        /// 单位隶属：省直、市直、县直、乡镇、村级
        #[arg(long)]
        unit_level: Option<String>,
        /// 在派出单位的职务
        #[arg(long)]
        post: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// 驻村日期
        #[arg(long)]
        start: Option<String>,
        /// 离村日期；写“无”撤销误登的离村
        #[arg(long)]
        end: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 登记离村：队员离开本村的日期（记录保留）
    End {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
        /// 队员姓名或编号
        #[arg(long)]
        member: String,
        /// 离村日期
        #[arg(long)]
        date: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: TeamCommand) -> Result<(), Failure> {
    match command {
        TeamCommand::List { db, village, json } => {
            let store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let team = village_team(&store, v.id, store.today())?;
            if json {
                print_json(&team);
            } else {
                print_team(&v.name, &team);
            }
        }
        TeamCommand::Add {
            db,
            village,
            name,
            role,
            unit,
            unit_level,
            post,
            phone,
            sex,
            start,
            note,
            json,
        } => {
            let mut store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let new = NewTeamMember {
                village_id: v.id,
                name,
                sex,
                role,
                unit,
                unit_level,
                post,
                phone,
                start_date: Some(parse_date(&start, "驻村日期")?),
                note,
            };
            let id = add_team_member(&mut store, &new)?;
            if json {
                print_json(&serde_json::json!({ "id": id }));
            } else {
                println!(
                    "已登记{}驻村工作队员 {}（编号 {id}）。",
                    v.name,
                    new.name.trim()
                );
            }
        }
        TeamCommand::Set {
            db,
            village,
            member,
            name,
            sex,
            role,
            unit,
            unit_level,
            post,
            phone,
            start,
            end,
            note,
            json,
        } => {
            let mut store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let m = find_team_member(&store, v.id, &member)?;
            let mut fields = Vec::new();
            fields.extend(name.map(TeamField::Name));
            fields.extend(sex.map(TeamField::Sex));
            fields.extend(role.map(TeamField::Role));
            fields.extend(unit.map(TeamField::Unit));
            fields.extend(unit_level.map(TeamField::UnitLevel));
            fields.extend(post.map(TeamField::Post));
            fields.extend(phone.map(TeamField::Phone));
            if let Some(start) = start {
                fields.push(TeamField::Start(parse_date(&start, "驻村日期")?));
            }
            if let Some(end) = end {
                fields.push(TeamField::End(match end.trim() {
                    "无" | "" => None,
                    text => Some(parse_date(text, "离村日期")?),
                }));
            }
            fields.extend(note.map(TeamField::Note));
            if fields.is_empty() {
                return Err(Failure::new(
                    "没有要修改的项，请用 --name、--role、--unit、--post、--phone、--start、--end 等指明。"
                        .to_owned(),
                    "nothing to set".to_owned(),
                ));
            }
            set_team_fields(&mut store, m.id, &fields)?;
            if json {
                print_json(&serde_json::json!({ "id": m.id }));
            } else {
                println!("已修改驻村工作队员 {}（编号 {}）。", m.name, m.id);
            }
        }
        TeamCommand::End {
            db,
            village,
            member,
            date,
            json,
        } => {
            let mut store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let m = find_team_member(&store, v.id, &member)?;
            let end = parse_date(&date, "离村日期")?;
            end_team_member(&mut store, m.id, end)?;
            if json {
                print_json(&serde_json::json!({ "id": m.id, "end_date": end }));
            } else {
                println!("已登记 {} 于 {end} 离村。", m.name);
            }
        }
    }
    Ok(())
}

fn parse_date(text: &str, what: &str) -> Result<NaiveDate, Failure> {
    text.trim().parse().map_err(|_| {
        Failure::new(
            format!("{what}“{text}”不是日期，请写成 2024-03-01 的样子。"),
            format!("bad date {text}"),
        )
    })
}

fn print_team(village: &str, team: &[TeamEntry]) {
    if team.is_empty() {
        println!("{village}尚未登记驻村工作队。");
        return;
    }
    println!("{village}驻村工作队（{} 人）：", team.len());
    for m in team {
        let dates = match (m.start_date, m.end_date) {
            (Some(s), Some(e)) => format!("{s} 至 {e}（已离村）"),
            (Some(s), None) => format!("{s} 起"),
            _ => String::new(),
        };
        println!(
            "  {}  {}  {}  {}  {}  {}",
            m.role,
            m.name,
            [m.unit.as_str(), m.post.as_str()].join(" ").trim(),
            m.phone,
            dates,
            m.id
        );
    }
}
