//! The hub's HTTP service (axum): enrolment, push with a resumable cursor, pull by hub log
//! position, all behind a Bearer token, and the admin's requests behind the admin credential;
//! with plain HTTP or rustls, and timeouts so a slow client cannot hold a connection.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bangfu_core::sync::changeset;
use bangfu_core::sync::signing::{self, BatchSig, SignatureError, StreamVerifier};

use crate::enrol_limit::EnrolLimiter;
use crate::metrics::{self, Metrics};
use crate::storage::{CodeRefusal, DeviceAuth, HubStorage, OUTSIDE_SCOPE, StorageError};
use crate::wire::{
    self, EnrolRequest, EnrolResponse, ErrorBody, OriginQuery, PullQuery, PushCursor, PushOutcome,
};

type Shared = Arc<dyn HubStorage>;

/// How the hub treats slow and repeated clients.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The longest a client may take to send a request's headers (and to start the next
    /// request on a kept-alive connection); then the connection is closed.
    pub header_timeout: Duration,
    /// The longest a request may take from its headers to its answer, its body included;
    /// then it is answered 408. A push already handed to the database still commits, and the
    /// device learns it from the cursor at its next sync.
    pub request_timeout: Duration,
    /// Refused enrolment attempts allowed per client address in each `enrol_window`; past
    /// them the address waits for its window to end (good codes are never counted).
    pub enrol_attempts: u32,
    pub enrol_window: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            enrol_attempts: 20,
            enrol_window: Duration::from_secs(600),
        }
    }
}

