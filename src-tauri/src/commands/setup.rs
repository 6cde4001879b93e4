//! The first-run wizard (首次使用设置): what it proposes, the data file it makes (本机名称,
//! 所属乡镇/村, where the file lives, its passphrase, then joining: a county enrolment code when
//! online, or through the township by U 盘), and the practice village (练习用), the demo in a
//! file of its own that never joins a hub and is never remembered as the file to open.
//!
//! The wizard is a list of steps in the UI (`ui/src/setup/steps.ts`); this side only takes
//! the finished answers. The data file it makes is encrypted from its first byte under the
//! passphrase the wizard asked for; the recovery code is on the last screen, shown once.

use std::path::{Path, PathBuf};

use bangfu_core::UserFacing;
use bangfu_core::store::protect::{self, Protection, RecoveryCode, Unlock};
use bangfu_core::store::{DataKey, OpenOptions, Store};
use bangfu_core::sync::exchange::{SealTo, export_sealed};
use bangfu_hub::client::{ClientConfig, HubClient};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};

use crate::error::{CommandError, ShellError};
use crate::hub_sync::{self, HubSync};
use crate::launch::{DataFileChoice, lock_needs, open_data_file};
use crate::state::{AppState, LockNeeds};
use zeroize::Zeroizing;

/// Why the wizard cannot go on; every message says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("setup asked for, but a data file is open already")]
    AlreadySetUp,
    #[error("no data file path given")]
    NoDataFile,
    #[error("{0} is a folder")]
    IsFolder(PathBuf),
    #[error("no folder on a stick chosen")]
    NoStickFolder,
    #[error("the practice village cannot join a hub")]
    PracticeCannotJoin,
    #[error("a set-up is under way")]
    UnderWay,
    #[error("the chosen data file is encrypted and its key file is missing")]
    NeedsRecoveryCode(PathBuf),
}

impl UserFacing for SetupError {
    fn kind(&self) -> &'static str {
        match self {
            SetupError::AlreadySetUp => "already_set_up",
            SetupError::NoDataFile => "no_data_file",
            SetupError::IsFolder(_) => "data_file_is_folder",
            SetupError::NoStickFolder => "no_stick_folder",
            SetupError::PracticeCannotJoin => "practice_cannot_join",
            SetupError::NeedsRecoveryCode(_) => "needs_recovery_code",
            SetupError::UnderWay => "setup_under_way",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            SetupError::AlreadySetUp => {
                "本机已经设置过，数据文件已打开；如需更改，请到“设置”页。".into()
            }
            SetupError::NoDataFile => "请填写或选择数据文件的位置。".into(),
            SetupError::IsFolder(path) => format!(
                "“{}”是一个文件夹，请在后面加上文件名，如“新文村.sqlite”。",
                path.display()
            ),
            SetupError::NoStickFolder => {
                "请选择 U 盘上的文件夹（本机的介绍文件存到那里），或改选“以后再说”。".into()
            }
            SetupError::PracticeCannotJoin => {
                "练习村是虚构的演示数据，不能加入县同步中心。请先点“开始正式使用”建立正式数据文件。"
                    .into()
            }
            SetupError::UnderWay => "正在建立数据文件，请稍候，不要重复点击。".into(),
            SetupError::NeedsRecoveryCode(path) => format!(
                "“{}”已加密，但旁边的口令文件（.key）不见了：要打开它需要恢复码。请换一个位置新建数据文件，或用 bangfu passphrase recover 以恢复码设新口令后再打开。",
                path.display()
            ),
        }
    }
}

/// What the wizard proposes.
#[derive(ts_rs::TS, Debug, Serialize)]
pub struct SetupDefaults {
    /// The folder the data file goes in unless the person picks another (`~/帮扶台账`).
    pub data_folder: String,
    /// The practice village's file (in the app-data folder, apart from real data).
    pub practice_file: String,
}

/// How this copy gets its village's data.
#[derive(ts_rs::TS, Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JoinBy {
    /// 以后再说: an empty file; 设置 and 同步 can join later.
    Later,
    /// 县同步中心: the hub's address and the one-time enrolment code the county gave.
    Hub { url: String, code: String },
    /// 经乡镇工作站（U 盘）: this laptop's introduction (its keys, no household) is written to
    /// a folder on a stick for the township, which then exports the village sealed to it.
    Stick { folder: String },
}

