//! Device keys and batch signatures in the data file: this identity's signing key (local
//! meta), the signature of every local write batch, the keys of other devices and whether a
//! person confirmed them, and the signatures an export carries.
//!
//! The private key sits in `meta`, which never leaves the file; until encryption at rest
//! lands (issue 15) anyone holding the data file holds the key. A new identity (a copied or
//! restored file) gets a new key: the key is tied to the identity it was made for.

use std::collections::{BTreeMap, HashSet};

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Device, Store, StoreError, meta_get};
use crate::sync::Op;
use crate::sync::signing::{self, BatchSig};

/// `meta` key of the signing key: `<device uuid>:<32 secret bytes, hex>`.
const META_SIGNING_KEY: &str = "signing_key";
/// `meta` key set when ops of devices not confirmed yet are held instead of merged.
const META_CONFIRM_DEVICES: &str = "confirm_devices";

/// A device this copy has heard of, for `bangfu device list` and the app.
#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceKey {
    pub device: Uuid,
    pub name: String,
    /// 6 groups of 5 digits, read aloud to compare with the device's own screen.
    pub fingerprint: String,
    pub public_key: String,
    pub confirmed: bool,
    /// The village code a person gave the device at confirmation.
    pub village: Option<String>,
    pub own: bool,
    /// Confirmed on the county's word (its certificate, or its hub's page), not by a person
    /// here: taking a renewed county key (改认) withdraws it until the new key vouches again.
    pub county_vouched: bool,
}

/// Meta key set while the held files are to be read again after the county confirmed keys.
const HELD_REREAD_PENDING: &str = "held_reread_pending";

/// `device_key.vouched_by` of a key the hub vouched for while this copy believed no county
/// key (a key the county's own word confirmed holds that key, hex; a person's: NULL).
pub(crate) const VOUCHED_BY_HUB: &str = "hub";
/// Meta key of a count that only grows, one per mark set: each mark is its own number, so a
/// reading clears only the mark it began under, never one set since (by the reading's own
/// files, or another program), even one set after the row was cleared and made again.
const HELD_REREAD_SEQ: &str = "held_reread_seq";

/// Sets the mark that the held files are to be read again, under a new number.
fn mark_reread(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, 1)
         ON CONFLICT (key) DO UPDATE SET value = coalesce(value, 0) + 1",
        [HELD_REREAD_SEQ],
    )?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value)
         SELECT ?1, value FROM meta WHERE key = ?2",
        [HELD_REREAD_PENDING, HELD_REREAD_SEQ],
    )?;
    Ok(())
}

/// A known key: its bytes, whether a person confirmed it, the village it is limited to.
pub(crate) type KnownKey = (Vec<u8>, bool, Option<String>);
/// Who wrote a stored batch and the device's signature over it.
type Author = Option<(String, Vec<u8>)>;
/// A stored batch: first seq, last seq, signature, author.
type StoredBatch = (i64, i64, Vec<u8>, Author);
/// A stored part of a cut batch: first seq, last seq, signature op by op, the seqs and hashes
/// of the ops this copy lacks (`op_batch_part.left_out`).
type StoredPart = (i64, i64, Vec<u8>, Vec<u8>);
/// A batch an export carries: last seq, origin's local index, signature, ops of it exported,
/// author.
type WantedBatch = (i64, i64, Vec<u8>, i64, Author);

/// `op_batch_part.left_out`: per op, its seq (8 bytes, little-endian) and hash, ascending.
fn encode_left_out(hashes: &BTreeMap<i64, [u8; 32]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * 40);
    for (seq, hash) in hashes {
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(hash);
    }
    out
}

fn decode_left_out(blob: &[u8]) -> impl Iterator<Item = (i64, [u8; 32])> + '_ {
    blob.chunks_exact(40).filter_map(|c| {
        let seq = i64::from_le_bytes(c[..8].try_into().ok()?);
        let hash: [u8; 32] = c[8..].try_into().ok()?;
        Some((seq, hash))
    })
}

fn corrupt(detail: &str) -> StoreError {
    StoreError::Corrupt {
        path: std::path::PathBuf::new(),
        detail: detail.to_owned(),
    }
}

/// This identity's signing key if it has made one (read only).
fn stored_signing_key(
    conn: &Connection,
    device: &Device,
) -> Result<Option<SigningKey>, StoreError> {
    let stored: Option<String> = meta_get(conn, META_SIGNING_KEY)?;
    let Some((id, secret)) = stored.as_deref().and_then(|s| s.split_once(':')) else {
        return Ok(None);
    };
    if id != device.id.to_string() {
        return Ok(None);
    }
    let bytes: [u8; 32] = signing::unhex(secret)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("signing key"))?;
    Ok(Some(SigningKey::from_bytes(&bytes)))
}

