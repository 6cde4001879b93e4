//! Which ops of a file this copy trusts: signatures checked against the keys it knows, ops of
//! devices not confirmed yet held (待确认设备) until a person confirms them, and a village
//! device's ops outside its village refused.
//!
//! The county vouches for the keys the hub hands on (`relay.rs`: they are stored confirmed).
//! Not built yet (issue 15): a signed device list of the county's, and devices of one file
//! lineage vouching for each other.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::changeset::{self, Header};
use super::exchange::{ImportSummary, SyncError, import_changeset_inner};
use super::signing::{SignatureError, StreamVerifier, fingerprint};
use super::{Op, signing};
use crate::error::UserFacing;
use crate::model::{FieldValue, Table, household_ref_field, village_ref_field};
use crate::store::{DeviceKey, Store, StoreError};

/// A village device reached outside its village; the whole file is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("device {device} of village {village} changed a record of village {other}")]
pub struct OutsideVillage {
    pub device: String,
    pub village: String,
    pub other: String,
}

impl UserFacing for OutsideVillage {
    fn kind(&self) -> &'static str {
        "outside_village"
    }

    fn message_zh(&self) -> String {
        format!(
            "同步文件被拒收：设备“{}”登记为 {} 村的设备，却修改了 {} 村的贫困户或驻村工作队。未导入任何内容。请核实这台设备，必要时在“设备”里重新确认它所属的村。",
            self.device, self.village, self.other
        )
    }
}

/// What an import does with one op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    Apply,
    /// Its device is not confirmed: kept in the held file, merged on confirmation.
    Held,
    /// Unsigned although its device's key is known: not applied.
    Unsigned,
}

/// What the import of one file may do with each origin's ops.
#[derive(Debug)]
pub(crate) struct ImportPlan {
    pub verifier: StreamVerifier,
    /// Origins whose ops are held (devices not confirmed while this copy confirms devices).
    pub held: HashSet<Uuid>,
    /// Origins that arrive unsigned although this copy knows their key.
    known: HashSet<Uuid>,
    /// Signed origins with the village their confirmation limits them to.
    pub villages: HashMap<Uuid, String>,
    /// The decision for the last op's origin.
    last: Option<(Uuid, Admit)>,
}

impl ImportPlan {
    /// Checks one op as it streams past: a signature that fails refuses the whole file.
    pub fn admit(&mut self, op: &Op) -> Result<Admit, SignatureError> {
        let signed = self.verifier.push(op)?;
        let origin = op.id.origin;
        // Ops come grouped by origin: the decision is made once per run of one origin.
        let admit = match self.last {
            Some((last, admit)) if last == origin => admit,
            _ => {
                let admit = self.decide(origin);
                self.last = Some((origin, admit));
                admit
            }
        };
        // A file may hold some of a known device's ops with their signatures and others
        // without (the writer pulled those from the hub): the unsigned ones are left for a
        // file or a sync that carries them signed; the rest of the file is applied.
        if admit == Admit::Apply
            && !signed
            && self.verifier.signs(origin)
            && self.known.contains(&origin)
        {
            return Ok(Admit::Unsigned);
        }
        Ok(admit)
    }

    fn decide(&self, origin: Uuid) -> Admit {
        if !self.verifier.signs(origin) && self.known.contains(&origin) {
            // Unsigned ops of a device whose key this copy knows: a relay of ops it pulled
            // from the hub in a page that cut their batch, or signatures stripped by a
            // forger. Neither is applied; the rest of the file is. The signed ops arrive by
            // the hub or by a file of a copy that holds their signatures.
            return Admit::Unsigned;
        }
        if self.held.contains(&origin) {
            Admit::Held
        } else {
            Admit::Apply
        }
    }
}

/// Checks the keys a file declares against the ones this copy knows and decides per origin.
pub(crate) fn plan_import(store: &Store, header: &Header) -> Result<ImportPlan, SyncError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    let verifier = StreamVerifier::new(signers, header.batches.as_deref().unwrap_or(&[]))
        .map_err(SyncError::Signature)?;
    let confirming = store.confirms_devices()?;
    let mut held = HashSet::new();
    let mut villages = HashMap::new();
    for (origin, key) in signers {
        match store.known_device_key(*origin)? {
            Some((known, confirmed, village)) => {
                if signing::unhex(key).as_deref() != Some(known.as_slice()) {
                    return Err(SyncError::Signature(SignatureError::KeyMismatch {
                        origin: *origin,
                    }));
                }
                if confirming && !confirmed {
                    held.insert(*origin);
                }
                if let Some(v) = village {
                    villages.insert(*origin, v);
                }
            }
            None if confirming => {
                held.insert(*origin);
            }
            None => {}
        }
    }
    let known = store.device_keys()?.into_iter().map(|k| k.device).collect();
    Ok(ImportPlan {
        verifier,
        held,
        known,
        villages,
        last: None,
    })
}