/// The wizard's answers.
#[derive(ts_rs::TS, Debug, Clone, Deserialize)]
pub struct SetupAnswers {
    pub device_name: String,
    pub township: String,
    pub village: String,
    pub data_file: String,
    /// The passphrase that opens the data file from now on (at least 8 characters).
    pub passphrase: String,
    pub join: JoinBy,
}

/// What the last screen says.
#[derive(ts_rs::TS, Debug, Serialize)]
pub struct SetupDone {
    pub data_file: String,
    /// How joining went, in Chinese.
    pub message: String,
    /// The recovery code of a newly protected file, shown once on the last screen; `None` when
    /// the wizard opened a file protected before with the passphrase given.
    pub recovery_code: Option<String>,
}

#[tauri::command]
pub async fn setup_defaults(app: AppHandle) -> Result<SetupDefaults, CommandError> {
    let home = app
        .path()
        .document_dir()
        .or_else(|_| app.path().home_dir())
        .unwrap_or_else(|_| PathBuf::from("."));
    let practice = app
        .path()
        .app_data_dir()
        .map(|dir| DataFileChoice::practice(&dir).path)
        .unwrap_or_default();
    Ok(SetupDefaults {
        data_folder: home.join("帮扶台账").display().to_string(),
        practice_file: practice.display().to_string(),
    })
}

/// Makes the data file from the wizard's answers, joins as asked, and opens it for every
/// command (the window reloads); the hub sync starts on it. Runs on a blocking thread: joining
/// talks to the hub or imports a whole village.
#[tauri::command]
pub async fn finish_setup(
    app: AppHandle,
    state: State<'_, AppState>,
    answers: SetupAnswers,
) -> Result<SetupDone, CommandError> {
    if !state.awaiting_setup() {
        return Err(CommandError::from_core(SetupError::AlreadySetUp));
    }
    // One set-up at a time: a second call for the same path (a double submit) would see no
    // file yet, fail on the first one's key file, and clean away what the first is making.
    let Some(_one) = SetupUnderWay::begin() else {
        return Err(CommandError::from_core(SetupError::UnderWay));
    };
    let path = PathBuf::from(answers.data_file.trim());
    if path.as_os_str().is_empty() {
        return Err(CommandError::from_core(SetupError::NoDataFile));
    }
    if path.is_dir() {
        return Err(CommandError::from_core(SetupError::IsFolder(path)));
    }
    if let JoinBy::Stick { folder } = &answers.join
        && folder.trim().is_empty()
    {
        return Err(CommandError::from_core(SetupError::NoStickFolder));
    }
    let app_data_dir = app
        .path()
        .app_data_dir()
        .map_err(|_| CommandError::from_core(SetupError::NoDataFile))?;
    let made = path.clone();
    let (store, made_here) = tauri::async_runtime::spawn_blocking(move || {
        make_or_clean_up(&made, &answers, &app_data_dir)
    })
    .await
    .map_err(|error| {
        CommandError::from_core(ShellError::Task {
            what: "建立数据文件",
            source: error,
        })
    })??;
    let data_file = store.path().to_path_buf();
    let key = made_here.key.clone();
    state.opened(data_file.clone(), store, false, Some(key.clone()));
    if app.try_state::<HubSync>().is_none() {
        app.manage(hub_sync::start_for_app(
            &app,
            Some(data_file.clone()),
            Some(key),
        ));
    }
    Ok(SetupDone {
        data_file: data_file.display().to_string(),
        message: made_here.message,
        recovery_code: made_here.code.map(|code| code.as_str().to_owned()),
    })
}

/// Held while `finish_setup` runs; a second call is refused until it ends.
struct SetupUnderWay;

static SETUP_UNDER_WAY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl SetupUnderWay {
    fn begin() -> Option<SetupUnderWay> {
        use std::sync::atomic::Ordering;
        SETUP_UNDER_WAY
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| SetupUnderWay)
    }
}

