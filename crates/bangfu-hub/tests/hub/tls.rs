//! HTTPS with rustls: the real `bangfu-hub` binary given `--cert/--key` serves a client that
//! trusts the certificate, and refuses to be trusted by one that does not.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bangfu_hub::HubError;
use bangfu_hub::client::{ClientConfig, HubClient};
use bangfu_hub::storage::HubStorage;
use bangfu_hub::{Scope, SqliteStorage};

use crate::common::*;

#[test]
fn the_hub_serves_https_to_clients_that_trust_its_certificate() {
    let dir = scratch();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let cert_pem = cert.cert.pem();
    let (cert_path, key_path) = (dir.path().join("hub.crt"), dir.path().join("hub.key"));
    std::fs::write(&cert_path, &cert_pem).expect("write cert");
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).expect("write key");
    let data = dir.path().join("hub");
    let storage = SqliteStorage::open(&data).expect("storage");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0", "--cert"])
        .arg(&cert_path)
        .arg("--key")
        .arg(&key_path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("address");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();

    let scope = Scope::parse(VILLAGE_A).expect("scope");
    let mut store = open(dir.path(), "A村");
    let untrusting = HubClient::new(ClientConfig::default());
    let refused = untrusting.enrol(&mut store, &url, &storage.issue_code(&scope).expect("code"));
    let trusting = HubClient::new(ClientConfig {
        extra_roots_pem: Some(cert_pem.into_bytes()),
        ..Default::default()
    });
    let enrolled = trusting.enrol(&mut store, &url, &storage.issue_code(&scope).expect("code"));
    let synced = trusting.sync_once(&mut store);
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("https://"), "{line}");
    assert!(
        matches!(refused, Err(HubError::Unreachable(_))),
        "{refused:?}"
    );
    assert_eq!(enrolled.ok().as_deref(), Some(VILLAGE_A));
    assert!(synced.is_ok(), "{synced:?}");
}
