//! This copy's device identity, and the detection of a data file that was copied to another
//! place or restored from a backup, which must not keep writing under the old identity.
//!
//! Each machine keeps a small registry (one file per device identity, in the user's app-data
//! folder) with the data file's path and the highest seq written. A data file whose identity the
//! registry does not know, that another existing file claims, or that is behind the registry's
//! seq, takes a new identity before any write. The registry may lag (it is written after each
//! commit, without fsync): a lag only lowers the recorded seq, so it never causes a false alarm.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreError;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Registration {
    path: PathBuf,
    seq: i64,
}

/// Why a data file takes a new device identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityChange {
    /// The registry of this machine has never seen the identity: copied from another machine.
    UnknownHere,
    /// Another data file on this machine holds the same identity: a copy.
    CopiedFile,
    /// The file is behind what this identity already wrote: restored from a backup.
    RestoredBackup,
}

#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    pub fn new(dir: PathBuf) -> Registry {
        Registry { dir }
    }

    fn file(&self, device: Uuid) -> PathBuf {
        self.dir.join(format!("device-{}.json", device.simple()))
    }

    /// Decides whether `device`, found in the data file at `path` with `own_seq` written,
    /// may keep writing here.
    pub fn check(&self, device: Uuid, path: &Path, own_seq: i64) -> Option<IdentityChange> {
        let Ok(text) = std::fs::read_to_string(self.file(device)) else {
            return Some(IdentityChange::UnknownHere);
        };
        let Ok(reg) = serde_json::from_str::<Registration>(text.trim_end()) else {
            return Some(IdentityChange::UnknownHere);
        };
        if reg.path != path && reg.path.exists() {
            return Some(IdentityChange::CopiedFile);
        }
        if reg.seq > own_seq {
            return Some(IdentityChange::RestoredBackup);
        }
        None
    }

    pub fn record(&self, device: Uuid, path: &Path, seq: i64) -> Result<(), StoreError> {
        use std::io::Write;
        let file = self.file(device);
        let io = |source| StoreError::Identity {
            path: file.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let mut text = serde_json::to_string(&Registration {
            path: path.to_path_buf(),
            seq,
        })
        .unwrap_or_default();
        // Written in place at a fixed length, without truncating or renaming: this runs after
        // every commit, and ext4 flushes a file that is replaced or truncated. A torn write
        // fails to parse, which only makes the next open take a new identity (the safe side).
        let width = text.len().max(RECORD_WIDTH);
        text.extend(std::iter::repeat_n(' ', width - text.len()));
        // Only a longer earlier record (an unusually long path) needs cutting back.
        let longer_before = std::fs::metadata(&file).is_ok_and(|m| m.len() as usize > width);
        let mut handle = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(longer_before)
            .open(&file)
            .map_err(io)?;
        handle.write_all(text.as_bytes()).map_err(io)
    }
}

/// Registry records are padded to this many bytes so that rewriting one in place always
/// covers the previous one.
const RECORD_WIDTH: usize = 1024;

/// The default registry folder: `$BANGFU_HOME`, else the user's data folder.
pub fn default_registry_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("BANGFU_HOME") {
        return Some(PathBuf::from(home).join("devices"));
    }
    dirs::data_dir().map(|d| d.join("bangfu").join("devices"))
}
