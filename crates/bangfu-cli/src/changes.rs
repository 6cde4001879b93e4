//! `bangfu changes export|import` and `bangfu conflicts`.

use std::path::{Path, PathBuf};

use bangfu_core::sync::exchange::{
    Content, PeerHoldings, SealTo, export_introduction, export_sealed_content, find_seal_recipient,
    import_changeset_file, peer_of_file,
};
use bangfu_core::sync::review::review_items;
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// 导出加密的同步文件：默认给本机认识的所有设备（乡镇、县、同范围的其他电脑）；
    /// --for 对方导出过的文件：只给那台设备，且只导出它缺少的部分；--for 设备名称或安全码：只给那台设备
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long = "for", value_name = "文件或设备")]
        for_peer: Option<PathBuf>,
        /// 只导出本机的密钥和已有记录清单（不含任何户的资料），交给新的乡镇或电脑导入，让对方能给本机导出
        #[arg(long, conflicts_with = "for_peer")]
        introduction: bool,
        /// 只导出当前数据（各项的最新值和未处理的冲突），不含历史修改，给新电脑首次导入；之后照常导入完整的同步文件
        #[arg(long, conflicts_with = "introduction")]
        snapshot: bool,
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

/// Whether a peer's file says it holds ops of devices other than itself.
fn holds_others(holdings: &PeerHoldings, peer: uuid::Uuid) -> bool {
    match holdings {
        PeerHoldings::Exactly(ranges) => ranges.keys().any(|origin| *origin != peer),
        PeerHoldings::AtLeast(vv) => vv.iter().any(|(origin, seq)| *origin != peer && *seq > 0),
    }
}

pub fn run(command: ChangesCommand) -> Result<(), Failure> {
    match command {
        ChangesCommand::Export {
            db,
            out,
            for_peer,
            introduction,
            snapshot,
            json,
        } => {
            let mut store = open_store(&db)?;
            let (peer, to) = match &for_peer {
                Some(file) if file.is_file() => {
                    let (device, holdings) = peer_of_file(&mut store, &read(file)?)?;
                    if snapshot && holds_others(&holdings, device) {
                        return Err(Failure::new(
                            format!(
                                "“{}”来自一台已有其他设备记录的电脑，快照只给新电脑用（导入会把它的旧记录当成冲突）。请去掉 --snapshot，导出它缺少的部分。",
                                file.display()
                            ),
                            "snapshot for a peer that holds ops of other devices",
                        ));
                    }
                    (Some(holdings), SealTo::Devices(vec![device]))
                }
                Some(named) => {
                    let device = find_seal_recipient(&store, &named.to_string_lossy())?;
                    (None, SealTo::Devices(vec![device]))
                }
                None => (None, SealTo::Known),
            };
            let content = if snapshot {
                Content::Snapshot
            } else {
                Content::Missing(peer.as_ref())
            };
            let (bytes, summary) = if introduction {
                export_introduction(&mut store)?
            } else {
                export_sealed_content(&mut store, content, &to)?
            };
            // Whole or not at all: a pulled USB stick never leaves half a file.
            bangfu_core::files::write_file(&out, &bytes)?;
            if json {
                print_json(&summary);
            } else {
                if summary.introduction {
                    println!(
                        "本机还不知道任何其他设备的加密密钥，这次只导出了本机的密钥和已有记录清单到“{}”（不含任何户的资料）。请把它交给乡镇工作站导入，再用乡镇导出给本机的文件导入后重新导出。",
                        out.display()
                    );
                } else {
                    let files = if summary.files > 0 {
                        format!("，附带档案文件 {} 个", summary.files)
                    } else {
                        String::new()
                    };
                    println!(
                        "已导出 {} 条{}{files}到“{}”（{} 字节），已加密，只有这些设备能打开：{}。",
                        summary.ops,
                        if snapshot {
                            "当前数据（快照，不含历史修改）"
                        } else {
                            "修改记录"
                        },
                        out.display(),
                        summary.bytes,
                        summary.sealed_for.join("、")
                    );
                }
            }
        }
        ChangesCommand::Import { db, files, json } => {
            let mut store = open_store(&db)?;
            let mut results = Vec::new();
            let mut failed = 0;
            for file in &files {
                let outcome = import_changeset_file(&mut store, file).map_err(Failure::from);
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
