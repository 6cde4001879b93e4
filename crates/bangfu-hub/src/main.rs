//! The `bangfu-hub` command: serve the county hub, make its admin credential, issue enrolment
//! codes, list and revoke devices, list held ops, and run the load test. The admin's commands
//! need the admin credential (`BANGFU_HUB_ADMIN_TOKEN` or `--admin-token-file`).

mod loadtest;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bangfu_hub::Scope;
use bangfu_hub::server::{self, ServerConfig, TlsFiles};
use bangfu_hub::storage::{AdminCheck, HubStorage, Location};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bangfu-hub",
    version,
    about = "帮扶台账县同步中心：bangfu-hub --data 目录 --listen 地址",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

/// Where the hub's data is: a folder with hub.sqlite (one county), or a PostgreSQL database.
#[derive(Debug, Args, Clone)]
struct DataArgs {
    /// 数据目录（内含 hub.sqlite）
    #[arg(long, conflicts_with = "database")]
    data: Option<PathBuf>,
    /// PostgreSQL 数据库地址，如 postgres://bangfu@127.0.0.1/bangfu（多个同步中心进程可共用）
    #[arg(long)]
    database: Option<String>,
    /// 连接 PostgreSQL 的最大连接数
    #[arg(long, default_value_t = 16)]
    connections: u32,
}

impl DataArgs {
    fn open(&self) -> anyhow::Result<Arc<dyn HubStorage>> {
        let location = match (&self.data, &self.database) {
            (_, Some(url)) => Location::Postgres(url.clone()),
            (Some(dir), None) => Location::Dir(dir.clone()),
            (None, None) => anyhow::bail!(
                "需要 --data 数据目录或 --database PostgreSQL 地址（用法：bangfu-hub --data 目录 --listen 地址）"
            ),
        };
        location
            .open(self.connections)
            .context("无法打开同步中心的数据（检查数据目录或数据库地址是否正确、数据库是否在运行）")
    }
}

/// The admin credential, for the admin's commands.
#[derive(Debug, Args, Clone)]
struct AdminArgs {
    /// 存放管理员口令的文件（也可用环境变量 BANGFU_HUB_ADMIN_TOKEN 给出）
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
}

/// The environment variable a script gives the admin credential in.
const ADMIN_TOKEN_ENV: &str = "BANGFU_HUB_ADMIN_TOKEN";