impl Drop for SetupUnderWay {
    fn drop(&mut self) {
        SETUP_UNDER_WAY.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// What the wizard made besides the open store.
struct Made {
    key: DataKey,
    code: Option<RecoveryCode>,
    message: String,
}

/// The data key of the chosen file: a new file (or one in the clear) is protected with the
/// wizard's passphrase first; a file protected before is unlocked with it.
fn protect_chosen_file(
    path: &Path,
    passphrase: Zeroizing<String>,
) -> Result<(DataKey, Option<RecoveryCode>), CommandError> {
    match lock_needs(path) {
        LockNeeds::SetUp => {
            let code = protect::set_up(path, &passphrase).map_err(CommandError::from_core)?;
            let key = code.data_key();
            if protect::protection_of(path) == Protection::Plain {
                bangfu_core::store::encrypt::encrypt_in_place(path, &key, &|_, _| {})
                    .map_err(CommandError::from_core)?;
            }
            Ok((key, Some(code)))
        }
        LockNeeds::Unlock => protect::unlock(path, &Unlock::Passphrase(passphrase))
            .map(|key| (key, None))
            .map_err(CommandError::from_core),
        LockNeeds::Recover => Err(CommandError::from_core(SetupError::NeedsRecoveryCode(
            path.to_path_buf(),
        ))),
    }
}

/// [`make_data_file`], and on failure whatever it made removed: a new data file, and a new
/// key file unless the data file is encrypted under it (that would lose the file).
fn make_or_clean_up(
    path: &Path,
    answers: &SetupAnswers,
    app_data_dir: &Path,
) -> Result<(Store, Made), CommandError> {
    let key_file = protect::key_file_path(path);
    let existed = path.exists();
    let key_existed = key_file.exists();
    let result = make_data_file(path, answers, app_data_dir);
    if result.is_err() {
        if !existed {
            remove_new_file(path);
        }
        if !key_existed && protect::protection_of(path) != Protection::Encrypted {
            let _ = std::fs::remove_file(&key_file);
        }
    }
    result
}

fn make_data_file(
    path: &Path,
    answers: &SetupAnswers,
    app_data_dir: &Path,
) -> Result<(Store, Made), CommandError> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|source| {
            CommandError::from_core(ShellError::File {
                action: "建立",
                path: folder.to_path_buf(),
                source,
            })
        })?;
    }
    let passphrase = Zeroizing::new(answers.passphrase.clone());
    // A file of an earlier version in the clear is encrypted only once everything else went
    // through: a join that fails (no network, a mistyped code) leaves it as it was.
    let in_the_clear =
        lock_needs(path) == LockNeeds::SetUp && protect::protection_of(path) == Protection::Plain;
    let protected = if in_the_clear {
        None
    } else {
        Some(protect_chosen_file(path, passphrase.clone())?)
    };
    let message = {
        let options = OpenOptions {
            key: protected.as_ref().map(|(key, _)| key.clone()),
            ..OpenOptions::default()
        };
        let mut store = Store::open(path, &options).map_err(CommandError::from_core)?;
        store
            .rename_device(&answers.device_name)
            .map_err(CommandError::from_core)?;
        store
            .set_home_place(&answers.township, &answers.village)
            .map_err(CommandError::from_core)?;
        match &answers.join {
            JoinBy::Later => {
                "以后可在“设置”页加入县同步中心，或在“同步”页导入乡镇给的同步文件。".to_owned()
            }
            JoinBy::Hub { url, code } => {
                let scope = HubClient::new(ClientConfig::default())
                    .enrol(&mut store, url, code.trim())
                    .map_err(CommandError::from_core)?;
                format!("已加入县同步中心（范围：{scope}），本村数据正在后台下载。")
            }
            JoinBy::Stick { folder } => {
                let written = write_introduction(&mut store, Path::new(folder.trim()))?;
                format!(
                    "已把本机的介绍文件存到“{}”（只有本机的密钥，不含任何户的资料）。请把 U 盘交给乡镇工作站导入，乡镇再为本机导出同步文件；在本机“同步”页导入那个文件后，本村的户就会出现。",
                    written.display()
                )
            }
        }
    };
    // Opened again the way every start opens it: remembered for the next start, daily backup.
    let choice = DataFileChoice {
        path: path.to_path_buf(),
        seed_demo: false,
        practice: false,
    };
    let (key, code) = match protected {
        Some(protected) => protected,
        None => protect_chosen_file(path, passphrase)?,
    };
    // From here on the file is encrypted under `key`: a failure must still show the code.
    let store =
        open_data_file(&choice, app_data_dir, Some(&key), &mut |_| {}).map_err(
            |e| match &code {
                Some(code) => CommandError {
                    kind: e.kind,
                    message: format!(
                        "{}（数据文件已经加密。恢复码只显示这一次，请抄下：{}）",
                        e.message,
                        code.as_str()
                    ),
                },
                None => e,
            },
        )?;
    Ok((store, Made { key, code, message }))
}

