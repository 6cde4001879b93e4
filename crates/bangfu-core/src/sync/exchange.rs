//! Exchanging changeset files: export what a peer lacks, import a file in one transaction
//! after a backup, and say what the file brought.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use serde::Serialize;

use super::changeset::{self, ChangesetError, Header};
use crate::error::UserFacing;
use crate::store::{Store, StoreError, VersionVector, migrate};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Changeset(#[from] ChangesetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("this file was written by this copy itself")]
    OwnFile,
    #[error(transparent)]
    Signature(super::signing::SignatureError),
    #[error(transparent)]
    Seal(#[from] super::seal::SealError),
    #[error("no known device matches {0}")]
    UnknownRecipient(String),
    #[error("a snapshot file is for a copy that holds nothing from other devices yet")]
    SnapshotIntoHeldCopy,
    #[error("cannot read {path}: {error}")]
    ReadFile {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl UserFacing for SyncError {
    fn kind(&self) -> &'static str {
        match self {
            SyncError::Changeset(e) => e.kind(),
            SyncError::Store(e) => e.kind(),
            SyncError::OwnFile => "own_file",
            SyncError::Signature(e) => e.kind(),
            SyncError::Seal(e) => e.kind(),
            SyncError::UnknownRecipient(_) => "unknown_recipient",
            SyncError::SnapshotIntoHeldCopy => "snapshot_into_held_copy",
            SyncError::ReadFile { .. } => "read_file",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            SyncError::Changeset(e) => e.message_zh(),
            SyncError::Store(e) => e.message_zh(),
            SyncError::OwnFile => "这是本机自己导出的同步文件，不需要导入。".into(),
            SyncError::Signature(e) => e.message_zh(),
            SyncError::Seal(e) => e.message_zh(),
            SyncError::SnapshotIntoHeldCopy => "这是给新电脑用的“当前数据”同步文件（快照），只能导入还没有其他设备记录的电脑；本机已有其他设备的记录，导入会把旧记录当成冲突。未导入任何内容。请让对方导出完整的同步文件（不加 --snapshot）。".into(),
            SyncError::ReadFile { path, .. } => format!(
                "无法读取文件“{}”，未导入任何内容。请检查 U 盘是否插好、文件是否还在。",
                path.display()
            ),
            SyncError::UnknownRecipient(who) => format!(
                "本机还不认识“{who}”这台设备（没有它的加密密钥），无法专门导出给它。请先导入它导出的同步文件，或用 `bangfu device list` 查看本机认识的设备名称和安全码。"
            ),
        }
    }
}

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "ChangesetSummary")]
pub struct ExportSummary {
    pub ops: u64,
    pub bytes: u64,
    /// Whole when no peer vector was given.
    pub whole: bool,
    /// The devices the file is sealed to, by name (this copy itself included); empty for a
    /// plain file.
    pub sealed_for: Vec<String>,
    /// No other device's sealing key is known yet: the file carries only this copy's keys
    /// and what it holds, no household.
    pub introduction: bool,
    /// The archive's files (photos, scans) the file carries, each once.
    pub files: u64,
}

/// What an export carries.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// Everything a peer lacks (everything when `None`), in whole signed batches.
    Missing(Option<&'a PeerHoldings>),
    /// The current state only: every field's heads (conflicts included), not the history, for
    /// a new laptop (`changes export --snapshot`). A signed batch carried whole keeps its
    /// signature; ops of a batch carried in part go unsigned, as the hub's snapshot sends
    /// them (a batch's other ops were superseded; carrying them would bring superseded values
    /// without the ops that superseded them, false conflicts on the new laptop). The laptop
    /// then takes full-history files as usual: what it lacks is applied as history, each
    /// batch arriving whole with its signature.
    Snapshot,
}

/// Writes a changeset of everything a peer with vector `peer` lacks (everything if `None`).
/// A township's export relays the ops of all its villages: it holds them, so they go.
pub fn export_changeset(
    store: &Store,
    peer: Option<&PeerHoldings>,
) -> Result<(Vec<u8>, ExportSummary), SyncError> {
    export_content(store, Content::Missing(peer))
}

/// Writes a plain changeset of `content`.
pub fn export_content(
    store: &Store,
    content: Content<'_>,
) -> Result<(Vec<u8>, ExportSummary), SyncError> {
    let (bytes, mut summary) = write_export(store, content, Vec::new())?;
    summary.bytes = bytes.len() as u64;
    Ok((bytes, summary))
}

