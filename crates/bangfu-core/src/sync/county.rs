//! The county's word on devices' keys, carried where the hub does not reach (issue 15).
//!
//! The county's hub holds a key of its own (the county key). For every device that pushed
//! signed ops it signs a certificate ([`DeviceCert`]): the device's id, its signing key, the
//! name and scope it was enrolled under, and when. A copy that syncs with the hub learns the
//! county key there (the hub is who vouches for keys already) and the certificates of the
//! county's devices ([`CountyList`]); its files carry the certificates of the devices whose ops
//! they carry. A township station that never syncs with the hub confirms the county's 安全码
//! once (`bangfu device confirm-county`, or the 设备 box); from then on a laptop's stick merges
//! when the county certified the key that signed it, without the clerk comparing every
//! laptop's 安全码, and a village laptop's certificate limits it to its village there as at
//! the hub.
//!
//! A certificate proves nothing alone: it counts only under the county key this copy holds.
//! A certificate of a device the county's latest full list left out (revoked) that comes on a
//! stick afterwards is not taken ([`crate::store::Store::keep_county_certs`]).

use std::collections::BTreeSet;

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::changeset::Header;
use super::signing;
use crate::store::{Store, StoreError};

/// The most certificates a file's header is read for: a county has hundreds of laptops.
pub const MAX_CERTS: usize = 20_000;

/// The county's certificate of one device's signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    pub device: Uuid,
    /// The name the hub enrolled the device under.
    pub name: String,
    /// The scope it was enrolled with: a 12-digit village code limits it to that village.
    pub scope: String,
    /// The device's signing key (Ed25519, hex).
    pub key: String,
    /// When the hub signed it (its clock, milliseconds since the epoch).
    pub issued_ms: i64,
    /// The county key (Ed25519, hex) that signed it.
    pub county_key: String,
    /// The county key's signature (hex) over [`cert_digest`].
    pub sig: String,
}

/// What the hub hands an enrolled copy: the county key and a certificate for every device
/// of the county it holds a key for and has not revoked, all signed at `issued_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountyList {
    pub county_key: String,
    pub issued_ms: i64,
    pub certs: Vec<DeviceCert>,
}

fn put_text(h: &mut Sha256, text: &str) {
    h.update((text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
}

/// What the county key signs of a certificate: every field but the signature, each fixed
/// width or length-prefixed, under a label of its own (a certificate's signature is never
/// taken for any other the county key could make).
pub fn cert_digest(
    device: Uuid,
    name: &str,
    scope: &str,
    key: &str,
    issued_ms: i64,
    county_key: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bangfu-county-cert-v1\0");
    h.update(device.as_bytes());
    put_text(&mut h, name);
    put_text(&mut h, scope);
    put_text(&mut h, key);
    h.update(issued_ms.to_le_bytes());
    put_text(&mut h, county_key);
    h.finalize().into()
}

/// The county's certificate of `device`'s key `key` (hex), signed with `county`.
pub fn certify(
    county: &SigningKey,
    device: Uuid,
    name: &str,
    scope: &str,
    key: &str,
    issued_ms: i64,
) -> DeviceCert {
    let county_key = signing::hex(county.verifying_key().as_bytes());
    let digest = cert_digest(device, name, scope, key, issued_ms, &county_key);
    DeviceCert {
        device,
        name: name.to_owned(),
        scope: scope.to_owned(),
        key: key.to_owned(),
        issued_ms,
        sig: signing::hex(&county.sign(&digest).to_bytes()),
        county_key,
    }
}

/// The county key as the hub holds it: signs certificates.
pub struct CountySigner(SigningKey);

impl std::fmt::Debug for CountySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The public half only: the secret never goes into a log.
        write!(f, "CountySigner({})", self.public_hex())
    }
}

impl CountySigner {
    /// A new county key (the hub makes one, the first time it is asked).
    pub fn generate() -> CountySigner {
        CountySigner(signing::new_signing_key())
    }

