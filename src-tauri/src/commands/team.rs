//! Commands of the 驻村工作队 page: a village's team, adding a member, recording a 离村日期,
//! loading a member for the 修改 dialog and saving it over what was loaded.

use chrono::NaiveDate;
use tauri::State;

use super::household_page::parse_id;
use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::team::{self, NewTeamMember, TeamEntry, TeamMemberEdit, TeamMemberSheet};

/// The village's whole team (serving members first), as of today.
#[tauri::command]
pub async fn team_list(
    state: State<'_, AppState>,
    village_id: String,
) -> Result<Vec<TeamEntry>, CommandError> {
    let id = parse_id(&village_id)?;
    state.with_store(|store| {
        team::village_team(store, id, store.today()).map_err(CommandError::from_core)
    })
}

/// Adds a member to a village's team; returns the new member's id.
#[tauri::command]
pub async fn team_add(
    state: State<'_, AppState>,
    member: NewTeamMember,
) -> Result<String, CommandError> {
    state.with_store(|store| {
        team::add_team_member(store, &member)
            .map(|id| id.to_string())
            .map_err(CommandError::from_core)
    })
}

/// Records the day a member left the village (the row stays).
#[tauri::command]
pub async fn team_end(
    state: State<'_, AppState>,
    member_id: String,
    end_date: String,
) -> Result<(), CommandError> {
    let id = parse_id(&member_id)?;
    let end: NaiveDate = end_date.trim().parse().map_err(|_| CommandError {
        kind: "bad_date",
        message: format!("离村日期“{end_date}”不是日期，请写成 2025-03-01 的样子。"),
    })?;
    state.with_store(|store| team::end_team_member(store, id, end).map_err(CommandError::from_core))
}

/// A member with the heads of its fields, for the 修改 dialog.
#[tauri::command]
pub async fn team_member_sheet(
    state: State<'_, AppState>,
    member_id: String,
) -> Result<TeamMemberSheet, CommandError> {
    let id = parse_id(&member_id)?;
    state.with_store(|store| team::team_member_sheet(store, id).map_err(CommandError::from_core))
}

/// Saves the 修改 dialog: the fields changed, over the heads loaded.
#[tauri::command]
pub async fn team_set(
    state: State<'_, AppState>,
    edit: TeamMemberEdit,
) -> Result<(), CommandError> {
    state.with_store(|store| team::set_team_member(store, &edit).map_err(CommandError::from_core))
}
