//! Sealing keys in the data file (issue 15): this identity's age X25519 key pair (local
//! `meta`, made next to its signing key), the public sealing keys of other devices, each
//! believed only when the signing key this copy knows for that device signed it, and the
//! devices an export is sealed to.
//!
//! A new identity (a copied or restored file) gets a new sealing key, as it gets a new signing
//! key: files sealed to the identity it had before are not for it.

use std::collections::BTreeMap;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519::{Identity, Recipient};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{Device, Store, StoreError, meta_get};
use crate::sync::seal::SealKey;
use crate::sync::signing;

/// `meta` key of the sealing key: `<device uuid>:<AGE-SECRET-KEY-1…>`.
const META_SEALING_KEY: &str = "sealing_key";
/// What a device's signing key signs to vouch for its sealing key.
const SEAL_KEY_CONTEXT: &[u8] = b"bangfu-seal-key-v1";

/// A device an export can be sealed to.
#[derive(Debug, Clone)]
pub struct SealRecipient {
    pub device: Uuid,
    pub name: String,
    pub recipient: Recipient,
    pub confirmed: bool,
    pub own: bool,
}

fn seal_message(device: Uuid, recipient: &str) -> Vec<u8> {
    let mut m = SEAL_KEY_CONTEXT.to_vec();
    m.extend_from_slice(device.as_bytes());
    m.extend_from_slice(recipient.as_bytes());
    m
}

fn corrupt(detail: &str) -> StoreError {
    StoreError::Corrupt {
        path: std::path::PathBuf::new(),
        detail: detail.to_owned(),
    }
}

/// This identity's sealing key as stored, if it has one.
fn stored_identity(conn: &Connection, device: &Device) -> Result<Option<Identity>, StoreError> {
    let stored: Option<String> = meta_get(conn, META_SEALING_KEY)?;
    match stored.as_deref().and_then(|s| s.split_once(':')) {
        Some((id, secret)) if id == device.id.to_string() => Identity::from_str(secret)
            .map(Some)
            .map_err(|_| corrupt("sealing key")),
        _ => Ok(None),
    }
}

/// This identity's sealing key, made (with its signing key, when it has none yet) the first
/// time it is needed, and its public half recorded among the known keys, signed.
fn sealing_identity(
    conn: &Connection,
    device: &Device,
    wall_ms: u64,
) -> Result<Identity, StoreError> {
    let signing_key = super::device_keys::ensure_signing_key(conn, device, wall_ms)?;
    let identity = match stored_identity(conn, device)? {
        Some(identity) => identity,
        None => {
            let identity = Identity::generate();
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![
                    META_SEALING_KEY,
                    format!("{}:{}", device.id, identity.to_string().expose_secret())
                ],
            )?;
            identity
        }
    };
    let recipient = identity.to_public().to_string();
    let sig = signing_key.sign(&seal_message(device.id, &recipient));
    conn.execute(
        "UPDATE device_key SET seal_key = ?2, seal_sig = ?3
         WHERE device = ?1 AND seal_key IS NOT ?2",
        params![
            device.id.as_bytes().as_slice(),
            recipient,
            sig.to_bytes().as_slice()
        ],
    )?;
    Ok(identity)
}

impl Store {
    /// Makes this identity's sealing key (and signing key) if it has none yet, so its files
    /// can announce it; every export does this first.
    pub fn ensure_sealing_key(&mut self) -> Result<(), StoreError> {
        if stored_identity(&self.conn, &self.device)?.is_some() {
            return Ok(());
        }
        let device = self.device.clone();
        let wall = self.wall_ms();
        self.write_local(|conn| sealing_identity(conn, &device, wall).map(|_| ()))
    }

    /// The sealing keys that open files sealed to this identity (none before it made one:
    /// nothing can have been sealed to it yet).
    pub fn own_sealing_identities(&self) -> Result<Vec<Identity>, StoreError> {
        Ok(stored_identity(&self.conn, &self.device)?
            .into_iter()
            .collect())
    }

