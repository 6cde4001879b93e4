//! Changeset files: what stations carry between laptops on a USB stick.
//!
//! Layout: `BANGFUCS`, format version (u16 LE), header length (u32 LE), body length (u64 LE),
//! header (JSON), body
//! (deflate of the binary op stream), then a SHA-256 of everything before it. The trailer makes
//! any truncation or alteration, of the header or the body, detectable before anything is
//! applied; the header also states the body's own SHA-256 and the op count.
//!
//! Format 2 (the archive, issue 17) adds the files the ops name (`attachment.sha256`) between
//! the body and the trailer: their bytes one after the other, as they are (photos and PDFs do
//! not deflate), in the order and of the sizes the header's `blobs` lists, each checked
//! against its SHA-256 on import and covered by the trailer. A file without attachments is
//! still written as format 1, so an older program reads it; both are read.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::op::{get_varint, put_varint};
use super::{Hlc, Op, OpId};
use crate::error::UserFacing;
use crate::model::FieldValue;

pub const MAGIC: &[u8; 8] = b"BANGFUCS";
/// The newest format this program reads and writes: 2 carries the archive's files.
pub const FORMAT_VERSION: u16 = 2;
/// The format of a file that carries no file of the archive, read by every version.
pub const FORMAT_VERSION_WITHOUT_FILES: u16 = 1;
/// Refuses bodies that would inflate past this, so a hostile file cannot exhaust memory.
const MAX_BODY_BYTES: u64 = 4 << 30;
/// The fewest bytes one encoded op takes (refs, seq, clock, 16-byte row, value tag, lists).
const MIN_OP_BYTES: usize = 23;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: u16,
    /// The writer's schema version; a newer one is accepted (unknown fields are kept).
    pub schema_version: i64,
    pub source_device: Uuid,
    pub source_name: String,
    /// Milliseconds since the epoch on the writer's clock.
    pub created_ms: u64,
    /// The writer's version vector when it wrote the file.
    pub covered: BTreeMap<Uuid, i64>,
    /// The names of the devices whose ops the file carries, for review screens.
    pub device_names: BTreeMap<Uuid, String>,
    pub op_count: u64,
    pub body_sha256: String,
    /// Exactly which ops the file carries: per origin, inclusive ranges of seqs, ascending.
    /// Filled in by [`encode`] from the ops themselves and checked against them on import, so
    /// "already imported" is decided on the very ops a file holds, never on a gap-free
    /// prefix (a file relayed from a copy that holds another device's ops with gaps carries
    /// ops past the gap). Files of older versions lack it and are always opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<SeqRanges>,
    /// `Some(true)`: the file carries the writer's current state only (every field's heads,
    /// conflicts included), not its history; for a copy that holds nothing from other devices
    /// yet (`changes export --snapshot`). Files of older versions lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<bool>,
    /// Exactly which ops the writer held when it wrote the file, so a file can serve as the
    /// "what I have" of `export --for` without sending again what the writer already has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<SeqRanges>,
    /// The public key (Ed25519, hex) of every device whose signed ops the file carries, so a
    /// receiver learns keys from files. Files of older versions lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signers: Option<BTreeMap<Uuid, String>>,
    /// The signatures of the write batches the file carries, whole, copied unchanged by relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<Vec<super::signing::BatchSig>>,
    /// Write batches a hub page carries only some ops of, each with its device's signature op
    /// by op and the hashes of the ops the page leaves out (`signing::BatchPart`), so the ops
    /// it carries are checked although the batch is cut. Not covered by the source's
    /// signature (each is its own device's, checked on its own). Files do not carry them (they
    /// carry whole batches); older versions ignore them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<super::signing::BatchPart>>,
    /// The sealing keys (age X25519) of the devices the writer can seal to, each signed by its
    /// device's signing key, so a receiver learns who it can seal its own files to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_keys: Option<BTreeMap<Uuid, super::seal::SealKey>>,
    /// The archive's files the file carries after its body (format 2), in order; each file
    /// once, however many of the ops name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobs: Option<Vec<BlobRef>>,
    /// The county's certificates of the keys of the devices whose ops the file carries
    /// (`county::DeviceCert`), as the writer holds them: a station that confirmed the county's
    /// 安全码 takes those devices' ops without confirming each. Each is the county's signature,
    /// believed on its own: not covered by the source's signature. Older versions ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county_certs: Option<Vec<super::county::DeviceCert>>,
    /// The source device's signature (Ed25519, hex) over the whole header but the batch
    /// signatures (`signing::header_digest`; files of the version before: over the source,
    /// time and body, `signing::file_digest`): a receiver knows which device wrote the file,
    /// not only whose signed ops it carries (a station's relay is believed only when the
    /// station signed it), and that no one altered its header since. Files of older versions
    /// lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sig: Option<String>,
}

/// One file of the archive a changeset carries: its SHA-256 (hex) and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

impl Header {
    /// The bytes the carried files take after the body; refused when a file is not named by a
    /// SHA-256 or is empty or larger than the archive takes (a header written by hand).
    pub fn blob_bytes(&self) -> Result<u64, ChangesetError> {
        let mut total: u64 = 0;
        for b in self.blobs.iter().flatten() {
            if b.size == 0
                || b.size > crate::archive::MAX_FILE_BYTES
                || !crate::archive::is_sha256_hex(&b.sha256)
            {
                return Err(ChangesetError::Malformed("declared files"));
            }
            total = total
                .checked_add(b.size)
                .ok_or(ChangesetError::Malformed("declared files"))?;
        }
        Ok(total)
    }
}