/// The router's state: the storage, this process's counters and its enrolment limit.
#[derive(Clone)]
pub(crate) struct AppState {
    storage: Shared,
    metrics: Arc<Metrics>,
    limiter: Arc<EnrolLimiter>,
    /// The county's certificates signed so far (`storage::county::CertCache`).
    county: Arc<crate::storage::county::CertCache>,
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

impl axum::extract::FromRef<AppState> for Arc<EnrolLimiter> {
    fn from_ref(state: &AppState) -> Arc<EnrolLimiter> {
        state.limiter.clone()
    }
}

/// A refused or failed request: the HTTP status and a body that says why.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing, wrong or revoked token")]
    Unauthorized,
    #[error("token of a revoked device")]
    Revoked,
    #[error("enrolment code refused: {0:?}")]
    Code(CodeRefusal),
    #[error("too many enrolment attempts from this address; retry in {0} s")]
    TooManyAttempts(u64),
    #[error("missing or wrong admin credential")]
    AdminUnauthorized,
    #[error("this hub has no admin credential yet (bangfu-hub init)")]
    AdminNotSet,
    #[error("request took longer than {0} s")]
    Timeout(u64),
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("push inflates past its declared op count: {0}")]
    InflatesPastDeclared(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("no such file for this device")]
    NoFile,
    #[error("push signatures refused: {0}")]
    Signature(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, stored_seq) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            ApiError::Revoked => (StatusCode::UNAUTHORIZED, "revoked", None),
            ApiError::Code(CodeRefusal::Wrong { .. }) => {
                (StatusCode::UNAUTHORIZED, "bad_code", None)
            }
            ApiError::Code(CodeRefusal::Used) => (StatusCode::UNAUTHORIZED, "code_used", None),
            ApiError::Code(CodeRefusal::Expired) => {
                (StatusCode::UNAUTHORIZED, "code_expired", None)
            }
            ApiError::Code(CodeRefusal::Locked) => (StatusCode::UNAUTHORIZED, "code_locked", None),
            ApiError::TooManyAttempts(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None)
            }
            ApiError::AdminUnauthorized => (StatusCode::UNAUTHORIZED, "admin_unauthorized", None),
            ApiError::AdminNotSet => (StatusCode::UNAUTHORIZED, "admin_not_set", None),
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout", None),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", None),
            ApiError::NoFile => (StatusCode::NOT_FOUND, "no_file", None),
            ApiError::Signature(_) => (StatusCode::BAD_REQUEST, "bad_signature", None),
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
        let tries_left = match &self {
            ApiError::Code(CodeRefusal::Wrong { tries_left }) => *tries_left,
            _ => None,
        };
        let retry_after = match &self {
            ApiError::TooManyAttempts(s) => Some(*s),
            _ => None,
        };
        let body = ErrorBody {
            kind: kind.to_owned(),
            detail: self.to_string(),
            stored_seq,
            tries_left,
            retry_after_s: retry_after,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(s) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

/// Runs a storage call off the async threads: SQLite blocks.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Who sent a request: a live device, or a revoked one (whose pushes go to quarantine).
enum Sender {
    Live(DeviceAuth),
    Revoked(DeviceAuth),
}

async fn sender(storage: &Shared, headers: &HeaderMap) -> Result<Sender, ApiError> {
    let token = bearer(headers).ok_or(ApiError::Unauthorized)?;
    let storage = storage.clone();
    blocking(move || {
        if let Some(device) = storage.authenticate(&token)? {
            return Ok(Some(Sender::Live(device)));
        }
        Ok(storage.revoked_device(&token)?.map(Sender::Revoked))
    })
    .await?
    .ok_or(ApiError::Unauthorized)
}

async fn authenticate(storage: &Shared, headers: &HeaderMap) -> Result<DeviceAuth, ApiError> {
    match sender(storage, headers).await? {
        Sender::Live(device) => Ok(device),
        Sender::Revoked(_) => Err(ApiError::Revoked),
    }
}

/// The client's address for the enrolment limit. Behind a reverse proxy on this machine (the
/// peer is loopback) the proxy's `X-Forwarded-For` names the client: its last entry, the one
/// the proxy added itself (earlier entries are whatever the client sent).
fn client_address(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !peer.ip().is_loopback() {
        return peer.ip();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .next_back()
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer.ip())
}

async fn enrol(
    State(storage): State<Shared>,
    State(limiter): State<Arc<EnrolLimiter>>,
    State(counters): State<Arc<Metrics>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<EnrolRequest>,
) -> Result<axum::Json<EnrolResponse>, ApiError> {
    let address = client_address(peer, &headers);
    limiter.check(address, Instant::now()).map_err(|wait| {
        counters.enrol_refused();
        ApiError::TooManyAttempts(wait.as_secs().max(1))
    })?;
    let enrolment =
        blocking(move || storage.enrol(&req.code, &req.device_name, &req.previous_tokens))
            .await?
            .map_err(|refusal| {
                limiter.refused(address, Instant::now());
                counters.enrol_refused();
                metrics::log(
                    "enrol_refused",
                    &[
                        ("address", address.to_string().into()),
                        ("reason", format!("{refusal:?}").into()),
                    ],
                );
                ApiError::Code(refusal)
            })?;
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
    let stored_seq = match sender(&storage, &headers).await? {
        Sender::Live(device) => blocking(move || storage.push_cursor(&device, q.origin)).await?,
        Sender::Revoked(device) => blocking(move || storage.quarantine_cursor(&device, q.origin))
            .await?
            .ok_or(ApiError::Revoked)?,
    };
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
    let (device, revoked) = match sender(&storage, &headers).await? {
        Sender::Live(device) => (device, false),
        Sender::Revoked(device) => (device, true),
    };
    let device_id = device.id;
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent_in = sent.clone();
    let result = blocking(move || {
        // Inflated only as far as the declared op count could need: a small body must not
        // become gigabytes before the hub can tell it lies.
        let (header, ops) = match changeset::decode_within(&body, wire::PUSH_BOUND) {
            Ok(decoded) => decoded,
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
        if revoked {
            // Not merged and not lost: kept aside for the admin to review.
            return Ok(storage
                .quarantine(&device, q.origin, &ops)?
                .ok_or(ApiError::Revoked));
        }
        let signed = match checked_signatures(&*storage, q.origin, &header, &ops) {
            Ok(signed) => signed,
            Err(e) => return Ok(Err(e)),
        };
        let outcome = storage.push(&device, q.origin, &ops)?;
        // Kept once the ops are committed; a crash between leaves those ops unsigned on the
        // hub (laptops then take them as they took every hub op before signatures came).
        // A batch with an op held outside the pusher's scope is kept: that op's content is
        // fixed from now on (`same_content`), a page carries the batch only once it is taken
        // back in whole (`readmit_held`), and it then goes on signed to a device that pulls
        // the whole batch in one page (one that pulled its other ops before gets the op taken
        // back unsigned). A batch with an op held
        // for other content under an id the hub already stores is not kept: it would not
        // match what the hub hands on.
        if let Some((key, mut batches, seal_key)) = signed {
            batches.retain(|b| {
                !outcome
                    .held
                    .iter()
                    .any(|h| b.first <= h.seq && h.seq <= b.last && h.reason != OUTSIDE_SCOPE)
            });
            storage.keep_signatures(q.origin, &key, &batches, seal_key.as_deref())?;
        }
        Ok(Ok(outcome))
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
    if revoked {
        counters.quarantined(outcome.held.len());
    }
    metrics::log(
        "push",
        &[
            ("device", device_id.into()),
            ("origin", q.origin.to_string().into()),
            ("ops", ops.into()),
            ("held", outcome.held.len().into()),
            ("revoked", revoked.into()),
            ("stored_seq", outcome.stored_seq.into()),
            ("ms", (started.elapsed().as_millis() as u64).into()),
        ],
    );
    Ok(axum::Json(outcome))
}

/// What a push's header vouches for, checked: the origin's signing key, the batch signatures
/// to keep, and its sealing key as JSON.
type CheckedSignatures = (String, Vec<BatchSig>, Option<String>);

/// A push's declared signatures, checked before anything of it is stored: the origin's key
/// must be the one the hub holds for it (the first declared), and every batch the push
/// carries whole must verify over its ops; a batch cut short refuses the push. Returns the
/// key, the batches to keep and the origin's sealing key as JSON, when it names that signing
/// key (`None`: the push declared no key for its origin: ops of a version before signatures,
/// kept unsigned as before).
fn checked_signatures(
    storage: &dyn HubStorage,
    origin: uuid::Uuid,
    header: &changeset::Header,
    ops: &[bangfu_core::sync::Op],
) -> Result<Option<CheckedSignatures>, ApiError> {
    let Some(key) = header.signers.as_ref().and_then(|s| s.get(&origin)) else {
        return Ok(None);
    };
    if let Some(known) = storage.signer_key(origin)?
        && known != *key
    {
        return Err(ApiError::Signature(format!(
            "device {origin} declares a signing key other than the one the hub holds"
        )));
    }
    let seqs: std::collections::BTreeSet<i64> = ops.iter().map(|op| op.id.seq).collect();
    let batches: Vec<BatchSig> = header
        .batches
        .iter()
        .flatten()
        .filter(|b| {
            b.origin == origin
                && b.first <= b.last
                && seqs.range(b.first..=b.last).count() as i64 == b.last - b.first + 1
        })
        .cloned()
        .collect();
    let keys = std::collections::BTreeMap::from([(origin, key.clone())]);
    let refused = |e: SignatureError| ApiError::Signature(e.to_string());
    let mut verifier = StreamVerifier::new(&keys, &batches).map_err(refused)?;
    for op in ops {
        verifier.push(op).map_err(refused)?;
    }
    verifier.finish().map_err(refused)?;
    // The second signature, op by op, of each batch that brings one: it vouches for the part
    // of the batch a page carries when the page cuts it, so it must hold as the first does.
    let by_seq: std::collections::BTreeMap<i64, &bangfu_core::sync::Op> = ops
        .iter()
        .filter(|op| op.id.origin == origin)
        .map(|op| (op.id.seq, op))
        .collect();
    for b in &batches {
        if let Some(parts_sig) = &b.parts_sig {
            let of_batch: Vec<&bangfu_core::sync::Op> =
                by_seq.range(b.first..=b.last).map(|(_, op)| *op).collect();
            if !signing::parts_signed(key, origin, b.first, b.last, &of_batch, parts_sig) {
                return Err(refused(SignatureError::BadSignature {
                    origin,
                    first: b.first,
                    last: b.last,
                }));
            }
        }
    }
    let seal_key = header
        .seal_keys
        .as_ref()
        .and_then(|keys| keys.get(&origin))
        .filter(|seal| seal.signing_key == *key)
        .and_then(|seal| serde_json::to_string(seal).ok());
    Ok(Some((key.clone(), batches, seal_key)))
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
    let (page, signatures) = blocking(move || {
        let limit = q.limit.min(wire::MAX_PAGE);
        let page = if q.snapshot == 1 {
            storage.pull_snapshot(&device.scope, q.after, limit)
        } else {
            storage.pull(&device.scope, q.after, limit)
        }?;
        let signatures = storage.signatures_for(&page.ops)?;
        Ok::<_, StorageError>((page, signatures))
    })
    .await
    .inspect_err(|_| counters.failed())?;
    // The device saw another op at its position (or the log ends before it): this hub lost
    // what the device pulled, and the device starts over.
    let lost = at.is_some_and(|at| page.op_at_after.as_ref().map(wire::op_at_text) != Some(at));
    let scopes = wire::signer_scopes_text(&signatures.scopes);
    let body = wire::encode_ops(uuid::Uuid::nil(), "县同步中心", &page.ops, signatures);
    counters.pulled(page.ops.len(), started.elapsed());
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(wire::NEXT_HEADER, HeaderValue::from(page.next));
    h.insert(wire::MORE_HEADER, HeaderValue::from(u32::from(page.more)));
    h.insert(wire::HEAD_HEADER, HeaderValue::from(page.head));
    h.insert(wire::EPOCH_HEADER, epoch);
    h.insert(wire::LOST_HEADER, HeaderValue::from(u32::from(lost)));
    if !scopes.is_empty()
        && let Ok(value) = HeaderValue::from_str(&scopes)
    {
        h.insert(wire::SIGNER_SCOPES_HEADER, value);
    }
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

/// The county key and its certificates of the county's device keys, for an enrolled device
/// (`bangfu_core::sync::county`): the device believes the key and carries the certificates
/// in its files, for the stations that never sync.
async fn county_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let device = authenticate(&state.storage, &headers).await?;
    let storage = state.storage.clone();
    let cache = state.county.clone();
    let list = blocking(move || {
        // The list of the device's own county, under that county's key.
        let (key, listed) = storage.county_rows(device.scope.county())?;
        Ok(cache.list(&key, &listed, crate::storage::now_ms()))
    })
    .await?;
    let list_ms = list.issued_ms;
    // The same certificates as the copy took last time (they are the same whenever signed):
    // nothing to send (a county's list is about 430 bytes a laptop, on a village's link).
    let tag = county_list_tag(&list);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        axum::Json(list).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    // When the list (the same or not) was signed: a copy told "unchanged" still learns that
    // its list holds at this time, so a certificate signed before it of a device the list
    // leaves out is not taken from a stick.
    response
        .headers_mut()
        .insert(wire::COUNTY_LIST_MS_HEADER, HeaderValue::from(list_ms));
    Ok(response)
}

/// The tag of a county list (`ETag`): its county key and its certificates' signatures, not
/// the time it was signed, so a list that names the same certificates has the same tag.
pub fn county_list_tag(list: &bangfu_core::sync::county::CountyList) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(list.county_key.as_bytes());
    for cert in &list.certs {
        h.update(cert.sig.as_bytes());
    }
    format!(
        "\"{}\"",
        bangfu_core::sync::signing::hex(&h.finalize()[..16])
    )
}

/// The most hashes one `blobs/missing` request may ask about.
const MAX_HASHES_ASKED: usize = 20_000;

/// Of the archive's files a device names, the ones the hub lacks (it pushes those).
async fn blobs_missing(
    State(storage): State<Shared>,
    headers: HeaderMap,
    axum::Json(hashes): axum::Json<Vec<String>>,
) -> Result<axum::Json<Vec<String>>, ApiError> {
    let device = authenticate(&storage, &headers).await?;
    if hashes.len() > MAX_HASHES_ASKED {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_HASHES_ASKED} hashes a request"
        )));
    }
    let missing = blocking(move || storage.blobs_missing(&device.scope, &hashes)).await?;
    Ok(axum::Json(missing))
}

