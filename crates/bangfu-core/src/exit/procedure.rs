//! The household exit procedure as a state machine over its replicated records.
//!
//! Each event (a step done, a step sent back, a return to poverty) is one `ExitStep` row at the
//! next position `seq` of the household's trail, with an id derived from (household, seq). Two
//! devices that record the next event of the same household concurrently therefore write the
//! same row, and their differing fields become ordinary conflicts in the review queue; the
//! state machine stops at a record with an open conflict (or a missing one) and refuses every
//! further step until a person settles it. Nothing is ever deleted: a record that no longer
//! fits after a conflict is settled stays in the trail, marked irregular.

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::standards::standard_for;
use super::{ExitError, derived_id};
use crate::access::Permission;
use crate::model::{ExitStep, FieldValue, Household, Table, codes};
use crate::store::{Change, Filter, Store, put_change};

/// The five steps, in the order they must be done.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[ts(rename = "ExitStepName")]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 入户调查 → 《贫困户脱贫销号双认定表》
    Survey = 1,
    /// 村两委商议
    Deliberation = 2,
    /// 村评议公示
    PublicNotice = 3,
    /// 乡镇核查公告
    TownshipCheck = 4,
    /// 县审定销号
    CountyApproval = 5,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Survey,
        Step::Deliberation,
        Step::PublicNotice,
        Step::TownshipCheck,
        Step::CountyApproval,
    ];

    pub fn number(self) -> i64 {
        self as i64
    }

    pub fn code(self) -> &'static str {
        match self {
            Step::Survey => "1",
            Step::Deliberation => "2",
            Step::PublicNotice => "3",
            Step::TownshipCheck => "4",
            Step::CountyApproval => "5",
        }
    }

    pub fn label(self) -> &'static str {
        codes::EXIT_STEP.label(self.code()).unwrap_or("")
    }

    /// The step of a stored record's code ("1".."5").
    pub fn from_code(code: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn from_number(n: i64) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.number() == n)
    }

    /// A step as people type it: its code, its label, or the English name.
    pub fn parse(text: &str) -> Result<Step, ExitError> {
        let t = text.trim();
        let english = [
            "survey",
            "deliberation",
            "public_notice",
            "township_check",
            "county_approval",
        ];
        Step::ALL
            .into_iter()
            .zip(english)
            .find(|(s, en)| t == s.code() || t == s.label() || t.eq_ignore_ascii_case(en))
            .map(|(s, _)| s)
            .ok_or_else(|| ExitError::UnknownStep { text: t.into() })
    }

    fn next(self) -> Option<Step> {
        Step::from_number(self.number() + 1)
    }
}

const ACTION_RECORD: &str = "1";
const ACTION_SEND_BACK: &str = "2";
const ACTION_RETURN: &str = "3";
const RESULT_DISAGREE: &str = "2";
const STATUS_EXITED: &str = "2";
const STATUS_RETURNED: &str = "4";

/// What a person records for one step. Fields a step does not use are ignored.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub date: NaiveDate,
    /// Who took part, e.g. "村委会 张三、工作队 李四".
    pub people: String,
    /// Who signed (names).
    pub signatures: String,
    pub notes: String,
    /// 入户调查: the household signed the 双认定表 (`false`: it refused and gets the
    /// 帮扶情况认定表 instead).
    pub household_signed: Option<bool>,
    pub food_secure: Option<bool>,
    pub clothing_secure: Option<bool>,
    /// 村两委商议: 表决方式 code (1 口头 / 2 举手 / 3 无记名投票).
    pub vote_type: String,
    /// 1 同意 / 2 不同意 (商议, 核查, 审定). 不同意 sends the household back to the start.
    pub result: String,
    pub work_team_present: Option<bool>,
    pub notice_start: Option<NaiveDate>,
    pub notice_end: Option<NaiveDate>,
    pub objections: String,
    pub objection_handling: String,
    /// 村两委商议 agreeing for a household that does not meet the standard as of the step, or
    /// that did not sign at 入户调查: why the committee agrees anyway (kept in the trail).
    #[serde(default)]
    #[ts(optional)]
    pub exception_reason: Option<String>,
    /// Who takes responsibility for that decision (name and role).
    #[serde(default)]
    #[ts(optional)]
    pub exception_by: Option<String>,
    /// The signers named per role of the step (`forms::signer_roles`): 村评议公示, 乡镇核查公告
    /// and 县审定销号 need every role named; kept in `签字` as "职务：姓名；…".
    #[serde(default)]
    #[ts(optional)]
    pub signers: Option<Vec<Signer>>,
    /// 村评议公示: the 民主评议 that proposed the list (date, 参加人数, 同意人数).
    #[serde(default)]
    #[ts(optional)]
    pub review_date: Option<NaiveDate>,
    #[serde(default)]
    #[ts(optional)]
    pub review_attendance: Option<i64>,
    #[serde(default)]
    #[ts(optional)]
    pub review_agreed: Option<i64>,
}