    pub fn from_secret(secret: &[u8; 32]) -> CountySigner {
        CountySigner(SigningKey::from_bytes(secret))
    }

    /// The 32 secret bytes, to keep.
    pub fn secret(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public county key (hex), the one copies believe.
    pub fn public_hex(&self) -> String {
        signing::hex(self.0.verifying_key().as_bytes())
    }

    /// The certificate of `device`'s key `key` (hex).
    pub fn certify(
        &self,
        device: Uuid,
        name: &str,
        scope: &str,
        key: &str,
        issued_ms: i64,
    ) -> DeviceCert {
        certify(&self.0, device, name, scope, key, issued_ms)
    }
}

impl DeviceCert {
    /// Whether the county key it names signed it (whether this copy believes that key is
    /// another matter: [`Store::keep_county_certs`]).
    pub fn verifies(&self) -> bool {
        signing::unhex(&self.key).is_some_and(|k| k.len() == 32)
            && signing::verify_hex(
                &self.county_key,
                &cert_digest(
                    self.device,
                    &self.name,
                    &self.scope,
                    &self.key,
                    self.issued_ms,
                    &self.county_key,
                ),
                &self.sig,
            )
    }
}

/// The 安全码 of a county key (hex), as the 设备 box and `bangfu-hub county-key` show it.
pub fn county_fingerprint(county_key: &str) -> Option<String> {
    signing::unhex(county_key)
        .filter(|k| k.len() == 32)
        .map(|k| signing::fingerprint(&k))
}

/// Before an import decides what to trust: the certificates the file carries are kept when
/// the county key this copy holds signed them, and the file's signers the county certified
/// (now or before) are confirmed as the county's word ([`Store::vouch_device_keys`], which
/// marks the held files to be read again when that confirms a key this copy had not). Returns
/// how many keys that confirmed.
pub(crate) fn take_file_certs(store: &Store, header: &Header) -> Result<u64, StoreError> {
    let kept = match &header.county_certs {
        Some(certs) => {
            let certs = &certs[..certs.len().min(MAX_CERTS)];
            store.remember_county_keys(certs)?;
            store.keep_county_certs(certs, None)?
        }
        None => BTreeSet::new(),
    };
    let signers: BTreeSet<Uuid> = header
        .signers
        .iter()
        .flat_map(|s| s.keys().copied())
        .collect();
    store.vouch_by_county(&signers, &kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_verifies_only_as_the_county_signed_it() {
        let county = signing::new_signing_key();
        let device = Uuid::now_v7();
        let key = signing::hex(signing::new_signing_key().verifying_key().as_bytes());
        let cert = certify(
            &county,
            device,
            "一村笔记本",
            "530828101201",
            &key,
            1_700_000,
        );
        assert!(cert.verifies());
        // Every field is covered: a village widened to its township, another key, another
        // device, a later time, a name changed, another county key each break it.
        let other = signing::hex(signing::new_signing_key().verifying_key().as_bytes());
        let altered = [
            DeviceCert {
                scope: "530828101".into(),
                ..cert.clone()
            },
            DeviceCert {
                key: other.clone(),
                ..cert.clone()
            },
            DeviceCert {
                device: Uuid::now_v7(),
                ..cert.clone()
            },
            DeviceCert {
                issued_ms: cert.issued_ms + 1,
                ..cert.clone()
            },
            DeviceCert {
                name: "二村笔记本".into(),
                ..cert.clone()
            },
            DeviceCert {
                county_key: other,
                ..cert.clone()
            },
        ];
        for bad in altered {
            assert!(!bad.verifies(), "{bad:?}");
        }
        // A forger's own county key signs a certificate that verifies under that key only:
        // it counts nowhere that holds the real county key (store tests).
        let forger = signing::new_signing_key();
        let forged = certify(&forger, device, "一村笔记本", "530828", &key, 1_700_001);
        assert!(forged.verifies());
        assert_ne!(forged.county_key, cert.county_key);
        assert_eq!(
            county_fingerprint(&cert.county_key).map(|f| f.len()),
            Some(35)
        );
    }
}