/// A file of the archive pushed by a device: kept once, only when its bytes hash to its name
/// and an attachment of the device's scope names it.
async fn put_blob(
    State(storage): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(sha256): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Result<axum::Json<crate::storage::BlobPut>, ApiError> {
    let device = authenticate(&storage, &headers).await?;
    if body.len() as u64 > bangfu_core::archive::MAX_FILE_BYTES {
        return Err(ApiError::BadRequest("file past the archive's bound".into()));
    }
    let put = blocking(move || storage.put_blob(&device, &sha256, &body)).await?;
    Ok(axum::Json(put))
}

/// A file of the archive for a device whose scope holds an attachment naming it.
async fn get_blob(
    State(storage): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(sha256): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let device = authenticate(&storage, &headers).await?;
    let bytes = blocking(move || storage.get_blob(&device.scope, &sha256))
        .await?
        .ok_or(ApiError::NoFile)?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(
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

/// Answers 408 when a request (its body included) takes longer than the configured time.
async fn within_time(
    State(limit): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit.as_secs()).into_response(),
    }
}

/// The hub's routes over a storage, with the default [`ServerConfig`].
pub fn router(storage: Shared) -> Router {
    router_with(storage, &ServerConfig::default())
}

/// The hub's routes over a storage. Serve it with connect info (`SocketAddr`): enrolment
/// counts attempts per address.
pub fn router_with(storage: Shared, config: &ServerConfig) -> Router {
    let state = AppState {
        storage,
        metrics: Arc::new(Metrics::default()),
        limiter: Arc::new(EnrolLimiter::new(
            config.enrol_attempts,
            config.enrol_window,
        )),
        county: Arc::default(),
    };
    Router::new()
        .route(wire::HEALTH, get(health))
        .route("/health", get(health))
        .route("/metrics", get(metrics_page))
        .route(wire::ENROL, post(enrol))
        .route(wire::PUSH_CURSOR, get(push_cursor))
        .route(wire::PUSH, post(push))
        .route(wire::PULL, get(pull))
        .route(wire::COUNTY, get(county_list))
        .route(wire::BLOBS_MISSING, post(blobs_missing))
        .route(wire::BLOB, get(get_blob).put(put_blob))
        .merge(crate::admin_api::routes())
        .layer(DefaultBodyLimit::max(64 << 20))
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout,
            within_time,
        ))
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
    config: ServerConfig,
) -> Result<(), ServeError> {
    serve_app(listener, router_with(storage, &config), tls, config).await
}