/// This identity's signing key, made (and its public half recorded as confirmed) the first
/// time the identity signs; `true` when made just now.
fn signing_key(
    conn: &Connection,
    device: &Device,
    wall_ms: u64,
) -> Result<(SigningKey, bool), StoreError> {
    if let Some(key) = stored_signing_key(conn, device)? {
        record_own_key(conn, device, &key, wall_ms)?;
        return Ok((key, false));
    }
    let key = signing::new_signing_key();
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![
            META_SIGNING_KEY,
            format!("{}:{}", device.id, signing::hex(&key.to_bytes()))
        ],
    )?;
    record_own_key(conn, device, &key, wall_ms)?;
    Ok((key, true))
}

/// This identity's public key among the known ones, confirmed (kept if already there).
fn record_own_key(
    conn: &Connection,
    device: &Device,
    key: &SigningKey,
    wall_ms: u64,
) -> Result<(), StoreError> {
    // A row another file put there for this device's id under another key (a forger's) gives
    // way: this identity's own key is the one its files and pushes declare.
    conn.execute(
        "INSERT INTO device_key (device, public_key, name, confirmed, first_seen_ms)
         VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT (device) DO UPDATE SET public_key = excluded.public_key, confirmed = 1,
             vouched_by = NULL, seal_key = NULL, seal_sig = NULL
         WHERE device_key.public_key <> excluded.public_key",
        params![
            device.id.as_bytes().as_slice(),
            key.verifying_key().as_bytes().as_slice(),
            device.name,
            wall_ms as i64
        ],
    )?;
    Ok(())
}

/// Signs the ops `first..=last` this identity has just written, inside their transaction, and
/// the name of the person signed in (`author`), so every copy's history names them.
pub(super) fn sign_write_batch(
    conn: &Connection,
    device: &Device,
    first: i64,
    last: i64,
    wall_ms: u64,
    author: Option<&str>,
) -> Result<(), StoreError> {
    if last < first {
        return Ok(());
    }
    let (key, fresh) = signing_key(conn, device, wall_ms)?;
    // An identity that wrote before this version signed nothing: its first signing write
    // vouches for what it wrote before as one batch, so every op of it travels signed.
    if fresh && first > 1 {
        sign_range(conn, device, &key, 1, first - 1, None)?;
    }
    sign_range(conn, device, &key, first, last, author)
}

/// This identity's signing key, made now if it has none yet; an identity that wrote before
/// it had a key vouches for what it wrote then as one batch (as its first signing write would).
pub(super) fn ensure_signing_key(
    conn: &Connection,
    device: &Device,
    wall_ms: u64,
) -> Result<SigningKey, StoreError> {
    let (key, fresh) = signing_key(conn, device, wall_ms)?;
    if fresh {
        let last: Option<i64> = conn.query_row(
            "SELECT max(seq) FROM op WHERE origin = ?1",
            [device.idx],
            |r| r.get(0),
        )?;
        if let Some(last) = last.filter(|last| *last >= 1) {
            sign_range(conn, device, &key, 1, last, None)?;
        }
    }
    Ok(key)
}

fn sign_range(
    conn: &Connection,
    device: &Device,
    key: &SigningKey,
    first: i64,
    last: i64,
    author: Option<&str>,
) -> Result<(), StoreError> {
    let ops = super::oplog::read_op_range(conn, device.idx, device.id, first, last)?;
    if ops.len() as i64 != last - first + 1 {
        return Err(corrupt("write batch"));
    }
    let sig = signing::sign_batch(key, device.id, first, last, &ops);
    // A name longer than any receiver takes is not carried (the 人员 screen keeps names short).
    let author = author.filter(|a| !a.is_empty() && a.chars().count() <= signing::MAX_AUTHOR_CHARS);
    let author_sig =
        author.map(|name| signing::sign_author(key, device.id, first, last, &sig, name));
    conn.execute(
        "INSERT OR REPLACE INTO op_batch (origin, first_seq, last_seq, sig, author, author_sig)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            device.idx,
            first,
            last,
            sig.as_slice(),
            author,
            author_sig.as_ref().map(|s| s.as_slice())
        ],
    )?;
    Ok(())
}

impl Store {
    /// This identity's signing key, for signing a file it writes; `None` before it has made
    /// one (it made one with its first write or its sealing key).
    pub(crate) fn own_signing_key(&self) -> Result<Option<SigningKey>, StoreError> {
        stored_signing_key(&self.conn, &self.device)
    }

