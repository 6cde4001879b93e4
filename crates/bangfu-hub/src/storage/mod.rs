//! Where the hub keeps ops, devices and its own log: a small trait with two backends, the
//! embedded SQLite file (one county) and PostgreSQL (several hub processes), both running the
//! same rules (`logic.rs`, `scope_index.rs`) over the same SQL (`sql.rs`).

mod blobs;
pub mod county;
mod credentials;
mod logic;
mod postgres;
mod push_batch;
mod schema;
mod schema_pg;
mod scope_index;
mod signatures;
pub use scope_index::OUTSIDE_SCOPE;
mod sql;
mod sqlite;

use bangfu_core::sync::{Op, OpId};
use serde::Serialize;
use uuid::Uuid;

use crate::scope::Scope;
pub use blobs::BlobPut;
pub use logic::now_ms;
pub use postgres::PgStorage;
pub use sqlite::SqliteStorage;

pub use crate::wire::{HeldNote, PushOutcome};

/// An authenticated device, as a request handler sees it.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    /// The hub's own number for the device (what `revoke` takes).
    pub id: i64,
    pub name: String,
    pub scope: Scope,
}

/// How long an enrolment code is valid when the admin does not say: 7 days.
pub const DEFAULT_CODE_VALIDITY: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

/// Wrong tries after which a code is void: a mistyped code counts against the code whose first
/// group it shares.
pub const MAX_WRONG_TRIES: i64 = 5;

/// The most ops the hub keeps in quarantine per revoked device; a revoked token past it is
/// refused like a wrong one (a stolen laptop cannot fill the hub's disk).
pub const MAX_QUARANTINED_PER_DEVICE: i64 = 100_000;

/// A newly issued enrolment code.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct IssuedCode {
    pub code: String,
    pub scope: String,
    pub expires_ms: i64,
}

/// Why an enrolment code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// No code like it; `tries_left` when it shares its first group with a live code (a typo),
    /// counted against that code.
    Wrong { tries_left: Option<i64> },
    /// Already spent by another enrolment.
    Used,
    /// Past its validity.
    Expired,
    /// Void after too many wrong tries.
    Locked,
}

/// What the admin credential given is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCheck {
    Valid,
    Wrong,
    /// The hub has no admin credential yet (`bangfu-hub init`).
    NotSet,
}

/// What an enrolment gave the device.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub token: String,
    pub scope: Scope,
}

/// A page of a device's scope from the hub's log.
#[derive(Debug, Clone)]
pub struct PullPage {
    pub ops: Vec<Op>,
    /// The hub position of the last op in the page (the request's position if empty).
    pub next: i64,
    /// Whether more ops may follow at once.
    pub more: bool,
    /// The hub's highest log position (of any scope): a device that pulled past it is talking
    /// to a hub restored from an older backup.
    pub head: i64,
    /// The op at `next`, when the page is not empty.
    pub next_op: Option<OpId>,
    /// The op at the request's position, when asked for: `None` when the log has none there.
    pub op_at_after: Option<OpId>,
}

/// The keys, batch signatures and sealing keys a page carries.
pub type PageSignatures = bangfu_core::sync::relay::Signatures;

/// An enrolled device, for the county admin's list.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub enrolled_ms: i64,
    pub last_push_ms: Option<i64>,
    pub revoked: bool,
}

/// Numbers about the hub's store, for tests and the load test.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StorageCounts {
    pub ops: i64,
    pub feed_entries: i64,
    /// Ops whose household or village is not known yet, so no scope receives them.
    pub pending_ops: i64,
    pub held_ops: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("hub database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("hub database (PostgreSQL): {}", postgres_text(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("hub database connections: {0}")]
    Pool(String),
    #[error("hub database: unexpected row: {0}")]
    BadRow(String),
    /// A concurrent transaction wrote what this one was about to: run it again.
    #[error("hub database: a concurrent write: {0}")]
    Concurrent(String),
    #[error(
        "the PostgreSQL database holds other tables and no hub schema: give the hub a database of its own"
    )]
    ForeignDatabase,
    #[error("hub data folder {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("ops of device {0} are pushed by another enrolled device")]
    OriginTaken(Uuid),
    #[error("op {origin}/{seq} is not an op of the pushed device")]
    ForeignOrigin { origin: Uuid, seq: i64 },
    #[error("push starts after a gap: the hub has up to seq {stored}")]
    Gap { stored: i64 },
}

