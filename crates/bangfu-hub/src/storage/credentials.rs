//! Who may talk to the hub, written once for both backends: enrolment codes (issued, spent,
//! expired, locked after wrong tries), device tokens (live or revoked) and the admin
//! credential. Secrets are stored only as SHA-256.

use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use super::logic::now_ms;
use super::sql::{Db, P};
use super::{
    AdminCheck, CodeRefusal, DeviceAuth, Enrolment, IssuedCode, MAX_WRONG_TRIES, StorageError,
};
use crate::scope::Scope;

/// SHA-256 in hex: tokens and codes are stored only this way.
pub fn hashed(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A code a person can read out on the phone: 12 characters without look-alikes, in groups.
pub fn random_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without case, spaces or dashes, as people type them.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn authenticate(db: &mut dyn Db, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
    let hash = hashed(token);
    let row = db.row(
        "SELECT id, name, scope FROM device WHERE token_hash = ?1 AND revoked_ms IS NULL",
        &[P::Text(&hash)],
    )?;
    let Some(row) = row else { return Ok(None) };
    let (id, name, scope) = (row.int(0)?, row.text(1)?, row.text(2)?);
    Ok(Scope::parse(&scope).map(|scope| DeviceAuth { id, name, scope }))
}

pub fn revoked_device(db: &mut dyn Db, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
    let hash = hashed(token);
    let row = db.row(
        "SELECT id, name, scope FROM device WHERE token_hash = ?1 AND revoked_ms IS NOT NULL",
        &[P::Text(&hash)],
    )?;
    let Some(row) = row else { return Ok(None) };
    let (id, name, scope) = (row.int(0)?, row.text(1)?, row.text(2)?);
    Ok(Scope::parse(&scope).map(|scope| DeviceAuth { id, name, scope }))
}

/// The first group of a code (4 characters), kept in the clear so a mistyped code can be
/// counted against the code it was meant to be; the other 8 characters (40 bits) stay secret.
fn lookup_of(normalized: &str) -> Option<&str> {
    normalized.get(..4).filter(|_| normalized.len() == 12)
}

/// Spends a code, or says why not. A wrong try is counted (and committed with the refusal)
/// against the live code sharing its first group, which is void after [`MAX_WRONG_TRIES`].
pub fn enrol(
    db: &mut dyn Db,
    code: &str,
    device_name: &str,
    previous_tokens: &[String],
) -> Result<Result<Enrolment, CodeRefusal>, StorageError> {
    let normalized = normalize_code(code);
    let code_hash = hashed(&normalized);
    let now = now_ms();
    let found = db.row(
        "SELECT used_ms, expires_ms, wrong_tries FROM enrol_code WHERE code_hash = ?1",
        &[P::Text(&code_hash)],
    )?;
    let Some(found) = found else {
        let tries_left = match lookup_of(&normalized) {
            Some(lookup) => db
                .row(
                    "UPDATE enrol_code SET wrong_tries = wrong_tries + 1
                     WHERE lookup = ?1 AND used_ms IS NULL AND expires_ms > ?2
                       AND wrong_tries < ?3
                     RETURNING wrong_tries",
                    &[P::Text(lookup), P::Int(now), P::Int(MAX_WRONG_TRIES)],
                )?
                .map(|r| r.int(0))
                .transpose()?
                .map(|tries| MAX_WRONG_TRIES - tries),
            None => None,
        };
        return Ok(Err(match tries_left {
            Some(0) => CodeRefusal::Locked,
            tries_left => CodeRefusal::Wrong { tries_left },
        }));
    };
    let (used, expires, tries) = (found.opt_int(0)?, found.opt_int(1)?, found.int(2)?);
    if used.is_some() {
        return Ok(Err(CodeRefusal::Used));
    }
    if tries >= MAX_WRONG_TRIES {
        return Ok(Err(CodeRefusal::Locked));
    }
    if expires.is_some_and(|expires| now >= expires) {
        return Ok(Err(CodeRefusal::Expired));
    }
    let scope = db.row(
        "UPDATE enrol_code SET used_ms = ?2 WHERE code_hash = ?1 AND used_ms IS NULL
         RETURNING scope",
        &[P::Text(&code_hash), P::Int(now)],
    )?;
    let Some(scope) = scope.map(|r| r.text(0)).transpose()? else {
        return Ok(Err(CodeRefusal::Used));
    };
    let Some(scope) = Scope::parse(&scope) else {
        return Ok(Err(CodeRefusal::Wrong { tries_left: None }));
    };
    let token = random_hex(32);
    let id = db.one_int(
        "INSERT INTO device (token_hash, scope, name, enrolled_ms) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
        &[
            P::Text(&hashed(&token)),
            P::Text(scope.as_str()),
            P::Text(device_name),
            P::Int(now),
        ],
    )?;
    // The same data file enrolled again (or a copy of it): it shows a token the hub gave it
    // before, so it may keep pushing the origins claimed under that token.
    for previous in previous_tokens.iter().filter(|t| !t.trim().is_empty()) {
        let old = db.row(
            "SELECT id FROM device WHERE token_hash = ?1",
            &[P::Text(&hashed(previous))],
        )?;
        let Some(old) = old.map(|r| r.int(0)).transpose()?.filter(|old| *old != id) else {
            continue;
        };
        db.exec(
            "INSERT INTO device_lineage (device, earlier)
             SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT)
             UNION SELECT CAST(?1 AS BIGINT), earlier FROM device_lineage WHERE device = ?2
             ON CONFLICT DO NOTHING",
            &[P::Int(id), P::Int(old)],
        )?;
    }
    Ok(Ok(Enrolment { token, scope }))
}

