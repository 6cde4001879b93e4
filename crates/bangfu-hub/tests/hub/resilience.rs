//! Interrupted syncs: a connection cut in the middle of an upload, and the real `bangfu-hub`
//! process killed mid-sync and restarted. Afterwards nothing is lost and nothing doubled.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bangfu_core::store::Store;
use bangfu_core::sync::digest::state_hash;
use bangfu_hub::HubError;
use bangfu_hub::storage::{HubStorage, Location};

use crate::common::*;

/// A loopback proxy that forwards to `target` and, once, cuts the connection after `budget`
/// bytes have gone upstream. Later connections pass untouched.
fn cutting_proxy(target: std::net::SocketAddr, budget: i64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let budget = Arc::new(AtomicI64::new(budget));
    std::thread::spawn(move || {
        // Bounded: a test opens a few dozen connections at most.
        for client in listener.incoming().take(200).flatten() {
            let Ok(server) = TcpStream::connect(target) else {
                continue;
            };
            let budget = budget.clone();
            let (mut c_read, mut s_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let left = budget.load(Ordering::SeqCst);
                    if left > 0 && left <= n as i64 {
                        let _ = s_write.write_all(&buf[..left as usize]);
                        budget.store(-1, Ordering::SeqCst);
                        let _ = s_write.shutdown(Shutdown::Both);
                        let _ = c_read.shutdown(Shutdown::Both);
                        return;
                    }
                    if left > 0 {
                        budget.fetch_sub(n as i64, Ordering::SeqCst);
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Both);
            });
        }
    });
    format!("http://{addr}")
}

/// A village's worth of generated data (one village, its cadres) in a county-scope copy.
/// How many households the upload carries: on PostgreSQL half (a push there costs ~2 ms an
/// op against SQLite's ~0.2 ms, and the cuts and the kill need only several pages, not many).
fn households(backend: Backend, on_sqlite: usize) -> usize {
    match backend {
        Backend::Sqlite => on_sqlite,
        Backend::Postgres => on_sqlite / 2,
    }
}

fn generated(dir: &Path, name: &str, households: usize) -> Store {
    let mut store = open(dir, name);
    bangfu_core::demo::generate_county(&mut store, households, 7, &mut |_| {}).expect("generate");
    store
}

/// Pulls the whole county into a fresh copy and checks it equals `source`, and that the hub
/// holds each op once.
fn check_complete(
    dir: &Path,
    url: &str,
    storage: &Arc<dyn HubStorage>,
    source: &Store,
    name: &str,
) {
    let mut fresh = open(dir, name);
    let client = enrol(&mut fresh, url, storage, COUNTY);
    sync(&client, &mut fresh);
    assert_eq!(
        state_hash(&fresh).ok(),
        state_hash(source).ok(),
        "{name}: same state"
    );
    let counts = storage.counts().expect("counts");
    let ops = source.op_count().expect("ops");
    assert_eq!(
        (counts.ops, counts.pending_ops),
        (ops, 0),
        "{name}: each op once"
    );
}

crate::on_both_backends!(a_connection_cut_mid_upload_resumes_without_gaps_or_doubles);
fn a_connection_cut_mid_upload_resumes_without_gaps_or_doubles(backend: Backend) {
    let dir = scratch();
    let (hub, storage) = start_hub_on(dir.path(), backend);
    // Cut in the request head, in the first page's body, and several pages in.
    // (The PostgreSQL run uploads half as much: its last cut comes earlier.)
    let last = if backend == Backend::Sqlite {
        60_000
    } else {
        20_000
    };
    for (i, budget) in [100i64, 9_000, last].into_iter().enumerate() {
        let sub = dir.path().join(format!("case{i}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let (hub_i, storage_i) = if i == 0 {
            (None, storage.clone())
        } else {
            let (h, s) = start_hub_on(&sub, backend);
            (Some(h), s)
        };
        let url = hub_i.as_ref().map_or_else(|| hub.url(), |h| h.url());
        let addr = hub_i.as_ref().map_or(hub.addr, |h| h.addr);
        let mut device = generated(&sub, "县-笔记本", households(backend, 30));
        let client = enrol(&mut device, &url, &storage_i, COUNTY);
        let link = device.hub_link().ok().flatten().expect("link");
        device
            .set_hub_link(&cutting_proxy(addr, budget), &link.token, &link.scope)
            .expect("relink");
        let cut = client.sync_once(&mut device);
        assert!(
            matches!(cut, Err(HubError::Unreachable(_))),
            "budget {budget}: {cut:?}"
        );
        let stored = storage_i.counts().expect("counts").ops;
        assert!(
            stored < device.op_count().expect("ops"),
            "budget {budget}: cut before the end"
        );
        sync(&client, &mut device); // through the proxy, now passing
        sync(&client, &mut device); // and again: nothing more, nothing twice
        check_complete(&sub, &url, &storage_i, &device, "复核");
    }
}

/// The real hub binary, killed (SIGKILL) when dropped.
struct HubProcess(Child);

impl HubProcess {
    fn start(data: &[String], listen: &str) -> (HubProcess, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"))
            .args(data)
            .args(["--listen", listen])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn bangfu-hub");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read address");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(url.starts_with("http://"), "{line}");
        (HubProcess(child), url)
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The command-line arguments naming a hub's data at `location`.
pub fn data_args(location: &Location) -> Vec<String> {
    match location {
        Location::Dir(dir) => vec!["--data".into(), dir.display().to_string()],
        Location::Postgres(url) => vec!["--database".into(), url.clone()],
    }
}

crate::on_both_backends!(the_hub_process_killed_mid_sync_loses_nothing_it_acknowledged);
fn the_hub_process_killed_mid_sync_loses_nothing_it_acknowledged(backend: Backend) {
    let dir = scratch();
    let location = location(dir.path(), backend);
    let data = data_args(&location);
    let (hub, url) = HubProcess::start(&data, "127.0.0.1:0");
    let listen = url.trim_start_matches("http://").to_owned();
    let admin = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"))
        .arg("init")
        .args(&data)
        .output()
        .expect("init command");
    let admin = String::from_utf8_lossy(&admin.stdout).trim().to_owned();
    let code = Command::new(env!("CARGO_BIN_EXE_bangfu-hub"))
        .arg("enrol")
        .args(&data)
        .args(["--scope", COUNTY])
        .env("BANGFU_HUB_ADMIN_TOKEN", &admin)
        .output()
        .expect("enrol command");
    let code = String::from_utf8_lossy(&code.stdout).trim().to_owned();
    let mut device = generated(dir.path(), "县-笔记本", households(backend, 60));
    let total = device.op_count().expect("ops");
    let client = client();
    client.enrol(&mut device, &url, &code).expect("enrol");

    let watcher = location.open(2).expect("watch hub");
    let pushing = std::thread::spawn(move || {
        let result = client.sync_once(&mut device);
        (result, device, client)
    });
    // Kill the hub once part of the upload is committed, bounded in time.
    let started = Instant::now();
    while watcher.counts().map_or(0, |c| c.ops) == 0 && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(hub);
    let (result, mut device, client) = pushing.join().expect("push thread");
    let at_kill = watcher.counts().expect("counts").ops;
    assert!(result.is_err(), "the sync saw the hub die");
    assert!(
        0 < at_kill && at_kill < total,
        "killed mid-upload: {at_kill} of {total}"
    );

    let (_hub, url2) = HubProcess::start(&data, &listen);
    assert_eq!(url2, url, "restarted on the same address");
    sync(&client, &mut device);
    check_complete(dir.path(), &url, &watcher, &device, "复核");
}
