//! `bangfu policy list|set|clear|due|funds|match|measure|pay`: the county's policy catalogue
//! (synced like the 脱贫标准), who qualifies and has not received, a township's funds, and
//! structured measures with their payments.

use std::path::PathBuf;

use bangfu_core::ledger::Scope;
use bangfu_core::model::codes::{MEASURE_STATUS, PAYMENT_CHANNEL, RELOCATION_STAGE};
use bangfu_core::model::{Member, Payment};
use bangfu_core::policy::{
    self, DueState, NewPayment, PolicyDef, PolicyMeasure, clear_policy, list_policies,
    match_free_text_measures, policy_of, record_payment, record_policy_measure, scope_due,
    set_policy, township_funds,
};
use bangfu_core::report::year::default_work_year;
use bangfu_core::store::{Filter, Store};
use chrono::NaiveDate;
use clap::Subcommand;

use crate::edit::find_household;
use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// 列出某年度的政策目录（县里设定的与程序自带的，注明依据和享受条件）
    List {
        #[arg(long)]
        db: PathBuf,
        /// 年度（默认：工作年度）
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 设定某年度的一项政策（同步到全县各台电脑）；未给出的项沿用该年现行政策
    Set {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        /// 政策代码，见 bangfu policy list
        #[arg(long)]
        code: String,
        /// 补助标准（元）
        #[arg(long)]
        amount: Option<f64>,
        /// 年度封顶（元）
        #[arg(long)]
        cap: Option<f64>,
        /// 享受条件（JSON，见 bangfu policy list --json 的 rule）
        #[arg(long)]
        rule: Option<String>,
        /// 本年度停止执行
        #[arg(long, conflicts_with = "resume")]
        stop: bool,
        /// 本年度恢复执行
        #[arg(long)]
        resume: bool,
        /// 依据（文件名称、文号）
        #[arg(long)]
        source: String,
        #[arg(long)]
        json: bool,
    },
    /// 撤销县里对某年度一项政策的设定，恢复程序自带的政策
    Clear {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        code: String,
    },
    /// 应享未享、未足额、超标准的名单和各项政策合计
    Due {
        #[arg(long)]
        db: PathBuf,
        /// 12 位村代码
        #[arg(long, conflicts_with = "township")]
        village: Option<String>,
        /// 乡镇名称
        #[arg(long)]
        township: Option<String>,
        /// 年度（默认：工作年度）
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 乡镇经费表：考核奖励（按脱贫户数，2:3:5 分配）与工作经费（按公式）
    Funds {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        township: String,
        #[arg(long)]
        year: Option<i32>,
        /// 同时导出为 Excel（乡镇经费表）
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// 把明显属于某项政策的文字帮扶措施对应到政策（不加 --apply 只列出）
    Match {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, conflicts_with = "township")]
        village: Option<String>,
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// 按政策登记一条帮扶措施
    Measure {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 受益成员姓名（按人享受的政策）
        #[arg(long)]
        member: Option<String>,
        #[arg(long)]
        code: String,
        #[arg(long)]
        year: i32,
        /// 应发金额（默认：政策的补助标准）
        #[arg(long)]
        amount_due: Option<f64>,
        /// 落实情况：计划 / 实施中 / 已完成
        #[arg(long, default_value = "实施中")]
        status: String,
    },
    /// 登记家庭成员参加的培训（引导性培训 / 技能培训），如 --member 李强 --kind 引导性培训 --days 2
    Train {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 参训成员姓名
        #[arg(long)]
        member: String,
        #[arg(long)]
        year: i32,
        /// 引导性培训 / 技能培训
        #[arg(long)]
        kind: String,
        /// 培训天数
        #[arg(long)]
        days: i64,
        /// 取得的证书，如 中式烹调师（初级）
        #[arg(long, default_value = "")]
        certificate: String,
    },
    /// 登记易地扶贫搬迁户新房的建设进度（开工、基础、主体、竣工、入住）
    Stage {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 安置点
        #[arg(long)]
        site: String,
        /// 开工 / 基础 / 主体 / 竣工 / 入住
        #[arg(long)]
        stage: String,
        /// 日期 YYYY-MM-DD
        #[arg(long)]
        date: NaiveDate,
        /// 本阶段贷款金额（元）
        #[arg(long)]
        loan: Option<f64>,
        /// 安置点所在村的12位村代码；入住时安置点在别的村，提示把本户迁入该村
        #[arg(long)]
        site_village: Option<String>,
        /// 与 --site-village 同用：入住后把本户迁入安置点所在村（新户编号取该村最小空号）
        #[arg(long = "move")]
        move_household: bool,
    },
    /// 补填已入住户的安置点所在村（旧版本登记入住时未填的）
    SiteVillage {
        #[arg(long)]
        db: PathBuf,
        /// 户编号
        #[arg(long)]
        household: String,
        /// 安置点所在村的12位村代码
        #[arg(long)]
        village: String,
    },
    /// 登记一笔发放（措施编号见 bangfu policy measure 的输出）
    Pay {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        measure: uuid::Uuid,
        /// 发放日期 YYYY-MM-DD
        #[arg(long)]
        date: NaiveDate,
        #[arg(long)]
        amount: f64,
        /// 发放渠道：惠农一卡通 / 银行转账 / 现金 / 实物 / 代缴代付
        #[arg(long, default_value = "惠农一卡通")]
        channel: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn year_or_default(store: &Store, year: Option<i32>) -> Result<i32, Failure> {
    match year {
        Some(y) => Ok(y),
        None => Ok(default_work_year(store)?),
    }
}

fn scope(village: Option<String>, township: Option<String>) -> Scope {
    match (village, township) {
        (Some(code), _) => Scope::Village(code),
        (None, Some(name)) => Scope::Township(name),
        (None, None) => Scope::All,
    }
}

fn money(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v}"))
}

fn code_of(list: &bangfu_core::model::codes::CodeList, text: &str) -> Result<String, Failure> {
    list.entries
        .iter()
        .find(|(code, label)| *code == text || *label == text)
        .map(|(code, _)| (*code).to_owned())
        .ok_or_else(|| {
            let labels: Vec<&str> = list.entries.iter().map(|(_, l)| *l).collect();
            Failure::new(
                format!(
                    "“{text}”不是{}的选项，可选：{}",
                    list.title,
                    labels.join("、")
                ),
                format!("unknown {} {text}", list.key),
            )
        })
}

pub fn run(command: PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::List { db, year, json } => {
            let store = open_store(&db)?;
            let year = year_or_default(&store, year)?;
            let all = list_policies(&store, year)?;
            if json {
                print_json(&all);
                return Ok(());
            }
            println!("{year} 年政策目录（{} 项）", all.len());
            for p in &all {
                println!(
                    "{:<24} {}（{}）标准 {} 元 封顶 {} 元{}{}{}",
                    p.code,
                    p.name,
                    p.path_label(),
                    money(p.amount),
                    money(p.cap),
                    if p.once { " 一次性" } else { "" },
                    if p.in_force {
                        ""
                    } else {
                        " 【停止执行】"
                    },
                    if p.edited { " 【县设定】" } else { "" },
                );
                println!("    享受条件：{}", p.rule.describe());
                println!("    依据：{}", p.source);
            }
            Ok(())
        }
        PolicyCommand::Set {
            db,
            year,
            code,
            amount,
            cap,
            rule,
            stop,
            resume,
            source,
            json,
        } => {
            let mut store = open_store(&db)?;
            let base = policy_of(&store, year, &code)?;
            let rule = match rule {
                Some(text) => serde_json::from_str(&text).map_err(|e| {
                    Failure::new(
                        "享受条件（--rule）不是正确的 JSON，请按 bangfu policy list --json 中 rule 的写法填写。",
                        format!("bad rule json: {e}"),
                    )
                })?,
                None => base.rule.clone(),
            };
            let policy = PolicyDef {
                amount: amount.or(base.amount),
                cap: cap.or(base.cap),
                rule,
                in_force: if stop { false } else { resume || base.in_force },
                source,
                edited: true,
                ..base
            };
            set_policy(&mut store, &policy)?;
            if json {
                print_json(&policy);
            } else {
                println!(
                    "已设定 {year} 年“{}”：标准 {} 元，封顶 {} 元{}。同步后全县各台电脑按此核对。",
                    policy.name,
                    money(policy.amount),
                    money(policy.cap),
                    if policy.in_force {
                        ""
                    } else {
                        "，本年度停止执行"
                    }
                );
            }
            Ok(())
        }
        PolicyCommand::Clear { db, year, code } => {
            let mut store = open_store(&db)?;
            if clear_policy(&mut store, year, &code)? {
                println!("已撤销 {year} 年政策 {code} 的县设定，恢复程序自带的政策。");
            } else {
                println!("{year} 年政策 {code} 没有县里的设定，无需撤销。");
            }
            Ok(())
        }
        PolicyCommand::Due {
            db,
            village,
            township,
            year,
            json,
        } => {
            let store = open_store(&db)?;
            let year = year_or_default(&store, year)?;
            let due = scope_due(&store, &scope(village, township), year)?;
            if json {
                print_json(&due);
                return Ok(());
            }
            print_due(&due);
            Ok(())
        }
        PolicyCommand::Funds {
            db,
            township,
            year,
            out,
            json,
        } => {
            let store = open_store(&db)?;
            let year = year_or_default(&store, year)?;
            let funds = township_funds(&store, &township, year)?;
            if let Some(out) = out {
                let written = policy::write_township_funds(&store, &township, year, &out)?;
                eprintln!("已导出乡镇经费表：{}", written.path);
            }
            if json {
                print_json(&funds);
                return Ok(());
            }
            println!(
                "{} {} 年经费：脱贫户 {} 户，搬迁户 {} 户，建档立卡贫困人口 {} 人",
                funds.township,
                year,
                funds.exited_households,
                funds.relocated_households,
                funds.poor_people
            );
            for line in &funds.lines {
                println!(
                    "  {}：{} = {} 元",
                    line.policy_name, line.formula, line.amount
                );
                for (to, amount) in &line.shares {
                    println!("    {to} {amount} 元");
                }
            }
            println!("  合计 {} 元", funds.total);
            Ok(())
        }
        PolicyCommand::Match {
            db,
            village,
            township,
            apply,
            json,
        } => {
            let mut store = open_store(&db)?;
            let households = policy::due::households_in(&store, &scope(village, township))?;
            let found = match_free_text_measures(&mut store, &households, apply)?;
            if json {
                print_json(&found);
                return Ok(());
            }
            for m in &found {
                println!("{} 年 {} → {}", m.year, m.description, m.policy_name);
            }
            if apply {
                println!("已把 {} 条文字措施对应到政策。", found.len());
            } else {
                println!(
                    "有 {} 条文字措施明显属于某项政策；加 --apply 写入。",
                    found.len()
                );
            }
            Ok(())
        }
        PolicyCommand::Measure {
            db,
            household,
            member,
            code,
            year,
            amount_due,
            status,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let member_id = match member {
                None => None,
                Some(name) => {
                    let members = store.read::<Member>(Filter::OfHousehold(h.id))?;
                    let found: Vec<&Member> = members.iter().filter(|m| m.name == name).collect();
                    match found.as_slice() {
                        [one] => Some(one.id),
                        [] => {
                            return Err(Failure::new(
                                format!("户 {household} 没有名叫“{name}”的成员。"),
                                "member not found",
                            ));
                        }
                        _ => {
                            return Err(Failure::new(
                                format!("户 {household} 有多位成员名叫“{name}”，请在程序中选择。"),
                                "member name ambiguous",
                            ));
                        }
                    }
                }
            };
            let id = record_policy_measure(
                &mut store,
                &PolicyMeasure {
                    household_id: h.id,
                    member_id,
                    year,
                    policy_code: code,
                    amount_due,
                    status: code_of(&MEASURE_STATUS, &status)?,
                },
            )?;
            println!("已登记帮扶措施 {id}");
            Ok(())
        }
        PolicyCommand::Train {
            db,
            household,
            member,
            year,
            kind,
            days,
            certificate,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let members = store.read::<Member>(Filter::OfHousehold(h.id))?;
            let found: Vec<&Member> = members.iter().filter(|m| m.name == member).collect();
            let [attendee] = found.as_slice() else {
                return Err(Failure::new(
                    format!("户 {household} 没有唯一一位名叫“{member}”的成员。"),
                    "member not found or ambiguous",
                ));
            };
            let id = policy::record_training(
                &mut store,
                &policy::NewTraining {
                    household_id: h.id,
                    member_id: attendee.id,
                    year,
                    kind,
                    days,
                    certificate,
                },
            )?;
            println!("已登记培训 {id}");
            Ok(())
        }
        PolicyCommand::Stage {
            db,
            household,
            site,
            stage,
            date,
            loan,
            site_village,
            move_household,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            if move_household && site_village.is_none() {
                return Err(Failure::new(
                    "--move 须与 --site-village（安置点所在村的村代码）同用。",
                    "move without the site's village",
                ));
            }
            // Refused before the stage is recorded: a 队员's --move leaves nothing half done.
            if move_household {
                store.require(bangfu_core::access::Permission::MoveHouseholds)?;
            }
            let recorded = policy::record_stage(
                &mut store,
                &policy::NewStage {
                    household_id: h.id,
                    site,
                    stage: code_of(&RELOCATION_STAGE, &stage)?,
                    stage_date: date,
                    loan,
                    note: String::new(),
                    site_village,
                },
            )?;
            if let Some(p) = policy::relocation_progress(&store, h.id)? {
                println!(
                    "户 {household} 在 {}：{}（{}）",
                    p.site,
                    p.stage,
                    p.stage_date.map(|d| d.to_string()).unwrap_or_default()
                );
            }
            match recorded.move_offer {
                Some(offer) if move_household => {
                    let moved = bangfu_core::moving::move_household(
                        &mut store,
                        h.id,
                        &offer.to_village_code,
                    )?;
                    println!(
                        "已将户 {} 迁入{}（{}），新户编号 {}。",
                        moved.old_code, moved.village_name, moved.village_code, moved.new_code
                    );
                }
                Some(offer) => println!(
                    "户 {} 已入住{}的安置点，{}",
                    offer.household_code,
                    offer.to_village_name,
                    move_hint(&db, &offer)
                ),
                None if move_household => println!("安置点在本村或尚未入住，本户不需迁移。"),
                None => {}
            }
            Ok(())
        }
        PolicyCommand::SiteVillage {
            db,
            household,
            village,
        } => {
            let mut store = open_store(&db)?;
            let h = find_household(&store, &household)?;
            let saved = policy::set_site_village(&mut store, h.id, &village)?;
            if let Some(v) = &saved.relocation.site_village {
                println!(
                    "户 {household} 的安置点所在村已填为 {}（{}）。",
                    v.name, v.code
                );
            }
            if let Some(offer) = saved.move_offer {
                println!("{}", move_hint(&db, &offer));
            }
            Ok(())
        }
        PolicyCommand::Pay {
            db,
            measure,
            date,
            amount,
            channel,
            note,
        } => {
            let mut store = open_store(&db)?;
            let id = record_payment(
                &mut store,
                &NewPayment {
                    measure_id: measure,
                    pay_date: date,
                    amount,
                    channel: code_of(&PAYMENT_CHANNEL, &channel)?,
                    note,
                },
            )?;
            let paid: f64 = store
                .read::<Payment>(Filter::All)?
                .iter()
                .filter(|p| p.measure_id == Some(measure))
                .filter_map(|p| p.amount)
                .sum();
            println!("已登记发放 {id}：本措施累计发放 {paid} 元");
            Ok(())
        }
    }
}

fn print_due(due: &policy::PolicyDue) {
    println!(
        "{} {} 年政策落实：{} 户",
        due.unit, due.year, due.households
    );
    println!(
        "各项政策：符合条件 / 应享未享 / 未足额 / 超标准 / 不符合条件 / 已享受，已发 / 待发 / 超发（元）"
    );
    for t in &due.totals {
        println!(
            "  {}：{} / {} / {} / {} / {} / {}，{} / {} / {}",
            t.policy_name,
            t.qualifying,
            t.due,
            t.short,
            t.over,
            t.not_qualified,
            t.received_count,
            t.received,
            t.owed,
            t.excess
        );
    }
    for state in [
        DueState::Over,
        DueState::NotQualified,
        DueState::Short,
        DueState::Due,
    ] {
        let lines: Vec<_> = due.lines.iter().filter(|l| l.state == state).collect();
        if lines.is_empty() {
            continue;
        }
        println!("{}（{} 条）", state.label(), lines.len());
        for l in lines {
            let who = if l.member_name.is_empty() {
                format!("户主 {}", l.head_name)
            } else {
                l.member_name.clone()
            };
            println!(
                "  {} {} {}：已发 {} 元，标准 {} 元{}",
                l.household_code,
                who,
                l.policy_name,
                l.received,
                money(l.allowed),
                match state {
                    DueState::Over | DueState::NotQualified => format!("，超发 {} 元", l.excess),
                    DueState::Short | DueState::Due if l.owed > 0.0 => {
                        format!("，待发 {} 元", l.owed)
                    }
                    _ => String::new(),
                }
            );
        }
    }
}

/// What the CLI says of a household that moved in at a 安置点 of another village: where it is
/// still filed, and the command that moves it.
fn move_hint(db: &std::path::Path, offer: &policy::MoveOffer) -> String {
    format!(
        "本户仍属{}。确认迁入请运行：bangfu household move --db {} --household {} --to-village {}（新户编号将为 {}）",
        if offer.from_village.is_empty() {
            "原村"
        } else {
            &offer.from_village
        },
        db.display(),
        offer.household_code,
        offer.to_village_code,
        offer.new_code
    )
}
