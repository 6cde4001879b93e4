//! Commands of the household page's 退出 tab and the 退出进度 page: the evaluation, the
//! procedure and its trail, the village's progress, and the printed forms (saved or printed).

use std::path::Path;
use std::process::Command;

use tauri::State;

use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::exit::procedure::ProcedureState;
use bangfu_core::exit::{
    ExitAction, ExitDocument, HouseholdEvaluation, ProcedureTrail, VillageProgress, act,
    evaluate_household, procedure_trail, village_progress,
};

/// Each check of 一超 两不愁 三保障 for the household's saved data in `year`.
#[tauri::command]
pub async fn exit_evaluation(
    state: State<'_, AppState>,
    household_id: String,
    year: i32,
) -> Result<HouseholdEvaluation, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| evaluate_household(store, id, year).map_err(CommandError::from_core))
}

/// Where the household's procedure stands, what may be done next, and its whole trail.
#[tauri::command]
pub async fn exit_trail(
    state: State<'_, AppState>,
    household_id: String,
) -> Result<ProcedureTrail, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| procedure_trail(store, id).map_err(CommandError::from_core))
}

/// Records the next step, sends a step back, or records 返贫; the core refuses what the
/// procedure does not allow.
#[tauri::command]
pub async fn exit_act(
    state: State<'_, AppState>,
    household_id: String,
    action: ExitAction,
) -> Result<ProcedureState, CommandError> {
    let id = parse_id(&household_id)?;
    state.with_store(|store| act(store, id, &action).map_err(CommandError::from_core))
}

/// The 退出进度 of a village (all households when `village_id` is null) for `year` (the latest
/// income year when null).
#[tauri::command]
pub async fn exit_progress(
    state: State<'_, AppState>,
    village_id: Option<String>,
    year: Option<i32>,
) -> Result<VillageProgress, CommandError> {
    let village = village_id.as_deref().map(parse_id).transpose()?;
    state
        .with_store(|store| village_progress(store, village, year).map_err(CommandError::from_core))
}

/// Where a form is offered to be saved: beside the data file, named after what it is.
#[tauri::command]
pub async fn exit_document_path(
    state: State<'_, AppState>,
    document: ExitDocument,
) -> Result<String, CommandError> {
    state.with_store(|store| {
        document
            .suggested_path(store)
            .map(|p| p.display().to_string())
            .map_err(CommandError::from_core)
    })
}

/// Saves a form as a PDF at the typed path; returns where it went.
#[tauri::command]
pub async fn exit_save_pdf(
    state: State<'_, AppState>,
    document: ExitDocument,
    path: String,
) -> Result<String, CommandError> {
    if path.trim().is_empty() {
        return Err(CommandError {
            kind: "missing_path",
            message: "请填写保存的位置（文件路径）。".into(),
        });
    }
    state.with_store(|store| {
        document
            .save(store, Path::new(path.trim()))
            .map(|p| p.display().to_string())
            .map_err(CommandError::from_core)
    })
}

/// Prints a form: the PDF goes to the default printer through `lp` on Linux; elsewhere it
/// opens in the system's PDF viewer, whose print button the person uses. Returns what happened.
#[tauri::command]
pub async fn exit_print(
    state: State<'_, AppState>,
    document: ExitDocument,
) -> Result<String, CommandError> {
    let saved = state.with_store(|store| {
        let name = document.file_name(store).map_err(CommandError::from_core)?;
        document
            .save(store, &std::env::temp_dir().join(name))
            .map_err(CommandError::from_core)
    })?;
    hand_to_system(&saved)
}

fn print_error(message: String) -> CommandError {
    eprintln!("bangfu-desktop: print: {message}");
    CommandError {
        kind: "print_failed",
        message,
    }
}

#[cfg(target_os = "linux")]
fn hand_to_system(pdf: &Path) -> Result<String, CommandError> {
    let output = Command::new("lp").arg(pdf).output().map_err(|_| {
        print_error(format!(
            "没有找到打印命令 lp（请安装 CUPS 打印服务并设置默认打印机）。PDF 已生成在 {}，可另存后打印。",
            pdf.display()
        ))
    })?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(print_error(format!(
            "打印没有成功：{said}。请检查打印机是否已连接并设为默认打印机。"
        )));
    }
    Ok("已送往默认打印机。".into())
}

#[cfg(not(target_os = "linux"))]
fn hand_to_system(pdf: &Path) -> Result<String, CommandError> {
    let mut command = if cfg!(target_os = "windows") {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]).arg(pdf);
        c
    } else {
        let mut c = Command::new("open");
        c.arg(pdf);
        c
    };
    command.spawn().map_err(|_| {
        print_error(format!(
            "无法打开 PDF 阅读器。PDF 已生成在 {}，请用其他方式打开后打印。",
            pdf.display()
        ))
    })?;
    Ok("已在系统的 PDF 阅读器中打开，请在其中打印。".into())
}
