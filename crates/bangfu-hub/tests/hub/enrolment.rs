//! Enrolment hardening: codes expire, lock after five wrong tries and work once; attempts are
//! limited per address; the client refuses plain http:// to another computer.

use std::time::{Duration, Instant};

use bangfu_core::UserFacing;
use bangfu_hub::server::ServerConfig;
use bangfu_hub::{HubError, Scope, wire};

use crate::common::*;

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
    // Expired, 5 wrong, locked, unlike, used: 9 refusals for the operators' alerts.
    assert_eq!(metric_at(&url, "bangfu_hub_enrol_refused_total"), 9.0);
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
    // After three refusals the address is refused before its code is looked at, a right one
    // too.
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
    assert_eq!(enrol_from("203.0.113.9", "ZZZZ-ZZZZ-ZZZZ"), 401);
    assert_eq!(enrol_from("203.0.113.9", "ZZZZ-ZZZZ-ZZZZ"), 429);
    // Good codes are not counted: an office enrolling many laptops from one address is not
    // limited by its successes.
    for n in 0..5 {
        let code = storage.issue_code(&scope).expect("code");
        assert_eq!(
            enrol_from(&format!("198.51.100.{n}"), "ZZZZ-ZZZZ-ZZZZ"),
            401
        );
        assert_eq!(enrol_from("198.51.100.200", &code), 200, "good code {n}");
    }
}

/// A link kept by an earlier version may name plain http:// to another computer: the sync
/// refuses it before any request (the token would cross the network in the clear).
#[test]
fn a_kept_plain_http_link_to_another_computer_is_refused_before_any_request() {
    let dir = scratch();
    let (hub, storage) = start_with(dir.path(), Backend::Sqlite, generous());
    let mut laptop = open(dir.path(), "A村");
    let client = enrol(&mut laptop, &hub.url(), &storage, VILLAGE_A);
    let link = laptop.hub_link().expect("link").expect("enrolled");
    laptop
        .set_hub_link("http://192.0.2.7:8717", &link.token, &link.scope)
        .expect("old link");
    let started = Instant::now();
    let refused = client.sync_once(&mut laptop);
    assert!(
        matches!(refused, Err(HubError::InsecureUrl(_))),
        "{refused:?}"
    );
    // 192.0.2.7 is a documentation address: a request would wait for the timeout.
    assert!(started.elapsed() < Duration::from_secs(1));
    let message = refused.err().map(|e| e.message_zh()).unwrap_or_default();
    assert!(message.contains("https://"), "{message}");
    let mut other = open(dir.path(), "B村");
    let code = storage
        .issue_code(&Scope::parse(VILLAGE_B).expect("scope"))
        .expect("code");
    let refused = client.enrol(&mut other, "http://sync.example.gov.cn", &code);
    assert!(
        matches!(refused, Err(HubError::InsecureUrl(_))),
        "{refused:?}"
    );
    assert!(
        client.enrol(&mut other, &hub.url(), &code).is_ok(),
        "the code was not spent"
    );
}
