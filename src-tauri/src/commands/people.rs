//! 设置 → 人员 and the sign-in screen: the people of this laptop, who is signed in, signing in
//! and out. Permissions themselves are checked in the core; refusals reach the window as the
//! command's `{kind, message}`.

use serde::Serialize;
use tauri::State;
use zeroize::Zeroizing;

use crate::error::CommandError;
use crate::state::AppState;
use bangfu_core::access::{Actor, Role};
use bangfu_core::store::{AuditEntry, Person, Refusal};

/// Who is signed in, and whether the window must ask someone to.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct SignedIn {
    /// This file has people: permissions are checked and someone signs in.
    pub people_defined: bool,
    pub actor: Option<Actor>,
    /// The name of every enabled person, for the sign-in screen's list.
    pub names: Vec<String>,
    /// What the person signed in may not do, each with the core's refusal: the window disables
    /// those buttons and says why (empty on a file without people).
    pub refusals: Vec<Refusal>,
}

#[tauri::command]
pub async fn signed_in(state: State<'_, AppState>) -> Result<SignedIn, CommandError> {
    state.with_store(|store| {
        let people = store.people().map_err(CommandError::from_core)?;
        let refusals = if store.actor().is_some() {
            store.refusals().map_err(CommandError::from_core)?
        } else {
            Vec::new()
        };
        Ok(SignedIn {
            refusals,
            people_defined: !people.is_empty(),
            actor: store.actor().cloned(),
            names: people
                .into_iter()
                .filter(|p| !p.disabled)
                .map(|p| p.name)
                .collect(),
        })
    })
}

/// Argon2 takes a moment on purpose: PIN work runs off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|error| {
            eprintln!("bangfu-desktop: PIN task failed: {error}");
            CommandError {
                kind: "task_failed",
                message: "处理 PIN 码时意外中断，请重试。".into(),
            }
        })?
}

#[tauri::command]
pub async fn sign_in(
    app: tauri::AppHandle,
    name: String,
    pin: String,
) -> Result<Actor, CommandError> {
    let pin = Zeroizing::new(pin);
    blocking(move || {
        use tauri::Manager;
        app.state::<AppState>().sign_in(&name, &pin)
    })
    .await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.sign_out();
    Ok(())
}

#[tauri::command]
pub async fn people_list(state: State<'_, AppState>) -> Result<Vec<Person>, CommandError> {
    state.with_store(|store| store.people().map_err(CommandError::from_core))
}

#[tauri::command]
pub async fn person_add(
    app: tauri::AppHandle,
    name: String,
    role: Role,
    pin: String,
) -> Result<Person, CommandError> {
    let pin = Zeroizing::new(pin);
    blocking(move || {
        use tauri::Manager;
        app.state::<AppState>().with_store(|store| {
            store
                .add_person(&name, role, &pin)
                .map_err(CommandError::from_core)
        })
    })
    .await
}

#[tauri::command]
pub async fn person_disable(state: State<'_, AppState>, id: i64) -> Result<(), CommandError> {
    state.with_store(|store| store.disable_person(id).map_err(CommandError::from_core))?;
    state.actor_changed();
    Ok(())
}

/// 重设 PIN: a new PIN for a person who forgot theirs (by one who manages people).
#[tauri::command]
pub async fn person_reset_pin(
    app: tauri::AppHandle,
    id: i64,
    pin: String,
) -> Result<(), CommandError> {
    let pin = Zeroizing::new(pin);
    blocking(move || {
        use tauri::Manager;
        app.state::<AppState>()
            .with_store(|store| store.reset_pin(id, &pin).map_err(CommandError::from_core))
    })
    .await
}

#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>) -> Result<Vec<AuditEntry>, CommandError> {
    state.with_store(|store| {
        store
            .require(bangfu_core::access::Permission::ManagePeople)
            .and_then(|()| store.audit_log())
            .map_err(CommandError::from_core)
    })
}
