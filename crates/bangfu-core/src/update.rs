//! Updates that reach offline villages: a release is a package file (`bangfu_0.2.0_amd64.deb`)
//! and, beside it, `bangfu-update.json`: the release described (version, what changed, the
//! package's file name, size and SHA-256) as JSON text, and an Ed25519 signature over that
//! text by a release key this program trusts. The county hub offers the pair
//! (`bangfu-hub --packages DIR`), a township copies it to a U 盘; either way the signature is
//! checked before anything of the description is read or shown, and the package's bytes
//! against it before it is offered for installing. A changed byte anywhere is refused.

use std::io::Read;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::UserFacing;
use crate::sync::signing::{hex, unhex};

/// The signed description's file name, beside the package.
pub const MANIFEST_FILE: &str = "bangfu-update.json";
/// What the signature covers: this line, then the description's JSON text.
const SIGNED_PREFIX: &[u8] = b"bangfu-release-v1\n";

/// The release keys this build trusts (hex Ed25519 public keys, one a line): whoever holds the
/// matching private key (`bangfu release keygen`) can sign releases. Replace the file with the
/// project's own key before the first signed release.
pub const TRUSTED_KEYS: &str = include_str!("update/release-keys.txt");

/// A release as its signed description says.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    /// 更新内容, one line each, in Chinese.
    pub changes: Vec<String>,
    /// The package's file name, beside the description (no folder).
    pub package: String,
    pub bytes: u64,
    /// SHA-256 of the package, hex.
    pub sha256: String,
}

/// The file beside the package: the description as signed text, and the signature.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    release: String,
    signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no {MANIFEST_FILE} in {0}")]
    NoManifest(PathBuf),
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("update description is not readable: {0}")]
    BadManifest(String),
    #[error("update signature does not verify with a trusted release key")]
    BadSignature,
    #[error("package {0} named in the update is missing")]
    PackageMissing(String),
    #[error("package {0} does not match its signed description")]
    PackageChanged(String),
    #[error("bad release key: {0}")]
    BadKey(String),
}

impl UserFacing for UpdateError {
    fn kind(&self) -> &'static str {
        match self {
            UpdateError::NoManifest(_) => "no_update",
            UpdateError::Read { .. } => "update_unreadable",
            UpdateError::BadManifest(_) => "update_bad_manifest",
            UpdateError::BadSignature => "update_bad_signature",
            UpdateError::PackageMissing(_) => "update_package_missing",
            UpdateError::PackageChanged(_) => "update_package_changed",
            UpdateError::BadKey(_) => "update_bad_key",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            UpdateError::NoManifest(folder) => format!(
                "“{}”里没有新版本（找不到 {MANIFEST_FILE}）。请把乡镇给的安装包和 {MANIFEST_FILE} 一起拷到 U 盘上再试。",
                folder.display()
            ),
            UpdateError::Read { path, .. } => format!(
                "无法读取“{}”，请检查 U 盘是否插好后重试。",
                path.display()
            ),
            UpdateError::BadManifest(_) | UpdateError::BadSignature => {
                "这个新版本的签名不对，可能被改动过或不是正式发布的版本，已拒绝，不会安装。请向乡镇或县里重新索取安装包。".into()
            }
            UpdateError::PackageMissing(name) => format!(
                "找不到安装包“{name}”：它应和 {MANIFEST_FILE} 放在同一个文件夹里。请重新拷贝后再试。"
            ),
            UpdateError::PackageChanged(name) => format!(
                "安装包“{name}”与签名的说明不符（文件被改动或没有拷完整），已拒绝，不会安装。请重新拷贝后再试。"
            ),
            UpdateError::BadKey(_) => "发布密钥文件无法识别。".into(),
        }
    }
}

/// The keys of [`TRUSTED_KEYS`].
pub fn trusted_keys() -> Vec<VerifyingKey> {
    TRUSTED_KEYS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| verifying_key(l).ok())
        .collect()
}