/// Writes the changeset of `content` into `out`, the archive's files read from the data file
/// one at a time as they are written (see [`changeset::encode_into`]).
fn write_export<W: std::io::Write>(
    store: &Store,
    content: Content<'_>,
    out: W,
) -> Result<(W, ExportSummary), SyncError> {
    let (mut ops, extend) = match content {
        Content::Missing(None) => (store.ops_missing_from(&VersionVector::new())?, true),
        Content::Missing(Some(PeerHoldings::Exactly(ranges))) => {
            (store.ops_missing_from_ranges(ranges)?, true)
        }
        Content::Missing(Some(PeerHoldings::AtLeast(vv))) => (store.ops_missing_from(vv)?, true),
        Content::Snapshot => (store.head_ops()?, false),
    };
    // Whole signed batches, with their signatures and their devices' keys (issue 15).
    let (mut signers, batches) = store.signatures_for_export(&mut ops, extend)?;
    // The parts of batches a hub page cut that this copy checked: the ops it holds of them go
    // signed too (a snapshot carries heads only: those go unsigned, as before).
    let mut parts = if extend {
        store.parts_for_export(&mut ops, &batches)?
    } else {
        Vec::new()
    };
    for part in &parts {
        if !signers.contains_key(&part.origin)
            && let Some((key, _, _)) = store.known_device_key(part.origin)?
        {
            signers.insert(part.origin, super::signing::hex(&key));
        }
    }
    parts.retain(|p| signers.contains_key(&p.origin));
    // This copy's own key always: the header is signed under it, and a receiver that never
    // saw this copy's writes learns whom to confirm for what the file relays.
    if let Some((key, _, _)) = store.known_device_key(store.device().id)? {
        signers
            .entry(store.device().id)
            .or_insert_with(|| super::signing::hex(&key));
    }
    let device_names = store.device_names()?;
    // The county's certificates of those keys, for stations that never sync with the hub.
    let county_certs = store.county_certs_for(signers.keys())?;
    let header = Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: migrate::latest_version(),
        source_device: store.device().id,
        source_name: store.device().name.clone(),
        created_ms: store.wall_ms(),
        covered: store.version_vector()?,
        device_names,
        op_count: 0,
        body_sha256: String::new(),
        carried: None,
        snapshot: matches!(content, Content::Snapshot).then_some(true),
        held: Some(store.held_ranges()?),
        signers: Some(signers),
        batches: Some(batches),
        seal_keys: Some(store.seal_keys_for_export()?),
        blobs: None,
        parts: (!parts.is_empty()).then_some(parts),
        source_sig: None,
        county_certs: (!county_certs.is_empty()).then_some(county_certs),
    };
    let files = carried_files(store, &ops)?;
    let read = |sha256: &str| -> Result<Vec<u8>, SyncError> {
        crate::archive::blobs::read_raw(store.conn(), sha256)?
            .map(|(_, bytes)| bytes)
            .ok_or_else(|| {
                SyncError::Seal(super::seal::SealError::Io(std::io::Error::from(
                    std::io::ErrorKind::NotFound,
                )))
            })
    };
    // The file is signed by this device (its source), so a receiver believes a station's relay
    // only when the station wrote it (`trust::relayed_by_a_station`).
    let key = store.own_signing_key()?;
    let out = changeset::encode_signed_into(out, header, &ops, &files, read, key.as_ref())?;
    let summary = ExportSummary {
        ops: ops.len() as u64,
        bytes: 0,
        whole: matches!(content, Content::Missing(None)),
        sealed_for: Vec::new(),
        introduction: false,
        files: files.len() as u64,
    };
    Ok((out, summary))
}

impl From<std::io::Error> for SyncError {
    /// Writing an export: only a sealing stream or a file can fail.
    fn from(e: std::io::Error) -> Self {
        SyncError::Seal(super::seal::SealError::Io(e))
    }
}

/// The archive's files the exported ops name (an attachment's `sha256`) that this copy
/// holds, each once, in the order the ops first name them, with their sizes (each read and
/// checked here, then read again as it is written). Every file named by an exported
/// op goes, whether the peer holds it or not: a peer lacking the op most likely lacks its
/// file, and a file goes once per export however many attachments name it. A held file that
/// no longer matches its hash is left out (it would make the peer refuse the whole file).
fn carried_files(store: &Store, ops: &[super::Op]) -> Result<Vec<changeset::BlobRef>, StoreError> {
    let table = crate::model::Table::Attachment.code();
    let mut named = std::collections::HashSet::new();
    let mut files = Vec::new();
    for op in ops {
        if op.table != table || op.field != "sha256" {
            continue;
        }
        let crate::model::FieldValue::Text(sha256) = &op.value else {
            continue;
        };
        if !named.insert(sha256.as_str()) {
            continue;
        }
        if let Some((_, bytes)) = crate::archive::blobs::read_raw(store.conn(), sha256)?
            && crate::archive::sha256_hex(&bytes) == *sha256
        {
            files.push(changeset::BlobRef {
                sha256: sha256.clone(),
                size: bytes.len() as u64,
            });
        }
    }
    Ok(files)
}

/// Who a sealed export is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealTo {
    /// Every device whose sealing key this copy knows and believes (only the confirmed ones
    /// when this copy confirms devices): the devices it exchanges files with.
    Known,
    /// These devices only (and this copy itself).
    Devices(Vec<uuid::Uuid>),
}

/// Writes a sealed changeset of everything a peer lacks (see [`export_changeset`]), readable
/// only by the devices `to` names and this copy itself. When no other device's sealing key is
/// known yet (a new laptop's first file), the file is an introduction instead: plain, with
/// no op, carrying this copy's signed keys and what it holds, so the peer that imports it can
/// seal its files to this copy and `export --for` it.
pub fn export_sealed(
    store: &mut Store,
    peer: Option<&PeerHoldings>,
    to: &SealTo,
) -> Result<(Vec<u8>, ExportSummary), SyncError> {
    export_sealed_content(store, Content::Missing(peer), to)
}