    /// Every device key this copy knows, own first.
    pub fn device_keys(&self) -> Result<Vec<DeviceKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.device, k.public_key, coalesce(nullif(d.name, ''), k.name), k.confirmed, k.village,
                 k.confirmed = 1 AND k.vouched_by IS NOT NULL
             FROM device_key k LEFT JOIN device d ON d.id = k.device ORDER BY k.first_seen_ms",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, key, name, confirmed, village, county_vouched) = row?;
            let Ok(device) = Uuid::from_slice(&id) else {
                continue;
            };
            out.push(DeviceKey {
                device,
                name: name.unwrap_or_default(),
                fingerprint: signing::fingerprint(&key),
                public_key: signing::hex(&key),
                confirmed,
                village,
                own: device == self.device.id,
                county_vouched,
            });
        }
        out.sort_by_key(|k| !k.own);
        Ok(out)
    }

    /// The key this copy knows for `device`, with whether it is confirmed and its village.
    pub(crate) fn known_device_key(&self, device: Uuid) -> Result<Option<KnownKey>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT public_key, confirmed, village FROM device_key WHERE device = ?1",
                [device.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Marks the device whose fingerprint is `fingerprint` (digits, spaces optional) as
    /// confirmed, with the village whose households alone it may change when given. `None`
    /// when no known device has that fingerprint.
    pub fn set_device_confirmed(
        &self,
        fingerprint: &str,
        village: Option<&str>,
    ) -> Result<Option<DeviceKey>, StoreError> {
        let wanted = signing::fingerprint_digits(fingerprint);
        let Some(key) = self
            .device_keys()?
            .into_iter()
            .find(|k| signing::fingerprint_digits(&k.fingerprint) == wanted && !wanted.is_empty())
        else {
            return Ok(None);
        };
        self.conn.execute(
            "UPDATE device_key SET confirmed = 1, vouched_by = NULL, village = coalesce(?2, village)
             WHERE device = ?1",
            params![key.device.as_bytes().as_slice(), village],
        )?;
        Ok(self
            .device_keys()?
            .into_iter()
            .find(|k| k.device == key.device))
    }

    /// Records each key as its device's in place of a different one this copy learnt
    /// unconfirmed from a file, without confirming it (a hub page's signer the county's list
    /// does not certify); what this copy took under the old key is withdrawn with it.
    pub(crate) fn replace_unconfirmed_keys(
        &self,
        keys: &BTreeMap<Uuid, String>,
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        for (device, key_hex) in keys {
            let Some(key) = signing::unhex(key_hex) else {
                continue;
            };
            replace_unconfirmed_key(&tx, device.as_bytes().as_slice(), &key)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Takes back a device key's confirmation (the key stays known, unconfirmed, and may be
    /// replaced by the county's word like any key only a file showed), with its audit entry
    /// `what`, in one transaction.
    pub(crate) fn set_device_unconfirmed(
        &self,
        device: Uuid,
        what: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE device_key SET confirmed = 0, vouched_by = NULL WHERE device = ?1",
            [device.as_bytes().as_slice()],
        )?;
        super::people::insert_audit(
            &tx,
            self.actor.as_ref(),
            self.wall_ms(),
            "unconfirm_device",
            what,
            0,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records `key` as `device`'s, confirmed by a person (limited to `village` when given), in
    /// place of a key this copy learnt unconfirmed from a file; what this copy took under that
    /// key is withdrawn with it (as when the county vouches for another key). `false`, and nothing
    /// changed, when the device's recorded key is confirmed.
    pub(crate) fn confirm_candidate_key(
        &self,
        device: Uuid,
        key: &[u8],
        name: &str,
        village: Option<&str>,
    ) -> Result<bool, StoreError> {
        let id = device.as_bytes().as_slice();
        let wall = self.wall_ms() as i64;
        let tx = self.conn.unchecked_transaction()?;
        let recorded: Option<(bool, Vec<u8>)> = tx
            .query_row(
                "SELECT confirmed, public_key FROM device_key WHERE device = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match recorded {
            Some((true, _)) => return Ok(false),
            Some((false, old)) => {
                tx.execute(
                    "UPDATE device_key SET public_key = ?2, confirmed = 1, vouched_by = NULL,
                         village = ?3, seal_key = NULL, seal_sig = NULL
                     WHERE device = ?1",
                    params![id, key, village],
                )?;
                if old != key {
                    withdraw_batches(&tx, id, &old)?;
                }
            }
            None => {
                tx.execute(
                    "INSERT INTO device_key (device, public_key, name, confirmed, village, first_seen_ms)
                     VALUES (?1, ?2, ?3, 1, ?4, ?5)",
                    params![id, key, name, village, wall],
                )?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Sets the village a confirmed device is limited to, exactly (`None`: no limit, a
    /// township's or the county's device). A device the county enrolled takes the hub's
    /// enrolment again at the next sync (`vouch_device_keys`).
    pub fn set_device_village(
        &self,
        device: Uuid,
        village: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE device_key SET village = ?2 WHERE device = ?1 AND confirmed = 1",
            params![device.as_bytes().as_slice(), village],
        )?;
        Ok(())
    }

    /// Whether ops of devices not confirmed yet are held instead of merged (a local setting).
    pub fn confirms_devices(&self) -> Result<bool, StoreError> {
        Ok(meta_get::<i64>(&self.conn, META_CONFIRM_DEVICES)?.unwrap_or(0) == 1)
    }

    pub fn set_confirms_devices(&self, on: bool) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_CONFIRM_DEVICES, i64::from(on)],
        )?;
        Ok(())
    }

    /// Whether any of these batch signatures is one this copy does not hold yet (for a device
    /// it has heard of), or names the person who wrote a batch this copy holds without one.
    pub(crate) fn lacks_batch_signatures(
        &self,
        batches: &[crate::sync::signing::BatchSig],
    ) -> Result<bool, StoreError> {
        let mut held = self.conn.prepare_cached(
            "SELECT b.author IS NOT NULL, b.last_seq, b.sig FROM op_batch b
             JOIN device d ON d.idx = b.origin WHERE d.id = ?1 AND b.first_seq = ?2",
        )?;
        for b in batches {
            let row = held
                .query_row(params![b.origin.as_bytes().as_slice(), b.first], |r| {
                    Ok((
                        r.get::<_, bool>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                })
                .optional()?;
            let Some((named, last, sig)) = row else {
                return Ok(true);
            };
            // Held without the name of who wrote it while the file names them (for that very
            // batch: same range and signature, a name this version keeps).
            if !named
                && b.by
                    .as_deref()
                    .is_some_and(|n| n.chars().count() <= signing::MAX_AUTHOR_CHARS)
                && last == b.last
                && signing::unhex(&b.sig).as_deref() == Some(sig.as_slice())
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether any of these parts of cut batches is one this copy holds neither whole (its
    /// batch signature) nor as a part under the same signature: a file whose ops this copy
    /// holds, unsigned, still brings what it needs to relay them signed. Only parts of
    /// devices this copy knows whose range meets what the file carries (`carried`) count: a
    /// part stated for ops the file does not carry is never checked nor kept, and would have
    /// the file re-read (and backed up, and held again) on every import.
    pub(crate) fn lacks_parts(
        &self,
        parts: &[signing::BatchPart],
        carried: &crate::sync::changeset::SeqRanges,
    ) -> Result<bool, StoreError> {
        let mut known = self
            .conn
            .prepare_cached("SELECT 1 FROM device WHERE id = ?1")?;
        let mut whole = self.conn.prepare_cached(
            "SELECT 1 FROM op_batch b JOIN device d ON d.idx = b.origin
             WHERE d.id = ?1 AND b.first_seq = ?2 AND b.last_seq = ?3",
        )?;
        let mut part = self.conn.prepare_cached(
            "SELECT 1 FROM op_batch_part p JOIN device d ON d.idx = p.origin
             WHERE d.id = ?1 AND p.first_seq = ?2 AND p.last_seq = ?3 AND p.sig = ?4",
        )?;
        for p in parts {
            let id = p.origin.as_bytes().as_slice();
            let meets = carried.get(&p.origin).is_some_and(|ranges| {
                ranges
                    .iter()
                    .any(|(lo, hi)| *lo <= p.last && p.first <= *hi)
            });
            if !meets || !known.exists([id])? {
                continue;
            }
            let sig = signing::unhex(&p.sig).unwrap_or_default();
            if !whole.exists(params![id, p.first, p.last])?
                && !part.exists(params![id, p.first, p.last, sig])?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The write batch of `origin` that holds op `seq`: its first and last seq.
    pub(crate) fn batch_around(
        &self,
        origin: Uuid,
        seq: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT b.first_seq, b.last_seq FROM op_batch b JOIN device d ON d.idx = b.origin
                 WHERE d.id = ?1 AND b.first_seq <= ?2 ORDER BY b.first_seq DESC LIMIT 1",
                params![origin.as_bytes().as_slice(), seq],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
            .filter(|(_, last)| *last >= seq))
    }

    /// Marks the keys the county hub handed on as confirmed (the county vouches for them:
    /// see `sync::relay`). The village the hub enrolled the device for is made its limit (its
    /// edits of other villages wait at this copy, `sync::trust::find_outside`); a device the
    /// county enrolled for a township or the county has none. A key this copy holds unconfirmed for the device and that differs (learnt from
    /// a file no one vouched for) is replaced by the county's, and the batch signatures kept
    /// under it are dropped (they would not verify under the device's real key). A key a
    /// person confirmed is never replaced.
    ///
    /// A key this copy has not heard of is recorded confirmed, under the name the hub gives.
    /// Run before the page's signatures are recorded, so none is kept under a key replaced.
    /// Returns how many keys are confirmed now that were not (recorded, or one learnt
    /// unconfirmed): their devices' held files may merge ([`crate::sync::trust::read_held_after_vouch`]).
    pub(crate) fn vouch_device_keys(
        &self,
        signers: &BTreeMap<Uuid, String>,
        names: &BTreeMap<Uuid, String>,
        scopes: &BTreeMap<Uuid, String>,
    ) -> Result<u64, StoreError> {
        let wall = self.wall_ms() as i64;
        let mut newly = 0u64;
        // Whose word this is: the county key believed here, or the hub's while none is.
        let word = self
            .county_key()?
            .unwrap_or_else(|| VOUCHED_BY_HUB.to_owned());
        // One transaction with the mark that the held files are to be read again: a crash
        // leaves both or neither (a page pulled again vouches again).
        let tx = self.conn.unchecked_transaction()?;
        for (device, key_hex) in signers {
            let Some(key) = signing::unhex(key_hex) else {
                continue;
            };
            // A key the county's list withdrew (the laptop revoked) is not confirmed again by
            // a page of its older ops.
            let withdrawn = super::meta_get::<String>(
                &self.conn,
                &super::county_certs::withdrawn_key(*device),
            )?;
            if withdrawn.as_deref() == Some(key_hex.as_str()) {
                continue;
            }
            let id = device.as_bytes().as_slice();
            let name = names.get(device).map_or("", String::as_str);
            let mut confirmed_now = self.conn.execute(
                "INSERT OR IGNORE INTO device_key
                     (device, public_key, name, confirmed, first_seen_ms, vouched_by)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5)",
                params![id, key, name, wall, word],
            )?;
            let replaced = replace_unconfirmed_key(&self.conn, id, &key)?;
            confirmed_now += self.conn.execute(
                "UPDATE device_key SET confirmed = 1, vouched_by = ?3
                 WHERE device = ?1 AND public_key = ?2 AND confirmed = 0",
                params![id, key, word],
            )?;
            // A key learnt from a file that did not name its device takes the county's name.
            if !name.is_empty() {
                self.conn.execute(
                    "UPDATE device_key SET name = ?2 WHERE device = ?1 AND public_key = ?3 AND name = ''",
                    params![id, name, key],
                )?;
            }
            if confirmed_now > 0 {
                // The county's word goes into the audit log as a person's confirmation does.
                newly += 1;
                let what = format!(
                    "县同步中心确认设备“{name}”（安全码 {}）{}",
                    signing::fingerprint(&key),
                    if replaced {
                        "，替换先前从文件得知的安全码"
                    } else {
                        ""
                    }
                );
                super::insert_audit(&self.conn, None, wall as u64, "vouch_device", &what, 0)?;
            }
            // A device the county enrolled for one village is limited to it here too (its
            // edits of other villages wait for a person, as at the hub); the county's latest
            // enrolment decides (a laptop re-enrolled for another village, or for its
            // township, moves with it).
            if let Some(scope) = scopes.get(device) {
                let village = (scope.len() == 12 && scope.bytes().all(|b| b.is_ascii_digit()))
                    .then_some(scope.as_str());
                self.conn.execute(
                    "UPDATE device_key SET village = ?2 WHERE device = ?1 AND public_key = ?3",
                    params![id, village, key],
                )?;
            }
        }
        if newly > 0 {
            mark_reread(&tx)?;
        }
        tx.commit()?;
        Ok(newly)
    }

    /// Whether the held files are to be read again since the county confirmed keys
    /// ([`Store::vouch_device_keys`]); cleared once they were.
    pub(crate) fn held_reread_pending(&self) -> Result<bool, StoreError> {
        Ok(self.held_reread_mark()?.is_some())
    }

    /// Marks the held files to be read again (a person confirmed a device: if that reading is
    /// cut short, the next import or sync does it); returns the mark's count, to clear it
    /// once read.
    pub(crate) fn mark_held_reread(&self) -> Result<i64, StoreError> {
        mark_reread(&self.conn)?;
        Ok(self.held_reread_mark()?.unwrap_or(1))
    }

    /// The mark's count while the held files are to be read again.
    pub(crate) fn held_reread_mark(&self) -> Result<Option<i64>, StoreError> {
        Ok(super::meta_get::<i64>(&self.conn, HELD_REREAD_PENDING)?)
    }

    /// Clears the mark a reading began under (`mark`); one set again since stays.
    pub(crate) fn clear_held_reread_pending(&self, mark: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM meta WHERE key = ?1 AND value = ?2",
            params![HELD_REREAD_PENDING, mark],
        )?;
        Ok(())
    }

    /// Records the keys a checked file or page showed to be its devices' (not confirmed,
    /// unless already) and the signatures of the batches it brought of `origins`.
    ///
    /// `keys` holds only keys the file proved: a key that signs a batch the file carried whole
    /// and that verified, or the key of the file's source when it signed the file. A key
    /// merely declared (a forged stick naming a made-up key under an id no copy knows yet) is
    /// not recorded, so it cannot get the real device's files refused as 冒充 later. `batches`
    /// holds only batches that verified, for the same reason.
    pub(crate) fn record_signatures(
        &self,
        keys: &BTreeMap<Uuid, String>,
        names: &BTreeMap<Uuid, String>,
        batches: &[BatchSig],
        origins: &HashSet<Uuid>,
    ) -> Result<(), StoreError> {
        let wall = self.wall_ms() as i64;
        // One transaction: a county file brings tens of thousands of batches.
        let tx = self.conn.unchecked_transaction()?;
        for (device, key) in keys {
            let Some(key) = signing::unhex(key) else {
                continue;
            };
            tx.execute(
                "INSERT OR IGNORE INTO device_key (device, public_key, name, confirmed, first_seen_ms)
                 VALUES (?1, ?2, ?3, 0, ?4)",
                params![
                    device.as_bytes().as_slice(),
                    key,
                    names.get(device).map_or("", String::as_str),
                    wall
                ],
            )?;
        }
        let mut idx_of = tx.prepare_cached("SELECT idx FROM device WHERE id = ?1")?;
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO op_batch (origin, first_seq, last_seq, sig, author, author_sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        // A batch this copy holds without the name of who wrote it (relayed by a version that
        // did not carry names) learns it from a file or page that carries it, checked.
        let mut name = tx.prepare_cached(
            "UPDATE op_batch SET author = ?5, author_sig = ?6
             WHERE origin = ?1 AND first_seq = ?2 AND last_seq = ?3 AND sig = ?4 AND author IS NULL",
        )?;
        for b in batches {
            let Some(idx) = idx_of
                .query_row([b.origin.as_bytes().as_slice()], |r| r.get::<_, i64>(0))
                .optional()?
            else {
                continue;
            };
            let Some(sig) = signing::unhex(&b.sig) else {
                continue;
            };
            // `by` was checked with the batch (`StreamVerifier::new`) before anything applied;
            // a name longer than this version keeps is left out.
            let by_sig = b.by_sig.as_deref().and_then(signing::unhex);
            let (by, by_sig) = match (&b.by, by_sig) {
                (Some(by), Some(by_sig)) if by.chars().count() <= signing::MAX_AUTHOR_CHARS => {
                    (Some(by.as_str()), Some(by_sig))
                }
                _ => (None, None),
            };
            // Signatures are kept for the ops this copy took; a name is learnt for any batch
            // it holds already under the same signature (its ops may have come another way).
            if origins.contains(&b.origin)
                && insert.execute(params![idx, b.first, b.last, sig, by, by_sig])? > 0
            {
                continue;
            }
            if by.is_some() {
                name.execute(params![idx, b.first, b.last, sig, by, by_sig])?;
            }
        }
        drop((idx_of, insert, name));
        tx.commit()?;
        Ok(())
    }

    /// Keeps the parts of cut batches a checked file or page brought (`parts`: each verified,
    /// so every hash in it is the hash of the device's op) for the ops of `origins` this copy
    /// took, so it relays those ops signed ([`Store::parts_for_export`]). A part of a batch
    /// this copy already holds a part of under the same signature adds the hashes it lacked.
    pub(crate) fn record_parts(
        &self,
        parts: &[signing::BatchPart],
        origins: &HashSet<Uuid>,
    ) -> Result<(), StoreError> {
        if parts.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut idx_of = tx.prepare_cached("SELECT idx FROM device WHERE id = ?1")?;
            let mut held = tx.prepare_cached(
                "SELECT last_seq, sig, left_out FROM op_batch_part WHERE origin = ?1 AND first_seq = ?2",
            )?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO op_batch_part (origin, first_seq, last_seq, sig, left_out)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for part in parts.iter().filter(|p| origins.contains(&p.origin)) {
                let Some(idx) = idx_of
                    .query_row([part.origin.as_bytes().as_slice()], |r| r.get::<_, i64>(0))
                    .optional()?
                else {
                    continue;
                };
                let Some(sig) = signing::unhex(&part.sig) else {
                    continue;
                };
                let mut hashes: BTreeMap<i64, [u8; 32]> = BTreeMap::new();
                for (seq, hash) in &part.left_out {
                    if let Some(hash) = signing::unhex(hash).and_then(|h| h.try_into().ok()) {
                        hashes.insert(*seq, hash);
                    }
                }
                let before = held
                    .query_row(params![idx, part.first], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                        ))
                    })
                    .optional()?;
                if let Some((last, held_sig, left_out)) = before {
                    if last != part.last || held_sig != sig {
                        continue;
                    }
                    hashes.extend(decode_left_out(&left_out));
                }
                put.execute(params![
                    idx,
                    part.first,
                    part.last,
                    sig,
                    encode_left_out(&hashes)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The parts of cut batches a file carrying `ops` (sorted by origin and seq) states, for
    /// the ops no whole batch of `batches` covers: with every op of the part this copy holds
    /// added to `ops` (a save is carried as far as this copy holds it), and the hashes of the
    /// others. A part whose hash of an op this copy lacks it does not know is left out (those
    /// ops go unsigned).
    pub(crate) fn parts_for_export(
        &self,
        ops: &mut Vec<Op>,
        batches: &[BatchSig],
    ) -> Result<Vec<signing::BatchPart>, StoreError> {
        let mut stored: BTreeMap<Uuid, (i64, Vec<StoredPart>)> = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id, p.origin, p.first_seq, p.last_seq, p.sig, p.left_out
                 FROM op_batch_part p JOIN device d ON d.idx = p.origin
                 ORDER BY p.origin, p.first_seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    (
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                        r.get::<_, Vec<u8>>(5)?,
                    ),
                ))
            })?;
            for row in rows {
                let (id, idx, part) = row?;
                if let Ok(id) = Uuid::from_slice(&id) {
                    stored
                        .entry(id)
                        .or_insert_with(|| (idx, Vec::new()))
                        .1
                        .push(part);
                }
            }
        }
        if stored.is_empty() {
            return Ok(Vec::new());
        }
        // A part overlapping a whole batch the file carries (batches held with overlapping
        // ranges) would have the file refuse itself: left out, not only when the op that
        // brings it in is the batch's.
        let overlaps_whole = |origin: Uuid, first: i64, last: i64| {
            batches
                .iter()
                .any(|b| b.origin == origin && b.first <= last && first <= b.last)
        };
        // The parts some op of the file falls in.
        let mut wanted: Vec<(Uuid, i64, usize)> = Vec::new();
        for op in ops.iter() {
            let Some((idx, list)) = stored.get(&op.id.origin) else {
                continue;
            };
            let i = list.partition_point(|(_, last, _, _)| *last < op.id.seq);
            if list.get(i).is_some_and(|(first, last, _, _)| {
                *first <= op.id.seq && !overlaps_whole(op.id.origin, *first, *last)
            }) && wanted.last() != Some(&(op.id.origin, *idx, i))
            {
                wanted.push((op.id.origin, *idx, i));
            }
        }
        let mut have: HashSet<(Uuid, i64)> =
            ops.iter().map(|op| (op.id.origin, op.id.seq)).collect();
        let mut out = Vec::new();
        let mut added = false;
        for (origin, idx, i) in wanted {
            let (first, last, sig, left_out) = &stored[&origin].1[i];
            let known: BTreeMap<i64, [u8; 32]> = decode_left_out(left_out).collect();
            let held: Vec<Op> =
                super::oplog::read_op_range(&self.conn, idx, origin, *first, *last)?
                    .into_iter()
                    .filter(|op| op.id.seq <= *last)
                    .collect();
            let held_seqs: HashSet<i64> = held.iter().map(|op| op.id.seq).collect();
            let Some(left): Option<Vec<(i64, String)>> = (*first..=*last)
                .filter(|seq| !held_seqs.contains(seq))
                .map(|seq| known.get(&seq).map(|h| (seq, signing::hex(h))))
                .collect()
            else {
                continue;
            };
            let part = signing::BatchPart {
                origin,
                first: *first,
                last: *last,
                sig: signing::hex(sig),
                left_out: left,
            };
            // Checked as a receiver will: an op this copy holds under an id of the part that
            // is not the device's (taken unsigned earlier, altered on the way) would have every
            // later file of this copy refused whole, its own edits with it. Such a part is
            // left out: its ops go unsigned, as before.
            let Some((key, _, _)) = self.known_device_key(origin)? else {
                continue;
            };
            let held_refs: Vec<&Op> = held.iter().collect();
            if signing::check_part(&signing::hex(&key), &part, &held_refs).is_err() {
                continue;
            }
            for op in held {
                if have.insert((op.id.origin, op.id.seq)) {
                    ops.push(op);
                    added = true;
                }
            }
            out.push(part);
        }
        if added {
            ops.sort_by_key(|a| a.id);
        }
        Ok(out)
    }

    /// Extends `ops` (sorted by origin and seq) to whole signed batches and returns the keys
    /// and batch signatures a file carrying them states. Ops of batches this copy holds no
    /// signature for (written by older versions, or pulled from the hub in a page that cut their
    /// batch) go unsigned.
    ///
    /// Without `extend` (a snapshot, which carries only current heads), `ops` stay as they
    /// are: a batch carried whole keeps its signature, the ops of a batch carried in part go
    /// unsigned, as the hub's snapshot sends them.
    pub(crate) fn signatures_for_export(
        &self,
        ops: &mut Vec<Op>,
        extend: bool,
    ) -> Result<(BTreeMap<Uuid, String>, Vec<BatchSig>), StoreError> {
        let mut all: BTreeMap<Uuid, (i64, Vec<StoredBatch>)> = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id, b.origin, b.first_seq, b.last_seq, b.sig, b.author, b.author_sig
                 FROM op_batch b JOIN device d ON d.idx = b.origin ORDER BY b.origin, b.first_seq",
            )?;
            let rows = stmt.query_map([], |r| {
                let author = match (
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                ) {
                    (Some(name), Some(sig)) => Some((name, sig)),
                    _ => None,
                };
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    (
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                        author,
                    ),
                ))
            })?;
            for row in rows {
                let (id, idx, batch) = row?;
                if let Ok(id) = Uuid::from_slice(&id) {
                    all.entry(id)
                        .or_insert_with(|| (idx, Vec::new()))
                        .1
                        .push(batch);
                }
            }
        }
        let mut wanted: BTreeMap<(Uuid, i64), WantedBatch> = BTreeMap::new();
        let mut have: HashSet<(Uuid, i64)> = HashSet::with_capacity(ops.len());
        for op in ops.iter() {
            have.insert((op.id.origin, op.id.seq));
            let Some((idx, list)) = all.get(&op.id.origin) else {
                continue;
            };
            let i = list.partition_point(|(_, last, _, _)| *last < op.id.seq);
            if let Some((first, last, sig, author)) =
                list.get(i).filter(|(f, _, _, _)| *f <= op.id.seq)
            {
                wanted
                    .entry((op.id.origin, *first))
                    .or_insert_with(|| (*last, *idx, sig.clone(), 0, author.clone()))
                    .3 += 1;
            }
        }
        if !extend {
            wanted.retain(|(_, first), (last, _, _, count, _)| *count == *last - *first + 1);
        }
        let mut added = false;
        for ((origin, first), (last, idx, _, count, _)) in &wanted {
            if *count < last - first + 1 {
                for op in super::oplog::read_op_range(&self.conn, *idx, *origin, *first, *last)? {
                    if have.insert((op.id.origin, op.id.seq)) {
                        ops.push(op);
                        added = true;
                    }
                }
            }
        }
        if added {
            ops.sort_by_key(|a| a.id);
        }
        let mut signers = BTreeMap::new();
        let mut batches = Vec::with_capacity(wanted.len());
        for ((origin, first), (last, _, sig, _, author)) in wanted {
            if !signers.contains_key(&origin)
                && let Some((key, _, _)) = self.known_device_key(origin)?
            {
                signers.insert(origin, signing::hex(&key));
            }
            let (by, by_sig) = match author {
                Some((name, author_sig)) => (Some(name), Some(signing::hex(&author_sig))),
                None => (None, None),
            };
            batches.push(BatchSig {
                origin,
                first,
                last,
                sig: signing::hex(&sig),
                by,
                by_sig,
                parts_sig: None,
            });
        }
        // A batch of a device whose key this copy lost cannot be checked by anyone: left out.
        batches.retain(|b| signers.contains_key(&b.origin));
        Ok((signers, batches))
    }
}

