//! Sealed changesets: the envelope that makes a changeset readable only by the devices it is
//! for (issue 15).
//!
//! Layout: `BANGFUSL`, format version (u16 LE), outer header length (u32 LE), outer header
//! (JSON: who wrote the file and, by name, who it is for), then an age file (binary, X25519
//! recipients: one stanza per device) whose plaintext is a whole changeset file
//! ([`super::changeset`]). age authenticates its header and every 64 KiB chunk (STREAM with a
//! last-chunk flag), so a damaged, cut or altered payload never decrypts; the changeset inside
//! still carries its own checksums and signatures. The outer header is not secret and not
//! authenticated: it names devices (no household, no person), only so that a device the file
//! is not for can say whose file it is.

use std::io::{self, BufRead, Read, Write};

use age::x25519::{Identity, Recipient};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::UserFacing;

pub const MAGIC: &[u8; 8] = b"BANGFUSL";
pub const FORMAT_VERSION: u16 = 1;
/// Bytes before the outer header: magic, version, header length.
const FIXED: usize = 14;
/// An outer header is a few names; anything larger is not one of ours.
const MAX_HEADER: u32 = 1 << 20;

/// The outer header: who wrote the file and who it is for, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealHeader {
    pub source_device: Uuid,
    pub source_name: String,
    pub recipients: Vec<SealedFor>,
}

/// A device's public sealing key as files carry it: vouched for by the device's signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealKey {
    pub name: String,
    /// The device's Ed25519 public key, hex.
    pub signing_key: String,
    /// The age X25519 recipient, `age1…`.
    pub recipient: String,
    /// Ed25519 signature over the context, the device id and the recipient, hex.
    pub sig: String,
}

/// One device a file is sealed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFor {
    pub device: Uuid,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed file is for other devices")]
    NotForThisDevice {
        this_device: String,
        source_name: String,
        recipients: Vec<String>,
    },
    #[error("unknown sealed format version {0}")]
    UnknownFormat(u16),
    #[error("sealed file is truncated")]
    Truncated,
    #[error("sealed file is damaged or altered: {0}")]
    Damaged(String),
    #[error("no device to seal the file to")]
    NoRecipients,
    #[error("sealing failed: {0}")]
    Io(#[from] io::Error),
}

impl UserFacing for SealError {
    fn kind(&self) -> &'static str {
        match self {
            SealError::NotForThisDevice { .. } => "not_for_this_device",
            SealError::UnknownFormat(_) => "unknown_format",
            SealError::Truncated => "truncated",
            SealError::Damaged(_) => "altered",
            SealError::NoRecipients => "no_recipients",
            SealError::Io(_) => "io",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            SealError::NotForThisDevice {
                this_device,
                source_name,
                recipients,
            } => {
                let names = if recipients.is_empty() {
                    "其他设备".to_owned()
                } else {
                    recipients
                        .iter()
                        .map(|n| format!("“{n}”"))
                        .collect::<Vec<_>>()
                        .join("、")
                };
                format!(
                    "这个同步文件是“{source_name}”加密导出给 {names} 的，不是给本机（“{this_device}”）的，本机打不开，未导入任何内容。请先把本机导出的同步文件交给“{source_name}”导入（对方由此认识本机），再请对方重新导出。"
                )
            }
            SealError::UnknownFormat(v) => format!(
                "这个加密同步文件的格式版本是 {v}，本程序只认识到 {FORMAT_VERSION}，请升级本程序后再导入。未导入任何内容。"
            ),
            SealError::Truncated => {
                "加密同步文件不完整（可能拷贝时 U 盘被拔出），未导入任何内容。请重新拷贝后再导入。"
                    .into()
            }
            SealError::Damaged(_) => {
                "加密同步文件已损坏或被改动过，无法解密，未导入任何内容。请让对方重新导出。".into()
            }
            SealError::NoRecipients => {
                "还不知道任何可以接收同步文件的设备，无法加密导出。请先导入对方的同步文件。".into()
            }
            SealError::Io(e) => format!("加密同步文件读写失败（{e}），未导入任何内容。请重试。"),
        }
    }
}

/// Whether `file` starts like a sealed changeset.
pub fn is_sealed(file: &[u8]) -> bool {
    file.starts_with(MAGIC)
}

/// Writes the outer header to `out` and returns the age writer for the changeset's bytes;
/// the caller streams the changeset in and calls `finish` on it.
pub fn seal_writer<W: Write>(
    mut out: W,
    header: &SealHeader,
    recipients: &[Recipient],
) -> Result<age::stream::StreamWriter<W>, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let json = serde_json::to_vec(header).map_err(|e| SealError::Io(io::Error::other(e)))?;
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(&(json.len() as u32).to_le_bytes())?;
    out.write_all(&json)?;
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| SealError::Damaged(e.to_string()))?;
    Ok(encryptor.wrap_output(out)?)
}

/// Seals a whole changeset held in memory.
pub fn seal(
    changeset: &[u8],
    header: &SealHeader,
    recipients: &[Recipient],
) -> Result<Vec<u8>, SealError> {
    let out = Vec::with_capacity(changeset.len() + 512 + changeset.len() / 4096);
    let mut writer = seal_writer(out, header, recipients)?;
    writer.write_all(changeset)?;
    Ok(writer.finish()?)
}

