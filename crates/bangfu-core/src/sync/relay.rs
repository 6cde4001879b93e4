//! Signatures on the way through the county hub (issue 15). A push carries the signatures of
//! the write batches it holds whole (its pages end at a batch's end); the hub checks and keeps
//! them and hands them on with each page of a scope. A page pulled is checked here before
//! anything of it is applied: a declared key other than the one this copy knows, or a batch
//! that does not verify over its ops, refuses the whole page, so the hub (or whoever stands
//! between) can carry a device's edits but not alter or invent them. The keys the hub hands on
//! count as vouched for by the county: the hub took each from the first signed push of the
//! device enrolled with that identity.
//!
//! A batch a page cuts (its scope: a save touching two villages, a household moved with
//! another's edit; or its size) is checked too: a device signs each batch a second time op by
//! op (`signing::parts_digest`, made as it pushes its own batches), the hub checks and keeps
//! that signature and hands on, with the ops a page carries of the batch, the hashes of those
//! it leaves out (`signing::BatchPart`); the receiver checks the ops it has against them,
//! and keeps the part (`Store::record_parts`) so it relays those ops signed in its files.
//!
//! Ops that no signature of the page covers still apply, as every op from the hub did before
//! signatures travelled there: batches pushed by a version before this one (or before their
//! device's signature op by op), a batch cut with more ops left out than a page states
//! (`MAX_LEFT_OUT` at the hub), or a hub of an earlier version. For those the hub's word is
//! taken (the sync report counts them, `unsigned`): a hub that drops a batch's signatures can
//! still alter or invent ops this way.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

use super::Op;
use super::changeset::Header;
use super::exchange::SyncError;
use super::seal::SealKey;
use super::signing::{self, BatchSig, SignatureError, StreamVerifier};
use crate::store::{Store, StoreError};

/// What a push or a page carries besides its ops: the signing keys (hex, per origin), the
/// batch signatures, and the writers' sealing keys (each signed by its device), so a copy
/// that learnt a device only through the hub can seal files to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signatures {
    pub signers: BTreeMap<Uuid, String>,
    pub batches: Vec<BatchSig>,
    pub seal_keys: BTreeMap<Uuid, SealKey>,
    /// Per signer, the name the hub enrolled its device under (a page's device names).
    pub names: BTreeMap<Uuid, String>,
    /// Per signer, the scope the hub enrolled its device with: a village device's village is
    /// its village limit on every copy the county vouches for it to.
    pub scopes: BTreeMap<Uuid, String>,
    /// The batches a page carries only some ops of, with the hashes of the others.
    pub parts: Vec<signing::BatchPart>,
}

/// The ops of `origin` to push after `after`: about `limit` of them, ending where a write
/// batch ends so the push carries its batches whole (a batch longer than the page is sent
/// whole up to `max` ops; past that its ops go unsigned), with their key and signatures.
pub fn push_page(
    store: &Store,
    origin: Uuid,
    after: i64,
    limit: usize,
    max: usize,
) -> Result<(Vec<Op>, Signatures), StoreError> {
    let mut ops = store.ops_of_origin_after(origin, after, limit)?;
    let (Some(first), Some(last)) = (ops.first().map(|o| o.id.seq), ops.last().map(|o| o.id.seq))
    else {
        return Ok((ops, Default::default()));
    };
    if let Some((batch_first, batch_last)) = store.batch_around(origin, last)?
        && batch_last > last
    {
        if batch_first > first {
            ops.retain(|op| op.id.seq < batch_first);
        } else if batch_first > after && usize::try_from(batch_last - after).is_ok_and(|n| n <= max)
        {
            ops = store.ops_of_origin_after(origin, after, (batch_last - after) as usize)?;
        }
    }
    let (signers, mut batches) = store.signatures_for_export(&mut ops, false)?;
    sign_parts(store, origin, &ops, &signers, &mut batches)?;
    let seal_keys = store
        .seal_key_of(origin)?
        .map(|key| BTreeMap::from([(origin, key)]))
        .unwrap_or_default();
    Ok((
        ops,
        Signatures {
            signers,
            batches,
            seal_keys,
            names: BTreeMap::new(),
            scopes: BTreeMap::new(),
            parts: Vec::new(),
        },
    ))
}

