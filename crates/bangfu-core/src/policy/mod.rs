//! Policies as data (issue 17): the county's yearly catalogue of what each kind of household or
//! person is owed (`catalogue.rs` over the report's policies in `shipped.rs`, rules in
//! `rule.rs`), structured measures and their payments (`measures.rs`), who qualifies and has
//! not received, or received more than the rule allows (`due.rs`), and a township's funds
//! (`funds.rs`), and the stages of relocated households' new houses (`relocation.rs`).

pub mod catalogue;
pub mod due;
pub mod funds;
pub mod measures;
pub mod payments;
pub mod relocation;
pub mod rule;
mod shipped;
pub mod training;

pub use catalogue::{
    Part, PolicyDef, clear_policy, list_policies, policies_in_force, policy_id, policy_of,
    set_policy,
};
pub use due::{DueState, Entitlement, PolicyDue, PolicyTotals, household_due, scope_due};
pub use funds::{FundLine, TownshipFunds, township_funds, write_township_funds};
pub use measures::{
    MeasureMatch, NewPayment, PolicyMeasure, match_free_text_measures, record_payment,
    record_policy_measure,
};
pub use payments::{MeasurePayments, PaymentLine, household_measures};
pub use relocation::{
    HouseholdRelocation, MoveOffer, NewStage, RecordedStage, RelocationProgress, SiteVillage,
    SiteVillageHint, StageLine, StageSaved, household_relocation, move_offer, record_stage,
    record_stage_for_page, relocation_progress, set_site_village,
};
pub use rule::{FundFormula, HouseholdCondition, MemberCondition, Rule, Share};
pub use training::{NewTraining, record_training};