/// One signer of a step: the role as the forms title it, and the person's name.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signer {
    pub role: String,
    pub name: String,
}

impl StepRecord {
    pub fn new(step: Step, date: NaiveDate, people: &str) -> StepRecord {
        StepRecord {
            step,
            date,
            people: people.into(),
            signatures: String::new(),
            notes: String::new(),
            household_signed: None,
            food_secure: None,
            clothing_secure: None,
            vote_type: String::new(),
            result: String::new(),
            work_team_present: None,
            notice_start: None,
            notice_end: None,
            objections: String::new(),
            objection_handling: String::new(),
            exception_reason: None,
            exception_by: None,
            signers: None,
            review_date: None,
            review_attendance: None,
            review_agreed: None,
        }
    }
}

#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[ts(rename = "ExitPhase")]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    NotStarted,
    InProgress,
    /// The last event sent a step back; it must be done again.
    SentBack,
    Exited,
    /// A record has an open conflict or has not arrived: nothing can be added.
    Blocked,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::NotStarted => "未启动",
            Phase::InProgress => "办理中",
            Phase::SentBack => "已退回",
            Phase::Exited => "已销号",
            Phase::Blocked => "待处理冲突",
        }
    }
}

/// Why the trail cannot be read past a record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Blocker {
    Conflict { seq: i64, step: &'static str },
    Missing { seq: i64 },
    Incomplete { seq: i64 },
    Foreign { seq: i64 },
}

impl Blocker {
    fn error(self) -> ExitError {
        match self {
            Blocker::Conflict { seq, step } => ExitError::OpenConflict { seq, step },
            Blocker::Missing { seq } => ExitError::MissingRecord { seq },
            Blocker::Incomplete { seq } => ExitError::IncompleteRecord { seq },
            Blocker::Foreign { seq } => ExitError::ForeignRecord { seq },
        }
    }
}

/// A record of the trail that does not fit where it stands (kept, not counted).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Irregular {
    pub seq: i64,
    pub message: String,
}

/// Where a household's procedure stands, read from its whole trail.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct ProcedureState {
    pub household_id: Uuid,
    /// 1 for the first exit; each 返贫 starts the next round.
    pub round: i64,
    pub phase: Phase,
    pub phase_label: &'static str,
    /// The last step done in the current pass.
    pub done: Option<Step>,
    /// The step to do next; `None` once exited or while blocked.
    pub next: Option<Step>,
    pub last_date: Option<NaiveDate>,
    /// The step sent back and why, while it waits to be redone.
    pub sent_back: Option<(Step, String)>,
    /// Why nothing can be added, while blocked.
    pub blocked: Option<String>,
    #[serde(skip)]
    blocker: Option<Blocker>,
    pub irregular: Vec<Irregular>,
    /// Records in the trail (all rounds).
    pub records: i64,
}

/// The household's whole trail, in order. Every round, every send-back, every irregular record.
pub fn history(store: &Store, household_id: Uuid) -> Result<Vec<ExitStep>, ExitError> {
    let mut rows: Vec<ExitStep> = store.read(Filter::OfHousehold(household_id))?;
    rows.sort_by_key(|r| r.seq);
    Ok(rows)
}

