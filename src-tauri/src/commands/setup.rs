//! The first-run wizard (首次使用设置): what it proposes, the data file it makes (本机名称,
//! 所属乡镇/村, where the file lives, then joining: a county enrolment code when online, or a
//! setup file from the township on a U 盘), and the practice village (练习用), the demo in a
//! file of its own that never joins a hub and is never remembered as the file to open.
//!
//! The wizard is a list of steps in the UI (`ui/src/setup/steps.ts`); this side only takes
//! the finished answers, so a step added there (a passphrase) needs no new command here
//! beyond what it sets itself.

use std::path::{Path, PathBuf};

use bangfu_core::UserFacing;
use bangfu_core::store::{OpenOptions, Store};
use bangfu_core::sync::exchange::import_changeset;
use bangfu_hub::client::{ClientConfig, HubClient};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};

use crate::error::{CommandError, ShellError};
use crate::hub_sync::{self, HubSync};
use crate::launch::{DataFileChoice, open_data_file};
use crate::state::AppState;

/// Why the wizard cannot go on; every message says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("setup asked for, but a data file is open already")]
    AlreadySetUp,
    #[error("no data file path given")]
    NoDataFile,
    #[error("{0} is a folder")]
    IsFolder(PathBuf),
    #[error("no setup file chosen")]
    NoSetupFile,
    #[error("the practice village cannot join a hub")]
    PracticeCannotJoin,
    #[error("the practice village was opened with --demo")]
    PracticeFromCommandLine,
}

impl UserFacing for SetupError {
    fn kind(&self) -> &'static str {
        match self {
            SetupError::AlreadySetUp => "already_set_up",
            SetupError::NoDataFile => "no_data_file",
            SetupError::IsFolder(_) => "data_file_is_folder",
            SetupError::NoSetupFile => "no_setup_file",
            SetupError::PracticeCannotJoin => "practice_cannot_join",
            SetupError::PracticeFromCommandLine => "practice_from_command_line",
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
            SetupError::NoSetupFile => {
                "请选择乡镇给的设置文件（U 盘上的 .bfcs 文件），或改选“以后再加入”。".into()
            }
            SetupError::PracticeCannotJoin => {
                "练习村是虚构的演示数据，不能加入县同步中心。请先点“开始正式使用”建立正式数据文件。"
                    .into()
            }
            SetupError::PracticeFromCommandLine => {
                "练习村是用 --demo 参数打开的：请关闭程序，从开始菜单的“帮扶台账”重新打开，即可开始正式使用。"
                    .into()
            }
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
    /// 乡镇设置文件: a changeset file the township put on a U 盘.
    SetupFile { path: String },
}

/// The wizard's answers.
#[derive(ts_rs::TS, Debug, Clone, Deserialize)]
pub struct SetupAnswers {
    pub device_name: String,
    pub township: String,
    pub village: String,
    pub data_file: String,
    pub join: JoinBy,
}

/// What the last screen says.
#[derive(ts_rs::TS, Debug, Serialize)]
pub struct SetupDone {
    pub data_file: String,
    /// How joining went, in Chinese.
    pub message: String,
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
    let path = PathBuf::from(answers.data_file.trim());
    if path.as_os_str().is_empty() {
        return Err(CommandError::from_core(SetupError::NoDataFile));
    }
    if path.is_dir() {
        return Err(CommandError::from_core(SetupError::IsFolder(path)));
    }
    if let JoinBy::SetupFile { path } = &answers.join
        && path.trim().is_empty()
    {
        return Err(CommandError::from_core(SetupError::NoSetupFile));
    }
    let app_data_dir = app
        .path()
        .app_data_dir()
        .map_err(|_| CommandError::from_core(SetupError::NoDataFile))?;
    let made = path.clone();
    let (store, message) = tauri::async_runtime::spawn_blocking(move || {
        let existed = made.exists();
        let result = make_data_file(&made, &answers, &app_data_dir);
        if result.is_err() && !existed {
            remove_new_file(&made);
        }
        result
    })
    .await
    .map_err(|error| {
        CommandError::from_core(ShellError::Task {
            what: "建立数据文件",
            source: error,
        })
    })??;
    let data_file = store.path().to_path_buf();
    state.opened(data_file.clone(), store, false);
    if app.try_state::<HubSync>().is_none() {
        app.manage(hub_sync::start_for_app(&app, Some(data_file.clone())));
    }
    Ok(SetupDone {
        data_file: data_file.display().to_string(),
        message,
    })
}

fn make_data_file(
    path: &Path,
    answers: &SetupAnswers,
    app_data_dir: &Path,
) -> Result<(Store, String), CommandError> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|source| {
            CommandError::from_core(ShellError::File {
                action: "建立",
                path: folder.to_path_buf(),
                source,
            })
        })?;
    }
    let message = {
        let mut store =
            Store::open(path, &OpenOptions::default()).map_err(CommandError::from_core)?;
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
            JoinBy::SetupFile { path } => {
                let file = PathBuf::from(path.trim());
                let bytes = std::fs::read(&file).map_err(|source| {
                    CommandError::from_core(ShellError::File {
                        action: "读取",
                        path: file.clone(),
                        source,
                    })
                })?;
                import_changeset(&mut store, &bytes)
                    .map_err(CommandError::from_core)?
                    .message_zh()
            }
        }
    };
    // Opened again the way every start opens it: remembered for the next start, daily backup.
    let choice = DataFileChoice {
        path: path.to_path_buf(),
        seed_demo: false,
        practice: false,
    };
    let store = open_data_file(&choice, app_data_dir, &mut |_| {})?;
    Ok((store, message))
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
    let store = tauri::async_runtime::spawn_blocking(move || {
        open_data_file(&choice, &app_data_dir, &mut |_| {})
    })
    .await
    .map_err(|error| {
        CommandError::from_core(ShellError::Task {
            what: "打开练习村",
            source: error,
        })
    })??;
    state.opened(store.path().to_path_buf(), store, true);
    Ok(())
}

/// 开始正式使用: leaves the practice village for the wizard (the window reloads into it).
#[tauri::command]
pub async fn leave_practice(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<(), CommandError> {
    if !state.practice() {
        return Err(CommandError::from_core(SetupError::AlreadySetUp));
    }
    // Opened by `--demo`, the hub sync is already bound to the practice file: a fresh start
    // from the menu entry is the clean way to the wizard.
    if app.try_state::<HubSync>().is_some() {
        return Err(CommandError::from_core(SetupError::PracticeFromCommandLine));
    }
    state.back_to_setup();
    Ok(())
}
