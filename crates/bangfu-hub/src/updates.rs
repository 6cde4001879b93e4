//! The hub's packages folder (`bangfu-hub --packages DIR`): it offers the release a county put
//! there, `bangfu-update.json` and the package it names, to any laptop that asks, as they are
//! (the laptop checks the signature; the hub never vouches for a package). No storage: the
//! folder is read at each request, so a new release is offered once its two files are copied in.

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bangfu_core::update::MANIFEST_FILE;

use crate::wire;

/// The routes of the packages folder: the release's description and its package.
pub fn routes(packages: PathBuf) -> Router {
    Router::new()
        .route(wire::UPDATE_MANIFEST, get(manifest))
        .route(wire::UPDATE_PACKAGE, get(package))
        .with_state(packages)
}

async fn manifest(State(dir): State<PathBuf>) -> Response {
    file(dir.join(MANIFEST_FILE), "application/json").await
}

async fn package(State(dir): State<PathBuf>, Path(name): Path<String>) -> Response {
    // Only a plain file name of the folder, never a path out of it.
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return (StatusCode::BAD_REQUEST, "bad package name").into_response();
    }
    file(dir.join(name), "application/octet-stream").await
}

async fn file(path: PathBuf, content_type: &'static str) -> Response {
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "no release offered").into_response()
        }
        Err(error) => {
            eprintln!("bangfu-hub: reading {}: {error}", path.display());
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the packages folder",
            )
                .into_response()
        }
    }
}
