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
        #[arg(
            long,
            required_unless_present = "recovery_code_file",
            conflicts_with = "recovery_code_file"
        )]
        recovery_code: Option<String>,
        /// 恢复码所在的文件（第一行），免得恢复码出现在命令行里
        #[arg(long)]
        recovery_code_file: Option<PathBuf>,
        #[arg(long)]
        new_passphrase_file: PathBuf,
    },
}

/// The key to open `db` with, from the passphrase scripts give; `None` when none is given.
/// A file protected here gets its recovery code printed once on stderr, or written to
/// `recovery_code_file` when a script names one.
pub fn key_for(
    db: &Path,
    passphrase_file: Option<&Path>,
    recovery_code_file: Option<&Path>,
) -> Result<Option<DataKey>, Failure> {
    let passphrase = protect::passphrase_from(passphrase_file)
        .map_err(|e| Failure::new("无法读取口令文件。", e.to_string()))?;
    let Some(passphrase) = passphrase else {
        return Ok(None);
    };
    let has_key_file = protect::key_file_path(db).exists();
    if !has_key_file && protect::protection_of(db) != Protection::Encrypted {
        match recovery_code_file {
            Some(file) => set_up_with_code_file(db, &passphrase, file)?,
            None => {
                let code = protect::set_up(db, &passphrase)?;
                eprintln!(
                    "已为数据文件 {} 设置口令。恢复码（只显示这一次，请抄下并妥善保管；忘记口令时用它打开）：\n{}",
                    db.display(),
                    code.as_str()
                );
            }
        }
    }
    Ok(Some(protect::unlock(db, &Unlock::Passphrase(passphrase))?))
}

/// Protects `db` and writes its recovery code to `file`. The file is made (new, readable by
/// this user only) before the protection, so a code can never be set up and then lost
/// because its file could not be written; if the protection fails, the empty file goes.
fn set_up_with_code_file(db: &Path, passphrase: &str, file: &Path) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "恢复码文件 {} 已经存在：请换一个新文件名，以免覆盖别的数据文件的恢复码。",
                file.display()
            )
        } else {
            format!("无法建立恢复码文件 {}。", file.display())
        };
        Failure::new(message, e.to_string())
    })?;
    let code = match protect::set_up(db, passphrase) {
        Ok(code) => code,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(file);
            return Err(e.into());
        }
    };
    if let Err(e) = out
        .write_all(format!("{}\n", code.as_str()).as_bytes())
        .and_then(|()| out.sync_all())
    {
        // The passphrase is set; the code must not be lost with the file that failed.
        eprintln!(
            "已为数据文件 {} 设置口令，但恢复码没能写进 {}（{e}）。恢复码只显示这一次，请抄下并妥善保管：\n{}",
            db.display(),
            file.display(),
            code.as_str()
        );
        return Ok(());
    }
    eprintln!(
        "已为数据文件 {} 设置口令。恢复码已写入 {}（请另行妥善保管，不要和数据文件放在一起）。",
        db.display(),
        file.display()
    );
    Ok(())
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
            recovery_code_file,
            new_passphrase_file,
        } => {
            let new = read_new(&new_passphrase_file)?;
            let typed = match (recovery_code, recovery_code_file) {
                (Some(code), _) => Zeroizing::new(code),
                (None, Some(file)) => {
                    let text = Zeroizing::new(std::fs::read_to_string(&file).map_err(|e| {
                        Failure::new(
                            format!("无法读取恢复码文件 {}。", file.display()),
                            e.to_string(),
                        )
                    })?);
                    Zeroizing::new(text.lines().next().unwrap_or_default().to_owned())
                }
                (None, None) => {
                    return Err(Failure::new(
                        "请用 --recovery-code 或 --recovery-code-file 给出恢复码。",
                        "no recovery code given",
                    ));
                }
            };
            let code = RecoveryCode::parse(&typed)?;
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
