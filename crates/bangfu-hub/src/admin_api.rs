//! The county admin's requests over HTTP(S): issue enrolment codes, list and revoke devices,
//! list held and quarantined ops. Each needs the admin credential made by `bangfu-hub init`,
//! so the admin can act from the county office without a shell on the hub's machine.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::scope::Scope;
use crate::server::{ApiError, AppState, bearer, blocking};
use crate::storage::{AdminCheck, DeviceInfo, HeldInfo, HubStorage, IssuedCode};
use crate::wire::{self, CodeRequest, RevokeRequest, RevokeResponse};

type Shared = std::sync::Arc<dyn HubStorage>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(wire::ADMIN_CODES, post(issue_code))
        .route(wire::ADMIN_DEVICES, get(devices))
        .route(wire::ADMIN_REVOKE, post(revoke))
        .route(wire::ADMIN_HELD, get(held))
}

/// Lets the request through only with the hub's admin credential.
async fn admin(storage: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or(ApiError::AdminUnauthorized)?;
    let storage = storage.clone();
    match blocking(move || storage.check_admin(&token)).await? {
        AdminCheck::Valid => Ok(()),
        AdminCheck::Wrong => Err(ApiError::AdminUnauthorized),
        AdminCheck::NotSet => Err(ApiError::AdminNotSet),
    }
}

async fn issue_code(
    State(storage): State<Shared>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<CodeRequest>,
) -> Result<axum::Json<IssuedCode>, ApiError> {
    admin(&storage, &headers).await?;
    let scope = Scope::parse(&req.scope)
        .ok_or_else(|| ApiError::BadRequest(format!("scope {}", req.scope)))?;
    let days = req.valid_days.unwrap_or(7);
    if !(1..=wire::MAX_CODE_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "valid_days {days}: 1 to {}",
            wire::MAX_CODE_DAYS
        )));
    }
    let valid_for = Duration::from_secs(u64::from(days) * 24 * 3600);
    let issued = blocking(move || storage.issue_code_for(&scope, valid_for)).await?;
    Ok(axum::Json(issued))
}

async fn devices(
    State(storage): State<Shared>,
    headers: HeaderMap,
) -> Result<axum::Json<Vec<DeviceInfo>>, ApiError> {
    admin(&storage, &headers).await?;
    Ok(axum::Json(blocking(move || storage.devices()).await?))
}

async fn revoke(
    State(storage): State<Shared>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<RevokeRequest>,
) -> Result<axum::Json<RevokeResponse>, ApiError> {
    admin(&storage, &headers).await?;
    let revoked = blocking(move || storage.revoke(req.device)).await?;
    Ok(axum::Json(RevokeResponse { revoked }))
}

async fn held(
    State(storage): State<Shared>,
    headers: HeaderMap,
) -> Result<axum::Json<Vec<HeldInfo>>, ApiError> {
    admin(&storage, &headers).await?;
    Ok(axum::Json(blocking(move || storage.held()).await?))
}
