//! Which ops of a file this copy trusts: signatures checked against the keys it knows, ops of
//! devices not confirmed yet held (待确认设备) until a person confirms them, and a village
//! device's ops outside its village refused.
//!
//! The county vouches for the keys the hub hands on (`relay.rs`: they are stored confirmed).
//! Not built yet (issue 15): a signed device list of the county's, and devices of one file
//! lineage vouching for each other.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::changeset::{self, Header};
use super::exchange::{ImportSummary, SyncError, import_changeset_inner};
use super::signing::{SignatureError, StreamVerifier, fingerprint};
use super::{Op, signing};
use crate::error::UserFacing;
use crate::model::{FieldValue, Table, household_ref_field, village_ref_field};
use crate::store::{DeviceKey, Store, StoreError};

/// A village device reached outside its village: its ops there are kept aside, not merged,
/// until a person looks at them ([`merge_held_outside`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutsideVillage {
    /// The device's name.
    pub device: String,
    /// The village code it was confirmed for.
    pub village: String,
    /// The village code of the record it changed.
    pub other: String,
}

impl OutsideVillage {
    /// The import summary's sentence for `ops` ops kept aside.
    pub fn message_zh(&self, ops: u64) -> String {
        format!(
            "有 {ops} 条修改来自登记为 {} 村的设备“{}”，却涉及 {} 村的贫困户、驻村工作队或村情，已连同同一次保存的修改暂存，未合并；其余内容已导入。请向该设备的工作队核实后，用 bangfu device merge-held 安全码 合并。",
            self.village, self.device, self.other
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
    /// Unsigned, of a writer this copy has no key for, in a file its source did not sign
    /// (at a copy that confirms devices): no one vouches for it; not applied.
    Unvouched,
    /// Signed under another key than the one confirmed for its device, in a file another
    /// copy relays (one that took a forger's op, not confirming devices itself): 冒充, not
    /// applied; the rest of the file is.
    Impostor,
}

/// What the import of one file may do with each origin's ops.
#[derive(Debug)]
pub(crate) struct ImportPlan {
    pub verifier: StreamVerifier,
    /// Origins whose ops are held (devices not confirmed while this copy confirms devices).
    pub held: HashSet<Uuid>,
    /// Origins the file declares under another key than the unconfirmed one this copy
    /// recorded (held; the key is not learnt: it waits in the held file as a candidate).
    pub rivals: HashSet<Uuid>,
    /// Origins other than the file's source that the file declares under another key than
    /// the one confirmed for them: their ops are left out ([`Admit::Impostor`]).
    pub impostors: HashSet<Uuid>,
    /// Origins that arrive unsigned although this copy knows their key.
    known: HashSet<Uuid>,
    /// Signed origins with the village their confirmation limits them to (none when a
    /// station relays the file: it checked them).
    pub villages: HashMap<Uuid, String>,
    /// What becomes of the unsigned ops of writers this copy has no key for (see
    /// [`passengers_of`]).
    pub passengers: Passengers,
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

    pub(crate) fn decide(&self, origin: Uuid) -> Admit {
        if self.impostors.contains(&origin) {
            return Admit::Impostor;
        }
        if !self.verifier.signs(origin) && self.known.contains(&origin) {
            // Unsigned ops of a device whose key this copy knows: a relay of ops it pulled
            // from the hub in a page that cut their batch, or signatures stripped by a
            // forger. Neither is applied; the rest of the file is. The signed ops arrive by
            // the hub or by a file of a copy that holds their signatures.
            return Admit::Unsigned;
        }
        if self.is_passenger(origin)
            && let Some(passengers) = self.passengers.admit
        {
            return passengers;
        }
        if self.held.contains(&origin) {
            Admit::Held
        } else {
            Admit::Apply
        }
    }

    /// Whether `origin`'s ops in this file are a passenger's (see [`passengers_of`]).
    fn is_passenger(&self, origin: Uuid) -> bool {
        match &self.passengers.origins {
            Some(origins) => origins.contains(&origin),
            None => !self.verifier.signs(origin) && !self.known.contains(&origin),
        }
    }
}

/// The checker of a file's batch signatures, from the keys and batches its header declares.
fn verifier_of(header: &Header) -> Result<StreamVerifier, SyncError> {
    let empty = BTreeMap::new();
    StreamVerifier::new(
        header.signers.as_ref().unwrap_or(&empty),
        header.batches.as_deref().unwrap_or(&[]),
    )
    .and_then(|v| v.with_parts(header.parts.as_deref().unwrap_or(&[]), header.op_count))
    .map_err(SyncError::Signature)
}

/// Checks the keys a file declares against the ones this copy knows and decides per origin.
pub(crate) fn plan_import(store: &Store, header: &Header) -> Result<ImportPlan, SyncError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    let verifier = verifier_of(header)?;
    let confirming = store.confirms_devices()?;
    let mut held = HashSet::new();
    let mut rivals = HashSet::new();
    let mut impostors = HashSet::new();
    let mut villages = HashMap::new();
    for (origin, key) in signers {
        match store.known_device_key(*origin)? {
            Some((known, confirmed, village)) => {
                if signing::unhex(key).as_deref() != Some(known.as_slice()) {
                    // A key a person or the county confirmed is the device's: another is
                    // 冒充. A file whose source claims to be that device is refused whole;
                    // in a file another copy relays with work of others in it (a copy that
                    // took a forger's op, not confirming devices), only that device's ops
                    // are left out: the relay's real work still merges, and the real
                    // device's ops come with their own signatures.
                    if confirmed {
                        if *origin == header.source_device {
                            return Err(SyncError::Signature(SignatureError::KeyMismatch {
                                origin: *origin,
                            }));
                        }
                        impostors.insert(*origin);
                        continue;
                    }
                    // The key recorded is only one a file proved (a forged stick's made-up
                    // key may have come first): this one is a second candidate for the
                    // device, its ops held (whether or not this copy confirms devices) until
                    // a person compares 安全码 and confirms one of them (`confirm_device`).
                    held.insert(*origin);
                    rivals.insert(*origin);
                    continue;
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
    // A file that carries nothing but such ops (a forged stick) is refused whole, as is one
    // of an earlier version that does not say whose ops it carries.
    if let Some(first) = impostors.iter().min() {
        let carries_others = header.carried.as_ref().is_some_and(|carried| {
            carried
                .iter()
                .any(|(origin, ranges)| !ranges.is_empty() && !impostors.contains(origin))
        });
        if !carries_others {
            return Err(SyncError::Signature(SignatureError::KeyMismatch {
                origin: *first,
            }));
        }
    }
    if relayed_by_a_station(store, header, &villages)? {
        // A township or the county relays what it took, having checked the village limits
        // itself (and merged what its clerk checked): not held here a second time.
        villages.clear();
    }
    let known = known_devices(store)?;
    let passengers = passengers_of(store, header, &known, &mut villages, confirming)?;
    Ok(ImportPlan {
        verifier,
        held,
        rivals,
        impostors,
        known,
        villages,
        passengers,
        last: None,
    })
}

/// A file's passengers: the writers whose ops in it no signature covers and whose key this
/// copy does not know, and what becomes of those ops.
#[derive(Debug, Default)]
pub(crate) struct Passengers {
    /// Who they are (`None`: a file of an earlier version that does not list its writers;
    /// then every unsigned writer this copy has no key for).
    pub origins: Option<HashSet<Uuid>>,
    /// What becomes of their ops (`None`: applied, checked against `villages` like any).
    admit: Option<Admit>,
}

/// What becomes of a file's unsigned ops of writers this copy has no key for (ops written
/// before devices signed, or relayed from a hub page that cut their batch): no one vouches for
/// them but the file's source, so they are the source's to answer for.
///
/// - From a source confirmed for a village: checked against that village like its own ops,
///   whether the file is signed or not (a village laptop cannot slip another village's edits
///   in under a made-up writer); a person merges what waits, or declines it, under the
///   source's 安全码.
/// - From a confirmed source that signed the file (this copy, a township, the county): applied.
/// - At a copy that confirms devices, from a source not confirmed yet: held with its own ops
///   until a person confirms it; from a file its source did not sign (a version before
///   signatures, a rewritten header, or a file naming another copy as its source): not
///   applied, and the summary says so (a 乡镇管理员 who wants such a file switches
///   confirmation off for it).
/// - Elsewhere applied, as a copy that does not confirm devices applies a new device's ops.
fn passengers_of(
    store: &Store,
    header: &Header,
    known: &HashSet<Uuid>,
    villages: &mut HashMap<Uuid, String>,
    confirming: bool,
) -> Result<Passengers, SyncError> {
    let origins = passenger_origins(header, known);
    let (signed, confirmed, limit) = source_standing(store, header)?;
    if let Some(village) = limit {
        let Some(origins) = origins else {
            // A file of an earlier version does not list its writers: its passengers cannot
            // be checked against the village before they are applied.
            return Ok(Passengers {
                origins: None,
                admit: Some(Admit::Unvouched),
            });
        };
        for origin in &origins {
            villages.insert(*origin, village.clone());
        }
        return Ok(Passengers {
            admit: (confirming && !signed).then_some(Admit::Unvouched),
            origins: Some(origins),
        });
    }
    let admit = match (signed, confirmed) {
        (false, _) => confirming.then_some(Admit::Unvouched),
        (true, false) => confirming.then_some(Admit::Held),
        (true, true) => None,
    };
    Ok(Passengers { origins, admit })
}

/// The devices whose signing key this copy holds.
fn known_devices(store: &Store) -> Result<HashSet<Uuid>, StoreError> {
    Ok(store.device_keys()?.into_iter().map(|k| k.device).collect())
}

/// What this copy holds of a file's source: whether the source signed the file (under the key
/// this copy knows for it, or, for a source it knows no key of, the one the file declares),
/// whether a person or the county confirmed it, and the village it is confirmed for.
pub(crate) fn source_standing(
    store: &Store,
    header: &Header,
) -> Result<(bool, bool, Option<String>), StoreError> {
    Ok(match store.known_device_key(header.source_device)? {
        Some((key, confirmed, village)) => (
            signing::file_signed_by(header, &key),
            confirmed,
            village.filter(|_| confirmed),
        ),
        None => (
            header
                .signers
                .as_ref()
                .and_then(|s| s.get(&header.source_device))
                .and_then(|key| signing::unhex(key))
                .is_some_and(|key| signing::file_signed_by(header, &key)),
            false,
            None,
        ),
    })
}

/// The writers a file carries ops of that no signature in it can cover and whose key `known`
/// does not hold: those it declares no key for, and those it declares a key for without a
/// batch (from the ranges the header declares: an op outside them refuses the file); `None`
/// for a file of an earlier version that does not declare them.
fn passenger_origins(header: &Header, known: &HashSet<Uuid>) -> Option<HashSet<Uuid>> {
    let signers = header.signers.as_ref();
    let batches = header.batches.as_deref().unwrap_or(&[]);
    let parts = header.parts.as_deref().unwrap_or(&[]);
    Some(
        header
            .carried
            .as_ref()?
            .keys()
            .filter(|o| {
                !known.contains(o)
                    && (!signers.is_some_and(|s| s.contains_key(o))
                        || (!batches.iter().any(|b| b.origin == **o)
                            && !parts.iter().any(|p| p.origin == **o)))
            })
            .copied()
            .collect(),
    )
}

/// The village code of a row that names its village (a household, a work team member): as
/// this copy has it, or for a row this copy does not hold yet, as ops earlier in the file set
/// it. The copy's own value comes first: a file may carry a row's older ops (a laptop relays
/// everything it holds), and the township's later move of the row is in the copy.
fn row_village(
    store: &Store,
    table: Table,
    row: Uuid,
    file: &FileRows,
) -> Result<Option<String>, StoreError> {
    let held: Option<Option<Vec<u8>>> = store
        .conn()
        .prepare_cached(&format!(
            "SELECT village_id FROM {} WHERE id = ?1",
            table.sql_name()
        ))?
        .query_row([row.as_bytes().as_slice()], |r| r.get(0))
        .optional()?;
    let village = match held {
        Some(v) => match file.moves.get(&row) {
            Some(moved) if newer_than_held(store, table, row, moved)? => Some(moved.to),
            _ => v.and_then(|b| Uuid::from_slice(&b).ok()),
        },
        None => file.village_of.get(&row).copied(),
    };
    let Some(village) = village else {
        return Ok(None);
    };
    village_code(store, village, &file.codes)
}

/// Whether a move the file brings is newer than every value of the row's village this copy
/// holds: then it is the value shown once the file is merged.
fn newer_than_held(
    store: &Store,
    table: Table,
    row: Uuid,
    moved: &FileMove,
) -> Result<bool, StoreError> {
    let Some(field) = village_ref_field(table) else {
        return Ok(false);
    };
    let Some(heads) = store.row_heads_by_field(row)?.remove(field) else {
        return Ok(true);
    };
    // A head this copy cannot read back: its own value stands.
    let Some(held) = store.op_clock_values(&heads)? else {
        return Ok(false);
    };
    Ok(held
        .iter()
        .all(|(id, hlc, _)| (moved.hlc, moved.origin) > (*hlc, id.origin)))
}

/// A row's move to another village made by an op of the file from a device this copy takes
/// without a village limit (a township, the county), the latest of the file's for the row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileMove {
    to: Uuid,
    hlc: super::Hlc,
    origin: Uuid,
}

/// What a file says of its rows as it is read: villages and households it gives rows, the
/// codes it gives villages, and the moves it brings (see [`file_moves`]).
#[derive(Debug, Default)]
struct FileRows {
    village_of: HashMap<Uuid, Uuid>,
    household_of: HashMap<Uuid, Uuid>,
    codes: HashMap<Uuid, String>,
    moves: HashMap<Uuid, FileMove>,
}

/// The moves a file brings that this copy will apply: ops setting a row's village, each
/// covered by a batch signature that verifies, from devices a person or the county confirmed
/// without a village limit (a township, the county) and that this import takes. A village
/// laptop relays the township's move of a household into its village with its own edits of
/// it; read before the edits are checked (a file's ops come by device, not by time), they
/// decide the village when newer than this copy's. An unsigned op, or one under a device
/// this copy does not know as such, moves nothing here: a laptop cannot open another
/// village's household to itself by writing the move under a made-up or borrowed id.
pub(crate) fn file_moves(
    store: &Store,
    header: &Header,
    ops: impl Iterator<Item = Result<Op, changeset::ChangesetError>>,
    plan: &ImportPlan,
) -> Result<HashMap<Uuid, FileMove>, SyncError> {
    let mut verifier = verifier_of(header)?;
    let mut trusted: HashMap<Uuid, bool> = HashMap::new();
    let mut moves: HashMap<Uuid, FileMove> = HashMap::new();
    for op in ops {
        let op = op?;
        let signed = verifier.push(&op).map_err(SyncError::Signature)?;
        let origin = op.id.origin;
        let Some(table) = Table::from_code(op.table) else {
            continue;
        };
        if !signed || village_ref_field(table) != Some(op.field.as_str()) {
            continue;
        }
        let takes_moves = match trusted.get(&origin) {
            Some(known) => *known,
            None => {
                let known = !plan.villages.contains_key(&origin)
                    && plan.decide(origin) == Admit::Apply
                    && matches!(store.known_device_key(origin)?, Some((_, true, None)));
                trusted.insert(origin, known);
                known
            }
        };
        let Some(to) = as_uuid(&op.value).filter(|_| takes_moves) else {
            continue;
        };
        let moved = FileMove {
            to,
            hlc: op.hlc,
            origin,
        };
        moves
            .entry(op.row)
            .and_modify(|m| {
                if (moved.hlc, moved.origin) > (m.hlc, m.origin) {
                    *m = moved;
                }
            })
            .or_insert(moved);
    }
    verifier.finish().map_err(SyncError::Signature)?;
    Ok(moves)
}

fn as_uuid(v: &FieldValue) -> Option<Uuid> {
    match v {
        FieldValue::Bytes(b) => Uuid::from_slice(b).ok(),
        _ => None,
    }
}

/// Whether the file comes from a device this copy has confirmed (a person or the county)
/// with no village limit (a township station, the county) and that is not one of the file's
/// village-limited writers: such a station relays village devices' ops after checking their
/// limits itself. The station must have signed the file (`Header::source_sig` under the key
/// this copy confirmed for it): a file that only names a station as its source (a village
/// laptop's own file with the header rewritten) is checked here like any other.
fn relayed_by_a_station(
    store: &Store,
    header: &Header,
    limited: &HashMap<Uuid, String>,
) -> Result<bool, StoreError> {
    if limited.contains_key(&header.source_device) {
        return Ok(false);
    }
    Ok(store
        .known_device_key(header.source_device)?
        .is_some_and(|(key, confirmed, village)| {
            confirmed && village.is_none() && signing::file_signed_by(header, &key)
        }))
}

/// How long after a household (or a work team member) left a village that village's devices
/// may still edit it: a laptop out of reach for weeks edits what it last saw in its village,
/// and the hub allows the same time (`FORMER_SCOPE_MS` there).
pub const FORMER_VILLAGE_MS: u64 = 90 * 24 * 3600 * 1000;

/// The ops of a file that reach outside their device's village, kept aside with the whole
/// write batch each belongs to (a save is never taken in part): the rest of the file merges.
#[derive(Debug, Default)]
pub(crate) struct OutsideOps {
    /// Ops outside their village that no signed batch of the file covers.
    ops: HashSet<(Uuid, i64)>,
    /// Signed batches of the file holding such an op, by origin: (first, last).
    batches: HashMap<Uuid, Vec<(i64, i64)>>,
    /// The first such op: its device, the device's village and the other village.
    pub first: Option<OutsideVillage>,
}

impl OutsideOps {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.batches.is_empty()
    }

    /// Whether `op` is kept aside.
    pub fn holds(&self, op: &Op) -> bool {
        self.ops.contains(&(op.id.origin, op.id.seq))
            || self.batches.get(&op.id.origin).is_some_and(|ranges| {
                ranges
                    .iter()
                    .any(|(first, last)| (*first..=*last).contains(&op.id.seq))
            })
    }

    /// Whether any op of `origin`'s seqs `first..=last` is kept aside.
    pub fn holds_range(&self, origin: Uuid, first: i64, last: i64) -> bool {
        self.ops
            .iter()
            .any(|(o, seq)| *o == origin && (first..=last).contains(seq))
            || self
                .batches
                .get(&origin)
                .is_some_and(|ranges| ranges.iter().any(|(f, l)| *f <= last && first <= *l))
    }

    /// Whether the signed batch `b` is kept aside (its signature is not recorded with the ops
    /// this copy takes, which would otherwise be relayed as a batch carried in part).
    pub fn holds_batch(&self, b: &signing::BatchSig) -> bool {
        self.batches
            .get(&b.origin)
            .is_some_and(|ranges| ranges.contains(&(b.first, b.last)))
    }

    fn keep(&mut self, op: &Op, batches: &[signing::BatchSig]) {
        match batches
            .iter()
            .find(|b| b.origin == op.id.origin && (b.first..=b.last).contains(&op.id.seq))
        {
            Some(b) => {
                let ranges = self.batches.entry(b.origin).or_default();
                if !ranges.contains(&(b.first, b.last)) {
                    ranges.push((b.first, b.last));
                }
            }
            None => {
                self.ops.insert((op.id.origin, op.id.seq));
            }
        }
    }
}

/// Finds the ops of devices confirmed for one village that touch a household, a work team
/// member or the 村情 of another (as the hub holds them aside). A row whose village is not
/// known yet passes; so does a row that left the device's village within
/// [`FORMER_VILLAGE_MS`] (the township moved it while the laptop was away).
pub(crate) fn find_outside(
    store: &Store,
    header: &Header,
    ops: impl Iterator<Item = Result<Op, changeset::ChangesetError>>,
    villages: &HashMap<Uuid, String>,
    passengers: Option<&HashSet<Uuid>>,
    moves: HashMap<Uuid, FileMove>,
) -> Result<OutsideOps, SyncError> {
    let mut found = OutsideOps::default();
    if villages.is_empty() {
        return Ok(found);
    }
    let batches = header.batches.as_deref().unwrap_or(&[]);
    let cutoff = store.wall_ms().saturating_sub(FORMER_VILLAGE_MS);
    let mut file = FileRows {
        moves,
        ..FileRows::default()
    };
    // Per owner row and allowed village: whether the row left that village lately.
    let mut lately: HashMap<(Uuid, String), bool> = HashMap::new();
    for op in ops {
        let op = op?;
        let table = Table::from_code(op.table);
        let allowed = villages.get(&op.id.origin);
        // The row whose village decides (checked before this op's own value is noted: a
        // village device does not pull another village's household into its own).
        let verdict = match allowed {
            Some(allowed) => match outside_code(store, &op, table, allowed, &file)? {
                Some(found) => Some(found),
                // A new row put under another village (its first village or household),
                // as the hub refuses "a new row under another village's parent".
                None => new_row_target(store, &op, table, &file)?
                    .filter(|code| code != allowed)
                    .map(|code| (op.row, code)),
            },
            None => None,
        };
        if let (Some((owner, code)), Some(allowed)) = (verdict, allowed) {
            let key = (owner, allowed.clone());
            let left_lately = match lately.get(&key) {
                Some(known) => *known,
                None => {
                    let known = left_lately(store, owner, allowed, &file.codes, cutoff)?;
                    lately.insert(key, known);
                    known
                }
            };
            if !left_lately {
                if found.first.is_none() {
                    // A passenger's edit is the file's source's to answer for: named by it,
                    // merged or declined under its 安全码.
                    let named = if passengers.is_some_and(|p| p.contains(&op.id.origin)) {
                        header.source_device
                    } else {
                        op.id.origin
                    };
                    found.first = Some(OutsideVillage {
                        device: header
                            .device_names
                            .get(&named)
                            .cloned()
                            .or_else(|| {
                                (named == header.source_device).then(|| header.source_name.clone())
                            })
                            .unwrap_or_else(|| named.to_string()),
                        village: allowed.clone(),
                        other: code,
                    });
                }
                found.keep(&op, batches);
            }
        }
        match (table, op.field.as_str()) {
            (Some(t), f) if village_ref_field(t) == Some(f) => {
                if let Some(v) = as_uuid(&op.value) {
                    file.village_of.insert(op.row, v);
                }
            }
            (Some(Table::Village), "code") => {
                if let FieldValue::Text(code) = &op.value {
                    file.codes.insert(op.row, code.clone());
                }
            }
            (Some(t), f) if household_ref_field(t) == Some(f) => {
                if let Some(h) = as_uuid(&op.value) {
                    file.household_of.insert(op.row, h);
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

/// The row `op` belongs to and its village's code, when that village is not `allowed`.
fn outside_code(
    store: &Store,
    op: &Op,
    table: Option<Table>,
    allowed: &str,
    file: &FileRows,
) -> Result<Option<(Uuid, String)>, SyncError> {
    // A village's own row (its 村情: 农村人口, the exit checklist) is its village's.
    if table == Some(Table::Village) {
        let code = village_code(store, op.row, &file.codes)?;
        return Ok(code.filter(|c| c != allowed).map(|c| (op.row, c)));
    }
    // The row that names the village: the op's own row (a household, a work team member)
    // or the household it hangs under.
    let owner = match table {
        Some(t) if village_ref_field(t).is_some() => Some((t, op.row)),
        Some(t) => match household_ref_field(t) {
            Some(field) => stored_ref(store, t, field, op.row)?
                .or_else(|| file.household_of.get(&op.row).copied())
                .map(|h| (Table::Household, h)),
            None => None,
        },
        None => None,
    };
    let Some((owner_table, owner)) = owner else {
        return Ok(None);
    };
    Ok(row_village(store, owner_table, owner, file)?
        .filter(|code| code != allowed)
        .map(|code| (owner, code)))
}

/// For an op that gives a row its first village or household (a row with neither in this
/// copy nor earlier in the file), the code of the village it puts the row in.
fn new_row_target(
    store: &Store,
    op: &Op,
    table: Option<Table>,
    file: &FileRows,
) -> Result<Option<String>, StoreError> {
    let Some(t) = table else { return Ok(None) };
    let Some(target) = as_uuid(&op.value) else {
        return Ok(None);
    };
    let field = op.field.as_str();
    if village_ref_field(t) == Some(field) {
        if file.village_of.contains_key(&op.row) || stored_ref(store, t, field, op.row)?.is_some() {
            return Ok(None);
        }
        return village_code(store, target, &file.codes);
    }
    if household_ref_field(t) == Some(field) {
        if file.household_of.contains_key(&op.row) || stored_ref(store, t, field, op.row)?.is_some()
        {
            return Ok(None);
        }
        return row_village(store, Table::Household, target, file);
    }
    Ok(None)
}

/// The id a row's reference field holds in this copy.
fn stored_ref(
    store: &Store,
    table: Table,
    field: &str,
    row: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    let held: Option<Option<Vec<u8>>> = store
        .conn()
        .prepare_cached(&format!(
            "SELECT {field} FROM {} WHERE id = ?1",
            table.sql_name()
        ))?
        .query_row([row.as_bytes().as_slice()], |r| r.get(0))
        .optional()?;
    Ok(held.flatten().and_then(|b| Uuid::from_slice(&b).ok()))
}

/// A village's code, as this copy has it or as the file set it.
fn village_code(
    store: &Store,
    village: Uuid,
    file_codes: &HashMap<Uuid, String>,
) -> Result<Option<String>, StoreError> {
    let code: Option<Option<String>> = store
        .conn()
        .prepare_cached("SELECT code FROM village WHERE id = ?1")?
        .query_row([village.as_bytes().as_slice()], |r| r.get(0))
        .optional()?;
    Ok(match code {
        Some(code) => code,
        None => file_codes.get(&village).cloned(),
    })
}

/// Whether `row` was in the village coded `allowed` until a change of its village made at or
/// after `cutoff_ms`, by this copy's history of the row's village field (walked back from its
/// heads through their predecessors).
fn left_lately(
    store: &Store,
    row: Uuid,
    allowed: &str,
    file_codes: &HashMap<Uuid, String>,
    cutoff_ms: u64,
) -> Result<bool, StoreError> {
    let mut ids: HashSet<Uuid> = file_codes
        .iter()
        .filter(|(_, code)| code.as_str() == allowed)
        .map(|(id, _)| *id)
        .collect();
    let mut stmt = store
        .conn()
        .prepare_cached("SELECT id FROM village WHERE code = ?1")?;
    for id in stmt.query_map([allowed], |r| r.get::<_, Vec<u8>>(0))? {
        if let Ok(id) = Uuid::from_slice(&id?) {
            ids.insert(id);
        }
    }
    let heads = store.row_heads_by_field(row)?;
    let mut frontier: Vec<super::OpId> = [Table::Household, Table::TeamMember]
        .iter()
        .filter_map(|t| village_ref_field(*t))
        .filter_map(|f| heads.get(f))
        .flatten()
        .copied()
        .collect();
    let mut walked = HashSet::new();
    // A row's village changes a handful of times; the bound only guards a damaged history.
    while let Some(id) = frontier.pop() {
        if !walked.insert(id) || walked.len() > 1_000 {
            continue;
        }
        let Some(found) = store.op_clock_values(&[id])? else {
            continue;
        };
        let Some((_, hlc, value)) = found.into_iter().next() else {
            continue;
        };
        if as_uuid(&value).is_some_and(|v| ids.contains(&v)) {
            return Ok(true);
        }
        if hlc.millis() >= cutoff_ms {
            frontier.extend(store.op_preds(id)?);
        }
    }
    Ok(false)
}

/// The devices this copy has heard of, with the ops held for each (for 待确认设备).
#[derive(ts_rs::TS, Debug, Clone, serde::Serialize)]
pub struct DeviceEntry {
    #[serde(flatten)]
    pub key: DeviceKey,
    /// Held files that carry this device's ops (waiting for its confirmation, or holding what
    /// it did outside its village).
    pub held_files: u64,
}

/// The 设备 box of the 同步 page: every known device, and whether this copy holds the ops of
/// devices not confirmed yet.
#[derive(ts_rs::TS, Debug, Clone, serde::Serialize)]
pub struct DevicesView {
    pub devices: Vec<DeviceEntry>,
    pub confirms_devices: bool,
    /// The county key this copy believes (its 安全码) and the certificates it holds.
    pub county: crate::store::CountyKeyStatus,
    /// County keys the held files carry certificates of, to compare and confirm.
    pub county_candidates: Vec<CountyCandidate>,
}

/// What the 设备 box shows.
pub fn devices_view(store: &Store) -> Result<DevicesView, SyncError> {
    Ok(DevicesView {
        devices: list_devices(store)?,
        confirms_devices: store.confirms_devices()?,
        county: store.county_key_status()?,
        county_candidates: county_candidates(store)?,
    })
}

/// Sets whether ops of devices not confirmed yet are held (a 乡镇管理员's choice).
pub fn require_confirmation(store: &Store, on: bool) -> Result<(), SyncError> {
    store.require(crate::access::Permission::TrustDevices)?;
    store.set_confirms_devices(on)?;
    Ok(())
}

/// Every device key this copy knows, with how many held files wait for each.
pub fn list_devices(store: &Store) -> Result<Vec<DeviceEntry>, SyncError> {
    let held = held_files(store)?;
    let mut out = Vec::new();
    let files = with_headers(&held);
    let headers: Vec<Header> = files.iter().map(|(h, _)| h.clone()).collect();
    let keys = store.device_keys()?;
    let known: HashSet<Uuid> = keys.iter().map(|k| k.device).collect();
    for key in keys {
        let mut count = 0;
        // This copy's own ops never wait here (a held file carries them only as relayed).
        for header in headers.iter().filter(|_| !key.own) {
            if waits_for(store, header, &key, &known)? {
                count += 1;
            }
        }
        out.push(DeviceEntry {
            key,
            held_files: count,
        });
    }
    // A second candidate's files wait for a person's word on the key itself (even when the
    // ops it signed are held here under the other key), so they are counted, to decline.
    for key in candidate_keys(store, &files)? {
        let count = headers
            .iter()
            .filter(|h| declares_key(h, key.device, &key.public_key))
            .count() as u64;
        out.push(DeviceEntry {
            key,
            held_files: count,
        });
    }
    Ok(out)
}

/// The keys held files declare for devices under another key than the one this copy records
/// for them, or for devices it records no key of: second candidates (a forged stick's made-up
/// key may have been recorded first, from a file that proved it), listed with their 安全码 so
/// a person compares them with the device's screen and confirms or declines each. A device's
/// own copy never has one (its key is confirmed: another is refused as 冒充). A key is listed
/// only where a held file shows it is the device's: the file carries a batch or part of the
/// device that verifies under it (`verified_file`), or the device sent the file and signed it
/// with it. One only declared, with nothing signed under it, is no candidate (anyone can write
/// a key under any id).
fn candidate_keys(store: &Store, files: &[(Header, &[u8])]) -> Result<Vec<DeviceKey>, StoreError> {
    let own = store.device().id;
    let mut out: Vec<DeviceKey> = Vec::new();
    for (header, file) in files {
        // The file's batches and parts, checked once per file and only when needed.
        let mut verifier: Option<Option<StreamVerifier>> = None;
        for (device, key_hex) in header.signers.iter().flatten() {
            let Some(key) = signing::unhex(key_hex) else {
                continue;
            };
            if *device == own
                || out
                    .iter()
                    .any(|k| k.device == *device && k.public_key == signing::hex(&key))
            {
                continue;
            }
            let recorded = store.known_device_key(*device)?;
            if recorded.as_ref().is_some_and(|(known, _, _)| *known == key) {
                continue;
            }
            let signed_file =
                *device == header.source_device && signing::file_signed_by(header, &key);
            if !signed_file
                && !verifier
                    .get_or_insert_with(|| verified_file(file))
                    .as_ref()
                    .is_some_and(|v| v.verified_any(*device))
            {
                continue;
            }
            let name = header.device_names.get(device).cloned().unwrap_or_default();
            out.push(DeviceKey {
                device: *device,
                name,
                fingerprint: fingerprint(&key),
                public_key: signing::hex(&key),
                confirmed: false,
                village: None,
                own: false,
                county_vouched: false,
            });
        }
    }
    Ok(out)
}

/// The checker of a held file's batch signatures after reading all its ops (`verified_any`
/// then tells the keys a batch or part it carries shows), or `None` when it cannot be read
/// or does not verify (it proves nothing).
fn verified_file(file: &[u8]) -> Option<StreamVerifier> {
    let (header, ops) = changeset::decode(file).ok()?;
    let mut verifier = verifier_of(&header).ok()?;
    for op in &ops {
        verifier.push(op).ok()?;
    }
    verifier.finish().ok()?;
    Some(verifier)
}

/// Whether `key_hex` is the key `header` declares for `device`.
fn declares_key(header: &Header, device: Uuid, key_hex: &str) -> bool {
    header
        .signers
        .as_ref()
        .and_then(|s| s.get(&device))
        .and_then(|k| signing::unhex(k))
        .is_some_and(|k| Some(k) == signing::unhex(key_hex))
}

/// Whether a held file still holds ops of `device` that this copy lacks: a file kept for
/// another device's waiting changes does not wait for a device whose part merged.
fn waits_for(
    store: &Store,
    header: &Header,
    key: &DeviceKey,
    known: &HashSet<Uuid>,
) -> Result<bool, StoreError> {
    let device = key.device;
    // The unsigned ops of writers this copy has no key for wait with the file's source.
    if device == header.source_device
        && let (Some(origins), Some(carried)) =
            (passenger_origins(header, known), header.carried.as_ref())
    {
        let only: changeset::SeqRanges = origins
            .iter()
            .filter_map(|o| carried.get(o).map(|r| (*o, r.clone())))
            .collect();
        if !only.is_empty() && !store.holds_all(&only)? {
            return Ok(true);
        }
    }
    // A file that declares another key for the device waits for that key, not this one.
    if !declares_key(header, device, &key.public_key) {
        return Ok(false);
    }
    match header.carried.as_ref().and_then(|c| c.get(&device)) {
        Some(ranges) => {
            let only: changeset::SeqRanges = [(device, ranges.clone())].into_iter().collect();
            Ok(!store.holds_all(&only)?)
        }
        // A file of an earlier version, without its ranges: counted while kept.
        None => Ok(header.carried.is_none()),
    }
}

/// Whether a later held file of the same writer leaves nothing waiting only in `older`:
/// every op of `older` this copy lacks is in `newer` with the same content and the same batch
/// signature, and so is every archive file of `older` this copy lacks. Read from the files'
/// ops, not from what their headers claim (a header's ranges are not signed), and only for
/// files their source signed under the key this copy knows for it, or both under the one
/// key both declare for it (a second candidate key: the real laptop's files beside a key a
/// forger planted).
fn leaves_nothing_only_in(store: &Store, older: &[u8], newer: &[u8]) -> Result<bool, SyncError> {
    // Both files' ops are read into memory: files past this size are simply both kept.
    const MOST_OPS: u64 = 500_000;
    let read = |bytes: &[u8]| -> Result<Option<(Header, Vec<Op>)>, SyncError> {
        if changeset::read_header(bytes).map_or(true, |(h, _)| h.op_count > MOST_OPS) {
            return Ok(None);
        }
        match changeset::decode(bytes) {
            Ok(decoded) => Ok(Some(decoded)),
            Err(_) => Ok(None),
        }
    };
    let (Some((old_header, old_ops)), Some((new_header, new_ops))) = (read(older)?, read(newer)?)
    else {
        return Ok(false);
    };
    let source = old_header.source_device;
    let signed_by = |key: &[u8]| {
        signing::file_signed_by(&old_header, key) && signing::file_signed_by(&new_header, key)
    };
    // Under the key this copy records for the source, or, when the source's files are held
    // as a second candidate key (the recorded one a forger's), under the key both files
    // declare for it: else every export of the real laptop would add a full held copy.
    let declared = |header: &Header| {
        header
            .signers
            .as_ref()
            .and_then(|s| s.get(&source))
            .and_then(|k| signing::unhex(k))
    };
    let signed_by_source = store
        .known_device_key(source)?
        .is_some_and(|(key, _, _)| signed_by(&key))
        || declared(&old_header)
            .filter(|key| declared(&new_header).as_ref() == Some(key))
            .is_some_and(|key| signed_by(&key));
    if new_header.source_device != source || !signed_by_source {
        return Ok(false);
    }
    let held = store.held_ranges()?;
    let mut waiting: HashMap<(Uuid, i64), Op> = old_ops
        .into_iter()
        .filter(|op| !changeset::ranges_contain(&held, op.id.origin, op.id.seq))
        .map(|op| ((op.id.origin, op.id.seq), op))
        .collect();
    let old_batches = old_header.batches.as_deref().unwrap_or(&[]);
    let new_batches = new_header.batches.as_deref().unwrap_or(&[]);
    let batches_kept = waiting.keys().all(|&(origin, seq)| {
        old_batches
            .iter()
            .filter(|b| b.origin == origin && (b.first..=b.last).contains(&seq))
            .all(|b| new_batches.contains(b))
    });
    for op in new_ops {
        if waiting
            .get(&(op.id.origin, op.id.seq))
            .is_some_and(|old| *old == op)
        {
            waiting.remove(&(op.id.origin, op.id.seq));
        }
    }
    let lacking = crate::archive::missing_blobs(
        store.conn(),
        old_header.blobs.iter().flatten().map(|b| b.sha256.as_str()),
    )?;
    let files_kept = lacking
        .iter()
        .all(|hash| new_header.blobs.iter().flatten().any(|b| &b.sha256 == hash));
    Ok(waiting.is_empty() && batches_kept && files_kept)
}

/// The held files whose header reads, each with it.
fn with_headers(held: &[(i64, Vec<u8>)]) -> Vec<(Header, &[u8])> {
    held.iter()
        .filter_map(|(_, file)| {
            changeset::read_header(file)
                .ok()
                .map(|(h, _)| (h, file.as_slice()))
        })
        .collect()
}

fn held_files(store: &Store) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = store
        .conn()
        .prepare_cached("SELECT id, file FROM held_file ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Keeps a file whose ops of unconfirmed devices were held, to import again on confirmation.
/// An earlier held file of the same writer that the new one leaves nothing waiting in is
/// dropped (`leaves_nothing_only_in`): a laptop's every file carries all it holds, so the
/// held files would otherwise pile up, one per stick brought in.
pub(crate) fn hold_file(store: &mut Store, header: &Header, file: &[u8]) -> Result<(), StoreError> {
    let mut superseded = Vec::new();
    for (id, held) in held_files(store)? {
        // The same file again stays as it is (kept once).
        if held.as_slice() != file
            && changeset::read_header(&held)
                .is_ok_and(|(older, _)| older.source_device == header.source_device)
            && leaves_nothing_only_in(store, &held, file).unwrap_or(false)
        {
            superseded.push(id);
        }
    }
    let wall = store.wall_ms() as i64;
    store.write_local(|conn| {
        conn.execute(
            "INSERT INTO held_file (received_ms, source_name, file) SELECT ?1, ?2, ?3
             WHERE NOT EXISTS (SELECT 1 FROM held_file WHERE file = ?3)",
            rusqlite::params![wall, header.source_name, file],
        )?;
        for id in &superseded {
            conn.execute("DELETE FROM held_file WHERE id = ?1", [id])?;
        }
        Ok(())
    })
}

/// What confirming a device did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfirmOutcome {
    pub device: DeviceKey,
    /// The held files imported again, with what they brought.
    pub merged: Vec<ImportSummary>,
    /// Held files that could not be imported again, each with why (kept; the others are not
    /// stopped by one of them).
    pub failed: Vec<String>,
    /// Ops taken out of the data: the key confirmed replaced one learnt from a file, and
    /// what only that one signed is not the device's.
    pub withdrawn: u64,
}

impl ConfirmOutcome {
    /// The lines to show: `what` and the device, then what each held file brought.
    pub fn lines_zh(&self, what: &str) -> Vec<String> {
        let mut out = vec![format!(
            "{what}“{}”（安全码 {}）。",
            self.device.name, self.device.fingerprint
        )];
        if self.withdrawn > 0 {
            out.push(super::exchange::withdrawn_zh(self.withdrawn));
        }
        out.extend(self.merged.iter().map(ImportSummary::message_zh));
        out.extend(
            self.failed
                .iter()
                .map(|why| format!("有一个暂存的同步文件仍不能合并，已保留：{why}")),
        );
        out
    }
}

/// Why a device could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("no known device has fingerprint {0}")]
    UnknownFingerprint(String),
    #[error("{0} is not a village code")]
    BadVillage(String),
    #[error("this copy's own device")]
    OwnDevice,
    #[error("device {0} is not confirmed yet")]
    NotConfirmed(String),
    #[error("device {0} has another key confirmed")]
    OtherKeyConfirmed(String),
    #[error("no held file carries certificates of a county key with fingerprint {0}")]
    UnknownCountyFingerprint(String),
    #[error("another county key is believed here")]
    OtherCountyKey { held: String },
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl UserFacing for ConfirmError {
    fn kind(&self) -> &'static str {
        match self {
            ConfirmError::UnknownFingerprint(_) => "unknown_fingerprint",
            ConfirmError::BadVillage(_) => "bad_village_code",
            ConfirmError::OwnDevice => "own_device",
            ConfirmError::NotConfirmed(_) => "device_not_confirmed",
            ConfirmError::OtherKeyConfirmed(_) => "device_key_confirmed_already",
            ConfirmError::UnknownCountyFingerprint(_) => "unknown_county_fingerprint",
            ConfirmError::OtherCountyKey { .. } => "county_key_confirmed_already",
            ConfirmError::Sync(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ConfirmError::UnknownFingerprint(fp) => format!(
                "没有找到安全码为“{fp}”的设备。请用 `bangfu device list` 查看待确认设备的安全码，与那台设备屏幕上的安全码逐组核对后再确认。"
            ),
            ConfirmError::BadVillage(code) => format!(
                "“{code}”不是村代码：村代码是 12 位数字（如 530826103201），请在村列表里选择。"
            ),
            ConfirmError::OwnDevice => {
                "这是本机自己的安全码：本机的修改不用确认，也不受村限制。".to_owned()
            }
            ConfirmError::NotConfirmed(name) => format!(
                "设备“{name}”还没有确认（待确认设备），这项操作只对已确认的设备有效。要确认它，请先核对安全码，确认时可选择所属村。"
            ),
            ConfirmError::OtherKeyConfirmed(name) => format!(
                "设备“{name}”已确认了另一个安全码，不能再确认这一个：用这个安全码签名的修改可能是冒充的。请与那台设备屏幕上的安全码核对；不是它的，就选“不合并”。"
            ),
            ConfirmError::UnknownCountyFingerprint(fp) => format!(
                "收到的同步文件和同步中心都没有带来安全码为“{fp}”的县同步中心证书。请用 `bangfu device list` 或“同步 → 设备与安全码”查看带来的县同步中心安全码，与县里通知的安全码逐组核对后再确认。"
            ),
            ConfirmError::OtherCountyKey { held } => format!(
                "本机已认定了县同步中心的另一个安全码（{}），不能再确认这一个：带着这个安全码的证书可能是伪造的。请向县里核实；县里确实通知更换了安全码（如重建了同步中心）时，在“设备与安全码”中对同步中心带来的新安全码选择“改认”，或用 bangfu device confirm-county 安全码 --replace。",
                super::county::county_fingerprint(held).unwrap_or_default()
            ),
            ConfirmError::Sync(e) => e.message_zh(),
        }
    }
}

/// Confirms the device with `fingerprint` (optionally limiting it to a village code) and
/// imports again every held file, so its ops merge now. A held file that holds nothing aside
/// afterwards is removed.
pub fn confirm_device(
    store: &mut Store,
    fingerprint_text: &str,
    village: Option<&str>,
) -> Result<ConfirmOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    let (device, replaced) = match store
        .set_device_confirmed(fingerprint_text, village)
        .map_err(SyncError::from)?
    {
        Some(device) => (device, false),
        None => confirm_candidate(store, fingerprint_text, village)?,
    };
    // Who vouched for which key goes into the audit log: a key confirmed in place of the one
    // learnt from a file (`replaced`) above all, since that one's signatures go with it.
    let what = format!(
        "{}设备“{}”（安全码 {}），所属村：{}",
        if replaced {
            "确认另一个安全码并替换先前从文件得知的那个："
        } else {
            "确认"
        },
        device.name,
        device.fingerprint,
        device.village.as_deref().unwrap_or("不限村")
    );
    store
        .record_audit("confirm_device", &what, 0)
        .map_err(SyncError::from)?;
    // The device is confirmed now: if the reading is cut short (a full disk, the window
    // writing), the mark has the next import or sync read the held files again, so what
    // waited for it does not wait for nobody.
    let mark = store.mark_held_reread().map_err(SyncError::from)?;
    // A key put in place of one learnt from a file: what only that one signed leaves the
    // data before the held files bring the device's own ops under the same ids.
    let withdrawn = store.settle_withdrawn().map_err(SyncError::from)?;
    let (merged, failed) = import_held_again(store, None)?;
    store
        .clear_held_reread_pending(mark)
        .map_err(SyncError::from)?;
    Ok(ConfirmOutcome {
        device,
        merged,
        failed,
        withdrawn,
    })
}

/// Confirms a second candidate key (`candidate_keys`) with the 安全码 typed: it becomes the
/// device's key in place of the one this copy learnt unconfirmed from a file (a forged
/// stick's, when the person compared the device's screen), whose batch signatures go with it.
/// The held files under the other key stay held, to decline. A device whose recorded key a
/// person or the county confirmed keeps it.
fn confirm_candidate(
    store: &Store,
    fingerprint_text: &str,
    village: Option<&str>,
) -> Result<(DeviceKey, bool), ConfirmError> {
    let candidate = candidate_by_fingerprint(store, fingerprint_text)?;
    // Whether a key learnt from a file is replaced (said in the audit log).
    let replaced = store
        .known_device_key(candidate.device)
        .map_err(SyncError::from)?
        .is_some();
    let key = signing::unhex(&candidate.public_key)
        .ok_or_else(|| ConfirmError::UnknownFingerprint(fingerprint_text.to_owned()))?;
    if !store
        .confirm_candidate_key(candidate.device, &key, &candidate.name, village)
        .map_err(SyncError::from)?
    {
        return Err(ConfirmError::OtherKeyConfirmed(candidate.name));
    }
    store
        .device_keys()
        .map_err(SyncError::from)?
        .into_iter()
        .find(|k| k.device == candidate.device)
        .map(|k| (k, replaced))
        .ok_or_else(|| ConfirmError::UnknownFingerprint(fingerprint_text.to_owned()))
}

/// The second candidate key (`candidate_keys`) with the 安全码 typed.
fn candidate_by_fingerprint(
    store: &Store,
    fingerprint_text: &str,
) -> Result<DeviceKey, ConfirmError> {
    let wanted = signing::fingerprint_digits(fingerprint_text);
    let held = held_files(store).map_err(SyncError::from)?;
    let files = with_headers(&held);
    candidate_keys(store, &files)
        .map_err(SyncError::from)?
        .into_iter()
        .find(|k| !wanted.is_empty() && signing::fingerprint_digits(&k.fingerprint) == wanted)
        .ok_or_else(|| ConfirmError::UnknownFingerprint(fingerprint_text.to_owned()))
}

/// The device this copy knows with the 安全码 typed (digits compared).
/// The confirmed device, not this copy's own, with `fingerprint` (for changing what was
/// confirmed of it).
fn confirmed_other_device(
    store: &Store,
    fingerprint_text: &str,
) -> Result<DeviceKey, ConfirmError> {
    let device = device_by_fingerprint(store, fingerprint_text)?;
    if device.own {
        return Err(ConfirmError::OwnDevice);
    }
    if !device.confirmed {
        return Err(ConfirmError::NotConfirmed(device.name));
    }
    Ok(device)
}

fn device_by_fingerprint(store: &Store, fingerprint_text: &str) -> Result<DeviceKey, ConfirmError> {
    let wanted = signing::fingerprint_digits(fingerprint_text);
    store
        .device_keys()
        .map_err(SyncError::from)?
        .into_iter()
        .find(|k| !wanted.is_empty() && signing::fingerprint_digits(&k.fingerprint) == wanted)
        .ok_or_else(|| ConfirmError::UnknownFingerprint(fingerprint_text.to_owned()))
}

/// What taking a device's confirmation back did, to show ([`unconfirm_device`]).
pub fn unconfirmed_message_zh(device: &DeviceKey) -> String {
    format!(
        "已取消确认设备“{}”（安全码 {}）：改为待确认；与县同步中心同步时，县里登记的安全码随之确认。",
        device.name, device.fingerprint
    )
}

/// Takes back the confirmation of the device with `fingerprint` (a person's or the county's):
/// its key stays known, its changes wait again at a copy that confirms devices, and a key the
/// county's word vouches for (a hub page, a certificate) takes its place at the next sync. For
/// a key confirmed by mistake — the hub then brings another one for the device and this copy's
/// sync stops at it ([`crate::sync::signing::SignatureError::KeyMismatch`] on a page).
pub fn unconfirm_device(
    store: &mut Store,
    fingerprint_text: &str,
) -> Result<DeviceKey, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    let device = confirmed_other_device(store, fingerprint_text)?;
    let what = format!(
        "取消确认设备“{}”（安全码 {}）：改为待确认",
        device.name, device.fingerprint
    );
    store
        .set_device_unconfirmed(device.device, &what)
        .map_err(SyncError::from)?;
    Ok(DeviceKey {
        confirmed: false,
        county_vouched: false,
        ..device
    })
}

/// Changes the village a confirmed device is limited to (`None`: no limit: the laptop became
/// the township's), then imports the held files again: what waited only because of the old
/// limit merges, what the new limit keeps out waits.
pub fn set_device_village(
    store: &mut Store,
    fingerprint_text: &str,
    village: Option<&str>,
) -> Result<ConfirmOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    if let Some(code) = village
        && !(code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ConfirmError::BadVillage(code.to_owned()));
    }
    let device = confirmed_other_device(store, fingerprint_text)?;
    store
        .set_device_village(device.device, village)
        .map_err(SyncError::from)?;
    // Taking a limit away makes the device a station whose relays this copy believes: said in
    // the audit log, as declining is.
    let what = format!(
        "设备“{}”（安全码 {}）所属村：{} → {}",
        device.name,
        device.fingerprint,
        device.village.as_deref().unwrap_or("不限村"),
        village.unwrap_or("不限村")
    );
    store
        .record_audit("device_village", &what, 0)
        .map_err(SyncError::from)?;
    let device = device_by_fingerprint(store, fingerprint_text)?;
    let (merged, failed) = import_held_again(store, None)?;
    Ok(ConfirmOutcome {
        device,
        merged,
        failed,
        withdrawn: 0,
    })
}

/// What declining a device's waiting changes did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DropOutcome {
    pub device: DeviceKey,
    /// Held files removed: nothing in them waited but this device's changes.
    pub dropped: u64,
    /// Held files kept: they hold changes of other devices that wait too.
    pub kept: u64,
    /// The device was never confirmed and nothing of it is left here: this copy forgot its
    /// key, so another key for that id (the real laptop's, when a forged stick came first) is
    /// learnt as a new 待确认设备 instead of refusing its files.
    pub forgotten: bool,
}

impl DropOutcome {
    pub fn lines_zh(&self) -> Vec<String> {
        let name = &self.device.name;
        let fp = &self.device.fingerprint;
        if self.dropped == 0 && self.kept == 0 {
            return vec![format!("设备“{name}”（安全码 {fp}）没有暂存的修改。")];
        }
        let mut out = vec![format!(
            "已不合并设备“{name}”（安全码 {fp}）暂存的修改：删除暂存的同步文件 {} 个。这些修改仍在那台设备上，核实后可让它重新导出。",
            self.dropped
        )];
        if self.kept > 0 {
            out.push(format!(
                "另有 {} 个暂存的同步文件还含有其他设备待合并的修改，已保留。",
                self.kept
            ));
        }
        if self.forgotten {
            out.push(
                "这台设备从未确认，本机已不再记着它的签名密钥；它若再送来同步文件，会重新列为待确认设备，请核对安全码后再确认。"
                    .to_owned(),
            );
        }
        out
    }
}

/// Declines what waits for the device with `fingerprint` (a 待确认设备 no one knows, or edits
/// of another village the work team says were a mistake): every held file in which nothing
/// waits but that device's changes is removed, and the removal goes into the audit log. A
/// file that also holds another device's waiting changes is kept. A confirmed device is left
/// as it is: its later files are held or merged as before. A device never confirmed of which
/// nothing is left here (no held file carries it, this copy holds none of its ops) is
/// forgotten with its key: a forged stick that declared a key under a laptop's id before the
/// laptop's own file came would otherwise have every real file of it refused as 冒充.
pub fn drop_held(store: &mut Store, fingerprint_text: &str) -> Result<DropOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    // A second candidate key (`candidate_keys`) lives only in the held files that declare it.
    let (device, recorded) = match device_by_fingerprint(store, fingerprint_text) {
        Ok(device) => (device, true),
        Err(ConfirmError::UnknownFingerprint(_)) => {
            (candidate_by_fingerprint(store, fingerprint_text)?, false)
        }
        Err(e) => return Err(e),
    };
    let (files, kept) = files_only_of(store, &device)?;
    let dropped = files.len() as u64;
    if dropped > 0 {
        let what = format!(
            "不合并设备“{}”（安全码 {}）暂存的同步文件 {dropped} 个",
            device.name, device.fingerprint
        );
        remove_held(store, &files, &what)?;
    }
    let declared_still = held_files(store)
        .map_err(SyncError::from)?
        .iter()
        .any(|(_, file)| {
            changeset::read_header(file)
                .is_ok_and(|(h, _)| declares_key(&h, device.device, &device.public_key))
        });
    if !recorded {
        // Nothing of a candidate key is kept but the held files: gone with the last of them.
        return Ok(DropOutcome {
            device,
            dropped,
            kept,
            forgotten: !declared_still,
        });
    }
    // Held files under another key of the device (a second candidate) do not keep this one.
    let forgotten = !device.own
        && !device.confirmed
        && kept == 0
        && !declared_still
        && !held_files(store)
            .map_err(SyncError::from)?
            .iter()
            .any(|(_, file)| {
                changeset::read_header(file).is_ok_and(|(h, _)| {
                    !h.signers
                        .as_ref()
                        .is_some_and(|s| s.contains_key(&device.device))
                        && h.carried
                            .as_ref()
                            .is_none_or(|c| c.contains_key(&device.device))
                })
            })
        && !store
            .held_ranges()
            .map_err(SyncError::from)?
            .contains_key(&device.device);
    if forgotten {
        let what = format!(
            "不再记着未确认设备“{}”（安全码 {}）的签名密钥",
            device.name, device.fingerprint
        );
        let actor = store.actor().cloned();
        let wall = store.wall_ms();
        let id = device.device;
        store
            .write_local(|conn| {
                conn.execute(
                    "DELETE FROM device_key WHERE device = ?1 AND confirmed = 0",
                    [id.as_bytes().as_slice()],
                )?;
                crate::store::insert_audit(conn, actor.as_ref(), wall, "forget_device", &what, 0)
            })
            .map_err(SyncError::from)?;
    }
    Ok(DropOutcome {
        device,
        dropped,
        kept,
        forgotten,
    })
}

/// The held files in which nothing waits but `device`'s changes (every op of the other devices
/// it carries is held here, with its signatures), and how many others name the device.
fn files_only_of(store: &Store, key: &DeviceKey) -> Result<(Vec<(i64, Header)>, u64), SyncError> {
    let device = key.device;
    let (mut only, mut kept) = (Vec::new(), 0u64);
    let known = known_devices(store)?;
    for (id, file) in held_files(store)? {
        let (header, _) = changeset::read_header(&file)?;
        // Files under another key of the device wait for that key.
        if !declares_key(&header, device, &key.public_key) {
            continue;
        }
        // A file that does not say which ops it carries (written by hand) is never dropped.
        let Some(carried) = &header.carried else {
            kept += 1;
            continue;
        };
        // What the file's source brought of writers no copy has a key for is its own.
        let brought = if device == header.source_device {
            passenger_origins(&header, &known).unwrap_or_default()
        } else {
            HashSet::new()
        };
        let others: changeset::SeqRanges = carried
            .iter()
            .filter(|(origin, _)| **origin != device && !brought.contains(origin))
            .map(|(origin, ranges)| (*origin, ranges.clone()))
            .collect();
        let their_batches: Vec<signing::BatchSig> = header
            .batches
            .iter()
            .flatten()
            .filter(|b| b.origin != device)
            .cloned()
            .collect();
        if store.holds_all(&others)? && !store.lacks_batch_signatures(&their_batches)? {
            only.push((id, header));
        } else {
            kept += 1;
        }
    }
    Ok((only, kept))
}

/// Removes the held files `files` in one transaction with the audit entry saying so; the
/// archive's files they brought (photos, scans kept at the import) go too when no attachment
/// this copy holds and no other held file names them.
fn remove_held(store: &mut Store, files: &[(i64, Header)], what: &str) -> Result<(), SyncError> {
    let actor = store.actor().cloned();
    let wall = store.wall_ms();
    store.write_local(|conn| {
        for (id, _) in files {
            conn.execute("DELETE FROM held_file WHERE id = ?1", [id])?;
        }
        // The files the held files left still bring, read once.
        let mut named_elsewhere = HashSet::new();
        {
            let mut stmt = conn.prepare("SELECT file FROM held_file")?;
            for file in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
                if let Ok((h, _)) = changeset::read_header(&file?) {
                    named_elsewhere.extend(h.blobs.into_iter().flatten().map(|b| b.sha256));
                }
            }
        }
        for (_, header) in files {
            for blob in header.blobs.iter().flatten() {
                if !named_elsewhere.contains(&blob.sha256) {
                    conn.execute(
                        "DELETE FROM blob WHERE sha256 = ?1
                         AND NOT EXISTS (SELECT 1 FROM attachment WHERE sha256 = ?1)",
                        [&blob.sha256],
                    )?;
                }
            }
        }
        crate::store::insert_audit(conn, actor.as_ref(), wall, "drop_held", what, 0)
    })?;
    Ok(())
}

/// Merges what the device with `fingerprint` did outside the village it was confirmed for,
/// kept aside in the held files: a person at the township has checked it with the work team
/// (a household moved long ago and edited since, a neighbour village's household visited).
/// Its village limit stays for later files.
pub fn merge_held_outside(
    store: &mut Store,
    fingerprint_text: &str,
) -> Result<ConfirmOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    let device = device_by_fingerprint(store, fingerprint_text)?;
    let (merged, failed) = import_held_again(store, Some(device.device))?;
    Ok(ConfirmOutcome {
        device,
        merged,
        failed,
        withdrawn: 0,
    })
}

