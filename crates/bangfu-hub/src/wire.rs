//! What travels between a device and the hub: paths, headers and JSON bodies. Ops travel as
//! changeset bytes (the same checked format as the files), so a cut or altered body is
//! refused whole.

use std::collections::BTreeMap;

use bangfu_core::store::migrate;
use bangfu_core::sync::Op;
use bangfu_core::sync::changeset::{self, Header};
use bangfu_core::sync::relay::Signatures;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ENROL: &str = "/v1/enrol";
pub const PUSH_CURSOR: &str = "/v1/push/cursor";
pub const PUSH: &str = "/v1/push";
pub const PULL: &str = "/v1/pull";
pub const HEALTH: &str = "/v1/health";
/// `GET`: the county key and its certificates of the county's device keys
/// (`bangfu_core::sync::county::CountyList`, JSON), for an enrolled device.
pub const COUNTY: &str = "/v1/county";
/// On `/v1/county` answers (also "unchanged", 304): when the county's list was signed.
pub const COUNTY_LIST_MS_HEADER: &str = "x-bangfu-county-list-ms";
/// The archive's files (issue 17): which of these the hub lacks (POST a JSON list of
/// SHA-256s, answered with the ones it lacks), and one file by its SHA-256 (PUT its bytes,
/// GET them back).
pub const BLOBS_MISSING: &str = "/v1/blobs/missing";
pub const BLOB: &str = "/v1/blobs/{sha256}";
pub const BLOB_PREFIX: &str = "/v1/blobs/";
/// The admin's requests, behind the admin credential (`Authorization: Bearer bfadmin-…`).
pub const ADMIN_CODES: &str = "/v1/admin/codes";
pub const ADMIN_DEVICES: &str = "/v1/admin/devices";
pub const ADMIN_REVOKE: &str = "/v1/admin/revoke";
pub const ADMIN_HELD: &str = "/v1/admin/held";

/// The longest validity an admin may give an enrolment code, in days.
pub const MAX_CODE_DAYS: u32 = 90;
/// The release the hub offers (`bangfu-update.json`), and its package by file name.
pub const UPDATE_MANIFEST: &str = "/v1/update/manifest";
pub const UPDATE_PACKAGE: &str = "/v1/update/package/{name}";
/// Where a package is fetched: [`UPDATE_PACKAGE`] without its `{name}`.
pub const UPDATE_PACKAGE_PREFIX: &str = "/v1/update/package/";

/// Response headers of a pull: the hub position of the page's last op, and whether more follow.
pub const NEXT_HEADER: &str = "x-bangfu-next";
pub const MORE_HEADER: &str = "x-bangfu-more";
/// Response headers of a pull: the hub database's epoch and its highest log position.
pub const EPOCH_HEADER: &str = "x-bangfu-epoch";
pub const HEAD_HEADER: &str = "x-bangfu-head";
/// The op (`origin:seq`) at `x-bangfu-next`, when the page is not empty.
pub const NEXT_OP_HEADER: &str = "x-bangfu-next-op";
/// Set when the op the device saw at its position is not there: the hub was restored from an
/// older backup (or is another database); the device starts its pull over.
pub const LOST_HEADER: &str = "x-bangfu-lost";
/// A pull's signers and the scope the hub enrolled each one's device with: `ORIGIN=SCOPE`
/// joined by `,` (the county vouches for those keys within that scope).
pub const SIGNER_SCOPES_HEADER: &str = "x-bangfu-signer-scopes";

