//! 脱贫退出: the exit standards per year and province, the evaluation of a household against
//! them (一超 两不愁 三保障 + 安全饮水), the household procedure as a state machine over its
//! replicated, append-only steps, the village exit checks and the figures stations watch.
//!
//! Architecture Invariant: the procedure's steps are written only here, only through
//! `Store::write`, and never deleted; a step that turns out wrong is sent back or left in the
//! trail as irregular, so the archive inspectors read is the whole history.

pub mod batch;
pub mod document;
pub mod evaluate;
pub mod forms;
pub mod print;
pub mod procedure;
pub mod sheet;
pub mod standards;
pub mod status;
pub mod trail;
pub mod village;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::UserFacing;
use crate::model::{Household, Village};
use crate::store::{Filter, Store, StoreError};

pub use batch::{
    BatchFailure, BatchOutcome, BatchStep, HouseholdException, exception_not_needed_note,
    households_due_for_step, record_step_for_households,
};
pub use document::ExitDocument;
pub use evaluate::{CheckResult, CheckStatus, DataItem, HouseholdEvaluation, evaluate_household};
pub use forms::{ExitVocabulary, StepForm, exit_vocabulary};
pub use print::{ExitPrintError, double_confirmation_pdf, notice_list_pdf};
pub use procedure::{
    Phase, ProcedureState, Signer, Step, StepRecord, procedure_state, record_step,
};
pub use sheet::{DoubleConfirmationSheet, double_confirmation_sheet};
pub use standards::{ExitStandard, LineFall, list_standards, set_standard, standard_for};
pub use status::{ExitOverview, VillageProgress, exit_overview, village_progress};
pub use trail::{ExitAction, ProcedureTrail, act, procedure_trail};
pub use village::{VillageEvaluation, evaluate_village};

