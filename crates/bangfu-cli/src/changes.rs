//! `bangfu changes export|import` and `bangfu conflicts`.

use std::path::{Path, PathBuf};

use bangfu_core::sync::exchange::{export_changeset, import_changeset, peer_holdings};
use bangfu_core::sync::review::review_items;
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// 导出同步文件：全部内容，或对方缺少的部分（--for 对方导出过的文件）
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long = "for")]
        for_peer: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// 导入一个或多个同步文件，每个文件单独成功或整体拒绝
    Import {
        #[arg(long)]
        db: PathBuf,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            format!("无法读取文件“{}”，请检查 U 盘是否插好。", path.display()),
            e.to_string(),
        )
    })
}

pub fn run(command: ChangesCommand) -> Result<(), Failure> {
    match command {
        ChangesCommand::Export {
            db,
            out,
            for_peer,
            json,
        } => {
            let store = open_store(&db)?;
            let peer = match &for_peer {
                Some(file) => Some(peer_holdings(&read(file)?)?),
                None => None,
            };
            let (bytes, summary) = export_changeset(&store, peer.as_ref())?;
            // Whole or not at all: a pulled USB stick never leaves half a file.
            bangfu_core::files::write_file(&out, &bytes)?;
            if json {
                print_json(&summary);
            } else {
                println!(
                    "已导出 {} 条修改记录到“{}”（{} 字节）。",
                    summary.ops,
                    out.display(),
                    summary.bytes
                );
            }
        }
        ChangesCommand::Import { db, files, json } => {
            let mut store = open_store(&db)?;
            let mut results = Vec::new();
            let mut failed = 0;
            for file in &files {
                let outcome =
                    read(file).and_then(|bytes| Ok(import_changeset(&mut store, &bytes)?));
                match outcome {
                    Ok(summary) => {
                        if !json {
                            println!("{}：{}", file.display(), summary.message_zh());
                        }
                        results.push(
                            serde_json::json!({ "file": file, "ok": true, "summary": summary }),
                        );
                    }
                    Err(f) => {
                        failed += 1;
                        eprintln!("{}：{}", file.display(), f.message_zh);
                        eprintln!("detail: {}", f.detail);
                        results.push(
                            serde_json::json!({ "file": file, "ok": false, "error": f.message_zh }),
                        );
                    }
                }
            }
            if json {
                print_json(&results);
            }
            if failed > 0 {
                return Err(Failure::new(
                    format!("{failed} 个文件未能导入，其余文件已导入。"),
                    format!("{failed} of {} files refused", files.len()),
                ));
            }
        }
    }
    Ok(())
}

pub fn conflicts(db: &Path, json: bool) -> Result<(), Failure> {
    let store = open_store(db)?;
    let items = review_items(&store)?;
    if json {
        print_json(&items);
        return Ok(());
    }
    if items.is_empty() {
        println!("没有待处理的冲突。");
    }
    for item in items {
        let kind = if item.kind == "conflict" {
            "冲突"
        } else {
            "删除时另有修改"
        };
        println!(
            "[{kind}] {} {} 户编号 {}：{}",
            item.table, item.row_id, item.household_code, item.field_label
        );
        for v in item.values {
            let mark = if v.shown { "（当前显示）" } else { "" };
            println!("    {} —— {} 于 {}{mark}", v.value, v.device, v.written_at);
        }
    }
    Ok(())
}