/// Writes this new laptop's introduction (see `export_sealed`: it knows no other device yet)
/// into `folder` as `<本机名称>-介绍-<YYYYMMDD-HHMM>.bfcs`, whole or not at all.
fn write_introduction(store: &mut Store, folder: &Path) -> Result<PathBuf, CommandError> {
    let (bytes, _) = export_sealed(store, None, &SealTo::Known).map_err(CommandError::from_core)?;
    let safe_name: String = store
        .device()
        .name
        .chars()
        .map(|c| if "\\/:*?\"<>|".contains(c) { '-' } else { c })
        .collect();
    let stamp = chrono::DateTime::from_timestamp_millis(store.wall_ms() as i64)
        .map(|d| {
            (d + chrono::Duration::hours(8))
                .format("%Y%m%d-%H%M")
                .to_string()
        })
        .unwrap_or_default();
    let path = folder.join(format!("{safe_name}-介绍-{stamp}.bfcs"));
    bangfu_core::files::write_file(&path, &bytes).map_err(CommandError::from_core)?;
    Ok(path)
}

/// A file the wizard made and could not finish is removed, so the next try starts clean.
fn remove_new_file(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".lock", ".lock.owner"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    let mut backups = path.as_os_str().to_owned();
    backups.push(".backups");
    let _ = std::fs::remove_dir_all(PathBuf::from(backups));
}

/// Opens the practice village (the demo, in its own file in the app-data folder) from the
/// wizard. It is never remembered, never joins a hub (no hub sync runs on it).
#[tauri::command]
pub async fn open_practice(app: AppHandle, state: State<'_, AppState>) -> Result<(), CommandError> {
    if !state.awaiting_setup() {
        return Err(CommandError::from_core(SetupError::AlreadySetUp));
    }
    let app_data_dir = app
        .path()
        .app_data_dir()
        .map_err(|_| CommandError::from_core(SetupError::NoDataFile))?;
    let choice = DataFileChoice::practice(&app_data_dir);
    // Made-up households only: the practice village stays in the clear, without a passphrase.
    let store = tauri::async_runtime::spawn_blocking(move || {
        open_data_file(&choice, &app_data_dir, None, &mut |_| {})
    })
    .await
    .map_err(|error| {
        CommandError::from_core(ShellError::Task {
            what: "打开练习村",
            source: error,
        })
    })??;
    state.opened(store.path().to_path_buf(), store, true, None);
    Ok(())
}

/// 开始正式使用: leaves the practice village for the wizard (the window reloads into it).
#[tauri::command]
pub async fn leave_practice(state: State<'_, AppState>) -> Result<(), CommandError> {
    if !state.practice() {
        return Err(CommandError::from_core(SetupError::AlreadySetUp));
    }
    // No hub sync ever runs on the practice village, so the wizard's file gets the first.
    state.back_to_setup();
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn answers(data_file: &Path, join: JoinBy) -> SetupAnswers {
        SetupAnswers {
            device_name: "新文村-笔记本1".into(),
            township: "勐先乡".into(),
            village: "新文村".into(),
            data_file: data_file.display().to_string(),
            passphrase: "新文村二〇二六年驻村".into(),
            join,
        }
    }

    #[test]
    fn a_new_file_is_encrypted_from_the_start_and_its_recovery_code_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("新文村.sqlite");
        let (store, made) =
            make_or_clean_up(&path, &answers(&path, JoinBy::Later), dir.path()).unwrap();
        drop(store);
        assert_eq!(protect::protection_of(&path), Protection::Encrypted);
        assert!(made.code.is_some(), "the recovery code is shown once");
        assert!(protect::key_file_path(&path).exists());
    }

    #[test]
    fn a_failed_join_leaves_an_earlier_file_in_the_clear_as_it_was_and_no_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("旧文件.sqlite");
        let mut old = Store::open(&path, &OpenOptions::default()).unwrap();
        old.set_home_place("勐先乡", "新文村").unwrap();
        drop(old);
        assert_eq!(protect::protection_of(&path), Protection::Plain);
        // Nothing listens on port 1 of this computer: the enrolment fails, as offline.
        let join = JoinBy::Hub {
            url: "http://127.0.0.1:1".into(),
            code: "ABCD-EFGH-JKLM".into(),
        };
        let refused = make_or_clean_up(&path, &answers(&path, join), dir.path());
        assert!(refused.is_err());
        assert_eq!(
            protect::protection_of(&path),
            Protection::Plain,
            "not encrypted under a key no one was shown"
        );
        assert!(!protect::key_file_path(&path).exists(), "no key file left");
        let again = Store::open(&path, &OpenOptions::default()).unwrap();
        assert!(
            again.home_place().unwrap().is_some(),
            "the file opens as before"
        );
    }
}
