//! `bangfu release keygen|sign` (whoever publishes versions: a release key, and the signed
//! `bangfu-update.json` beside a package) and `bangfu update check` (a laptop or a station: a
//! release in a folder (a U 盘) or on the county hub, checked before anything is shown).

use std::path::PathBuf;

use bangfu_core::update::{
    MANIFEST_FILE, VerifiedUpdate, generate_release_key, sign_release, signing_key, trusted_keys,
    verify_folder, verifying_key,
};
use bangfu_hub::client::{ClientConfig, HubClient};
use clap::Subcommand;

use crate::{Failure, print_json};

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// 生成发布密钥：私钥写入 --out（妥善保管，不要拷到 U 盘上），公钥打印出来，放进 release-keys.txt
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// 为安装包签名：在安装包旁写 bangfu-update.json（版本、更新内容、安装包的 SHA-256 和签名）
    Sign {
        /// 私钥文件（bangfu release keygen 写的）
        #[arg(long)]
        key: PathBuf,
        /// 安装包，如 dist/bangfu_0.2.0_amd64.deb
        #[arg(long)]
        package: PathBuf,
        #[arg(long)]
        version: String,
        /// 更新内容，每条一个 --change
        #[arg(long = "change")]
        changes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// 检查 U 盘（文件夹）或县同步中心上的新版本：先验签名，再验安装包
    Check {
        /// 放着 bangfu-update.json 和安装包的文件夹
        #[arg(long, conflicts_with = "hub")]
        folder: Option<PathBuf>,
        /// 县同步中心地址；安装包下载到 --into
        #[arg(long, requires = "into")]
        hub: Option<String>,
        #[arg(long)]
        into: Option<PathBuf>,
        /// 另外信任的发布公钥（十六进制），供测试用
        #[arg(long = "trust")]
        trust: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn release(command: ReleaseCommand) -> Result<(), Failure> {
    match command {
        ReleaseCommand::Keygen { out } => {
            if out.exists() {
                return Err(Failure::new(
                    format!("“{}”已存在，不会覆盖；请换一个文件名。", out.display()),
                    "key file exists",
                ));
            }
            let (private, public) = generate_release_key();
            bangfu_core::files::write_file(&out, private.as_bytes())?;
            println!("{public}");
            eprintln!(
                "私钥已写入 {}，请妥善保管。上面一行是公钥：放进 crates/bangfu-core/src/update/release-keys.txt 后发布的程序才认这把密钥签的版本。",
                out.display()
            );
        }
        ReleaseCommand::Sign {
            key,
            package,
            version,
            changes,
        } => {
            let text = std::fs::read_to_string(&key).map_err(|e| {
                Failure::new(
                    format!("无法读取私钥文件“{}”。", key.display()),
                    e.to_string(),
                )
            })?;
            let manifest = sign_release(&signing_key(&text)?, &package, &version, &changes)?;
            let out = package.with_file_name(MANIFEST_FILE);
            bangfu_core::files::write_file(&out, manifest.as_bytes())?;
            println!(
                "已签名：{}（把它和安装包一起放进同步中心的安装包目录或拷到 U 盘上）",
                out.display()
            );
        }
    }
    Ok(())
}

pub fn update(command: UpdateCommand) -> Result<(), Failure> {
    let UpdateCommand::Check {
        folder,
        hub,
        into,
        trust,
        json,
    } = command;
    let mut keys = trusted_keys();
    for hex in &trust {
        keys.push(verifying_key(hex)?);
    }
    let running = env!("CARGO_PKG_VERSION");
    let update: VerifiedUpdate = match (folder, hub, into) {
        (Some(folder), _, _) => verify_folder(&folder, &keys, running)?,
        (None, Some(hub), Some(into)) => {
            HubClient::new(ClientConfig::default()).fetch_update(&hub, &into, &keys, running)?
        }
        _ => {
            return Err(Failure::new(
                "请用 --folder 指明 U 盘上的文件夹，或用 --hub 和 --into 指明县同步中心和下载到哪里。",
                "no source",
            ));
        }
    };
    if json {
        print_json(&update);
        return Ok(());
    }
    if update.newer {
        println!("有新版本：{}（本机 {running}）", update.release.version);
    } else {
        println!(
            "没有更新的版本：{} 不比本机的 {running} 新。",
            update.release.version
        );
    }
    for change in &update.release.changes {
        println!("  · {change}");
    }
    println!("签名和安装包已验证：{}", update.package_path.display());
    println!("安装：{}", update.install_command);
    Ok(())
}