    /// Every device whose sealing key this copy knows and believes (signed by the signing key
    /// it knows for that device), own first.
    pub fn seal_recipients(&self) -> Result<Vec<SealRecipient>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.device, coalesce(nullif(d.name, ''), k.name), k.public_key, k.seal_key,
                    k.seal_sig, k.confirmed
             FROM device_key k LEFT JOIN device d ON d.id = k.device
             WHERE k.seal_key IS NOT NULL ORDER BY k.first_seen_ms",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, public_key, seal_key, sig, confirmed) = row?;
            let Ok(device) = Uuid::from_slice(&id) else {
                continue;
            };
            if !vouched(
                device,
                &public_key,
                &seal_key,
                sig.as_deref().unwrap_or(&[]),
            ) {
                continue;
            }
            let Ok(recipient) = Recipient::from_str(&seal_key) else {
                continue;
            };
            out.push(SealRecipient {
                device,
                name: name.unwrap_or_default(),
                recipient,
                confirmed,
                own: device == self.device.id,
            });
        }
        out.sort_by_key(|r| !r.own);
        Ok(out)
    }

    /// The sealing keys a file announces: every one this copy believes, with the signing key
    /// that vouches for it, so copies learn who they can seal to from any file they open.
    pub(crate) fn seal_keys_for_export(&self) -> Result<BTreeMap<Uuid, SealKey>, StoreError> {
        self.believed_seal_keys(None)
    }

    /// The sealing key of one device, as [`Store::seal_keys_for_export`] would name it (a
    /// push carries its own device's only).
    pub(crate) fn seal_key_of(&self, device: Uuid) -> Result<Option<SealKey>, StoreError> {
        Ok(self.believed_seal_keys(Some(device))?.remove(&device))
    }

    fn believed_seal_keys(
        &self,
        only: Option<Uuid>,
    ) -> Result<BTreeMap<Uuid, SealKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.device, coalesce(nullif(d.name, ''), k.name), k.public_key, k.seal_key, k.seal_sig
             FROM device_key k LEFT JOIN device d ON d.id = k.device
             WHERE k.seal_key IS NOT NULL AND k.seal_sig IS NOT NULL
               AND (?1 IS NULL OR k.device = ?1)",
        )?;
        let only = only.map(|d| d.as_bytes().to_vec());
        let rows = stmt.query_map([only], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, name, public_key, seal_key, sig) = row?;
            let Ok(device) = Uuid::from_slice(&id) else {
                continue;
            };
            if vouched(device, &public_key, &seal_key, &sig) {
                out.insert(
                    device,
                    SealKey {
                        name: name.unwrap_or_default(),
                        signing_key: signing::hex(&public_key),
                        recipient: seal_key,
                        sig: signing::hex(&sig),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Records the sealing keys a file announced: a device this copy has not heard of is
    /// recorded with its signing key, not confirmed (as a file's signers are), only when the
    /// file proved that signing key is the device's (`proven`: it signs a batch the file
    /// carried whole, or it is the key of the source that signed the file; see
    /// `Store::record_signatures`). A sealing key signs itself under whatever signing key it
    /// names, so on its own it proves nothing: a forged stick could plant a made-up key under
    /// a laptop's id. A key whose signature does not verify, or that names a signing key other
    /// than the one this copy knows for the device, is ignored. Returns how many keys were new
    /// or changed.
    pub(crate) fn learn_seal_keys(
        &mut self,
        keys: &BTreeMap<Uuid, SealKey>,
        proven: &BTreeMap<Uuid, String>,
    ) -> Result<usize, StoreError> {
        let wall = self.wall_ms() as i64;
        let own = self.device.id;
        let mut believed = Vec::new();
        for (device, key) in keys {
            if *device == own {
                continue;
            }
            let (Some(public_key), Some(sig)) =
                (signing::unhex(&key.signing_key), signing::unhex(&key.sig))
            else {
                continue;
            };
            if Recipient::from_str(&key.recipient).is_ok()
                && vouched(*device, &public_key, &key.recipient, &sig)
            {
                let new_device_allowed = proven
                    .get(device)
                    .and_then(|k| signing::unhex(k))
                    .is_some_and(|k| k == public_key);
                believed.push((*device, key, public_key, sig, new_device_allowed));
            }
        }
        if believed.is_empty() {
            return Ok(0);
        }
        self.write_local(|conn| {
            let mut changed = 0;
            for (device, key, public_key, sig, new_device_allowed) in &believed {
                if *new_device_allowed {
                    conn.execute(
                        "INSERT OR IGNORE INTO device_key (device, public_key, name, confirmed, first_seen_ms)
                         VALUES (?1, ?2, ?3, 0, ?4)",
                        params![device.as_bytes().as_slice(), public_key, key.name, wall],
                    )?;
                }
                changed += conn.execute(
                    "UPDATE device_key SET seal_key = ?3, seal_sig = ?4
                     WHERE device = ?1 AND public_key = ?2 AND seal_key IS NOT ?3",
                    params![
                        device.as_bytes().as_slice(),
                        public_key,
                        key.recipient,
                        sig
                    ],
                )?;
            }
            Ok(changed)
        })
    }
}

/// Whether `sig` is the signature of `public_key` (Ed25519) over `device`'s sealing key.
fn vouched(device: Uuid, public_key: &[u8], seal_key: &str, sig: &[u8]) -> bool {
    let Ok(public_key) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&public_key) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    key.verify(&seal_message(device, seal_key), &sig).is_ok()
}
