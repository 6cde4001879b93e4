//! `bangfu village set|show`: a village's own figures (农村人口, the 贫困村退出 checklist items)
//! written through the store's checked write, and the village's exit check for a year.

use std::path::PathBuf;

use bangfu_core::exit::{evaluate_village, village_by_code};
use bangfu_core::model::input::parse_input;
use bangfu_core::model::{Entity, Table, Village};
use bangfu_core::store::Change;
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum VillageCommand {
    /// 填写一个村的农村人口和贫困村退出核对项目，如 --set 农村人口=1260 --set 通硬化路=是
    Set {
        #[arg(long)]
        db: PathBuf,
        /// 村代码（12 位）
        #[arg(long)]
        village: String,
        /// 项目=值，项目可写表上的中文名或英文名
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// 村退出核对：某年度的贫困发生率和各核对项目（按该年度的脱贫标准）
    Show {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        json: bool,
    },
}

/// The village's fields a person may set here: not its code, which files its households.
fn settable(name: &str) -> bool {
    !matches!(name, "code")
}

pub fn run(command: VillageCommand) -> Result<(), Failure> {
    match command {
        VillageCommand::Set {
            db,
            village,
            set,
            json,
        } => {
            let mut store = open_store(&db)?;
            let v = village_by_code(&store, &village)?;
            let mut fields = Vec::new();
            for assignment in &set {
                let Some((name, text)) = assignment.split_once('=') else {
                    return Err(Failure::new(
                        format!("“{assignment}”格式不对，应写成 项目=值，如 农村人口=1260。"),
                        format!("bad assignment {assignment}"),
                    ));
                };
                let name = name.trim();
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
                            format!("村没有“{name}”这一项。可填：{}。", known.join("、")),
                            format!("unknown village field {name}"),
                        )
                    })?;
                let value = parse_input(spec, text)
                    .map_err(|e| Failure::new(e.message.clone(), e.message))?;
                fields.push((spec.name, value));
            }
            let outcome = store.write(&[Change::Put {
                table: Table::Village,
                id: v.id,
                fields,
            }])?;
            if json {
                print_json(&outcome);
            } else {
                println!("已保存 {}（{}）：{} 项修改。", v.name, v.code, outcome.ops);
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
            let evaluation = evaluate_village(&store, v.id, year)?;
            if json {
                print_json(&evaluation);
                return Ok(());
            }
            println!(
                "{}（{}）{} 年：{}",
                evaluation.name,
                evaluation.code,
                year,
                if evaluation.meets {
                    "各项达到贫困村退出标准"
                } else {
                    "尚未达到贫困村退出标准"
                }
            );
            for c in &evaluation.checks {
                println!("  [{}] {}：{}", c.status_label, c.label, c.reason);
            }
            Ok(())
        }
    }
}