/// The `SIGNER_SCOPES_HEADER` value of `scopes`.
pub fn signer_scopes_text(scopes: &BTreeMap<Uuid, String>) -> String {
    scopes
        .iter()
        .map(|(device, scope)| format!("{device}={scope}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads a `SIGNER_SCOPES_HEADER` value; what does not parse is left out.
pub fn parse_signer_scopes(text: &str) -> BTreeMap<Uuid, String> {
    text.split(',')
        .filter_map(|pair| {
            let (device, scope) = pair.split_once('=')?;
            let scope = scope.trim();
            (!scope.is_empty() && scope.bytes().all(|b| b.is_ascii_digit()))
                .then_some((device.trim().parse().ok()?, scope.to_owned()))
        })
        .collect()
}

/// An op id as the pull headers carry it.
pub fn op_at_text(id: &bangfu_core::sync::OpId) -> String {
    format!("{}:{}", id.origin, id.seq)
}

/// The most ops a pull page or a push may carry.
pub const MAX_PAGE: usize = 20_000;

/// How far the hub inflates a push: 1 MiB for the stream's tables plus 8 KiB per declared op
/// (a real op takes 40 to 200 bytes; a long note a few KiB), so a push of 20,000 ops inflates
/// to at most 161 MiB and a one-op push to 1 MiB, whatever its body claims to hold.
pub const PUSH_BOUND: changeset::InflateBound = changeset::InflateBound {
    max_ops: MAX_PAGE as u64,
    fixed_bytes: 1 << 20,
    per_op_bytes: 8 << 10,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_name: String,
    /// Tokens this data file was enrolled with before: the hub passes their devices' origins
    /// to the new enrolment (the proof that it is the same laptop).
    #[serde(default)]
    pub previous_tokens: Vec<String>,
}

/// `POST /v1/admin/codes`: a code for `scope`, valid `valid_days` (default 7, at most 90).
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeRequest {
    pub scope: String,
    #[serde(default)]
    pub valid_days: Option<u32>,
}

/// `POST /v1/admin/revoke`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevokeRequest {
    pub device: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RevokeResponse {
    /// False when there was no live device with that number.
    pub revoked: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub token: String,
    pub scope: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OriginQuery {
    pub origin: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PullQuery {
    pub after: i64,
    pub limit: usize,
    /// The op (`origin:seq`) the device saw at position `after`: a hub whose log holds
    /// another op there (or none) answers with `x-bangfu-lost`.
    #[serde(default)]
    pub at: Option<String>,
    /// A new device's first pull: only the current heads of its scope (1), not every op.
    #[serde(default)]
    pub snapshot: u8,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PushCursor {
    /// The highest seq of the origin the hub holds without a gap.
    pub stored_seq: i64,
}

/// What a push did (the reply of `POST /v1/push`): the new cursor, and the ops kept aside
/// instead of stored (they count as received: the cursor passes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOutcome {
    pub stored_seq: i64,
    #[serde(default)]
    pub held: Vec<HeldNote>,
}

/// One op the hub kept aside: its seq and why (`outside_scope`, `content_mismatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldNote {
    pub seq: i64,
    pub reason: String,
}

/// An error body: a stable kind and an English detail for the log.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub kind: String,
    pub detail: String,
    /// For `gap`: what the hub holds, so the client resumes from there.
    #[serde(default)]
    pub stored_seq: Option<i64>,
    /// For `bad_code`, when the code typed resembles a live one: the tries it has left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<i64>,
    /// For `too_many_attempts`: seconds until this address may try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

/// Wraps ops in changeset bytes, named after `source`, with the signing keys, the batch
/// signatures of the write batches `ops` carry whole, the parts of those they cut and the
/// writers' sealing keys.
pub fn encode_ops(source: Uuid, source_name: &str, ops: &[Op], carried: Signatures) -> Vec<u8> {
    // The names the hub enrolled the writers under go in the device names, for the receivers'
    // device lists.
    let Signatures {
        signers,
        batches,
        seal_keys,
        names: device_names,
        scopes: _,
        parts,
    } = carried;
    let header = Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: migrate::latest_version(),
        source_device: source,
        source_name: source_name.to_owned(),
        created_ms: 0,
        covered: BTreeMap::new(),
        device_names,
        op_count: 0,
        carried: None,
        snapshot: None,
        held: None,
        signers: (!signers.is_empty()).then_some(signers),
        batches: (!batches.is_empty()).then_some(batches),
        parts: (!parts.is_empty()).then_some(parts),
        seal_keys: (!seal_keys.is_empty()).then_some(seal_keys),
        blobs: None,
        source_sig: None,
        county_certs: None,
        body_sha256: String::new(),
    };
    changeset::encode(header, ops)
}

/// What became of a pushed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobPut {
    Stored,
    AlreadyHeld,
    /// No attachment in the pusher's scope names it (push the ops first).
    NotNamed,
    /// The bytes do not hash to the name, or are not a JPEG, PNG or PDF within the bound.
    Refused,
}
