//! The hub's hardening: enrolment codes that expire and lock, a rate limit per address,
//! request timeouts, a bound on how far a push inflates, the admin credential, and the
//! quarantine of a revoked device's ops.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bangfu_core::UserFacing;
use bangfu_core::sync::changeset::{self, Header};
use bangfu_hub::server::{RunningHub, ServerConfig, bind};
use bangfu_hub::storage::HubStorage;
use bangfu_hub::{HubError, Scope, wire};
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

/// A hub with its own server settings, on loopback.
fn start_with(
    dir: &std::path::Path,
    backend: Backend,
    config: ServerConfig,
) -> (RunningHub, Arc<dyn HubStorage>) {
    let storage = location(dir, backend).open(8).expect("hub storage");
    let hub = RunningHub::start_with(bind("127.0.0.1:0").expect("bind"), storage.clone(), config)
        .expect("start hub");
    (hub, storage)
}

fn generous() -> ServerConfig {
    ServerConfig {
        enrol_attempts: 1_000,
        ..ServerConfig::default()
    }
}

/// The same code with its last character changed: a typo the hub can tell from its first group.
fn mistyped(code: &str, n: usize) -> String {
    const OTHERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut chars: Vec<char> = code.chars().collect();
    let last = chars.len() - 1;
    let candidates: Vec<char> = OTHERS
        .iter()
        .map(|b| *b as char)
        .filter(|c| *c != chars[last])
        .collect();
    chars[last] = candidates[n % candidates.len()];
    chars.into_iter().collect()
}

crate::on_both_backends!(an_enrolment_code_expires_locks_after_five_wrong_tries_and_works_once);
fn an_enrolment_code_expires_locks_after_five_wrong_tries_and_works_once(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_with(dir.path(), backend, generous());
    let url = hub.url();
    let client = client();
    let scope = Scope::parse(VILLAGE_A).expect("scope");
    let mut laptop = open(dir.path(), "A村");

    // Expired: a code valid for a moment, tried after it.
    let short = storage
        .issue_code_for(&scope, Duration::from_millis(1))
        .expect("code");
    std::thread::sleep(Duration::from_millis(20));
    let expired = client.enrol(&mut laptop, &url, &short.code);
    assert!(matches!(expired, Err(HubError::CodeExpired)), "{expired:?}");
    let message = expired.err().map(|e| e.message_zh()).unwrap_or_default();
    assert!(
        message.contains("加入码已过期，请向县里重新申请"),
        "{message}"
    );

    // The default validity is 7 days.
    let week = storage
        .issue_code_for(&scope, bangfu_hub::storage::DEFAULT_CODE_VALIDITY)
        .expect("code");
    let now = bangfu_hub::storage::now_ms();
    assert!((week.expires_ms - now - 7 * 24 * 3600 * 1000).abs() < 60_000);

    // Locked: five wrong tries at a code (typos of it) and the right code no longer works.
    let code = storage.issue_code(&scope).expect("code");
    let mut seen = Vec::new();
    for n in 0..5 {
        seen.push(match client.enrol(&mut laptop, &url, &mistyped(&code, n)) {
            Err(HubError::BadCode { tries_left }) => format!("wrong, {tries_left:?} left"),
            other => format!("{other:?}"),
        });
    }
    seen.push(format!("{:?}", client.enrol(&mut laptop, &url, &code)));
    assert_eq!(
        seen,
        [
            "wrong, Some(4) left",
            "wrong, Some(3) left",
            "wrong, Some(2) left",
            "wrong, Some(1) left",
            "Err(CodeLocked)",
            "Err(CodeLocked)",
        ]
    );

    // A code like no other is simply wrong; the right one works once.
    let code = storage.issue_code(&scope).expect("code");
    let unlike = if code.starts_with('Z') {
        "YYYY-YYYY-YYYY"
    } else {
        "ZZZZ-ZZZZ-ZZZZ"
    };
    assert!(matches!(
        client.enrol(&mut laptop, &url, unlike),
        Err(HubError::BadCode { tries_left: None })
    ));
    assert_eq!(
        client
            .enrol(&mut laptop, &url, &code.to_lowercase())
            .ok()
            .as_deref(),
        Some(VILLAGE_A)
    );
    let mut second = open(dir.path(), "A村-2");
    assert!(matches!(
        client.enrol(&mut second, &url, &code),
        Err(HubError::CodeUsed)
    ));
}