/// Removes the held files whose every op this copy now holds (what waited here arrived by
/// another way: a station's file after its clerk merged it, the hub).
pub(crate) fn prune_held_files(store: &Store) -> Result<(), SyncError> {
    for (id, file) in held_files(store)? {
        let (header, _) = changeset::read_header(&file)?;
        if let Some(carried) = &header.carried
            && store.holds_all(carried)?
            && !store.lacks_batch_signatures(header.batches.as_deref().unwrap_or(&[]))?
        {
            store
                .conn()
                .execute("DELETE FROM held_file WHERE id = ?1", [id])
                .map_err(StoreError::from)?;
        }
    }
    Ok(())
}

/// Reads the held files again once the county vouched for devices' keys (a hub page marks
/// it, [`Store::vouch_device_keys`]): what waited only for those devices' confirmation merges
/// now, without a person's click, and a held file that holds nothing aside any more is
/// removed. The mark stays until a reading went through, so a reading cut short (the window
/// writing, a full disk, the app closed) is done at the next sync. Returns how many ops merged
/// and, for each held file that could not be read again, why (kept).
pub fn read_held_after_vouch(store: &mut Store) -> Result<(u64, Vec<String>), SyncError> {
    let (merged, failed) = read_held_while_marked(store)?;
    Ok((merged.iter().map(|s| s.applied).sum(), failed))
}

