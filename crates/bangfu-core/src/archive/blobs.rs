//! The archive's files in this copy: the local `blob` table, one row per SHA-256 whatever the
//! number of attachments naming it. Every file is checked (hash, size, kind) before it is kept,
//! and checked against its hash again when it is read back out.

use rusqlite::{Connection, OptionalExtension, params};

use super::{ArchiveError, MediaType, check_file, sha256_hex};
use crate::store::{Store, StoreError};

/// Keeps `bytes` under `sha256` unless this copy already holds that file; whether it was new.
/// The caller has checked the hash and the kind.
pub(crate) fn keep(
    conn: &Connection,
    sha256: &str,
    media: MediaType,
    bytes: &[u8],
    now_ms: u64,
) -> Result<bool, StoreError> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO blob (sha256, media_type, size, bytes, added_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            sha256,
            media.mime(),
            bytes.len() as i64,
            bytes,
            now_ms as i64
        ],
    )?;
    Ok(added == 1)
}

/// Checks a file (size, kind) and keeps it; its hash, kind and whether it was new.
pub(crate) fn check_and_keep(
    store: &mut Store,
    bytes: &[u8],
) -> Result<(String, MediaType, bool), ArchiveError> {
    let media = check_file(bytes)?;
    let sha256 = sha256_hex(bytes);
    let now = store.wall_ms();
    let new = store.write_local(|conn| keep(conn, &sha256, media, bytes, now))?;
    Ok((sha256, media, new))
}

/// Whether this copy holds the file named `sha256`.
pub fn holds_blob(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM blob WHERE sha256 = ?1)",
        [sha256],
        |r| r.get(0),
    )?)
}

/// Of `hashes`, those this copy does not hold, in the order given.
pub fn missing_blobs<'a>(
    conn: &Connection,
    hashes: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for sha256 in hashes {
        if !holds_blob(conn, sha256)? {
            out.push(sha256.to_owned());
        }
    }
    Ok(out)
}

/// The bytes and kind of a held file, `None` when this copy lacks it. Not re-hashed: for
/// export, where the receiver checks every hash.
pub(crate) fn read_raw(
    conn: &Connection,
    sha256: &str,
) -> Result<Option<(MediaType, Vec<u8>)>, StoreError> {
    let row: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT media_type, bytes FROM blob WHERE sha256 = ?1",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(mime, bytes)| MediaType::from_mime(&mime).map(|m| (m, bytes))))
}

/// The bytes of the file named `sha256`, checked against the name before they are handed out.
pub fn blob_bytes(store: &Store, sha256: &str) -> Result<(MediaType, Vec<u8>), ArchiveError> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    let (media, bytes) =
        read_raw(store.conn(), &sha256)?.ok_or_else(|| ArchiveError::FileNotHeld {
            sha256: sha256.clone(),
        })?;
    if sha256_hex(&bytes) != sha256 {
        return Err(ArchiveError::HeldFileDamaged { sha256 });
    }
    Ok((media, bytes))
}

/// [`blob_bytes`] for a person who saves a file out (the window, `bangfu archive get`): scans
/// of signed forms carry full 证件号码, so they go only to those the household page shows full
/// numbers to ([`Store::page_shows_full_ids`]); a 只读 inspector is refused. Sync reads the
/// bytes with [`blob_bytes`] whoever is signed in.
pub fn blob_bytes_for_person(
    store: &Store,
    sha256: &str,
) -> Result<(MediaType, Vec<u8>), ArchiveError> {
    if store
        .require(crate::access::Permission::FileHouseholds)
        .is_err()
    {
        store.require(crate::access::Permission::SeeFullIds)?;
    }
    blob_bytes(store, sha256)
}

/// How many files this copy holds and their bytes.
pub fn held_totals(conn: &Connection) -> Result<(u64, u64), StoreError> {
    Ok(conn.query_row(
        "SELECT count(*), coalesce(sum(size), 0) FROM blob",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?)
}

/// The held file whose hash starts with `prefix` (at least 8 hex digits), when exactly one does.
pub fn find_blob(store: &Store, prefix: &str) -> Result<Option<String>, StoreError> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut stmt = store
        .conn()
        .prepare("SELECT sha256 FROM blob WHERE substr(sha256, 1, ?2) = ?1 LIMIT 2")?;
    let found: Vec<String> = stmt
        .query_map(params![prefix, prefix.len() as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(if found.len() == 1 {
        found.into_iter().next()
    } else {
        None
    })
}

/// The files live attachments of this copy name: those it holds (`held`) or those it lacks,
/// each once. What a hub sync offers and asks for.
pub fn named_files(store: &Store, held: bool) -> Result<Vec<String>, StoreError> {
    let sql = if held {
        "SELECT DISTINCT a.sha256 FROM attachment a JOIN blob b ON b.sha256 = a.sha256
         WHERE a.deleted = 0 ORDER BY a.sha256"
    } else {
        "SELECT DISTINCT a.sha256 FROM attachment a
         WHERE a.deleted = 0 AND a.sha256 IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.sha256 = a.sha256)
         ORDER BY a.sha256"
    };
    let mut stmt = store.conn().prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|h| super::is_sha256_hex(h))
        .collect())
}

/// Keeps a file received from elsewhere (the hub) under the name it was asked for: refused
/// unless its bytes hash to that name and it is a kind the archive takes. Whether it was new.
pub fn receive_file(store: &mut Store, sha256: &str, bytes: &[u8]) -> Result<bool, ArchiveError> {
    let media = check_file(bytes)?;
    if sha256_hex(bytes) != sha256 {
        return Err(ArchiveError::HeldFileDamaged {
            sha256: sha256.to_owned(),
        });
    }
    let now = store.wall_ms();
    Ok(store.write_local(|conn| keep(conn, sha256, media, bytes, now))?)
}
