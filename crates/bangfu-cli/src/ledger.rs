//! `bangfu ledger export|import` and `bangfu report`: the township's Excel ledgers, import of
//! the rolls teams bring, and the village and township figures.

use std::path::PathBuf;

use bangfu_core::ledger::import::RowStatus;
use bangfu_core::ledger::{
    LedgerKind, Scope, export_ledger_of_year, export_report, import_good_rows, preview_roll,
};
use bangfu_core::report::stats::stats;
use bangfu_core::validate::Severity;
use clap::{Args, Subcommand};

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// 导出台帐（Excel）
    Export {
        #[arg(long)]
        db: PathBuf,
        /// households 贫困户台帐 | members 家庭成员台帐 | incomes 收入台帐 | pairings 帮扶责任人台帐 |
        /// measures 帮扶措施台帐 | visits 走访记录台帐 | suspects 疑点数据清单（可写中文名）
        #[arg(long)]
        kind: String,
        #[arg(long)]
        out: PathBuf,
        /// 只导出这个村（12 位村代码）
        #[arg(long, conflicts_with = "township")]
        village: Option<String>,
        /// 只导出这个乡镇
        #[arg(long)]
        township: Option<String>,
        /// 收入、帮扶措施、走访记录台帐只导出这一年度的记录（默认：全部年度）
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 家庭成员台帐导出的性能：与 rust_xlsxwriter 单独写同样单元格相比
    Bench {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// 导入已有的花名册（.xlsx/.xls/.csv）：先逐行检查，只导入没有错误的户
    Import {
        #[arg(long)]
        db: PathBuf,
        file: PathBuf,
        /// 只检查、列出问题，不写入
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

/// 统计报表：按脱贫状态、贫困发生率、七个一批措施与金额、走访覆盖
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long)]
    db: PathBuf,
    #[arg(long, conflicts_with = "township")]
    village: Option<String>,
    #[arg(long)]
    township: Option<String>,
    /// 工作年度：帮扶措施、走访覆盖按这一年统计（默认：数据文件有记录的最近一年）
    #[arg(long)]
    year: Option<i32>,
    /// 同时导出为 Excel
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn scope(village: Option<String>, township: Option<String>) -> Scope {
    match (village, township) {
        (Some(code), _) => Scope::Village(code),
        (None, Some(name)) => Scope::Township(name),
        (None, None) => Scope::All,
    }
}

pub fn run(command: LedgerCommand) -> Result<(), Failure> {
    match command {
        LedgerCommand::Export {
            db,
            kind,
            out,
            village,
            township,
            year,
            json,
        } => {
            let kind = LedgerKind::parse(&kind).ok_or_else(|| {
                let known: Vec<String> = LedgerKind::ALL
                    .iter()
                    .map(|k| format!("{}（{}）", k.key(), k.title()))
                    .collect();
                Failure::new(
                    format!("没有“{kind}”这种台帐，可选：{}", known.join("、")),
                    format!("unknown ledger kind {kind}"),
                )
            })?;
            let store = open_store(&db)?;
            let summary =
                export_ledger_of_year(&store, kind, &scope(village, township), year, &out)?;
            if json {
                print_json(&summary);
            } else {
                println!(
                    "已导出《{}》：{} 行，文件 {}",
                    summary.title, summary.rows, summary.path
                );
            }
        }
        LedgerCommand::Bench { db, out } => {
            let store = open_store(&db)?;
            let (ours, plain) = bangfu_core::ledger::bench_member_ledger(&store, &out)?;
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            println!(
                "member ledger: {ours:.3} s (baseline rust_xlsxwriter alone {plain:.3} s, ratio {:.2}); {peak} (includes the baseline's in-memory cells)",
                ours / plain.max(f64::EPSILON)
            );
        }
        LedgerCommand::Import {
            db,
            file,
            dry_run,
            json,
        } => {
            let mut store = open_store(&db)?;
            let preview = preview_roll(&store, &file)?;
            let outcome = if dry_run {
                None
            } else {
                Some(import_good_rows(&mut store, &preview)?)
            };
            if json {
                print_json(&serde_json::json!({ "preview": preview, "imported": outcome }));
                return Ok(());
            }
            let sheet = if preview.sheet.is_empty() {
                &preview.file
            } else {
                &preview.sheet
            };
            println!(
                "表“{}”第 {} 行为表头；共 {} 行，{} 户。",
                sheet, preview.header_row, preview.summary.rows, preview.summary.households
            );
            let unmatched: Vec<&str> = preview
                .columns
                .iter()
                .filter(|c| c.field.is_none() && !c.header.is_empty())
                .map(|c| c.header.as_str())
                .collect();
            if !unmatched.is_empty() {
                println!("以下列未导入：{}", unmatched.join("、"));
            }
            for row in preview
                .rows
                .iter()
                .filter(|r| !r.issues.is_empty() || r.status == RowStatus::Blocked)
            {
                for issue in &row.issues {
                    let level = match issue.severity {
                        Severity::Error => "错误",
                        Severity::Warning => "提醒",
                    };
                    println!(
                        "第{}行 {} {}：[{level}] {}",
                        row.row, row.household_code, row.name, issue.message
                    );
                }
                if row.status == RowStatus::Blocked {
                    println!(
                        "第{}行 {} {}：本户其他行有错误，本行不导入",
                        row.row, row.household_code, row.name
                    );
                }
            }
            let s = &preview.summary;
            println!(
                "可导入 {} 户 {} 人；有错误不导入 {} 户；已在数据文件中 {} 户；错误 {} 处，提醒 {} 处。",
                s.households_ready,
                s.members_ready,
                s.households_with_errors,
                s.households_existing,
                s.errors,
                s.warnings
            );
            match outcome {
                None => println!("（仅检查，未写入任何内容）"),
                Some(o) => println!(
                    "已导入 {} 户 {} 人（新建 {} 个村，{} 条修改记录）。",
                    o.households, o.members, o.villages_created, o.ops
                ),
            }
        }
    }
    Ok(())
}

pub fn report(args: ReportArgs) -> Result<(), Failure> {
    let store = open_store(&args.db)?;
    let scope = scope(args.village, args.township);
    let unit = scope.unit_name(&store)?;
    let report = stats(&store, &scope, args.year)?;
    if let Some(out) = &args.out {
        export_report(&report, None, &unit, out)?;
    }
    if args.json {
        print_json(&report);
        return Ok(());
    }
    println!("{unit} 统计（{}年度：帮扶措施与走访按这一年）", report.year);
    println!("\n按脱贫状态：");
    for r in &report.by_status {
        println!(
            "  {:<16} {:>6} 户 {:>7} 人",
            r.status, r.households, r.people
        );
    }
    println!("\n贫困发生率：");
    for r in &report.incidence {
        let name = if r.village_code.is_empty() {
            format!("{}（合计）", r.township)
        } else {
            format!("{}{}", r.township, r.village_name)
        };
        let rate = r
            .incidence_pct
            .map_or("—".to_owned(), |p| format!("{p:.2}%"));
        println!(
            "  {name:<20} 农村人口 {:>7}  剩余贫困人口 {:>6}  发生率 {rate}",
            r.rural_population, r.poor_people
        );
    }
    println!("\n{}年帮扶措施（七个一批）：", report.year);
    for r in &report.by_path {
        println!(
            "  {:<10} {:>6} 项 {:>6} 户 {:>14.2} 元",
            r.path, r.measures, r.households, r.amount
        );
    }
    println!("\n{}年走访覆盖：", report.year);
    for r in &report.visits {
        let rate = r
            .coverage_pct
            .map_or("—".to_owned(), |p| format!("{p:.1}%"));
        println!(
            "  {}{:<10} {:>5} 户，曾走访 {:>5} 户，当年走访 {:>5} 户 {:>6} 次，覆盖率 {rate}",
            r.township,
            r.village_name,
            r.households,
            r.visited_ever,
            r.visited_in_year,
            r.visits_in_year
        );
    }
    println!("\n{}年培训覆盖（户均1人）：", report.year);
    for r in &report.training {
        let rate = r
            .coverage_pct
            .map_or("—".to_owned(), |p| format!("{p:.1}%"));
        let name = if r.village_code.is_empty() {
            "（乡镇合计）"
        } else {
            r.village_name.as_str()
        };
        println!(
            "  {}{name:<10} {:>5} 户，有成员参训 {:>5} 户，参训 {:>5} 人，取得证书 {:>4} 个，覆盖率 {rate}",
            r.township, r.households, r.trained_households, r.trained_people, r.certificates
        );
    }
    if let Some(out) = &args.out {
        println!("\n已导出 {}", out.display());
    }
    Ok(())
}
