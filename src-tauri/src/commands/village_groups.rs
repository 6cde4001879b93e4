//! The 村民小组 names of the open file, for the list's group filter.

use tauri::State;

use bangfu_core::query::{self, HouseholdQuery};

use crate::error::CommandError;
use crate::state::AppState;

/// The core's longest page; a village files far fewer households than this.
const ALL_HOUSEHOLDS: i64 = 5000;

/// Group names in household order, each once.
// The core has no query for group names yet, so they are read off one full page of the list.
#[tauri::command]
pub async fn village_groups(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    let all = HouseholdQuery {
        limit: ALL_HOUSEHOLDS,
        ..HouseholdQuery::default()
    };
    let page = state
        .with_store(|store| query::households(store, &all).map_err(CommandError::from_core))?;
    // Household code order keeps 一组, 二组, … in the order the village numbers them.
    let mut groups: Vec<String> = Vec::new();
    for row in page.rows {
        if !groups.contains(&row.group_name) {
            groups.push(row.group_name);
        }
    }
    Ok(groups)
}