/// Reads the outer header from `input`, leaving it at the age file.
pub fn read_seal_header<R: Read>(input: &mut R) -> Result<SealHeader, SealError> {
    let mut fixed = [0u8; FIXED];
    read_exact(input, &mut fixed)?;
    if &fixed[..MAGIC.len()] != MAGIC {
        return Err(SealError::Damaged("magic".into()));
    }
    let version = u16::from_le_bytes([fixed[8], fixed[9]]);
    if version != FORMAT_VERSION {
        return Err(SealError::UnknownFormat(version));
    }
    let len = u32::from_le_bytes([fixed[10], fixed[11], fixed[12], fixed[13]]);
    if len > MAX_HEADER {
        return Err(SealError::Damaged("header length".into()));
    }
    let mut json = vec![0u8; len as usize];
    read_exact(input, &mut json)?;
    serde_json::from_slice(&json).map_err(|_| SealError::Damaged("header".into()))
}

fn read_exact<R: Read>(input: &mut R, buf: &mut [u8]) -> Result<(), SealError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => SealError::Truncated,
        _ => SealError::Io(e),
    })
}

/// Opens a sealed file with this device's sealing keys: the outer header and a reader of the
/// changeset inside, decrypted as it is read (a chunk that does not authenticate, or a cut
/// file, fails the read). A file sealed to none of `identities` is refused, naming who it is
/// for.
pub fn open_reader<'a, R: BufRead + 'a>(
    mut input: R,
    identities: &[Identity],
    this_device: &str,
) -> Result<(SealHeader, impl Read + 'a), SealError> {
    let header = read_seal_header(&mut input)?;
    let decryptor = age::Decryptor::new_buffered(input).map_err(|e| match e {
        age::DecryptError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            SealError::Truncated
        }
        e => SealError::Damaged(e.to_string()),
    })?;
    let not_for_me = || SealError::NotForThisDevice {
        this_device: this_device.to_owned(),
        source_name: header.source_name.clone(),
        recipients: header.recipients.iter().map(|r| r.name.clone()).collect(),
    };
    if identities.is_empty() {
        return Err(not_for_me());
    }
    match decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)) {
        Ok(reader) => Ok((header, reader)),
        Err(age::DecryptError::NoMatchingKeys) => Err(not_for_me()),
        Err(e) => Err(SealError::Damaged(e.to_string())),
    }
}

/// Opens a sealed file held in memory: the outer header and the whole changeset inside.
pub fn open(
    file: &[u8],
    identities: &[Identity],
    this_device: &str,
) -> Result<(SealHeader, Vec<u8>), SealError> {
    let (header, mut reader) = open_reader(file, identities, this_device)?;
    let mut out = Vec::with_capacity(file.len());
    reader.read_to_end(&mut out).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => SealError::Truncated,
        _ => SealError::Damaged(e.to_string()),
    })?;
    Ok((header, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> SealHeader {
        SealHeader {
            source_device: Uuid::nil(),
            source_name: "新文村-笔记本1".into(),
            recipients: names
                .iter()
                .map(|n| SealedFor {
                    device: Uuid::nil(),
                    name: (*n).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_recipient_opens_what_was_sealed_to_it() {
        let station = Identity::generate();
        let laptop = Identity::generate();
        let text = "张三 530826199001011234".repeat(10_000);
        let file = seal(
            text.as_bytes(),
            &header(&["乡镇工作站", "新文村-笔记本2"]),
            &[station.to_public(), laptop.to_public()],
        )
        .unwrap();
        assert!(is_sealed(&file));
        for me in [&station, &laptop] {
            let (h, back) = open(&file, std::slice::from_ref(me), "我").unwrap();
            assert_eq!(back, text.as_bytes());
            assert_eq!(h.recipients.len(), 2);
        }
    }

    #[test]
    fn a_device_the_file_is_not_for_is_told_whose_file_it_is() {
        let station = Identity::generate();
        let stranger = Identity::generate();
        let file = seal(
            b"changeset",
            &header(&["乡镇工作站"]),
            &[station.to_public()],
        )
        .unwrap();
        let err = open(&file, &[stranger], "安置点-笔记本1").unwrap_err();
        assert_eq!(err.kind(), "not_for_this_device");
        let message = err.message_zh();
        assert!(message.contains("乡镇工作站"), "{message}");
        assert!(message.contains("新文村-笔记本1"), "{message}");
        assert!(message.contains("安置点-笔记本1"), "{message}");
    }

    #[test]
    fn every_cut_and_every_flipped_payload_byte_is_refused() {
        let me = Identity::generate();
        let body = vec![7u8; 70_000];
        let file = seal(&body, &header(&["我"]), &[me.to_public()]).unwrap();
        let json_end =
            FIXED + u32::from_le_bytes([file[10], file[11], file[12], file[13]]) as usize;
        for cut in (0..file.len()).step_by(97) {
            assert!(
                open(&file[..cut], std::slice::from_ref(&me), "我").is_err(),
                "cut at {cut}"
            );
        }
        for at in (json_end..file.len()).step_by(61) {
            let mut bad = file.clone();
            bad[at] ^= 0x01;
            assert!(
                open(&bad, std::slice::from_ref(&me), "我").is_err(),
                "flip at {at}"
            );
        }
    }
}
