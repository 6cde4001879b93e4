//! `bangfu village list|show|set`: the villages' 村情 (农村人口, 贫困村 status, the 贫困村退出
//! checklist items with their 达标日期 and 佐证材料), set through the core's village module
//! (checked, replicated), and a village's exit check for a year.

use std::path::PathBuf;

use bangfu_core::exit::evaluate_village;
use bangfu_core::model::input::parse_input;
use bangfu_core::model::{Entity, FieldValue, VILLAGE_CHECKLIST, Village};
use bangfu_core::report::year::default_work_year;
use bangfu_core::village::{list_villages, set_village_fields, village_by_code};
use clap::{Args, Subcommand};

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum VillageCommand {
    /// 列出各村的村情：农村人口、是否贫困村、退出年度、已建档户数和人数、核对项目填写情况
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 一个村的村情和某年度的村退出核对（贫困发生率按该年底各户的脱贫状态计算）
    Show {
        #[arg(long)]
        db: PathBuf,
        /// 村代码（12 位）
        #[arg(long)]
        village: String,
        /// 年度（默认：数据文件的工作年度）
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 填写一个村的村情，如 --rural-population 1260 --poor-village 是 --road 是 --road-date 2018-10-01
    Set(Box<SetArgs>),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[arg(long)]
    db: PathBuf,
    /// 村代码（12 位）
    #[arg(long)]
    village: String,
    /// 农村人口（人）
    #[arg(long)]
    rural_population: Option<String>,
    /// 是否贫困村：是 / 否
    #[arg(long)]
    poor_village: Option<String>,
    /// 退出年度（贫困村退出的年度）
    #[arg(long)]
    exit_year: Option<String>,
    /// 通硬化路：是 / 否
    #[arg(long)]
    road: Option<String>,
    /// 通动力电：是 / 否
    #[arg(long)]
    power: Option<String>,
    /// 广播电视覆盖率（%）
    #[arg(long)]
    broadcast: Option<String>,
    /// 通宽带：是 / 否
    #[arg(long)]
    broadband: Option<String>,
    /// 安全饮水：是 / 否
    #[arg(long)]
    water: Option<String>,
    /// 有标准化卫生室：是 / 否
    #[arg(long)]
    clinic: Option<String>,
    /// 有综合性公共服务场所：是 / 否
    #[arg(long)]
    venue: Option<String>,
    /// 义务教育就学有保障：是 / 否
    #[arg(long)]
    school: Option<String>,
    /// 某项的达标日期，如 --date road=2018-10-01（项目：road power broadcast broadband water
    /// clinic venue school，或其中文名）
    #[arg(long = "date")]
    dates: Vec<String>,
    /// 某项的佐证材料，如 --evidence "road=县交通局验收单 2018-17 号"
    #[arg(long = "evidence")]
    evidence: Vec<String>,
    /// 其他项目=值，项目写表上的中文名或英文名，如 --set 通宽带达标日期=2019-05-01
    #[arg(long = "set")]
    set: Vec<String>,
    #[arg(long)]
    json: bool,
}

/// The village's fields a person may set here: not what files it (code, name, place).
fn settable(name: &str) -> bool {
    !matches!(name, "code" | "name" | "township" | "county" | "province")
}

fn field_value(name: &str, text: &str) -> Result<(&'static str, FieldValue), Failure> {
    let spec = Village::FIELDS
        .iter()
        .find(|f| (f.name == name || f.label == name) && settable(f.name))
        .ok_or_else(|| {
            let known: Vec<&str> = Village::FIELDS
                .iter()
                .filter(|f| settable(f.name))
                .map(|f| f.label)
                .collect();
            Failure::new(
                format!("村情没有“{name}”这一项。可填：{}。", known.join("、")),
                format!("unknown village field {name}"),
            )
        })?;
    let value = parse_input(spec, text).map_err(|e| Failure::new(e.message.clone(), e.message))?;
    Ok((spec.name, value))
}

/// `item=text` of `--date`/`--evidence`: the item by code or label, and the text.
fn item_assignment<'a>(
    option: &str,
    assignment: &'a str,
) -> Result<(&'static bangfu_core::model::ChecklistItem, &'a str), Failure> {
    let Some((item, text)) = assignment.split_once('=') else {
        return Err(Failure::new(
            format!("--{option} “{assignment}”格式不对，应写成 项目=值，如 road=2018-10-01。"),
            format!("bad --{option} {assignment}"),
        ));
    };
    let item = item.trim();
    let found = VILLAGE_CHECKLIST
        .iter()
        .find(|i| i.code == item || i.label == item)
        .ok_or_else(|| {
            let known: Vec<String> = VILLAGE_CHECKLIST
                .iter()
                .map(|i| format!("{}（{}）", i.code, i.label))
                .collect();
            Failure::new(
                format!("没有“{item}”这个核对项目。可填：{}。", known.join("、")),
                format!("unknown checklist item {item}"),
            )
        })?;
    Ok((found, text.trim()))
}