/// Per origin device, inclusive ranges of seqs, ascending and not touching.
pub type SeqRanges = BTreeMap<Uuid, Vec<(i64, i64)>>;

/// The ranges of seqs `ops` hold, per origin (any order in, ranges out).
pub fn ranges_of(ops: &[Op]) -> SeqRanges {
    let mut seqs: BTreeMap<Uuid, Vec<i64>> = BTreeMap::new();
    for op in ops {
        seqs.entry(op.id.origin).or_default().push(op.id.seq);
    }
    seqs.into_iter()
        .map(|(origin, mut list)| {
            list.sort_unstable();
            list.dedup();
            let mut ranges: Vec<(i64, i64)> = Vec::new();
            for seq in list {
                match ranges.last_mut() {
                    Some((_, hi)) if *hi + 1 == seq => *hi = seq,
                    _ => ranges.push((seq, seq)),
                }
            }
            (origin, ranges)
        })
        .collect()
}

/// How many seqs the ranges name.
pub fn range_count(ranges: &SeqRanges) -> u64 {
    checked_range_count(ranges).unwrap_or(u64::MAX)
}

/// How many seqs the ranges name, `None` when a range is not `1 <= lo <= hi` or the count
/// overflows (a header written by hand, never by [`encode`]).
fn checked_range_count(ranges: &SeqRanges) -> Option<u64> {
    let mut total: u64 = 0;
    for &(lo, hi) in ranges.values().flatten() {
        if lo < 1 || hi < lo {
            return None;
        }
        let count = u64::try_from(hi.checked_sub(lo)?).ok()?.checked_add(1)?;
        total = total.checked_add(count)?;
    }
    Some(total)
}

