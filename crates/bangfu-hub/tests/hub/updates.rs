//! Updates offered by a hub over loopback (`bangfu-hub --packages DIR`): a signed release is
//! fetched and accepted; a package or description with a changed byte is refused and nothing
//! is kept; a hub without a release says so.

use std::path::Path;
use std::sync::Arc;

use bangfu_core::UserFacing;
use bangfu_core::update::{MANIFEST_FILE, SigningKey, sign_release};
use bangfu_hub::server::{RunningHub, ServerConfig, app, bind};
use bangfu_hub::storage::SqliteStorage;

use crate::common::{client, scratch};

fn hub_with_packages(dir: &Path) -> RunningHub {
    let storage = Arc::new(SqliteStorage::open(&dir.join("hub")).unwrap());
    let packages = dir.join("packages");
    std::fs::create_dir_all(&packages).unwrap();
    RunningHub::start_app(
        bind("127.0.0.1:0").unwrap(),
        app(storage, Some(packages), &ServerConfig::default()),
        ServerConfig::default(),
    )
    .unwrap()
}

/// Puts a release signed by `key` into the hub's packages folder; returns the package path.
fn offer(dir: &Path, key: &SigningKey) -> std::path::PathBuf {
    let package = dir.join("packages").join("bangfu_0.2.0_amd64.deb");
    std::fs::write(&package, vec![42u8; 100_000]).unwrap();
    let manifest = sign_release(key, &package, "0.2.0", &["从 U 盘恢复备份".into()]).unwrap();
    std::fs::write(dir.join("packages").join(MANIFEST_FILE), manifest).unwrap();
    package
}

#[test]
fn a_signed_release_from_the_hub_is_accepted() {
    let dir = scratch();
    let hub = hub_with_packages(dir.path());
    let key = SigningKey::from_bytes(&[3u8; 32]);
    offer(dir.path(), &key);
    let into = dir.path().join("fetched");
    let update = client()
        .fetch_update(&hub.url(), &into, &[key.verifying_key()], "0.1.0")
        .unwrap();
    assert!(update.newer);
    assert_eq!(update.release.changes, ["从 U 盘恢复备份"]);
    assert_eq!(
        std::fs::read(&update.package_path).unwrap(),
        vec![42u8; 100_000]
    );
    assert!(update.install_command.starts_with("sudo apt install"));
}

#[test]
fn a_release_with_a_changed_byte_on_the_hub_is_refused_and_not_kept() {
    let dir = scratch();
    let hub = hub_with_packages(dir.path());
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let package = offer(dir.path(), &key);
    let mut bytes = std::fs::read(&package).unwrap();
    bytes[50_000] = 43;
    std::fs::write(&package, &bytes).unwrap();
    let into = dir.path().join("fetched");
    let error = client()
        .fetch_update(&hub.url(), &into, &[key.verifying_key()], "0.1.0")
        .unwrap_err();
    assert_eq!(error.kind(), "update_package_changed");
    assert!(
        !into.join("bangfu_0.2.0_amd64.deb").exists(),
        "a refused package is not kept"
    );

    // A description signed by a key this program does not trust is refused before the package
    // is even fetched.
    offer(dir.path(), &SigningKey::from_bytes(&[4u8; 32]));
    let error = client()
        .fetch_update(&hub.url(), &into, &[key.verifying_key()], "0.1.0")
        .unwrap_err();
    assert_eq!(error.kind(), "update_bad_signature");
    assert!(error.message_zh().contains("签名不对"));
}

#[test]
fn a_hub_without_a_release_says_so() {
    let dir = scratch();
    let hub = hub_with_packages(dir.path());
    let error = client()
        .fetch_update(&hub.url(), &dir.path().join("f"), &[], "0.1.0")
        .unwrap_err();
    assert_eq!(error.kind(), "no_update");
}
