//! The 退出 tab's vocabulary: which fields each step's form asks for, who signs it, how notice
//! days are counted, and how a trail record reads in one cell. The UI receives all of it through
//! a command and restates none of it.

use chrono::NaiveDate;
use serde::Serialize;

use super::procedure::Step;
use crate::model::{ExitStep, codes};

/// What every step records before its own fields.
const BEFORE: [&str; 2] = ["step_date", "people"];
/// What every step records after its own fields.
const AFTER: [&str; 2] = ["signatures", "notes"];

/// A notice counts both its first and its last day: 8月6日 to 8月10日 is 5 days.
pub const NOTICE_DAYS_BOTH_ENDS: i64 = 1;

/// The form of one step, as the 退出 tab shows it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StepForm {
    pub step: Step,
    pub label: &'static str,
    /// The catalog fields (table exit_step) the form shows, in order.
    pub fields: Vec<&'static str>,
    /// Who usually signs the step, a hint for the 签字 field.
    pub signers: &'static str,
    /// The roles that must each be named when the step is recorded (the seed's titles); empty
    /// for a step signed as typed.
    pub signer_roles: Vec<&'static str>,
}

/// Everything the 退出 tab needs to know about the steps.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct ExitVocabulary {
    pub steps: Vec<StepForm>,
    /// Added to (end − start) in days to count a notice: both ends count.
    pub notice_days_offset: i64,
}

fn own_fields(step: Step) -> &'static [&'static str] {
    match step {
        Step::Survey => &["household_signed", "food_secure", "clothing_secure"],
        Step::Deliberation => &["vote_type", "vote_result", "work_team_present"],
        Step::PublicNotice => &[
            "review_date",
            "review_attendance",
            "review_agreed",
            "notice_start",
            "notice_end",
            "objections",
            "objection_handling",
        ],
        Step::TownshipCheck | Step::CountyApproval => &["vote_result"],
    }
}

fn signers(step: Step) -> &'static str {
    match step {
        Step::Survey => "贫困户、村委会、驻村工作队",
        Step::Deliberation => "村两委成员、驻村工作队",
        Step::PublicNotice => "村党总支书记、村主任、第一书记、入户核查人员",
        Step::TownshipCheck => "乡镇党委书记、乡镇长、分管领导、扶贫工作站站长或扶贫专干",
        Step::CountyApproval => "县委书记、县长、分管领导、扶贫办主任、统计局长",
    }
}

/// Who must sign a step, by the titles of the report: the 双认定表 after the 公示 ("村党总支书记、
/// 村主任、村第一书记、入户核查人员和贫困户…签字确认"; the household signs at 入户调查), the
/// township's 公告 ("乡镇党委书记、乡镇长、分管领导、扶贫工作站站长或扶贫专干签字确认") and the
/// county's 销号 ("县委书记、县长、分管领导、扶贫办主任、统计局长…签字认定").
pub fn signer_roles(step: Step) -> &'static [&'static str] {
    match step {
        Step::Survey | Step::Deliberation => &[],
        Step::PublicNotice => &["村党总支书记", "村主任", "第一书记", "入户核查人员"],
        Step::TownshipCheck => &[
            "乡镇党委书记",
            "乡镇长",
            "分管领导",
            "扶贫工作站站长或扶贫专干",
        ],
        Step::CountyApproval => &["县委书记", "县长", "分管领导", "扶贫办主任", "统计局长"],
    }
}

/// The form of `step`.
pub fn step_form(step: Step) -> StepForm {
    StepForm {
        step,
        label: step.label(),
        fields: BEFORE
            .iter()
            .chain(own_fields(step))
            .chain(AFTER.iter())
            .copied()
            .collect(),
        signers: signers(step),
        signer_roles: signer_roles(step).to_vec(),
    }
}

/// The vocabulary of every step, in procedure order.
pub fn exit_vocabulary() -> ExitVocabulary {
    ExitVocabulary {
        steps: Step::ALL.into_iter().map(step_form).collect(),
        notice_days_offset: NOTICE_DAYS_BOTH_ENDS,
    }
}

/// Days of a notice from `start` to `end`, both ends counted.
pub fn notice_days(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days() + NOTICE_DAYS_BOTH_ENDS
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "是",
        Some(false) => "否",
        None => "未填",
    }
}

fn day(value: Option<NaiveDate>) -> String {
    value.map_or_else(|| "?".to_owned(), |d| d.format("%Y-%m-%d").to_string())
}

