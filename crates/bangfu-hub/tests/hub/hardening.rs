//! The hub's hardening: enrolment codes that expire and lock, a rate limit per address,
//! request timeouts, a bound on how far a push inflates, the admin credential, and the
//! quarantine of a revoked device's ops.

use std::io::Write;
use std::time::{Duration, Instant};

use bangfu_core::sync::changeset::{self, Header};
use bangfu_hub::wire;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::common::*;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A changeset that declares `declared` ops and whose body inflates to `raw_len` zero bytes,
/// framed and checksummed as a writer would.
fn bomb(declared: u64, raw_len: usize) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; raw_len]).expect("deflate");
    let body = enc.finish().expect("deflate");
    let header = Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: 1,
        source_device: Uuid::now_v7(),
        source_name: "炸弹".into(),
        created_ms: 0,
        covered: Default::default(),
        device_names: Default::default(),
        op_count: declared,
        carried: None,
        held: None,
        signers: None,
        batches: None,
        seal_keys: None,
        body_sha256: hex(&Sha256::digest(&body)),
    };
    let json = serde_json::to_vec(&header).expect("header");
    let mut file = changeset::MAGIC.to_vec();
    file.extend_from_slice(&changeset::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(json.len() as u32).to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&json);
    file.extend_from_slice(&body);
    let trailer = Sha256::digest(&file);
    file.extend_from_slice(&trailer);
    file
}

crate::on_both_backends!(a_push_inflating_past_its_declared_op_count_is_refused);
fn a_push_inflating_past_its_declared_op_count_is_refused(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    let url = hub.url();
    let mut store = open(dir.path(), "A村");
    let _client = enrol(&mut store, &url, &storage, VILLAGE_A);
    let token = store.hub_link().expect("link").expect("enrolled").token;
    // One declared op, 1 GiB of zeros: about 1 MB on the wire.
    let file = bomb(1, 1 << 30);
    let started = Instant::now();
    let mut reply = agent()
        .post(format!("{url}{}", wire::PUSH))
        .header("Authorization", &format!("Bearer {token}"))
        .query("origin", store.device().id.to_string())
        .send(&file[..])
        .expect("request");
    let took = started.elapsed();
    let body = reply.body_mut().read_to_string().unwrap_or_default();
    eprintln!(
        "bomb: {} bytes on the wire, declared 1 op, refused in {took:?}: {body}",
        file.len()
    );
    assert_eq!(reply.status().as_u16(), 413, "{body}");
    assert!(body.contains("inflates_past_declared"), "{body}");
    // Inflating the whole GiB takes seconds; the hub stops after about a megabyte.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(storage.counts().expect("counts").ops, 0);
}