/// How many times the held files are read again in a row while readings vouch for more
/// devices (a held file carrying the county's certificate of a device another held file
/// waits for): each reading is of every held file, so two or three settle it.
const HELD_READINGS: usize = 3;

/// [`read_held_after_vouch`], with what each held file read again brought. A reading clears
/// only the mark it began under: a vouch made while it read (by the files it read, or by
/// another program) leaves the mark, and the files are read again, at most
/// [`HELD_READINGS`] times here and the rest at the next import or sync.
fn read_held_while_marked(
    store: &mut Store,
) -> Result<(Vec<ImportSummary>, Vec<String>), SyncError> {
    let mut merged = Vec::new();
    let mut failed = Vec::new();
    let mut backup = None;
    for _ in 0..HELD_READINGS {
        let Some(mark) = store.held_reread_mark()? else {
            break;
        };
        let any: bool = store
            .conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM held_file)", [], |r| r.get(0))
            .map_err(StoreError::from)?;
        if any {
            let (more, why) = import_held_again_after(store, None, &mut backup)?;
            merged.extend(more);
            failed = why;
        }
        store.clear_held_reread_pending(mark)?;
    }
    Ok((merged, failed))
}

/// Imports every held file again (`lifted`: a device whose village is not checked this time);
/// a file that holds nothing aside any more is removed.
fn import_held_again(
    store: &mut Store,
    lifted: Option<Uuid>,
) -> Result<(Vec<ImportSummary>, Vec<String>), SyncError> {
    import_held_again_after(store, lifted, &mut None)
}

