//! `bangfu household show|file|move`: the household page for township clerks and scripts, as
//! JSON with the base it was loaded from, saved through the same path as the app's page.

use std::path::{Path, PathBuf};

use bangfu_core::moving::move_household;
use bangfu_core::page_base::LoadedPage;
use clap::Subcommand;

use crate::edit::find_household;
use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum HouseholdCommand {
    /// 显示一户的整页内容（--json 输出可编辑后用 file 保存的页面，含打开时的底稿）
    Show {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        #[arg(long)]
        json: bool,
    },
    /// 保存一户的页面（show --json 的输出改后保存；期间别处的修改不会被覆盖）
    File {
        #[arg(long)]
        db: PathBuf,
        /// 页面文件（JSON）
        page: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 把一户迁入另一个村（如易地扶贫搬迁），户编号随之改为新村的编号；由第一书记、队长或乡镇管理员办理
    Move {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        /// 迁入村的12位村代码
        #[arg(long = "to-village")]
        to_village: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: HouseholdCommand) -> Result<(), Failure> {
    match command {
        HouseholdCommand::Show {
            db,
            household,
            json,
        } => show(&db, &household, json),
        HouseholdCommand::File { db, page, json } => file(&db, &page, json),
        HouseholdCommand::Move {
            db,
            household,
            to_village,
            json,
        } => relocate(&db, &household, &to_village, json),
    }
}

fn show(db: &Path, code: &str, json: bool) -> Result<(), Failure> {
    let store = open_store(db)?;
    let household = find_household(&store, code)?;
    let loaded = store.load_household_page(household.id)?;
    if json {
        print_json(&loaded);
    } else {
        let page = &loaded.page;
        let head = page
            .members
            .iter()
            .find(|m| m.relation == "01")
            .map_or("（未填户主）", |m| m.name.as_str());
        println!(
            "户 {code}：户主 {head}，{} 人，收入 {} 条，帮扶 {} 条，措施 {} 条，走访 {} 条。",
            page.members.len(),
            page.incomes.len(),
            page.pairings.len(),
            page.measures.len(),
            page.visits.len()
        );
        println!("要修改整页，请用 --json 输出到文件，改好后用 bangfu household file 保存。");
    }
    Ok(())
}

fn file(db: &Path, path: &Path, json: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            format!("读不到页面文件 {}：{e}。请检查文件路径。", path.display()),
            format!("read {}: {e}", path.display()),
        )
    })?;
    let loaded: LoadedPage = serde_json::from_str(&text).map_err(|e| {
        Failure::new(
            format!(
                "{} 不是一户的页面文件（第 {} 行有误）。请用 bangfu household show --json 输出的文件修改后再保存。",
                path.display(),
                e.line()
            ),
            format!("parse {}: {e}", path.display()),
        )
    })?;
    let mut store = open_store(db)?;
    let stale = match &loaded.base {
        Some(base) => store.household_changed_since(base)?,
        None => false,
    };
    let outcome = store.file_household_page(&loaded.page, loaded.base.as_ref())?;
    let code = &loaded.page.household.code;
    if json {
        print_json(&serde_json::json!({
            "ops": outcome.ops,
            "warnings": outcome.warnings,
            "changed_since_loaded": stale,
        }));
        return Ok(());
    }
    if stale {
        println!(
            "本户数据在您导出页面后有更新：只保存了您改动的项，别处新增的内容都已保留；同一项的不同修改已列入“冲突与重复”，请核对后选定。"
        );
    }
    println!("已保存户 {code}：{} 项修改。", outcome.ops);
    for w in &outcome.warnings {
        println!("疑点：{}", w.message);
    }
    Ok(())
}

fn relocate(db: &Path, code: &str, village: &str, json: bool) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let household = find_household(&store, code)?;
    let moved = move_household(&mut store, household.id, village)?;
    if json {
        print_json(&moved);
    } else {
        println!(
            "已将户 {} 迁入{}（{}），新户编号 {}。",
            moved.old_code, moved.village_name, moved.village_code, moved.new_code
        );
    }
    Ok(())
}
