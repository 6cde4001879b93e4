//! The hub's hardening beyond enrolment (see `enrolment.rs`): request timeouts, a bound on how
//! far a push inflates, the admin credential, the quarantine of a revoked device's ops, and a
//! data folder for the hub's user alone.

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
        snapshot: None,
        held: None,
        signers: None,
        batches: None,
        seal_keys: None,
        blobs: None,
        parts: None,
        source_sig: None,
        county_certs: None,
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

/// An admin request: (status, JSON body).
fn admin_call(
    url: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let reply = match body {
        Some(body) => {
            let mut req = agent().post(format!("{url}{path}"));
            if let Some(auth) = &auth {
                req = req.header("Authorization", auth);
            }
            req.send_json(body)
        }
        None => {
            let mut req = agent().get(format!("{url}{path}"));
            if let Some(auth) = &auth {
                req = req.header("Authorization", auth);
            }
            req.call()
        }
    };
    let mut reply = reply.expect("request");
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

crate::on_both_backends!(the_admin_acts_over_http_only_with_the_admin_credential);
fn the_admin_acts_over_http_only_with_the_admin_credential(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_with(dir.path(), backend, generous());
    let url = hub.url();
    let code_request = serde_json::json!({"scope": VILLAGE_A, "valid_days": 3});

    // Before `init` there is no credential: nothing an admin does is allowed.
    let (status, body) = admin_call(
        &url,
        wire::ADMIN_CODES,
        Some("x"),
        Some(code_request.clone()),
    );
    assert_eq!(
        (status, body["kind"].as_str()),
        (401, Some("admin_not_set"))
    );

    let admin = storage
        .create_admin_token(false)
        .expect("init")
        .expect("a new credential");
    assert_eq!(storage.create_admin_token(false).expect("init again"), None);

    let mut laptop = open(dir.path(), "A村");
    let client = enrol(&mut laptop, &url, &storage, VILLAGE_A);
    let device_token = laptop.hub_link().expect("link").expect("enrolled").token;
    let requests: [(&str, Option<serde_json::Value>); 4] = [
        (wire::ADMIN_CODES, Some(code_request.clone())),
        (wire::ADMIN_DEVICES, None),
        (wire::ADMIN_HELD, None),
        (wire::ADMIN_REVOKE, Some(serde_json::json!({"device": 1}))),
    ];
    // No credential, a wrong one, a device's token: refused, and nothing happens.
    for (path, body) in &requests {
        for token in [None, Some("bfadmin-0000"), Some(device_token.as_str())] {
            let (status, reply) = admin_call(&url, path, token, body.clone());
            assert_eq!(
                (status, reply["kind"].as_str()),
                (401, Some("admin_unauthorized")),
                "{path} with {token:?}"
            );
        }
    }
    assert!(
        client.sync_once(&mut laptop).is_ok(),
        "the device was not revoked"
    );

    // With the credential: a code for 3 days, the device list, revoke, the held list.
    let (status, issued) = admin_call(&url, wire::ADMIN_CODES, Some(&admin), Some(code_request));
    assert_eq!(status, 200, "{issued}");
    let expires = issued["expires_ms"].as_i64().unwrap_or_default();
    let days = (expires - bangfu_hub::storage::now_ms()) as f64 / 86_400_000.0;
    assert!((2.99..=3.0).contains(&days), "{days}");
    let mut second = open(dir.path(), "A村-2");
    let code = issued["code"].as_str().unwrap_or_default();
    assert_eq!(
        client.enrol(&mut second, &url, code).ok().as_deref(),
        Some(VILLAGE_A)
    );
    let (status, list) = admin_call(&url, wire::ADMIN_DEVICES, Some(&admin), None);
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .map(|l| l.iter().filter_map(|d| d["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["A村", "A村-2"]);
    let first = list[0]["id"].as_i64().unwrap_or_default();
    let (status, revoked) = admin_call(
        &url,
        wire::ADMIN_REVOKE,
        Some(&admin),
        Some(serde_json::json!({"device": first})),
    );
    assert_eq!((status, revoked["revoked"].as_bool()), (200, Some(true)));
    assert!(matches!(
        client.sync_once(&mut laptop),
        Err(HubError::Revoked)
    ));
    let (status, held) = admin_call(&url, wire::ADMIN_HELD, Some(&admin), None);
    assert_eq!((status, held.is_array()), (200, true));
    let bad_days = serde_json::json!({"scope": VILLAGE_A, "valid_days": 365});
    assert_eq!(
        admin_call(&url, wire::ADMIN_CODES, Some(&admin), Some(bad_days)).0,
        400
    );

    // A new credential replaces the old one.
    let rotated = storage
        .create_admin_token(true)
        .expect("rotate")
        .expect("a new credential");
    assert_eq!(
        admin_call(&url, wire::ADMIN_DEVICES, Some(&admin), None).0,
        401
    );
    assert_eq!(
        admin_call(&url, wire::ADMIN_DEVICES, Some(&rotated), None).0,
        200
    );
}

/// Runs the `bangfu-hub` command: (succeeded, stdout, stderr).
fn hub_command(args: &[String], env_token: Option<&str>) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bangfu-hub"));
    command.args(args).env_remove("BANGFU_HUB_ADMIN_TOKEN");
    if let Some(token) = env_token {
        command.env("BANGFU_HUB_ADMIN_TOKEN", token);
    }
    let out = command.output().expect("run bangfu-hub");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

crate::on_both_backends!(the_admin_commands_need_the_admin_credential);
fn the_admin_commands_need_the_admin_credential(backend: Backend) {
    let dir = scratch();
    let location = location(dir.path(), backend);
    let data = crate::hub::resilience::data_args(&location);
    let with = |more: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec![more[0].to_owned()];
        args.extend(data.iter().cloned());
        args.extend(more[1..].iter().map(|s| (*s).to_owned()));
        args
    };
    let enrol_args = with(&["enrol", "--scope", VILLAGE_A, "--days", "2"]);

    let (ok, _, err) = hub_command(&enrol_args, Some("anything"));
    assert!(!ok && err.contains("bangfu-hub init"), "{err}");
    let (ok, admin, err) = hub_command(&with(&["init"]), None);
    assert!(ok && admin.starts_with("bfadmin-"), "{admin} {err}");
    let (ok, _, err) = hub_command(&with(&["init"]), None);
    assert!(!ok && err.contains("已有管理员口令"), "{err}");

    // Without the credential, or with a wrong one: refused, and no code is made.
    let (ok, _, err) = hub_command(&enrol_args, None);
    assert!(!ok && err.contains("需要管理员口令"), "{err}");
    let (ok, _, err) = hub_command(&enrol_args, Some("bfadmin-0000"));
    assert!(!ok && err.contains("管理员口令不对"), "{err}");
    for cmd in [&["devices"][..], &["held"], &["revoke", "--device", "1"]] {
        let (ok, _, err) = hub_command(&with(cmd), None);
        assert!(!ok && err.contains("需要管理员口令"), "{cmd:?}: {err}");
    }

    // With it (in the environment, or in a file): the code works, the lists answer.
    let (ok, code, err) = hub_command(&enrol_args, Some(&admin));
    assert!(ok, "{err}");
    assert!(err.contains("2 天内有效"), "{err}");
    let token_file = dir.path().join("admin.token");
    std::fs::write(&token_file, format!("{admin}\n")).expect("write token file");
    let mut devices_args = with(&["devices", "--admin-token-file"]);
    devices_args.push(token_file.display().to_string());
    let storage = location.open(2).expect("storage");
    let hub = RunningHub::start_with(bind("127.0.0.1:0").expect("bind"), storage, generous())
        .expect("start");
    let mut laptop = open(dir.path(), "A村");
    client()
        .enrol(&mut laptop, &hub.url(), &code)
        .expect("the command's code enrols");
    let (ok, list, err) = hub_command(&devices_args, None);
    assert!(ok && list.contains("A村"), "{list} {err}");
    let (ok, _, err) = hub_command(&with(&["held"]), Some(&admin));
    assert!(ok, "{err}");

    // Rotating needs the current credential; the old one then stops working.
    let (ok, _, err) = hub_command(&with(&["init", "--rotate"]), Some("bfadmin-0000"));
    assert!(!ok && err.contains("管理员口令不对"), "{err}");
    let (ok, rotated, err) = hub_command(&with(&["init", "--rotate"]), Some(&admin));
    assert!(
        ok && rotated.starts_with("bfadmin-") && rotated != admin,
        "{err}"
    );
    let (ok, _, _) = hub_command(&with(&["devices"]), Some(&admin));
    assert!(!ok);
    let (ok, _, err) = hub_command(&with(&["devices"]), Some(&rotated));
    assert!(ok, "{err}");
}

crate::on_both_backends!(a_revoked_devices_later_ops_are_quarantined_not_merged_not_lost);
fn a_revoked_devices_later_ops_are_quarantined_not_merged_not_lost(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_with(dir.path(), backend, generous());
    let url = hub.url();
    let va = village(VILLAGE_A);
    let mut county = open(dir.path(), "县");
    let county_client = enrol(&mut county, &url, &storage, COUNTY);
    write(&mut county, &[bangfu_core::store::put_change(&va)]);
    sync(&county_client, &mut county);
    let mut laptop = open(dir.path(), "A村");
    let client = enrol(&mut laptop, &url, &storage, VILLAGE_A);
    sync(&client, &mut laptop);
    let merged_before = storage.counts().expect("counts").ops;

    // The laptop is lost; the county revokes it; whoever holds it writes and syncs.
    let id = storage
        .devices()
        .expect("devices")
        .into_iter()
        .find(|d| d.name == "A村")
        .map(|d| d.id)
        .expect("device");
    assert!(storage.revoke(id).expect("revoke"));
    let (changes, household, _) = family(va.id, "530828101201001");
    let seq_before = laptop.own_last_seq_in_file().expect("seq");
    write(&mut laptop, &changes);
    let written = laptop.own_last_seq_in_file().expect("seq") - seq_before;
    assert!(written >= 3, "{written}");
    let synced = client.sync_once(&mut laptop);
    assert!(matches!(synced, Err(HubError::Revoked)), "{synced:?}");
    let message = synced.err().map(|e| e.message_zh()).unwrap_or_default();
    assert!(message.contains("暂存待核查"), "{message}");

    // Not merged: the hub's log and the county's copy do not have them.
    assert_eq!(storage.counts().expect("counts").ops, merged_before);
    sync(&county_client, &mut county);
    assert!(!rows(&county, "household").contains(&household));
    // Not lost: every op is kept, listed for the admin, once however often it is sent.
    let quarantined = |storage: &Arc<dyn HubStorage>| -> Vec<(i64, String)> {
        storage
            .held()
            .expect("held")
            .into_iter()
            .filter(|h| h.reason == "device_revoked")
            .map(|h| (h.seq, h.device))
            .collect()
    };
    let kept = quarantined(&storage);
    assert_eq!(kept.len() as i64, written);
    assert_eq!(
        metric_at(&url, "bangfu_hub_ops_quarantined_total"),
        written as f64
    );
    let _ = client.sync_once(&mut laptop);
    assert_eq!(quarantined(&storage), kept, "sent again: nothing twice");
    assert!(kept.iter().all(|(_, device)| device == "A村"));
    let seqs: Vec<i64> = kept.iter().map(|(seq, _)| *seq).collect();
    let first = seqs.first().copied().unwrap_or_default();
    assert_eq!(first, seq_before + 1);
    assert_eq!(seqs, (first..first + written).collect::<Vec<_>>());

    // A revoked token cannot open an origin it never pushed.
    let token = laptop.hub_link().expect("link").expect("enrolled").token;
    let mut reply = agent()
        .get(format!("{url}{}", wire::PUSH_CURSOR))
        .header("Authorization", &format!("Bearer {token}"))
        .query("origin", Uuid::now_v7().to_string())
        .call()
        .expect("request");
    let body = reply.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(reply.status().as_u16(), 401, "{body}");
    assert!(body.contains("revoked"), "{body}");

    // Reviewed and found good: the county gives the laptop a new code, and what was
    // quarantined reaches the log like any push.
    let code = storage
        .issue_code(&Scope::parse(VILLAGE_A).expect("scope"))
        .expect("code");
    client.enrol(&mut laptop, &url, &code).expect("enrol again");
    sync(&client, &mut laptop);
    sync(&county_client, &mut county);
    assert!(rows(&county, "household").contains(&household));
}

#[cfg(unix)]
#[test]
fn a_new_hub_folder_and_file_are_for_the_hubs_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let data = dir.path().join("hub");
    let _storage = bangfu_hub::SqliteStorage::open(&data).expect("storage");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("hub.sqlite")), 0o600);
}
