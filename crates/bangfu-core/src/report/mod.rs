//! Village and township figures, exit readiness and the data-quality (疑点) list.

pub mod figures;
pub mod overview;
pub mod quality;
pub mod readiness;
pub mod stats;
pub mod year;
pub mod year_status;

/// A scratch data file holding the demo village, for the figures' tests.
#[cfg(test)]
pub(crate) fn demo_store() -> (tempfile::TempDir, crate::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let options = crate::store::OpenOptions {
        identity_dir: Some(dir.path().join("r")),
        ..Default::default()
    };
    let mut store = crate::store::Store::open(dir.path().join("a.sqlite"), &options).unwrap();
    crate::demo::write_demo_village(&mut store).unwrap();
    (dir, store)
}
