//! The county key and the county's device list (issue 15), over [`Db`] for both backends.
//! The hub makes its county key (Ed25519) the first time it is asked for it and keeps it in
//! `hub_meta`; with it, it signs a certificate of every device key it holds
//! (`bangfu_core::sync::county`): the list an enrolled copy fetches, believes (the hub is who
//! vouches for keys) and carries in its files for the stations that never sync.

use bangfu_core::sync::county::{CountyList, CountySigner, DeviceCert};
use bangfu_core::sync::signing;

use super::StorageError;
use super::sql::{Db, P};

/// `hub_meta` key of a county's key's 32 secret bytes (hex), per county code: a hub that
/// serves several counties signs each county's list with that county's key, so a station
/// believing one county's key takes nothing another county's laptops carry.
fn key_name(county: &str) -> String {
    format!("county_signing_key:{county}")
}

/// The county key, made and kept the first time (two hub processes asking at once keep one:
/// the first insert wins and both read it back).
pub fn county_key(db: &mut dyn Db, county: &str) -> Result<CountySigner, StorageError> {
    if let Some(key) = stored_key(db, county)? {
        return Ok(key);
    }
    let fresh = CountySigner::generate();
    db.exec(
        "INSERT INTO hub_meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &[
            P::Text(&key_name(county)),
            P::Text(&signing::hex(&fresh.secret())),
        ],
    )?;
    stored_key(db, county)?.ok_or_else(|| StorageError::BadRow("county key".into()))
}

/// A new key for the county in place of the one it had (the county's administrator renews it
/// when the old one may have leaked): from now on the list and every certificate are signed
/// with it. Copies that believed the old key do not take the new one by themselves: each
/// shows it as not matching until a person who has the county's word takes it (改认).
pub fn renew_key(db: &mut dyn Db, county: &str) -> Result<CountySigner, StorageError> {
    let fresh = CountySigner::generate();
    db.exec(
        "INSERT INTO hub_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[
            P::Text(&key_name(county)),
            P::Text(&signing::hex(&fresh.secret())),
        ],
    )?;
    Ok(fresh)
}

/// The county's key if made already.
fn stored_key(db: &mut dyn Db, county: &str) -> Result<Option<CountySigner>, StorageError> {
    let Some(row) = db.row(
        "SELECT value FROM hub_meta WHERE key = ?1",
        &[P::Text(&key_name(county))],
    )?
    else {
        return Ok(None);
    };
    let secret = signing::unhex(&row.text(0)?)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| StorageError::BadRow("county key".into()))?;
    Ok(Some(CountySigner::from_secret(&secret)))
}

/// A device key the county certifies: origin, key (hex), device name, scope, and when that
/// enrolment was made (the certificate's time: the same certificate whenever it is signed
/// again, a new one only with a new enrolment).
pub type Listed = (uuid::Uuid, String, String, String, i64);

/// The county's key if made already, and the key of every origin the county vouches for:
/// each origin under the enrolment that pushes it now (the newest live enrolment of the
/// laptop that first claimed it, `device_lineage`: a laptop enrolled again for another
/// village is certified for that one), with that enrolment's name and scope; none whose
/// every enrolment is revoked, none of another county (read in one snapshot; signed outside
/// it).
pub fn list_rows(
    db: &mut dyn Db,
    county: &str,
) -> Result<(Option<CountySigner>, Vec<Listed>), StorageError> {
    let key = stored_key(db, county)?;
    let rows = db.rows(
        "SELECT s.origin, s.public_key, d.name, d.scope, d.enrolled_ms
         FROM signer s JOIN origin o ON o.origin = s.origin
         JOIN device d ON d.id = (
             SELECT max(x.id) FROM device x
             WHERE x.revoked_ms IS NULL
               AND (x.id = o.device
                    OR x.id IN (SELECT l.device FROM device_lineage l WHERE l.earlier = o.device)))
         WHERE substr(d.scope, 1, 6) = ?1
         ORDER BY s.origin",
        &[P::Text(county)],
    )?;
    let listed = rows
        .iter()
        .map(|r| Ok((r.uuid(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.int(4)?)))
        .collect::<Result<_, StorageError>>()?;
    Ok((key, listed))
}

/// The certificates signed so far, reused while a device's key, name, scope and enrolment
/// stay the same (a county's thousand laptops syncing do not each have the whole list signed
/// again). A certificate is the same whenever it is made (Ed25519 signs deterministically and
/// its time is its enrolment's), so a hub process started again hands out the very same ones
/// and no copy takes them as news.
#[derive(Debug, Default)]
pub struct CertCache(std::sync::Mutex<std::collections::HashMap<(String, uuid::Uuid), DeviceCert>>);

impl CertCache {
    /// The county's list, signed at `now_ms`: a certificate of every listed key.
    pub fn list(&self, key: &CountySigner, listed: &[Listed], now_ms: i64) -> CountyList {
        let county_key = key.public_hex();
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut certs = Vec::with_capacity(listed.len());
        for (origin, public_key, name, scope, enrolled_ms) in listed {
            let at = (county_key.clone(), *origin);
            let cert = match cache.remove(&at) {
                Some(c)
                    if c.key == *public_key
                        && c.name == *name
                        && c.scope == *scope
                        && c.issued_ms == *enrolled_ms =>
                {
                    c
                }
                _ => key.certify(*origin, name, scope, public_key, *enrolled_ms),
            };
            certs.push(cert.clone());
            cache.insert(at, cert);
        }
        CountyList {
            county_key,
            issued_ms: now_ms,
            certs,
        }
    }
}