/// [`import_held_again`] under the backup `taken` names, taking one first when it names none
/// (readings in a row share one backup: each would push an older one out of the rotation).
fn import_held_again_after(
    store: &mut Store,
    lifted: Option<Uuid>,
    taken: &mut Option<std::path::PathBuf>,
) -> Result<(Vec<ImportSummary>, Vec<String>), SyncError> {
    let mut merged = Vec::new();
    let mut failed = Vec::new();
    let held = held_files(store)?;
    // One backup before the held files merge, for all of them (`exchange`: none per file).
    if !held.is_empty() && taken.is_none() {
        *taken = Some(store.backup("before-import").map_err(SyncError::from)?);
    }
    let backup = taken.clone();
    for (id, file) in held {
        // One held file that cannot be read again (a key the county replaced since) is kept
        // and said; it does not stop the others. Trouble of this machine's, not of the file
        // (the data file, a full disk for the file's spool), stops the reading: it is tried
        // again (the county's mark stays, `read_held_after_vouch`).
        let summary = match import_changeset_inner(
            store,
            &file,
            super::exchange::Reading::Again { lifted },
        ) {
            Ok(summary) => ImportSummary {
                backup: backup.clone(),
                ..summary
            },
            Err(
                e @ (SyncError::Store(_)
                | SyncError::Changeset(crate::sync::changeset::ChangesetError::SpoolFailed)),
            ) => return Err(e),
            Err(e) => {
                failed.push(e.message_zh());
                continue;
            }
        };
        // Held ops are counted as read, whether this copy lacks them or not: a file that still
        // holds any waits.
        if summary.held_ops == 0 && summary.outside_village_ops == 0 {
            store
                .conn()
                .execute("DELETE FROM held_file WHERE id = ?1", [id])
                .map_err(StoreError::from)?;
        }
        merged.push(summary);
    }
    Ok((merged, failed))
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

/// What the hub's county list did at this copy ([`take_county_list`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CountyListTaken {
    /// The county key is believed from now on (this copy's first sync with a hub that has one).
    pub pinned_now: bool,
    /// This copy believes another county key (confirmed by a person, or of another hub):
    /// nothing of the list was taken.
    pub other_key: bool,
    /// Certificates kept.
    pub kept: usize,
    /// Keys of devices this copy knows that the list confirmed.
    pub vouched: u64,
}

