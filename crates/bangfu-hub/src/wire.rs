//! What travels between a device and the hub: paths, headers and JSON bodies. Ops travel as
//! changeset bytes (the same checked format as the files), so a cut or altered body is
//! refused whole.

use std::collections::BTreeMap;

use bangfu_core::store::migrate;
use bangfu_core::sync::Op;
use bangfu_core::sync::changeset::{self, Header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ENROL: &str = "/v1/enrol";
pub const PUSH_CURSOR: &str = "/v1/push/cursor";
pub const PUSH: &str = "/v1/push";
pub const PULL: &str = "/v1/pull";
pub const HEALTH: &str = "/v1/health";

/// Response headers of a pull: the hub position of the page's last op, and whether more follow.
pub const NEXT_HEADER: &str = "x-bangfu-next";
pub const MORE_HEADER: &str = "x-bangfu-more";

/// The most ops a pull page or a push may carry.
pub const MAX_PAGE: usize = 20_000;

#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_name: String,
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
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PushCursor {
    /// The highest seq of the origin the hub holds without a gap.
    pub stored_seq: i64,
}

/// An error body: a stable kind and an English detail for the log.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub kind: String,
    pub detail: String,
    /// For `gap`: what the hub holds, so the client resumes from there.
    #[serde(default)]
    pub stored_seq: Option<i64>,
}

/// Wraps ops in changeset bytes, named after `source`.
pub fn encode_ops(source: Uuid, source_name: &str, ops: &[Op]) -> Vec<u8> {
    let header = Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: migrate::latest_version(),
        source_device: source,
        source_name: source_name.to_owned(),
        created_ms: 0,
        covered: BTreeMap::new(),
        device_names: BTreeMap::new(),
        op_count: 0,
        carried: None,
        held: None,
        body_sha256: String::new(),
    };
    changeset::encode(header, ops)
}