/// Whether `ranges` name `origin`/`seq`.
pub fn ranges_contain(ranges: &SeqRanges, origin: Uuid, seq: i64) -> bool {
    ranges.get(&origin).is_some_and(|list| {
        let i = list.partition_point(|(_, hi)| *hi < seq);
        list.get(i).is_some_and(|(lo, _)| *lo <= seq)
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangesetError {
    #[error("not a changeset file")]
    NotAChangeset,
    #[error("unknown changeset format version {0}")]
    UnknownFormat(u16),
    #[error("changeset is truncated")]
    Truncated,
    #[error("changeset checksum mismatch: altered or damaged")]
    Altered,
    #[error("changeset content is malformed: {0}")]
    Malformed(&'static str),
    #[error("sealed payload does not decrypt: cut or altered")]
    SealedPayload,
    #[error(
        "changeset declares {declared} ops but inflates past the {limit} bytes they could need"
    )]
    InflatesPastDeclared { declared: u64, limit: u64 },
    #[error("carried file {sha256} does not match its hash")]
    BlobAltered { sha256: String },
    #[error("cannot set a carried file aside in a temporary file")]
    SpoolFailed,
}

impl UserFacing for ChangesetError {
    fn kind(&self) -> &'static str {
        match self {
            ChangesetError::NotAChangeset => "not_a_changeset",
            ChangesetError::UnknownFormat(_) => "unknown_format",
            ChangesetError::Truncated => "truncated",
            ChangesetError::Altered => "altered",
            ChangesetError::Malformed(_) => "malformed",
            ChangesetError::SealedPayload => "sealed_payload",
            ChangesetError::InflatesPastDeclared { .. } => "inflates_past_declared",
            ChangesetError::BlobAltered { .. } => "blob_altered",
            ChangesetError::SpoolFailed => "spool_failed",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ChangesetError::NotAChangeset => {
                "这不是帮扶台账的同步文件（变更包），未导入任何内容。".into()
            }
            ChangesetError::UnknownFormat(v) => format!(
                "这个同步文件的格式版本是 {v}，本程序只认识到 {FORMAT_VERSION}，请升级本程序后再导入。未导入任何内容。"
            ),
            ChangesetError::Truncated => {
                "同步文件不完整（可能拷贝时 U 盘被拔出），未导入任何内容。请重新拷贝后再导入。"
                    .into()
            }
            ChangesetError::Altered => {
                "同步文件已损坏或被改动过（校验不符），未导入任何内容。请让对方重新导出。".into()
            }
            ChangesetError::Malformed(_) => {
                "同步文件内容有误，无法读取，未导入任何内容。请让对方重新导出。".into()
            }
            // age cannot tell a cut payload from an altered one: both fail to decrypt.
            ChangesetError::SealedPayload => {
                "加密的同步文件不完整或已损坏（可能拷贝时 U 盘被拔出，或文件被改动过），无法解密，未导入任何内容。请重新拷贝后再导入；仍不行，请让对方重新导出。"
                    .into()
            }
            ChangesetError::InflatesPastDeclared { declared, .. } => format!(
                "同步数据声明只有 {declared} 条修改，解压后却远超这些修改所需的大小，可能是恶意构造的数据，已拒收，未导入任何内容。"
            ),
            ChangesetError::BlobAltered { .. } => {
                "同步文件中附带的档案文件（照片或扫描件）已损坏或被改动过，与其指纹不符，未导入任何内容。请让对方重新导出。"
                    .into()
            }
            ChangesetError::SpoolFailed => {
                "无法把同步文件中的档案文件暂存到临时文件（系统盘可能已满），未导入任何内容。请清理磁盘空间后再试。"
                    .into()
            }
        }
    }
}

fn put_value(out: &mut Vec<u8>, v: &FieldValue) {
    match v {
        FieldValue::Null => out.push(0),
        FieldValue::Int(i) => {
            out.push(1);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        FieldValue::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_le_bytes());
        }
        FieldValue::Text(t) => {
            out.push(3);
            put_varint(out, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        FieldValue::Bytes(b) => {
            out.push(4);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

/// Where an op stream's bytes come from: an inflated body in memory ([`Reader`]) or a reader
/// inflating as it goes ([`super::stream`]). Every read fails cleanly on a short or bad read.
pub trait OpSource {
    fn varint(&mut self) -> Result<u64, ChangesetError>;
    /// The next `n` bytes.
    fn bytes(&mut self, n: usize) -> Result<&[u8], ChangesetError>;
    /// A length prefix, refused when more than the source could still hold.
    fn length(&mut self) -> Result<usize, ChangesetError>;
    /// Whether no byte is left.
    fn at_end(&mut self) -> Result<bool, ChangesetError>;
    /// How many ops the bytes left could hold at most (a file's count is only a claim).
    fn room(&self) -> usize;
    /// Called once after the last op and the end of the bytes: a streamed file checks its
    /// checksums here, before the import commits.
    fn finish(&mut self) -> Result<(), ChangesetError> {
        Ok(())
    }
}

/// A cursor over the decoded body that fails cleanly on any short or bad read.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl OpSource for Reader<'_> {
    fn varint(&mut self) -> Result<u64, ChangesetError> {
        get_varint(self.buf, &mut self.pos).ok_or(ChangesetError::Malformed("varint"))
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8], ChangesetError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(ChangesetError::Malformed("length"))?;
        let slice = self
            .buf
            .get(self.pos..end)
            .ok_or(ChangesetError::Malformed("length"))?;
        self.pos = end;
        Ok(slice)
    }

    fn length(&mut self) -> Result<usize, ChangesetError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| ChangesetError::Malformed("length"))?;
        if n > self.buf.len() - self.pos {
            return Err(ChangesetError::Malformed("length"));
        }
        Ok(n)
    }

    fn at_end(&mut self) -> Result<bool, ChangesetError> {
        Ok(self.pos == self.buf.len())
    }

    fn room(&self) -> usize {
        (self.buf.len() - self.pos) / MIN_OP_BYTES
    }
}

/// An index into a table read earlier; bounded by that table, not by the bytes left.
fn read_index<S: OpSource>(r: &mut S) -> Result<usize, ChangesetError> {
    usize::try_from(r.varint()?).map_err(|_| ChangesetError::Malformed("index"))
}

fn read_uuid<S: OpSource>(r: &mut S) -> Result<Uuid, ChangesetError> {
    Uuid::from_slice(r.bytes(16)?).map_err(|_| ChangesetError::Malformed("uuid"))
}

fn read_value<S: OpSource>(r: &mut S) -> Result<FieldValue, ChangesetError> {
    let tag = *r
        .bytes(1)?
        .first()
        .ok_or(ChangesetError::Malformed("value"))?;
    Ok(match tag {
        0 => FieldValue::Null,
        1 => {
            let z = r.varint()?;
            FieldValue::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
        }
        2 => {
            let b: [u8; 8] = r
                .bytes(8)?
                .try_into()
                .map_err(|_| ChangesetError::Malformed("real"))?;
            FieldValue::Real(f64::from_le_bytes(b))
        }
        3 => {
            let n = r.length()?;
            let text =
                std::str::from_utf8(r.bytes(n)?).map_err(|_| ChangesetError::Malformed("text"))?;
            FieldValue::Text(text.to_owned())
        }
        4 => {
            let n = r.length()?;
            FieldValue::Bytes(r.bytes(n)?.to_vec())
        }
        _ => return Err(ChangesetError::Malformed("value tag")),
    })
}

fn read_ids<S: OpSource>(r: &mut S, origins: &[Uuid]) -> Result<Vec<OpId>, ChangesetError> {
    let n = r.length()?;
    // A claimed count is bounded by the bytes left only in memory: grow as ids arrive.
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let origin = *origins
            .get(read_index(r)?)
            .ok_or(ChangesetError::Malformed("origin ref"))?;
        let seq = i64::try_from(r.varint()?).map_err(|_| ChangesetError::Malformed("seq"))?;
        out.push(OpId { origin, seq });
    }
    Ok(out)
}

