//! Commands of 帮扶联系卡 and 走访记录 printing: the card preview, the printers, and cards or a
//! visit sheet written as PDF and handed to a file or the print system, with progress events
//! and cancellation for batches.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_opener::OpenerExt;

use super::household_page::parse_id;
use crate::error::{CommandError, ShellError};
use crate::state::AppState;
use bangfu_core::cards::visits_sheet_pdf;
use bangfu_core::cards::{CardConfig, CardRequest, HelpCard, help_cards, help_cards_pdf};
use bangfu_core::print::{Delivery, Printers, print_pdf, save_pdf, spool_name};
use bangfu_core::query::{HouseholdQuery, household_ids};

/// The event a batch reports its progress on.
const PROGRESS_EVENT: &str = "cards-progress";

/// Batches asked to stop, by the job id the UI gave them.
#[derive(Debug, Default)]
pub struct CancelledJobs(Mutex<HashSet<String>>);

impl CancelledJobs {
    fn take(&self, job: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(job)
    }
}

/// Where a PDF should go.
#[derive(ts_rs::TS, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    File { path: String },
    Printer { printer: Option<String> },
}

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct Delivered {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// What to tell the user, in Chinese.
    pub message: String,
    /// Cards in the PDF (0 for a visit sheet).
    pub cards: usize,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "CardsProgress")]
pub(crate) struct Progress<'a> {
    job: &'a str,
    done: usize,
    total: usize,
}

/// The card of one household as it would print, for the preview.
#[tauri::command]
pub async fn card_preview(
    state: State<'_, AppState>,
    id: String,
    config: CardConfig,
) -> Result<HelpCard, CommandError> {
    let request = CardRequest {
        household_ids: vec![parse_id(&id)?],
        config,
        ..CardRequest::default()
    };
    let cards =
        state.with_store(|store| help_cards(store, &request).map_err(CommandError::from_core))?;
    cards.into_iter().next().ok_or_else(|| CommandError {
        kind: "nothing_to_print",
        message: "没有可打印的户。".into(),
    })
}

/// The printers of the system's print queue.
#[tauri::command]
pub async fn printers() -> Printers {
    bangfu_core::print::printers()
}

/// Every household the list's search and filters match, for "all of these".
#[tauri::command]
pub async fn matching_households(
    state: State<'_, AppState>,
    query: HouseholdQuery,
) -> Result<Vec<String>, CommandError> {
    let ids =
        state.with_store(|store| household_ids(store, &query).map_err(CommandError::from_core))?;
    Ok(ids.iter().map(ToString::to_string).collect())
}

/// Lays out the cards of `request` as one PDF and delivers it. Emits `cards-progress` after
/// each page; `cancel_cards(job)` stops the batch and nothing is written.
#[tauri::command]
pub async fn cards_pdf(
    app: AppHandle,
    job: String,
    request: CardRequest,
    destination: Destination,
) -> Result<Delivered, CommandError> {
    // A village takes seconds: off the async workers, so progress and cancel keep flowing.
    let task = tauri::async_runtime::spawn_blocking(move || {
        let mut count = 0;
        let bytes = app.state::<AppState>().with_reader(|store| {
            help_cards_pdf(store, &request, &mut |done, total| {
                count = total;
                // A lost progress event only leaves the bar behind; the batch still completes.
                let _ = app.emit(
                    PROGRESS_EVENT,
                    Progress {
                        job: &job,
                        done,
                        total,
                    },
                );
                if app.state::<CancelledJobs>().take(&job) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .map_err(CommandError::from_core)
        })?;
        deliver(&app, &bytes, destination, "帮扶联系卡", count)
    });
    task.await.map_err(|source| {
        CommandError::from_core(ShellError::Task {
            what: "打印",
            source,
        })
    })?
}

/// Asks the batch `job` to stop after its current page.
#[tauri::command]
pub async fn cancel_cards(jobs: State<'_, CancelledJobs>, job: String) -> Result<(), CommandError> {
    jobs.0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(job);
    Ok(())
}

/// The 走访记录 sheet of the household with this code, delivered like the cards.
#[tauri::command]
pub async fn visits_sheet(
    app: AppHandle,
    state: State<'_, AppState>,
    household: String,
    destination: Destination,
) -> Result<Delivered, CommandError> {
    let bytes = state
        .with_store(|store| visits_sheet_pdf(store, &household).map_err(CommandError::from_core))?;
    deliver(&app, &bytes, destination, "走访记录", 0)
}

/// Writes the PDF where it should go; without a print system it opens in the PDF viewer.
pub(crate) fn deliver(
    app: &AppHandle,
    bytes: &[u8],
    destination: Destination,
    what: &str,
    cards: usize,
) -> Result<Delivered, CommandError> {
    let delivery = match destination {
        Destination::File { path } => save_pdf(bytes, &PathBuf::from(path)),
        Destination::Printer { printer } => print_pdf(
            bytes,
            &std::env::temp_dir().join("bangfu-print"),
            &spool_name(what),
            what,
            printer.as_deref(),
        ),
    }
    .map_err(CommandError::from_core)?;
    let mut message = delivery.message_zh(what);
    if let Delivery::NoPrintSystem { path, reason } = &delivery
        && let Err(e) = app
            .opener()
            .open_path(path.display().to_string(), None::<&str>)
    {
        eprintln!("bangfu-desktop: opening {}: {e}", path.display());
        message = format!(
            "{reason}也没能打开 PDF 阅读器。{what}已存为 {}，请用能打印的电脑打开后打印。",
            path.display()
        );
    }
    Ok(Delivered {
        delivery,
        message,
        cards,
    })
}