/// A public key from its hex text.
pub fn verifying_key(hex_text: &str) -> Result<VerifyingKey, UpdateError> {
    let bytes: [u8; 32] = unhex(hex_text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| UpdateError::BadKey("not 32 bytes of hex".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| UpdateError::BadKey(e.to_string()))
}

/// A signing key from its hex text (the private half, as `bangfu release keygen` writes it).
pub fn signing_key(hex_text: &str) -> Result<SigningKey, UpdateError> {
    let bytes: [u8; 32] = unhex(hex_text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| UpdateError::BadKey("not 32 bytes of hex".into()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A new release key pair: (private hex, public hex).
pub fn generate_release_key() -> (String, String) {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    (
        hex(key.to_bytes().as_slice()),
        hex(key.verifying_key().as_bytes()),
    )
}

fn read(path: &Path) -> Result<Vec<u8>, UpdateError> {
    std::fs::read(path).map_err(|source| UpdateError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 and size of a file, read in pieces.
fn digest_of(path: &Path) -> Result<(String, u64), UpdateError> {
    let io = |source| UpdateError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

/// Signs a release of `package` (a built .deb, .rpm or installer): the text of
/// `bangfu-update.json` to put beside it.
pub fn sign_release(
    key: &SigningKey,
    package: &Path,
    version: &str,
    changes: &[String],
) -> Result<String, UpdateError> {
    let (sha256, bytes) = digest_of(package)?;
    let name = package
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| UpdateError::PackageMissing(package.display().to_string()))?;
    let release = Release {
        version: version.trim().to_owned(),
        changes: changes.to_vec(),
        package: name.to_owned(),
        bytes,
        sha256,
    };
    let text =
        serde_json::to_string(&release).map_err(|e| UpdateError::BadManifest(e.to_string()))?;
    let mut signed = SIGNED_PREFIX.to_vec();
    signed.extend_from_slice(text.as_bytes());
    let manifest = Manifest {
        release: text,
        signature: hex(&key.sign(&signed).to_bytes()),
    };
    serde_json::to_string_pretty(&manifest).map_err(|e| UpdateError::BadManifest(e.to_string()))
}

/// Checks the signature of a `bangfu-update.json` first, and only then reads what it says.
pub fn verify_manifest(bytes: &[u8], trusted: &[VerifyingKey]) -> Result<Release, UpdateError> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| UpdateError::BadManifest(e.to_string()))?;
    let signature: [u8; 64] = unhex(&manifest.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or(UpdateError::BadSignature)?;
    let signature = Signature::from_bytes(&signature);
    let mut signed = SIGNED_PREFIX.to_vec();
    signed.extend_from_slice(manifest.release.as_bytes());
    if !trusted
        .iter()
        .any(|key| key.verify(&signed, &signature).is_ok())
    {
        return Err(UpdateError::BadSignature);
    }
    let release: Release = serde_json::from_str(&manifest.release)
        .map_err(|e| UpdateError::BadManifest(e.to_string()))?;
    // A name with a folder in it could point anywhere: only a plain file name is a package.
    if release.package.is_empty()
        || release.package.contains(['/', '\\'])
        || release.package.starts_with('.')
    {
        return Err(UpdateError::BadManifest(format!(
            "package name {:?}",
            release.package
        )));
    }
    Ok(release)
}

/// Checks a package's bytes against its verified description.
pub fn check_package(release: &Release, package: &Path) -> Result<(), UpdateError> {
    if !package.is_file() {
        return Err(UpdateError::PackageMissing(release.package.clone()));
    }
    let (sha256, bytes) = digest_of(package)?;
    if sha256 != release.sha256 || bytes != release.bytes {
        return Err(UpdateError::PackageChanged(release.package.clone()));
    }
    Ok(())
}

/// An update ready to install: verified description and package.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct VerifiedUpdate {
    pub release: Release,
    pub package_path: PathBuf,
    /// Newer than the running version.
    pub newer: bool,
    /// What to run where installing needs an administrator (`sudo apt install ./…deb`).
    pub install_command: String,
}

/// Looks for a release in `folder` (a U 盘, or where the hub's files were downloaded): the
/// signature first, then the package's bytes.
pub fn verify_folder(
    folder: &Path,
    trusted: &[VerifyingKey],
    running: &str,
) -> Result<VerifiedUpdate, UpdateError> {
    let manifest = folder.join(MANIFEST_FILE);
    if !manifest.is_file() {
        return Err(UpdateError::NoManifest(folder.to_path_buf()));
    }
    let release = verify_manifest(&read(&manifest)?, trusted)?;
    let package_path = folder.join(&release.package);
    check_package(&release, &package_path)?;
    Ok(VerifiedUpdate {
        newer: is_newer(&release.version, running),
        install_command: install_command(&package_path),
        package_path,
        release,
    })
}

/// Whether `candidate` (`0.2.0`) is a later version than `running`, number by number.
pub fn is_newer(candidate: &str, running: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.trim()
            .trim_start_matches('v')
            .split(['.', '-', '+'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(candidate) > parts(running)
}

/// The command that installs a package where that needs an administrator.
pub fn install_command(package: &Path) -> String {
    let shown = package.display();
    match package.extension().and_then(|e| e.to_str()) {
        Some("deb") => format!("sudo apt install '{shown}'"),
        Some("rpm") => format!("sudo dnf install '{shown}'"),
        _ => format!("双击运行“{shown}”"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn release_in(dir: &Path) -> (SigningKey, PathBuf) {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let package = dir.join("bangfu_0.2.0_amd64.deb");
        std::fs::write(&package, b"!<arch>\ndebian-binary   a package's bytes").unwrap();
        let manifest = sign_release(
            &key,
            &package,
            "0.2.0",
            &["首次使用设置".into(), "备份到 U 盘".into()],
        )
        .unwrap();
        std::fs::write(dir.join(MANIFEST_FILE), manifest).unwrap();
        (key, package)
    }

    #[test]
    fn a_signed_release_in_a_folder_is_accepted_and_says_what_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let (key, package) = release_in(dir.path());
        let update = verify_folder(dir.path(), &[key.verifying_key()], "0.1.0").unwrap();
        assert_eq!(update.release.version, "0.2.0");
        assert_eq!(update.release.changes, ["首次使用设置", "备份到 U 盘"]);
        assert!(update.newer);
        assert_eq!(update.package_path, package);
        assert_eq!(
            update.install_command,
            format!("sudo apt install '{}'", package.display())
        );
        assert!(
            !verify_folder(dir.path(), &[key.verifying_key()], "0.2.0")
                .unwrap()
                .newer
        );
    }

    #[test]
    fn a_changed_byte_in_the_package_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (key, package) = release_in(dir.path());
        let mut bytes = std::fs::read(&package).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&package, &bytes).unwrap();
        let error = verify_folder(dir.path(), &[key.verifying_key()], "0.1.0").unwrap_err();
        assert_eq!(error.kind(), "update_package_changed");
        assert!(error.message_zh().contains("已拒绝"));
    }

    #[test]
    fn a_changed_byte_in_the_description_or_an_unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = release_in(dir.path());
        let manifest = dir.path().join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&manifest).unwrap();
        // Every single-character change of the signed text (the version, say) fails.
        let forged = text.replacen("0.2.0", "0.2.1", 1);
        assert_ne!(forged, text);
        std::fs::write(&manifest, &forged).unwrap();
        let error = verify_folder(dir.path(), &[key.verifying_key()], "0.1.0").unwrap_err();
        assert_eq!(error.kind(), "update_bad_signature");
        std::fs::write(&manifest, &text).unwrap();
        let stranger = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        assert_eq!(
            verify_folder(dir.path(), &[stranger], "0.1.0")
                .unwrap_err()
                .kind(),
            "update_bad_signature"
        );
        assert_eq!(
            verify_folder(&dir.path().join("none"), &[stranger], "0.1.0")
                .unwrap_err()
                .kind(),
            "no_update"
        );
    }

    #[test]
    fn a_signed_description_naming_a_path_outside_its_folder_is_refused() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let release = Release {
            version: "9.9.9".into(),
            changes: vec![],
            package: "../../etc/passwd".into(),
            bytes: 1,
            sha256: String::new(),
        };
        let text = serde_json::to_string(&release).unwrap();
        let mut signed = SIGNED_PREFIX.to_vec();
        signed.extend_from_slice(text.as_bytes());
        let manifest = serde_json::to_vec(&Manifest {
            release: text,
            signature: hex(&key.sign(&signed).to_bytes()),
        })
        .unwrap();
        assert_eq!(
            verify_manifest(&manifest, &[key.verifying_key()])
                .unwrap_err()
                .kind(),
            "update_bad_manifest"
        );
    }

    #[test]
    fn versions_compare_number_by_number() {
        assert!(is_newer("0.10.0", "0.9.3"));
        assert!(is_newer("1.0.0", "0.99.99"));
        assert!(!is_newer("0.1.0", "0.1.0"));
        assert!(!is_newer("0.1.0", "0.2.0"));
    }

    #[test]
    fn the_built_in_release_keys_parse() {
        assert!(!trusted_keys().is_empty());
    }
}