/// Takes the county list an enrolled copy fetched from its hub: the county key believed (the
/// first time; a copy never replaces one it believes), this copy's own certificate kept to
/// carry in its files, the county's other certificates kept (the list is whole: those of
/// devices it leaves out go), and the keys of the devices this copy knows confirmed. The
/// held files are marked to be read again when that confirmed a key
/// ([`read_held_after_vouch`]).
pub fn take_county_list(
    store: &Store,
    list: &super::county::CountyList,
) -> Result<CountyListTaken, StoreError> {
    let mut taken = CountyListTaken::default();
    match store.pin_county_key(&list.county_key, "与县同步中心同步时得知")? {
        crate::store::CountyPin::Now => taken.pinned_now = true,
        crate::store::CountyPin::Already => {}
        crate::store::CountyPin::Other(_) => {
            // Offered to a person (the 设备 box, `device list`), who may take it in place of
            // the old one once the county says it changed (`confirm_county_key`, replace).
            taken.other_key = true;
            store.offer_county_key(&list.certs)?;
            return Ok(taken);
        }
    }
    let own = store.device().id;
    for cert in list.certs.iter().filter(|c| c.device == own) {
        store.keep_own_county_cert(cert)?;
    }
    let kept = store.keep_county_certs(&list.certs, Some(list.issued_ms))?;
    taken.kept = kept.len();
    taken.vouched = store.vouch_by_county(&std::collections::BTreeSet::new(), &kept)?;
    Ok(taken)
}