impl AdminArgs {
    /// Opens the storage once the admin credential given is the hub's.
    fn open_as_admin(&self, data: &DataArgs) -> anyhow::Result<Arc<dyn HubStorage>> {
        let token = match (&self.admin_token_file, std::env::var(ADMIN_TOKEN_ENV)) {
            (Some(file), _) => std::fs::read_to_string(file)
                .with_context(|| format!("无法读取管理员口令文件 {}", file.display()))?,
            (None, Ok(token)) => token,
            (None, Err(_)) => anyhow::bail!(
                "需要管理员口令：设置环境变量 {ADMIN_TOKEN_ENV}，或用 --admin-token-file 指定存放口令的文件（口令由 bangfu-hub init 生成）"
            ),
        };
        let storage = data.open()?;
        match storage.check_admin(token.trim())? {
            AdminCheck::Valid => Ok(storage),
            AdminCheck::Wrong => anyhow::bail!("管理员口令不对，未做任何操作"),
            AdminCheck::NotSet => anyhow::bail!(
                "这个同步中心还没有管理员口令，请先运行 bangfu-hub init 生成（只显示一次，请妥善保存）"
            ),
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// 监听地址，如 0.0.0.0:8717；端口写 0 则自动选择
    #[arg(long, default_value = "127.0.0.1:8717")]
    listen: String,
    /// HTTPS 证书（PEM），与 --key 一起给出时启用 HTTPS
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// HTTPS 私钥（PEM）
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// 每个地址每 10 分钟最多输错几次加入码（用对的不计），超过则等到 10 分钟满
    #[arg(long, default_value_t = 20)]
    enrol_attempts: u32,
    /// 客户端发完请求头的最长时间（秒），超时断开连接
    #[arg(long, default_value_t = 15)]
    header_timeout: u64,
    /// 一个请求（含上传内容）的最长处理时间（秒），超时答 408
    #[arg(long, default_value_t = 120)]
    request_timeout: u64,
    /// 安装包目录：放入签名的新版本（bangfu-update.json 和它指明的安装包），各村联网时可取
    #[arg(long)]
    packages: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 建立同步中心（创建数据库）并生成管理员口令（只显示一次）
    Init {
        #[command(flatten)]
        data: DataArgs,
        /// 换一个新的管理员口令（需给出现在的口令），旧口令随即作废
        #[arg(long)]
        rotate: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// 为一台电脑发一次性加入码（范围：12 位村代码、9 位乡镇代码或 6 位县代码）
    Enrol {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        admin: AdminArgs,
        #[arg(long)]
        scope: String,
        /// 有效天数（1 到 90，默认 7）
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// 停用一台已登记电脑的同步凭据
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        admin: AdminArgs,
        /// 设备编号（见 devices）
        #[arg(long)]
        device: i64,
    },
    /// 列出已登记的电脑
    Devices {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// 显示县同步中心的安全码：从不与同步中心同步的乡镇工作站核对并确认它一次后，县里登记过的电脑不用再逐台确认
    CountyKey {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        admin: AdminArgs,
        /// 6 位县代码（同步中心服务几个县时，每个县有自己的安全码）；不填则列出已登记电脑所在的各县
        #[arg(long)]
        county: Option<String>,
        /// 换一个新的县安全码（旧的可能已泄露时）：各电脑和乡镇工作站须核对新安全码后“改认”，须同时给出 --county
        #[arg(long)]
        renew: bool,
    },
    /// 列出被暂扣的修改（超出上传电脑的范围、同一编号内容不同，或来自已停用的电脑），供县管理员核查
    Held {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        admin: AdminArgs,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 负载测试：各模拟县（--counties 或 --province 全省）的县管理员同时上传，再由 N 台村电脑经同步中心同步，限时
    Loadtest(loadtest::LoadArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            let storage = cli.serve.data.open()?;
            let listener = server::bind(&cli.serve.listen)?;
            let addr = listener.local_addr()?;
            let tls = cli
                .serve
                .cert
                .zip(cli.serve.key)
                .map(|(cert, key)| TlsFiles { cert, key });
            let scheme = if tls.is_some() { "https" } else { "http" };
            // Tests and scripts read the address from this first line.
            println!("bangfu-hub listening on {scheme}://{addr}");
            let config = ServerConfig {
                header_timeout: Duration::from_secs(cli.serve.header_timeout.max(1)),
                request_timeout: Duration::from_secs(cli.serve.request_timeout.max(1)),
                enrol_attempts: cli.serve.enrol_attempts,
                ..ServerConfig::default()
            };
            let runtime = tokio::runtime::Runtime::new()?;
            let app = server::app(storage, cli.serve.packages, &config);
            runtime.block_on(server::serve_app(listener, app, tls, config))?;
        }
        Some(Command::Init {
            data,
            rotate,
            admin,
        }) => {
            let storage = if rotate {
                admin.open_as_admin(&data)?
            } else {
                data.open()?
            };
            let Some(token) = storage.create_admin_token(rotate)? else {
                anyhow::bail!(
                    "这个同步中心已有管理员口令；要换一个，请用 bangfu-hub init --rotate 并给出现在的口令"
                );
            };
            println!("{token}");
            eprintln!(
                "管理员口令（只显示这一次，同步中心只保存它的摘要）：请存入只有县管理员能读的文件，用 --admin-token-file 或环境变量 {ADMIN_TOKEN_ENV} 给出。"
            );
        }
        Some(Command::Enrol {
            data,
            admin,
            scope,
            days,
        }) => {
            let scope =
                Scope::parse(&scope).context("范围应为 12 位村代码、9 位乡镇代码或 6 位县代码")?;
            if !(1..=bangfu_hub::wire::MAX_CODE_DAYS).contains(&days) {
                anyhow::bail!("有效天数应为 1 到 {} 天", bangfu_hub::wire::MAX_CODE_DAYS);
            }
            let storage = admin.open_as_admin(&data)?;
            let issued =
                storage.issue_code_for(&scope, Duration::from_secs(u64::from(days) * 24 * 3600))?;
            println!("{}", issued.code);
            eprintln!(
                "加入码（范围 {scope}，只能使用一次，{days} 天内有效，输错 5 次作废）：{}",
                issued.code
            );
        }
        Some(Command::Revoke {
            data,
            admin,
            device,
        }) => {
            let storage = admin.open_as_admin(&data)?;
            if !storage.revoke(device)? {
                anyhow::bail!("没有编号为 {device} 的在用设备");
            }
            println!(
                "已停用设备 {device}，它的同步请求将被拒绝；它此后上传的修改不并入，暂存待核查（bangfu-hub held）。"
            );
        }
        Some(Command::Devices { data, admin }) => {
            let storage = admin.open_as_admin(&data)?;
            for d in storage.devices()? {
                let state = if d.revoked { "已停用" } else { "在用" };
                println!("{}\t{}\t{}\t{state}", d.id, d.scope, d.name);
            }
        }
        Some(Command::CountyKey {
            data,
            admin,
            county,
            renew,
        }) => {
            let storage = admin.open_as_admin(&data)?;
            if renew {
                let Some(code) = county.as_deref() else {
                    anyhow::bail!("换县安全码须用 --county 给出是哪个县（6 位县代码）。");
                };
                check_county_code(code)?;
                // A mistyped code would make a key no one uses and leave the old one in use.
                if !storage.devices()?.iter().any(|d| d.scope.starts_with(code)) {
                    anyhow::bail!(
                        "同步中心没有县代码为 {code} 的县登记过的电脑，未换安全码：请核对县代码。"
                    );
                }
                let key = storage.renew_county_key(code)?;
                let fingerprint = bangfu_core::sync::county::county_fingerprint(&key.public_hex())
                    .unwrap_or_default();
                println!("已为县（{code}）换了新的县同步中心安全码：{fingerprint}");
                println!(
                    "旧安全码签发的设备证书从此不再发出。各电脑下次同步时会提示安全码不符；请把新安全码正式通知各村工作队和乡镇工作站，由他们在“同步 → 设备与安全码”中核对后改认（或 bangfu device confirm-county 安全码 --replace）。"
                );
                return Ok(());
            }
            let counties: std::collections::BTreeSet<String> = match county {
                Some(code) => {
                    check_county_code(&code)?;
                    [code].into()
                }
                None => storage
                    .devices()?
                    .iter()
                    .filter_map(|d| d.scope.get(..6).map(str::to_owned))
                    .collect(),
            };
            if counties.is_empty() {
                anyhow::bail!("还没有登记任何电脑：请用 --county 给出 6 位县代码。");
            }
            for code in counties {
                let (key, listed) = storage.county_rows(&code)?;
                let fingerprint = bangfu_core::sync::county::county_fingerprint(&key.public_hex())
                    .unwrap_or_default();
                println!("县同步中心（{code}）的安全码：{fingerprint}");
                println!(
                    "  已登记并上传过签名修改的电脑：{} 台（它们的同步文件都带着县同步中心的证书）。",
                    listed.len()
                );
            }
            println!(
                "请把安全码通知各乡镇工作站：在“同步 → 设备与安全码”中核对后确认（或 bangfu device confirm-county 安全码）。"
            );
        }
        Some(Command::Held { data, admin, json }) => {
            let storage = admin.open_as_admin(&data)?;
            let held = storage.held()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&held)?);
            } else if held.is_empty() {
                println!("没有被暂扣的修改。");
            } else {
                println!("编号\t上传电脑\t原因\t表\t记录\t字段\t修改编号");
                for h in &held {
                    let reason = match h.reason.as_str() {
                        "outside_scope" => "超出该电脑的同步范围",
                        "content_mismatch" => "同一修改编号内容不同",
                        "device_revoked" => "电脑已停用，待核查（未并入）",
                        other => other,
                    };
                    println!(
                        "{}\t{}\t{reason}\t{}\t{}\t{}\t{}/{}",
                        h.id, h.device, h.table, h.row, h.field, h.origin, h.seq
                    );
                }
                println!(
                    "共 {} 条。这些修改仍保存在上传它们的电脑上；核实后请联系该村调整范围或重新录入。",
                    held.len()
                );
            }
        }
        Some(Command::Loadtest(args)) => loadtest::run(&args)?,
    }
    Ok(())
}

/// Refuses what is not a 6-digit county code, in Chinese.
fn check_county_code(code: &str) -> anyhow::Result<()> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("“{code}”不是县代码：县代码是 6 位数字，如 530828。");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}