/// The village code of a row that names its village (a household, a work team member), from
/// ops earlier in the file or from the store.
fn row_village(
    store: &Store,
    table: Table,
    row: Uuid,
    file_village_of: &HashMap<Uuid, Uuid>,
    file_codes: &HashMap<Uuid, String>,
) -> Result<Option<String>, StoreError> {
    let village = match file_village_of.get(&row) {
        Some(v) => Some(*v),
        None => store
            .conn()
            .query_row(
                &format!("SELECT village_id FROM {} WHERE id = ?1", table.sql_name()),
                [row.as_bytes().as_slice()],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .ok()
            .flatten()
            .and_then(|b| Uuid::from_slice(&b).ok()),
    };
    let Some(village) = village else {
        return Ok(None);
    };
    if let Some(code) = file_codes.get(&village) {
        return Ok(Some(code.clone()));
    }
    Ok(store
        .conn()
        .query_row(
            "SELECT code FROM village WHERE id = ?1",
            [village.as_bytes().as_slice()],
            |r| r.get::<_, Option<String>>(0),
        )
        .ok()
        .flatten())
}

fn as_uuid(v: &FieldValue) -> Option<Uuid> {
    match v {
        FieldValue::Bytes(b) => Uuid::from_slice(b).ok(),
        _ => None,
    }
}

/// Refuses the file when an op of a device confirmed for one village touches a household of
/// another, or another village's work team (as the hub refuses it). A row whose village is not
/// known yet passes.
pub(crate) fn check_villages(
    store: &Store,
    header: &Header,
    ops: impl Iterator<Item = Result<Op, changeset::ChangesetError>>,
    villages: &HashMap<Uuid, String>,
) -> Result<(), SyncError> {
    if villages.is_empty() {
        return Ok(());
    }
    let mut village_of: HashMap<Uuid, Uuid> = HashMap::new();
    let mut household_of: HashMap<Uuid, Uuid> = HashMap::new();
    let mut codes: HashMap<Uuid, String> = HashMap::new();
    for op in ops {
        let op = op?;
        let table = Table::from_code(op.table);
        match (table, op.field.as_str()) {
            (Some(t), f) if village_ref_field(t) == Some(f) => {
                if let Some(v) = as_uuid(&op.value) {
                    village_of.insert(op.row, v);
                }
            }
            (Some(Table::Village), "code") => {
                if let FieldValue::Text(code) = &op.value {
                    codes.insert(op.row, code.clone());
                }
            }
            (Some(t), f) if household_ref_field(t) == Some(f) => {
                if let Some(h) = as_uuid(&op.value) {
                    household_of.insert(op.row, h);
                }
            }
            _ => {}
        }
        let Some(allowed) = villages.get(&op.id.origin) else {
            continue;
        };
        let outside = |code: String| {
            let device = header
                .device_names
                .get(&op.id.origin)
                .cloned()
                .unwrap_or_else(|| op.id.origin.to_string());
            SyncError::OutsideVillage(OutsideVillage {
                device,
                village: allowed.clone(),
                other: code,
            })
        };
        // A village's own row (its 村情: 农村人口, the exit checklist) is its village's.
        if table == Some(Table::Village) {
            let code = match codes.get(&op.row) {
                Some(code) => Some(code.clone()),
                None => store
                    .conn()
                    .query_row(
                        "SELECT code FROM village WHERE id = ?1",
                        [op.row.as_bytes().as_slice()],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .ok()
                    .flatten(),
            };
            if let Some(code) = code
                && &code != allowed
            {
                return Err(outside(code));
            }
            continue;
        }
        // The row that names the village: the op's own row (a household, a work team member)
        // or the household it hangs under.
        let owner = match table {
            Some(t) if village_ref_field(t).is_some() => Some((t, op.row)),
            Some(t) => match household_ref_field(t) {
                Some(field) => match household_of.get(&op.row) {
                    Some(h) => Some((Table::Household, *h)),
                    None => store
                        .conn()
                        .query_row(
                            &format!("SELECT {field} FROM {} WHERE id = ?1", t.sql_name()),
                            [op.row.as_bytes().as_slice()],
                            |r| r.get::<_, Option<Vec<u8>>>(0),
                        )
                        .ok()
                        .flatten()
                        .and_then(|b| Uuid::from_slice(&b).ok())
                        .map(|h| (Table::Household, h)),
                },
                None => None,
            },
            None => None,
        };
        let Some((owner_table, owner)) = owner else {
            continue;
        };
        if let Some(code) = row_village(store, owner_table, owner, &village_of, &codes)?
            && &code != allowed
        {
            return Err(outside(code));
        }
    }
    Ok(())
}

/// The devices this copy has heard of, with the ops held for each (for 待确认设备).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceEntry {
    #[serde(flatten)]
    pub key: DeviceKey,
    /// Files waiting for this device's confirmation.
    pub held_files: u64,
}

/// Every device key this copy knows, with how many held files wait for each.
pub fn list_devices(store: &Store) -> Result<Vec<DeviceEntry>, SyncError> {
    let held = held_files(store)?;
    let mut out = Vec::new();
    for key in store.device_keys()? {
        let mut count = 0;
        for (_, file) in &held {
            if let Ok((header, _)) = changeset::read_header(file)
                && header
                    .signers
                    .as_ref()
                    .is_some_and(|s| s.contains_key(&key.device))
            {
                count += 1;
            }
        }
        out.push(DeviceEntry {
            key,
            held_files: count,
        });
    }
    Ok(out)
}

fn held_files(store: &Store) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = store
        .conn()
        .prepare_cached("SELECT id, file FROM held_file ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Keeps a file whose ops of unconfirmed devices were held, to import again on confirmation.
pub(crate) fn hold_file(store: &Store, header: &Header, file: &[u8]) -> Result<(), StoreError> {
    store.conn().execute(
        "INSERT INTO held_file (received_ms, source_name, file) SELECT ?1, ?2, ?3
         WHERE NOT EXISTS (SELECT 1 FROM held_file WHERE file = ?3)",
        rusqlite::params![store.wall_ms() as i64, header.source_name, file],
    )?;
    Ok(())
}

/// What confirming a device did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfirmOutcome {
    pub device: DeviceKey,
    /// The held files imported again, with what they brought.
    pub merged: Vec<ImportSummary>,
}

/// Why a device could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("no known device has fingerprint {0}")]
    UnknownFingerprint(String),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl UserFacing for ConfirmError {
    fn kind(&self) -> &'static str {
        match self {
            ConfirmError::UnknownFingerprint(_) => "unknown_fingerprint",
            ConfirmError::Sync(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ConfirmError::UnknownFingerprint(fp) => format!(
                "没有找到安全码为“{fp}”的设备。请用 `bangfu device list` 查看待确认设备的安全码，与那台设备屏幕上的安全码逐组核对后再确认。"
            ),
            ConfirmError::Sync(e) => e.message_zh(),
        }
    }
}

/// Confirms the device with `fingerprint` (optionally limiting it to a village code) and
/// imports again every held file, so its ops merge now. A held file whose devices are all
/// confirmed afterwards is removed.
pub fn confirm_device(
    store: &mut Store,
    fingerprint_text: &str,
    village: Option<&str>,
) -> Result<ConfirmOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    let device = store
        .set_device_confirmed(fingerprint_text, village)
        .map_err(SyncError::from)?
        .ok_or_else(|| ConfirmError::UnknownFingerprint(fingerprint_text.to_owned()))?;
    let mut merged = Vec::new();
    for (id, file) in held_files(store).map_err(SyncError::from)? {
        let summary = import_changeset_inner(store, &file, false)?;
        let (header, _) = changeset::read_header(&file).map_err(SyncError::from)?;
        let still_held = plan_import(store, &header)?.held;
        if still_held.is_empty() {
            store
                .conn()
                .execute("DELETE FROM held_file WHERE id = ?1", [id])
                .map_err(StoreError::from)
                .map_err(SyncError::from)?;
        }
        merged.push(summary);
    }
    Ok(ConfirmOutcome { device, merged })
}

/// The fingerprint of this copy's own signing key, to read out to a township clerk; `None`
/// until this identity has written (the key is made with its first write).
pub fn own_fingerprint(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(store
        .device_keys()?
        .into_iter()
        .find(|k| k.own)
        .map(|k| k.fingerprint))
}

/// The short digits of a public key, for tests and screens.
pub fn fingerprint_of_key_hex(key_hex: &str) -> Option<String> {
    signing::unhex(key_hex).map(|k| fingerprint(&k))
}
