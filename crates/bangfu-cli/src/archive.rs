//! `bangfu archive add|list|get`: the archive (档案): photos and scans attached to a
//! household's exit steps, visits and measures, listed as the household's 档案目录, and a file
//! saved back out by its SHA-256.

use std::path::{Path, PathBuf};

use bangfu_core::archive::{
    self, AttachmentEntry, NewAttachment, Target, attachable_records, blobs, household_attachments,
};
use bangfu_core::files::write_file;
use clap::Subcommand;

use crate::edit::find_household;
use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// 把照片或扫描件（JPG、PNG、PDF，每个不超过 8 MB）附到一户的退出步骤、走访记录或帮扶措施上
    Add {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 附于：exit-step（脱贫退出步骤）、visit（走访记录）、measure（帮扶措施）
        #[arg(long)]
        to: String,
        /// 所附记录的编号（或其前几位，见 bangfu archive list --household … --records）；
        /// 本户只有一条这种记录时可省略
        #[arg(long)]
        row: Option<String>,
        /// 材料类别：签字表、公示照片、会议记录、走访照片、发放凭证、通知、其他
        #[arg(long, default_value = "签字表")]
        kind: String,
        /// 说明
        #[arg(long, default_value = "")]
        caption: String,
        #[arg(long)]
        json: bool,
        /// 照片或扫描件
        file: PathBuf,
    },
    /// 档案目录：一户（或本机全部）的档案，按所附记录排列
    List {
        #[arg(long)]
        db: PathBuf,
        /// 户编号（省略：本机全部档案）
        #[arg(long)]
        household: Option<String>,
        /// 列出本户可以附档案的记录及其编号
        #[arg(long, requires = "household")]
        records: bool,
        /// 把本户的档案目录存为 PDF（用于打印、装入纸质档案）
        #[arg(long, requires = "household", conflicts_with = "records")]
        pdf: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// 按文件指纹（SHA-256，至少前 8 位）把档案文件存出来
    Get {
        #[arg(long)]
        db: PathBuf,
        hash: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(command: ArchiveCommand) -> Result<(), Failure> {
    match command {
        ArchiveCommand::Add {
            db,
            household,
            to,
            row,
            kind,
            caption,
            json,
            file,
        } => add(
            &db,
            &household,
            &to,
            row.as_deref(),
            &kind,
            &caption,
            json,
            &file,
        ),
        ArchiveCommand::List {
            db,
            household,
            records,
            pdf,
            json,
        } => match (household, pdf) {
            (Some(code), Some(out)) => list_pdf(&db, &code, &out),
            (household, _) => list(&db, household.as_deref(), records, json),
        },
        ArchiveCommand::Get { db, hash, out } => get(&db, &hash, &out),
    }
}

#[allow(clippy::too_many_arguments)]
fn add(
    db: &Path,
    code: &str,
    to: &str,
    row: Option<&str>,
    kind: &str,
    caption: &str,
    json: bool,
    file: &Path,
) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let household = find_household(&store, code)?;
    let target = Target::parse(to)?;
    let candidates: Vec<_> = attachable_records(&store, household.id)?
        .into_iter()
        .filter(|r| r.target == target)
        .filter(|r| row.is_none_or(|row| r.id.to_string().starts_with(row.trim())))
        .collect();
    let chosen = match candidates.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Failure::new(
                format!(
                    "户 {code} 没有{}的{}，未加入档案。可用 bangfu archive list --household {code} --records 查看。",
                    row.map(|r| format!("编号为 {r} ")).unwrap_or_default(),
                    target.label()
                ),
                format!("no {} {row:?} in household {code}", target.code()),
            ));
        }
        several => {
            let mut names: Vec<String> = several
                .iter()
                .take(8)
                .map(|r| format!("{}（{}）", r.label, r.id))
                .collect();
            if several.len() > 8 {
                names.push(format!(
                    "…… 全部见 bangfu archive list --household {code} --records"
                ));
            }
            return Err(Failure::new(
                format!(
                    "户 {code} 有 {} 条{}，请用 --row 指明附在哪一条：{}",
                    several.len(),
                    target.label(),
                    names.join("；")
                ),
                format!("{} rows match", several.len()),
            ));
        }
    };
    let bytes = archive::read_picked_file(file)?;
    let outcome = archive::attach(
        &mut store,
        &NewAttachment {
            household_id: household.id,
            target,
            target_id: chosen.id,
            kind: kind.to_owned(),
            caption: caption.to_owned(),
            file_name: file.to_string_lossy().into_owned(),
        },
        &bytes,
    )?;
    if json {
        print_json(&outcome);
    } else {
        println!(
            "已附到 {}：{}（{} 字节，指纹 {}）{}",
            chosen.label,
            file.display(),
            bytes.len(),
            &outcome.sha256[..16],
            if outcome.file_already_held {
                "。本机已有同一文件，只保存一份。"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn list(db: &Path, code: Option<&str>, records: bool, json: bool) -> Result<(), Failure> {
    let store = open_store(db)?;
    let Some(code) = code else {
        let all = archive::all_attachments(&store)?;
        return print_entries(&store, &all, json, None);
    };
    let household = find_household(&store, code)?;
    if records {
        let records = attachable_records(&store, household.id)?;
        if json {
            print_json(&records);
        } else {
            for r in records {
                println!("{}\t{}", r.id, r.label);
            }
        }
        return Ok(());
    }
    let entries = household_attachments(&store, household.id)?;
    print_entries(&store, &entries, json, Some(code))
}

fn print_entries(
    store: &bangfu_core::store::Store,
    entries: &[AttachmentEntry],
    json: bool,
    code: Option<&str>,
) -> Result<(), Failure> {
    if json {
        print_json(&entries);
        return Ok(());
    }
    match code {
        Some(code) => println!("户 {code} 档案目录（共 {} 份）", entries.len()),
        None => println!("本机档案（共 {} 份）", entries.len()),
    }
    for (i, e) in entries.iter().enumerate() {
        let household = if code.is_none() {
            store
                .get::<bangfu_core::model::Household>(e.household_id)
                .map(|h| format!("{}  ", h.code))
                .unwrap_or_default()
        } else {
            String::new()
        };
        println!(
            "{:>3}. {household}{}  {}  {}  {}  {} KB  {}{}",
            i + 1,
            e.target_label,
            e.kind,
            if e.caption.is_empty() {
                "—"
            } else {
                &e.caption
            },
            e.file_name,
            e.size.div_ceil(1024),
            &e.sha256[..16.min(e.sha256.len())],
            if e.held {
                ""
            } else {
                "  （文件未到本机）"
            }
        );
    }
    Ok(())
}

fn list_pdf(db: &Path, code: &str, out: &Path) -> Result<(), Failure> {
    let store = open_store(db)?;
    find_household(&store, code)?;
    let bytes = bangfu_core::cards::archive_list_pdf(&store, code)?;
    write_file(out, &bytes)?;
    println!("已把户 {code} 的档案目录存为“{}”。", out.display());
    Ok(())
}

fn get(db: &Path, hash: &str, out: &Path) -> Result<(), Failure> {
    let store = open_store(db)?;
    let sha256 = blobs::find_blob(&store, hash)?.ok_or_else(|| {
        Failure::new(
            format!(
                "本机没有指纹以 {hash} 开头的档案文件（或不止一个），请核对指纹（至少前 8 位）。"
            ),
            format!("no single held file {hash}"),
        )
    })?;
    let (media, bytes) = archive::blob_bytes_for_person(&store, &sha256)?;
    write_file(out, &bytes)?;
    println!(
        "已存出 {}（{}，{} 字节）。",
        out.display(),
        media.label(),
        bytes.len()
    );
    Ok(())
}
