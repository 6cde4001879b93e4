//! Commands of the household page: load, live review, save, and the lists its selects offer.

use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::filing::{FilingOutcome, HouseholdFile};
use bangfu_core::household_page::{PageReview, review_household_page};
use bangfu_core::model::Table;
use bangfu_core::model::{Helper, Village};
use bangfu_core::page_base::{LoadedPage, PageBase};
use bangfu_core::store::{FieldChange, Filter};

pub(crate) fn parse_id(id: &str) -> Result<Uuid, CommandError> {
    Uuid::parse_str(id).map_err(|_| CommandError {
        kind: "bad_id",
        message: "这户的编号无法识别，请回到名册重新打开。".into(),
    })
}

/// A household with its members, incomes, pairings, measures and visits.
#[tauri::command]
pub async fn household_file(
    state: State<'_, AppState>,
    id: String,
) -> Result<HouseholdFile, CommandError> {
    let id = parse_id(&id)?;
    state.with_store(|store| {
        store
            .load_household_file_shown(id)
            .map_err(CommandError::from_core)
    })
}

/// The household page with the base it was loaded from (the heads of every field of every row),
/// so a save writes only what the person changed and a stale page reverts nothing.
#[tauri::command]
pub async fn household_page(
    state: State<'_, AppState>,
    id: String,
) -> Result<LoadedPage, CommandError> {
    let id = parse_id(&id)?;
    state.with_store(|store| {
        store
            .load_household_page(id)
            .map_err(CommandError::from_core)
    })
}

/// Every value one field of one row has had on this copy, with who wrote it, where and when
/// (the page's 修改记录 of a field).
#[tauri::command]
pub async fn field_history(
    state: State<'_, AppState>,
    table: String,
    id: String,
    field: String,
) -> Result<Vec<FieldChange>, CommandError> {
    let id = parse_id(&id)?;
    let table = Table::from_sql_name(&table)
        .filter(|t| t.field(&field).is_some())
        .ok_or_else(|| CommandError {
            kind: "bad_field",
            message: "这一项没有修改记录可查。".into(),
        })?;
    state.with_store(|store| {
        store
            .field_history(table, id, &field)
            .map_err(CommandError::from_core)
    })
}

/// Whether data arrived under an open page since its base was loaded (a hub pull, an import).
#[tauri::command]
pub async fn household_changed_since(
    state: State<'_, AppState>,
    base: PageBase,
) -> Result<bool, CommandError> {
    state.with_store(|store| {
        store
            .household_changed_since(&base)
            .map_err(CommandError::from_core)
    })
}

/// Findings, ID facts, income lines and the exit evaluation of the page as typed; writes nothing.
#[tauri::command]
pub async fn review_household(
    state: State<'_, AppState>,
    file: HouseholdFile,
    year: i32,
) -> Result<PageReview, CommandError> {
    state.with_store(|store| {
        review_household_page(store, &file, year).map_err(CommandError::from_core)
    })
}

/// Saves the page against the base it was loaded from (none: a new household); a page with
/// errors is refused whole, warnings come back.
#[tauri::command]
pub async fn file_household(
    state: State<'_, AppState>,
    file: HouseholdFile,
    base: Option<PageBase>,
) -> Result<FilingOutcome, CommandError> {
    state.with_store(|store| {
        store
            .file_household_page(&file, base.as_ref())
            .map_err(CommandError::from_core)
    })
}

/// The villages of the data file, for a new household's 所属村.
#[tauri::command]
pub async fn villages(state: State<'_, AppState>) -> Result<Vec<Village>, CommandError> {
    state.with_store(|store| {
        store
            .read::<Village>(Filter::All)
            .map_err(CommandError::from_core)
    })
}

/// The 帮扶责任人 of the data file, for pairings and visits.
#[tauri::command]
pub async fn helpers(state: State<'_, AppState>) -> Result<Vec<Helper>, CommandError> {
    state.with_store(|store| {
        store
            .read::<Helper>(Filter::All)
            .map_err(CommandError::from_core)
    })
}