/// Every field the options set, in the order typed; nothing is written unless all parse.
fn fields_of(args: &SetArgs) -> Result<Vec<(&'static str, FieldValue)>, Failure> {
    let mut fields = Vec::new();
    let named = [
        ("rural_population", &args.rural_population),
        ("poor_village", &args.poor_village),
        ("exit_year", &args.exit_year),
        ("hardened_road", &args.road),
        ("power_grid", &args.power),
        ("broadcast_coverage", &args.broadcast),
        ("broadband", &args.broadband),
        ("safe_water", &args.water),
        ("standard_clinic", &args.clinic),
        ("public_venue", &args.venue),
        ("school_access", &args.school),
    ];
    for (name, text) in named {
        if let Some(text) = text {
            fields.push(field_value(name, text)?);
        }
    }
    for assignment in &args.dates {
        let (item, text) = item_assignment("date", assignment)?;
        fields.push(field_value(item.date_field, text)?);
    }
    for assignment in &args.evidence {
        let (item, text) = item_assignment("evidence", assignment)?;
        fields.push(field_value(item.evidence_field, text)?);
    }
    for assignment in &args.set {
        let Some((name, text)) = assignment.split_once('=') else {
            return Err(Failure::new(
                format!("“{assignment}”格式不对，应写成 项目=值，如 农村人口=1260。"),
                format!("bad assignment {assignment}"),
            ));
        };
        fields.push(field_value(name.trim(), text)?);
    }
    if fields.is_empty() {
        return Err(Failure::new(
            "没有要填写的项目，如 --rural-population 1260 或 --road 是。",
            "nothing to set",
        ));
    }
    Ok(fields)
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "是",
        Some(false) => "否",
        None => "未填",
    }
}

pub fn run(command: VillageCommand) -> Result<(), Failure> {
    match command {
        VillageCommand::List { db, json } => {
            let store = open_store(&db)?;
            let rows = list_villages(&store)?;
            if json {
                print_json(&rows);
                return Ok(());
            }
            for r in &rows {
                println!(
                    "{} {}（{}）农村人口 {}；贫困村 {}{}；已建档 {} 户 {} 人；核对项目已填 {}/{} 项，达标 {} 项",
                    r.code,
                    r.name,
                    r.township,
                    r.rural_population
                        .map_or_else(|| "未填".into(), |p| format!("{p} 人")),
                    yes_no(r.poor_village),
                    r.exit_year
                        .map_or_else(String::new, |y| format!("，{y} 年退出")),
                    r.filed_households,
                    r.filed_people,
                    r.items_filled,
                    VILLAGE_CHECKLIST.len(),
                    r.items_met,
                );
            }
            Ok(())
        }
        VillageCommand::Set(args) => {
            let mut store = open_store(&args.db)?;
            let v = village_by_code(&store, &args.village)?;
            let fields = fields_of(&args)?;
            let count = fields.len();
            let sheet = set_village_fields(&mut store, v.id, fields)?;
            if args.json {
                print_json(&sheet);
            } else {
                println!("已保存 {}（{}）的村情：{count} 项。", v.name, v.code);
            }
            Ok(())
        }
        VillageCommand::Show {
            db,
            village,
            year,
            json,
        } => {
            let store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let year = match year {
                Some(year) => year,
                None => default_work_year(&store)?,
            };
            let evaluation = evaluate_village(&store, v.id, year)?;
            if json {
                print_json(&evaluation);
                return Ok(());
            }
            println!(
                "{}（{}）农村人口 {}；贫困村 {}{}",
                v.name,
                v.code,
                v.rural_population
                    .map_or_else(|| "未填".into(), |p| format!("{p} 人")),
                yes_no(v.poor_village),
                v.exit_year
                    .map_or_else(String::new, |y| format!("，{y} 年退出")),
            );
            println!(
                "{year} 年：{}",
                if evaluation.meets {
                    "各项达到贫困村退出标准"
                } else {
                    "尚未达到贫困村退出标准"
                }
            );
            for c in &evaluation.checks {
                let data: Vec<String> = c
                    .data
                    .iter()
                    .map(|d| format!("{}：{}", d.label, d.value))
                    .collect();
                let data = if data.is_empty() {
                    String::new()
                } else {
                    format!("（{}）", data.join("；"))
                };
                println!("  [{}] {}：{}{data}", c.status_label, c.label, c.reason);
            }
            Ok(())
        }
    }
}
