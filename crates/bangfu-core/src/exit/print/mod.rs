//! The exit procedure's printed forms, through the cards PDF engine:
//!
//! - [`double_confirmation_pdf`]: one household's 《贫困户脱贫销号双认定表》 (or, when it refused
//!   to sign, 《贫困户帮扶情况认定表》) on A4 portrait, ready for the five signatures;
//! - [`notice_list_pdf`]: a village's 拟脱贫户公示名单 for a year on A4 landscape, the header
//!   repeated on every page.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::procedure::{Phase, Step, history, procedure_state};
use super::sheet::{DoubleConfirmationSheet, double_confirmation_sheet};
use super::{ExitError, village_by_code};
use crate::cards::flow::{Block, draw, flow, footer, lines};
use crate::cards::font::{CjkFont, Weight};
use crate::cards::pdf::{Align, Cell, Document, LINE_HEIGHT, MM, PageSize, RowLayout};
use crate::cards::{CardError, NATIONAL_HOTLINE};
use crate::error::UserFacing;
use crate::model::{ExitStep, Household, codes};
use crate::store::{Filter, Store, StoreError};

mod notice;
mod sheet;

pub use notice::notice_list_pdf;
pub use sheet::double_confirmation_pdf;

pub(super) const MARGIN: f32 = 15.0 * MM;
pub(super) const SIZE: f32 = 10.5;
pub(super) const SMALL: f32 = 9.0;
pub(super) const TITLE_SIZE: f32 = 18.0;
/// How tall a signature row is, room for a hand signature and a seal.
pub(super) const SIGN_ROW: f32 = 14.0 * MM;

/// `ExitStep::action` codes (see `codes::EXIT_ACTION`).
pub(super) const ACTION_RECORD: &str = "1";
pub(super) const ACTION_SEND_BACK: &str = "2";
pub(super) const ACTION_RETURN: &str = "3";
pub(super) const RESULT_DISAGREE: &str = "2";

#[derive(Debug, thiserror::Error)]
pub enum ExitPrintError {
    #[error(transparent)]
    Exit(#[from] ExitError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("village {village}: no household proposed for exit in {year}")]
    NoProposedHouseholds { village: String, year: i32 },
    #[error(transparent)]
    File(#[from] crate::files::FileWriteError),
}

impl UserFacing for ExitPrintError {
    fn kind(&self) -> &'static str {
        match self {
            ExitPrintError::Exit(e) => e.kind(),
            ExitPrintError::Card(e) => e.kind(),
            ExitPrintError::Store(e) => e.kind(),
            ExitPrintError::NoProposedHouseholds { .. } => "no_proposed_households",
            ExitPrintError::File(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ExitPrintError::Exit(e) => e.message_zh(),
            ExitPrintError::Card(e) => e.message_zh(),
            ExitPrintError::Store(e) => e.message_zh(),
            ExitPrintError::NoProposedHouseholds { village, year } => format!(
                "{village}{year}年还没有经村两委商议同意的拟脱贫户，没有公示名单可打印。\
                 请先为各户办理入户调查和村两委商议。"
            ),
            ExitPrintError::File(e) => e.message_zh(),
        }
    }
}

pub(super) fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// An amount of money as forms print it: whole yuan without decimals, otherwise two.
pub(super) fn yuan(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The blank a person fills in by hand.
pub(super) const DATE_BLANK: &str = "　　　　年　　月　　日";

/// The records of the household's current round, in order.
pub(super) fn current_round(store: &Store, household_id: Uuid) -> Result<Vec<ExitStep>, ExitError> {
    let rows = history(store, household_id)?;
    let round = rows.iter().filter_map(|r| r.round).max().unwrap_or(1);
    Ok(rows
        .into_iter()
        .filter(|r| r.round == Some(round))
        .collect())
}

pub(super) fn yes_no(v: bool) -> &'static str {
    if v { "是" } else { "否" }
}

/// What a record says besides its step, date and people, as one text.
pub(super) fn record_details(r: &ExitStep) -> String {
    let label = |list: &codes::CodeList, code: &str| list.label(code).unwrap_or("").to_owned();
    let mut parts: Vec<String> = Vec::new();
    if let Some(signed) = r.household_signed {
        parts.push(if signed {
            "贫困户签字认可".into()
        } else {
            "贫困户未签字认可".into()
        });
    }
    if let Some(v) = r.food_secure {
        parts.push(format!("不愁吃：{}", yes_no(v)));
    }
    if let Some(v) = r.clothing_secure {
        parts.push(format!("不愁穿：{}", yes_no(v)));
    }
    if !r.vote_type.is_empty() {
        parts.push(format!(
            "表决方式：{}",
            label(&codes::VOTE_TYPE, &r.vote_type)
        ));
    }
    if !r.vote_result.is_empty() {
        parts.push(format!(
            "结果：{}",
            label(&codes::STEP_RESULT, &r.vote_result)
        ));
    }
    if let Some(v) = r.work_team_present {
        parts.push(format!("驻村工作队参加：{}", yes_no(v)));
    }
    match (r.notice_start, r.notice_end) {
        (Some(s), Some(e)) => parts.push(format!("公示期：{}至{}", date_zh(s), date_zh(e))),
        (Some(s), None) => parts.push(format!("公示自{}起", date_zh(s))),
        _ => {}
    }
    if !r.objections.is_empty() {
        parts.push(format!("异议：{}", r.objections));
    }
    if !r.objection_handling.is_empty() {
        parts.push(format!("异议处理：{}", r.objection_handling));
    }
    if !r.reason.is_empty() {
        parts.push(format!("原因：{}", r.reason));
    }
    if !r.signatures.is_empty() {
        parts.push(format!("签字：{}", r.signatures));
    }
    if !r.notes.is_empty() {
        parts.push(format!("备注：{}", r.notes));
    }
    parts.join("；")
}

pub(super) fn record_step_label(r: &ExitStep) -> String {
    let step = codes::EXIT_STEP.label(&r.step).unwrap_or("");
    match r.action.as_str() {
        ACTION_SEND_BACK => format!("{step}（退回）"),
        ACTION_RETURN => "返贫".into(),
        _ => step.into(),
    }
}