fn has_open_conflict(store: &Store, row: Uuid) -> Result<bool, ExitError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM review_item WHERE row = ?1)",
            params![row.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .map_err(crate::store::StoreError::from)?)
}

/// Replays the trail: the state machine's one definition, used by reads and by every write.
pub fn procedure_state(store: &Store, household_id: Uuid) -> Result<ProcedureState, ExitError> {
    let rows = history(store, household_id)?;
    let mut state = ProcedureState {
        household_id,
        round: 1,
        phase: Phase::NotStarted,
        phase_label: "",
        done: None,
        next: Some(Step::Survey),
        last_date: None,
        sent_back: None,
        blocked: None,
        blocker: None,
        irregular: Vec::new(),
        records: rows.len() as i64,
    };
    let mut exited = false;
    for (expected_seq, row) in (1..).zip(rows.iter()) {
        let seq = row.seq.unwrap_or(0);
        let label = Step::parse(&row.step).map_or("", Step::label);
        let stop = if seq != expected_seq || row.id != derived_id(household_id, seq) {
            Some(if seq > expected_seq {
                Blocker::Missing { seq: expected_seq }
            } else {
                Blocker::Foreign { seq }
            })
        } else if has_open_conflict(store, row.id)? {
            Some(Blocker::Conflict { seq, step: label })
        } else {
            None
        };
        if let Some(b) = stop {
            state.blocked = Some(super::UserFacing::message_zh(&b.error()));
            state.blocker = Some(b);
            break;
        }
        let step = Step::parse(&row.step).ok();
        let mut irregular_note: Option<String> = None;
        let mut irregular = |message: String| irregular_note = Some(message);
        match (row.action.as_str(), step, row.step_date) {
            (ACTION_RECORD, Some(step), Some(date)) => {
                let expected = state.done.map_or(Some(Step::Survey), Step::next);
                if exited || Some(step) != expected {
                    irregular(format!("{}不在应办理的顺序上，未计入。", step.label()));
                } else if state.last_date.is_some_and(|d| date < d) {
                    irregular(format!("{}的日期早于上一步，未计入。", step.label()));
                } else {
                    state.last_date = Some(date);
                    state.sent_back = None;
                    if row.vote_result == RESULT_DISAGREE && step != Step::Survey {
                        state.done = None;
                        state.sent_back = Some((step, format!("{}结果为不同意", step.label())));
                    } else {
                        state.done = Some(step);
                        exited = step == Step::CountyApproval;
                    }
                }
            }
            (ACTION_SEND_BACK, Some(step), Some(date)) => {
                if exited || state.done.is_none_or(|d| step > d) {
                    irregular(format!("退回{}时该步尚未办理，未计入。", step.label()));
                } else {
                    state.last_date = Some(state.last_date.map_or(date, |d| d.max(date)));
                    state.done = Step::from_number(step.number() - 1);
                    state.sent_back = Some((step, row.reason.clone()));
                }
            }
            (ACTION_RETURN, _, Some(date)) => {
                if exited {
                    exited = false;
                    state.round += 1;
                    state.done = None;
                    state.sent_back = None;
                    state.last_date = Some(date);
                } else {
                    irregular("尚未销号时记录了返贫，未计入。".into());
                }
            }
            _ => {
                let b = Blocker::Incomplete { seq };
                state.blocked = Some(super::UserFacing::message_zh(&b.error()));
                state.blocker = Some(b);
                break;
            }
        }
        if let Some(message) = irregular_note {
            state.irregular.push(Irregular { seq, message });
        }
    }
    state.phase = if state.blocker.is_some() {
        Phase::Blocked
    } else if exited {
        Phase::Exited
    } else if state.sent_back.is_some() {
        Phase::SentBack
    } else if state.done.is_some() {
        Phase::InProgress
    } else {
        Phase::NotStarted
    };
    state.next = match state.phase {
        Phase::Blocked | Phase::Exited => None,
        _ => state.done.map_or(Some(Step::Survey), Step::next),
    };
    state.phase_label = state.phase.label();
    Ok(state)
}

