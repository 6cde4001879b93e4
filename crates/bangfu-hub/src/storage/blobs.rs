//! The archive's files on the hub (issue 17), over [`Db`] for both backends: which files an
//! attachment op names (`blob_ref`, filled as the ops are stored), the files themselves
//! (`blob`, once each), and who may push or pull one: a device whose scope holds a row that
//! names the file. A file is taken only when its bytes hash to its name and it is a kind the
//! archive takes; the hub never keeps a file no attachment names.

use bangfu_core::model::{FieldValue, Table};
use bangfu_core::sync::Op;
use uuid::Uuid;

use super::StorageError;
use super::scope_index::row_villages;
use super::sql::{Db, P};
use crate::scope::Scope;
pub use crate::wire::BlobPut;

/// Whether `op` sets the file an attachment names.
pub fn names_a_file(op: &Op) -> bool {
    op.table == Table::Attachment.code() && op.field == "sha256"
}

/// Notes the file an attachment op names (called for every op `store_op` stores; such ops are
/// never batched, see `scope_index::is_plain`).
pub fn note_ref(db: &mut dyn Db, op: &Op) -> Result<(), StorageError> {
    if !names_a_file(op) {
        return Ok(());
    }
    let FieldValue::Text(sha256) = &op.value else {
        return Ok(());
    };
    if !bangfu_core::archive::is_sha256_hex(sha256) {
        return Ok(());
    }
    db.exec(
        "INSERT INTO blob_ref (sha256, row) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &[P::Text(sha256), P::uuid(&op.row)],
    )?;
    Ok(())
}

/// Whether a row of `scope` names the file.
fn named_in(db: &mut dyn Db, scope: &Scope, sha256: &str) -> Result<bool, StorageError> {
    let rows = db.rows(
        "SELECT row FROM blob_ref WHERE sha256 = ?1",
        &[P::Text(sha256)],
    )?;
    for r in rows {
        let row: Uuid = r.uuid(0)?;
        if row_villages(db, row)?.own.iter().any(|v| scope.contains(v)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn held(db: &mut dyn Db, sha256: &str) -> Result<bool, StorageError> {
    Ok(db.one_int(
        "SELECT count(*) FROM blob WHERE sha256 = ?1",
        &[P::Text(sha256)],
    )? > 0)
}

/// Of `hashes`, those the hub does not hold, as a device of `scope` may learn it: a file no row
/// of the scope names is answered "missing" whether the hub holds it or not (its push then
/// gets `not_named`), so a device that knows a hash learns nothing of other villages' files.
pub fn missing(
    db: &mut dyn Db,
    scope: &Scope,
    hashes: &[String],
) -> Result<Vec<String>, StorageError> {
    let mut out = Vec::new();
    for sha256 in hashes {
        if bangfu_core::archive::is_sha256_hex(sha256)
            && (!held(db, sha256)? || !named_in(db, scope, sha256)?)
        {
            out.push(sha256.clone());
        }
    }
    Ok(out)
}

/// Keeps a pushed file, once.
pub fn put(
    db: &mut dyn Db,
    scope: &Scope,
    sha256: &str,
    bytes: &[u8],
    now_ms: i64,
) -> Result<BlobPut, StorageError> {
    if bangfu_core::sync::changeset::check_carried_file(sha256, bytes).is_err() {
        return Ok(BlobPut::Refused);
    }
    // Scope first: a device learns whether the hub holds a file only for files its own
    // village's attachments name.
    if !named_in(db, scope, sha256)? {
        return Ok(BlobPut::NotNamed);
    }
    if held(db, sha256)? {
        return Ok(BlobPut::AlreadyHeld);
    }
    db.exec(
        "INSERT INTO blob (sha256, size, bytes, added_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        &[
            P::Text(sha256),
            P::Int(bytes.len() as i64),
            P::Bytes(bytes),
            P::Int(now_ms),
        ],
    )?;
    Ok(BlobPut::Stored)
}

/// A held file for a device of `scope`; `None` when the hub lacks it or no row of the scope
/// names it (the two are not told apart: a device learns nothing of other villages' files).
pub fn get(db: &mut dyn Db, scope: &Scope, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
    if !bangfu_core::archive::is_sha256_hex(sha256) || !named_in(db, scope, sha256)? {
        return Ok(None);
    }
    let row = db.row(
        "SELECT bytes FROM blob WHERE sha256 = ?1",
        &[P::Text(sha256)],
    )?;
    match row {
        Some(r) => Ok(r.opt_bytes(0)?),
        None => Ok(None),
    }
}
