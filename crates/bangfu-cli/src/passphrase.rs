//! `bangfu passphrase`: the data file's passphrase from scripts, its change, and the way back
//! in with the recovery code.

use std::path::{Path, PathBuf};

use bangfu_core::store::protect::{self, Protection};
use bangfu_core::store::{DataKey, RecoveryCode, Unlock};
use clap::Subcommand;
use zeroize::Zeroizing;

use crate::Failure;

#[derive(Debug, Subcommand)]
pub enum PassphraseCommand {
    /// 修改口令（原口令用 BANGFU_PASSPHRASE 或 --passphrase-file 给出）
    Change {
        #[arg(long)]
        db: PathBuf,
        /// 新口令所在的文件（第一行）
        #[arg(long)]
        new_passphrase_file: PathBuf,
    },
    /// 忘记口令或钥匙文件丢失时：用恢复码打开，并设置新口令
    Recover {
        #[arg(long)]
        db: PathBuf,
        /// 设置口令时抄下的恢复码（48 位数字）
        #[arg(long)]
        recovery_code: String,
        #[arg(long)]
        new_passphrase_file: PathBuf,
    },
}

/// The key to open `db` with, from the passphrase scripts give; `None` when none is given.
pub fn key_for(db: &Path, passphrase_file: Option<&Path>) -> Result<Option<DataKey>, Failure> {
    let passphrase = protect::passphrase_from(passphrase_file)
        .map_err(|e| Failure::new("无法读取口令文件。", e.to_string()))?;
    let Some(passphrase) = passphrase else {
        return Ok(None);
    };
    let has_key_file = protect::key_file_path(db).exists();
    if !has_key_file && protect::protection_of(db) != Protection::Encrypted {
        let code = protect::set_up(db, &passphrase)?;
        eprintln!(
            "已为数据文件 {} 设置口令。恢复码（只显示这一次，请抄下并妥善保管；忘记口令时用它打开）：\n{}",
            db.display(),
            code.as_str()
        );
    }
    Ok(Some(protect::unlock(db, &Unlock::Passphrase(passphrase))?))
}

fn read_new(file: &Path) -> Result<Zeroizing<String>, Failure> {
    protect::passphrase_from(Some(file))
        .map_err(|e| Failure::new("无法读取新口令文件。", e.to_string()))?
        .ok_or_else(|| Failure::new("新口令文件是空的。", "empty new passphrase file"))
}

pub fn run(action: PassphraseCommand) -> Result<(), Failure> {
    match action {
        PassphraseCommand::Change {
            db,
            new_passphrase_file,
        } => {
            let new = read_new(&new_passphrase_file)?;
            // Opening proves the old passphrase; the key file is rewritten only after.
            let store = crate::open_store(&db)?;
            if store.key().is_none() {
                return Err(Failure::new(
                    "请用 BANGFU_PASSPHRASE 或 --passphrase-file 给出原口令。",
                    "no passphrase given",
                ));
            }
            store.change_passphrase(&new)?;
            println!("口令已修改。以后请用新口令打开；恢复码不变。");
        }
        PassphraseCommand::Recover {
            db,
            recovery_code,
            new_passphrase_file,
        } => {
            let new = read_new(&new_passphrase_file)?;
            let code = RecoveryCode::parse(&recovery_code)?;
            let key = protect::unlock(&db, &Unlock::Recovery(code))?;
            if protect::protection_of(&db) == Protection::Encrypted {
                protect::key_opens(&db, &key)?;
            }
            protect::change_passphrase(&db, &key, &new)?;
            println!("已用恢复码设置新口令。以后请用新口令打开；恢复码不变。");
        }
    }
    Ok(())
}
