//! The `bangfu` command: for township stations and scripts. Every subcommand opens the data
//! file, makes its core calls and prints Chinese for people (or JSON with `--json`).

mod archive;
mod bench;
mod cards;
mod changes;
mod device;
mod edit;
mod exit;
mod household;
mod hub;
mod ledger;
mod member;
mod passphrase;
mod policy;
mod release;
mod standards;
mod team;
mod village;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bangfu_core::UserFacing;
use bangfu_core::store::{OpenOptions, RebuildProgress, Store};
use clap::{Parser, Subcommand};

/// A merge allocates and frees a few small values per op; glibc's allocator spent about a
/// tenth of a county merge on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "bangfu",
    version,
    about = "帮扶台账：乡镇工作站与脚本使用的命令行工具"
)]
struct Cli {
    /// 口令文件（第一行为口令）；也可用环境变量 BANGFU_PASSPHRASE 给出
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    /// 给新数据文件设置口令时，把恢复码写进这个新文件（不在屏幕上显示）
    #[arg(long, global = true)]
    recovery_code_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 写入一个演示村（约 300 户）
    Demo {
        #[arg(long)]
        db: PathBuf,
    },
    /// 生成任意规模的模拟县数据（用于性能测试）
    Generate {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        households: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// 同步文件（变更包）的导出与导入
    Changes {
        #[command(subcommand)]
        action: changes::ChangesCommand,
    },
    /// 数据文件的口令：修改口令，或用恢复码设置新口令
    Passphrase {
        #[command(subcommand)]
        action: passphrase::PassphraseCommand,
    },
    /// 发布新版本：生成发布密钥、为安装包签名
    Release {
        #[command(subcommand)]
        action: release::ReleaseCommand,
    },
    /// 检查 U 盘或县同步中心上的新版本（先验签名）
    Update {
        #[command(subcommand)]
        action: release::UpdateCommand,
    },
    /// 设备与安全码：列出、确认（待确认设备的修改确认后合并）
    Device {
        #[command(subcommand)]
        action: device::DeviceCommand,
    },
    /// 脱贫退出：评估、办理程序、查看进度
    Exit {
        #[command(subcommand)]
        action: exit::ExitCommand,
    },
    /// 家庭成员增减：减员（死亡、婚出……）、增员（新生儿、婚入……）及记录
    Member {
        #[command(subcommand)]
        action: member::MemberCommand,
    },
    /// 驻村工作队：列出、登记队员、登记离村
    Team {
        #[command(subcommand)]
        action: team::TeamCommand,
    },
    /// 村情：农村人口、贫困村、退出核对项目（达标日期、佐证材料），查看村退出核对
    Village {
        #[command(subcommand)]
        action: village::VillageCommand,
    },
    /// 脱贫标准：各年度贫困线等县里的设定（同步到全县）
    Standards {
        #[command(subcommand)]
        action: standards::StandardsCommand,
    },
    /// 扶贫政策：政策目录（同步到全县）、应享未享名单、乡镇经费、按政策登记措施和发放
    Policy {
        #[command(subcommand)]
        action: policy::PolicyCommand,
    },
    /// 档案：把签字表、公示照片、会议记录等附到退出步骤、走访记录、帮扶措施上；档案目录；存出文件
    Archive {
        #[command(subcommand)]
        action: archive::ArchiveCommand,
    },
    /// 列出待处理的冲突
    Conflicts {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 修改一户的字段（与界面走同一条保存路径）
    Edit {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        /// 字段=值，字段可写英文名或表上的中文名，如 联系电话=13800000000
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// 删除一户
    Delete {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        household: String,
        #[arg(long)]
        json: bool,
    },
    /// 一户的整页：查看（含底稿）、保存、迁往另一个村
    Household {
        #[command(subcommand)]
        action: household::HouseholdCommand,
    },
    /// 数据摘要：两份数据摘要相同即内容一致
    StateHash {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 按姓名、拼音首字母、证件号码片段或户编号查找
    Search {
        #[arg(long)]
        db: PathBuf,
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// 疑点数据清单：按建档表的规则检查每一户，并列出跨户重复
    Quality {
        #[arg(long)]
        db: PathBuf,
        /// 只列这一年度的收入、帮扶措施和走访记录的问题（户和成员的问题每年都列）；默认全部年度
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// 打印帮扶联系卡（PDF）
    Cards(cards::CardsArgs),
    /// 打印一户的走访记录（PDF）
    VisitsSheet(cards::VisitsSheetArgs),
    /// 台帐：导出 Excel、导入已有花名册
    Ledger {
        #[command(subcommand)]
        action: ledger::LedgerCommand,
    },
    Report(ledger::ReportArgs),
    /// 用县里发的一次性加入码加入县同步中心
    Enrol {
        #[arg(long)]
        db: PathBuf,
        /// 县同步中心地址，如 https://sync.example.gov.cn
        #[arg(long)]
        hub: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// 经县同步中心同步一次（上传本机修改，接收本范围的修改）
    Sync {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 性能测试，输出与同次测得基线的比值
    Bench {
        #[arg(long)]
        quick: bool,
        /// 用已有的模拟县数据文件，不再生成；文件不存在时生成在那里并保留（测试会在其中写入少量测试户）
        #[arg(long)]
        county: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// 只测这几组，逗号分隔：search、quality、rebuild、others（录入、联系卡、台帐）、merge（日志大小、合并、重复导入）
        #[arg(long)]
        only: Option<String>,
        /// 模拟县的户数（默认 100000，--quick 时 3000）
        #[arg(long)]
        households: Option<usize>,
        /// 合并与基线写入轮流测几轮（默认 3），取比值居中的一轮
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
        merge_rounds: u16,
    },
}

/// A failure with a Chinese message for people and an English detail for the log.
#[derive(Debug)]
pub struct Failure {
    pub message_zh: String,
    pub detail: String,
}

impl<E: UserFacing + std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            message_zh: e.message_zh(),
            detail: format!("{}: {e}", e.kind()),
        }
    }
}

impl Failure {
    pub fn new(message_zh: impl Into<String>, detail: impl Into<String>) -> Failure {
        Failure {
            message_zh: message_zh.into(),
            detail: detail.into(),
        }
    }
}

/// `--passphrase-file`, read once at start (the environment's `BANGFU_PASSPHRASE` otherwise).
static PASSPHRASE_FILE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
/// `--recovery-code-file`: where a script wants the recovery code of a file it protects.
static RECOVERY_CODE_FILE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

/// Opens a data file with the passphrase scripts give (`BANGFU_PASSPHRASE` or
/// `--passphrase-file`): an encrypted file is unlocked with it; a new file, or one of an
/// earlier version in the clear, is protected with it (the recovery code is printed once on
/// stderr, or written to `--recovery-code-file`) and encrypted. Without a passphrase a file in the clear opens as it is and an
/// encrypted one is refused with what to do. On a file whose team added people, a script
/// acts as the person `BANGFU_PERSON` signed in with the PIN `BANGFU_PIN` (refused as the app
/// refuses a wrong PIN); without them it may do only what needs no permission.
pub fn open_store(db: &Path) -> Result<Store, Failure> {
    let key = passphrase::key_for(
        db,
        PASSPHRASE_FILE.get().and_then(Option::as_deref),
        RECOVERY_CODE_FILE.get().and_then(Option::as_deref),
    )?;
    let options = OpenOptions {
        key,
        ..OpenOptions::default()
    };
    let mut store = Store::open_with_progress(db, &options, &mut print_rebuild_progress)?;
    if let Ok(person) = std::env::var("BANGFU_PERSON") {
        let pin = std::env::var("BANGFU_PIN").unwrap_or_default();
        store.sign_in(&person, &pin)?;
    }
    Ok(store)
}

/// An upgraded data file is rebuilt from its op log before use (minutes for a county): the
/// command says how far it has come on stderr, so scripts reading stdout are not disturbed.
pub fn print_rebuild_progress(p: RebuildProgress) {
    if p.rows_total > 0 {
        eprintln!(
            "正在升级数据文件：已重建 {} / {} 条记录（{}%）",
            p.rows_done,
            p.rows_total,
            p.rows_done * 100 / p.rows_total
        );
    }
}

pub fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn run(cli: Cli) -> Result<(), Failure> {
    let _ = PASSPHRASE_FILE.set(cli.passphrase_file.clone());
    let _ = RECOVERY_CODE_FILE.set(cli.recovery_code_file.clone());
    match cli.command {
        Command::Passphrase { action } => passphrase::run(action)?,
        Command::Demo { db } => {
            let mut store = open_store(&db)?;
            let summary = bangfu_core::demo::write_demo_village(&mut store)?;
            println!(
                "已写入演示村：{} 户、{} 人、{} 名帮扶责任人、{} 条走访记录（{} 条修改记录）。",
                summary.households, summary.members, summary.helpers, summary.visits, summary.ops
            );
        }
        Command::Generate {
            db,
            households,
            seed,
        } => {
            let mut store = open_store(&db)?;
            let started = std::time::Instant::now();
            let summary =
                bangfu_core::demo::generate_county(&mut store, households, seed, &mut |done| {
                    if done % 10_000 == 0 {
                        eprintln!("已生成 {done} 户");
                    }
                })?;
            println!(
                "已生成模拟县：{} 个村、{} 户、{} 人，用时 {:.1} 秒。",
                summary.villages,
                summary.households,
                summary.members,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Changes { action } => changes::run(action)?,
        Command::Device { action } => device::run(action)?,
        Command::Release { action } => release::release(action)?,
        Command::Update { action } => release::update(action)?,
        Command::Exit { action } => exit::run(action)?,
        Command::Standards { action } => standards::run(action)?,
        Command::Policy { action } => policy::run(action)?,
        Command::Archive { action } => archive::run(action)?,
        Command::Village { action } => village::run(action)?,
        Command::Member { action } => member::run(action)?,
        Command::Team { action } => team::run(action)?,
        Command::Conflicts { db, json } => changes::conflicts(&db, json)?,
        Command::Edit {
            db,
            household,
            set,
            json,
        } => edit::edit(&db, &household, &set, json)?,
        Command::Delete {
            db,
            household,
            json,
        } => edit::delete(&db, &household, json)?,
        Command::Household { action } => household::run(action)?,
        Command::StateHash { db, json } => {
            let store = open_store(&db)?;
            let hash = bangfu_core::sync::digest::state_hash(&store)?;
            if json {
                print_json(&serde_json::json!({ "state_hash": hash }));
            } else {
                println!("{hash}");
            }
        }
        Command::Search { db, text, json } => {
            let store = open_store(&db)?;
            let query = bangfu_core::query::HouseholdQuery {
                text,
                limit: 50,
                ..Default::default()
            };
            let page = bangfu_core::query::households(&store, &query)?;
            if json {
                print_json(&page);
            } else {
                println!("共 {} 户", page.total);
                for row in page.rows {
                    println!(
                        "{}  {}  {}  {}人",
                        row.code, row.head_name, row.head_id_number, row.members
                    );
                }
            }
        }
        Command::Quality { db, year, json } => {
            let store = open_store(&db)?;
            let items = bangfu_core::report::quality::data_quality_of_year(&store, year)?;
            // As the app shows it: a person signed in without full IDs sees them masked.
            let items = bangfu_core::report::quality::mask_for_reader(&store, items)?;
            if json {
                print_json(&items);
            } else {
                let errors = items
                    .iter()
                    .filter(|i| i.severity == bangfu_core::validate::Severity::Error)
                    .count();
                let of_year = year.map_or_else(
                    || "全部年度".to_owned(),
                    |y| format!("{y}年度（户和成员的问题每年都列）"),
                );
                println!(
                    "{of_year}共 {} 条：错误 {errors} 条，疑点 {} 条。",
                    items.len(),
                    items.len() - errors
                );
                for i in items {
                    let level = match i.severity {
                        bangfu_core::validate::Severity::Error => "错误",
                        bangfu_core::validate::Severity::Warning => "疑点",
                    };
                    println!(
                        "[{level}] {} {}：{}",
                        i.household_code, i.head_name, i.message
                    );
                }
            }
        }
        Command::Cards(args) => cards::cards(args)?,
        Command::VisitsSheet(args) => cards::visits_sheet(args)?,
        Command::Enrol {
            db,
            hub,
            code,
            json,
        } => hub::enrol(&db, &hub, &code, json)?,
        Command::Sync { db, json } => hub::sync(&db, json)?,
        Command::Bench {
            quick,
            county,
            json,
            only,
            households,
            merge_rounds,
        } => bench::run(quick, county, json, only, households, merge_rounds.into())?,
        Command::Ledger { action } => ledger::run(action)?,
        Command::Report(args) => ledger::report(args)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = run(Cli::parse());
    // `bangfu bench` runs an import in a child process and reads its peak memory here.
    if std::env::var_os("BANGFU_PRINT_PEAK_RSS").is_some()
        && let Some(mb) = bench::peak_rss_mb()
    {
        eprintln!("peak_rss_mb: {mb:.1}");
        let spilled = bangfu_core::store::temporary_bytes_spilled();
        eprintln!("spilled_mb: {:.1}", spilled as f64 / 1e6);
        if let Some(t) = bangfu_core::store::last_bulk_load_times() {
            eprintln!(
                "bulk_load_seconds: load {:.2} row_heads {:.2} indexes {:.2} search {:.2} summaries {:.2} commit {:.2} rollback_journal {}",
                t.load, t.heads, t.indexes, t.search, t.summaries, t.commit, t.rollback_journal
            );
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("错误：{}", failure.message_zh);
            eprintln!("detail: {}", failure.detail);
            ExitCode::FAILURE
        }
    }
}
