//! Commands of the household page's 退出 tab and the 退出进度 page: the evaluation, the
//! procedure and its trail, the village's progress, and the printed forms (saved or printed).

use std::path::Path;

use tauri::{AppHandle, State};

use super::cards::{Destination, deliver};
use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::exit::procedure::ProcedureState;
use bangfu_core::exit::{
    BatchOutcome, BatchStep, ExitAction, ExitDocument, HouseholdEvaluation, ProcedureTrail,
    VillageProgress, act, evaluate_household, procedure_trail, record_step_for_households,
    village_progress,
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

/// Records one step for a list of households in one transaction: all or nothing unless
/// `skip_failing`; the refusal names every household that failed and why.
#[tauri::command]
pub async fn exit_act_batch(
    state: State<'_, AppState>,
    batch: BatchStep,
) -> Result<BatchOutcome, CommandError> {
    state.with_store(|store| {
        record_step_for_households(store, &batch).map_err(CommandError::from_core)
    })
}

/// The 退出进度 of a village (all households when `village_id` is null) for `year` (the file's
/// default work year when null).
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

/// Prints a form through the same path as the cards (`lp`, or the system's PDF viewer where
/// there is no print system); returns what to tell the user.
#[tauri::command]
pub async fn exit_print(
    app: AppHandle,
    state: State<'_, AppState>,
    document: ExitDocument,
) -> Result<String, CommandError> {
    let (bytes, name) = state.with_store(|store| {
        let bytes = document.pdf(store).map_err(CommandError::from_core)?;
        let name = document.file_name(store).map_err(CommandError::from_core)?;
        Ok((bytes, name))
    })?;
    let what = name.trim_end_matches(".pdf");
    let printer = Destination::Printer { printer: None };
    Ok(deliver(&app, &bytes, printer, what, 0)?.message)
}
