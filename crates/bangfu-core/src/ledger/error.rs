//! Errors of exporting ledgers and importing rolls, with the message a village worker reads.

use std::path::PathBuf;

use crate::error::UserFacing;
use crate::exit::ExitError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Evaluating exit readiness for a report failed (e.g. no standard for the year).
    #[error("exit readiness: {0}")]
    Exit(#[from] ExitError),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error(transparent)]
    File(#[from] crate::files::FileWriteError),
    #[error("reading {path}: {source}")]
    ReadWorkbook {
        path: PathBuf,
        source: calamine::Error,
    },
    #[error("reading {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading CSV {path}: {source}")]
    ReadCsv { path: PathBuf, source: csv::Error },
    #[error("{path}: unsupported file type")]
    UnsupportedFile { path: PathBuf },
    #[error("{path}: no sheet with data")]
    EmptyRoll { path: PathBuf },
    #[error("{path}: no header row found")]
    NoHeader { path: PathBuf },
    #[error("{path}: required columns missing: {missing:?}")]
    MissingColumns {
        path: PathBuf,
        missing: Vec<&'static str>,
    },
    #[error("no village with code {code}")]
    UnknownVillage { code: String },
    #[error("no township named {name}")]
    UnknownTownship { name: String },
}

impl UserFacing for LedgerError {
    fn kind(&self) -> &'static str {
        match self {
            LedgerError::Store(e) => e.kind(),
            LedgerError::Exit(e) => e.kind(),
            LedgerError::Write { .. } => "ledger_write",
            LedgerError::File(e) => e.kind(),
            LedgerError::ReadWorkbook { .. } => "roll_unreadable",
            LedgerError::ReadFile { .. } => "roll_unreadable",
            LedgerError::ReadCsv { .. } => "roll_unreadable",
            LedgerError::UnsupportedFile { .. } => "roll_unsupported",
            LedgerError::EmptyRoll { .. } => "roll_empty",
            LedgerError::NoHeader { .. } => "roll_no_header",
            LedgerError::MissingColumns { .. } => "roll_missing_columns",
            LedgerError::UnknownVillage { .. } => "unknown_village",
            LedgerError::UnknownTownship { .. } => "unknown_township",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            LedgerError::Store(e) => e.message_zh(),
            LedgerError::Exit(e) => e.message_zh(),
            LedgerError::Write { path, .. } => format!(
                "无法写入台帐文件“{}”：请检查文件是否正在 Excel 中打开、文件夹是否可写、磁盘是否已满。",
                path.display()
            ),
            LedgerError::File(e) => e.message_zh(),
            LedgerError::ReadWorkbook { path, .. } => format!(
                "无法读取表格“{}”：文件可能已损坏、有密码，或不是 Excel 文件。请在 Excel 中打开后另存为 .xlsx 再试。",
                path.display()
            ),
            LedgerError::ReadFile { path, .. } => {
                format!("无法读取文件“{}”，请检查文件是否存在。", path.display())
            }
            LedgerError::ReadCsv { path, .. } => format!(
                "无法读取 CSV 文件“{}”：格式有误。请在 Excel 中打开后另存为 .xlsx 再试。",
                path.display()
            ),
            LedgerError::UnsupportedFile { path } => format!(
                "不能导入“{}”：只支持 .xlsx、.xls 和 .csv 文件。",
                path.display()
            ),
            LedgerError::EmptyRoll { path } => {
                format!("表格“{}”中没有数据，未导入任何内容。", path.display())
            }
            LedgerError::NoHeader { path } => format!(
                "表格“{}”中找不到表头：前 10 行中没有“姓名”“证件号码”“与户主关系”等列名。未导入任何内容。",
                path.display()
            ),
            LedgerError::MissingColumns { path, missing } => format!(
                "表格“{}”缺少以下列：{}。请补上这些列后再导入，未导入任何内容。",
                path.display(),
                missing.join("、")
            ),
            LedgerError::UnknownVillage { code } => {
                format!("数据文件中没有村代码为 {code} 的村。")
            }
            LedgerError::UnknownTownship { name } => {
                format!("数据文件中没有名为“{name}”的乡镇。")
            }
        }
    }
}
