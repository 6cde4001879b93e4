//! The hub's HTTP service (axum): enrolment, push with a resumable cursor, pull by hub log
//! position, all behind a Bearer token, with plain HTTP or rustls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bangfu_core::sync::changeset;

use crate::metrics::{self, Metrics};
use crate::storage::{DeviceAuth, HubStorage, StorageError};
use crate::wire::{
    self, EnrolRequest, EnrolResponse, ErrorBody, OriginQuery, PullQuery, PushCursor, PushOutcome,
};

type Shared = Arc<dyn HubStorage>;

/// The router's state: the storage, and this process's counters.
#[derive(Clone)]
struct AppState {
    storage: Shared,
    metrics: Arc<Metrics>,
}

impl axum::extract::FromRef<AppState> for Shared {
    fn from_ref(state: &AppState) -> Shared {
        state.storage.clone()
    }
}

impl axum::extract::FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Arc<Metrics> {
        state.metrics.clone()
    }
}

/// A refused or failed request: the HTTP status and a body that says why.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing, wrong or revoked token")]
    Unauthorized,
    #[error("wrong or already used enrolment code")]
    BadCode,
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("push inflates past its declared op count: {0}")]
    InflatesPastDeclared(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, stored_seq) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            ApiError::BadCode => (StatusCode::UNAUTHORIZED, "bad_code", None),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", None),
            ApiError::InflatesPastDeclared(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "inflates_past_declared",
                None,
            ),
            ApiError::Storage(StorageError::OriginTaken(_)) => {
                (StatusCode::FORBIDDEN, "origin_taken", None)
            }
            ApiError::Storage(StorageError::ForeignOrigin { .. }) => {
                (StatusCode::BAD_REQUEST, "foreign_origin", None)
            }
            ApiError::Storage(StorageError::Gap { stored }) => {
                (StatusCode::CONFLICT, "gap", Some(*stored))
            }
            ApiError::Storage(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", None)
            }
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            metrics::log("error", &[("detail", self.to_string().into())]);
        }
        let body = ErrorBody {
            kind: kind.to_owned(),
            detail: self.to_string(),
            stored_seq,
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Runs a storage call off the async threads: SQLite blocks.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

async fn authenticate(storage: &Shared, headers: &HeaderMap) -> Result<DeviceAuth, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?
        .to_owned();
    let storage = storage.clone();
    blocking(move || storage.authenticate(&token))
        .await?
        .ok_or(ApiError::Unauthorized)
}

async fn enrol(
    State(storage): State<Shared>,
    axum::Json(req): axum::Json<EnrolRequest>,
) -> Result<axum::Json<EnrolResponse>, ApiError> {
    let enrolment =
        blocking(move || storage.enrol(&req.code, &req.device_name, &req.previous_tokens))
            .await?
            .ok_or(ApiError::BadCode)?;
    Ok(axum::Json(EnrolResponse {
        token: enrolment.token,
        scope: enrolment.scope.to_string(),
    }))
}

async fn push_cursor(
    State(storage): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<OriginQuery>,
) -> Result<axum::Json<PushCursor>, ApiError> {
    let device = authenticate(&storage, &headers).await?;
    let stored_seq = blocking(move || storage.push_cursor(&device, q.origin)).await?;
    Ok(axum::Json(PushCursor { stored_seq }))
}

async fn push(
    State(storage): State<Shared>,
    State(counters): State<Arc<Metrics>>,
    headers: HeaderMap,
    Query(q): Query<OriginQuery>,
    body: Bytes,
) -> Result<axum::Json<PushOutcome>, ApiError> {
    let started = Instant::now();
    let device = authenticate(&storage, &headers).await?;
    let device_id = device.id;
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent_in = sent.clone();
    let result = blocking(move || {
        // Inflated only as far as the declared op count could need: a small body must not
        // become gigabytes before the hub can tell it lies.
        let ops = match changeset::decode_within(&body, wire::PUSH_BOUND) {
            Ok((_, ops)) => ops,
            Err(e @ changeset::ChangesetError::InflatesPastDeclared { .. }) => {
                return Ok(Err(ApiError::InflatesPastDeclared(e.to_string())));
            }
            // A cut or altered body stores nothing; the client sends it again.
            Err(_) => {
                return Ok(Err(ApiError::BadRequest(
                    "push body is not a whole changeset".into(),
                )));
            }
        };
        sent_in.store(ops.len(), std::sync::atomic::Ordering::Relaxed);
        storage.push(&device, q.origin, &ops).map(Ok)
    })
    .await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            if matches!(e, ApiError::Storage(_) | ApiError::Internal(_)) {
                counters.failed();
            }
            return Err(e);
        }
    }?;
    // Counted and logged only once committed: the answer below is the acknowledgement.
    let ops = sent.load(std::sync::atomic::Ordering::Relaxed);
    counters.pushed(ops, outcome.held.len(), started.elapsed());
    metrics::log(
        "push",
        &[
            ("device", device_id.into()),
            ("origin", q.origin.to_string().into()),
            ("ops", ops.into()),
            ("held", outcome.held.len().into()),
            ("stored_seq", outcome.stored_seq.into()),
            ("ms", (started.elapsed().as_millis() as u64).into()),
        ],
    );
    Ok(axum::Json(outcome))
}

