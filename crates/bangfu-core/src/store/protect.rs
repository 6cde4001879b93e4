//! Encryption at rest: the data key, the passphrase and recovery code that unlock it, and the
//! key file beside the data file.
//!
//! The data file, its write-ahead log, its drafts and every backup are SQLCipher files under
//! one random 256-bit data key. The key never sits on the disk in the clear:
//!
//! - the **recovery code** (8 groups of 6 digits, about 159 bits, shown once at setup) derives
//!   the data key through HKDF-SHA256, so the code alone opens the file and every backup of it,
//!   even when the key file is lost;
//! - the **key file** `<data file>.key` holds the data key sealed (XChaCha20-Poly1305) under a
//!   key derived from the **passphrase** with Argon2id (64 MiB, 3 passes: a guess costs an
//!   attacker the same memory and time it costs the laptop at start);
//! - changing the passphrase rewrites the key file only; the data file stays as it is.
//!
//! This module must not open a store or know about tables: it turns secrets into a
//! [`DataKey`] and writes the key file; `Store` applies the key to each connection.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::UserFacing;

/// The fewest characters a passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
const KEY_FILE_FORMAT: &str = "bangfu-key";
const KEY_FILE_VERSION: u32 = 1;
const WRAP_AAD: &[u8] = b"bangfu data key v1";
const RECOVERY_GROUPS: usize = 8;
const RECOVERY_GROUP_DIGITS: usize = 6;
/// Argon2id cost of a new key file (the file records the cost it was made with).
const ARGON_MEMORY_KIB: u32 = 64 * 1024;
const ARGON_PASSES: u32 = 3;

/// The key every page of a data file and its backups is encrypted with.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl PartialEq for DataKey {
    fn eq(&self, other: &Self) -> bool {
        // Compared whole, not byte by byte with an early exit.
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for DataKey {}

impl DataKey {
    /// The value of SQLCipher's `PRAGMA key` for this raw key (no key derivation at open: the
    /// slow part was the passphrase's).
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.0.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\'');
        s
    }

    /// A short check value kept in the key file: tells a recovery code of this file from
    /// another file's without trying to open anything.
    fn check(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"bangfu key check v1")
            .chain_update(self.0.as_slice())
            .finalize();
        hex(&digest[..8])
    }
}

/// The recovery code of a data file: `123456-234567-…`, 8 groups of 6 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(…)")
    }
}

impl RecoveryCode {
    fn generate() -> RecoveryCode {
        let mut rng = rand::rngs::OsRng;
        let groups: Vec<String> = (0..RECOVERY_GROUPS)
            .map(|_| format!("{:06}", rng.next_u32() % 1_000_000))
            .collect();
        RecoveryCode(Zeroizing::new(groups.join("-")))
    }

