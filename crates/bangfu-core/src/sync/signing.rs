//! Batch signatures: what a device signs over the ops one of its writes produced, how a file
//! states them, and how a receiver checks them while the ops stream past.
//!
//! A local write produces ops `first..=last` of one device. The device signs (Ed25519) one
//! SHA-256 over a canonical encoding of exactly those ops, not each op: 64 bytes per write,
//! not per field. A changeset names the public key of every device whose signed ops it
//! carries and the signatures of the batches it carries; a relay copies both unchanged, so it
//! can carry ops but not alter or invent them. Exports carry whole batches.

use std::collections::BTreeMap;

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
}

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
            if b.first < 1 || b.last < b.first || !parsed.contains_key(&b.origin) {
                return Err(bad());
            }
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
        })
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
            return self.close_open().map(|()| false);
        };
        if let Some((hasher, _)) = &mut self.open {
            if hasher.push(op) {
                return self.finish_if_complete(&key).map(|()| true);
            }
            self.close_open()?;
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

    /// The end of the file: a batch left open was not carried whole.
    pub fn finish(&mut self) -> Result<(), SignatureError> {
        self.close_open()
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
        let batch = BatchSig {
            origin,
            first: 1,
            last: ops.len() as i64,
            sig: hex(&sig),
        };
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