async fn pull(
    State(storage): State<Shared>,
    State(counters): State<Arc<Metrics>>,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let device = authenticate(&storage, &headers).await?;
    let epoch =
        HeaderValue::from_str(storage.epoch()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let at = q.at.clone();
    let page = blocking(move || {
        let limit = q.limit.min(wire::MAX_PAGE);
        if q.snapshot == 1 {
            storage.pull_snapshot(&device.scope, q.after, limit)
        } else {
            storage.pull(&device.scope, q.after, limit)
        }
    })
    .await
    .inspect_err(|_| counters.failed())?;
    // The device saw another op at its position (or the log ends before it): this hub lost
    // what the device pulled, and the device starts over.
    let lost = at.is_some_and(|at| page.op_at_after.as_ref().map(wire::op_at_text) != Some(at));
    let body = wire::encode_ops(uuid::Uuid::nil(), "县同步中心", &page.ops);
    counters.pulled(page.ops.len(), started.elapsed());
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(wire::NEXT_HEADER, HeaderValue::from(page.next));
    h.insert(wire::MORE_HEADER, HeaderValue::from(u32::from(page.more)));
    h.insert(wire::HEAD_HEADER, HeaderValue::from(page.head));
    h.insert(wire::EPOCH_HEADER, epoch);
    h.insert(wire::LOST_HEADER, HeaderValue::from(u32::from(lost)));
    if let Some(op) = &page.next_op
        && let Ok(value) = HeaderValue::from_str(&wire::op_at_text(op))
    {
        h.insert(wire::NEXT_OP_HEADER, value);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// `/health`: 200 "ok" when the database answers, 503 otherwise (for the load balancer).
async fn health(State(storage): State<Shared>) -> Response {
    match blocking(move || storage.counts().map(|_| ())).await {
        Ok(()) => "ok".into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")).into_response(),
    }
}

/// `/metrics`: Prometheus text.
async fn metrics_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = blocking(move || {
        Ok(state
            .metrics
            .render(&*state.storage, crate::storage::now_ms()))
    })
    .await?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(response)
}

/// The hub's routes over a storage.
pub fn router(storage: Shared) -> Router {
    let state = AppState {
        storage,
        metrics: Arc::new(Metrics::default()),
    };
    Router::new()
        .route(wire::HEALTH, get(health))
        .route("/health", get(health))
        .route("/metrics", get(metrics_page))
        .route(wire::ENROL, post(enrol))
        .route(wire::PUSH_CURSOR, get(push_cursor))
        .route(wire::PUSH, post(push))
        .route(wire::PULL, get(pull))
        .layer(DefaultBodyLimit::max(64 << 20))
        .with_state(state)
}

/// Certificate and key (PEM) to serve HTTPS with.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS certificate or key: {0}")]
    Tls(std::io::Error),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until the process ends. With `tls`, HTTPS through rustls.
pub async fn serve(
    listener: std::net::TcpListener,
    storage: Shared,
    tls: Option<TlsFiles>,
) -> Result<(), ServeError> {
    let app = router(storage).into_make_service();
    match tls {
        None => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app).await?;
        }
        Some(files) => {
            // Several crypto providers may be linked; this picks ring once per process.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .map_err(ServeError::Tls)?;
            axum_server::from_tcp_rustls(listener, config)
                .serve(app)
                .await?;
        }
    }
    Ok(())
}

/// Binds `addr` (e.g. `127.0.0.1:0`).
pub fn bind(addr: &str) -> Result<std::net::TcpListener, ServeError> {
    std::net::TcpListener::bind(addr).map_err(|source| ServeError::Listen {
        addr: addr.to_owned(),
        source,
    })
}

/// A hub running on its own thread, for tests, the load test and embedding.
#[derive(Debug)]
pub struct RunningHub {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningHub {
    /// Serves plain HTTP on `listener` on a background thread with its own runtime.
    pub fn start(
        listener: std::net::TcpListener,
        storage: Shared,
    ) -> Result<RunningHub, ServeError> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = router(storage).into_make_service();
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(RunningHub {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
