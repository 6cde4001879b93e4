//! Reads for a page loaded against a base: a row's heads by field name, and the clock and value
//! of ops named by id (an op's content never changes, so these reads need no write lock).

use std::collections::BTreeMap;

use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::{Store, StoreError, heads};
use crate::model::FieldValue;
use crate::sync::{Hlc, OpId};

/// An op as a page's base needs it: its id, clock and value.
pub type OpClockValue = (OpId, Hlc, FieldValue);

impl Store {
    /// Every current head of a row by field name (the `deleted` field included), each list
    /// sorted; empty for a row never written.
    pub fn row_heads_by_field(&self, row: Uuid) -> Result<BTreeMap<String, Vec<OpId>>, StoreError> {
        let conn = &self.conn;
        let mut field_name = conn.prepare_cached("SELECT name FROM field_name WHERE idx = ?1")?;
        let mut device_id = conn.prepare_cached("SELECT id FROM device WHERE idx = ?1")?;
        let mut out: BTreeMap<String, Vec<OpId>> = BTreeMap::new();
        for (field, origin, seq) in heads::load(conn, row)? {
            let name: String = field_name.query_row([field], |r| r.get(0))?;
            let bytes: Vec<u8> = device_id.query_row([origin], |r| r.get(0))?;
            let origin = Uuid::from_slice(&bytes).map_err(|_| heads::damaged(row.as_bytes()))?;
            out.entry(name).or_default().push(OpId { origin, seq });
        }
        for ids in out.values_mut() {
            ids.sort_unstable();
        }
        Ok(out)
    }

    /// The clock and value of each op, in the order asked; `None` when this copy does not hold
    /// one of them.
    pub fn op_clock_values(&self, ids: &[OpId]) -> Result<Option<Vec<OpClockValue>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.hlc, o.val FROM op o JOIN device d ON d.idx = o.origin
             WHERE d.id = ?1 AND o.seq = ?2",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let found = stmt
                .query_row(
                    rusqlite::params![id.origin.as_bytes().as_slice(), id.seq],
                    |r| {
                        Ok((
                            Hlc::from_i64(r.get(0)?),
                            FieldValue::from_sql(r.get_ref(1)?),
                        ))
                    },
                )
                .optional()?;
            match found {
                Some((hlc, value)) => out.push((*id, hlc, value)),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// The ops an op names as predecessors (the heads its writer saw and wrote over); empty
    /// when this copy does not hold it. For the history of a field and the simulation's checks.
    pub fn op_preds(&self, id: OpId) -> Result<Vec<OpId>, StoreError> {
        let preds: Option<Option<Vec<u8>>> = self
            .conn
            .prepare_cached(
                "SELECT o.preds FROM op o JOIN device d ON d.idx = o.origin
                 WHERE d.id = ?1 AND o.seq = ?2",
            )?
            .query_row(
                rusqlite::params![id.origin.as_bytes().as_slice(), id.seq],
                |r| r.get(0),
            )
            .optional()?;
        let local = preds
            .flatten()
            .and_then(|b| crate::sync::op::decode_local_ids(&b))
            .unwrap_or_default();
        let mut device = self
            .conn
            .prepare_cached("SELECT id FROM device WHERE idx = ?1")?;
        let mut out = Vec::with_capacity(local.len());
        for (origin, seq) in local {
            let id: Vec<u8> = device.query_row([origin], |r| r.get(0))?;
            if let Ok(origin) = Uuid::from_slice(&id) {
                out.push(OpId { origin, seq });
            }
        }
        Ok(out)
    }
}