/// [`export_sealed`] of any [`Content`] (a snapshot sealed to a new laptop: `export --snapshot
/// --for` its introduction).
pub fn export_sealed_content(
    store: &mut Store,
    content: Content<'_>,
    to: &SealTo,
) -> Result<(Vec<u8>, ExportSummary), SyncError> {
    store.ensure_sealing_key()?;
    let confirmed_only = store.confirms_devices()?;
    let recipients: Vec<_> = store
        .seal_recipients()?
        .into_iter()
        .filter(|r| {
            r.own
                || match to {
                    SealTo::Known => r.confirmed || !confirmed_only,
                    SealTo::Devices(list) => list.contains(&r.device),
                }
        })
        .collect();
    if let SealTo::Devices(list) = to
        && let Some(missing) = list
            .iter()
            .find(|d| !recipients.iter().any(|r| r.device == **d))
    {
        return Err(SyncError::UnknownRecipient(missing.to_string()));
    }
    if recipients.iter().all(|r| r.own) {
        return export_introduction(store);
    }
    let header = super::seal::SealHeader {
        source_device: store.device().id,
        source_name: store.device().name.clone(),
        recipients: recipients
            .iter()
            .map(|r| super::seal::SealedFor {
                device: r.device,
                name: r.name.clone(),
            })
            .collect(),
    };
    let keys: Vec<_> = recipients.iter().map(|r| r.recipient.clone()).collect();
    // Sealed as it is written: the plain changeset is never held whole beside the sealed one.
    let writer = super::seal::seal_writer(Vec::new(), &header, &keys)?;
    let (writer, mut summary) = write_export(store, content, writer)?;
    let bytes = writer.finish()?;
    summary.bytes = bytes.len() as u64;
    summary.sealed_for = recipients.into_iter().map(|r| r.name).collect();
    Ok((bytes, summary))
}

/// A plain file with no op: this copy's keys (signing and sealing, and those it believes of
/// other devices) and what it holds. Nothing in it is about a household or a person.
pub fn export_introduction(store: &mut Store) -> Result<(Vec<u8>, ExportSummary), SyncError> {
    store.ensure_sealing_key()?;
    let own = store.known_device_key(store.device().id)?;
    let mut signers = std::collections::BTreeMap::new();
    if let Some((key, _, _)) = own {
        signers.insert(store.device().id, super::signing::hex(&key));
    }
    let county_certs = store.county_certs_for(signers.keys())?;
    let header = Header {
        format_version: changeset::FORMAT_VERSION,
        schema_version: migrate::latest_version(),
        source_device: store.device().id,
        source_name: store.device().name.clone(),
        created_ms: store.wall_ms(),
        covered: store.version_vector()?,
        device_names: store.device_names()?,
        op_count: 0,
        body_sha256: String::new(),
        carried: None,
        snapshot: None,
        held: Some(store.held_ranges()?),
        signers: Some(signers),
        batches: Some(Vec::new()),
        seal_keys: Some(store.seal_keys_for_export()?),
        blobs: None,
        parts: None,
        source_sig: None,
        county_certs: (!county_certs.is_empty()).then_some(county_certs),
    };
    // Signed like every export: `export --for` believes the ranges it states only then.
    let key = store.own_signing_key()?;
    let bytes = changeset::encode_signed_into::<_, SyncError>(
        Vec::new(),
        header,
        &[],
        &[],
        |_| Ok(Vec::new()),
        key.as_ref(),
    )?;
    let summary = ExportSummary {
        ops: 0,
        bytes: bytes.len() as u64,
        whole: false,
        sealed_for: Vec::new(),
        introduction: true,
        files: 0,
    };
    Ok((bytes, summary))
}

/// The device a person named for `export --for`: its name, its 安全码 or its id, among the
/// devices whose sealing key this copy knows.
pub fn find_seal_recipient(store: &Store, named: &str) -> Result<uuid::Uuid, SyncError> {
    let digits = super::signing::fingerprint_digits(named);
    let keys = store.device_keys()?;
    let recipients = store.seal_recipients()?;
    recipients
        .iter()
        .find(|r| {
            r.name == named
                || r.device.to_string() == named
                || (!digits.is_empty()
                    && digits.len() >= 10
                    && keys.iter().any(|k| {
                        k.device == r.device
                            && super::signing::fingerprint_digits(&k.fingerprint) == digits
                    }))
        })
        .map(|r| r.device)
        .ok_or_else(|| SyncError::UnknownRecipient(named.to_owned()))
}

/// The changeset inside a file: a sealed file is opened with this copy's sealing key (a file
/// not for it is refused, naming who it is for); a plain one is returned as it is.
pub fn unsealed<'a>(
    store: &Store,
    file: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, SyncError> {
    if !super::seal::is_sealed(file) {
        return Ok(std::borrow::Cow::Borrowed(file));
    }
    let identities = store.own_sealing_identities()?;
    let (_, inner) = super::seal::open(file, &identities, &store.device().name)?;
    Ok(std::borrow::Cow::Owned(inner))
}

