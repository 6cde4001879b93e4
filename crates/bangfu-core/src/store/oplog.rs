//! Reading the op log back out: for changeset files, the hub, and tests.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::model::FieldValue;
use crate::sync::op::decode_local_ids;
use crate::sync::{Hlc, Op, OpId};

/// Per origin device: the highest seq held without a gap.
pub type VersionVector = BTreeMap<Uuid, i64>;

impl Store {
    /// What this copy holds, per origin, without gaps.
    pub fn version_vector(&self) -> Result<VersionVector, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, v.contiguous FROM version_vector v JOIN device d ON d.idx = v.origin",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
        let mut vv = VersionVector::new();
        for row in rows {
            let (id, seq) = row?;
            if let Ok(id) = Uuid::from_slice(&id) {
                vv.insert(id, seq);
            }
        }
        Ok(vv)
    }

    /// Exactly which ops this copy holds: per origin, the ranges of seqs. An origin held
    /// without a gap is one range read from the version vector; only origins with gaps (a
    /// scoped copy holds another village's device's ops with gaps) read their seqs.
    pub fn held_ranges(&self) -> Result<crate::sync::changeset::SeqRanges, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.origin, d.id, v.contiguous, v.max_seq FROM version_vector v
             JOIN device d ON d.idx = v.origin",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = crate::sync::changeset::SeqRanges::new();
        let mut islands = self.conn.prepare_cached(
            "SELECT min(seq), max(seq) FROM
               (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS island
                FROM op WHERE origin = ?1 AND seq > ?2)
             GROUP BY island ORDER BY 1",
        )?;
        for (idx, id, contiguous, max_seq) in rows {
            let Ok(id) = Uuid::from_slice(&id) else {
                continue;
            };
            let mut ranges = Vec::new();
            if contiguous > 0 {
                ranges.push((1, contiguous));
            }
            if max_seq > contiguous {
                let more = islands
                    .query_map([idx, contiguous], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<(i64, i64)>, _>>()?;
                ranges.extend(more);
            }
            if !ranges.is_empty() {
                out.insert(id, ranges);
            }
        }
        Ok(out)
    }

    /// Whether this copy holds every op the ranges name.
    pub fn holds_all(
        &self,
        ranges: &crate::sync::changeset::SeqRanges,
    ) -> Result<bool, StoreError> {
        let vv = self.version_vector()?;
        let mut count = self.conn.prepare_cached(
            "SELECT count(*) FROM op o JOIN device d ON d.idx = o.origin
             WHERE d.id = ?1 AND o.seq BETWEEN ?2 AND ?3",
        )?;
        for (origin, list) in ranges {
            let contiguous = vv.get(origin).copied().unwrap_or(0);
            for &(lo, hi) in list {
                if hi <= contiguous {
                    continue;
                }
                let held: i64 = count.query_row(
                    rusqlite::params![origin.as_bytes().as_slice(), lo, hi],
                    |r| r.get(0),
                )?;
                if held != hi - lo + 1 {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Every op this copy holds that a peer holding exactly `peer` lacks, ordered by origin and
    /// seq.
    pub fn ops_missing_from_ranges(
        &self,
        peer: &crate::sync::changeset::SeqRanges,
    ) -> Result<Vec<Op>, StoreError> {
        let contiguous: VersionVector = peer
            .iter()
            .filter_map(|(origin, list)| match list.first() {
                Some(&(1, hi)) => Some((*origin, hi)),
                _ => None,
            })
            .collect();
        let mut ops = self.ops_missing_from(&contiguous)?;
        ops.retain(|op| !crate::sync::changeset::ranges_contain(peer, op.id.origin, op.id.seq));
        Ok(ops)
    }

    /// The name of every device whose ops this copy holds.
    pub fn device_names(&self) -> Result<BTreeMap<Uuid, String>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, name FROM device")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut names = BTreeMap::new();
        for row in rows {
            let (id, name) = row?;
            if let Ok(id) = Uuid::from_slice(&id) {
                names.insert(id, name);
            }
        }
        Ok(names)
    }

    /// Every op this copy holds that a peer with version vector `peer` lacks (all ops for an
    /// empty vector), ordered by origin and seq. Ops past a gap in the peer's vector are
    /// included: sending an op twice is harmless, missing one is not.
    pub fn ops_missing_from(&self, peer: &VersionVector) -> Result<Vec<Op>, StoreError> {
        let names = op_names_on(&self.conn)?;
        let mut idxs: Vec<(i64, Uuid)> = names.origins.iter().map(|(i, u)| (*i, *u)).collect();
        idxs.sort_by_key(|(_, u)| *u);
        let mut out = Vec::new();
        for (idx, origin) in idxs {
            let after = peer.get(&origin).copied().unwrap_or(0);
            read_ops_on(&self.conn, &names, idx, origin, after, i64::MAX, &mut out)?;
        }
        Ok(out)
    }

    /// The current state as ops: every op that is a head of its field (no op this copy holds
    /// names it as a predecessor; a conflict's heads all), sorted by origin and seq. What a
    /// snapshot carries: a copy holding nothing that applies them has the same state.
    pub fn head_ops(&self) -> Result<Vec<Op>, StoreError> {
        let mut seqs: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare("SELECT row, heads FROM row_head")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let row: Vec<u8> = r.get(0)?;
                let heads: Vec<u8> = r.get(1)?;
                let keys =
                    super::heads::decode(&heads).ok_or_else(|| super::heads::damaged(&row))?;
                for (_, origin, seq) in keys {
                    seqs.entry(origin).or_default().push(seq);
                }
            }
        }
        let names = op_names_on(&self.conn)?;
        let mut by_origin: Vec<(Uuid, i64, Vec<i64>)> = seqs
            .into_iter()
            .filter_map(|(idx, list)| names.origins.get(&idx).map(|id| (*id, idx, list)))
            .collect();
        by_origin.sort_by_key(|(id, _, _)| *id);
        let mut out = Vec::new();
        for (origin, idx, mut list) in by_origin {
            list.sort_unstable();
            list.dedup();
            // Runs of consecutive seqs, each read in one range.
            let mut i = 0;
            while i < list.len() {
                let first = list[i];
                let mut last = first;
                while i + 1 < list.len() && list[i + 1] == last + 1 {
                    i += 1;
                    last = list[i];
                }
                read_ops_on(
                    &self.conn,
                    &names,
                    idx,
                    origin,
                    first - 1,
                    last - first + 1,
                    &mut out,
                )?;
                i += 1;
            }
        }
        Ok(out)
    }

    /// The ops of one origin (by local index) with seq above `after`, at most `limit`.
    pub(super) fn origin_ops_after(
        &self,
        idx: i64,
        origin: Uuid,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Op>, StoreError> {
        let names = op_names_on(&self.conn)?;
        let mut out = Vec::new();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read_ops_on(&self.conn, &names, idx, origin, after, limit, &mut out)?;
        Ok(out)
    }
}

/// The ops `first..=last` of one origin (by local index), read on `conn` (also inside a
/// write transaction), in seq order.
pub(super) fn read_op_range(
    conn: &Connection,
    idx: i64,
    origin: Uuid,
    first: i64,
    last: i64,
) -> Result<Vec<Op>, StoreError> {
    let names = op_names_on(conn)?;
    let mut out = Vec::new();
    read_ops_on(
        conn,
        &names,
        idx,
        origin,
        first - 1,
        last - first + 1,
        &mut out,
    )?;
    Ok(out)
}

/// The local numbering of devices and field names, to turn stored ops back into `Op`s.
fn op_names_on(conn: &Connection) -> Result<OpNames, StoreError> {
    let mut origins: HashMap<i64, Uuid> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT idx, id FROM device")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))? {
        let (idx, id) = row?;
        if let Ok(id) = Uuid::from_slice(&id) {
            origins.insert(idx, id);
        }
    }
    let mut fields: HashMap<i64, String> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT idx, name FROM field_name")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (idx, name) = row?;
        fields.insert(idx, name);
    }
    Ok(OpNames { origins, fields })
}