/// The binary op stream: a table of origins and of (table, field) names, then the ops.
fn encode_body(ops: &[Op]) -> Vec<u8> {
    let mut origins: Vec<Uuid> = Vec::new();
    let mut origin_ref: BTreeMap<Uuid, usize> = BTreeMap::new();
    let mut fields: Vec<(i64, &str)> = Vec::new();
    let mut field_ref: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    let mut note_origin = |id: Uuid| {
        origin_ref.entry(id).or_insert_with(|| {
            origins.push(id);
            origins.len() - 1
        });
    };
    for op in ops {
        note_origin(op.id.origin);
        op.preds
            .iter()
            .chain(&op.seen)
            .for_each(|p| note_origin(p.origin));
        field_ref
            .entry((op.table, op.field.as_str()))
            .or_insert_with(|| {
                fields.push((op.table, op.field.as_str()));
                fields.len() - 1
            });
    }
    let mut out = Vec::with_capacity(ops.len() * 48);
    put_varint(&mut out, origins.len() as u64);
    for id in &origins {
        out.extend_from_slice(id.as_bytes());
    }
    put_varint(&mut out, fields.len() as u64);
    for (table, name) in &fields {
        put_varint(&mut out, *table as u64);
        put_varint(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
    put_varint(&mut out, ops.len() as u64);
    let put_ids = |out: &mut Vec<u8>, ids: &[OpId]| {
        put_varint(out, ids.len() as u64);
        for p in ids {
            put_varint(out, origin_ref.get(&p.origin).copied().unwrap_or(0) as u64);
            put_varint(out, p.seq as u64);
        }
    };
    for op in ops {
        put_varint(
            &mut out,
            origin_ref.get(&op.id.origin).copied().unwrap_or(0) as u64,
        );
        put_varint(&mut out, op.id.seq as u64);
        put_varint(&mut out, op.hlc.0);
        put_varint(
            &mut out,
            field_ref
                .get(&(op.table, op.field.as_str()))
                .copied()
                .unwrap_or(0) as u64,
        );
        out.extend_from_slice(op.row.as_bytes());
        put_value(&mut out, &op.value);
        put_ids(&mut out, &op.preds);
        put_ids(&mut out, &op.seen);
    }
    out
}

/// The ops of an inflated body, read one at a time so that a county-sized file is never held
/// as decoded ops all at once. The tables and the count are checked before the first op.
#[derive(Debug)]
pub struct Ops<S> {
    r: S,
    origins: Vec<Uuid>,
    fields: Vec<(i64, String)>,
    remaining: u64,
    failed: bool,
}

/// The ops of an inflated body held in memory.
pub type OpStream<'a> = Ops<Reader<'a>>;

impl<'a> Ops<Reader<'a>> {
    pub fn new(body: &'a [u8], expected: u64) -> Result<OpStream<'a>, ChangesetError> {
        Ops::from_source(Reader { buf: body, pos: 0 }, expected)
    }
}

impl<S: OpSource> Ops<S> {
    pub fn from_source(mut r: S, expected: u64) -> Result<Ops<S>, ChangesetError> {
        let n_origins = r.length()?;
        let mut origins = Vec::with_capacity(n_origins.min(1 << 16));
        for _ in 0..n_origins {
            origins.push(read_uuid(&mut r)?);
        }
        let n_fields = r.length()?;
        let mut fields = Vec::with_capacity(n_fields.min(1 << 16));
        for _ in 0..n_fields {
            let table =
                i64::try_from(r.varint()?).map_err(|_| ChangesetError::Malformed("table"))?;
            let n = r.length()?;
            let name =
                std::str::from_utf8(r.bytes(n)?).map_err(|_| ChangesetError::Malformed("field"))?;
            fields.push((table, name.to_owned()));
        }
        let count = r.varint()?;
        if count != expected {
            return Err(ChangesetError::Malformed("op count"));
        }
        Ok(Ops {
            r,
            origins,
            fields,
            remaining: count,
            failed: false,
        })
    }

    /// How many ops the bytes left could hold at most (a file's count is only a claim).
    fn room(&self) -> usize {
        self.r.room()
    }

    /// The source the ops are read from (a streamed file checks its end through it).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.r
    }

    fn read_op(&mut self) -> Result<Op, ChangesetError> {
        let r = &mut self.r;
        let origin = *self
            .origins
            .get(read_index(r)?)
            .ok_or(ChangesetError::Malformed("origin ref"))?;
        let seq = i64::try_from(r.varint()?).map_err(|_| ChangesetError::Malformed("seq"))?;
        if seq <= 0 {
            return Err(ChangesetError::Malformed("seq"));
        }
        let hlc = Hlc(r.varint()?);
        let (table, field) = self
            .fields
            .get(read_index(r)?)
            .cloned()
            .ok_or(ChangesetError::Malformed("field ref"))?;
        let row = read_uuid(r)?;
        let value = read_value(r)?;
        let preds = read_ids(r, &self.origins)?;
        let seen = read_ids(r, &self.origins)?;
        Ok(Op {
            id: OpId { origin, seq },
            hlc,
            table,
            row,
            field,
            value,
            preds,
            seen,
        })
    }
}

impl<S: OpSource> Iterator for Ops<S> {
    type Item = Result<Op, ChangesetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.remaining == 0 {
            self.failed = true;
            return match self.r.at_end() {
                Ok(true) => self.r.finish().err().map(Err),
                Ok(false) => Some(Err(ChangesetError::Malformed("trailing bytes"))),
                Err(e) => Some(Err(e)),
            };
        }
        self.remaining -= 1;
        let op = self.read_op();
        self.failed = op.is_err();
        Some(op)
    }
}

fn decode_body(body: &[u8], expected: u64) -> Result<Vec<Op>, ChangesetError> {
    let stream = OpStream::new(body, expected)?;
    // The count is the file's claim; reserve only what the bytes left could hold, so a file
    // that claims millions of ops in a few bytes cannot make us allocate for them.
    let room = stream.room();
    let mut ops = Vec::with_capacity(usize::try_from(expected).unwrap_or(usize::MAX).min(room));
    for op in stream {
        ops.push(op?);
    }
    Ok(ops)
}

/// Checks a file and inflates its op stream, for reading it with [`OpStream`].
pub fn inflate(file: &[u8]) -> Result<(Header, Vec<u8>), ChangesetError> {
    let (header, body) = read_header(file)?;
    Ok((header, inflate_body(body)?))
}

/// Inflates a body that [`read_header`] has already checked.
///
/// Inflates straight into the vector's spare room (a reader would zero every chunk first and
/// copy the whole body at each doubling: a tenth of a county import went there).
pub fn inflate_body(body: &[u8]) -> Result<Vec<u8>, ChangesetError> {
    let limit = usize::try_from(MAX_BODY_BYTES).unwrap_or(usize::MAX);
    inflate_body_within(body, limit).map_err(|e| match e {
        // Past 4 GiB: the old refusal, a malformed body.
        ChangesetError::InflatesPastDeclared { .. } => ChangesetError::Malformed("deflate"),
        other => other,
    })
}

/// How far a received changeset may inflate, from the op count its header declares: a
/// relay (the hub) takes bytes from the network and must not inflate a small body into
/// gigabytes before it can tell the body lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InflateBound {
    /// The most ops one changeset may declare.
    pub max_ops: u64,
    /// Bytes allowed whatever the count: the stream's device and field tables.
    pub fixed_bytes: u64,
    /// Bytes allowed per declared op (an op's text may be long; the bound is on the total).
    pub per_op_bytes: u64,
}