/// What a peer holds, as stated in a file it wrote (for `export --for`).
#[derive(Debug, Clone, PartialEq)]
pub enum PeerHoldings {
    /// Exactly these ops (files of this version).
    Exactly(changeset::SeqRanges),
    /// At least this gap-free prefix per origin (files of older versions): everything past
    /// it is sent, sending an op twice is harmless, missing one is not.
    AtLeast(VersionVector),
}

/// What a peer holds, read from a file it wrote, for `export --for`.
pub fn peer_holdings(file: &[u8]) -> Result<PeerHoldings, SyncError> {
    let (header, _) = changeset::read_header(file)?;
    Ok(holdings_of(header))
}

fn holdings_of(header: Header) -> PeerHoldings {
    match header.held {
        Some(ranges) => PeerHoldings::Exactly(ranges),
        None => PeerHoldings::AtLeast(header.covered),
    }
}

/// The peer a file (sealed or plain) came from and what it holds, for `export --for <file>`;
/// the sealing keys the file announces are learnt, so the export can be sealed to its writer.
pub fn peer_of_file(
    store: &mut Store,
    file: &[u8],
) -> Result<(uuid::Uuid, PeerHoldings), SyncError> {
    let inner = unsealed(store, file)?;
    let (header, _) = changeset::read_header(&inner)?;
    learn_seal_keys(store, &header, &proven_keys(&header, None))?;
    // What the file says its writer holds is believed only when its writer signed the file
    // (under the key this copy knows for it, or the one it declares when this copy knows
    // none): ranges altered on the way would have the export leave out what the peer lacks.
    // Otherwise everything is sent; sending an op twice is harmless.
    if !super::trust::source_standing(store, &header)?.0 {
        return Ok((
            header.source_device,
            PeerHoldings::AtLeast(VersionVector::new()),
        ));
    }
    Ok((header.source_device, holdings_of(header)))
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub source_name: String,
    pub ops_in_file: u64,
    pub applied: u64,
    pub duplicates: u64,
    /// The file held nothing this copy lacked; it was not opened further.
    pub already_had_everything: bool,
    pub new_households: u64,
    pub changed_households: u64,
    pub new_people: u64,
    pub changed_people: u64,
    /// Open review items (conflicts, edits of deleted rows) in the whole copy after import.
    pub open_review_items: i64,
    /// Resident ID numbers filed in more than one household, after import.
    pub duplicate_people: i64,
    /// Household codes used twice in one village, after import.
    pub duplicate_household_codes: i64,
    /// Ops held until a person confirms their device (待确认设备); the file is kept.
    pub held_ops: u64,
    /// Ops of a village device outside its village, each with its whole write batch: kept
    /// aside with the file, merged when a person says so.
    pub outside_village_ops: u64,
    /// The first of them: which device, its village and the other village.
    pub outside_village: Option<super::trust::OutsideVillage>,
    /// Ops without a signature from devices whose key this copy knows: not applied.
    pub unsigned_ops: u64,
    /// At a copy that confirms devices: ops without a signature, of devices this copy has no
    /// key for, in a file its source did not sign (a version before signatures): not applied.
    pub unvouched_ops: u64,
    /// Ops a relayed file carries under another key than the one confirmed for their device
    /// (冒充): not applied, the rest of the file is.
    pub impostor_ops: u64,
    /// The first such device's name.
    pub impostor: Option<String>,
    /// Ops stamped more than a day ahead of this machine's clock.
    pub future_clock_ops: u64,
    /// Ops of fields or tables this version does not know (kept; shown after an upgrade).
    pub unknown_field_ops: u64,
    /// The archive's files (photos, scans) the file brought that this copy lacked.
    pub new_files: u64,
    pub backup: Option<PathBuf>,
    /// Device keys the county's certificates (carried in the file or held here) confirmed.
    pub county_vouched: u64,
    /// Ops of held files that merged after that (they waited for those devices).
    pub held_merged: u64,
    /// Ops taken out of the data before this import: a device key that gave way to the one
    /// confirmed for its device signed them (they are not that device's).
    pub withdrawn_ops: u64,
}