/// A county key the held files carry certificates of, which this copy does not believe yet.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountyCandidate {
    /// Its 安全码, to compare with the one the county gives out.
    pub fingerprint: String,
    /// The devices it certifies, by name.
    pub devices: Vec<String>,
    /// The hub this copy syncs with offered it (a copy believing another key may 改认 to it
    /// in the 设备 box); otherwise files brought it.
    pub from_hub: bool,
}

/// The county keys the held files carry certificates of that this copy does not believe, and
/// those files that merged without waiting brought before it believed one: confirming one
/// ([`confirm_county_key`]) merges what waited for the devices it certified.
pub fn county_candidates(store: &Store) -> Result<Vec<CountyCandidate>, StoreError> {
    let believed = store.county_key()?;
    let held = held_files(store)?;
    let mut found: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (header, _) in with_headers(&held) {
        for cert in header
            .county_certs
            .iter()
            .flatten()
            .take(super::county::MAX_CERTS)
        {
            if believed.as_deref() != Some(cert.county_key.as_str()) && cert.verifies() {
                found
                    .entry(cert.county_key.clone())
                    .or_default()
                    .insert(cert.name.clone());
            }
        }
    }
    // Keys of files that merged without waiting (a station that takes every stick).
    for (key, names) in store.county_keys_seen()? {
        if believed.as_deref() != Some(key.as_str()) {
            found.entry(key).or_default().extend(names);
        }
    }
    let offered = store
        .county_key_offered()?
        .filter(|(key, _)| believed.as_deref() != Some(key.as_str()));
    if let Some((key, names)) = &offered {
        found
            .entry(key.clone())
            .or_default()
            .extend(names.iter().cloned());
    }
    Ok(found
        .into_iter()
        .filter_map(|(key, names)| {
            Some(CountyCandidate {
                fingerprint: super::county::county_fingerprint(&key)?,
                devices: names.into_iter().collect(),
                from_hub: offered.as_ref().is_some_and(|(o, _)| *o == key),
            })
        })
        .collect())
}