/// Signs each batch of this identity's a push carries a second time, op by op
/// ([`signing::sign_parts`]), so the hub can hand on the part of it a page carries. Made
/// here from the ops as the log holds them (nothing stored: the key never leaves this
/// copy, so signing at push time vouches for exactly what signing at the write would).
/// Batches of an identity this copy wrote under before (another key) go without it.
fn sign_parts(
    store: &Store,
    origin: Uuid,
    ops: &[Op],
    signers: &BTreeMap<Uuid, String>,
    batches: &mut [BatchSig],
) -> Result<(), StoreError> {
    let Some(key) = store.own_signing_key()? else {
        return Ok(());
    };
    if origin != store.device().id
        || signers.get(&origin) != Some(&signing::hex(key.verifying_key().as_bytes()))
    {
        return Ok(());
    }
    for b in batches.iter_mut().filter(|b| b.origin == origin) {
        let of_batch: Vec<Op> = ops
            .iter()
            .filter(|op| op.id.origin == origin && (b.first..=b.last).contains(&op.id.seq))
            .cloned()
            .collect();
        if of_batch.len() as i64 == b.last - b.first + 1 {
            let sig = signing::sign_parts(&key, origin, b.first, b.last, &of_batch);
            b.parts_sig = Some(signing::hex(&sig));
        }
    }
    Ok(())
}

/// Checks a page pulled from the hub before anything of it is applied (see the module). A
/// key the hub hands on that differs from one this copy holds unconfirmed (learnt from a file
/// no person vouched for, perhaps forged) does not stop the page: the county's key replaces
/// it ([`keep_page_signatures`]). One that differs from a key a person confirmed refuses the
/// page: two keys vouched for one device is a matter for the county.
///
/// Returns how many of the page's ops no signature covers (taken on the hub's word).
pub fn check_page(store: &Store, header: &Header, ops: &[Op]) -> Result<u64, SyncError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    for (origin, key) in signers {
        if let Some((known, true, _)) = store.known_device_key(*origin)?
            && signing::unhex(key).as_deref() != Some(known.as_slice())
        {
            return Err(SyncError::Signature(SignatureError::KeyMismatch {
                origin: *origin,
            }));
        }
    }
    let batches = header.batches.as_deref().unwrap_or(&[]);
    let parts = header.parts.as_deref().unwrap_or(&[]);
    if batches.is_empty() && parts.is_empty() {
        return Ok(ops.len() as u64);
    }
    let mut verifier = StreamVerifier::new(signers, batches).map_err(SyncError::Signature)?;
    // A page is in the hub's log order; a batch's ops are checked together, in seq order.
    let mut sorted: Vec<&Op> = ops.iter().collect();
    sorted.sort_by_key(|op| op.id);
    let mut signed = 0u64;
    for op in &sorted {
        if verifier.push(op).map_err(SyncError::Signature)? {
            signed += 1;
        }
    }
    verifier.finish().map_err(SyncError::Signature)?;
    signed += check_parts(signers, batches, parts, &sorted)?;
    // Every declared batch must have been carried (a signature for ops the page lacks
    // vouches for nothing and is not kept either).
    let held: HashSet<(Uuid, i64)> = ops.iter().map(|op| (op.id.origin, op.id.seq)).collect();
    if let Some(b) = batches
        .iter()
        .find(|b| !held.contains(&(b.origin, b.first)))
    {
        return Err(SyncError::Signature(SignatureError::PartialBatch {
            origin: b.origin,
            first: b.first,
            last: b.last,
        }));
    }
    Ok(ops.len() as u64 - signed)
}

