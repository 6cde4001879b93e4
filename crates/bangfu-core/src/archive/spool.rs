//! The files a changeset brings, set aside while the import reads the file: each checked
//! (hash, size, kind) as it passes and written to an anonymous temporary file, then kept in
//! the import's own transaction after the file's checksums hold. So an import holds at most
//! one file in memory, and a file refused for any defect keeps none of them.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};

use rusqlite::Connection;

use super::{MediaType, blobs};
use crate::store::StoreError;

/// Files read from a changeset, waiting for its import to commit.
#[derive(Debug)]
pub struct BlobSpool {
    /// The hashes worth keeping: those this copy lacks. Others are only checked.
    wanted: HashSet<String>,
    file: Option<std::fs::File>,
    /// (hash, kind, offset in the file, length) of each file set aside.
    entries: Vec<(String, MediaType, u64, u64)>,
    end: u64,
}

impl BlobSpool {
    pub fn new(wanted: impl IntoIterator<Item = String>) -> BlobSpool {
        BlobSpool {
            wanted: wanted.into_iter().collect(),
            file: None,
            entries: Vec::new(),
            end: 0,
        }
    }

    /// Whether a file of this hash is to be kept.
    pub fn wants(&self, sha256: &str) -> bool {
        self.wanted.contains(sha256)
    }

    /// Sets a checked file aside (once per hash).
    pub fn set_aside(
        &mut self,
        sha256: &str,
        media: MediaType,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        if !self.wanted.remove(sha256) {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.seek(SeekFrom::Start(self.end))?;
        file.write_all(bytes)?;
        self.entries
            .push((sha256.to_owned(), media, self.end, bytes.len() as u64));
        self.end += bytes.len() as u64;
        Ok(())
    }

    /// How many files are set aside.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps every file set aside in the blob table, inside the caller's transaction; how
    /// many were new to this copy.
    pub fn keep_all(&mut self, conn: &Connection, now_ms: u64) -> Result<u64, StoreError> {
        let Some(file) = &mut self.file else {
            return Ok(0);
        };
        let mut kept = 0;
        let mut bytes = Vec::new();
        for (sha256, media, offset, len) in &self.entries {
            bytes.clear();
            file.seek(SeekFrom::Start(*offset)).map_err(spool_error)?;
            (&mut *file)
                .take(*len)
                .read_to_end(&mut bytes)
                .map_err(spool_error)?;
            if bytes.len() as u64 != *len {
                return Err(spool_error(std::io::ErrorKind::UnexpectedEof.into()));
            }
            if blobs::keep(conn, sha256, *media, &bytes, now_ms)? {
                kept += 1;
            }
        }
        Ok(kept)
    }
}

fn spool_error(e: std::io::Error) -> StoreError {
    StoreError::TempFile(e.to_string())
}