/// Whether confirming a county 安全码 may take the place of the one believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// No: a copy believing another key refuses.
    No,
    /// Yes, if the hub this copy syncs with offered it (the 设备 box's 改认).
    OfferedByHub,
    /// Yes, any key the hub or the files brought (`bangfu device confirm-county --replace`,
    /// for a station that never syncs; the person has the county's word).
    Any,
}

/// A device whose confirmation went with the county's old key (改认) and waits for the new
/// key's word.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WithdrawnDevice {
    pub name: String,
    pub fingerprint: String,
    /// Its ops this copy merged before (they stay in the data).
    pub merged_ops: u64,
}

/// What confirming the county's 安全码 did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CountyConfirmOutcome {
    pub fingerprint: String,
    /// It took the place of another county key this copy believed (改认).
    pub replaced: bool,
    /// Device keys only the replaced key had confirmed that wait for the new key's word (its
    /// certificates the held files carry confirmed the others again at once).
    pub withdrawn: u64,
    /// Those devices, each with what it wrote that merged while the old key vouched for it.
    pub waiting: Vec<WithdrawnDevice>,
    /// Device keys the county's certificates confirmed.
    pub vouched: u64,
    /// The held files imported again, with what they brought.
    pub merged: Vec<ImportSummary>,
    /// Held files that could not be imported again, each with why (kept).
    pub failed: Vec<String>,
    /// Ops taken out of the data: a key the certificates confirmed replaced one learnt from
    /// a file, and only that one signed them.
    pub withdrawn_ops: u64,
}

