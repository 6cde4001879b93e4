//! Batch signatures: what a device signs over the ops one of its writes produced, how a file
//! states them, and how a receiver checks them while the ops stream past.
//!
//! A local write produces ops `first..=last` of one device. The device signs (Ed25519) one
//! SHA-256 over a canonical encoding of exactly those ops, not each op: 64 bytes per write,
//! not per field. A changeset names the public key of every device whose signed ops it
//! carries and the signatures of the batches it carries; a relay copies both unchanged, so it
//! can carry ops but not alter or invent them. Exports carry whole batches.

use std::collections::{BTreeMap, HashSet};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Op;
use crate::error::UserFacing;
use crate::model::FieldValue;

/// The signature of one write batch, as a changeset states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSig {
    pub origin: Uuid,
    pub first: i64,
    pub last: i64,
    /// Ed25519 signature, hex.
    pub sig: String,
    /// The person signed in on the device when it wrote the batch (their name), so the history
    /// of a field names who typed it on every copy, not only on the laptop. Files and pages of
    /// older versions lack it; older versions ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The device's signature (hex) over the batch's own signature and `by`
    /// ([`author_digest`]): a relay can drop the name but not alter it or put another there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_sig: Option<String>,
    /// The device's second signature (hex) over the batch op by op ([`parts_digest`]: a hash
    /// of each op), so a hub page that carries only some of the batch's ops (a batch touching
    /// two villages, a page cut by its size) can still be checked: the page carries the hashes
    /// of the ops it leaves out ([`BatchPart`]). A push carries it (the device makes it as it
    /// pushes its own batches); files do not need it (they carry whole batches). Pushes of
    /// older versions lack it; older hubs ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_sig: Option<String>,
}

impl BatchSig {
    /// A batch signature with no person named (a copy nobody signs in to).
    pub fn new(origin: Uuid, first: i64, last: i64, sig: String) -> BatchSig {
        BatchSig {
            origin,
            first,
            last,
            sig,
            by: None,
            by_sig: None,
            parts_sig: None,
        }
    }
}

/// Part of a write batch, as a hub page that carries only some of its ops states it: the
/// batch's range, its device's signature op by op ([`BatchSig::parts_sig`]), and the hash
/// ([`op_hash`], hex) of every op of the batch the page leaves out. A receiver hashes the ops
/// it has, puts the carried hashes in their places and checks the signature: the ops it has
/// are the device's, unaltered, although it never sees the others (another village's).
/// Pages of older hubs lack them (those ops come on the hub's word, as before); older
/// versions ignore them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPart {
    pub origin: Uuid,
    pub first: i64,
    pub last: i64,
    /// The batch's signature op by op (Ed25519, hex).
    pub sig: String,
    /// Seq and hash (hex) of each op of the batch the page does not carry, ascending.
    pub left_out: Vec<(i64, String)>,
}

/// One op's hash as a batch's second signature covers it: its device and its canonical
/// encoding (every field of the op).
pub fn op_hash(op: &Op) -> [u8; 32] {
    let mut buf = Vec::with_capacity(128);
    encode_op(&mut buf, op);
    let mut h = Sha256::new();
    h.update(b"bangfu-op-v1\0");
    h.update(op.id.origin.as_bytes());
    h.update(&buf);
    h.finalize().into()
}