impl ImportSummary {
    /// One line for the station's screen.
    pub fn message_zh(&self) -> String {
        if self.already_had_everything {
            return format!(
                "来自“{}”的同步文件已导入过，本次没有新内容。",
                self.source_name
            );
        }
        let mut text = format!(
            "已导入来自“{}”的同步文件：新增 {} 户、更新 {} 户，新增 {} 人、更新 {} 人。",
            self.source_name,
            self.new_households,
            self.changed_households,
            self.new_people,
            self.changed_people
        );
        if self.open_review_items > 0 {
            text.push_str(&format!("待处理冲突 {} 项。", self.open_review_items));
        }
        if self.duplicate_people > 0 {
            text.push_str(&format!(
                "发现 {} 个证件号码在多户重复登记。",
                self.duplicate_people
            ));
        }
        if self.duplicate_household_codes > 0 {
            text.push_str(&format!(
                "发现 {} 个户编号在同村重复。",
                self.duplicate_household_codes
            ));
        }
        if self.held_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改来自尚未确认的设备，已暂存，请在“设备”里核对安全码并确认后合并。",
                self.held_ops
            ));
        }
        if let Some(outside) = self
            .outside_village
            .as_ref()
            .filter(|_| self.outside_village_ops > 0)
        {
            text.push_str(&outside.message_zh(self.outside_village_ops));
        }
        if self.unsigned_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改缺少写入设备的签名（可能经县同步中心转来，或被改动过），未合并；签名完整的修改会随同步中心或其他同步文件到达。",
                self.unsigned_ops
            ));
        }
        if self.unvouched_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改既没有写入设备的签名，导出这个文件的电脑也没有签名担保（多为旧版本导出的文件），本站开启了“未确认设备的修改先暂存”，未合并。请让对方升级后重新导出；确需导入这个文件，可由乡镇管理员在“设备与安全码”中暂时关闭该开关后再导入。",
                self.unvouched_ops
            ));
        }
        if self.impostor_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改声称来自设备“{}”，但签名用的不是本机已确认的那台设备的安全码（可能是冒充），未合并；这个文件的其他修改照常导入。请告知转来这个文件的电脑核对它的“设备与安全码”。",
                self.impostor_ops,
                self.impostor.as_deref().unwrap_or("未知设备")
            ));
        }
        if self.future_clock_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改的时间比本机晚一天以上，请检查对方电脑的日期。",
                self.future_clock_ops
            ));
        }
        if self.new_files > 0 {
            text.push_str(&format!("收到档案文件 {} 个。", self.new_files));
        }
        if self.county_vouched > 0 {
            text.push_str(&format!(
                "县同步中心的证书确认了 {} 台设备",
                self.county_vouched
            ));
            if self.held_merged > 0 {
                text.push_str(&format!("，先前暂存的 {} 条修改已合并", self.held_merged));
            }
            text.push('。');
        }
        if self.withdrawn_ops > 0 {
            text.push_str(&withdrawn_zh(self.withdrawn_ops));
        }
        if self.unknown_field_ops > 0 {
            text.push_str(&format!(
                "有 {} 条修改来自更新版本的程序，已保存，升级后显示。",
                self.unknown_field_ops
            ));
        }
        text
    }
}

/// The sentence for `ops` ops taken out of the data because the key that signed them gave
/// way to the one confirmed for their device (an import's, a sync's, a confirmation's).
pub fn withdrawn_zh(ops: u64) -> String {
    format!(
        "有 {ops} 条已合并的修改是用某台设备先前记下的安全码签名的，而这台设备现已确认了另一个安全码：这些修改不是它的，已从数据中撤下（另存备查，见操作记录），各户恢复为没有这些修改时的样子。"
    )
}

