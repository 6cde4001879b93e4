//! The county key this copy believes and the county's certificates of device keys it holds
//! (`sync::county`): local, never replicated; carried in this copy's files.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Store, StoreError, meta_get, meta_set};
use crate::sync::county::{DeviceCert, county_fingerprint};

/// `meta` key of the county key (Ed25519, hex) this copy believes.
const META_COUNTY_KEY: &str = "county_key";
/// `meta` key of the tag (`ETag`) of the county list this copy took last from its hub.
const META_COUNTY_LIST_TAG: &str = "county_list_tag";
/// `meta` key of the county keys (hex) files brought certificates of while this copy believed
/// none, with the devices each names (JSON), for the 设备 box to offer.
const META_COUNTY_SEEN: &str = "county_keys_seen";
/// `meta` key of the county key (hex) the hub offered while this copy believes another, with
/// the devices its list names (JSON): the only key the 设备 box lets a person 改认 to.
const META_COUNTY_OFFERED: &str = "county_key_offered";
/// How many such keys are remembered, and names per key.
const SEEN_KEYS: usize = 8;
const SEEN_NAMES: usize = 20;

/// `meta` key of when the county's latest full list (from the hub) was signed: a certificate
/// signed before it of a device that list left out (revoked) is not taken from a file.
const META_COUNTY_LIST_MS: &str = "county_list_ms";

/// What pinning a county key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountyPin {
    /// Believed from now on.
    Now,
    /// The key believed already.
    Already,
    /// Another county key is believed here (hex): nothing changed.
    Other(String),
}

/// The county key this copy believes and what it holds of the county's word, for the 设备 box.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountyKeyStatus {
    /// The county key's 安全码, when this copy believes one.
    pub fingerprint: Option<String>,
    /// Certificates held.
    pub certs: u64,
}

/// `meta` key naming the key (hex) of a device the county's full list left out after
/// vouching for it: no hub page confirms that key again here.
pub(crate) fn withdrawn_key(device: Uuid) -> String {
    format!("county_withdrawn:{device}")
}

/// A certificate as stored (strings, a uuid and a number: serializing cannot fail).
fn cert_text(cert: &DeviceCert) -> String {
    serde_json::to_string(cert).unwrap_or_default()
}

impl Store {
    /// The county key (hex) this copy believes, learnt from the hub or confirmed by a person.
    pub fn county_key(&self) -> Result<Option<String>, StoreError> {
        Ok(meta_get::<String>(&self.conn, META_COUNTY_KEY)?)
    }

    /// The tag of the county list this copy took last from its hub.
    pub fn county_list_tag(&self) -> Result<Option<String>, StoreError> {
        Ok(meta_get::<String>(&self.conn, META_COUNTY_LIST_TAG)?)
    }

    /// Keeps (or forgets) the tag of the county list just taken.
    pub fn set_county_list_tag(&self, tag: Option<&str>) -> Result<(), StoreError> {
        match tag {
            Some(tag) => meta_set(&self.conn, META_COUNTY_LIST_TAG, tag)?,
            None => {
                self.conn
                    .execute("DELETE FROM meta WHERE key = ?1", [META_COUNTY_LIST_TAG])?;
            }
        }
        Ok(())
    }