use crate::error::UserFacing;
use crate::ledger::LedgerError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scope(#[from] LedgerError),
    #[error(transparent)]
    Move(#[from] crate::moving::MoveError),
    #[error("no policy {code} in {year}")]
    UnknownPolicy { year: i32, code: String },
    #[error("policy {code} of {year} is not in force")]
    NotInForce { year: i32, code: String },
    #[error("bad policy: {field}")]
    BadPolicy { field: &'static str },
    #[error("the rule names an unknown code {code}")]
    UnknownCodeInRule { code: String },
    #[error("parts add up to {sum}, not {amount}")]
    PartsDoNotAddUp { sum: f64, amount: f64 },
    #[error("policy {code} is a township fund, not for a household")]
    TownshipFund { code: String },
    #[error("member {member} is not of household {household}")]
    MemberNotInHousehold {
        member: uuid::Uuid,
        household: uuid::Uuid,
    },
    #[error("policy {code} is for a member; none named")]
    MemberRequired { code: String },
    #[error("measure {id} not found")]
    MeasureNotFound { id: uuid::Uuid },
    #[error("household {id} not found")]
    HouseholdNotFound { id: uuid::Uuid },
    #[error("stage {stage} already recorded on {date:?}")]
    StageRecorded {
        stage: String,
        date: Option<chrono::NaiveDate>,
    },
    #[error("stage {stage} on {date} is out of order with {other} on {other_date}")]
    StageOutOfOrder {
        stage: String,
        date: chrono::NaiveDate,
        other: String,
        other_date: chrono::NaiveDate,
        /// Whether `other` comes before `stage` in the order of the stages.
        other_is_earlier: bool,
    },
    #[error("household has no 入住 stage to name its site's village on")]
    NotMovedIn,
    #[error("unknown training kind {0}")]
    UnknownTrainingKind(String),
    #[error("encoding a policy: {0}")]
    Encode(serde_json::Error),
}

impl UserFacing for PolicyError {
    fn kind(&self) -> &'static str {
        match self {
            PolicyError::Store(e) => e.kind(),
            PolicyError::Scope(e) => e.kind(),
            PolicyError::Move(e) => e.kind(),
            PolicyError::UnknownPolicy { .. } => "unknown_policy",
            PolicyError::NotInForce { .. } => "policy_not_in_force",
            PolicyError::BadPolicy { .. } => "bad_policy",
            PolicyError::UnknownCodeInRule { .. } => "unknown_code_in_rule",
            PolicyError::PartsDoNotAddUp { .. } => "policy_parts_do_not_add_up",
            PolicyError::TownshipFund { .. } => "policy_is_township_fund",
            PolicyError::MemberNotInHousehold { .. } => "member_not_in_household",
            PolicyError::MemberRequired { .. } => "policy_member_required",
            PolicyError::MeasureNotFound { .. } => "measure_not_found",
            PolicyError::HouseholdNotFound { .. } => "household_not_found",
            PolicyError::StageRecorded { .. } => "relocation_stage_recorded",
            PolicyError::StageOutOfOrder { .. } => "relocation_stage_out_of_order",
            PolicyError::NotMovedIn => "relocation_not_moved_in",
            PolicyError::UnknownTrainingKind(_) => "unknown_training_kind",
            PolicyError::Encode(_) => "policy_encode",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            PolicyError::Store(e) => e.message_zh(),
            PolicyError::Scope(e) => e.message_zh(),
            PolicyError::Move(e) => e.message_zh(),
            PolicyError::UnknownPolicy { year, code } => {
                format!("{year}年的政策目录中没有代码为 {code} 的政策，请先核对政策目录。")
            }
            PolicyError::NotInForce { year, code } => {
                format!("政策 {code} 在{year}年已停止执行，不能再按它登记帮扶措施。")
            }
            PolicyError::BadPolicy { field } => {
                format!("扶贫政策的“{field}”填写不正确，请改正后再保存。")
            }
            PolicyError::UnknownCodeInRule { code } => {
                format!("享受条件中的“{code}”不是表格中的选项，请按建档立卡表的选项填写享受条件。")
            }
            PolicyError::PartsDoNotAddUp { sum, amount } => {
                format!("资金分配各项合计 {sum} 元，与补助标准 {amount} 元不符，请核对后再保存。")
            }
            PolicyError::TownshipFund { code } => format!(
                "政策 {code} 是拨付给乡（镇）的经费，不按户登记帮扶措施；请在乡镇经费表中查看。"
            ),
            PolicyError::MemberNotInHousehold { .. } => {
                "所选受益成员不是本户的家庭成员，请重新选择。".into()
            }
            PolicyError::MemberRequired { code } => {
                format!("政策 {code} 按人享受，请选择受益的家庭成员。")
            }
            PolicyError::MeasureNotFound { .. } => {
                "找不到这条帮扶措施（可能已被删除），发放记录未保存。".into()
            }
            PolicyError::HouseholdNotFound { .. } => {
                "找不到这一户（可能已被删除），搬迁进度未保存。".into()
            }
            PolicyError::StageRecorded { stage, date } => match date {
                Some(date) => format!("本户已登记过“{stage}”（{date}），同一进度不能重复登记。"),
                None => format!("本户已登记过“{stage}”，同一进度不能重复登记。"),
            },
            PolicyError::StageOutOfOrder {
                stage,
                date,
                other,
                other_date,
                other_is_earlier,
            } => {
                let order = if *other_is_earlier {
                    "早于"
                } else {
                    "晚于"
                };
                format!(
                    "“{stage}”的日期 {date} {order}已登记的“{other}”（{other_date}），\
                     请核对日期：建设进度应按开工、基础、主体、竣工、入住的先后。"
                )
            }
            PolicyError::NotMovedIn => {
                "本户还没有登记“入住”：安置点所在村在登记入住时填写。".into()
            }
            PolicyError::UnknownTrainingKind(text) => {
                format!("培训类别“{text}”不在表内，应为：引导性培训、技能培训。")
            }
            PolicyError::Encode(_) => "政策内容无法保存（程序内部错误），本次修改未保存。".into(),
        }
    }
}