impl InflateBound {
    /// The most inflated bytes a changeset declaring `op_count` ops may take.
    pub fn limit(&self, op_count: u64) -> u64 {
        self.fixed_bytes
            .saturating_add(self.per_op_bytes.saturating_mul(op_count))
    }
}

/// Reads a whole changeset like [`decode`], but inflates it only as far as its declared op
/// count could need (`bound`): a body that goes further is refused as soon as it passes the
/// limit, without inflating the rest.
pub fn decode_within(
    file: &[u8],
    bound: InflateBound,
) -> Result<(Header, Vec<Op>), ChangesetError> {
    let (header, body) = read_header(file)?;
    if header.op_count > bound.max_ops {
        return Err(ChangesetError::InflatesPastDeclared {
            declared: header.op_count,
            limit: bound.limit(header.op_count),
        });
    }
    let limit = bound.limit(header.op_count).min(MAX_BODY_BYTES);
    let raw = inflate_body_within(body, usize::try_from(limit).unwrap_or(usize::MAX)).map_err(
        |e| match e {
            ChangesetError::InflatesPastDeclared { .. } => ChangesetError::InflatesPastDeclared {
                declared: header.op_count,
                limit,
            },
            other => other,
        },
    )?;
    let ops = decode_body(&raw, header.op_count)?;
    Ok((header, ops))
}

/// Inflates a checked body into at most `limit` bytes; one more is
/// [`ChangesetError::InflatesPastDeclared`] (its numbers filled in by the caller).
fn inflate_body_within(body: &[u8], limit: usize) -> Result<Vec<u8>, ChangesetError> {
    let bad = || ChangesetError::Malformed("deflate");
    let past = || ChangesetError::InflatesPastDeclared {
        declared: 0,
        limit: limit as u64,
    };
    let mut inflater = Decompress::new(false);
    // Op streams deflate about four to one. One byte past the limit tells a body that ends
    // exactly at it from one that goes on.
    let room = limit.saturating_add(1);
    let mut raw: Vec<u8> = Vec::with_capacity(
        body.len()
            .saturating_mul(4)
            .clamp(1 << 12, room.max(1 << 12)),
    );
    loop {
        if raw.len() > limit {
            return Err(past());
        }
        if raw.len() == raw.capacity() {
            let more = raw.len().min(room - raw.len()).max(1);
            raw.reserve_exact(more);
        }
        let consumed = usize::try_from(inflater.total_in()).map_err(|_| bad())?;
        let input = body.get(consumed..).ok_or_else(bad)?;
        let before = (inflater.total_in(), raw.len());
        match inflater
            .decompress_vec(input, &mut raw, FlushDecompress::Finish)
            .map_err(|_| bad())?
        {
            Status::StreamEnd if raw.len() > limit => return Err(past()),
            Status::StreamEnd => return Ok(raw),
            // No progress with room to write: the stream ends before its end marker.
            _ if (inflater.total_in(), raw.len()) == before && raw.len() < raw.capacity() => {
                return Err(bad());
            }
            _ => {}
        }
    }
}

/// Decodes an inflated op stream without any checksum, for the fuzzer: a checksummed file
/// hides the stream from random mutation, yet the stream parser is what must never panic.
pub fn decode_stream_unchecked(raw: &[u8]) -> Result<Vec<Op>, ChangesetError> {
    let mut probe = Reader { buf: raw, pos: 0 };
    // The op count sits after the two tables; read it by decoding with the count found there.
    let count = (|| -> Result<u64, ChangesetError> {
        let n = probe.length()?;
        probe.bytes(
            n.checked_mul(16)
                .ok_or(ChangesetError::Malformed("length"))?,
        )?;
        let f = probe.length()?;
        for _ in 0..f {
            probe.varint()?;
            let n = probe.length()?;
            probe.bytes(n)?;
        }
        probe.varint()
    })()?;
    decode_body(raw, count)
}

/// The inflated op stream of ops, as `encode` writes it before compressing.
pub fn encode_stream(ops: &[Op]) -> Vec<u8> {
    encode_body(ops)
}

/// Writes a changeset file's bytes. The header's op count and body hash are filled in here.
pub fn encode(header: Header, ops: &[Op]) -> Vec<u8> {
    encode_with_files(header, ops, &[])
}

/// Writes a changeset file carrying `files` (SHA-256 hex, bytes) of the archive after its
/// body (format 2); with none it is [`encode`]'s format 1 file.
pub fn encode_with_files(header: Header, ops: &[Op], files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<BlobRef> = files
        .iter()
        .map(|(sha256, bytes)| BlobRef {
            sha256: sha256.clone(),
            size: bytes.len() as u64,
        })
        .collect();
    let capacity = files.iter().map(|(_, b)| b.len()).sum::<usize>() + ops.len() * 16 + 1024;
    let read = |sha256: &str| -> std::io::Result<Vec<u8>> {
        Ok(files
            .iter()
            .find(|(h, _)| h == sha256)
            .map(|(_, b)| b.clone())
            .unwrap_or_default())
    };
    // Writing into a Vec cannot fail, and every file is found.
    encode_into(Vec::with_capacity(capacity), header, ops, &refs, read).unwrap_or_default()
}

