//! `bangfu cards` and `bangfu visits-sheet`: help-contact cards and visit sheets as PDF files.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use bangfu_core::cards::{
    CardConfig, CardLayout, CardRequest, NATIONAL_HOTLINE, help_cards_pdf, visits_sheet_pdf,
};
use clap::{Args, ValueEnum};

use crate::{Failure, open_store};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// 每张 A5 纸一张卡
    A5,
    /// 每张 A4 纸（横向）两张卡，中间有裁切线
    A4x2,
}

#[derive(Debug, Args)]
pub struct CardsArgs {
    #[arg(long)]
    db: PathBuf,
    /// 只打印这个村（村代码）
    #[arg(long)]
    village: Option<String>,
    /// 只打印这一户（户编号）
    #[arg(long)]
    household: Option<String>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "a5")]
    layout: LayoutArg,
    /// 监督举报电话（默认为全国扶贫监督举报电话 12317，请按本县号码设置）
    #[arg(long)]
    hotline: Option<String>,
    /// 县名（默认取各村所属县）
    #[arg(long)]
    county: Option<String>,
    /// 列出哪一年的帮扶措施（默认每户最近一年）
    #[arg(long)]
    year: Option<i64>,
}

#[derive(Debug, Args)]
pub struct VisitsSheetArgs {
    #[arg(long)]
    db: PathBuf,
    #[arg(long)]
    household: String,
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn write_pdf(out: &Path, bytes: &[u8]) -> Result<(), Failure> {
    Ok(bangfu_core::files::write_file(out, bytes)?)
}

pub fn cards(args: CardsArgs) -> Result<(), Failure> {
    let store = open_store(&args.db)?;
    if args.hotline.is_none() {
        eprintln!(
            "提示：未指定 --hotline，卡上印的是全国扶贫监督举报电话 {NATIONAL_HOTLINE}；如本县另有号码请指定。"
        );
    }
    let request = CardRequest {
        village: args.village,
        household: args.household,
        layout: match args.layout {
            LayoutArg::A5 => CardLayout::A5,
            LayoutArg::A4x2 => CardLayout::A4x2,
        },
        config: CardConfig {
            county_name: args.county.unwrap_or_default(),
            hotline: args.hotline.unwrap_or_else(|| NATIONAL_HOTLINE.to_owned()),
        },
        year: args.year,
        ..CardRequest::default()
    };
    let mut total_cards = 0;
    let bytes = help_cards_pdf(&store, &request, &mut |done, total| {
        total_cards = total;
        if done % 100 == 0 && done < total {
            eprintln!("已排版 {done}/{total} 张");
        }
        ControlFlow::Continue(())
    })?;
    write_pdf(&args.out, &bytes)?;
    println!(
        "已生成 {total_cards} 张帮扶联系卡：{}（{} KB）",
        args.out.display(),
        bytes.len() / 1024
    );
    Ok(())
}

pub fn visits_sheet(args: VisitsSheetArgs) -> Result<(), Failure> {
    let store = open_store(&args.db)?;
    let bytes = visits_sheet_pdf(&store, &args.household)?;
    write_pdf(&args.out, &bytes)?;
    println!(
        "已生成户 {} 的走访记录：{}",
        args.household,
        args.out.display()
    );
    Ok(())
}