impl CountyConfirmOutcome {
    /// The lines to show.
    pub fn lines_zh(&self) -> Vec<String> {
        let mut out = vec![if self.replaced {
            format!(
                "已改认县同步中心安全码 {}：旧安全码签发的设备证书已作废；本机下次与县同步中心同步时取得新安全码签发的证书。",
                self.fingerprint
            )
        } else {
            format!(
                "已确认县同步中心（安全码 {}）：县里登记过的 {} 台设备随之确认，它们的修改不用再逐台核对。",
                self.fingerprint, self.vouched
            )
        }];
        if self.withdrawn > 0 {
            out.push(format!(
                "旧安全码确认的 {} 台设备改为待确认：它们此后的修改先暂存，取得新安全码签发的证书后自动合并（也可在“设备”里逐台核对确认）。",
                self.withdrawn
            ));
        }
        for d in self.waiting.iter().filter(|d| d.merged_ops > 0) {
            out.push(format!(
                "设备“{}”（安全码 {}）此前已合并的 {} 项修改仍在数据中：县里若不认这台设备，请在相关户的修改记录中按设备核实并更正。",
                d.name, d.fingerprint, d.merged_ops
            ));
        }
        if self.replaced && self.vouched > 0 {
            out.push(format!(
                "新安全码签发的证书随之确认了 {} 台设备。",
                self.vouched
            ));
        }
        if self.withdrawn_ops > 0 {
            out.push(super::exchange::withdrawn_zh(self.withdrawn_ops));
        }
        out.extend(self.merged.iter().map(ImportSummary::message_zh));
        out.extend(
            self.failed
                .iter()
                .map(|why| format!("有一个暂存的同步文件仍不能合并，已保留：{why}")),
        );
        out
    }
}

/// Believes the county key with the 安全码 typed (a person compared it with the one the
/// county gives out), found among the certificates the held files carry or the keys files and
/// the hub offered; keeps those certificates, confirms the keys they certify, and imports the
/// held files again so what waited for those devices merges. A copy believing another county
/// key refuses, unless `replace` (the county announced a new key: its hub was rebuilt).
pub fn confirm_county_key(
    store: &mut Store,
    fingerprint_text: &str,
    replace: Replace,
) -> Result<CountyConfirmOutcome, ConfirmError> {
    store
        .require(crate::access::Permission::TrustDevices)
        .map_err(SyncError::from)?;
    let wanted = signing::fingerprint_digits(fingerprint_text);
    let held = held_files(store).map_err(SyncError::from)?;
    let headers: Vec<Header> = with_headers(&held).into_iter().map(|(h, _)| h).collect();
    let key = headers
        .iter()
        .flat_map(|h| {
            h.county_certs
                .iter()
                .flatten()
                .take(super::county::MAX_CERTS)
        })
        .find(|cert| {
            super::county::county_fingerprint(&cert.county_key)
                .is_some_and(|fp| signing::fingerprint_digits(&fp) == wanted)
                && cert.verifies()
        })
        .map(|cert| cert.county_key.clone())
        .or_else(|| {
            // Or one a file that merged without waiting brought (its certificates come again
            // with the next file), or the hub offered.
            let offered = store
                .county_key_offered()
                .ok()
                .flatten()
                .map(|(key, _)| key);
            let seen = store
                .county_keys_seen()
                .ok()
                .unwrap_or_default()
                .into_keys();
            seen.chain(offered).find(|key| {
                super::county::county_fingerprint(key)
                    .is_some_and(|fp| signing::fingerprint_digits(&fp) == wanted)
            })
        })
        .ok_or_else(|| ConfirmError::UnknownCountyFingerprint(fingerprint_text.to_owned()))?;
    let from_hub = store
        .county_key_offered()
        .map_err(SyncError::from)?
        .is_some_and(|(offered, _)| offered == key);
    let mut replaced = false;
    let mut withdrawn = Vec::new();
    if let crate::store::CountyPin::Other(held) = store
        .pin_county_key(&key, "确认")
        .map_err(SyncError::from)?
    {
        replaced = true;
        // In place of the key believed only as the person says: the hub's offer in the 设备
        // box, any key the files brought only from the command line (`--replace`).
        match replace {
            Replace::Any => {}
            Replace::OfferedByHub if from_hub => {}
            _ => return Err(ConfirmError::OtherCountyKey { held }),
        }
        withdrawn = store.replace_county_key(&key).map_err(SyncError::from)?;
    }
    let mut signers = std::collections::BTreeSet::new();
    let mut kept = std::collections::BTreeSet::new();
    for header in &headers {
        if let Some(certs) = &header.county_certs {
            kept.extend(
                store
                    .keep_county_certs(&certs[..certs.len().min(super::county::MAX_CERTS)], None)
                    .map_err(SyncError::from)?,
            );
        }
        signers.extend(header.signers.iter().flat_map(|s| s.keys().copied()));
    }
    let vouched = store
        .vouch_by_county(&signers, &kept)
        .map_err(SyncError::from)?;
    // Of the devices the old key's word went from, those the new key's certificates did not
    // confirm again just now.
    let mut waiting = Vec::new();
    for k in store.device_keys().map_err(SyncError::from)? {
        if k.confirmed || !withdrawn.contains(&k.device) {
            continue;
        }
        // What it wrote that merged while the old key vouched for it stays in the data.
        let merged_ops: u64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM op WHERE origin = (SELECT idx FROM device WHERE id = ?1)",
                [k.device.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .map_err(|e| SyncError::from(StoreError::from(e)))?;
        waiting.push(WithdrawnDevice {
            name: k.name,
            fingerprint: k.fingerprint,
            merged_ops,
        });
    }
    // A key the certificates put in place of one learnt from a file: what only that one
    // signed leaves the data before the held files bring the device's own ops.
    let withdrawn_ops = store.settle_withdrawn().map_err(SyncError::from)?;
    // Read again as long as the readings vouch for more; once in any case (the person asked).
    let (merged, failed) = if store.held_reread_pending().map_err(SyncError::from)? {
        read_held_while_marked(store)?
    } else {
        import_held_again(store, None)?
    };
    Ok(CountyConfirmOutcome {
        fingerprint: super::county::county_fingerprint(&key).unwrap_or_default(),
        replaced,
        withdrawn: waiting.len() as u64,
        waiting,
        vouched,
        merged,
        failed,
        withdrawn_ops,
    })
}