/// A writer that hashes what passes through it, for the trailer.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a changeset into `out` (a file, a sealing writer): the files of the archive named by
/// `files` are read one at a time by `read` and written as they come, so a writer that does
/// not keep what it is given (a file, age's sealing stream into its own buffer) never holds
/// more than one of them twice. A file `read` gives at another size than `files` declares
/// is an error (`InvalidData`), never a file whose checksum lies.
pub fn encode_into<W: Write, E: From<std::io::Error>>(
    out: W,
    header: Header,
    ops: &[Op],
    files: &[BlobRef],
    read: impl FnMut(&str) -> Result<Vec<u8>, E>,
) -> Result<W, E> {
    encode_signed_into(out, header, ops, files, read, None)
}

/// [`encode_into`], the header signed by the source device's key (`Header::source_sig`).
pub fn encode_signed_into<W: Write, E: From<std::io::Error>>(
    out: W,
    mut header: Header,
    ops: &[Op],
    files: &[BlobRef],
    mut read: impl FnMut(&str) -> Result<Vec<u8>, E>,
    key: Option<&ed25519_dalek::SigningKey>,
) -> Result<W, E> {
    let raw = encode_body(ops);
    let mut enc = DeflateEncoder::new(Vec::with_capacity(raw.len() / 3), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(&raw);
    drop(raw);
    let body = enc.finish().unwrap_or_default();
    // A snapshot is written as format 2 even without files: a version before snapshots would
    // take its heads for history and show false conflicts; format 2 makes it refuse the file
    // and say to upgrade.
    let version = if files.is_empty() && header.snapshot != Some(true) {
        header.blobs = None;
        FORMAT_VERSION_WITHOUT_FILES
    } else if files.is_empty() {
        header.blobs = None;
        FORMAT_VERSION
    } else {
        header.blobs = Some(files.to_vec());
        FORMAT_VERSION
    };
    header.format_version = version;
    header.op_count = ops.len() as u64;
    header.carried = Some(ranges_of(ops));
    header.body_sha256 = hex(&Sha256::digest(&body));
    header.source_sig = None;
    header.source_sig = key.map(|key| super::signing::sign_header(key, &header));
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let mut w = Hashing {
        inner: out,
        hash: Sha256::new(),
    };
    w.write_all(MAGIC)?;
    w.write_all(&version.to_le_bytes())?;
    w.write_all(&(header_json.len() as u32).to_le_bytes())?;
    w.write_all(&(body.len() as u64).to_le_bytes())?;
    w.write_all(&header_json)?;
    w.write_all(&body)?;
    drop(body);
    for file in files {
        let bytes = read(&file.sha256)?;
        if bytes.len() as u64 != file.size {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidData).into());
        }
        w.write_all(&bytes)?;
    }
    let trailer = w.hash.finalize();
    let mut out = w.inner;
    out.write_all(&trailer)?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the framing and checksums and reads the header, without inflating the body.
pub fn read_header(file: &[u8]) -> Result<(Header, &[u8]), ChangesetError> {
    read_parts(file).map(|(header, body, _)| (header, body))
}

/// Whether this program reads files of `version`.
pub fn reads_version(version: u16) -> bool {
    (FORMAT_VERSION_WITHOUT_FILES..=FORMAT_VERSION).contains(&version)
}

/// Checks the framing and checksums; the header, the body and the carried files' bytes.
fn read_parts(file: &[u8]) -> Result<(Header, &[u8], &[u8]), ChangesetError> {
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(ChangesetError::NotAChangeset);
    }
    let fixed = MAGIC.len() + 14;
    if file.len() < fixed {
        return Err(ChangesetError::Truncated);
    }
    let version = u16::from_le_bytes([file[8], file[9]]);
    if !reads_version(version) {
        return Err(ChangesetError::UnknownFormat(version));
    }
    let header_len = u64::from(u32::from_le_bytes([file[10], file[11], file[12], file[13]]));
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(&file[14..22]);
    let body_len = u64::from_le_bytes(body_len);
    let declared = (fixed as u64)
        .saturating_add(header_len)
        .saturating_add(body_len)
        .saturating_add(32);
    if (file.len() as u64) < declared {
        return Err(ChangesetError::Truncated);
    }
    // Format 1 ends at the trailer; format 2 carries files whose size its header declares.
    if version == FORMAT_VERSION_WITHOUT_FILES && (file.len() as u64) > declared {
        return Err(ChangesetError::Altered);
    }
    let (content, trailer) = file.split_at(file.len() - 32);
    if Sha256::digest(content).as_slice() != trailer {
        return Err(ChangesetError::Altered);
    }
    let header_end = fixed + header_len as usize;
    let header_bytes = content
        .get(fixed..header_end)
        .ok_or(ChangesetError::Truncated)?;
    let header: Header =
        serde_json::from_slice(header_bytes).map_err(|_| ChangesetError::Malformed("header"))?;
    if version == FORMAT_VERSION_WITHOUT_FILES && header.blobs.is_some() {
        return Err(ChangesetError::Malformed("files in a format 1 file"));
    }
    let files_len = header.blob_bytes()?;
    match (file.len() as u64).cmp(&declared.saturating_add(files_len)) {
        std::cmp::Ordering::Less => return Err(ChangesetError::Truncated),
        std::cmp::Ordering::Greater => return Err(ChangesetError::Altered),
        std::cmp::Ordering::Equal => {}
    }
    let body_end = header_end + body_len as usize;
    let body = &content[header_end..body_end];
    if hex(&Sha256::digest(body)) != header.body_sha256 {
        return Err(ChangesetError::Altered);
    }
    check_declared_ranges(&header)?;
    Ok((header, body, &content[body_end..]))
}

