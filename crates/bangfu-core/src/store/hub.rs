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

/// Local `meta` keys of the hub link (never replicated).
const META_PREVIOUS_TOKENS: &str = "hub_previous_tokens";
const META_OWN_ORIGINS: &str = "hub_own_origins";
const META_EPOCH: &str = "hub_epoch";
const META_PULLED_OP: &str = "hub_pulled_op";
/// Set when ops were taken out of the log (`apply::take_out`): the next sync pulls again from
/// the start ([`Store::take_hub_repull`]).
pub(crate) const META_REPULL: &str = "hub_repull";

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

    /// Enrols this copy with a hub; a new enrolment starts pulling from the beginning. The
    /// token it replaces is kept among the previous tokens (see [`Store::hub_previous_tokens`]),
    /// and this identity among the copy's own origins.
    pub fn set_hub_link(&self, url: &str, token: &str, scope: &str) -> Result<(), StoreError> {
        let mut previous = self.hub_previous_tokens()?;
        if let Some(old) = self.hub_link()?
            && !previous.contains(&old.token)
        {
            previous.push(old.token);
        }
        previous.retain(|t| t != token);
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO hub_link (id, url, token, scope) VALUES (1, ?1, ?2, ?3)",
            params![url, token, scope],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_PREVIOUS_TOKENS, previous.join(" ")],
        )?;
        tx.execute(
            "DELETE FROM meta WHERE key IN (?1, ?2)",
            params![META_EPOCH, META_PULLED_OP],
        )?;
        tx.commit()?;
        self.record_hub_own_origin()
    }

    /// The tokens this copy was enrolled with before the current one, oldest first: shown to
    /// the hub at a new enrolment as the proof that this is the same laptop.
    pub fn hub_previous_tokens(&self) -> Result<Vec<String>, StoreError> {
        let text: Option<String> = super::meta_get(&self.conn, META_PREVIOUS_TOKENS)?;
        Ok(text
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }

    /// Every device identity this copy wrote under while enrolled (the current one included),
    /// oldest first: a copied data file takes a new identity, and the old identity's ops it
    /// holds that the hub lacks are still this copy's to push.
    pub fn hub_own_origins(&self) -> Result<Vec<Uuid>, StoreError> {
        let text: Option<String> = super::meta_get(&self.conn, META_OWN_ORIGINS)?;
        let mut out: Vec<Uuid> = text
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|t| Uuid::parse_str(t).ok())
            .collect();
        if !out.contains(&self.device.id) {
            out.push(self.device.id);
        }
        Ok(out)
    }

    /// Adds the current identity to [`Store::hub_own_origins`] (at enrolment and every sync).
    pub fn record_hub_own_origin(&self) -> Result<(), StoreError> {
        let recorded: String = super::meta_get(&self.conn, META_OWN_ORIGINS)?.unwrap_or_default();
        let current = self.device.id.to_string();
        if recorded.split_whitespace().any(|o| o == current) {
            return Ok(());
        }
        let text = format!("{recorded} {current}");
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_OWN_ORIGINS, text.trim()],
        )?;
        Ok(())
    }

    /// The epoch of the hub database this copy last pulled from (`None` before the first pull).
    pub fn hub_epoch(&self) -> Result<Option<String>, StoreError> {
        let epoch: Option<String> = super::meta_get(&self.conn, META_EPOCH)?;
        Ok(epoch)
    }

    /// Keeps the epoch of the hub this copy pulls from.
    pub fn set_hub_epoch(&self, epoch: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_EPOCH, epoch],
        )?;
        Ok(())
    }

    /// Starts over with a hub that is not the one pulled from before (another database, or
    /// one restored from an older backup): its epoch is kept and the pull position goes back
    /// to the beginning. Re-pulling applies nothing twice.
    pub fn reset_hub_position(&self, epoch: &str) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE hub_link SET pulled_pos = 0, pushed_seq = 0 WHERE id = 1",
            [],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_EPOCH, epoch],
        )?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [META_PULLED_OP])?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the next pull is to start from the beginning because ops were taken out of the
    /// log since the last sync (a key that gave way signed them): pages pulled before may
    /// have brought ops the take-out removed that the device's real key signed (a person
    /// confirmed the wrong key for a while). Clears the mark and the pulled position in one
    /// transaction; a pull from the start applies nothing twice.
    pub fn take_hub_repull(&self) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let marked = tx.execute("DELETE FROM meta WHERE key = ?1", [META_REPULL])? > 0;
        if marked {
            tx.execute("UPDATE hub_link SET pulled_pos = 0 WHERE id = 1", [])?;
            tx.execute("DELETE FROM meta WHERE key = ?1", [META_PULLED_OP])?;
        }
        tx.commit()?;
        Ok(marked)
    }

    /// Forgets the hub on this copy (address, token and positions); the data stays. Enrolling
    /// again later starts pulling from the beginning, which applies nothing twice.
    pub fn forget_hub_link(&self) -> Result<(), StoreError> {
        self.require(crate::access::Permission::ChangeSettings)?;
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

    /// [`Store::record_hub_pull`], also keeping the op the hub has at `pos` (`origin:seq`), so
    /// the next pull can ask the hub whether its log still holds it there.
    pub fn record_hub_pull_at(&self, pos: i64, op_at: &str) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE hub_link SET pulled_pos = max(pulled_pos, ?1) WHERE id = 1",
            [pos],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_PULLED_OP, op_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The op (`origin:seq`) the hub had at the pulled position, as last recorded.
    pub fn hub_pulled_op(&self) -> Result<Option<String>, StoreError> {
        let op: Option<String> = super::meta_get(&self.conn, META_PULLED_OP)?;
        Ok(op)
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

    /// The ops of device `origin` this copy holds with seq above `after`, in seq order, at most
    /// `limit` of them (none when the copy holds none of that device).
    pub fn ops_of_origin_after(
        &self,
        origin: Uuid,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Op>, StoreError> {
        let idx: Option<i64> = self
            .conn
            .query_row(
                "SELECT idx FROM device WHERE id = ?1",
                [origin.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        match idx {
            Some(idx) => self.origin_ops_after(idx, origin, after, limit),
            None => Ok(Vec::new()),
        }
    }

    /// This device's own ops with seq above `after`, in seq order, at most `limit` of them.
    pub fn own_ops_after(&self, after: i64, limit: usize) -> Result<Vec<Op>, StoreError> {
        self.origin_ops_after(self.device.idx, self.device.id, after, limit)
    }
}
