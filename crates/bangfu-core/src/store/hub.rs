//! This copy's link to the county sync hub, kept in the local `hub_link` table: the hub's
//! address, the token it gave, the scope, and how far pulls and pushes have got.
//!
//! The HTTP side lives in `bangfu-hub`; the core only keeps these positions and hands out this
//! device's own ops in order.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::sync::Op;

/// Where and how this copy syncs with the county hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubLink {
    pub url: String,
    #[serde(skip)]
    pub token: String,
    /// 12-digit village code, 9-digit township prefix or 6-digit county code.
    pub scope: String,
    /// The hub log position up to which this copy has pulled its scope.
    pub pulled_pos: i64,
    /// The device id whose ops the hub last acknowledged, and up to which seq.
    pub pushed_origin: Option<Uuid>,
    pub pushed_seq: i64,
    pub last_sync_ms: Option<i64>,
}

impl Store {
    /// The hub this copy is enrolled with, if any.
    pub fn hub_link(&self) -> Result<Option<HubLink>, StoreError> {
        let link = self
            .conn
            .query_row(
                "SELECT url, token, scope, pulled_pos, pushed_origin, pushed_seq, last_sync_ms
                 FROM hub_link WHERE id = 1",
                [],
                |r| {
                    Ok(HubLink {
                        url: r.get(0)?,
                        token: r.get(1)?,
                        scope: r.get(2)?,
                        pulled_pos: r.get(3)?,
                        pushed_origin: r
                            .get::<_, Option<Vec<u8>>>(4)?
                            .and_then(|b| Uuid::from_slice(&b).ok()),
                        pushed_seq: r.get(5)?,
                        last_sync_ms: r.get(6)?,
                    })
                },
            )
            .optional()?;
        Ok(link)
    }

    /// Enrols this copy with a hub; a new enrolment starts pulling from the beginning.
    pub fn set_hub_link(&self, url: &str, token: &str, scope: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO hub_link (id, url, token, scope) VALUES (1, ?1, ?2, ?3)",
            params![url, token, scope],
        )?;
        Ok(())
    }

    /// Forgets the hub on this copy (address, token and positions); the data stays. Enrolling
    /// again later starts pulling from the beginning, which applies nothing twice.
    pub fn forget_hub_link(&self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM hub_link WHERE id = 1", [])?;
        Ok(())
    }

    /// Records that every op of the scope up to hub position `pos` is applied here. Called
    /// only after the ops are committed, so a crash re-pulls instead of skipping.
    pub fn record_hub_pull(&self, pos: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE hub_link SET pulled_pos = max(pulled_pos, ?1) WHERE id = 1",
            [pos],
        )?;
        Ok(())
    }

    /// Records what the hub acknowledged having stored of `origin`'s ops.
    pub fn record_hub_push(&self, origin: Uuid, seq: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE hub_link SET pushed_origin = ?1, pushed_seq = ?2 WHERE id = 1",
            params![origin.as_bytes().as_slice(), seq],
        )?;
        Ok(())
    }

    /// Records the time of a sync that completed.
    pub fn record_hub_sync(&self, ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE hub_link SET last_sync_ms = ?1 WHERE id = 1", [ms])?;
        Ok(())
    }

    /// The highest seq this device has written under its current identity.
    pub fn own_last_seq(&self) -> i64 {
        self.last_seq
    }

    /// The highest seq of this device's ops in the file, read from the file itself, so it is
    /// right on any connection (a background sync's own connection included), not only on the
    /// one that wrote them.
    pub fn own_last_seq_in_file(&self) -> Result<i64, StoreError> {
        let seq = self.conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM op WHERE origin = ?1",
            [self.device.idx],
            |r| r.get(0),
        )?;
        Ok(seq)
    }

    /// This device's own ops with seq above `after`, in seq order, at most `limit` of them.
    pub fn own_ops_after(&self, after: i64, limit: usize) -> Result<Vec<Op>, StoreError> {
        self.origin_ops_after(self.device.idx, self.device.id, after, limit)
    }
}