/// Whether a file declares, for a device this copy has a key for, another key: such a file is
/// never taken as imported already, even when this copy holds ops under every id it carries
/// (they may be a forgery's on the device's own seqs, which the file's real ops are to
/// replace once a person or the county confirms its key: `trust::plan_import` decides).
fn declares_other_keys(store: &Store, header: &Header) -> Result<bool, StoreError> {
    for (device, key) in header.signers.iter().flatten() {
        if let Some((known, _, _)) = store.known_device_key(*device)?
            && super::signing::unhex(key).as_deref() != Some(known.as_slice())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Imports one changeset file held in memory (see [`import_from`]).
pub fn import_changeset(store: &mut Store, file: &[u8]) -> Result<ImportSummary, SyncError> {
    store.require(crate::access::Permission::ImportChanges)?;
    import_received(
        store,
        &|| Ok(Box::new(file) as Box<dyn BufRead + Send + '_>),
    )
}

/// Imports one changeset file read from `path` as a stream: what the import holds does not
/// grow with the file (issue 20).
pub fn import_changeset_file(store: &mut Store, path: &Path) -> Result<ImportSummary, SyncError> {
    store.require(crate::access::Permission::ImportChanges)?;
    let open = || -> Result<Box<dyn BufRead + Send>, SyncError> {
        let file = std::fs::File::open(path).map_err(|error| SyncError::ReadFile {
            path: path.to_path_buf(),
            error,
        })?;
        Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
    };
    import_received(store, &open)
}

/// A file received, imported; then, when the county's certificates it carried confirmed
/// devices this copy had not, the held files read again: what waited for those devices
/// merges now. A reading cut short leaves the county's mark for the next import or sync.
fn import_received<'a>(store: &mut Store, open: &Opener<'a>) -> Result<ImportSummary, SyncError> {
    let mut summary = import_from(store, open, Reading::Received)?;
    if store.held_reread_pending()? {
        match super::trust::read_held_after_vouch(store) {
            Ok((merged, failed)) => {
                summary.held_merged = merged;
                for why in failed {
                    eprintln!("a held file was not read again after the county vouched: {why}");
                }
            }
            Err(error) => {
                eprintln!("the held files were not read again after the county vouched: {error}")
            }
        }
    }
    Ok(summary)
}

/// Whether a file is read as it arrives or read again from the held files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// A file received: kept among the held files when it held anything aside.
    Received,
    /// A held file read again (a device confirmed, or a person merging what a village
    /// device did outside its village: that device's village is not checked this time).
    Again { lifted: Option<uuid::Uuid> },
}

/// [`import_changeset`] of a file held in memory, as `reading` says.
pub(crate) fn import_changeset_inner(
    store: &mut Store,
    file: &[u8],
    reading: Reading,
) -> Result<ImportSummary, SyncError> {
    import_from(
        store,
        &|| Ok(Box::new(file) as Box<dyn BufRead + Send + '_>),
        reading,
    )
}

/// A way to read a file from its start, as often as an import needs to.
type Opener<'a> = dyn Fn() -> Result<Box<dyn BufRead + Send + 'a>, SyncError> + 'a;

/// Imports one changeset file, sealed (opened with this copy's sealing key) or plain: the
/// header checked first, then a backup, then the ops streamed (decrypted, inflated, parsed)
/// into one transaction that commits only when the file's checksums hold at its end, so any
/// defect refuses the whole file.
pub(crate) fn import_from<'a>(
    store: &mut Store,
    open: &Opener<'a>,
    reading: Reading,
) -> Result<ImportSummary, SyncError> {
    let keep_held = reading == Reading::Received;
    let identities = store.own_sealing_identities()?;
    let me = store.device().name.clone();
    let (header, mut stream) = super::stream::open(open()?, &identities, &me)?;
    // The county's certificates the file carries, and the county's word on its signers'
    // keys, taken first (each certificate is the county's signature, whatever becomes of the
    // file): they decide which of its devices are confirmed.
    let county_vouched = super::county::take_file_certs(store, &header)?;
    let mut summary = ImportSummary {
        source_name: header.source_name.clone(),
        ops_in_file: header.op_count,
        county_vouched,
        // A key the certificates put in place of one learnt from a file: what only the old
        // one signed leaves the data now, whatever the file brings.
        withdrawn_ops: store.settle_withdrawn()?,
        ..Default::default()
    };
    // Skipped only when this copy holds every op the file carries, compared range by range:
    // a gap-free prefix says nothing of the ops a relayed file carries past a gap.
    // A file whose ops this copy holds without their signatures (pulled from the hub in a
    // page that cut their batch, or from a hub of an earlier version) is not skipped: it brings the signatures, which this copy must
    // hold to relay those ops to a copy that knows their device.
    // The archive's files the file carries that this copy lacks: set aside as they are read,
    // kept in the import's transaction.
    let wanted = crate::archive::missing_blobs(
        store.conn(),
        header.blobs.iter().flatten().map(|b| b.sha256.as_str()),
    )?;
    let lacks_files = !wanted.is_empty();
    let spool = std::sync::Arc::new(std::sync::Mutex::new(crate::archive::BlobSpool::new(
        wanted,
    )));
    stream
        .source_mut()
        .spool_files(std::sync::Arc::clone(&spool));
    let held_already = match &header.carried {
        Some(carried) => {
            !lacks_files
                && store.holds_all(carried)?
                && !store.lacks_batch_signatures(header.batches.as_deref().unwrap_or(&[]))?
                && !store.lacks_parts(header.parts.as_deref().unwrap_or(&[]), carried)?
                && !declares_other_keys(store, &header)?
        }
        None => false,
    };
    if held_already {
        // Still checked whole: a damaged file is refused, never taken as already imported.
        stream.source_mut().verify_rest()?;
        learn_seal_keys(store, &header, &proven_keys(&header, None))?;
        summary.already_had_everything = true;
        summary.duplicates = header.op_count;
        let wall = store.wall_ms();
        store.write_local(|conn| remember_peer(conn, wall, &header))?;
        fill_counts(store, &mut summary)?;
        return Ok(summary);
    }
    // A snapshot names predecessors it does not carry: into a copy that holds older ops of
    // other devices, those would stand beside the snapshot's heads as false conflicts. A held
    // snapshot imported again when its device is confirmed (`keep_held` false) was accepted
    // the first time; the ops it already applied are not "older ops of others".
    if keep_held && header.snapshot == Some(true) && holds_ops_of_others(store)? {
        return Err(SyncError::SnapshotIntoHeldCopy);
    }
    // Signatures, unconfirmed devices and village limits (issue 15), decided before a backup.
    let mut plan = super::trust::plan_import(store, &header)?;
    if let Reading::Again {
        lifted: Some(device),
    } = reading
    {
        plan.villages.remove(&device);
        // What the source brought of writers no copy has a key for answers to it: lifted too.
        if device == header.source_device
            && let Some(origins) = &plan.passengers.origins
        {
            for origin in origins {
                plan.villages.remove(origin);
            }
        }
    }
    let outside = if plan.villages.is_empty() {
        super::trust::OutsideOps::default()
    } else {
        // Passes of their own over the file, read again: nothing is applied before them.
        // The moves the file brings first (its ops come by device, not by time), then what
        // reaches outside a village.
        let (_, again) = super::stream::open(open()?, &identities, &me)?;
        let moves = super::trust::file_moves(store, &header, again, &plan)?;
        let (_, again) = super::stream::open(open()?, &identities, &me)?;
        super::trust::find_outside(
            store,
            &header,
            again,
            &plan.villages,
            plan.passengers.origins.as_ref(),
            moves,
        )?
    };
    let mut outside_ops = 0u64;
    // Ops kept aside that this copy already holds (a held file read again after a person
    // merged another device's part of it) are not counted as waiting.
    let had = if outside.is_empty() {
        None
    } else {
        Some(store.held_ranges()?)
    };
    let mut held_ops = 0u64;
    let mut unsigned_ops = 0u64;
    let mut unvouched_ops = 0u64;
    let mut impostor_ops = 0u64;
    let mut applied_origins = std::collections::HashSet::new();
    let mut seen = 0u64;
    let mut last_applied = None;
    let op_count = header.op_count;
    // A held file read again is covered by the one backup taken before all of them are
    // (`trust::import_held_again`): a station with many held files does not copy its data
    // file once per file, nor push its other backups out of the rotation.
    if keep_held {
        summary.backup = Some(store.backup("before-import")?);
    }
    let mut unknown = 0u64;
    let carried = header.carried.clone();
    let ops = stream.map(|op| {
        // A file carries exactly the ops its header names: one past them is a writer bug or
        // an altered file, refused whole like any other defect.
        if let (Ok(op), Some(carried)) = (&op, &carried)
            && !changeset::ranges_contain(carried, op.id.origin, op.id.seq)
        {
            return Err(SyncError::from(ChangesetError::Malformed(
                "an op outside the declared ranges",
            )));
        }
        if let Ok(op) = &op
            && crate::model::Table::from_code(op.table).is_none_or(|t| {
                op.field != crate::model::DELETED_FIELD && t.field(&op.field).is_none()
            })
        {
            unknown += 1;
        }
        let op = op.map_err(SyncError::from)?;
        seen += 1;
        let admitted = plan.admit(&op).map_err(SyncError::Signature)?;
        if seen == op_count {
            // The file's last op: a batch left open was not carried whole.
            plan.verifier.finish().map_err(SyncError::Signature)?;
        }
        match admitted {
            super::trust::Admit::Apply => {}
            super::trust::Admit::Held => {
                held_ops += 1;
                return Ok(None);
            }
            super::trust::Admit::Unsigned => {
                unsigned_ops += 1;
                return Ok(None);
            }
            super::trust::Admit::Unvouched => {
                unvouched_ops += 1;
                return Ok(None);
            }
            super::trust::Admit::Impostor => {
                impostor_ops += 1;
                return Ok(None);
            }
        }
        if outside.holds(&op) {
            if !had
                .as_ref()
                .is_some_and(|had| changeset::ranges_contain(had, op.id.origin, op.id.seq))
            {
                outside_ops += 1;
            }
            return Ok(None);
        }
        if last_applied != Some(op.id.origin) {
            last_applied = Some(op.id.origin);
            applied_origins.insert(op.id.origin);
        }
        Ok(Some(op))
    });
    let ops = ops.filter_map(Result::transpose);
    let wall = store.wall_ms();
    let new_files = std::cell::Cell::new(0u64);
    // The file is read (decrypted, hashed, inflated, parsed, its signatures checked) on a
    // second core while this one applies it.
    let weigh = |op: &Result<super::Op, SyncError>| match op {
        Ok(op) => crate::store::op_bytes(&op.value, op.preds.len() + op.seen.len()),
        Err(_) => 0,
    };
    let stats = super::read_ahead::read_ahead(ops, weigh, |ops| {
        store.apply_remote_stream_then(ops, header.op_count, |conn| {
            remember_peer(conn, wall, &header)?;
            let mut spool = spool
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            new_files.set(spool.keep_all(conn, wall)?);
            Ok(())
        })
    })?;
    let mut proven = proven_keys(&header, Some(&plan.verifier));
    // A second key for a device whose recorded key is unconfirmed is not learnt (nor a sealing
    // key under it): it waits in the held file until a person confirms one of the two.
    proven.retain(|origin, _| !plan.rivals.contains(origin) && !plan.impostors.contains(origin));
    if header.signers.is_some() {
        // A batch kept aside is not taken in part: its signature waits with it. A batch the
        // file declares but did not carry was never checked: not kept either.
        let taken: Vec<_> = header
            .batches
            .iter()
            .flatten()
            .filter(|b| {
                plan.verifier.verified(b.origin, b.first)
                    && !outside.holds_batch(b)
                    && !plan.impostors.contains(&b.origin)
            })
            .cloned()
            .collect();
        store.record_signatures(&proven, &header.device_names, &taken, &applied_origins)?;
        // The parts it checked, of ops this copy took (none of a part kept aside).
        let parts: Vec<_> = header
            .parts
            .iter()
            .flatten()
            .filter(|p| {
                plan.verifier.verified_part(p.origin, p.first)
                    && !outside.holds_range(p.origin, p.first, p.last)
            })
            .cloned()
            .collect();
        store.record_parts(&parts, &applied_origins)?;
    }
    learn_seal_keys(store, &header, &proven)?;
    if (held_ops > 0 || outside_ops > 0) && keep_held {
        let file = super::stream::read_inner(open()?, &identities, &me)?;
        super::trust::hold_file(store, &header, &file)?;
    } else if keep_held && stats.applied > 0 {
        super::trust::prune_held_files(store)?;
    }
    summary.held_ops = held_ops;
    summary.outside_village_ops = outside_ops;
    summary.outside_village = outside.first.filter(|_| outside_ops > 0);
    summary.unsigned_ops = unsigned_ops;
    summary.unvouched_ops = unvouched_ops;
    summary.impostor_ops = impostor_ops;
    summary.impostor = plan
        .impostors
        .iter()
        .min()
        .filter(|_| impostor_ops > 0)
        .map(|origin| {
            store
                .device_keys()
                .ok()
                .and_then(|keys| {
                    keys.into_iter()
                        .find(|k| k.device == *origin && k.confirmed)
                })
                .map_or_else(|| origin.to_string(), |k| k.name)
        });
    summary.unknown_field_ops = unknown;
    summary.new_files = new_files.get();
    summary.applied = stats.applied;
    summary.duplicates = stats.duplicates;
    summary.future_clock_ops = stats.future_clock;
    summary.withdrawn_ops += stats.withdrawn;
    let household = crate::model::Table::Household.label();
    let member = crate::model::Table::Member.label();
    summary.new_households = stats.new_rows.get(household).copied().unwrap_or(0);
    summary.changed_households = stats.changed_rows.get(household).copied().unwrap_or(0);
    summary.new_people = stats.new_rows.get(member).copied().unwrap_or(0);
    summary.changed_people = stats.changed_rows.get(member).copied().unwrap_or(0);
    fill_counts(store, &mut summary)?;
    Ok(summary)
}

/// Who this copy can seal its files to: the sealing keys a file announced, each signed by its
/// device's signing key, learnt only once the file was taken (a refused file teaches nothing);
/// a device not heard of before only under a key the file `proven` (see [`proven_keys`]).
fn learn_seal_keys(
    store: &mut Store,
    header: &Header,
    proven: &std::collections::BTreeMap<uuid::Uuid, String>,
) -> Result<(), StoreError> {
    if let Some(keys) = &header.seal_keys {
        store.learn_seal_keys(keys, proven)?;
    }
    Ok(())
}

/// The keys a file declares that it shows to be their devices': a key that signs a batch the
/// file carried whole and that verified (`verifier`, after the file was read), or the key of
/// the file's source when the source signed the file with it (so a laptop that only relays,
/// or an introduction, is listed to confirm). A key declared under an id with no batch in the
/// file proves nothing: learnt, a forger's key planted under a laptop's id would get the
/// laptop's real files refused as 冒充 (`device_key_mismatch`) until a clerk declined it.
fn proven_keys(
    header: &Header,
    verifier: Option<&super::signing::StreamVerifier>,
) -> std::collections::BTreeMap<uuid::Uuid, String> {
    header
        .signers
        .iter()
        .flatten()
        .filter(|(origin, key)| {
            verifier.is_some_and(|v| v.verified_any(**origin))
                || (**origin == header.source_device
                    && super::signing::unhex(key)
                        .is_some_and(|key| super::signing::file_signed_by(header, &key)))
        })
        .map(|(origin, key)| (*origin, key.clone()))
        .collect()
}

fn fill_counts(store: &Store, summary: &mut ImportSummary) -> Result<(), StoreError> {
    summary.open_review_items =
        store
            .conn()
            .query_row("SELECT count(*) FROM review_item", [], |r| r.get(0))?;
    let (people, codes) = duplicate_counts(store)?;
    summary.duplicate_people = people;
    summary.duplicate_household_codes = codes;
    Ok(())
}

/// People (by their person key) filed in more than one live household, and household codes used by
/// more than one live household of a village. Both are kept and reported, never dropped.
pub fn duplicate_counts(store: &Store) -> Result<(i64, i64), StoreError> {
    let conn = store.conn();
    // The same person by the one person key (残疾人证, x/X, 15/18 digits), as the quality list.
    let people = crate::report::quality::count_people_in_several_households(store)?;
    let codes = conn.query_row(
        "SELECT count(*) FROM (SELECT code FROM household WHERE deleted = 0 AND coalesce(code, '') <> ''
             GROUP BY village_id, code HAVING count(*) > 1)",
        [],
        |r| r.get(0),
    )?;
    Ok((people, codes))
}

/// Whether this copy holds an op written by another device (not under one of its own
/// identities).
fn holds_ops_of_others(store: &Store) -> Result<bool, StoreError> {
    let own = store.hub_own_origins()?;
    Ok(store
        .held_ranges()?
        .keys()
        .any(|origin| !own.contains(origin)))
}

/// Records the peer a file came from and names the devices whose ops it carried, in the
/// import's own transaction.
fn remember_peer(conn: &Connection, wall_ms: u64, header: &Header) -> Result<(), StoreError> {
    let covered = serde_json::to_string(&header.covered).unwrap_or_default();
    conn.execute(
        "INSERT OR REPLACE INTO peer (device, name, covered, updated_ms) VALUES (?1, ?2, ?3, ?4)",
        params![
            header.source_device.as_bytes().as_slice(),
            header.source_name,
            covered,
            wall_ms as i64
        ],
    )?;
    // Name the devices whose ops arrived, so review screens can say who wrote what.
    for (id, name) in &header.device_names {
        conn.execute(
            "UPDATE device SET name = ?2 WHERE id = ?1 AND name = ''",
            params![id.as_bytes().as_slice(), name],
        )?;
    }
    Ok(())
}