/// PostgreSQL's own message and SQLSTATE when the server refused a statement (the driver's
/// text alone is "db error").
fn postgres_text(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A held op, for the county admin's list.
#[derive(Debug, Clone, Serialize)]
pub struct HeldInfo {
    pub id: i64,
    pub device: String,
    pub origin: Uuid,
    pub seq: i64,
    pub reason: String,
    pub detail: String,
    pub held_ms: i64,
    pub table: String,
    pub row: Uuid,
    pub field: String,
}

/// The hub's storage. Every method is one transaction: a push is acknowledged only after it
/// is committed.
pub trait HubStorage: Send + Sync + 'static {
    /// The live (not revoked) device holding this token.
    fn authenticate(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError>;
    /// A revoked device holding this token (its pushes go to quarantine).
    fn revoked_device(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError>;
    /// Spends a one-time code, or says why not (a wrong try is counted against the code it
    /// resembles, and committed). The new device may push the origins claimed by the devices
    /// whose tokens are in `previous_tokens` (the same data file enrolled before, or the file
    /// it was copied from).
    fn enrol(
        &self,
        code: &str,
        device_name: &str,
        previous_tokens: &[String],
    ) -> Result<Result<Enrolment, CodeRefusal>, StorageError>;
    /// The highest seq of `origin` the hub holds without a gap, claiming the origin for this
    /// device if no device pushed it before.
    fn push_cursor(&self, device: &DeviceAuth, origin: Uuid) -> Result<i64, StorageError>;
    /// Stores ops of one origin, in seq order, starting at or before the cursor + 1. Returns
    /// the new cursor. An op outside the device's scope, or an op id already held with other
    /// content, is held aside (listed in the outcome) and the rest goes on.
    fn push(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<PushOutcome, StorageError>;
    /// Ops of `scope` after hub position `after`, at most `limit`.
    fn pull(&self, scope: &Scope, after: i64, limit: usize) -> Result<PullPage, StorageError>;
    /// Like `pull`, but only the ops no stored op supersedes: a new device's compacted start
    /// (current heads, conflicts kept); from the position it reaches it pulls as usual.
    fn pull_snapshot(
        &self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<PullPage, StorageError>;
    /// Issues a one-time enrolment code for a scope, valid for `valid_for`.
    fn issue_code_for(
        &self,
        scope: &Scope,
        valid_for: std::time::Duration,
    ) -> Result<IssuedCode, StorageError>;
    /// Issues a one-time enrolment code for a scope, valid for the default 7 days.
    fn issue_code(&self, scope: &Scope) -> Result<String, StorageError> {
        self.issue_code_for(scope, DEFAULT_CODE_VALIDITY)
            .map(|c| c.code)
    }
    /// A revoked device's cursor for `origin` in quarantine: the origin's stored seq, or the
    /// last op quarantined after it. Only an origin the device (or an earlier enrolment of its
    /// data file) claimed; `None` otherwise.
    fn quarantine_cursor(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
    ) -> Result<Option<i64>, StorageError>;
    /// Keeps a revoked device's ops in quarantine (the `held` table, reason `device_revoked`):
    /// not merged, not lost, listed for the admin. The same cursor rules as [`push`]; `None`
    /// when the origin is not the device's or its quarantine is full.
    ///
    /// [`push`]: HubStorage::push
    fn quarantine(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<Option<PushOutcome>, StorageError>;
    /// Creates the admin credential and returns it (shown once; only its SHA-256 is kept).
    /// `None` when one exists and `replace` is false.
    fn create_admin_token(&self, replace: bool) -> Result<Option<String>, StorageError>;
    fn check_admin(&self, token: &str) -> Result<AdminCheck, StorageError>;
    /// Revokes a device's token; false if there is no such live device.
    fn revoke(&self, device_id: i64) -> Result<bool, StorageError>;
    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError>;
    /// The key of the county of 6-digit code `county` (made the first time) and the device
    /// keys it certifies.
    fn county_rows(
        &self,
        county: &str,
    ) -> Result<(bangfu_core::sync::county::CountySigner, Vec<county::Listed>), StorageError>;
    /// A new key for the county of 6-digit code `county`, in place of the one it had
    /// ([`county::renew_key`]).
    fn renew_county_key(
        &self,
        county: &str,
    ) -> Result<bangfu_core::sync::county::CountySigner, StorageError>;
    /// The ops held aside, oldest first.
    fn held(&self) -> Result<Vec<HeldInfo>, StorageError>;
    /// Of these files of the archive, the ones the hub does not hold.
    /// The signing key (hex) the hub holds for `origin`, declared by its first signed push.
    fn signer_key(&self, origin: Uuid) -> Result<Option<String>, StorageError>;
    /// Keeps an origin's key (unless one is held), its pushed batch signatures, checked, and
    /// its sealing key (JSON of a `SealKey`, the latest pushed).
    fn keep_signatures(
        &self,
        origin: Uuid,
        key: &str,
        batches: &[bangfu_core::sync::signing::BatchSig],
        seal_key: Option<&str>,
    ) -> Result<(), StorageError>;
    /// The keys and signatures of the batches `ops` (a page) carry whole.
    fn signatures_for(&self, ops: &[Op]) -> Result<PageSignatures, StorageError>;
    fn blobs_missing(&self, scope: &Scope, hashes: &[String]) -> Result<Vec<String>, StorageError>;
    /// Keeps a file a device pushed, once; only one an attachment of its scope names.
    fn put_blob(
        &self,
        device: &DeviceAuth,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<BlobPut, StorageError>;
    /// A file for a device whose scope holds an attachment naming it.
    fn get_blob(&self, scope: &Scope, sha256: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// The random id of this hub database, made when it was created.
    fn epoch(&self) -> &str;
    fn counts(&self) -> Result<StorageCounts, StorageError>;
    /// Transactions this process ran again because a concurrent one conflicted with them
    /// (PostgreSQL; SQLite has one writer and never does).
    fn conflicts_retried(&self) -> u64 {
        0
    }
}

/// Where a hub keeps its data: a folder with `hub.sqlite`, or a PostgreSQL database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// A `postgres://` or `postgresql://` URL is a database; anything else a folder.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::Dir(text.into())
        }
    }

    /// Opens the storage; PostgreSQL with at most `connections` pooled connections.
    pub fn open(&self, connections: u32) -> Result<std::sync::Arc<dyn HubStorage>, StorageError> {
        self.open_with(connections, StoreOptions::default())
    }

    /// Opens the storage with `options` (tests).
    #[doc(hidden)]
    pub fn open_with(
        &self,
        connections: u32,
        options: StoreOptions,
    ) -> Result<std::sync::Arc<dyn HubStorage>, StorageError> {
        Ok(match self {
            Location::Dir(dir) => std::sync::Arc::new(SqliteStorage::open_with(dir, options)?),
            Location::Postgres(url) => {
                std::sync::Arc::new(PgStorage::open_with(url, connections, options)?)
            }
        })
    }
}

/// How one opened storage stores pushes. Kept in the storage, not in the process, so tests
/// running side by side in one process (`cargo test` runs them as threads) cannot change one
/// another's storages.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Every op of a push through `store_op` one at a time, as before batching: the same
    /// results, only slower. Only for the test that compares the two.
    pub op_by_op: bool,
    /// PostgreSQL: how many row claims this storage writes before it prunes `row_claim`
    /// (`None`: `postgres::CLAIMS_BEFORE_PRUNE`). Tests prune after every push.
    pub claims_before_prune: Option<u64>,
    /// PostgreSQL: how long after its last try this storage prunes the claims it wrote
    /// since, however few (`None`: `postgres::PRUNE_EVERY`), so a quiet hub does not keep
    /// them until the count comes.
    pub prune_every: Option<std::time::Duration>,
}