/// The next free position of the trail, or why nothing may be added now.
fn ready(state: &ProcedureState) -> Result<i64, ExitError> {
    match state.blocker {
        Some(b) => Err(b.error()),
        None => Ok(state.records + 1),
    }
}

fn check_date(state: &ProcedureState, date: NaiveDate) -> Result<(), ExitError> {
    match state.last_date {
        Some(previous) if date < previous => Err(ExitError::DateBeforePrevious { date, previous }),
        _ => Ok(()),
    }
}

fn required(text: &str, field: &'static str) -> Result<(), ExitError> {
    if text.trim().is_empty() {
        return Err(ExitError::Missing { field });
    }
    Ok(())
}

fn coded(list: &codes::CodeList, value: &str, field: &'static str) -> Result<(), ExitError> {
    if !value.is_empty() && !list.contains(value) {
        return Err(ExitError::BadCode {
            field,
            value: value.into(),
        });
    }
    Ok(())
}

/// The checks a step's own record must pass, whatever came before; whether the reason it
/// carries (`exception_reason` and `exception_by`) is kept with the step: always, but for a
/// 村两委商议 agreeing for a household that meets the standard and signed, which needs none.
fn check_record(store: &Store, household: &Household, r: &StepRecord) -> Result<bool, ExitError> {
    let mut keep_reason = true;
    required(&r.people, "参加人员")?;
    coded(&codes::STEP_RESULT, &r.result, "结果")?;
    match r.step {
        Step::Survey => {
            if r.household_signed.is_none() {
                return Err(ExitError::Missing {
                    field: "贫困户是否签字认可",
                });
            }
        }
        Step::Deliberation => {
            required(&r.vote_type, "表决方式")?;
            coded(&codes::VOTE_TYPE, &r.vote_type, "表决方式")?;
            required(&r.result, "结果")?;
            if r.work_team_present != Some(true) {
                return Err(ExitError::WorkTeamAbsent);
            }
            if r.result != RESULT_DISAGREE {
                keep_reason = check_exception(store, household, r)?;
            }
        }
        Step::PublicNotice => {
            let start = r.notice_start.ok_or(ExitError::Missing {
                field: "公示开始日期",
            })?;
            let end = r.notice_end.ok_or(ExitError::Missing {
                field: "公示结束日期",
            })?;
            let province = super::province_of(store, household)?;
            let required_days =
                standard_for(store, chrono::Datelike::year(&end), &province)?.notice_days;
            if super::forms::notice_days(start, end) < required_days {
                return Err(ExitError::NoticeTooShort {
                    start,
                    end,
                    required: required_days,
                });
            }
            if r.date < end {
                return Err(ExitError::NoticeNotOver { date: r.date, end });
            }
            if !r.objections.trim().is_empty() {
                required(&r.objection_handling, "异议处理结果")
                    .map_err(|_| ExitError::ObjectionsUnsettled)?;
            }
            check_review(r, start)?;
        }
        Step::TownshipCheck | Step::CountyApproval => {}
    }
    signed_text(r)?;
    Ok(keep_reason)
}

/// 民主评议 before the notice: its date (on or before the notice's first day), how many took
/// part and how many agreed, more than half of them (the list it proposes is a majority's).
fn check_review(r: &StepRecord, notice_start: NaiveDate) -> Result<(), ExitError> {
    let review = r.review_date.ok_or(ExitError::Missing {
        field: "民主评议日期",
    })?;
    let attendance = r.review_attendance.ok_or(ExitError::Missing {
        field: "参加评议人数",
    })?;
    let agreed = r.review_agreed.ok_or(ExitError::Missing {
        field: "同意人数"
    })?;
    if attendance <= 0 || agreed < 0 || agreed > attendance {
        return Err(ExitError::ReviewFigures { attendance, agreed });
    }
    if agreed * 2 <= attendance {
        return Err(ExitError::ReviewWithoutMajority { attendance, agreed });
    }
    if review > notice_start {
        return Err(ExitError::ReviewAfterNotice {
            review,
            start: notice_start,
        });
    }
    Ok(())
}