    /// The county keys files brought certificates of while this copy believed none (each
    /// with the devices it names): a station that takes every stick (not holding unconfirmed
    /// devices' changes) is offered them too.
    pub(crate) fn county_keys_seen(
        &self,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
        Ok(meta_get::<String>(&self.conn, META_COUNTY_SEEN)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    /// Remembers a county key the hub offered that differs from the one believed here (a hub
    /// rebuilt, or another county's), with some of the laptops its list names, for a person to
    /// compare with the county's word and take instead ([`crate::sync::trust::confirm_county_key`]).
    pub(crate) fn offer_county_key(&self, certs: &[DeviceCert]) -> Result<(), StoreError> {
        let mut offered: Option<(String, BTreeSet<String>)> = None;
        for cert in certs.iter().take(SEEN_NAMES) {
            if cert.verifies() {
                let entry =
                    offered.get_or_insert_with(|| (cert.county_key.clone(), BTreeSet::new()));
                if entry.0 == cert.county_key {
                    entry.1.insert(cert.name.clone());
                }
            }
        }
        if let Some(offered) = offered {
            meta_set(
                &self.conn,
                META_COUNTY_OFFERED,
                serde_json::to_string(&offered).unwrap_or_default(),
            )?;
        }
        Ok(())
    }

    /// The county key the hub offered while this copy believes another, with some of the
    /// devices its list names.
    pub(crate) fn county_key_offered(
        &self,
    ) -> Result<Option<(String, BTreeSet<String>)>, StoreError> {
        Ok(meta_get::<String>(&self.conn, META_COUNTY_OFFERED)?
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Believes `key` (hex) as the county's in place of the one believed (a person compared it
    /// with the county's word: the hub was rebuilt, or its key renewed). The certificates of
    /// the old key go, as does what this copy remembered of the old hub's list; the device
    /// keys only the old key's word confirmed are confirmed no more (returned: their devices),
    /// those a person confirmed stay. Written to the audit log, each such device by name.
    pub(crate) fn replace_county_key(&self, key: &str) -> Result<Vec<Uuid>, StoreError> {
        let Some(fingerprint) = county_fingerprint(key) else {
            return Ok(Vec::new());
        };
        let old = self
            .county_key()?
            .as_deref()
            .and_then(county_fingerprint)
            .unwrap_or_default();
        let wall = self.wall_ms();
        let tx = self.conn.unchecked_transaction()?;
        meta_set(&tx, META_COUNTY_KEY, key)?;
        tx.execute("DELETE FROM county_cert", [])?;
        // The old key's word goes with it (it may have leaked, and vouched for a forger's
        // key): the devices it alone confirmed wait until the new key's certificates vouch
        // for them again. A person's confirmations stay.
        let withdrawn: Vec<(Vec<u8>, Vec<u8>, String)> = {
            let mut stmt = tx.prepare(
                "UPDATE device_key SET confirmed = 0
                 WHERE confirmed = 1 AND vouched_by IS NOT NULL AND vouched_by <> ?1
                 RETURNING device, public_key, name",
            )?;
            stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for meta in [
            META_COUNTY_SEEN,
            META_COUNTY_OFFERED,
            META_COUNTY_LIST_MS,
            META_COUNTY_LIST_TAG,
        ] {
            tx.execute("DELETE FROM meta WHERE key = ?1", [meta])?;
        }
        super::people::insert_audit(
            &tx,
            self.actor.as_ref(),
            wall,
            "county_key",
            &format!(
                "改认县同步中心的安全码：{old} → {fingerprint}；只凭旧安全码确认的 {} 台设备改为待确认",
                withdrawn.len()
            ),
            0,
        )?;
        for (_, public_key, name) in &withdrawn {
            super::people::insert_audit(
                &tx,
                self.actor.as_ref(),
                wall,
                "county_withdrew_device",
                &format!(
                    "改认县同步中心安全码后，设备“{name}”（安全码 {}）不再凭旧安全码确认：改为待确认，取得新安全码签发的证书后再确认",
                    crate::sync::signing::fingerprint(public_key)
                ),
                0,
            )?;
        }
        tx.commit()?;
        Ok(withdrawn
            .iter()
            .filter_map(|(device, _, _)| Uuid::from_slice(device).ok())
            .collect())
    }

    /// Remembers the county keys of the certificates a file brought while no county key is
    /// believed here (checked: each certificate verifies under the key it names).
    pub(crate) fn remember_county_keys(&self, certs: &[DeviceCert]) -> Result<(), StoreError> {
        if certs.is_empty() {
            return Ok(());
        }
        let believed = self.county_key()?;
        let mut seen = self.county_keys_seen()?;
        let before = seen.clone();
        for cert in certs.iter().take(SEEN_NAMES * SEEN_KEYS) {
            if believed.as_deref() == Some(cert.county_key.as_str())
                || (!seen.contains_key(&cert.county_key) && seen.len() >= SEEN_KEYS)
            {
                continue;
            }
            if !cert.verifies() {
                continue;
            }
            let names = seen.entry(cert.county_key.clone()).or_default();
            if names.len() < SEEN_NAMES {
                names.insert(cert.name.clone());
            }
        }
        if seen != before {
            meta_set(
                &self.conn,
                META_COUNTY_SEEN,
                serde_json::to_string(&seen).unwrap_or_default(),
            )?;
        }
        Ok(())
    }

    /// What the 设备 box shows of the county's word.
    pub fn county_key_status(&self) -> Result<CountyKeyStatus, StoreError> {
        let certs: i64 = self
            .conn
            .query_row("SELECT count(*) FROM county_cert", [], |r| r.get(0))?;
        Ok(CountyKeyStatus {
            fingerprint: self.county_key()?.as_deref().and_then(county_fingerprint),
            certs: certs as u64,
        })
    }

    /// Believes `key` (hex) as the county's from now on, unless another is believed already
    /// (a county key is never replaced silently: the files it certified would change
    /// meaning). `how` goes into the audit log.
    pub(crate) fn pin_county_key(&self, key: &str, how: &str) -> Result<CountyPin, StoreError> {
        let Some(fingerprint) = county_fingerprint(key) else {
            return Ok(CountyPin::Other(String::new()));
        };
        match self.county_key()? {
            Some(held) if held == key => return Ok(CountyPin::Already),
            Some(held) => return Ok(CountyPin::Other(held)),
            None => {}
        }
        let wall = self.wall_ms();
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![META_COUNTY_KEY, key],
        )?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [META_COUNTY_SEEN])?;
        super::people::insert_audit(
            &tx,
            self.actor.as_ref(),
            wall,
            "county_key",
            &format!("{how}：县同步中心的安全码 {fingerprint}"),
            0,
        )?;
        tx.commit()?;
        Ok(CountyPin::Now)
    }

    /// Keeps the certificates the believed county key signed, each only when newer than the
    /// one held for its device; returns how many it kept. `full_list`: the certificates are
    /// the county's whole list, signed at that time (from the hub): certificates of devices
    /// it leaves out are dropped, and one signed before it of such a device that comes later
    /// on a stick is not taken (the county revoked the device, or no longer vouches for it).
    pub(crate) fn keep_county_certs(
        &self,
        certs: &[DeviceCert],
        full_list: Option<i64>,
    ) -> Result<BTreeSet<Uuid>, StoreError> {
        let mut kept = BTreeSet::new();
        let Some(county) = self.county_key()? else {
            return Ok(kept);
        };
        let own = self.device().id;
        let tx = self.conn.unchecked_transaction()?;
        let list_ms = match full_list {
            Some(at) => {
                let listed: BTreeSet<Uuid> = certs
                    .iter()
                    .filter(|c| c.county_key == county && c.verifies())
                    .map(|c| c.device)
                    .collect();
                let held: Vec<(Vec<u8>, String)> = {
                    let mut stmt = tx.prepare("SELECT device, cert FROM county_cert")?;
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?
                };
                let wall = self.wall_ms();
                for (device, text) in held {
                    let listed_now = Uuid::from_slice(&device).is_ok_and(|d| listed.contains(&d));
                    if listed_now {
                        continue;
                    }
                    tx.execute("DELETE FROM county_cert WHERE device = ?1", [&device])?;
                    // The county no longer vouches for the device (revoked, a lost laptop):
                    // its key is not confirmed here any more, so what it writes from now on
                    // waits for a person at a copy that confirms devices.
                    let Some(cert) = serde_json::from_str::<DeviceCert>(&text).ok() else {
                        continue;
                    };
                    // Remembered, so a hub page of its older ops does not confirm it again.
                    meta_set(&tx, &withdrawn_key(cert.device), &cert.key)?;
                    let key = crate::sync::signing::unhex(&cert.key).unwrap_or_default();
                    let unconfirmed = tx.execute(
                        "UPDATE device_key SET confirmed = 0 WHERE device = ?1 AND public_key = ?2 AND confirmed = 1",
                        params![device, key],
                    )?;
                    if unconfirmed > 0 {
                        super::people::insert_audit(
                            &tx,
                            self.actor.as_ref(),
                            wall,
                            "county_withdrew_device",
                            &format!(
                                "县同步中心不再为设备“{}”（安全码 {}）担保（已停用或不再登记）：改为待确认",
                                cert.name,
                                crate::sync::signing::fingerprint(&key)
                            ),
                            0,
                        )?;
                    }
                }
                let before = meta_get::<i64>(&tx, META_COUNTY_LIST_MS)?.unwrap_or(i64::MIN);
                meta_set(&tx, META_COUNTY_LIST_MS, at.max(before))?;
                i64::MIN
            }
            None => meta_get::<i64>(&tx, META_COUNTY_LIST_MS)?.unwrap_or(i64::MIN),
        };
        for cert in certs {
            if cert.county_key != county || cert.device == own || !cert.verifies() {
                continue;
            }
            let id = cert.device.as_bytes().as_slice();
            let held: Option<i64> = tx
                .query_row(
                    "SELECT issued_ms FROM county_cert WHERE device = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let take = match held {
                Some(at) => cert.issued_ms > at,
                // Not held: taken unless the county's full list signed after it left the
                // device out.
                None => cert.issued_ms >= list_ms,
            };
            if take {
                let text = cert_text(cert);
                tx.execute(
                    "INSERT OR REPLACE INTO county_cert (device, issued_ms, cert) VALUES (?1, ?2, ?3)",
                    params![id, cert.issued_ms, text],
                )?;
                // Listed again (enrolled anew): the county vouches for it again.
                tx.execute(
                    "DELETE FROM meta WHERE key = ?1",
                    [withdrawn_key(cert.device)],
                )?;
                kept.insert(cert.device);
            }
        }
        if full_list.is_none() && !kept.is_empty() {
            // Certificates a file brought: the next sync asks for the whole list again (not
            // "unchanged"), so one the county has since withdrawn is dropped there.
            tx.execute("DELETE FROM meta WHERE key = ?1", [META_COUNTY_LIST_TAG])?;
        }
        tx.commit()?;
        Ok(kept)
    }

    /// The county's list as this copy holds it is still the hub's at `at` (the hub answered
    /// "unchanged"): a certificate signed before then of a device not held is not taken from
    /// a file, as after a full list.
    pub fn county_list_still_at(&self, at: i64) -> Result<(), StoreError> {
        let before = meta_get::<i64>(&self.conn, META_COUNTY_LIST_MS)?.unwrap_or(i64::MIN);
        if at > before && self.county_key()?.is_some() {
            meta_set(&self.conn, META_COUNTY_LIST_MS, at)?;
        }
        Ok(())
    }

    /// The certificates held of these devices (for a file that carries their ops); this
    /// copy's own, the hub signed for it, among them.
    pub(crate) fn county_certs_for<'a>(
        &self,
        devices: impl IntoIterator<Item = &'a Uuid>,
    ) -> Result<Vec<DeviceCert>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT cert FROM county_cert WHERE device = ?1")?;
        let mut out = Vec::new();
        for device in devices {
            let text: Option<String> = stmt
                .query_row([device.as_bytes().as_slice()], |r| r.get(0))
                .optional()?;
            if let Some(cert) = text.and_then(|t| serde_json::from_str::<DeviceCert>(&t).ok()) {
                out.push(cert);
            }
        }
        Ok(out)
    }

    /// Of the keys a hub page declares, those the county's word may confirm here: all of
    /// them while this copy has taken no whole list from the hub under the county key it
    /// believes; once it has, only those the latest list certifies (a laptop the county
    /// revoked before this copy held its certificate is left out of the list, while its
    /// older edits still come in pages: they apply, but do not confirm its key).
    pub(crate) fn listed_by_county(
        &self,
        signers: &BTreeMap<Uuid, String>,
    ) -> Result<BTreeMap<Uuid, String>, StoreError> {
        let Some(county) = self.county_key()? else {
            return Ok(signers.clone());
        };
        if meta_get::<i64>(&self.conn, META_COUNTY_LIST_MS)?.is_none() {
            return Ok(signers.clone());
        }
        let certs = self.county_certs_for(signers.keys())?;
        Ok(signers
            .iter()
            .filter(|(device, key)| {
                certs
                    .iter()
                    .any(|c| c.device == **device && c.key == **key && c.county_key == county)
            })
            .map(|(device, key)| (*device, key.clone()))
            .collect())
    }

    /// Keeps this copy's own certificate (the hub signed it for this device's key): carried
    /// in its files so a station that never syncs takes them. Only under the believed county
    /// key and for this copy's own key.
    pub(crate) fn keep_own_county_cert(&self, cert: &DeviceCert) -> Result<bool, StoreError> {
        let own_key = self
            .own_signing_key()?
            .map(|k| crate::sync::signing::hex(k.verifying_key().as_bytes()));
        if self.county_key()?.as_deref() != Some(cert.county_key.as_str())
            || cert.device != self.device().id
            || own_key.as_deref() != Some(cert.key.as_str())
            || !cert.verifies()
        {
            return Ok(false);
        }
        let text = cert_text(cert);
        self.conn.execute(
            "INSERT OR REPLACE INTO county_cert (device, issued_ms, cert) VALUES (?1, ?2, ?3)",
            params![cert.device.as_bytes().as_slice(), cert.issued_ms, text],
        )?;
        Ok(true)
    }

    /// The county's word on device keys: each certified key of a device this copy knows
    /// unconfirmed under that same key, or of a device it does not know yet that is one of
    /// `signers` (a file's), is confirmed as the hub's pages confirm keys
    /// ([`Store::vouch_device_keys`]: a village device limited to its village); a certificate
    /// kept just now (`kept`) also brings its device's village limit up to the county's. A
    /// key this copy learnt unconfirmed (from a file) that differs gives way to the county's,
    /// as with a hub page; a key a person confirmed never does (the file's ops under the other
    /// key are then 冒充 at this copy). Returns how many keys that confirmed.
    pub(crate) fn vouch_by_county(
        &self,
        signers: &BTreeSet<Uuid>,
        kept: &BTreeSet<Uuid>,
    ) -> Result<u64, StoreError> {
        if self.county_key()?.is_none() {
            return Ok(0);
        }
        let known: BTreeMap<Uuid, super::DeviceKey> = self
            .device_keys()?
            .into_iter()
            .map(|k| (k.device, k))
            .collect();
        let unconfirmed_known = known
            .values()
            .filter(|k| !k.confirmed && !k.own)
            .map(|k| k.device);
        let wanted: BTreeSet<Uuid> = signers
            .iter()
            .chain(kept)
            .copied()
            .chain(unconfirmed_known)
            .collect();
        let mut signer_keys = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut scopes = BTreeMap::new();
        for cert in self.county_certs_for(&wanted)? {
            if cert.device == self.device().id {
                continue;
            }
            let village = village_of(&cert.scope);
            let vouch = match known.get(&cert.device) {
                None => signers.contains(&cert.device),
                // The county's word over a key only a file showed (a forged stick may have
                // come first), as a hub page's; never over a person's confirmation.
                Some(k) if k.public_key != cert.key => !k.confirmed,
                Some(k) if !k.confirmed => true,
                Some(k) => kept.contains(&cert.device) && k.village.as_deref() != village,
            };
            if vouch {
                signer_keys.insert(cert.device, cert.key);
                names.insert(cert.device, cert.name);
                scopes.insert(cert.device, cert.scope);
            }
        }
        if signer_keys.is_empty() {
            return Ok(0);
        }
        self.vouch_device_keys(&signer_keys, &names, &scopes)
    }
}

/// The village a scope limits a device to: a 12-digit village code (a township's or the
/// county's scope limits it to none), as [`Store::vouch_device_keys`] reads it.
fn village_of(scope: &str) -> Option<&str> {
    (scope.len() == 12 && scope.bytes().all(|b| b.is_ascii_digit())).then_some(scope)
}
