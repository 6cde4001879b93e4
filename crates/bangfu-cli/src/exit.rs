//! `bangfu exit`: evaluate households against the exit standard, record the steps of the exit
//! procedure (脱贫退出), and see where every household stands.

use std::path::{Path, PathBuf};

use bangfu_core::exit::procedure::{self, Step, StepRecord};
use bangfu_core::exit::{self as core_exit, CheckStatus};
use bangfu_core::model::codes;
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use crate::cards::write_pdf;
use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum ExitCommand {
    /// 按当年脱贫标准评估（一超 两不愁 三保障 + 安全饮水）
    Evaluate {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        /// 只评估这一户（户编号）；不填则评估全部
        #[arg(long)]
        household: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 办理退出程序的一步（或退回、返贫）
    Step(Box<StepArgs>),
    /// 各户办到哪一步、谁卡住了、谁已达标但未启动
    Status {
        #[arg(long)]
        db: PathBuf,
        /// 村代码；不填则统计全部
        #[arg(long)]
        village: Option<String>,
        /// 评估年度；不填则取收入记录的最近年度
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 打印一户的《贫困户脱贫销号双认定表》（拒绝签字的户为《贫困户帮扶情况认定表》），A4 竖版 PDF
    Sheet {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 认定年度
        #[arg(long)]
        year: i32,
        /// 输出的 PDF 文件
        #[arg(long)]
        out: PathBuf,
    },
    /// 打印一个村当年的拟脱贫户公示名单，A4 横版 PDF
    Notice {
        #[arg(long)]
        db: PathBuf,
        /// 村代码
        #[arg(long)]
        village: String,
        /// 脱贫年度
        #[arg(long)]
        year: i32,
        /// 输出的 PDF 文件
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct StepArgs {
    #[arg(long)]
    db: PathBuf,
    /// 户编号（办理一户）
    #[arg(long)]
    household: Option<String>,
    /// 一次为多户办理同一步（同一次会议、公示、公告或审定）：户编号以逗号分隔
    #[arg(long, value_delimiter = ',')]
    households: Vec<String>,
    /// 与 --all-eligible 同用：村代码
    #[arg(long)]
    village: Option<String>,
    /// 为该村所有下一步正是此步的户办理
    #[arg(long)]
    all_eligible: bool,
    /// 多户办理时跳过不符合的户，其余照办（默认：有一户不符合则全部不保存）
    #[arg(long)]
    skip_failing: bool,
    /// 村两委商议：未达标或未签字认可的户同意退出时的例外理由，可多次：--exception 户编号=理由
    #[arg(long = "exception")]
    exceptions: Vec<String>,
    /// 村两委商议：例外理由的决定人（姓名、职务），如 “王五（村党总支书记）”
    #[arg(long)]
    exception_by: Option<String>,
    /// 只核对各户能否办理这一步（哪些户须写例外理由），不保存
    #[arg(long)]
    check: bool,
    /// 入户调查 / 村两委商议 / 村评议公示 / 乡镇核查公告 / 县审定销号 / 返贫（或 1-5）
    #[arg(long)]
    step: String,
    /// 日期，如 2017-08-01
    #[arg(long)]
    date: String,
    /// 参加人员
    #[arg(long)]
    people: String,
    /// 其他签字人（姓名）
    #[arg(long, default_value = "")]
    signatures: String,
    /// 按职务签字，可多次：--signer 村主任=李四（村评议公示、乡镇核查公告、县审定销号的各职务都要填）
    #[arg(long = "signer")]
    signers: Vec<String>,
    /// 村评议公示：民主评议日期
    #[arg(long)]
    review_date: Option<String>,
    /// 村评议公示：参加民主评议人数
    #[arg(long)]
    review_attendance: Option<i64>,
    /// 村评议公示：民主评议同意人数
    #[arg(long)]
    review_agreed: Option<i64>,
    #[arg(long, default_value = "")]
    notes: String,
    /// 退回这一步，并写明原因
    #[arg(long)]
    send_back: Option<String>,
    /// 返贫原因（--step 返贫 时必填）
    #[arg(long)]
    reason: Option<String>,
    /// 入户调查：贫困户签字认可（是/否）
    #[arg(long)]
    household_signed: Option<String>,
    /// 入户调查：不愁吃（是/否）
    #[arg(long)]
    food_secure: Option<String>,
    /// 入户调查：不愁穿（是/否）
    #[arg(long)]
    clothing_secure: Option<String>,
    /// 村两委商议：口头表决 / 举手表决 / 无记名投票
    #[arg(long, default_value = "")]
    vote: String,
    /// 同意 / 不同意
    #[arg(long, default_value = "")]
    result: String,
    /// 村两委商议：驻村工作队参加（是/否）
    #[arg(long)]
    work_team_present: Option<String>,
    /// 村评议公示：公示开始日期
    #[arg(long)]
    notice_start: Option<String>,
    /// 村评议公示：公示结束日期
    #[arg(long)]
    notice_end: Option<String>,
    /// 村评议公示：异议情况
    #[arg(long, default_value = "")]
    objections: String,
    /// 村评议公示：异议处理结果
    #[arg(long, default_value = "")]
    objection_handling: String,
    #[arg(long)]
    json: bool,
}

pub fn run(command: ExitCommand) -> Result<(), Failure> {
    match command {
        ExitCommand::Evaluate {
            db,
            year,
            household,
            json,
        } => evaluate(&db, year, household.as_deref(), json),
        ExitCommand::Step(args) => step(&args),
        ExitCommand::Status {
            db,
            village,
            year,
            json,
        } => status(&db, village.as_deref(), year, json),
        ExitCommand::Sheet {
            db,
            household,
            year,
            out,
        } => sheet(&db, &household, year, &out),
        ExitCommand::Notice {
            db,
            village,
            year,
            out,
        } => notice(&db, &village, year, &out),
    }
}

fn sheet(db: &Path, code: &str, year: i32, out: &Path) -> Result<(), Failure> {
    let store = open_store(db)?;
    let household = core_exit::household_by_code(&store, code)?;
    let sheet = core_exit::double_confirmation_sheet(&store, household.id, year)?;
    let bytes = core_exit::double_confirmation_pdf(&store, household.id, year)?;
    write_pdf(out, &bytes)?;
    println!("已生成户 {code} 的《{}》：{}", sheet.title, out.display());
    Ok(())
}

fn notice(db: &Path, village: &str, year: i32, out: &Path) -> Result<(), Failure> {
    let store = open_store(db)?;
    let bytes = core_exit::notice_list_pdf(&store, village, year)?;
    write_pdf(out, &bytes)?;
    println!(
        "已生成村 {village} {year}年拟脱贫户公示名单：{}",
        out.display()
    );
    Ok(())
}

fn evaluate(
    db: &std::path::Path,
    year: i32,
    code: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let store = open_store(db)?;
    let ids = match code {
        Some(code) => vec![core_exit::household_by_code(&store, code)?.id],
        None => store
            .read::<bangfu_core::model::Household>(bangfu_core::store::Filter::All)?
            .into_iter()
            .map(|h| h.id)
            .collect(),
    };
    let mut evaluations = Vec::with_capacity(ids.len());
    for id in ids {
        evaluations.push(core_exit::evaluate_household(&store, id, year)?);
    }
    if json {
        print_json(&evaluations);
        return Ok(());
    }
    let met = evaluations.iter().filter(|e| e.meets).count();
    for e in &evaluations {
        println!("{}  {}  {}", e.household_code, e.head_name, e.summary);
        if code.is_some() {
            for c in &e.checks {
                println!("  [{}] {}：{}", c.status_label, c.label, c.reason);
            }
        }
    }
    if code.is_none() {
        println!(
            "共 {} 户，{} 户各项达标（{}年贫困线 {}）。",
            evaluations.len(),
            met,
            year,
            evaluations
                .first()
                .map_or_else(String::new, |e| format!("{}元", e.standard.income_line))
        );
    }
    // The unknown checks are the station's to-do list; say how many there are.
    let unknown = evaluations
        .iter()
        .flat_map(|e| &e.checks)
        .filter(|c| c.status == CheckStatus::Unknown)
        .count();
    if unknown > 0 {
        println!("待核实 {unknown} 项。");
    }
    Ok(())
}

fn date(text: &str, what: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Failure::new(
            format!("{what}“{text}”格式不对，应写成 2017-08-01。"),
            format!("bad date {text}"),
        )
    })
}

fn yes_no(text: Option<&str>, what: &str) -> Result<Option<bool>, Failure> {
    match text.map(str::trim) {
        None => Ok(None),
        Some("是" | "1" | "true" | "yes") => Ok(Some(true)),
        Some("否" | "0" | "false" | "no") => Ok(Some(false)),
        Some(other) => Err(Failure::new(
            format!("{what}应填“是”或“否”，不能填“{other}”。"),
            format!("bad yes/no {other}"),
        )),
    }
}

fn code_of(list: &codes::CodeList, text: &str, what: &str) -> Result<String, Failure> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    let short = |label: &str| label.trim_end_matches("表决").to_owned();
    list.entries
        .iter()
        .find(|(c, l)| *c == text.trim() || *l == text.trim() || short(l) == text.trim())
        .map(|(c, _)| (*c).to_owned())
        .ok_or_else(|| {
            Failure::new(
                format!("{what}不能填“{text}”。"),
                format!("bad {what} {text}"),
            )
        })
}

fn step(a: &StepArgs) -> Result<(), Failure> {
    let batch = !a.households.is_empty() || a.all_eligible;
    match (&a.household, batch) {
        (Some(_), true) => Err(Failure::new(
            "--household 办理一户，--households 或 --all-eligible 办理多户，请只用其中一种。",
            "both one household and a list",
        )),
        (None, false) => Err(Failure::new(
            "请用 --household 指明一户，或用 --households（户编号以逗号分隔）、--village 加 --all-eligible 指明多户。",
            "no household",
        )),
        (Some(code), false) if a.check => Err(Failure::new(
            format!("--check 用于多户办理；一户请直接办理，不符合时会说明原因（户 {code}）。"),
            "check for one household",
        )),
        (Some(code), false) => step_one(a, code),
        (None, true) => step_many(a),
    }
}

/// One step for a list of households (`--households` or `--village … --all-eligible`).
fn step_many(a: &StepArgs) -> Result<(), Failure> {
    if a.step.trim() == "返贫" || a.send_back.is_some() {
        return Err(Failure::new(
            "返贫和退回只能一户一户办理，请用 --household。",
            "batch return or send-back",
        ));
    }
    let mut store = open_store(&a.db)?;
    let record = step_record(a, date(&a.date, "日期")?)?;
    let households: Vec<uuid::Uuid> = if a.all_eligible {
        if !a.households.is_empty() {
            return Err(Failure::new(
                "--all-eligible 与 --households 不能同时使用。",
                "both a list and all eligible",
            ));
        }
        let Some(code) = &a.village else {
            return Err(Failure::new(
                "--all-eligible 须与 --village（村代码）同用。",
                "all eligible without a village",
            ));
        };
        let village = core_exit::village_by_code(&store, code)?;
        let due = core_exit::households_due_for_step(&store, village.id, record.step)?;
        if due.is_empty() {
            return Err(Failure::new(
                format!("村 {code} 没有下一步应办理{}的户。", record.step.label()),
                "no household due",
            ));
        }
        due.into_iter().map(|h| h.id).collect()
    } else {
        let mut ids = Vec::new();
        for code in a
            .households
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
        {
            ids.push(core_exit::household_by_code(&store, code)?.id);
        }
        ids
    };
    let mut exceptions = Vec::new();
    for (code, reason) in exception_pairs(a)? {
        exceptions.push(core_exit::HouseholdException {
            household_id: core_exit::household_by_code(&store, &code)?.id,
            reason,
            by: a.exception_by.clone().unwrap_or_default(),
        });
    }
    let outcome = core_exit::record_step_for_households(
        &mut store,
        &core_exit::BatchStep {
            households,
            record,
            skip_failing: a.skip_failing,
            exceptions,
            check_only: a.check,
        },
    )?;
    if a.json {
        print_json(&outcome);
        return Ok(());
    }
    if a.check {
        println!(
            "核对（未保存）：{} 户可以办理{}。",
            outcome.recorded.len(),
            outcome.step.label()
        );
        for f in &outcome.failed {
            println!("  户 {}：{}", f.code, f.reason);
        }
        for note in outcome.exception_notes() {
            println!("  {note}");
        }
        return Ok(());
    }
    println!(
        "已为 {} 户办理{}：{}",
        outcome.recorded.len(),
        outcome.step.label(),
        outcome.recorded.join("、")
    );
    for note in outcome.exception_notes() {
        println!("{note}");
    }
    if !outcome.failed.is_empty() {
        println!("以下 {} 户不符合，未办理：", outcome.failed.len());
        for f in &outcome.failed {
            println!("  户 {}：{}", f.code, f.reason);
        }
    }
    Ok(())
}

fn step_one(a: &StepArgs, code: &str) -> Result<(), Failure> {
    let mut store = open_store(&a.db)?;
    let household = core_exit::household_by_code(&store, code)?;
    let on = date(&a.date, "日期")?;
    let state = if a.step.trim() == "返贫" {
        let reason = a.reason.as_deref().unwrap_or("");
        procedure::return_to_poverty(&mut store, household.id, on, &a.people, reason)?
    } else if let Some(reason) = &a.send_back {
        let step = Step::parse(&a.step)?;
        procedure::send_back(&mut store, household.id, step, on, &a.people, reason)?
    } else {
        let mut r = step_record(a, on)?;
        for (named, reason) in exception_pairs(a)? {
            if named != code.trim() {
                return Err(Failure::new(
                    format!("例外理由写的是户 {named}，本次办理的是户 {code}，请核对户编号。"),
                    "exception for another household",
                ));
            }
            r.exception_reason = Some(reason);
            r.exception_by = a.exception_by.clone();
        }
        // Asked before recording: afterwards the step is no longer the next one.
        let unneeded = !a.exceptions.is_empty()
            && procedure::exception_not_needed(&store, household.id, &r).unwrap_or(false);
        let state = procedure::record_step(&mut store, household.id, &r)?;
        if unneeded && !a.json {
            println!("{}", core_exit::exception_not_needed_note(code.trim()));
        }
        state
    };
    if a.json {
        print_json(&state);
    } else {
        let next = state
            .next
            .map_or_else(String::new, |s| format!("，下一步：{}", s.label()));
        println!("已保存户 {code}：{}{}。", state.phase_label, next);
    }
    Ok(())
}

/// `--exception 户编号=理由` as (户编号, 理由); `--exception-by` is required with them.
fn exception_pairs(a: &StepArgs) -> Result<Vec<(String, String)>, Failure> {
    let mut pairs = Vec::new();
    for text in &a.exceptions {
        let Some((code, reason)) = text.split_once(['=', '：', ':']) else {
            return Err(Failure::new(
                format!(
                    "“{text}”格式不对，应写成 户编号=理由，如 530826103201001=因病住院，已落实医疗救助。"
                ),
                format!("bad exception {text}"),
            ));
        };
        pairs.push((code.trim().to_owned(), reason.trim().to_owned()));
    }
    if !pairs.is_empty()
        && a.exception_by
            .as_deref()
            .is_none_or(|b| b.trim().is_empty())
    {
        return Err(Failure::new(
            "写了例外理由，请用 --exception-by 写明决定人（姓名、职务）。",
            "exception without who decided",
        ));
    }
    Ok(pairs)
}

/// The step as the options give it (everything but the household).
fn step_record(a: &StepArgs, on: NaiveDate) -> Result<StepRecord, Failure> {
    {
        let mut r = StepRecord::new(Step::parse(&a.step)?, on, &a.people);
        r.signatures = a.signatures.clone();
        r.notes = a.notes.clone();
        r.household_signed = yes_no(a.household_signed.as_deref(), "贫困户签字认可")?;
        r.food_secure = yes_no(a.food_secure.as_deref(), "不愁吃")?;
        r.clothing_secure = yes_no(a.clothing_secure.as_deref(), "不愁穿")?;
        r.vote_type = code_of(&codes::VOTE_TYPE, &a.vote, "表决方式")?;
        r.result = code_of(&codes::STEP_RESULT, &a.result, "结果")?;
        r.work_team_present = yes_no(a.work_team_present.as_deref(), "驻村工作队参加")?;
        r.notice_start = a
            .notice_start
            .as_deref()
            .map(|t| date(t, "公示开始日期"))
            .transpose()?;
        r.notice_end = a
            .notice_end
            .as_deref()
            .map(|t| date(t, "公示结束日期"))
            .transpose()?;
        r.objections = a.objections.clone();
        r.objection_handling = a.objection_handling.clone();
        r.review_date = a
            .review_date
            .as_deref()
            .map(|t| date(t, "民主评议日期"))
            .transpose()?;
        r.review_attendance = a.review_attendance;
        r.review_agreed = a.review_agreed;
        if !a.signers.is_empty() {
            let mut signers = Vec::new();
            for text in &a.signers {
                let Some((role, name)) = text.split_once(['=', '：', ':']) else {
                    return Err(Failure::new(
                        format!("“{text}”格式不对，应写成 职务=姓名，如 村主任=李四。"),
                        format!("bad signer {text}"),
                    ));
                };
                signers.push(core_exit::Signer {
                    role: role.trim().into(),
                    name: name.trim().into(),
                });
            }
            r.signers = Some(signers);
        }
        Ok(r)
    }
}

fn status(
    db: &std::path::Path,
    village: Option<&str>,
    year: Option<i32>,
    json: bool,
) -> Result<(), Failure> {
    let store = open_store(db)?;
    let village = village
        .map(|code| core_exit::village_by_code(&store, code))
        .transpose()?;
    let year = match year {
        Some(year) => year,
        None => bangfu_core::report::year::default_work_year(&store)?,
    };
    let overview = core_exit::exit_overview(&store, village.as_ref().map(|v| v.id), year)?;
    let village_check = village
        .as_ref()
        .map(|v| core_exit::evaluate_village(&store, v.id, year))
        .transpose()?;
    if json {
        print_json(&serde_json::json!({ "households": overview, "village": village_check }));
        return Ok(());
    }
    println!("共 {} 户（评估年度 {year}）：", overview.households);
    for c in overview.by_step.iter().filter(|c| c.households > 0) {
        println!("  {}：{} 户", c.label, c.households);
    }
    if !overview.stuck.is_empty() {
        println!("卡住的户：");
        for s in &overview.stuck {
            println!(
                "  {}  {}  {}；{}",
                s.household_code, s.head_name, s.at, s.reason
            );
        }
    }
    if !overview.ready_not_started.is_empty() {
        println!("已达到脱贫标准但未启动退出程序：");
        for r in &overview.ready_not_started {
            println!("  {}  {}", r.household_code, r.head_name);
        }
    }
    if overview.irregular > 0 {
        println!(
            "有 {} 户的程序记录中有未计入的不合规记录，请查看档案。",
            overview.irregular
        );
    }
    if let Some(v) = village_check {
        println!(
            "{} 贫困村退出：{}",
            v.name,
            if v.meets {
                "各项达标"
            } else {
                "未全部达标"
            }
        );
        for c in &v.checks {
            println!("  [{}] {}：{}", c.status_label, c.label, c.reason);
        }
    }
    Ok(())
}