#[allow(clippy::too_many_arguments)]
fn read_ops_on(
    conn: &Connection,
    names: &OpNames,
    idx: i64,
    origin: Uuid,
    after: i64,
    limit: i64,
    out: &mut Vec<Op>,
) -> Result<(), StoreError> {
    let to_ids = |blob: Option<Vec<u8>>| -> Vec<OpId> {
        blob.and_then(|b| decode_local_ids(&b))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(o, seq)| names.origins.get(&o).map(|&origin| OpId { origin, seq }))
            .collect()
    };
    let mut stmt = conn.prepare_cached(
        "SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM op
         WHERE origin = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let mut rows = stmt.query(rusqlite::params![idx, after, limit])?;
    while let Some(r) = rows.next()? {
        let row: Vec<u8> = r.get(4)?;
        let field: i64 = r.get(5)?;
        out.push(Op {
            id: OpId {
                origin,
                seq: r.get(1)?,
            },
            hlc: Hlc::from_i64(r.get(2)?),
            table: r.get(3)?,
            row: Uuid::from_slice(&row).unwrap_or_default(),
            field: names.fields.get(&field).cloned().unwrap_or_default(),
            value: FieldValue::from_sql(r.get_ref(6)?),
            preds: to_ids(r.get(7)?),
            seen: to_ids(r.get(8)?),
        });
    }
    Ok(())
}

/// Local device and field-name numbering of one data file.
struct OpNames {
    origins: HashMap<i64, Uuid>,
    fields: HashMap<i64, String>,
}