#[derive(Debug, thiserror::Error)]
pub enum ExitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("household {code} not found")]
    HouseholdNotFound { code: String },
    #[error("household code {code} is used {count} times")]
    DuplicateHouseholdCode { code: String, count: usize },
    #[error("village {code} not found")]
    VillageNotFound { code: String },
    #[error("no exit standard for {year}")]
    NoStandard { year: i32 },
    #[error("the {province} line falls from {} to {}", fall.earlier_year, fall.later_year)]
    LineFalls {
        province: String,
        fall: standards::LineFall,
    },
    #[error("bad exit standard: {field}")]
    BadStandard { field: &'static str },
    #[error("unknown step {text}")]
    UnknownStep { text: String },
    #[error("step {got} recorded while {expected} is next")]
    WrongStep {
        expected: &'static str,
        got: &'static str,
        /// The expected step is a redo after a send-back.
        redo: bool,
    },
    #[error("step {step} is not recorded in this pass, cannot send it back")]
    NotRecorded { step: &'static str },
    #[error("the household has already exited")]
    AlreadyExited,
    #[error("the household has not exited")]
    NotExited,
    #[error("open conflict on procedure record {seq}")]
    OpenConflict { seq: i64, step: &'static str },
    #[error("procedure record {seq} has not arrived")]
    MissingRecord { seq: i64 },
    #[error("procedure record {seq} is incomplete")]
    IncompleteRecord { seq: i64 },
    #[error("procedure record {seq} of another household")]
    ForeignRecord { seq: i64 },
    #[error("missing {field}")]
    Missing { field: &'static str },
    #[error("{date} is before the previous step's {previous}")]
    DateBeforePrevious {
        date: NaiveDate,
        previous: NaiveDate,
    },
    #[error("the work team did not take part in the deliberation")]
    WorkTeamAbsent,
    #[error("deliberation agrees without a recorded exception: {why}")]
    ExceptionUnrecorded { why: String },
    #[error("notice from {start} to {end} is shorter than {required} days")]
    NoticeTooShort {
        start: NaiveDate,
        end: NaiveDate,
        required: i64,
    },
    #[error("notice recorded on {date} before it ends on {end}")]
    NoticeNotOver { date: NaiveDate, end: NaiveDate },
    #[error("objections without how they were settled")]
    ObjectionsUnsettled,
    #[error("bad code {value} for {field}")]
    BadCode { field: &'static str, value: String },
    #[error("signer missing for role {role}")]
    SignerMissing {
        step: &'static str,
        role: &'static str,
    },
    #[error("unknown signer role {role}")]
    UnknownSignerRole { step: &'static str, role: String },
    #[error("democratic review figures do not add up")]
    ReviewFigures { attendance: i64, agreed: i64 },
    #[error("democratic review without a majority")]
    ReviewWithoutMajority { attendance: i64, agreed: i64 },
    #[error("democratic review after the notice started")]
    ReviewAfterNotice { review: NaiveDate, start: NaiveDate },
    #[error("a step for a list of households without households")]
    BatchEmpty,
    #[error("household {code} twice in one list")]
    BatchDuplicate { code: String },
    #[error("an exception reason given for {step}, not for the deliberation")]
    ExceptionOutsideDeliberation { step: &'static str },
    #[error("exception for household {code}, which is not in the list")]
    ExceptionNotListed { code: String },
    #[error("two exceptions for household {code}")]
    ExceptionTwice { code: String },
    #[error("{} of the list cannot take {step}", failed.len())]
    BatchRefused {
        step: &'static str,
        /// 户编号 and the single-step refusal of each household that failed.
        failed: Vec<(String, String)>,
    },
}

impl UserFacing for ExitError {
    fn kind(&self) -> &'static str {
        match self {
            ExitError::Store(e) => e.kind(),
            ExitError::HouseholdNotFound { .. } => "household_not_found",
            ExitError::DuplicateHouseholdCode { .. } => "duplicate_household_code",
            ExitError::VillageNotFound { .. } => "village_not_found",
            ExitError::NoStandard { .. } => "no_exit_standard",
            ExitError::BadStandard { .. } => "bad_exit_standard",
            ExitError::LineFalls { .. } => "income_line_falls",
            ExitError::UnknownStep { .. } => "unknown_step",
            ExitError::WrongStep { .. } => "wrong_step",
            ExitError::NotRecorded { .. } => "step_not_recorded",
            ExitError::AlreadyExited => "already_exited",
            ExitError::NotExited => "not_exited",
            ExitError::OpenConflict { .. } => "open_conflict",
            ExitError::MissingRecord { .. } => "missing_record",
            ExitError::IncompleteRecord { .. } => "incomplete_record",
            ExitError::ForeignRecord { .. } => "foreign_record",
            ExitError::Missing { .. } => "missing_field",
            ExitError::DateBeforePrevious { .. } => "date_before_previous",
            ExitError::WorkTeamAbsent => "work_team_absent",
            ExitError::ExceptionUnrecorded { .. } => "exception_unrecorded",
            ExitError::NoticeTooShort { .. } => "notice_too_short",
            ExitError::NoticeNotOver { .. } => "notice_not_over",
            ExitError::ObjectionsUnsettled => "objections_unsettled",
            ExitError::BadCode { .. } => "bad_code",
            ExitError::SignerMissing { .. } => "signer_missing",
            ExitError::UnknownSignerRole { .. } => "unknown_signer_role",
            ExitError::ReviewFigures { .. } => "review_figures",
            ExitError::ReviewWithoutMajority { .. } => "review_without_majority",
            ExitError::ReviewAfterNotice { .. } => "review_after_notice",
            ExitError::BatchEmpty => "batch_empty",
            ExitError::BatchDuplicate { .. } => "batch_duplicate",
            ExitError::BatchRefused { .. } => "batch_refused",
            ExitError::ExceptionOutsideDeliberation { .. } => "exception_outside_deliberation",
            ExitError::ExceptionNotListed { .. } => "exception_not_listed",
            ExitError::ExceptionTwice { .. } => "exception_twice",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ExitError::Store(e) => e.message_zh(),
            ExitError::HouseholdNotFound { code } => format!("找不到户编号为 {code} 的户。"),
            ExitError::DuplicateHouseholdCode { code, count } => {
                format!("户编号 {code} 有 {count} 户重复，请先在“冲突与重复”中处理。")
            }
            ExitError::VillageNotFound { code } => format!("找不到村代码为 {code} 的村。"),
            ExitError::NoStandard { year } => {
                format!("没有 {year} 年的脱贫标准（贫困线），请先在“脱贫标准”中填写。")
            }
            ExitError::BadStandard { field } => {
                format!("脱贫标准的“{field}”填写不正确，请改正后再保存。")
            }
            ExitError::LineFalls { province, fall } => fall.message_zh(province),
            ExitError::UnknownStep { text } => format!(
                "没有“{text}”这一步。退出程序为：入户调查、村两委商议、村评议公示、乡镇核查公告、县审定销号，另有返贫。"
            ),
            ExitError::WrongStep {
                expected,
                got,
                redo: true,
            } => format!("{expected}已被退回，须先重新办理{expected}，不能办理{got}。"),
            ExitError::WrongStep { expected, got, .. } => {
                format!("退出程序不能跳过或颠倒：下一步应办理{expected}，不能办理{got}。")
            }
            ExitError::NotRecorded { step } => {
                format!("本轮还没有办理{step}，不能退回。")
            }
            ExitError::AlreadyExited => {
                "该户已县审定销号，退出程序已办完；如返贫请办理返贫。".into()
            }
            ExitError::NotExited => "该户尚未县审定销号，不能办理返贫。".into(),
            ExitError::OpenConflict { seq, step } => format!(
                "该户退出程序第 {seq} 条记录（{step}）在两台电脑上录入不一致，请先在“冲突与重复”中处理，再办理下一步。"
            ),
            ExitError::MissingRecord { seq } => format!(
                "该户退出程序缺少第 {seq} 条记录（尚未同步过来），请先导入其他电脑的同步文件。"
            ),
            ExitError::IncompleteRecord { seq } => format!(
                "该户退出程序第 {seq} 条记录不完整（缺少步骤或操作），请先导入其他电脑的同步文件。"
            ),
            ExitError::ForeignRecord { seq } => {
                format!("退出程序第 {seq} 条记录属于其他户，数据异常，请联系乡镇工作站。")
            }
            ExitError::Missing { field } => format!("请填写“{field}”。"),
            ExitError::ExceptionUnrecorded { why } => format!(
                "该户{why}，村两委商议同意其退出须写明理由和决定人（姓名、职务）；否则请选择“不同意”或先补齐材料。"
            ),
            ExitError::DateBeforePrevious { date, previous } => {
                format!("日期 {date} 早于上一步的日期 {previous}，程序不能倒序办理，请核对日期。")
            }
            ExitError::WorkTeamAbsent => "村两委商议必须有驻村工作队参加。".into(),
            ExitError::NoticeTooShort {
                start,
                end,
                required,
            } => format!("公示期 {start} 至 {end} 不足 {required} 天。"),
            ExitError::NoticeNotOver { date, end } => {
                format!("公示到 {end} 才结束，{date} 还不能办理村评议公示。")
            }
            ExitError::ObjectionsUnsettled => "公示有异议的，请填写“异议处理结果”。".into(),
            ExitError::BadCode { field, value } => format!("“{field}”不能填“{value}”。"),
            ExitError::SignerMissing { step, role } => {
                format!("{step}须由{role}签字，请填写{role}的姓名。")
            }
            ExitError::UnknownSignerRole { step, role } => {
                format!("{step}的签字人没有“{role}”这一职务。")
            }
            ExitError::ReviewFigures { attendance, agreed } => format!(
                "民主评议参加{attendance}人、同意{agreed}人：参加人数应大于0，同意人数不能多于参加人数。"
            ),
            ExitError::ReviewWithoutMajority { attendance, agreed } => format!(
                "民主评议参加{attendance}人，同意的只有{agreed}人，未过半数，不能列入脱贫公示名单。"
            ),
            ExitError::ReviewAfterNotice { review, start } => {
                format!("民主评议日期 {review} 晚于公示开始日期 {start}：先评议提出名单，再公示。")
            }
            ExitError::BatchEmpty => "请至少选择一户。".into(),
            ExitError::BatchDuplicate { code } => {
                format!("户 {code} 在名单中出现了两次，请核对名单。")
            }
            ExitError::ExceptionOutsideDeliberation { step } => {
                format!("例外理由只在村两委商议时记录，{step}不能填写，请去掉例外理由。")
            }
            ExitError::ExceptionNotListed { code } => {
                format!("户 {code} 写了例外理由，但不在本次办理的名单中，请核对户编号。")
            }
            ExitError::ExceptionTwice { code } => {
                format!("户 {code} 写了两条例外理由，请只保留一条。")
            }
            ExitError::BatchRefused { step, failed } => {
                let list: Vec<String> = failed
                    .iter()
                    .map(|(code, reason)| format!("户 {code}：{reason}"))
                    .collect();
                format!(
                    "名单中有 {} 户不能办理{step}，全部未保存。{}如要先为其余各户办理，请选择“跳过不符合的户”。",
                    failed.len(),
                    list.join("")
                )
            }
        }
    }
}

/// The one live household with this code (户编号).
pub fn household_by_code(store: &Store, code: &str) -> Result<Household, ExitError> {
    let mut found: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| h.code == code)
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ExitError::HouseholdNotFound { code: code.into() }),
        count => Err(ExitError::DuplicateHouseholdCode {
            code: code.into(),
            count,
        }),
    }
}

/// The live village with this code (村代码).
pub fn village_by_code(store: &Store, code: &str) -> Result<Village, ExitError> {
    store
        .read::<Village>(Filter::All)?
        .into_iter()
        .find(|v| v.code == code)
        .ok_or_else(|| ExitError::VillageNotFound { code: code.into() })
}

/// The province a household's standard is looked up for: its village's.
fn province_of(store: &Store, household: &Household) -> Result<String, StoreError> {
    let Some(village) = household.village_id else {
        return Ok(String::new());
    };
    Ok(store
        .read::<Village>(Filter::Id(village))?
        .into_iter()
        .next()
        .map(|v| v.province)
        .unwrap_or_default())
}

/// A household's row id is stable; a procedure record's id is derived from it and the
/// record's position, so every device picks the same id for "the next record".
fn derived_id(household: Uuid, seq: i64) -> Uuid {
    crate::model::key_id(&[
        b"bangfu/exit_step/",
        household.as_bytes(),
        &seq.to_le_bytes(),
    ])
}