    /// Reads a code as a person types it back: any spaces, dashes or full-width digits.
    pub fn parse(typed: &str) -> Result<RecoveryCode, ProtectError> {
        let digits: String = typed
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                _ => None,
            })
            .collect();
        let stray = typed
            .chars()
            .any(|c| !(c.is_ascii_digit() || ('０'..='９').contains(&c) || " -－\t\n".contains(c)));
        if stray || digits.len() != RECOVERY_GROUPS * RECOVERY_GROUP_DIGITS {
            return Err(ProtectError::BadRecoveryCode);
        }
        let groups: Vec<&str> = (0..RECOVERY_GROUPS)
            .map(|i| &digits[i * RECOVERY_GROUP_DIGITS..(i + 1) * RECOVERY_GROUP_DIGITS])
            .collect();
        Ok(RecoveryCode(Zeroizing::new(groups.join("-"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The data key this code stands for.
    pub fn data_key(&self) -> DataKey {
        let digits: Zeroizing<String> =
            Zeroizing::new(self.0.chars().filter(char::is_ascii_digit).collect());
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"bangfu recovery v1"), digits.as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit of 8160: expand cannot fail here.
        let _ = hk.expand(b"data key", key.as_mut_slice());
        DataKey(key)
    }
}

/// What unlocks a data file.
#[derive(Clone)]
pub enum Unlock {
    Passphrase(Zeroizing<String>),
    Recovery(RecoveryCode),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unlock::Passphrase(_) => "Unlock::Passphrase(…)",
            Unlock::Recovery(_) => "Unlock::Recovery(…)",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProtectError {
    #[error("{path}: the data file is encrypted and no passphrase was given")]
    Locked { path: PathBuf },
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("recovery code is not 48 digits")]
    BadRecoveryCode,
    #[error("the recovery code does not open this data file")]
    WrongRecoveryCode,
    #[error("passphrase shorter than {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    #[error("{path}: no key file; the data file cannot be opened with a passphrase")]
    NoKeyFile { path: PathBuf },
    #[error("{path}: already protected by a key file")]
    AlreadyProtected { path: PathBuf },
    #[error("{path}: key file unreadable: {detail}")]
    BadKeyFile { path: PathBuf, detail: String },
    #[error("{path}: the key does not open this data file")]
    KeyDoesNotFit { path: PathBuf },
    #[error("{path}: cannot write the key file: {source}")]
    WriteKeyFile {
        path: PathBuf,
        source: crate::files::FileWriteError,
    },
}

impl UserFacing for ProtectError {
    fn kind(&self) -> &'static str {
        match self {
            ProtectError::Locked { .. } => "locked",
            ProtectError::WrongPassphrase => "wrong_passphrase",
            ProtectError::BadRecoveryCode => "bad_recovery_code",
            ProtectError::WrongRecoveryCode => "wrong_recovery_code",
            ProtectError::WeakPassphrase => "weak_passphrase",
            ProtectError::NoKeyFile { .. } => "no_key_file",
            ProtectError::AlreadyProtected { .. } => "already_protected",
            ProtectError::BadKeyFile { .. } => "bad_key_file",
            ProtectError::KeyDoesNotFit { .. } => "key_does_not_fit",
            ProtectError::WriteKeyFile { .. } => "write_key_file",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ProtectError::Locked { path } => format!(
                "数据文件“{}”已加密，需要口令才能打开。请在启动时输入口令；命令行请用环境变量 BANGFU_PASSPHRASE 或 --passphrase-file 给出口令。",
                path.display()
            ),
            ProtectError::WrongPassphrase => {
                "口令不对，数据文件未作任何改动。请注意大小写和输入法；忘记口令时可以用设置时抄下的恢复码打开。".into()
            }
            ProtectError::BadRecoveryCode => format!(
                "恢复码应为 {RECOVERY_GROUPS} 组、每组 {RECOVERY_GROUP_DIGITS} 位数字（共 {} 位），请对照设置时抄下的恢复码重新输入。",
                RECOVERY_GROUPS * RECOVERY_GROUP_DIGITS
            ),
            ProtectError::WrongRecoveryCode => {
                "这个恢复码打不开这份数据文件，数据文件未作任何改动。请确认抄下的是这份数据文件的恢复码。".into()
            }
            ProtectError::WeakPassphrase => format!(
                "口令至少要有 {MIN_PASSPHRASE_CHARS} 个字符。丢失的电脑上，短口令几分钟就能被试出来。"
            ),
            ProtectError::NoKeyFile { path } => format!(
                "找不到数据文件的钥匙文件“{}”，无法用口令打开。请把它和数据文件放在同一个文件夹，或者用恢复码打开（打开后设置新口令即可）。",
                path.display()
            ),
            ProtectError::AlreadyProtected { path } => format!(
                "数据文件已经设置过口令（钥匙文件“{}”已存在）。要换口令请用“修改口令”。",
                path.display()
            ),
            ProtectError::BadKeyFile { path, .. } => format!(
                "钥匙文件“{}”已损坏，无法用口令打开。请用恢复码打开数据文件，再设置新口令。",
                path.display()
            ),
            ProtectError::KeyDoesNotFit { path } => format!(
                "口令或恢复码打不开数据文件“{}”：钥匙文件和数据文件不是同一套（可能是从别的文件复制来的），或者数据文件已损坏。数据文件未作任何改动。",
                path.display()
            ),
            ProtectError::WriteKeyFile { path, source } => format!(
                "无法写入钥匙文件“{}”：{}",
                path.display(),
                source.message_zh()
            ),
        }
    }
}

/// The key file beside a data file: `<file>.key`.
pub fn key_file_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".key");
    db_path.with_file_name(name)
}

/// Whether a data file is in the clear, encrypted, or not there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// No data file yet (or an empty one).
    New,
    /// A data file of an earlier version, not encrypted.
    Plain,
    /// An encrypted data file (or a file that is no SQLite file at all: opening says which).
    Encrypted,
}