/// Issues a code valid for `valid_for_ms`, whose first group no other live code has (so a wrong
/// try counts against one code only).
pub fn issue_code(
    db: &mut dyn Db,
    scope: &Scope,
    valid_for_ms: i64,
) -> Result<IssuedCode, StorageError> {
    let now = now_ms();
    let expires_ms = now.saturating_add(valid_for_ms.max(0));
    // 2^20 first groups: a clash with one of a county's few live codes is rare, and a few
    // draws make it vanish.
    let mut code = random_code();
    for _ in 0..16 {
        let normalized = normalize_code(&code);
        let lookup = lookup_of(&normalized).unwrap_or_default();
        let clash = db.one_int(
            "SELECT count(*) FROM enrol_code WHERE lookup = ?1 AND used_ms IS NULL
               AND expires_ms > ?2",
            &[P::Text(lookup), P::Int(now)],
        )?;
        if clash == 0 {
            break;
        }
        code = random_code();
    }
    let normalized = normalize_code(&code);
    db.exec(
        "INSERT INTO enrol_code (code_hash, scope, created_ms, expires_ms, lookup)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            P::Text(&hashed(&normalized)),
            P::Text(scope.as_str()),
            P::Int(now),
            P::Int(expires_ms),
            P::Text(lookup_of(&normalized).unwrap_or_default()),
        ],
    )?;
    Ok(IssuedCode {
        code,
        scope: scope.to_string(),
        expires_ms,
    })
}

const ADMIN_KEY: &str = "admin_token_sha256";

/// Makes the admin credential (32 random bytes in hex); only its SHA-256 is kept.
pub fn create_admin_token(db: &mut dyn Db, replace: bool) -> Result<Option<String>, StorageError> {
    let token = format!("bfadmin-{}", random_hex(32));
    let hash = hashed(&token);
    let changed = if replace {
        db.exec(
            "INSERT INTO hub_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[P::Text(ADMIN_KEY), P::Text(&hash)],
        )?
    } else {
        db.exec(
            "INSERT INTO hub_meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[P::Text(ADMIN_KEY), P::Text(&hash)],
        )?
    };
    Ok((changed > 0).then_some(token))
}

pub fn check_admin(db: &mut dyn Db, token: &str) -> Result<AdminCheck, StorageError> {
    let stored = db.row(
        "SELECT value FROM hub_meta WHERE key = ?1",
        &[P::Text(ADMIN_KEY)],
    )?;
    let Some(stored) = stored.map(|r| r.text(0)).transpose()? else {
        return Ok(AdminCheck::NotSet);
    };
    Ok(if !token.trim().is_empty() && hashed(token) == stored {
        AdminCheck::Valid
    } else {
        AdminCheck::Wrong
    })
}
