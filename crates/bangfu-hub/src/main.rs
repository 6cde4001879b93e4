//! The `bangfu-hub` command: serve the county hub, issue enrolment codes, list and revoke
//! devices, and run the load test.

mod loadtest;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bangfu_hub::Scope;
use bangfu_hub::server::{self, TlsFiles};
use bangfu_hub::storage::{HubStorage, Location};
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
    /// 安装包目录：放入签名的新版本（bangfu-update.json 和它指明的安装包），各村联网时可取
    #[arg(long)]
    packages: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 为一台电脑发一次性加入码（范围：12 位村代码、9 位乡镇代码或 6 位县代码）
    Enrol {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        scope: String,
    },
    /// 停用一台已登记电脑的同步凭据
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// 设备编号（见 devices）
        #[arg(long)]
        device: i64,
    },
    /// 列出已登记的电脑
    Devices {
        #[command(flatten)]
        data: DataArgs,
    },
    /// 列出被暂扣的修改（超出上传电脑的范围，或同一编号内容不同），供县管理员核查
    Held {
        #[command(flatten)]
        data: DataArgs,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 负载测试：N 台电脑经一个同步中心同步一个模拟县，限时
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
            let runtime = tokio::runtime::Runtime::new()?;
            let app = server::app(storage, cli.serve.packages);
            runtime.block_on(server::serve_app(listener, app, tls))?;
        }
        Some(Command::Enrol { data, scope }) => {
            let scope =
                Scope::parse(&scope).context("范围应为 12 位村代码、9 位乡镇代码或 6 位县代码")?;
            let storage = data.open()?;
            let code = storage.issue_code(&scope)?;
            println!("{code}");
            eprintln!("加入码（范围 {scope}，只能使用一次）：{code}");
        }
        Some(Command::Revoke { data, device }) => {
            let storage = data.open()?;
            if !storage.revoke(device)? {
                anyhow::bail!("没有编号为 {device} 的在用设备");
            }
            println!("已停用设备 {device}，它的同步请求将被拒绝。");
        }
        Some(Command::Devices { data }) => {
            let storage = data.open()?;
            for d in storage.devices()? {
                let state = if d.revoked { "已停用" } else { "在用" };
                println!("{}\t{}\t{}\t{state}", d.id, d.scope, d.name);
            }
        }
        Some(Command::Held { data, json }) => {
            let storage = data.open()?;
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

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}