/// The archive's files a changeset carries, each checked against its SHA-256 and kind.
pub fn read_files(file: &[u8]) -> Result<Vec<(String, &[u8])>, ChangesetError> {
    let (header, _, mut rest) = read_parts(file)?;
    let mut out = Vec::new();
    for b in header.blobs.iter().flatten() {
        let (bytes, after) = rest.split_at(b.size as usize);
        check_carried_file(&b.sha256, bytes)?;
        out.push((b.sha256.clone(), bytes));
        rest = after;
    }
    Ok(out)
}

/// A carried file is what its hash names, and a kind the archive takes.
pub fn check_carried_file(
    sha256: &str,
    bytes: &[u8],
) -> Result<crate::archive::MediaType, ChangesetError> {
    if crate::archive::sha256_hex(bytes) != sha256 {
        return Err(ChangesetError::BlobAltered {
            sha256: sha256.to_owned(),
        });
    }
    crate::archive::check_file(bytes).map_err(|_| ChangesetError::Malformed("carried file kind"))
}

/// The ranges a header declares are ascending, apart and as many as its op count.
pub fn check_declared_ranges(header: &Header) -> Result<(), ChangesetError> {
    if let Some(carried) = &header.carried {
        // Ascending and apart; every number comes from the header, so nothing here may
        // overflow on a file written by hand.
        let sorted = carried.values().all(|list| {
            list.windows(2)
                .all(|w| w[0].1.checked_add(1).is_some_and(|next| next < w[1].0))
        });
        if !sorted || checked_range_count(carried) != Some(header.op_count) {
            return Err(ChangesetError::Malformed("declared op ranges"));
        }
    }
    Ok(())
}