/// The 签字 a step keeps: for a step whose signers have roles, every role named, as
/// "职务：姓名；…" (followed by any other signatures typed); otherwise the text as typed.
fn signed_text(r: &StepRecord) -> Result<String, ExitError> {
    let roles = super::forms::signer_roles(r.step);
    let free = r.signatures.trim();
    if roles.is_empty() {
        return Ok(free.to_owned());
    }
    let signers = r.signers.as_deref().unwrap_or(&[]);
    if let Some(unknown) = signers.iter().find(|s| !roles.contains(&s.role.trim())) {
        return Err(ExitError::UnknownSignerRole {
            step: r.step.label(),
            role: unknown.role.trim().to_owned(),
        });
    }
    let mut parts = Vec::new();
    for role in roles {
        let name = signers
            .iter()
            .filter(|s| s.role.trim() == *role)
            .map(|s| s.name.trim())
            .find(|n| !n.is_empty())
            .ok_or(ExitError::SignerMissing {
                step: r.step.label(),
                role,
            })?;
        parts.push(format!("{role}：{name}"));
    }
    if !free.is_empty() {
        parts.push(free.to_owned());
    }
    Ok(parts.join("；"))
}

/// 村两委商议 agreeing for a household that fails a check of 一超两不愁三保障 as of the step's
/// year (未达标, not 待核实), or that
/// refused to sign at its latest 入户调查, needs a recorded reason and the person deciding.
/// Whether it needs one (given: `Ok(true)`); a household that meets the standard and signed
/// needs none (`Ok(false)`), and a reason given for it is not recorded.
fn check_exception(
    store: &Store,
    household: &Household,
    r: &StepRecord,
) -> Result<bool, ExitError> {
    let year = chrono::Datelike::year(&r.date);
    let evaluation = super::evaluate_household(store, household.id, year)?;
    let refused = history(store, household.id)?
        .iter()
        .rev()
        .find(|row| row.step == Step::Survey.code() && row.action == ACTION_RECORD)
        .is_some_and(|row| row.household_signed == Some(false));
    // A check not met (未达标); one still to verify (待核实) is the survey's business.
    let failed: Vec<&str> = evaluation
        .checks
        .iter()
        .filter(|c| c.status == super::CheckStatus::NotMet)
        .map(|c| c.label)
        .collect();
    if failed.is_empty() && !refused {
        return Ok(false);
    }
    let given = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
    if given(&r.exception_reason) && given(&r.exception_by) {
        return Ok(true);
    }
    let why = if refused {
        "贫困户在入户调查时未签字认可".to_owned()
    } else {
        format!("按{year}年标准未达标（{}）", failed.join("、"))
    };
    Err(ExitError::ExceptionUnrecorded { why })
}

/// Records the next step of a household's procedure. 县审定销号 also sets 脱贫状态.
pub fn record_step(
    store: &mut Store,
    household_id: Uuid,
    record: &StepRecord,
) -> Result<ProcedureState, ExitError> {
    store.require(Permission::ExitSteps)?;
    let changes = step_changes(store, household_id, record)?;
    store.write_by_exit_procedure(&changes.changes)?;
    procedure_state(store, household_id)
}

/// Whether `record` is a 村两委商议 agreeing with an exception reason the household does not
/// need: it meets the year's standard and signed at 入户调查. Such a reason is not recorded;
/// the CLI and the app say so. Checks the step as [`record_step`]
/// does (a record it would refuse is refused here too), writes nothing.
pub fn exception_not_needed(
    store: &Store,
    household_id: Uuid,
    record: &StepRecord,
) -> Result<bool, ExitError> {
    Ok(step_changes(store, household_id, record)?.exception_not_needed)
}

/// One household's step as [`step_changes`] checked it.
pub(crate) struct StepChanges {
    pub changes: Vec<Change>,
    /// An exception reason was given that the household does not need; it was left out.
    pub exception_not_needed: bool,
}

