//! The county key and the county's device list (issue 15), over [`Db`] for both backends.
//! The hub makes its county key (Ed25519) the first time it is asked for it and keeps it in
//! `hub_meta`; with it, it signs a certificate of every device key it holds
//! (`bangfu_core::sync::county`): the list an enrolled copy fetches, believes (the hub is who
//! vouches for keys) and carries in its files for the stations that never sync.

use bangfu_core::sync::county::{CountyList, CountySigner, DeviceCert};
use bangfu_core::sync::signing;

use super::StorageError;
use super::sql::{Db, P};

/// `hub_meta` key of the county key's 32 secret bytes (hex).
const COUNTY_KEY: &str = "county_signing_key";

/// The county key, made and kept the first time (two hub processes asking at once keep one:
/// the first insert wins and both read it back).
pub fn county_key(db: &mut dyn Db) -> Result<CountySigner, StorageError> {
    let read = |db: &mut dyn Db| -> Result<Option<CountySigner>, StorageError> {
        let Some(row) = db.row(
            "SELECT value FROM hub_meta WHERE key = ?1",
            &[P::Text(COUNTY_KEY)],
        )?
        else {
            return Ok(None);
        };
        let secret = signing::unhex(&row.text(0)?)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| StorageError::BadRow("county key".into()))?;
        Ok(Some(CountySigner::from_secret(&secret)))
    };
    if let Some(key) = read(db)? {
        return Ok(key);
    }
    let fresh = CountySigner::generate();
    db.exec(
        "INSERT INTO hub_meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &[P::Text(COUNTY_KEY), P::Text(&signing::hex(&fresh.secret()))],
    )?;
    read(db)?.ok_or_else(|| StorageError::BadRow("county key".into()))
}

/// A device key the county certifies: origin, key (hex), device name, scope.
pub type Listed = (uuid::Uuid, String, String, String);

/// The county key if made already, and the key of every origin whose device is not revoked,
/// under the name and scope of that device (read in one snapshot; signed outside it).
pub fn list_rows(db: &mut dyn Db) -> Result<(Option<CountySigner>, Vec<Listed>), StorageError> {
    let key = match db.row(
        "SELECT value FROM hub_meta WHERE key = ?1",
        &[P::Text(COUNTY_KEY)],
    )? {
        Some(row) => Some(
            signing::unhex(&row.text(0)?)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(|secret| CountySigner::from_secret(&secret))
                .ok_or_else(|| StorageError::BadRow("county key".into()))?,
        ),
        None => None,
    };
    let rows = db.rows(
        "SELECT s.origin, s.public_key, d.name, d.scope
         FROM signer s JOIN origin o ON o.origin = s.origin JOIN device d ON d.id = o.device
         WHERE d.revoked_ms IS NULL ORDER BY s.origin",
        &[],
    )?;
    let listed = rows
        .iter()
        .map(|r| Ok((r.uuid(0)?, r.text(1)?, r.text(2)?, r.text(3)?)))
        .collect::<Result<_, StorageError>>()?;
    Ok((key, listed))
}

/// The certificates signed so far, reused while a device's key, name and scope stay the same
/// (a county's thousand laptops syncing do not each have the whole list signed again); a
/// device enrolled again with another scope or name gets a new one.
#[derive(Debug, Default)]
pub struct CertCache(std::sync::Mutex<std::collections::HashMap<uuid::Uuid, DeviceCert>>);

impl CertCache {
    /// The county's list: a certificate of every listed key, signed at `now_ms` unless one
    /// signed before still says the same. Certificates of devices no longer listed go.
    pub fn list(&self, key: &CountySigner, listed: &[Listed], now_ms: i64) -> CountyList {
        let county_key = key.public_hex();
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut certs = Vec::with_capacity(listed.len());
        let mut kept = std::collections::HashMap::with_capacity(listed.len());
        for (origin, public_key, name, scope) in listed {
            let cert = match cache.remove(origin) {
                Some(c)
                    if c.key == *public_key
                        && c.name == *name
                        && c.scope == *scope
                        && c.county_key == county_key =>
                {
                    c
                }
                _ => key.certify(*origin, name, scope, public_key, now_ms),
            };
            certs.push(cert.clone());
            kept.insert(*origin, cert);
        }
        *cache = kept;
        CountyList {
            county_key,
            issued_ms: now_ms,
            certs,
        }
    }
}