/// Reads a whole changeset: header and ops. Any defect refuses the whole file.
pub fn decode(file: &[u8]) -> Result<(Header, Vec<Op>), ChangesetError> {
    let (header, raw) = inflate(file)?;
    let ops = decode_body(&raw, header.op_count)?;
    Ok((header, ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_ops() -> Vec<Op> {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let row = Uuid::now_v7();
        vec![
            Op {
                id: OpId { origin: a, seq: 1 },
                hlc: Hlc::new(1_700_000_000_000, 0),
                table: 2,
                row,
                field: "code".into(),
                value: FieldValue::Text("530826103201001".into()),
                preds: vec![],
                seen: vec![],
            },
            Op {
                id: OpId { origin: b, seq: 7 },
                hlc: Hlc::new(1_700_000_000_500, 3),
                table: 2,
                row,
                field: "deleted".into(),
                value: FieldValue::Int(-1),
                preds: vec![OpId { origin: a, seq: 1 }],
                seen: vec![OpId { origin: a, seq: 1 }, OpId { origin: b, seq: 2 }],
            },
            Op {
                id: OpId { origin: b, seq: 8 },
                hlc: Hlc::new(1_700_000_000_600, 0),
                table: 99,
                row,
                field: "a_field_of_a_newer_version".into(),
                value: FieldValue::Real(2.5),
                preds: vec![],
                seen: vec![],
            },
        ]
    }

    fn header() -> Header {
        Header {
            format_version: 0,
            schema_version: 1,
            source_device: Uuid::nil(),
            source_name: "新文村-笔记本1".into(),
            created_ms: 1,
            covered: BTreeMap::new(),
            carried: None,
            snapshot: None,
            held: None,
            signers: None,
            batches: None,
            seal_keys: None,
            blobs: None,
            parts: None,
            source_sig: None,
            county_certs: None,
            device_names: BTreeMap::new(),
            op_count: 0,
            body_sha256: String::new(),
        }
    }

    #[test]
    fn ops_round_trip_through_a_file() {
        let ops = sample_ops();
        let file = encode(header(), &ops);
        let (h, back) = decode(&file).unwrap();
        assert_eq!(back, ops);
        assert_eq!(h.op_count, 3);
        assert_eq!(h.source_name, "新文村-笔记本1");
    }

    /// A file without archive files is format 1, which every earlier version reads; a snapshot
    /// is format 2 even without files, so a version before snapshots refuses it (it would
    /// take the snapshot's heads for history). Both read back here.
    #[test]
    fn a_snapshot_is_format_2_and_an_ordinary_file_without_files_format_1() {
        let sample = sample_ops();
        for (snapshot, expected) in [(None, FORMAT_VERSION_WITHOUT_FILES), (Some(true), 2)] {
            let mut h = header();
            h.snapshot = snapshot;
            let file = encode(h, &sample);
            assert_eq!(
                u16::from_le_bytes([file[8], file[9]]),
                expected,
                "{snapshot:?}"
            );
            let (back, ops) = decode(&file).unwrap();
            assert_eq!((back.format_version, back.snapshot), (expected, snapshot));
            assert_eq!(ops, sample);
        }
    }

    /// Regression (found by the fuzzer): a stream claiming 2^63 ops in 29 bytes made the
    /// decoder reserve gigabytes before reading a single op.
    #[test]
    fn a_huge_claimed_count_allocates_nothing_before_failing() {
        let raw = include_bytes!("../../../../fixtures/fuzz/changeset_stream_huge_count.bin");
        assert!(decode_stream_unchecked(raw).is_err());
    }

    /// Regression: a field index larger than the bytes left after it was taken for a bad
    /// length, and a county-sized file was refused.
    #[test]
    fn indexes_past_the_remaining_byte_count_decode() {
        let base = sample_ops();
        let mut ops = Vec::new();
        for i in 0..300 {
            let mut op = base[0].clone();
            op.id.seq = i + 1;
            op.field = format!("field_{i}");
            op.value = FieldValue::Null;
            ops.push(op);
        }
        let file = encode(header(), &ops);
        assert_eq!(decode(&file).map(|(_, o)| o), Ok(ops));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let file = encode(header(), &sample_ops());
        for cut in 0..file.len() {
            assert!(decode(&file[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x20;
            assert!(decode(&bad).is_err(), "flip at {at}");
        }
    }

    fn deflated(raw: &[u8]) -> Vec<u8> {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
        enc.write_all(raw).unwrap();
        enc.finish().unwrap()
    }

    /// A push that declares one op but inflates to 256 MiB (a 250 KB body) is refused once it
    /// passes what one op could need, without inflating the rest; a real file decodes under
    /// the same bound, and the bound is exact to the byte.
    #[test]
    fn a_body_inflating_past_its_declared_op_count_is_refused_early() {
        let bound = InflateBound {
            max_ops: 20_000,
            fixed_bytes: 1 << 20,
            per_op_bytes: 8 << 10,
        };
        let mut h = header();
        h.op_count = 1;
        let body = deflated(&vec![0u8; 256 << 20]);
        h.body_sha256 = hex(&Sha256::digest(&body));
        let bomb = frame(&h, &body);
        let started = std::time::Instant::now();
        assert_eq!(
            decode_within(&bomb, bound).map(|_| ()),
            Err(ChangesetError::InflatesPastDeclared {
                declared: 1,
                limit: (1 << 20) + (8 << 10)
            })
        );
        // Inflating the whole 256 MiB takes far longer than the first megabyte.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));

        let ops = sample_ops();
        let file = encode(header(), &ops);
        assert_eq!(decode_within(&file, bound).map(|(_, o)| o), Ok(ops.clone()));
        let raw_len = encode_body(&ops).len() as u64;
        let exact = |fixed_bytes| InflateBound {
            max_ops: 3,
            fixed_bytes,
            per_op_bytes: 0,
        };
        assert!(decode_within(&file, exact(raw_len)).is_ok());
        assert!(matches!(
            decode_within(&file, exact(raw_len - 1)),
            Err(ChangesetError::InflatesPastDeclared { declared: 3, .. })
        ));
        let too_many = InflateBound {
            max_ops: 2,
            ..bound
        };
        assert!(matches!(
            decode_within(&file, too_many),
            Err(ChangesetError::InflatesPastDeclared { declared: 3, .. })
        ));
    }

    /// A file of `header` and `body` with matching checksums, as a writer that does not use
    /// [`encode`] would frame it.
    fn frame(header: &Header, body: &[u8]) -> Vec<u8> {
        let json = serde_json::to_vec(header).unwrap();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&(json.len() as u32).to_le_bytes());
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(&json);
        file.extend_from_slice(body);
        let trailer = Sha256::digest(&file);
        file.extend_from_slice(&trailer);
        file
    }

    /// Declared ranges at the ends of the integers are refused as malformed, never an
    /// overflow (the header is not covered by the body's hash).
    #[test]
    fn declared_ranges_at_the_ends_of_the_integers_are_refused_cleanly() {
        let ops = sample_ops();
        for ranges in [
            vec![(i64::MIN, 0)],
            vec![(1, i64::MAX)],
            vec![(1, 1), (i64::MAX, i64::MAX)],
            vec![(0, 2)],
            vec![(3, 1)],
        ] {
            let mut h = header();
            h.op_count = ops.len() as u64;
            h.carried = Some([(Uuid::nil(), ranges.clone())].into_iter().collect());
            let body = {
                let raw = encode_body(&ops);
                let mut enc = DeflateEncoder::new(Vec::new(), Compression::fast());
                enc.write_all(&raw).unwrap();
                enc.finish().unwrap()
            };
            h.body_sha256 = hex(&Sha256::digest(&body));
            let file = frame(&h, &body);
            assert_eq!(
                read_header(&file).map(|_| ()),
                Err(ChangesetError::Malformed("declared op ranges")),
                "{ranges:?}"
            );
        }
    }

    #[test]
    fn other_files_and_other_versions_get_their_own_error() {
        assert_eq!(
            decode(b"PK\x03\x04 an Excel file"),
            Err(ChangesetError::NotAChangeset)
        );
        let mut file = encode(header(), &sample_ops());
        file[8] = 9;
        assert_eq!(decode(&file), Err(ChangesetError::UnknownFormat(9)));
        let file = encode(header(), &sample_ops());
        assert_eq!(
            decode(&file[..file.len() - 40]),
            Err(ChangesetError::Truncated)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic the decoder and never yield ops.
        #[test]
        fn arbitrary_bytes_are_refused_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            proptest::prop_assert!(decode(&bytes).is_err());
        }

        /// A body that passes the checksums but is garbage (a writer bug, not a damaged
        /// file) is refused cleanly too.
        #[test]
        fn garbage_bodies_with_valid_framing_are_refused(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048), count in 0u64..50) {
            let mut h = header();
            h.op_count = count;
            h.body_sha256 = hex(&Sha256::digest(&body));
            let file = frame(&h, &body);
            // Either refused, or (by chance) a valid empty stream.
            if let Ok((_, ops)) = decode(&file) {
                proptest::prop_assert_eq!(ops.len() as u64, count);
            }
        }
    }
}