/// What a device signs a second time for a batch: its device and range, then the hash of
/// each of its ops in seq order ([`op_hash`]). Anyone holding the hashes of the ops it lacks
/// can check the ops it has.
pub fn parts_digest(origin: Uuid, first: i64, last: i64, hashes: &[[u8; 32]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bangfu-batch-parts-v1\0");
    h.update(origin.as_bytes());
    put_u64(&mut h, first as u64);
    put_u64(&mut h, last as u64);
    put_u64(&mut h, hashes.len() as u64);
    for hash in hashes {
        h.update(hash);
    }
    h.finalize().into()
}

/// Signs the batch `ops` (one device's ops `first..=last`, in seq order) op by op.
pub fn sign_parts(key: &SigningKey, origin: Uuid, first: i64, last: i64, ops: &[Op]) -> [u8; 64] {
    let hashes: Vec<[u8; 32]> = ops.iter().map(op_hash).collect();
    key.sign(&parts_digest(origin, first, last, &hashes))
        .to_bytes()
}

/// Checks a batch's signature op by op over the whole batch (`ops`, in seq order): what the
/// hub does with a push before it keeps the signature.
pub fn parts_signed(
    public_key: &str,
    origin: Uuid,
    first: i64,
    last: i64,
    ops: &[&Op],
    sig: &str,
) -> bool {
    // Hostile ranges (a push's numbers) must not overflow.
    if last
        .checked_sub(first)
        .and_then(|n| n.checked_add(1))
        .is_none_or(|len| ops.len() as i64 != len)
    {
        return false;
    }
    let hashes: Vec<[u8; 32]> = ops.iter().map(|op| op_hash(op)).collect();
    verify_hex(public_key, &parts_digest(origin, first, last, &hashes), sig)
}

/// Checks the ops a page carries of a batch it cuts (`ops`: the page's ops of that batch, in
/// seq order) against the part's signature and the hashes it carries for the rest. The ops
/// and the hashes must fill the batch's range exactly, each seq once, and the page must carry
/// at least one op of it (a part for ops the page lacks vouches for nothing).
pub fn check_part(public_key: &str, part: &BatchPart, ops: &[&Op]) -> Result<(), SignatureError> {
    let bad = || SignatureError::BadSignature {
        origin: part.origin,
        first: part.first,
        last: part.last,
    };
    let partial = || SignatureError::PartialBatch {
        origin: part.origin,
        first: part.first,
        last: part.last,
    };
    if part.first < 1 || part.last < part.first || ops.is_empty() {
        return Err(partial());
    }
    let len = usize::try_from(part.last - part.first + 1).map_err(|_| partial())?;
    if ops.len() + part.left_out.len() != len {
        return Err(partial());
    }
    let mut hashes: Vec<Option<[u8; 32]>> = vec![None; len];
    for op in ops {
        let i = op
            .id
            .seq
            .checked_sub(part.first)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(partial)?;
        match hashes.get_mut(i) {
            Some(slot @ None) if op.id.origin == part.origin => *slot = Some(op_hash(op)),
            _ => return Err(partial()),
        }
    }
    for (seq, hash) in &part.left_out {
        let hash: [u8; 32] = unhex(hash)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(bad)?;
        let i = seq
            .checked_sub(part.first)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(partial)?;
        match hashes.get_mut(i) {
            Some(slot @ None) => *slot = Some(hash),
            _ => return Err(partial()),
        }
    }
    let hashes: Vec<[u8; 32]> = hashes
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(partial)?;
    if verify_hex(
        public_key,
        &parts_digest(part.origin, part.first, part.last, &hashes),
        &part.sig,
    ) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Whether `sig` (hex) is `public_key`'s (hex) Ed25519 signature over `digest`.
pub(crate) fn verify_hex(public_key: &str, digest: &[u8; 32], sig: &str) -> bool {
    let (Some(key), Some(sig)) = (
        unhex(public_key).and_then(|k| <[u8; 32]>::try_from(k).ok()),
        unhex(sig).and_then(|s| <[u8; 64]>::try_from(s).ok()),
    ) else {
        return false;
    };
    VerifyingKey::from_bytes(&key)
        .is_ok_and(|key| key.verify(digest, &Signature::from_bytes(&sig)).is_ok())
}

/// The longest name a batch may carry (characters): a person's name as the 人员 screen takes it.
pub const MAX_AUTHOR_CHARS: usize = 32;

/// What a device signs to name the person who wrote a batch: the batch (device, range and
/// its signature, so the statement is for exactly that batch) and the name.
pub fn author_digest(
    origin: Uuid,
    first: i64,
    last: i64,
    batch_sig: &[u8],
    name: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bangfu-author-v1\0");
    h.update(origin.as_bytes());
    put_u64(&mut h, first as u64);
    put_u64(&mut h, last as u64);
    h.update((batch_sig.len() as u64).to_le_bytes());
    h.update(batch_sig);
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.finalize().into()
}

/// Signs the statement that `name` wrote the batch whose signature is `batch_sig`.
pub fn sign_author(
    key: &SigningKey,
    origin: Uuid,
    first: i64,
    last: i64,
    batch_sig: &[u8],
    name: &str,
) -> [u8; 64] {
    key.sign(&author_digest(origin, first, last, batch_sig, name))
        .to_bytes()
}

/// What a device signs to say it wrote a changeset file: its id, the file's time, op count and
/// body hash (the body holds every op, so the signature covers what the file carries).
pub fn file_digest(source: Uuid, created_ms: u64, op_count: u64, body_sha256: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bangfu-file-v1\0");
    h.update(source.as_bytes());
    put_u64(&mut h, created_ms);
    put_u64(&mut h, op_count);
    h.update((body_sha256.len() as u64).to_le_bytes());
    h.update(body_sha256.as_bytes());
    h.finalize().into()
}

/// What a device signs to say it wrote a changeset file, since files name their held ranges
/// and keys: [`file_digest`]'s fields and every other field of the header but the batch
/// signatures (each of which its own device signed) and the signature itself, so a stick's
/// header cannot be altered on the way: not the names a station shows, the ranges that say
/// what the file carries and what its writer holds, the keys it declares or its time. Covers
/// the header's fields of this version: a field added later needs a digest of its own.
pub fn header_digest(header: &super::changeset::Header) -> [u8; 32] {
    #[derive(Serialize)]
    struct Covered<'a> {
        format_version: u16,
        schema_version: i64,
        source_name: &'a str,
        covered: &'a BTreeMap<Uuid, i64>,
        device_names: &'a BTreeMap<Uuid, String>,
        carried: &'a Option<super::changeset::SeqRanges>,
        snapshot: Option<bool>,
        held: &'a Option<super::changeset::SeqRanges>,
        signers: &'a Option<BTreeMap<Uuid, String>>,
        seal_keys: &'a Option<BTreeMap<Uuid, super::seal::SealKey>>,
        blobs: &'a Option<Vec<super::changeset::BlobRef>>,
    }
    let mut h = Sha256::new();
    h.update(b"bangfu-file-v2\0");
    h.update(file_digest(
        header.source_device,
        header.created_ms,
        header.op_count,
        &header.body_sha256,
    ));
    let covered = Covered {
        format_version: header.format_version,
        schema_version: header.schema_version,
        source_name: &header.source_name,
        covered: &header.covered,
        device_names: &header.device_names,
        carried: &header.carried,
        snapshot: header.snapshot,
        held: &header.held,
        signers: &header.signers,
        seal_keys: &header.seal_keys,
        blobs: &header.blobs,
    };
    // Serializing these types into a hasher cannot fail.
    let _ = serde_json::to_writer(HashWriter(&mut h), &covered);
    h.finalize().into()
}

/// Feeds what is written into a SHA-256.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Signs a file's header for its source device ([`header_digest`]), hex.
pub fn sign_header(key: &SigningKey, header: &super::changeset::Header) -> String {
    hex(&key.sign(&header_digest(header)).to_bytes())
}

/// Until when (a file's time, milliseconds since the epoch: 2027-07-01 00:00 UTC) a file signed
/// the way of the version before [`header_digest`] (its source, time and body only,
/// [`file_digest`]) is believed: about seven months for every laptop to take the update. A
/// file made later under that digest is taken as unsigned by its source: the rest of its
/// header (names, ranges, declared keys) could have been altered on the way. The time is
/// under that digest, so a forger cannot move a file to before it.
pub const OLD_FILE_DIGEST_UNTIL_MS: u64 = 1_814_400_000_000;

/// Whether a file's header is signed by its source device under `public_key` (32 bytes): over
/// the whole header ([`header_digest`]), or, for a file of the version before that made before
/// [`OLD_FILE_DIGEST_UNTIL_MS`], over its source, time and body ([`file_digest`]). A signature
/// holds under the digest it was made for only, so a header altered after signing holds under
/// neither.
pub fn file_signed_by(header: &super::changeset::Header, public_key: &[u8]) -> bool {
    let Some(sig) = header.source_sig.as_deref().and_then(unhex) else {
        return false;
    };
    let (Ok(sig), Ok(key)) = (
        <[u8; 64]>::try_from(sig.as_slice()),
        <[u8; 32]>::try_from(public_key),
    ) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    let sig = Signature::from_bytes(&sig);
    if key.verify(&header_digest(header), &sig).is_ok() {
        return true;
    }
    if header.created_ms >= OLD_FILE_DIGEST_UNTIL_MS {
        return false;
    }
    let digest = file_digest(
        header.source_device,
        header.created_ms,
        header.op_count,
        &header.body_sha256,
    );
    key.verify(&digest, &sig).is_ok()
}

/// Checks the person a batch names against its device's key: `Ok(())` when it names nobody
/// or the device signed the name for exactly this batch.
fn check_author(key: &VerifyingKey, b: &BatchSig) -> Result<(), SignatureError> {
    let bad = || SignatureError::BadSignature {
        origin: b.origin,
        first: b.first,
        last: b.last,
    };
    match (&b.by, &b.by_sig) {
        (None, None) => Ok(()),
        // A name longer than this version keeps (a later version may allow more) is not
        // checked here and not kept (`record_signatures`): never a reason to refuse the file.
        (Some(name), Some(_)) if name.chars().count() > MAX_AUTHOR_CHARS => Ok(()),
        (Some(name), Some(sig)) => {
            if name.is_empty() {
                return Err(bad());
            }
            let batch_sig = unhex(&b.sig).ok_or_else(bad)?;
            let sig: [u8; 64] = unhex(sig).and_then(|v| v.try_into().ok()).ok_or_else(bad)?;
            key.verify(
                &author_digest(b.origin, b.first, b.last, &batch_sig, name),
                &Signature::from_bytes(&sig),
            )
            .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// Why a file's signatures do not hold; the whole file is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("op {origin}/{seq} is not inside a signed batch of its device")]
    Unsigned { origin: Uuid, seq: i64 },
    #[error("batch {origin} {first}..{last} does not verify")]
    BadSignature { origin: Uuid, first: i64, last: i64 },
    #[error("batch {origin} {first}..{last} is not carried whole")]
    PartialBatch { origin: Uuid, first: i64, last: i64 },
    #[error("device {origin} is declared with a key other than the one this copy knows")]
    KeyMismatch { origin: Uuid },
    #[error("malformed key or signature of device {origin}")]
    MalformedKey { origin: Uuid },
}

impl UserFacing for SignatureError {
    fn kind(&self) -> &'static str {
        match self {
            SignatureError::Unsigned { .. } => "unsigned_op",
            SignatureError::BadSignature { .. } => "bad_signature",
            SignatureError::PartialBatch { .. } => "partial_batch",
            SignatureError::KeyMismatch { .. } => "device_key_mismatch",
            SignatureError::MalformedKey { .. } => "malformed_key",
        }
    }

    fn message_zh(&self) -> String {
        let what = match self {
            SignatureError::Unsigned { .. } => "文件里有修改没有写入设备的签名",
            SignatureError::BadSignature { .. } | SignatureError::MalformedKey { .. } => {
                "文件里的修改与写入设备的签名不符（内容被改动过）"
            }
            SignatureError::PartialBatch { .. } => "文件里一次保存的修改不完整",
            SignatureError::KeyMismatch { .. } => {
                "文件声称来自一台本机已认识的设备，但签名密钥不是那台设备的（可能是冒充）"
            }
        };
        format!(
            "同步文件签名校验失败：{what}，未导入任何内容。请不要使用这个文件，让写入数据的设备重新导出，并告诉乡镇管理员。"
        )
    }
}

/// A device's signing key, kept as 32 secret bytes in the data file's local meta.
pub fn new_signing_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

fn put_u64(h: &mut Sha256, v: u64) {
    h.update(v.to_le_bytes());
}

fn put_len_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// One op's canonical encoding, into `out`: every field of the op, fixed width or
/// length-prefixed (built whole and hashed in one call: a merge hashes every op).
fn encode_op(out: &mut Vec<u8>, op: &Op) {
    out.clear();
    out.extend_from_slice(&(op.id.seq as u64).to_le_bytes());
    out.extend_from_slice(&op.hlc.0.to_le_bytes());
    out.extend_from_slice(&(op.table as u64).to_le_bytes());
    out.extend_from_slice(op.row.as_bytes());
    put_len_bytes(out, op.field.as_bytes());
    match &op.value {
        FieldValue::Null => out.push(0),
        FieldValue::Int(i) => {
            out.push(1);
            out.extend_from_slice(&(*i as u64).to_le_bytes());
        }
        FieldValue::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        FieldValue::Text(t) => {
            out.push(3);
            put_len_bytes(out, t.as_bytes());
        }
        FieldValue::Bytes(b) => {
            out.push(4);
            put_len_bytes(out, b);
        }
    }
    for list in [&op.preds, &op.seen] {
        out.extend_from_slice(&(list.len() as u64).to_le_bytes());
        for id in list {
            out.extend_from_slice(id.origin.as_bytes());
            out.extend_from_slice(&(id.seq as u64).to_le_bytes());
        }
    }
}

/// Hashes a batch as it streams past: its device and range first, then its ops in seq order.
#[derive(Debug, Clone)]
pub struct BatchHasher {
    h: Sha256,
    origin: Uuid,
    first: i64,
    next: i64,
    last: i64,
    buf: Vec<u8>,
}

impl BatchHasher {
    pub fn new(origin: Uuid, first: i64, last: i64) -> BatchHasher {
        let mut h = Sha256::new();
        h.update(b"bangfu-batch-v1\0");
        h.update(origin.as_bytes());
        put_u64(&mut h, first as u64);
        put_u64(&mut h, last as u64);
        BatchHasher {
            h,
            origin,
            first,
            next: first,
            last,
            buf: Vec::with_capacity(128),
        }
    }

    /// Adds the next op; `false` when it is not the next op of the batch.
    pub fn push(&mut self, op: &Op) -> bool {
        if op.id.origin != self.origin || op.id.seq != self.next || self.next > self.last {
            return false;
        }
        encode_op(&mut self.buf, op);
        self.h.update(&self.buf);
        self.next += 1;
        true
    }

    pub fn complete(&self) -> bool {
        self.next == self.last + 1
    }

    pub fn digest(self) -> [u8; 32] {
        self.h.finalize().into()
    }
}

/// Signs the batch `ops` (one device's ops `first..=last`, in seq order).
pub fn sign_batch(key: &SigningKey, origin: Uuid, first: i64, last: i64, ops: &[Op]) -> [u8; 64] {
    let mut h = BatchHasher::new(origin, first, last);
    for op in ops {
        h.push(op);
    }
    key.sign(&h.digest()).to_bytes()
}

/// A device key's fingerprint as a person reads it aloud: 6 groups of 5 digits, like Signal's
/// safety numbers (from the SHA-256 of the public key).
pub fn fingerprint(public_key: &[u8]) -> String {
    let d = Sha256::digest(public_key);
    d.chunks(5)
        .take(6)
        .map(|c| {
            let v = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", v % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fingerprint as typed: its digits only.
pub fn fingerprint_digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks a file's ops against its batch signatures as they stream past, in file order
/// (ascending origin and seq). Ops of origins without a key in the file pass unchecked here;
/// the caller decides about them (see `Store::check_signers`).
#[derive(Debug)]
pub struct StreamVerifier {
    keys: BTreeMap<Uuid, VerifyingKey>,
    /// Per origin, (first, last, signature) ascending.
    batches: BTreeMap<Uuid, Vec<(i64, i64, Signature)>>,
    open: Option<(BatchHasher, Signature)>,
    /// The batches (origin, first seq) whose ops passed and whose signature held.
    verified: HashSet<(Uuid, i64)>,
    /// The origins of those batches (and of the parts that held).
    verified_origins: HashSet<Uuid>,
    /// Per origin, the parts of batches the file carries only some ops of, ascending.
    parts: BTreeMap<Uuid, Vec<OpenPart>>,
    /// The part whose carried ops are streaming past: its index in `parts[origin]`.
    open_part: Option<(Uuid, usize)>,
    /// The parts (origin, first seq) whose ops passed and whose signature held.
    verified_parts: HashSet<(Uuid, i64)>,
}

/// A part of a batch as a file states it, checked as its ops stream past. Nothing is set
/// aside per seq the header names: the hashes it states (sorted) and those of the ops that
/// actually came, merged once the last carried op has passed.
#[derive(Debug)]
struct OpenPart {
    part: BatchPart,
    /// The hashes of the ops left out, by seq, strictly ascending, inside the range.
    left_out: Vec<(i64, [u8; 32])>,
    /// The hashes of the carried ops that came so far (file order).
    carried: Vec<(i64, [u8; 32])>,
    /// Carried ops still to come.
    to_come: usize,
}

/// The most hashes of left-out ops one part may state: as many as a hub page states over all
/// its parts (`bangfu_hub::storage::signatures::MAX_LEFT_OUT_PER_PAGE`).
pub const MAX_PART_LEFT_OUT: usize = 16_384;

/// The longest batch a part may cover (ops): far beyond any save, so a forged header cannot
/// claim a range of billions of seqs.
pub const MAX_PART_OPS: u64 = 1 << 20;

impl StreamVerifier {
    pub fn new(
        keys: &BTreeMap<Uuid, String>,
        batches: &[BatchSig],
    ) -> Result<StreamVerifier, SignatureError> {
        let mut parsed = BTreeMap::new();
        for (origin, text) in keys {
            let bad = || SignatureError::MalformedKey { origin: *origin };
            let bytes: [u8; 32] = unhex(text)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(bad)?;
            parsed.insert(
                *origin,
                VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?,
            );
        }
        let mut by_origin: BTreeMap<Uuid, Vec<(i64, i64, Signature)>> = BTreeMap::new();
        for b in batches {
            let bad = || SignatureError::MalformedKey { origin: b.origin };
            let bytes: [u8; 64] = unhex(&b.sig)
                .and_then(|v| v.try_into().ok())
                .ok_or_else(bad)?;
            let Some(key) = parsed.get(&b.origin) else {
                return Err(bad());
            };
            if b.first < 1 || b.last < b.first {
                return Err(bad());
            }
            // The person a batch names is checked before any op: a name altered on the way
            // refuses the file or page as an altered op does.
            check_author(key, b)?;
            by_origin.entry(b.origin).or_default().push((
                b.first,
                b.last,
                Signature::from_bytes(&bytes),
            ));
        }
        for list in by_origin.values_mut() {
            list.sort_by_key(|(first, _, _)| *first);
        }
        Ok(StreamVerifier {
            keys: parsed,
            batches: by_origin,
            open: None,
            verified: HashSet::new(),
            verified_origins: HashSet::new(),
            parts: BTreeMap::new(),
            open_part: None,
            verified_parts: HashSet::new(),
        })
    }

    /// Adds the parts of batches a file carries only some ops of ([`BatchPart`]): their ops
    /// are checked against the device's signature op by op and the hashes stated for the
    /// rest. A part of a device the file declares no key for, with a malformed hash, or
    /// overlapping a batch or another part refuses the file, as does one longer than its
    /// hashes and the file's `op_count` ops could fill (nothing is set aside for it).
    pub fn with_parts(
        mut self,
        parts: &[BatchPart],
        op_count: u64,
    ) -> Result<StreamVerifier, SignatureError> {
        // The carried ops of all parts together: at most the ops the file says it carries.
        let mut carried_total: u64 = 0;
        for part in parts {
            let malformed = || SignatureError::MalformedKey {
                origin: part.origin,
            };
            if !self.keys.contains_key(&part.origin)
                || part.first < 1
                || part.last < part.first
                || unhex(&part.sig).is_none_or(|s| s.len() != 64)
            {
                return Err(malformed());
            }
            let overlaps = |first: i64, last: i64| part.first <= last && first <= part.last;
            if self
                .batches
                .get(&part.origin)
                .is_some_and(|list| list.iter().any(|(f, l, _)| overlaps(*f, *l)))
                || self
                    .parts
                    .get(&part.origin)
                    .is_some_and(|list| list.iter().any(|o| overlaps(o.part.first, o.part.last)))
            {
                return Err(SignatureError::PartialBatch {
                    origin: part.origin,
                    first: part.first,
                    last: part.last,
                });
            }
            // first >= 1 and last >= first: no overflow; the length by a fixed limit.
            let len = (part.last - part.first) as u64 + 1;
            if len > MAX_PART_OPS || part.left_out.len() > MAX_PART_LEFT_OUT {
                return Err(malformed());
            }
            let to_come = len
                .checked_sub(part.left_out.len() as u64)
                .filter(|n| *n > 0)
                .ok_or_else(malformed)?;
            carried_total = carried_total.saturating_add(to_come);
            if carried_total > op_count {
                return Err(malformed());
            }
            let mut left_out = Vec::with_capacity(part.left_out.len());
            for (seq, hash) in &part.left_out {
                let hash: [u8; 32] = unhex(hash)
                    .and_then(|h| h.try_into().ok())
                    .ok_or_else(malformed)?;
                // Inside the range, each seq once, ascending.
                if *seq < part.first
                    || *seq > part.last
                    || left_out.last().is_some_and(|(prev, _)| prev >= seq)
                {
                    return Err(malformed());
                }
                left_out.push((*seq, hash));
            }
            self.parts.entry(part.origin).or_default().push(OpenPart {
                part: part.clone(),
                left_out,
                carried: Vec::new(),
                to_come: to_come as usize,
            });
        }
        for list in self.parts.values_mut() {
            list.sort_by_key(|p| p.part.first);
        }
        Ok(self)
    }

    /// Whether the part of `origin`'s batch starting at `first` had its every carried op
    /// pass and its signature hold.
    pub fn verified_part(&self, origin: Uuid, first: i64) -> bool {
        self.verified_parts.contains(&(origin, first))
    }

    /// Whether the batch of `origin` starting at `first` was carried whole and its signature
    /// held (a batch the file declares but does not carry vouches for nothing).
    pub fn verified(&self, origin: Uuid, first: i64) -> bool {
        self.verified.contains(&(origin, first))
    }

    /// Whether `origin`'s key signs at least one batch that was carried whole and held: only
    /// then does the file show that key is its device's.
    pub fn verified_any(&self, origin: Uuid) -> bool {
        self.verified_origins.contains(&origin)
    }

    /// Whether the file declares a key for `origin`.
    pub fn signs(&self, origin: Uuid) -> bool {
        self.keys.contains_key(&origin)
    }

    /// Checks the next op of the file: `Ok(true)` when a batch signature covers it, `Ok(false)`
    /// when none does (its device declared no key in the file, or the writer holds the op
    /// without its signature: pulled from the hub in a page that cut its batch). A
    /// signature that fails, or a batch cut short, refuses the file.
    pub fn push(&mut self, op: &Op) -> Result<bool, SignatureError> {
        let origin = op.id.origin;
        let Some(key) = self.keys.get(&origin).copied() else {
            self.close_open_part()?;
            return self.close_open().map(|()| false);
        };
        if let Some((hasher, _)) = &mut self.open {
            if hasher.push(op) {
                return self.finish_if_complete(&key).map(|()| true);
            }
            self.close_open()?;
        }
        if self.push_part(op, &key)? {
            return Ok(true);
        }
        let seq = op.id.seq;
        let list = self.batches.get(&origin).map_or(&[][..], Vec::as_slice);
        let i = list.partition_point(|(_, last, _)| *last < seq);
        let Some(&(first, last, sig)) = list.get(i).filter(|(first, _, _)| *first <= seq) else {
            return Ok(false);
        };
        let mut hasher = BatchHasher::new(origin, first, last);
        if !hasher.push(op) {
            return Err(SignatureError::PartialBatch {
                origin,
                first,
                last,
            });
        }
        self.open = Some((hasher, sig));
        self.finish_if_complete(&key).map(|()| true)
    }

    fn finish_if_complete(&mut self, key: &VerifyingKey) -> Result<(), SignatureError> {
        if self.open.as_ref().is_some_and(|(h, _)| h.complete())
            && let Some((hasher, sig)) = self.open.take()
        {
            let (origin, first, last) = (hasher.origin, hasher.first, hasher.last);
            let digest = hasher.digest();
            if key.verify(&digest, &sig).is_err() {
                return Err(SignatureError::BadSignature {
                    origin,
                    first,
                    last,
                });
            }
            self.verified.insert((origin, first));
            self.verified_origins.insert(origin);
        }
        Ok(())
    }

    fn close_open(&mut self) -> Result<(), SignatureError> {
        match self.open.take() {
            Some((h, _)) => Err(SignatureError::PartialBatch {
                origin: h.origin,
                first: h.first,
                last: h.last,
            }),
            None => Ok(()),
        }
    }

    /// Checks `op` against the part of a batch that covers it, if any: `Ok(true)` when one
    /// does. A part's carried ops come one after the other (the file's order); one missing
    /// refuses the file, as a batch cut short does.
    fn push_part(&mut self, op: &Op, key: &VerifyingKey) -> Result<bool, SignatureError> {
        let (origin, seq) = (op.id.origin, op.id.seq);
        if let Some((open_origin, i)) = self.open_part
            && (open_origin != origin || self.parts[&open_origin][i].part.last < seq)
        {
            self.close_open_part()?;
        }
        let Some(list) = self.parts.get_mut(&origin) else {
            return Ok(false);
        };
        let i = list.partition_point(|p| p.part.last < seq);
        let Some(open) = list.get_mut(i).filter(|p| p.part.first <= seq) else {
            return Ok(false);
        };
        let (first, last) = (open.part.first, open.part.last);
        let partial = SignatureError::PartialBatch {
            origin,
            first,
            last,
        };
        // A seq the part says is left out, or more ops than it said it carries.
        if open.to_come == 0
            || open
                .left_out
                .binary_search_by_key(&seq, |(s, _)| *s)
                .is_ok()
        {
            return Err(partial);
        }
        open.carried.push((seq, op_hash(op)));
        open.to_come -= 1;
        self.open_part = Some((origin, i));
        if open.to_come == 0 {
            self.open_part = None;
            // Merge the two sorted lists; an op stated twice leaves the range unfilled.
            open.carried.sort_unstable_by_key(|(s, _)| *s);
            let mut hashes: Vec<[u8; 32]> =
                Vec::with_capacity(open.carried.len() + open.left_out.len());
            let (mut a, mut b) = (
                open.carried.iter().peekable(),
                open.left_out.iter().peekable(),
            );
            let mut expect = first;
            loop {
                let next = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) if x.0 < y.0 => a.next(),
                    (Some(_), Some(_)) => b.next(),
                    (Some(_), None) => a.next(),
                    (None, Some(_)) => b.next(),
                    (None, None) => break,
                };
                let Some((s, hash)) = next else { break };
                if *s != expect {
                    return Err(partial);
                }
                hashes.push(*hash);
                expect = expect.saturating_add(1);
            }
            open.carried = Vec::new();
            let sig: [u8; 64] = unhex(&open.part.sig)
                .and_then(|s| s.try_into().ok())
                .ok_or(SignatureError::MalformedKey { origin })?;
            if hashes.len() as u64 != (last - first) as u64 + 1
                || key
                    .verify(
                        &parts_digest(origin, first, last, &hashes),
                        &Signature::from_bytes(&sig),
                    )
                    .is_err()
            {
                return Err(SignatureError::BadSignature {
                    origin,
                    first,
                    last,
                });
            }
            self.verified_parts.insert((origin, first));
            self.verified_origins.insert(origin);
        }
        Ok(true)
    }

    fn close_open_part(&mut self) -> Result<(), SignatureError> {
        match self.open_part.take() {
            Some((origin, i)) => {
                let p = &self.parts[&origin][i].part;
                Err(SignatureError::PartialBatch {
                    origin,
                    first: p.first,
                    last: p.last,
                })
            }
            None => Ok(()),
        }
    }

    /// The end of the file: a batch left open was not carried whole, nor a part's every op
    /// the file said it carries.
    ///
    /// A part none of whose ops came is refused too: an exporter carries every op it holds of
    /// a part it states, so such a part vouches for nothing and would only take its device
    /// out of the passenger rules (and keep the file from being already imported).
    pub fn finish(&mut self) -> Result<(), SignatureError> {
        self.close_open_part()?;
        self.close_open()?;
        if let Some(open) = self.parts.values().flatten().find(|p| p.to_come > 0) {
            return Err(SignatureError::PartialBatch {
                origin: open.part.origin,
                first: open.part.first,
                last: open.part.last,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Hlc, OpId};

    fn op(origin: Uuid, seq: i64, value: &str) -> Op {
        Op {
            id: OpId { origin, seq },
            hlc: Hlc(seq as u64),
            table: 2,
            row: Uuid::nil(),
            field: "phone".into(),
            value: FieldValue::Text(value.into()),
            preds: vec![],
            seen: vec![],
        }
    }

    fn file_of(key: &SigningKey, origin: Uuid, ops: &[Op]) -> (BTreeMap<Uuid, String>, BatchSig) {
        let sig = sign_batch(key, origin, 1, ops.len() as i64, ops);
        let keys = BTreeMap::from([(origin, hex(key.verifying_key().as_bytes()))]);
        let batch = BatchSig::new(origin, 1, ops.len() as i64, hex(&sig));
        (keys, batch)
    }

    #[test]
    fn a_whole_batch_verifies_and_an_altered_or_cut_one_does_not() {
        let key = new_signing_key();
        let origin = Uuid::now_v7();
        let ops = vec![op(origin, 1, "a"), op(origin, 2, "b")];
        let (keys, batch) = file_of(&key, origin, &ops);
        let mut v = StreamVerifier::new(&keys, std::slice::from_ref(&batch)).unwrap();
        assert_eq!(v.push(&ops[0]), Ok(true));
        assert_eq!(v.push(&ops[1]), Ok(true));
        assert_eq!(v.finish(), Ok(()));

        let mut altered = ops.clone();
        altered[1].value = FieldValue::Text("c".into());
        let mut v = StreamVerifier::new(&keys, std::slice::from_ref(&batch)).unwrap();
        assert_eq!(v.push(&altered[0]), Ok(true));
        assert!(matches!(
            v.push(&altered[1]),
            Err(SignatureError::BadSignature { .. })
        ));

        let mut v = StreamVerifier::new(&keys, std::slice::from_ref(&batch)).unwrap();
        assert_eq!(v.push(&ops[0]), Ok(true));
        assert!(matches!(
            v.finish(),
            Err(SignatureError::PartialBatch { .. })
        ));

        // A declared device's op no batch covers is said unsigned (the import leaves it out).
        let mut v = StreamVerifier::new(&keys, &[]).unwrap();
        assert_eq!(v.push(&ops[0]), Ok(false));
    }

    #[test]
    fn a_part_of_a_batch_verifies_with_the_hashes_of_the_ops_left_out_and_an_altered_one_does_not()
    {
        let key = new_signing_key();
        let public = hex(key.verifying_key().as_bytes());
        let origin = Uuid::now_v7();
        let ops = vec![op(origin, 1, "a"), op(origin, 2, "b"), op(origin, 3, "c")];
        let sig = hex(&sign_parts(&key, origin, 1, 3, &ops));
        let whole: Vec<&Op> = ops.iter().collect();
        assert!(parts_signed(&public, origin, 1, 3, &whole, &sig));
        // A page carries op 2 only, with the hashes of ops 1 and 3.
        let part = BatchPart {
            origin,
            first: 1,
            last: 3,
            sig: sig.clone(),
            left_out: vec![(1, hex(&op_hash(&ops[0]))), (3, hex(&op_hash(&ops[2])))],
        };
        assert_eq!(check_part(&public, &part, &[&ops[1]]), Ok(()));
        // The op altered, the op under another seq, a hash altered, another key: refused.
        let mut altered = ops[1].clone();
        altered.value = FieldValue::Text("x".into());
        assert!(matches!(
            check_part(&public, &part, &[&altered]),
            Err(SignatureError::BadSignature { .. })
        ));
        let mut bad_hash = part.clone();
        bad_hash.left_out[0].1 = hex(&op_hash(&altered));
        assert!(matches!(
            check_part(&public, &bad_hash, &[&ops[1]]),
            Err(SignatureError::BadSignature { .. })
        ));
        let other = hex(new_signing_key().verifying_key().as_bytes());
        assert!(matches!(
            check_part(&other, &part, &[&ops[1]]),
            Err(SignatureError::BadSignature { .. })
        ));
        // Ops and hashes must fill the batch exactly: a gap, a seq stated twice, nothing
        // carried.
        let mut gap = part.clone();
        gap.left_out.pop();
        assert!(matches!(
            check_part(&public, &gap, &[&ops[1]]),
            Err(SignatureError::PartialBatch { .. })
        ));
        let mut twice = part.clone();
        twice.left_out[1] = (2, hex(&op_hash(&ops[1])));
        assert!(matches!(
            check_part(&public, &twice, &[&ops[1]]),
            Err(SignatureError::PartialBatch { .. })
        ));
        assert!(matches!(
            check_part(&public, &part, &[]),
            Err(SignatureError::PartialBatch { .. })
        ));
        // The batch's first signature is another: the second does not stand in for it.
        let (keys, batch) = file_of(&key, origin, &ops);
        let mut v = StreamVerifier::new(&keys, std::slice::from_ref(&batch)).unwrap();
        for op in &ops {
            assert_eq!(v.push(op), Ok(true));
        }
        assert_ne!(batch.sig, sig);
    }

    #[test]
    fn a_forged_part_claiming_a_huge_range_is_refused_without_setting_anything_aside() {
        let key = new_signing_key();
        let origin = Uuid::now_v7();
        let keys = BTreeMap::from([(origin, hex(key.verifying_key().as_bytes()))]);
        let sig = hex(&[7u8; 64]);
        let part = |first: i64, last: i64| BatchPart {
            origin,
            first,
            last,
            sig: sig.clone(),
            left_out: Vec::new(),
        };
        let with = |parts: &[BatchPart], op_count: u64| {
            StreamVerifier::new(&keys, &[])
                .unwrap()
                .with_parts(parts, op_count)
        };
        // A small file declaring a huge op count and one part of 2^40 seqs: refused at once
        // (before, 2^40 slots were set aside for it and the allocation aborted the app).
        let huge = 1u64 << 50;
        assert!(matches!(
            with(&[part(1, 1 << 40)], huge),
            Err(SignatureError::MalformedKey { .. })
        ));
        assert!(with(&[part(1, i64::MAX)], u64::MAX).is_err());
        // Many parts, each as long as a part may be: nothing set aside per seq, and their
        // carried ops together may not pass the file's op count.
        let len = MAX_PART_OPS as i64;
        let many: Vec<BatchPart> = (0..64).map(|k| part(1 + k * len, (k + 1) * len)).collect();
        assert!(with(&many, 10).is_err());
        assert!(with(&many, 64 * MAX_PART_OPS - 1).is_err());
        let mut v = with(&many, huge).unwrap();
        // None of their ops came: the file is refused at its end.
        assert!(matches!(
            v.finish(),
            Err(SignatureError::PartialBatch { .. })
        ));
        // Each one longer than a part may be: refused.
        let longer: Vec<BatchPart> = (0..64)
            .map(|k| part(1 + k * (len + 1), (k + 1) * (len + 1)))
            .collect();
        assert!(with(&longer, huge).is_err());
        // A part stating more hashes than a page may, or hashes out of order: refused.
        let mut stated = part(1, 3);
        stated.left_out = vec![(3, hex(&[0u8; 32])), (1, hex(&[0u8; 32]))];
        assert!(with(&[stated], 3).is_err());
        let mut many_hashes = part(1, MAX_PART_LEFT_OUT as i64 + 2);
        many_hashes.left_out = (1..=MAX_PART_LEFT_OUT as i64 + 1)
            .map(|seq| (seq, hex(&[0u8; 32])))
            .collect();
        assert!(with(&[many_hashes], 3).is_err());
    }

    #[test]
    fn hostile_seqs_in_a_part_are_refused_without_overflow() {
        let key = new_signing_key();
        let public = hex(key.verifying_key().as_bytes());
        let origin = Uuid::now_v7();
        let ops = vec![op(origin, 1, "a"), op(origin, 2, "b")];
        let sig = hex(&sign_parts(&key, origin, 1, 2, &ops));
        let part = BatchPart {
            origin,
            first: 1,
            last: 2,
            sig: sig.clone(),
            left_out: vec![(i64::MIN, hex(&op_hash(&ops[0])))],
        };
        assert!(matches!(
            check_part(&public, &part, &[&ops[1]]),
            Err(SignatureError::PartialBatch { .. })
        ));
        let far = op(origin, i64::MIN, "x");
        let mut carried = part.clone();
        carried.left_out = vec![(2, hex(&op_hash(&ops[1])))];
        assert!(matches!(
            check_part(&public, &carried, &[&far]),
            Err(SignatureError::PartialBatch { .. })
        ));
        let whole: Vec<&Op> = ops.iter().collect();
        assert!(!parts_signed(
            &public,
            origin,
            i64::MIN,
            i64::MAX,
            &whole,
            &sig
        ));
        assert!(!parts_signed(&public, origin, 1, i64::MIN, &whole, &sig));
    }

    #[test]
    fn a_file_carrying_part_of_a_batch_is_checked_as_its_ops_stream_past() {
        let key = new_signing_key();
        let origin = Uuid::now_v7();
        let ops = vec![
            op(origin, 1, "a"),
            op(origin, 2, "b"),
            op(origin, 3, "c"),
            op(origin, 4, "d"),
        ];
        let keys = BTreeMap::from([(origin, hex(key.verifying_key().as_bytes()))]);
        // The file carries ops 2 and 3; 1 and 4 are another village's.
        let part = BatchPart {
            origin,
            first: 1,
            last: 4,
            sig: hex(&sign_parts(&key, origin, 1, 4, &ops)),
            left_out: vec![(1, hex(&op_hash(&ops[0]))), (4, hex(&op_hash(&ops[3])))],
        };
        let verifier = || {
            StreamVerifier::new(&keys, &[])
                .unwrap()
                .with_parts(std::slice::from_ref(&part), 2)
                .unwrap()
        };
        let mut v = verifier();
        assert_eq!(v.push(&ops[1]), Ok(true));
        assert_eq!(v.push(&ops[2]), Ok(true));
        assert_eq!(v.finish(), Ok(()));
        assert!(v.verified_part(origin, 1));
        assert!(v.verified_any(origin), "a part that holds proves the key");

        let mut altered = ops[2].clone();
        altered.value = FieldValue::Text("x".into());
        let mut v = verifier();
        assert_eq!(v.push(&ops[1]), Ok(true));
        assert!(matches!(
            v.push(&altered),
            Err(SignatureError::BadSignature { .. })
        ));
        // One of its carried ops missing, or an op it says is left out: refused.
        let mut v = verifier();
        assert_eq!(v.push(&ops[1]), Ok(true));
        assert!(matches!(
            v.finish(),
            Err(SignatureError::PartialBatch { .. })
        ));
        let mut v = verifier();
        assert!(matches!(
            v.push(&ops[0]),
            Err(SignatureError::PartialBatch { .. })
        ));
        // A part longer than the file's ops could fill, or overlapping a whole batch of the
        // file, is refused before any op.
        let mut long = part.clone();
        long.last = i64::MAX;
        assert!(
            StreamVerifier::new(&keys, &[])
                .unwrap()
                .with_parts(&[long], 2)
                .is_err()
        );
        let batch = BatchSig::new(
            origin,
            4,
            4,
            hex(&sign_batch(&key, origin, 4, 4, &ops[3..])),
        );
        assert!(
            StreamVerifier::new(&keys, &[batch])
                .unwrap()
                .with_parts(std::slice::from_ref(&part), 2)
                .is_err()
        );
    }

    #[test]
    fn the_person_a_batch_names_is_checked_and_cannot_be_altered_or_moved() {
        let key = new_signing_key();
        let origin = Uuid::now_v7();
        let ops = vec![op(origin, 1, "a"), op(origin, 2, "b")];
        let (keys, mut batch) = file_of(&key, origin, &ops);
        let batch_sig = unhex(&batch.sig).unwrap();
        batch.by = Some("王队员".into());
        batch.by_sig = Some(hex(&sign_author(&key, origin, 1, 2, &batch_sig, "王队员")));
        let verifies = |b: &BatchSig| -> Result<(), SignatureError> {
            let mut v = StreamVerifier::new(&keys, std::slice::from_ref(b))?;
            for op in &ops {
                v.push(op)?;
            }
            v.finish()
        };
        assert_eq!(verifies(&batch), Ok(()));

        // Another name in its place, a name without its signature, a signature without a name.
        let mut renamed = batch.clone();
        renamed.by = Some("李书记".into());
        assert!(matches!(
            verifies(&renamed),
            Err(SignatureError::BadSignature { .. })
        ));
        let mut unsigned = batch.clone();
        unsigned.by_sig = None;
        assert!(matches!(
            verifies(&unsigned),
            Err(SignatureError::BadSignature { .. })
        ));
        let mut nameless = batch.clone();
        nameless.by = None;
        assert!(matches!(
            verifies(&nameless),
            Err(SignatureError::BadSignature { .. })
        ));
        // The statement is for that batch only: moved onto another batch of the device, it fails.
        let other_ops = vec![op(origin, 3, "c")];
        let other_sig = sign_batch(&key, origin, 3, 3, &other_ops);
        let mut moved = BatchSig::new(origin, 3, 3, hex(&other_sig));
        moved.by = batch.by.clone();
        moved.by_sig = batch.by_sig.clone();
        assert!(matches!(
            StreamVerifier::new(&keys, &[moved]),
            Err(SignatureError::BadSignature { .. })
        ));
        // Signed by another key (a forger naming a person on someone else's batch): refused.
        let forger = new_signing_key();
        let mut forged = batch.clone();
        forged.by_sig = Some(hex(&sign_author(
            &forger,
            origin,
            1,
            2,
            &batch_sig,
            "王队员",
        )));
        assert!(matches!(
            verifies(&forged),
            Err(SignatureError::BadSignature { .. })
        ));
        // A name longer than this version keeps (a later version's) is left unchecked, not a
        // reason to refuse the file; it is not kept either (`record_signatures`).
        let mut long = batch.clone();
        long.by = Some("名".repeat(MAX_AUTHOR_CHARS + 1));
        assert_eq!(verifies(&long), Ok(()));
        // Dropped whole, the batch still verifies: a relay can leave the name out, not change it.
        let mut dropped = batch.clone();
        dropped.by = None;
        dropped.by_sig = None;
        assert_eq!(verifies(&dropped), Ok(()));
    }

    #[test]
    fn a_file_signature_holds_for_its_source_and_whole_header_only() {
        let key = new_signing_key();
        let origin = Uuid::now_v7();
        let ops = vec![op(origin, 1, "a")];
        use crate::sync::changeset::{self, Header};
        let blank = Header {
            format_version: 0,
            schema_version: 1,
            source_device: origin,
            source_name: "村".into(),
            created_ms: 1,
            covered: BTreeMap::new(),
            device_names: BTreeMap::new(),
            op_count: 0,
            body_sha256: String::new(),
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
        };
        let file = changeset::encode_signed_into::<_, std::io::Error>(
            Vec::new(),
            blank,
            &ops,
            &[],
            |_| Ok(Vec::new()),
            Some(&key),
        )
        .unwrap();
        let mut header = changeset::decode(&file).unwrap().0;
        let public = key.verifying_key().to_bytes();
        assert!(file_signed_by(&header, &public));
        // Another device's key, another source, another body, no signature: not signed.
        assert!(!file_signed_by(
            &header,
            &new_signing_key().verifying_key().to_bytes()
        ));
        let body = header.body_sha256.clone();
        header.body_sha256 = "00".repeat(32);
        assert!(!file_signed_by(&header, &public));
        header.body_sha256 = body;
        header.source_device = Uuid::now_v7();
        assert!(!file_signed_by(&header, &public));
        header.source_device = origin;
        // Every other field of the header is covered too: a name, a held range, a declared key.
        let signed = header.clone();
        header.device_names.insert(origin, "乡镇站".into());
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.held = Some([(origin, vec![(1, 99)])].into_iter().collect());
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.signers = Some(BTreeMap::from([(Uuid::now_v7(), "00".repeat(32))]));
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.source_name = "县同步中心".into();
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.created_ms += 1;
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.covered.insert(origin, 7);
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.carried = Some(BTreeMap::new());
        assert!(!file_signed_by(&header, &public));
        header = signed.clone();
        header.snapshot = Some(true);
        assert!(!file_signed_by(&header, &public));
        // The batch signatures are not: each is its own device's, checked on its own.
        header = signed.clone();
        header.batches = Some(Vec::new());
        assert!(file_signed_by(&header, &public));
        // A file of the version before signs its source, time and body only: still believed.
        header = signed;
        let v1 = file_digest(
            header.source_device,
            header.created_ms,
            header.op_count,
            &header.body_sha256,
        );
        header.source_sig = Some(hex(&key.sign(&v1).to_bytes()));
        assert!(file_signed_by(&header, &public));
        header.source_sig = None;
        assert!(!file_signed_by(&header, &public));
        // Signed that way after the cut-off: no longer believed (the time is under that
        // digest: moving it back breaks the signature).
        let late = OLD_FILE_DIGEST_UNTIL_MS;
        let v1_late = file_digest(
            header.source_device,
            late,
            header.op_count,
            &header.body_sha256,
        );
        header.created_ms = late;
        header.source_sig = Some(hex(&key.sign(&v1_late).to_bytes()));
        assert!(!file_signed_by(&header, &public));
        header.created_ms = late - 1;
        assert!(
            !file_signed_by(&header, &public),
            "time moved back: signature breaks"
        );
        let v1_before = file_digest(
            header.source_device,
            late - 1,
            header.op_count,
            &header.body_sha256,
        );
        header.source_sig = Some(hex(&key.sign(&v1_before).to_bytes()));
        assert!(file_signed_by(&header, &public));
    }

    #[test]
    fn fingerprints_are_six_groups_of_five_digits_and_differ_per_key() {
        let a = fingerprint(new_signing_key().verifying_key().as_bytes());
        let b = fingerprint(new_signing_key().verifying_key().as_bytes());
        assert_ne!(a, b);
        let groups: Vec<&str> = a.split(' ').collect();
        assert_eq!(groups.len(), 6);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit()))
        );
        assert_eq!(fingerprint_digits(&a).len(), 30);
    }

    #[test]
    fn hex_round_trips_and_refuses_odd_or_foreign_text() {
        assert_eq!(unhex(&hex(&[0, 15, 255])), Some(vec![0, 15, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
