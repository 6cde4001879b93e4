//! The lock screen's commands: set a passphrase for a new (or earlier, unencrypted) data file,
//! unlock it with the passphrase or the recovery code, and change the passphrase later.

use tauri::State;
use zeroize::Zeroizing;

use crate::error::CommandError;
use crate::launch::open_unlocked;
use crate::state::{AppState, LockNeeds};
use bangfu_core::store::protect::{self, RecoveryCode, Unlock};

static SETTING_UP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Argon2 takes a moment on purpose: it runs off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|error| {
            eprintln!("bangfu-desktop: passphrase task failed: {error}");
            CommandError {
                kind: "task_failed",
                message: "处理口令时意外中断，数据文件未受影响。请重试。".into(),
            }
        })?
}

/// Sets the passphrase of a data file that has none yet and resolves to its recovery code,
/// shown once. The file stays locked: the window then unlocks it with the same passphrase.
#[tauri::command]
pub async fn set_up_protection(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<String, CommandError> {
    let locked = state.lock().ok_or_else(already_open)?;
    if locked.needs != LockNeeds::SetUp {
        return Err(CommandError {
            kind: "already_protected",
            message: "这份数据文件已经设置过口令，请输入口令打开。".into(),
        });
    }
    let path = locked.choice.path.clone();
    let passphrase = Zeroizing::new(passphrase);
    let code = blocking(move || {
        // One set-up at a time: a second (Enter pressed twice) finds the key file made and is
        // refused, so the code on the screen is the one the key file holds.
        let _one = SETTING_UP
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        protect::set_up(&path, &passphrase).map_err(CommandError::from_core)
    })
    .await?;
    state.set_lock_needs(LockNeeds::Unlock);
    Ok(code.as_str().to_owned())
}

/// Unlocks the data file with its passphrase, or with its recovery code and a new passphrase
/// (a forgotten passphrase, a lost key file), and opens it. A wrong one changes nothing.
#[tauri::command]
pub async fn unlock_data_file(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: Option<String>,
    recovery_code: Option<String>,
    new_passphrase: Option<String>,
) -> Result<(), CommandError> {
    let locked = state.lock().ok_or_else(already_open)?;
    let path = locked.choice.path.clone();
    let unlock = match (passphrase, recovery_code) {
        (_, Some(code)) => {
            Unlock::Recovery(RecoveryCode::parse(&code).map_err(CommandError::from_core)?)
        }
        (Some(passphrase), None) => Unlock::Passphrase(Zeroizing::new(passphrase)),
        (None, None) => {
            return Err(CommandError {
                kind: "no_passphrase",
                message: "请输入口令。".into(),
            });
        }
    };
    let recovering = matches!(unlock, Unlock::Recovery(_));
    let new_passphrase = new_passphrase.map(Zeroizing::new);
    if recovering && new_passphrase.is_none() {
        return Err(CommandError {
            kind: "no_new_passphrase",
            message: "用恢复码打开时，请同时设置一个新口令（以后用新口令打开）。".into(),
        });
    }
    let key = blocking(move || {
        let key = protect::unlock(&path, &unlock).map_err(CommandError::from_core)?;
        if let Some(new) = new_passphrase {
            // The code is checked against the file itself before the key file is replaced.
            check_key_opens(&path, &key)?;
            protect::change_passphrase(&path, &key, &new).map_err(CommandError::from_core)?;
        }
        Ok(key)
    })
    .await?;
    open_unlocked(&app, key);
    Ok(())
}

/// Changes the passphrase of the open data file (设置 → 口令): the old one is asked again.
#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    old_passphrase: String,
    new_passphrase: String,
) -> Result<(), CommandError> {
    // The team's passphrase is changed only by who may change settings (everyone on a shared
    // laptop knows the old one).
    state.with_store(|store| {
        store
            .require(bangfu_core::access::Permission::ChangeSettings)
            .map_err(CommandError::from_core)
    })?;
    let path = state.data_file();
    let Some(key) = state.key() else {
        return Err(CommandError {
            kind: "locked",
            message: "数据文件还没有打开，请先输入口令。".into(),
        });
    };
    let old = Zeroizing::new(old_passphrase);
    let new = Zeroizing::new(new_passphrase);
    blocking(move || {
        let known =
            protect::unlock(&path, &Unlock::Passphrase(old)).map_err(CommandError::from_core)?;
        if known != key {
            return Err(CommandError::from_core(
                protect::ProtectError::WrongPassphrase,
            ));
        }
        protect::change_passphrase(&path, &key, &new).map_err(CommandError::from_core)
    })
    .await
}

/// Whether `key` opens the file (a new file or one in the clear: nothing to check yet).
fn check_key_opens(
    path: &std::path::Path,
    key: &bangfu_core::store::DataKey,
) -> Result<(), CommandError> {
    if protect::protection_of(path) != protect::Protection::Encrypted {
        return Ok(());
    }
    protect::key_opens(path, key).map_err(CommandError::from_core)
}

fn already_open() -> CommandError {
    CommandError {
        kind: "already_open",
        message: "数据文件已经打开。".into(),
    }
}