pub fn protection_of(db_path: &Path) -> Protection {
    // Through `held_files`: a store of this process may have the file open, and closing a
    // descriptor of it would drop SQLite's locks.
    let mut header = [0u8; 16];
    match super::held_files::read_start(db_path, db_path, &mut header) {
        Ok(0) | Err(_) => Protection::New,
        Ok(16) if &header == b"SQLite format 3\0" => Protection::Plain,
        Ok(_) => Protection::Encrypted,
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: String,
    version: u32,
    kdf: Kdf,
    nonce: String,
    wrapped: String,
    check: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    alg: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

/// Sets up protection for a data file (new, or plain to be encrypted at its next open): makes
/// the recovery code and writes the key file sealed under `passphrase`. The code is returned
/// once, to be shown once; nothing keeps it.
pub fn set_up(db_path: &Path, passphrase: &str) -> Result<RecoveryCode, ProtectError> {
    check_passphrase(passphrase)?;
    let key_path = key_file_path(db_path);
    if key_path.exists() {
        return Err(ProtectError::AlreadyProtected { path: key_path });
    }
    let code = RecoveryCode::generate();
    write_key_file(db_path, &code.data_key(), passphrase)?;
    Ok(code)
}

/// The data key from what the person typed. A passphrase is checked against the key file
/// (a wrong one is refused here, before the data file is touched); a recovery code is checked
/// against the key file when there is one, else when the data file is opened with its key.
pub fn unlock(db_path: &Path, unlock: &Unlock) -> Result<DataKey, ProtectError> {
    let key_path = key_file_path(db_path);
    match unlock {
        Unlock::Recovery(code) => {
            let key = code.data_key();
            if let Some(file) = read_key_file(&key_path)?
                && file.check != key.check()
            {
                return Err(ProtectError::WrongRecoveryCode);
            }
            Ok(key)
        }
        Unlock::Passphrase(passphrase) => {
            let file = read_key_file(&key_path)?.ok_or_else(|| ProtectError::NoKeyFile {
                path: key_path.clone(),
            })?;
            let bad = |detail: &str| ProtectError::BadKeyFile {
                path: key_path.clone(),
                detail: detail.to_owned(),
            };
            if file.format != KEY_FILE_FORMAT || file.version != KEY_FILE_VERSION {
                return Err(bad("format"));
            }
            let salt = unhex(&file.kdf.salt).ok_or_else(|| bad("salt"))?;
            let nonce = unhex(&file.nonce).ok_or_else(|| bad("nonce"))?;
            let wrapped = unhex(&file.wrapped).ok_or_else(|| bad("wrapped"))?;
            if nonce.len() != 24 {
                return Err(bad("nonce length"));
            }
            let kek = derive(passphrase, &salt, &file.kdf).map_err(|e| bad(&e))?;
            let cipher = XChaCha20Poly1305::new(kek.as_slice().into());
            let plain = Zeroizing::new(
                cipher
                    .decrypt(
                        XNonce::from_slice(&nonce),
                        Payload {
                            msg: &wrapped,
                            aad: WRAP_AAD,
                        },
                    )
                    .map_err(|_| ProtectError::WrongPassphrase)?,
            );
            let mut key = Zeroizing::new([0u8; 32]);
            if plain.len() != 32 {
                return Err(bad("key length"));
            }
            key.copy_from_slice(&plain);
            Ok(DataKey(key))
        }
    }
}

/// Gives a fresh connection its key, before it reads anything.
pub fn apply_key(conn: &rusqlite::Connection, key: &DataKey) -> rusqlite::Result<()> {
    // A wrong key shows as "not a database" on the first read, said in Chinese by the caller;
    // SQLCipher's own log line on stderr says nothing a person needs.
    let _ = conn.pragma_update(None, "cipher_log_level", "NONE");
    let statement = Zeroizing::new(format!("PRAGMA key = \"{}\";", key.pragma_value().as_str()));
    conn.execute_batch(&statement)
}

/// Whether `key` opens the encrypted data file at `db_path`. Nothing is written, except that
/// a journal an import cut short left beside the file (`alone.rs`) is rolled back, as any
/// open does: a connection opened read-only could not, and would fail on it.
pub fn key_opens(db_path: &Path, key: &DataKey) -> Result<(), crate::store::StoreError> {
    let conn = crate::store::connect(
        db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        Some(key),
    )?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => ProtectError::KeyDoesNotFit {
                path: db_path.to_path_buf(),
            }
            .into(),
            _ => crate::store::StoreError::from(e),
        })
}

/// Seals the data key under a new passphrase (the old one, or the recovery code, was already
/// turned into `key` by [`unlock`] and checked by opening the file). Only the key file changes.
pub fn change_passphrase(
    db_path: &Path,
    key: &DataKey,
    new_passphrase: &str,
) -> Result<(), ProtectError> {
    check_passphrase(new_passphrase)?;
    write_key_file(db_path, key, new_passphrase)
}

fn check_passphrase(passphrase: &str) -> Result<(), ProtectError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(ProtectError::WeakPassphrase);
    }
    Ok(())
}