/// Checks the batches a page cuts (see the module): each part's ops against its device's
/// signature op by op and the hashes the page carries for the rest. A part that does not
/// hold, that overlaps another part or a whole batch, or whose device the page declares no
/// key for refuses the page. Returns how many ops the parts cover. `sorted`: the page's ops
/// by origin and seq.
fn check_parts(
    signers: &BTreeMap<Uuid, String>,
    batches: &[BatchSig],
    parts: &[signing::BatchPart],
    sorted: &[&Op],
) -> Result<u64, SyncError> {
    let mut covered = 0u64;
    for (i, part) in parts.iter().enumerate() {
        let overlaps = |first: i64, last: i64| part.first <= last && first <= part.last;
        let partial = || {
            SyncError::Signature(SignatureError::PartialBatch {
                origin: part.origin,
                first: part.first,
                last: part.last,
            })
        };
        if batches
            .iter()
            .any(|b| b.origin == part.origin && overlaps(b.first, b.last))
            || parts
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.origin == part.origin && overlaps(o.first, o.last))
        {
            return Err(partial());
        }
        let Some(key) = signers.get(&part.origin) else {
            return Err(SyncError::Signature(SignatureError::MalformedKey {
                origin: part.origin,
            }));
        };
        let start = sorted.partition_point(|op| {
            op.id
                < super::OpId {
                    origin: part.origin,
                    seq: part.first,
                }
        });
        let of_part: Vec<&Op> = sorted[start..]
            .iter()
            .take_while(|op| op.id.origin == part.origin && op.id.seq <= part.last)
            .copied()
            .collect();
        signing::check_part(key, part, &of_part).map_err(SyncError::Signature)?;
        covered += of_part.len() as u64;
    }
    Ok(covered)
}

/// Takes the keys a checked page declares, before its ops are applied: as vouched for by the
/// county (named as the hub enrolled their device, a village device limited to the village of
/// its `scopes`), and the writers' sealing keys (believed only when signed by the device's
/// signing key). A key that replaces one this copy learnt unconfirmed from a file has what
/// only the old one signed taken out of the log by the apply that follows, before the page's
/// ops (they may hold the same ids). Keys the county's word confirmed that this copy had not
/// mark the held files to be read again ([`super::trust::read_held_after_vouch`]).
pub fn take_page_keys(
    store: &mut Store,
    header: &Header,
    scopes: &BTreeMap<Uuid, String>,
) -> Result<(), StoreError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    let names = &header.device_names;
    // Only the keys the county's latest list still certifies are confirmed, once this copy
    // has one (a revoked laptop's older edits come in pages without its being listed).
    let listed = store.listed_by_county(signers)?;
    store.vouch_device_keys(&listed, names, scopes)?;
    // The keys the list leaves out are still the ones that signed these ops: one this copy
    // learnt unconfirmed from a file (a forged stick's, perhaps) gives way to it, unconfirmed,
    // so the signatures kept after the apply stay with the key that made them.
    let unlisted: BTreeMap<Uuid, String> = signers
        .iter()
        .filter(|(device, _)| !listed.contains_key(device))
        .map(|(device, key)| (*device, key.clone()))
        .collect();
    store.replace_unconfirmed_keys(&unlisted)?;
    if let Some(keys) = &header.seal_keys {
        // The county vouched for every key it still lists (recorded just now): sticks are
        // sealed to those devices only.
        store.learn_seal_keys(keys, &listed)?;
    }
    Ok(())
}

/// Keeps a checked page's signatures once its ops are applied (so this copy relays those ops
/// signed, by file or by hub), under the keys [`take_page_keys`] took.
pub fn keep_page_signatures(
    store: &mut Store,
    header: &Header,
    ops: &[Op],
) -> Result<(), StoreError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    let names = &header.device_names;
    let origins: std::collections::HashSet<Uuid> = ops.iter().map(|op| op.id.origin).collect();
    if let Some(batches) = &header.batches {
        store.record_signatures(signers, names, batches, &origins)?;
    }
    // The parts of the batches the page cut, checked (`check_page`): this copy relays the ops
    // it took of them signed.
    if let Some(parts) = &header.parts {
        store.record_parts(parts, &origins)?;
    }
    Ok(())
}
