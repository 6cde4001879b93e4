//! The archive (档案, issue 17): photos and scans of signed forms, notices and meeting records
//! attached to a household's exit steps, visits and measures.
//!
//! A file is named by the SHA-256 of its bytes. The bytes are kept once per copy in the local
//! `blob` table (`blobs`), whatever the number of attachments naming them; the attachment
//! itself (`attach`) is a replicated row written through `Store::write`, so it syncs and
//! conflicts like any row. Changesets carry the files their ops name (`sync::changeset`,
//! format 2), the hub carries them beside the ops. Only JPEG, PNG and PDF files of at most
//! [`MAX_FILE_BYTES`] are taken, recognised by their first bytes, never by their names.

mod attach;
pub mod blobs;
mod spool;

pub use attach::{
    AttachOutcome, AttachableRecord, AttachmentEntry, NewAttachment, Target, all_attachments,
    attach, attachable_records, household_attachments, read_picked_file, remove_attachment,
};
pub use blobs::{blob_bytes, blob_bytes_for_person, holds_blob, missing_blobs};
pub use spool::BlobSpool;

use sha2::{Digest, Sha256};

use crate::error::UserFacing;
use crate::store::StoreError;

/// The largest file the archive takes: a phone photo or a scanned page is far below it, and a
/// changeset on a USB stick stays a size a village laptop copies in seconds.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// The kinds of file the archive takes, recognised by their first bytes.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MediaType {
    Jpeg,
    Png,
    Pdf,
}

impl MediaType {
    /// The MIME type kept with the file.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// What a village worker calls it.
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Jpeg => "JPEG 图片",
            MediaType::Png => "PNG 图片",
            MediaType::Pdf => "PDF 文件",
        }
    }

    /// The usual file name extension, for a file saved out of the archive.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Pdf => "pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<MediaType> {
        [MediaType::Jpeg, MediaType::Png, MediaType::Pdf]
            .into_iter()
            .find(|m| m.mime() == mime)
    }
}

/// The kind of file `bytes` holds, by its magic bytes; `None` for any other kind.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

/// The SHA-256 of `bytes`, lower-case hex: the name of a file in the archive.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::sync::signing::hex(&Sha256::digest(bytes))
}

/// Whether `text` is a SHA-256 in lower-case hex.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks a file the archive is asked to take: not empty, not past the bound, a kind it knows.
pub fn check_file(bytes: &[u8]) -> Result<MediaType, ArchiveError> {
    if bytes.is_empty() {
        return Err(ArchiveError::EmptyFile);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ArchiveError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    sniff(bytes).ok_or(ArchiveError::UnknownKind)
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("empty file")]
    EmptyFile,
    #[error("file of {size} bytes is past the bound")]
    TooLarge { size: u64 },
    #[error("not a JPEG, PNG or PDF file")]
    UnknownKind,
    #[error("household {id} not found")]
    HouseholdNotFound { id: uuid::Uuid },
    #[error("{target} {id} not found in the household")]
    TargetNotFound {
        target: &'static str,
        id: uuid::Uuid,
    },
    #[error("unknown target {0}")]
    UnknownTarget(String),
    #[error("unknown attachment kind {0}")]
    UnknownAttachmentKind(String),
    #[error("attachment {id} not found")]
    AttachmentNotFound { id: uuid::Uuid },
    #[error("file {sha256} not held")]
    FileNotHeld { sha256: String },
    #[error("held file {sha256} does not match its hash")]
    HeldFileDamaged { sha256: String },
    #[error("cannot read {path}: {error}")]
    ReadFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

impl UserFacing for ArchiveError {
    fn kind(&self) -> &'static str {
        match self {
            ArchiveError::Store(e) => e.kind(),
            ArchiveError::EmptyFile => "archive_empty_file",
            ArchiveError::TooLarge { .. } => "archive_file_too_large",
            ArchiveError::UnknownKind => "archive_unknown_kind",
            ArchiveError::HouseholdNotFound { .. } => "household_not_found",
            ArchiveError::TargetNotFound { .. } => "archive_target_not_found",
            ArchiveError::UnknownTarget(_) => "archive_unknown_target",
            ArchiveError::UnknownAttachmentKind(_) => "archive_unknown_attachment_kind",
            ArchiveError::AttachmentNotFound { .. } => "archive_attachment_not_found",
            ArchiveError::FileNotHeld { .. } => "archive_file_not_held",
            ArchiveError::HeldFileDamaged { .. } => "archive_held_file_damaged",
            ArchiveError::ReadFile { .. } => "read_file",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ArchiveError::Store(e) => e.message_zh(),
            ArchiveError::EmptyFile => {
                "所选文件是空的（0 字节），未加入档案。请重新拍照或扫描。".into()
            }
            ArchiveError::TooLarge { size } => format!(
                "所选文件有 {:.1} MB，超过档案每个文件 {} MB 的上限，未加入档案。请把照片调小或分页扫描后再添加。",
                *size as f64 / (1 << 20) as f64,
                MAX_FILE_BYTES >> 20
            ),
            ArchiveError::UnknownKind => {
                "档案只收照片（JPG、PNG）和 PDF 扫描件，所选文件不是这几种，未加入档案。".into()
            }
            ArchiveError::HouseholdNotFound { .. } => {
                "找不到这一户（可能已被删除），未加入档案。".into()
            }
            ArchiveError::TargetNotFound { target, .. } => {
                format!("本户找不到所选的{target}（可能已被删除），未加入档案。")
            }
            ArchiveError::UnknownTarget(t) => {
                format!("“{t}”不是可以附档案的记录，只能附在脱贫退出步骤、走访记录或帮扶措施上。")
            }
            ArchiveError::UnknownAttachmentKind(k) => format!(
                "“{k}”不是档案的材料类别，请选择签字表、公示照片、会议记录、走访照片、发放凭证、通知或其他。"
            ),
            ArchiveError::AttachmentNotFound { .. } => "找不到这份档案（可能已被删除）。".into(),
            ArchiveError::FileNotHeld { .. } => {
                "这份档案的文件还没有传到本机（记录已同步，文件会随下一次同步文件或同步中心到达）。"
                    .into()
            }
            ArchiveError::HeldFileDamaged { .. } => {
                "本机保存的这份档案文件已损坏（与指纹不符），请从其他电脑重新同步。".into()
            }
            ArchiveError::ReadFile { path, .. } => format!(
                "无法读取文件“{}”，未加入档案。请检查文件是否还在、U 盘是否插好。",
                path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests;