/// Records `key` as `device`'s in place of a different key this copy holds for it unconfirmed
/// (one only a file showed); the batches taken under the old key are withdrawn with it
/// ([`withdraw_batches`]). Whether it did.
fn replace_unconfirmed_key(conn: &Connection, device: &[u8], key: &[u8]) -> rusqlite::Result<bool> {
    let old: Option<Vec<u8>> = conn
        .query_row(
            "SELECT public_key FROM device_key
             WHERE device = ?1 AND confirmed = 0 AND public_key <> ?2",
            params![device, key],
            |r| r.get(0),
        )
        .optional()?;
    let Some(old) = old else {
        return Ok(false);
    };
    conn.execute(
        "UPDATE device_key SET public_key = ?2, seal_key = NULL, seal_sig = NULL WHERE device = ?1",
        params![device, key],
    )?;
    withdraw_batches(conn, device, &old)?;
    Ok(true)
}

/// Forgets the batch signatures (whole and cut) kept for `device`'s ops under `old_key`, which
/// gave way to another key, and lists their batches to be taken out of the log
/// (`withdraw_pending`, taken out by the next apply before it applies anything): a device
/// has one key for ever, so what only the old key signed is not the device's, and it holds
/// op ids the device's real ops need.
fn withdraw_batches(conn: &Connection, device: &[u8], old_key: &[u8]) -> rusqlite::Result<()> {
    for table in ["op_batch", "op_batch_part"] {
        // Table names from this list only.
        conn.execute(
            &format!(
                "INSERT OR IGNORE INTO withdraw_pending (origin, first_seq, last_seq, key)
                 SELECT origin, first_seq, last_seq, ?2 FROM {table}
                 WHERE origin = (SELECT idx FROM device WHERE id = ?1)"
            ),
            params![device, old_key],
        )?;
        conn.execute(
            &format!("DELETE FROM {table} WHERE origin = (SELECT idx FROM device WHERE id = ?1)"),
            [device],
        )?;
    }
    Ok(())
}

/// Writes what a take-out withdrew of one device into the audit log, in the apply's
/// transaction: the device, the key that gave way and how many ops and records.
pub(super) fn audit_withdrawn(
    conn: &Connection,
    actor: Option<&crate::access::Actor>,
    wall_ms: u64,
    withdrawn: &super::apply::Withdrawn,
) -> Result<(), StoreError> {
    let name: String = conn
        .query_row(
            "SELECT name FROM device_key WHERE device = ?1",
            [withdrawn.device.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .optional()?
        .filter(|n: &String| !n.is_empty())
        .unwrap_or_else(|| withdrawn.device.to_string());
    let what = format!(
        "设备“{name}”的安全码已由 {} 换为确认的另一个：旧安全码签名、已合并的 {} 项修改（涉及 {} 条记录）不是这台设备的，已从数据中撤下，另存备查",
        signing::fingerprint(&withdrawn.key),
        withdrawn.ops,
        withdrawn.rows
    );
    super::insert_audit(conn, actor, wall_ms, "withdraw_ops", &what, 0)
}