/// Checks the next step of a household's procedure as [`record_step`] does and returns the
/// changes that record it, without writing: one household's part of a step recorded for a
/// list (`exit::batch`).
pub(crate) fn step_changes(
    store: &Store,
    household_id: Uuid,
    record: &StepRecord,
) -> Result<StepChanges, ExitError> {
    let household: Household = store.get(household_id)?;
    let state = procedure_state(store, household_id)?;
    let seq = ready(&state)?;
    let Some(expected) = state.next else {
        return Err(ExitError::AlreadyExited);
    };
    if record.step != expected {
        return Err(ExitError::WrongStep {
            expected: expected.label(),
            got: record.step.label(),
            redo: state
                .sent_back
                .as_ref()
                .is_some_and(|(s, _)| *s == expected),
        });
    }
    check_date(&state, record.date)?;
    let keep_reason = check_record(store, &household, record)?;
    let exception = if keep_reason {
        exception_text(record)
    } else {
        String::new()
    };
    let row = ExitStep {
        id: derived_id(household_id, seq),
        household_id: Some(household_id),
        seq: Some(seq),
        round: Some(state.round),
        action: ACTION_RECORD.into(),
        step: record.step.code().into(),
        step_date: Some(record.date),
        people: record.people.trim().into(),
        signatures: signed_text(record)?,
        household_signed: record.household_signed,
        food_secure: record.food_secure,
        clothing_secure: record.clothing_secure,
        vote_type: record.vote_type.clone(),
        vote_result: record.result.clone(),
        work_team_present: record.work_team_present,
        notice_start: record.notice_start,
        notice_end: record.notice_end,
        objections: record.objections.trim().into(),
        objection_handling: record.objection_handling.trim().into(),
        reason: exception.clone(),
        notes: record.notes.trim().into(),
        review_date: record.review_date,
        review_attendance: record.review_attendance,
        review_agreed: record.review_agreed,
    };
    let mut changes = vec![put_change(&row)];
    if record.step == Step::CountyApproval && record.result != RESULT_DISAGREE {
        changes.push(status_change(household_id, STATUS_EXITED));
    }
    Ok(StepChanges {
        changes,
        exception_not_needed: exception.is_empty() && !exception_text(record).is_empty(),
    })
}

/// The recorded exception of a 村两委商议 (reason and who decided), blank without one.
fn exception_text(record: &StepRecord) -> String {
    let reason = record.exception_reason.as_deref().unwrap_or("").trim();
    let by = record.exception_by.as_deref().unwrap_or("").trim();
    if reason.is_empty() {
        return String::new();
    }
    format!("{reason}（决定人：{by}）")
}

fn status_change(household_id: Uuid, status: &str) -> Change {
    Change::Put {
        table: Table::Household,
        id: household_id,
        fields: vec![("poverty_status", FieldValue::Text(status.into()))],
    }
}

/// Sends a step of the current pass back, with the reason; it (and every later step) must be
/// done again.
pub fn send_back(
    store: &mut Store,
    household_id: Uuid,
    step: Step,
    date: NaiveDate,
    people: &str,
    reason: &str,
) -> Result<ProcedureState, ExitError> {
    store.require(Permission::ExitSteps)?;
    store.get::<Household>(household_id)?;
    let state = procedure_state(store, household_id)?;
    let seq = ready(&state)?;
    if state.phase == Phase::Exited {
        return Err(ExitError::AlreadyExited);
    }
    if state.done.is_none_or(|d| step > d) {
        return Err(ExitError::NotRecorded { step: step.label() });
    }
    required(reason, "退回原因")?;
    required(people, "参加人员")?;
    check_date(&state, date)?;
    let row = event_row(
        household_id,
        seq,
        state.round,
        ACTION_SEND_BACK,
        step,
        date,
        people,
        reason,
    );
    store.write_unchecked(&[put_change(&row)])?;
    procedure_state(store, household_id)
}

