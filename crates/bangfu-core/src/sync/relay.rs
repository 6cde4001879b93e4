//! Signatures on the way through the county hub (issue 15). A push carries the signatures of
//! the write batches it holds whole (its pages end at a batch's end); the hub checks and keeps
//! them and hands them on with each page of a scope. A page pulled is checked here before
//! anything of it is applied: a declared key other than the one this copy knows, or a batch
//! that does not verify over its ops, refuses the whole page, so the hub (or whoever stands
//! between) can carry a device's edits but not alter or invent them. The keys the hub hands on
//! count as vouched for by the county: the hub took each from the first signed push of the
//! device enrolled with that identity.
//!
//! Ops that no batch of the page covers still apply, as every op from the hub did before
//! signatures travelled there: a batch cut by the page's scope or size (a household moved
//! between villages, a county-wide step), or ops pushed by a version before this one. For
//! those the hub's word is taken: a hub that drops a batch's signature can still alter or
//! invent ops this way. Closing that needs per-op hashes in the signed batch (so a page cut
//! by scope can still be checked) and pages that end at batch ends; not built.

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
    let (signers, batches) = store.signatures_for_export(&mut ops, false)?;
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
        },
    ))
}

/// Checks a page pulled from the hub before anything of it is applied (see the module). A
/// key the hub hands on that differs from one this copy holds unconfirmed (learnt from a file
/// no person vouched for, perhaps forged) does not stop the page: the county's key replaces
/// it ([`keep_page_signatures`]). One that differs from a key a person confirmed refuses the
/// page: two keys vouched for one device is a matter for the county.
pub fn check_page(store: &Store, header: &Header, ops: &[Op]) -> Result<(), SyncError> {
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
    if batches.is_empty() {
        return Ok(());
    }
    let mut verifier = StreamVerifier::new(signers, batches).map_err(SyncError::Signature)?;
    // A page is in the hub's log order; a batch's ops are checked together, in seq order.
    let mut sorted: Vec<&Op> = ops.iter().collect();
    sorted.sort_by_key(|op| op.id);
    for op in sorted {
        verifier.push(op).map_err(SyncError::Signature)?;
    }
    verifier.finish().map_err(SyncError::Signature)?;
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
    Ok(())
}

/// Keeps a checked page's signatures once its ops are applied (so this copy relays those ops
/// signed, by file or by hub), the keys it declares as vouched for by the county (named as
/// the hub enrolled their device, a village device limited to the village of its `scopes`),
/// and the writers' sealing keys (believed only when signed by the device's signing key).
pub fn keep_page_signatures(
    store: &mut Store,
    header: &Header,
    ops: &[Op],
    scopes: &BTreeMap<Uuid, String>,
) -> Result<(), StoreError> {
    let empty = BTreeMap::new();
    let signers = header.signers.as_ref().unwrap_or(&empty);
    let names = &header.device_names;
    // First: the county's keys recorded (one learnt unconfirmed replaced) before anything is
    // recorded under them.
    store.vouch_device_keys(signers, names, scopes)?;
    if let Some(keys) = &header.seal_keys {
        // The county vouched for every key the page declares (recorded just now).
        store.learn_seal_keys(keys, signers)?;
    }
    if let Some(batches) = &header.batches {
        let origins: std::collections::HashSet<Uuid> = ops.iter().map(|op| op.id.origin).collect();
        store.record_signatures(signers, names, batches, &origins)?;
    }
    Ok(())
}