#[test]
fn enrolment_attempts_are_limited_per_address() {
    let dir = scratch();
    let config = ServerConfig {
        enrol_attempts: 3,
        ..ServerConfig::default()
    };
    let (hub, storage) = start_with(dir.path(), Backend::Sqlite, config);
    let url = hub.url();
    let client = client();
    let scope = Scope::parse(VILLAGE_A).expect("scope");
    let mut laptop = open(dir.path(), "A村");
    for _ in 0..3 {
        assert!(matches!(
            client.enrol(&mut laptop, &url, "ZZZZ-ZZZZ-ZZZZ"),
            Err(HubError::BadCode { .. })
        ));
    }
    // The fourth attempt is refused before the code is looked at, the right code too.
    let code = storage.issue_code(&scope).expect("code");
    let limited = client.enrol(&mut laptop, &url, &code);
    let Err(HubError::TooManyAttempts { retry_after_s }) = limited else {
        panic!("{limited:?}");
    };
    assert!((590..=600).contains(&retry_after_s), "{retry_after_s}");
    let message = HubError::TooManyAttempts { retry_after_s }.message_zh();
    assert!(message.contains("10 分钟后再试"), "{message}");

    // Behind a reverse proxy on the hub's machine, the address the proxy adds is counted:
    // another client there has its own attempts; a forged first entry changes nothing.
    let enrol_from = |forwarded: &str, code: &str| {
        agent()
            .post(format!("{url}{}", wire::ENROL))
            .header("X-Forwarded-For", forwarded)
            .send_json(serde_json::json!({"code": code, "device_name": "B村"}))
            .map(|r| r.status().as_u16())
            .expect("request")
    };
    assert_eq!(enrol_from("203.0.113.9", &code), 200);
    assert_eq!(enrol_from("127.0.0.1, 203.0.113.9", "ZZZZ-ZZZZ-ZZZZ"), 401);
    assert_eq!(enrol_from("203.0.113.9", "ZZZZ-ZZZZ-ZZZZ"), 401);
    assert_eq!(enrol_from("203.0.113.9", "ZZZZ-ZZZZ-ZZZZ"), 429);
}

/// Reads what the server sends until it closes the connection or `limit` passes.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).expect("read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_slow_client_is_cut_off_and_does_not_hold_the_hub() {
    let dir = scratch();
    let config = ServerConfig {
        header_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        ..generous()
    };
    let (hub, storage) = start_with(dir.path(), Backend::Sqlite, config);
    let url = hub.url();
    let mut laptop = open(dir.path(), "A村");
    let client = enrol(&mut laptop, &url, &storage, VILLAGE_A);
    let token = laptop.hub_link().expect("link").expect("enrolled").token;

    // Headers that never end: the connection is closed after the header timeout.
    let mut slow_headers = TcpStream::connect(hub.addr).expect("connect");
    slow_headers
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: hub\r\n")
        .expect("send");
    // A body that never comes: answered 408 after the request timeout.
    let mut slow_body = TcpStream::connect(hub.addr).expect("connect");
    let origin = laptop.device().id;
    let head = format!(
        "POST /v1/push?origin={origin} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nBANGFUCS"
    );
    slow_body.write_all(head.as_bytes()).expect("send");
    // Many idle connections at once: each is cut off the same way.
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(hub.addr).expect("connect"))
        .collect();

    // Meanwhile the hub serves others at once.
    let started = Instant::now();
    let (family_changes, _, _) = family(Uuid::now_v7(), "530828101201001");
    write(&mut laptop, &family_changes);
    sync(&client, &mut laptop);
    let served = started.elapsed();

    let (headers_reply, headers_after) =
        read_until_closed(&mut slow_headers, Duration::from_secs(5));
    let (body_reply, body_after) = read_until_closed(&mut slow_body, Duration::from_secs(5));
    let mut idle_closed = 0;
    for mut c in idle {
        let (_, after) = read_until_closed(&mut c, Duration::from_secs(3));
        if after < Duration::from_secs(2) {
            idle_closed += 1;
        }
    }
    eprintln!(
        "sync while stalled: {served:?}; slow headers closed after {headers_after:?} ({:?}); \
         slow body answered after {body_after:?}; idle connections closed: {idle_closed}/20",
        headers_reply.lines().next()
    );
    assert!(served < Duration::from_secs(5), "{served:?}");
    assert!(headers_after < Duration::from_secs(3), "{headers_after:?}");
    assert!(!headers_reply.contains(" 200 "), "{headers_reply}");
    assert!(body_reply.starts_with("HTTP/1.1 408"), "{body_reply}");
    assert!(body_reply.contains("timeout"), "{body_reply}");
    assert!(body_after < Duration::from_secs(4), "{body_after:?}");
    assert_eq!(idle_closed, 20);
    assert_eq!(
        storage.counts().expect("counts").ops,
        laptop.op_count().expect("ops"),
        "the hub holds the laptop's ops, and nothing of the slow push"
    );
}
