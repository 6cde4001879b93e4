//! What the black-box tests share: stores in a scratch folder with their own identity registry.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use bangfu_core::store::{OpenOptions, Store};

/// A scratch folder, in memory when the machine has /dev/shm (these tests fsync a lot).
pub fn scratch() -> tempfile::TempDir {
    if Path::new("/dev/shm").is_dir()
        && let Ok(dir) = tempfile::tempdir_in("/dev/shm")
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

pub fn open_at(dir: &Path, name: &str, clock_ms: u64) -> Store {
    let options = OpenOptions {
        identity_dir: Some(dir.join("registry")),
        device_name: Some(name.to_owned()),
        fixed_clock_ms: Some(clock_ms),
        // Every copy in these topologies is encrypted, as every real one is.
        key: Some(test_key()),
    };
    Store::open(db_path(dir, name), &options).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

/// The data key of the test copies (from a fixed recovery code: no slow key derivation).
pub fn test_key() -> bangfu_core::store::DataKey {
    bangfu_core::store::RecoveryCode::parse(
        "100000-200000-300000-400000-500000-600000-700000-800000",
    )
    .expect("test recovery code")
    .data_key()
}

pub fn db_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.sqlite"))
}

/// A valid resident ID from its first 17 characters (the check character computed by the
/// core's own rule).
#[allow(dead_code)] // Not every test file files people.
pub fn id_number(prefix17: &str) -> String {
    let check = bangfu_core::validate::resident_id::check_character(prefix17)
        .unwrap_or_else(|| panic!("{prefix17} is not 17 digits"));
    format!("{prefix17}{check}")
}

/// The 联系电话 a household shows (the greatest, should it be there twice), read with SQL.
// Not every test binary that includes this module reads phones.
#[allow(dead_code)]
pub fn phone_of(store: &Store, id: uuid::Uuid) -> Option<String> {
    store
        .sql()
        .unwrap()
        .query_row(
            "SELECT max(phone) FROM household WHERE id = ?1",
            [id.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap()
}

/// The 备注 a household shows, read with SQL.
#[allow(dead_code)]
pub fn remark_of(store: &Store, id: uuid::Uuid) -> Option<String> {
    store
        .sql()
        .unwrap()
        .query_row(
            "SELECT max(remark) FROM household WHERE id = ?1",
            [id.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap()
}

/// Fills what a step needs beyond its own form: every signer role of the step named (the
/// seed's titles) and, for 村评议公示, the 民主评议 the day before its notice (40 took part,
/// 36 agreed).
#[allow(dead_code)] // Only the tests that record exit steps use it.
pub fn signed_and_reviewed(r: &mut bangfu_core::exit::StepRecord) {
    use bangfu_core::exit::procedure::Signer;
    let roles = bangfu_core::exit::forms::signer_roles(r.step);
    if !roles.is_empty() {
        r.signers = Some(
            roles
                .iter()
                .map(|role| Signer {
                    role: (*role).into(),
                    name: format!("{role}签字人"),
                })
                .collect(),
        );
    }
    if r.step == bangfu_core::exit::Step::PublicNotice {
        r.review_date = r.notice_start.and_then(|d| d.pred_opt());
        r.review_attendance = Some(40);
        r.review_agreed = Some(36);
    }
}