fn write_key_file(db_path: &Path, key: &DataKey, passphrase: &str) -> Result<(), ProtectError> {
    let key_path = key_file_path(db_path);
    let mut rng = rand::rngs::OsRng;
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let kdf = Kdf {
        alg: "argon2id".into(),
        memory_kib: ARGON_MEMORY_KIB,
        passes: ARGON_PASSES,
        lanes: 1,
        salt: hex(&salt),
    };
    let bad = |detail: String| ProtectError::BadKeyFile {
        path: key_path.clone(),
        detail,
    };
    let kek = derive(passphrase, &salt, &kdf).map_err(bad)?;
    let cipher = XChaCha20Poly1305::new(kek.as_slice().into());
    let wrapped = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.0.as_slice(),
                aad: WRAP_AAD,
            },
        )
        .map_err(|_| bad("seal".into()))?;
    let file = KeyFile {
        format: KEY_FILE_FORMAT.into(),
        version: KEY_FILE_VERSION,
        kdf,
        nonce: hex(&nonce),
        wrapped: hex(&wrapped),
        check: key.check(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
    crate::files::write_file(&key_path, &json).map_err(|source| ProtectError::WriteKeyFile {
        path: key_path.clone(),
        source,
    })
}

fn read_key_file(key_path: &Path) -> Result<Option<KeyFile>, ProtectError> {
    match std::fs::read(key_path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ProtectError::BadKeyFile {
                    path: key_path.to_path_buf(),
                    detail: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ProtectError::BadKeyFile {
            path: key_path.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

fn derive(passphrase: &str, salt: &[u8], kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, String> {
    if kdf.alg != "argon2id" {
        return Err(format!("unknown kdf {}", kdf.alg));
    }
    // A damaged key file must not ask for gigabytes or hours at start.
    if kdf.memory_kib > 1024 * 1024 || kdf.passes > 64 || kdf.lanes > 16 {
        return Err("kdf cost out of range".into());
    }
    let params =
        Params::new(kdf.memory_kib, kdf.passes, kdf.lanes, Some(32)).map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut_slice())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Reads the passphrase scripts give: `BANGFU_PASSPHRASE`, else the first line of a file.
pub fn passphrase_from(file: Option<&Path>) -> std::io::Result<Option<Zeroizing<String>>> {
    if let Some(file) = file {
        let mut text = std::fs::read_to_string(file)?;
        let line = Zeroizing::new(text.lines().next().unwrap_or_default().to_owned());
        text.zeroize();
        return Ok(Some(line));
    }
    Ok(std::env::var("BANGFU_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Zeroizing::new))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_reads_back_however_it_is_typed_and_gives_the_same_key() {
        let code = RecoveryCode::generate();
        assert_eq!(code.as_str().len(), 8 * 6 + 7);
        let spaced = code.as_str().replace('-', " ");
        let wide: String = code
            .as_str()
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
                other => other,
            })
            .collect();
        for typed in [spaced, wide] {
            let parsed = RecoveryCode::parse(&typed).unwrap();
            assert_eq!(parsed, code);
            assert_eq!(parsed.data_key().0, code.data_key().0);
        }
        assert!(matches!(
            RecoveryCode::parse("12345-"),
            Err(ProtectError::BadRecoveryCode)
        ));
        assert!(matches!(
            RecoveryCode::parse(&code.as_str().replacen('1', "l", 1)),
            Err(ProtectError::BadRecoveryCode) | Ok(_)
        ));
    }

    #[test]
    fn the_key_file_opens_with_its_passphrase_or_code_and_refuses_others() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data.sqlite");
        assert!(matches!(
            set_up(&db, "short"),
            Err(ProtectError::WeakPassphrase)
        ));
        let code = set_up(&db, "红旗村工作队2026").unwrap();
        assert!(matches!(
            set_up(&db, "another passphrase"),
            Err(ProtectError::AlreadyProtected { .. })
        ));
        let by_pass = unlock(
            &db,
            &Unlock::Passphrase(Zeroizing::new("红旗村工作队2026".into())),
        )
        .unwrap();
        assert_eq!(by_pass.0, code.data_key().0);
        let by_code = unlock(&db, &Unlock::Recovery(code.clone())).unwrap();
        assert_eq!(by_code.0, by_pass.0);
        assert!(matches!(
            unlock(
                &db,
                &Unlock::Passphrase(Zeroizing::new("红旗村工作队2025".into()))
            ),
            Err(ProtectError::WrongPassphrase)
        ));
        let other = RecoveryCode::generate();
        assert!(matches!(
            unlock(&db, &Unlock::Recovery(other)),
            Err(ProtectError::WrongRecoveryCode)
        ));
        // A new passphrase: the old one stops working, the key (and so the file) stays.
        change_passphrase(&db, &by_code, "新口令新口令新口令").unwrap();
        assert!(matches!(
            unlock(
                &db,
                &Unlock::Passphrase(Zeroizing::new("红旗村工作队2026".into()))
            ),
            Err(ProtectError::WrongPassphrase)
        ));
        let again = unlock(
            &db,
            &Unlock::Passphrase(Zeroizing::new("新口令新口令新口令".into())),
        )
        .unwrap();
        assert_eq!(again.0, code.data_key().0);
        // The key file holds nothing that opens the file without the passphrase.
        let text = std::fs::read_to_string(key_file_path(&db)).unwrap();
        assert!(!text.contains(&hex(code.data_key().0.as_slice())));
    }
}