/// 返贫: reopens an exited household for a new round; its earlier rounds stay in the trail.
pub fn return_to_poverty(
    store: &mut Store,
    household_id: Uuid,
    date: NaiveDate,
    people: &str,
    reason: &str,
) -> Result<ProcedureState, ExitError> {
    store.require(Permission::ExitSteps)?;
    store.get::<Household>(household_id)?;
    let state = procedure_state(store, household_id)?;
    let seq = ready(&state)?;
    if state.phase != Phase::Exited {
        return Err(ExitError::NotExited);
    }
    required(reason, "返贫原因")?;
    required(people, "参加人员")?;
    check_date(&state, date)?;
    let row = event_row(
        household_id,
        seq,
        state.round + 1,
        ACTION_RETURN,
        Step::CountyApproval,
        date,
        people,
        reason,
    );
    store.write_by_exit_procedure(&[
        put_change(&row),
        status_change(household_id, STATUS_RETURNED),
    ])?;
    procedure_state(store, household_id)
}

#[allow(clippy::too_many_arguments)]
fn event_row(
    household_id: Uuid,
    seq: i64,
    round: i64,
    action: &str,
    step: Step,
    date: NaiveDate,
    people: &str,
    reason: &str,
) -> ExitStep {
    ExitStep {
        id: derived_id(household_id, seq),
        household_id: Some(household_id),
        seq: Some(seq),
        round: Some(round),
        action: action.into(),
        step: step.code().into(),
        step_date: Some(date),
        people: people.trim().into(),
        reason: reason.trim().into(),
        ..Default::default()
    }
}

/// Settles a conflict on one record of the trail by keeping the given version of it: every
/// field in review gets that version's value over all its heads.
pub fn resolve_record_conflict(
    store: &mut Store,
    household_id: Uuid,
    seq: i64,
    keep: &ExitStep,
) -> Result<ProcedureState, ExitError> {
    store.require(Permission::ExitSteps)?;
    let id = derived_id(household_id, seq);
    let fields: Vec<String> = {
        let mut stmt = store
            .conn()
            .prepare(
                "SELECT f.name FROM review_item r JOIN field_name f ON f.idx = r.field
                 WHERE r.row = ?1 AND r.kind = 1",
            )
            .map_err(crate::store::StoreError::from)?;
        stmt.query_map(params![id.as_bytes().as_slice()], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<_, _>>())
            .map_err(crate::store::StoreError::from)?
    };
    let values: std::collections::HashMap<&str, FieldValue> =
        crate::model::Entity::to_fields(keep).into_iter().collect();
    let changes: Vec<Change> = fields
        .into_iter()
        .map(|field| Change::Resolve {
            table: Table::ExitStep,
            id,
            value: values.get(field.as_str()).cloned().unwrap_or_default(),
            field,
        })
        .collect();
    store.write_unchecked(&changes)?;
    procedure_state(store, household_id)
}

/// Settles one field of a record of the trail that the 冲突与重复 page lists, with the value
/// a person chose there: the review page's way to the procedure's rows (they are written only
/// here, never through the store's public write).
pub(crate) fn resolve_step_field(
    store: &mut Store,
    row: Uuid,
    field: &str,
    value: FieldValue,
) -> Result<(), crate::store::StoreError> {
    // A record of the exit trail is the leader's, whichever page settles it.
    store.require(Permission::ExitSteps)?;
    store.write_unchecked(&[Change::Resolve {
        table: Table::ExitStep,
        id: row,
        field: field.to_owned(),
        value,
    }])?;
    Ok(())
}

/// The 入户调查 record of the current round's latest pass, for 两不愁 and the 双认定表.
pub fn current_survey(store: &Store, household_id: Uuid) -> Result<Option<ExitStep>, ExitError> {
    let rows = history(store, household_id)?;
    let round = rows.iter().filter_map(|r| r.round).max().unwrap_or(1);
    Ok(rows.into_iter().rev().find(|r| {
        r.round == Some(round) && r.action == ACTION_RECORD && r.step == Step::Survey.code()
    }))
}
