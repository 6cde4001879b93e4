//! The unit of sync: one field change of one row, with the heads its writer saw.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hlc::Hlc;
use crate::model::FieldValue;

/// The identity of an op: the device that wrote it and that device's sequence number.
#[derive(
    ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct OpId {
    pub origin: Uuid,
    pub seq: i64,
}

/// One field-level change. `preds` are the field's heads the writer saw; `seen` is used only by
/// delete ops and lists the heads of the row's other fields the deleter saw, so that an edit
/// the deleter did not see becomes a review item instead of a silent loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub hlc: Hlc,
    /// Table code (see `model::Table`); codes of newer versions are kept as they are.
    pub table: i64,
    pub row: Uuid,
    pub field: String,
    pub value: FieldValue,
    pub preds: Vec<OpId>,
    pub seen: Vec<OpId>,
}

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint from `buf` at `*pos`; `None` on truncated or overlong input.
pub(crate) fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Local encoding of a list of op ids as (device idx, seq) varint pairs.
pub(crate) fn encode_local_ids(ids: &[(i64, i64)]) -> Option<Vec<u8>> {
    if ids.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(ids.len() * 4);
    for &(origin, seq) in ids {
        put_varint(&mut out, origin as u64);
        put_varint(&mut out, seq as u64);
    }
    Some(out)
}

pub(crate) fn decode_local_ids(buf: &[u8]) -> Option<Vec<(i64, i64)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let origin = get_varint(buf, &mut pos)? as i64;
        let seq = get_varint(buf, &mut pos)? as i64;
        out.push((origin, seq));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_id_lists_round_trip() {
        let ids = vec![(1, 1), (2, 300), (130, 1 << 40)];
        let enc = encode_local_ids(&ids).unwrap_or_default();
        assert_eq!(decode_local_ids(&enc), Some(ids));
        assert_eq!(encode_local_ids(&[]), None);
    }

    #[test]
    fn truncated_varints_are_refused() {
        assert_eq!(decode_local_ids(&[0x81]), None);
        assert_eq!(decode_local_ids(&[0xFF; 11]), None);
    }
}
