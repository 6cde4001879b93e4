//! Printing: help-contact cards (帮扶联系卡) of one household or a whole village, and a
//! household's visit sheet (走访记录), as PDF with the CJK font embedded.
//!
//! [`help_cards`] gathers what a card shows ([`HelpCard`], also what a preview screen renders);
//! [`help_cards_pdf`] lays the cards out on A5 pages or two to an A4 sheet; [`pdf`] is the
//! reusable engine other printed forms use.

mod archive_list;
mod card;
pub mod flow;
pub mod font;
mod layout;
pub mod pdf;
pub mod qr;
mod visits;

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use archive_list::archive_list_pdf;
pub use card::{CardCadre, CardMeasure, CardTeamMember, HelpCard, help_cards};
pub use layout::{bench_cards, help_cards_pdf};
pub use visits::visits_sheet_pdf;

use crate::error::UserFacing;
use crate::store::StoreError;

/// The national poverty-alleviation supervision hotline, printed when a county has not set its
/// own number.
pub const NATIONAL_HOTLINE: &str = "12317";

/// A county's settings for its cards.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardConfig {
    /// Printed before the title's place line; empty takes the county of each village.
    pub county_name: String,
    /// 监督举报电话.
    pub hotline: String,
}

impl Default for CardConfig {
    fn default() -> Self {
        CardConfig {
            county_name: String::new(),
            hotline: NATIONAL_HOTLINE.to_owned(),
        }
    }
}

/// How cards sit on paper.
#[derive(ts_rs::TS, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardLayout {
    /// One card per A5 page.
    #[default]
    A5,
    /// Two A5 cards side by side on a landscape A4 sheet, with cut marks between them.
    A4x2,
}

/// Which cards to print and how.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardRequest {
    /// 村代码 of one village; `None` with no household prints every household of the file.
    pub village: Option<String>,
    /// 户编号 of one household.
    pub household: Option<String>,
    /// Only these households (a list screen's selection); empty does not narrow.
    pub household_ids: Vec<Uuid>,
    pub layout: CardLayout,
    pub config: CardConfig,
    /// The year whose 帮扶措施 the card lists; `None` takes each household's latest year.
    pub year: Option<i64>,
    /// The date printed on the card; `None` is today by the store's clock.
    pub printed_on: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("no CJK font found (tried {tried:?}; set BANGFU_CJK_FONT)")]
    NoCjkFont { tried: Vec<PathBuf> },
    #[error("font {path}: {source}")]
    FontUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("font {path}: not a readable font file")]
    FontInvalid { path: PathBuf },
    #[error("font {path}: has no Chinese characters")]
    FontNotChinese { path: PathBuf },
    #[error("village {code} not found")]
    VillageNotFound { code: String },
    #[error("household {code} not found")]
    HouseholdNotFound { code: String },
    #[error("household code {code} is used by {count} households")]
    DuplicateHousehold { code: String, count: usize },
    #[error("no households to print")]
    NothingToPrint,
    #[error("printing cancelled")]
    Cancelled,
    #[error("household {code}: card content does not fit even at the smallest type size")]
    CardTooLong { code: String },
    #[error("QR code for {text}: {detail}")]
    QrCode { text: String, detail: String },
    #[error("bad page size {width}x{height}")]
    PageSize { width: f32, height: f32 },
    #[error("writing PDF: {detail}")]
    Pdf { detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UserFacing for CardError {
    fn kind(&self) -> &'static str {
        match self {
            CardError::NoCjkFont { .. } => "no_cjk_font",
            CardError::FontUnreadable { .. } => "font_unreadable",
            CardError::FontInvalid { .. } => "font_invalid",
            CardError::FontNotChinese { .. } => "font_not_chinese",
            CardError::VillageNotFound { .. } => "village_not_found",
            CardError::HouseholdNotFound { .. } => "household_not_found",
            CardError::DuplicateHousehold { .. } => "duplicate_household",
            CardError::NothingToPrint => "nothing_to_print",
            CardError::Cancelled => "cancelled",
            CardError::CardTooLong { .. } => "card_too_long",
            CardError::QrCode { .. } => "qr_code",
            CardError::PageSize { .. } => "page_size",
            CardError::Pdf { .. } => "pdf",
            CardError::Store(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            CardError::NoCjkFont { .. } => format!(
                "找不到中文字体，无法打印。请安装思源黑体（Noto Sans CJK，如 apt install fonts-noto-cjk），\
                 或用环境变量 {} 指定一个中文字体文件。",
                font::FONT_ENV
            ),
            CardError::FontUnreadable { path, .. } => {
                format!("读不了字体文件 {}，请检查文件是否存在。", path.display())
            }
            CardError::FontInvalid { path } => {
                format!("{} 不是可用的字体文件。", path.display())
            }
            CardError::FontNotChinese { path } => {
                format!("字体 {} 不含汉字，请换一个中文字体。", path.display())
            }
            CardError::VillageNotFound { code } => format!("找不到村代码为 {code} 的村。"),
            CardError::HouseholdNotFound { code } => format!("找不到户编号为 {code} 的户。"),
            CardError::DuplicateHousehold { code, count } => {
                format!("户编号 {code} 有 {count} 户重复，请先在“冲突与重复”中处理后再打印。")
            }
            CardError::NothingToPrint => "没有可打印的户。".to_owned(),
            CardError::Cancelled => "已取消，没有生成文件。".to_owned(),
            CardError::CardTooLong { code } => format!(
                "户 {code} 的帮扶联系卡内容太多，缩到最小字号仍排不下，请精简帮扶措施的文字。"
            ),
            CardError::QrCode { text, .. } => format!("无法为 {text} 生成二维码。"),
            CardError::PageSize { .. } | CardError::Pdf { .. } => {
                "生成 PDF 文件时出错，请重试；如仍出错请联系技术支持。".to_owned()
            }
            CardError::Store(e) => e.message_zh(),
        }
    }
}