/// The hub's routes over a storage, and the packages folder's when one is given.
pub fn app(storage: Shared, packages: Option<PathBuf>, config: &ServerConfig) -> Router {
    match packages {
        Some(dir) => router_with(storage, config).merge(crate::updates::routes(dir)),
        None => router_with(storage, config),
    }
}

/// Serves `app` (see [`app`]) until the process ends. With `tls`, HTTPS through rustls.
pub async fn serve_app(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<TlsFiles>,
    config: ServerConfig,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let tls = match tls {
        None => None,
        Some(files) => Some(tls_acceptor(&files).await?),
    };
    crate::listen::accept_loop(
        listener,
        app,
        tls,
        config.header_timeout,
        std::future::pending(),
    )
    .await?;
    Ok(())
}

/// The TLS side of HTTPS: certificate and key from PEM files, HTTP/1.1 offered by ALPN.
async fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    // Several crypto providers may be linked; this picks ring once per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let loaded = axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(ServeError::Tls)?;
    let mut config = (*loaded.get_inner()).clone();
    // The loader offers HTTP/2 too; the hub serves HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
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
    /// Serves plain HTTP on `listener` on a background thread with its own runtime, with the
    /// default [`ServerConfig`].
    pub fn start(
        listener: std::net::TcpListener,
        storage: Shared,
    ) -> Result<RunningHub, ServeError> {
        RunningHub::start_with(listener, storage, ServerConfig::default())
    }

    /// Serves plain HTTP on `listener` on a background thread with its own runtime.
    pub fn start_with(
        listener: std::net::TcpListener,
        storage: Shared,
        config: ServerConfig,
    ) -> Result<RunningHub, ServeError> {
        let app = router_with(storage, &config);
        RunningHub::start_app(listener, app, config)
    }

    /// Serves `app` (see [`app`]: the routes and a packages folder) like
    /// [`RunningHub::start_with`].
    pub fn start_app(
        listener: std::net::TcpListener,
        app: Router,
        config: ServerConfig,
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
                let stop = async {
                    let _ = rx.await;
                };
                let _ =
                    crate::listen::accept_loop(listener, app, None, config.header_timeout, stop)
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