/// The details of a trail record worth reading in one cell, per what it records.
pub fn record_details(r: &ExitStep) -> Vec<String> {
    let vote_type = codes::VOTE_TYPE.label(&r.vote_type).unwrap_or("");
    let result = codes::STEP_RESULT.label(&r.vote_result).unwrap_or("");
    match r.action.as_str() {
        "2" => return vec![format!("退回原因：{}", r.reason)],
        "3" => return vec![format!("返贫原因：{}", r.reason)],
        _ => {}
    }
    let mut lines = Vec::new();
    match Step::from_code(&r.step) {
        Some(Step::Survey) => {
            lines.push(if r.household_signed == Some(false) {
                "贫困户拒绝签字（出具《贫困户帮扶情况认定表》）".to_owned()
            } else {
                format!("贫困户签字认可：{}", yes_no(r.household_signed))
            });
            lines.push(format!(
                "不愁吃：{}；不愁穿：{}",
                yes_no(r.food_secure),
                yes_no(r.clothing_secure)
            ));
        }
        Some(Step::Deliberation) => lines.push(format!(
            "{}，{}；驻村工作队参加：{}",
            if vote_type.is_empty() {
                "表决方式未填"
            } else {
                vote_type
            },
            if result.is_empty() {
                "结果未填"
            } else {
                result
            },
            yes_no(r.work_team_present)
        )),
        Some(Step::PublicNotice) => {
            // Records of versions before the 民主评议 was recorded have none.
            if let Some(review) = r.review_date {
                lines.push(format!(
                    "民主评议 {}：参加{}人，同意{}人",
                    review.format("%Y-%m-%d"),
                    r.review_attendance.unwrap_or(0),
                    r.review_agreed.unwrap_or(0)
                ));
            }
            lines.push(format!(
                "公示 {} 至 {}",
                day(r.notice_start),
                day(r.notice_end)
            ));
            lines.push(if r.objections.is_empty() {
                "无异议".to_owned()
            } else {
                format!("异议：{}；处理：{}", r.objections, r.objection_handling)
            });
        }
        Some(Step::TownshipCheck | Step::CountyApproval) if !result.is_empty() => {
            lines.push(format!("结果：{result}"));
        }
        _ => {}
    }
    if !r.notes.is_empty() {
        lines.push(format!("备注：{}", r.notes));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_asks_for_date_people_signatures_and_notes_around_its_own_fields() {
        let vocabulary = exit_vocabulary();
        assert_eq!(vocabulary.steps.len(), 5);
        for form in &vocabulary.steps {
            assert_eq!(
                &form.fields[..2],
                ["step_date", "people"],
                "{:?}",
                form.step
            );
            assert_eq!(
                &form.fields[form.fields.len() - 2..],
                ["signatures", "notes"],
                "{:?}",
                form.step
            );
            for field in &form.fields {
                assert!(
                    crate::model::Table::ExitStep.field(field).is_some(),
                    "{field} is not a catalog field of exit_step"
                );
            }
            assert!(!form.signers.is_empty());
            // The hint names exactly the roles to fill, where the step has them.
            if !form.signer_roles.is_empty() {
                assert_eq!(
                    form.signers,
                    form.signer_roles.join("、"),
                    "{:?}",
                    form.step
                );
            }
        }
        assert_eq!(
            vocabulary.steps[2].fields,
            [
                "step_date",
                "people",
                "review_date",
                "review_attendance",
                "review_agreed",
                "notice_start",
                "notice_end",
                "objections",
                "objection_handling",
                "signatures",
                "notes"
            ]
        );
    }

    #[test]
    fn a_notice_counts_both_its_ends() {
        let d = |day| NaiveDate::from_ymd_opt(2017, 8, day).unwrap_or_default();
        assert_eq!(notice_days(d(6), d(10)), 5);
        assert_eq!(notice_days(d(6), d(6)), 1);
    }

    #[test]
    fn record_details_read_as_the_forms_word_them() {
        let survey = ExitStep {
            action: "1".into(),
            step: "1".into(),
            household_signed: Some(false),
            food_secure: Some(true),
            notes: "复核".into(),
            ..ExitStep::default()
        };
        assert_eq!(
            record_details(&survey),
            [
                "贫困户拒绝签字（出具《贫困户帮扶情况认定表》）",
                "不愁吃：是；不愁穿：未填",
                "备注：复核"
            ]
        );
        let notice = ExitStep {
            action: "1".into(),
            step: "3".into(),
            notice_start: NaiveDate::from_ymd_opt(2017, 8, 6),
            ..ExitStep::default()
        };
        assert_eq!(record_details(&notice), ["公示 2017-08-06 至 ?", "无异议"]);
        let back = ExitStep {
            action: "2".into(),
            step: "4".into(),
            reason: "收入未达标".into(),
            ..ExitStep::default()
        };
        assert_eq!(record_details(&back), ["退回原因：收入未达标"]);
        let returned = ExitStep {
            action: "3".into(),
            reason: "因病返贫".into(),
            ..ExitStep::default()
        };
        assert_eq!(record_details(&returned), ["返贫原因：因病返贫"]);
        let vote = codes::VOTE_TYPE.entries[0];
        let agreed = codes::STEP_RESULT.entries[0];
        let deliberation = ExitStep {
            action: "1".into(),
            step: "2".into(),
            vote_type: vote.0.into(),
            vote_result: agreed.0.into(),
            work_team_present: Some(true),
            ..ExitStep::default()
        };
        assert_eq!(
            record_details(&deliberation),
            [format!("{}，{}；驻村工作队参加：是", vote.1, agreed.1)]
        );
        let approval = ExitStep {
            action: "1".into(),
            step: "5".into(),
            vote_result: agreed.0.into(),
            notes: "已销号".into(),
            ..ExitStep::default()
        };
        assert_eq!(
            record_details(&approval),
            [format!("结果：{}", agreed.1), "备注：已销号".to_owned()]
        );
        let objected = ExitStep {
            action: "1".into(),
            step: "3".into(),
            notice_start: NaiveDate::from_ymd_opt(2017, 8, 6),
            notice_end: NaiveDate::from_ymd_opt(2017, 8, 10),
            objections: "邻居反映收入不实".into(),
            objection_handling: "复核属实后维持".into(),
            ..ExitStep::default()
        };
        assert_eq!(
            record_details(&objected),
            [
                "公示 2017-08-06 至 2017-08-10",
                "异议：邻居反映收入不实；处理：复核属实后维持"
            ]
        );
    }
}
