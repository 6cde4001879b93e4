//! The write batches' signatures on the hub (issue 15), over [`Db`] for both backends. A
//! device pushes, with its ops, the Ed25519 signatures of the write batches they form and its
//! signing key; the hub checks them (server.rs, before storing), keeps them (`batch_sig`) and
//! the key an origin first declared (`signer`: no other key is taken for it later), and hands
//! on with each page the signatures of the batches the page carries whole, so a laptop checks
//! that no one between the writer and itself altered or invented an op, the hub included.
//! A batch a page cuts (by scope or size) goes as a part (`BatchPart`): its device's
//! signature op by op (`parts_sig`, pushed with the batch and checked) and the hashes of the
//! ops the page leaves out, made from the hub's own log. A hash does not show the op: it
//! covers the op's row id, which a copy of another village does not hold.

use std::collections::{BTreeMap, BTreeSet};

use bangfu_core::sync::Op;
use bangfu_core::sync::relay::Signatures;
use bangfu_core::sync::seal::SealKey;
use bangfu_core::sync::signing::{self, BatchPart, BatchSig};
use uuid::Uuid;

use super::StorageError;
use super::sql::{Db, P};

/// The most hashes of left-out ops one part of a page states: a county-wide save that a page
/// cuts down to a few ops of one village would make each of its pages carry thousands of
/// hashes; such a batch's ops go unsigned, on the hub's word, as before.
pub const MAX_LEFT_OUT: usize = 4096;
/// The most hashes of left-out ops one page states over all its parts (about 1.2 MB): past
/// it, the page's further cut batches go unsigned.
pub const MAX_LEFT_OUT_PER_PAGE: usize = 16_384;

/// The signing key (Ed25519, hex) the hub holds for `origin`.
pub fn signer_key(db: &mut dyn Db, origin: Uuid) -> Result<Option<String>, StorageError> {
    db.row(
        "SELECT public_key FROM signer WHERE origin = ?1",
        &[P::uuid(&origin)],
    )?
    .map(|r| r.text(0))
    .transpose()
}

/// Keeps an origin's key (the first declared wins: `ON CONFLICT DO NOTHING`; the server has
/// refused a push declaring another) and its checked batch signatures.
pub fn keep(
    db: &mut dyn Db,
    origin: Uuid,
    key: &str,
    batches: &[BatchSig],
    seal_key: Option<&str>,
) -> Result<(), StorageError> {
    db.exec(
        "INSERT INTO signer (origin, public_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &[P::uuid(&origin), P::Text(key)],
    )?;
    if let Some(seal_key) = seal_key {
        db.exec(
            "UPDATE signer SET seal_key = ?3 WHERE origin = ?1 AND public_key = ?2",
            &[P::uuid(&origin), P::Text(key), P::Text(seal_key)],
        )?;
    }
    for b in batches.iter().filter(|b| b.origin == origin) {
        db.exec(
            // A batch first stored without its writer's name (pushed through a hub process of
            // an earlier version) takes the name when the same batch comes again with it; one
            // stored without its signature op by op (pushed by an earlier version) takes that
            // (checked by the server as the push came) the same way. Neither is ever replaced.
            "INSERT INTO batch_sig (origin, first_seq, last_seq, sig, author, author_sig, parts_sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (origin, first_seq) DO UPDATE
                 SET author = CASE WHEN batch_sig.author IS NULL AND excluded.author IS NOT NULL
                                   THEN excluded.author ELSE batch_sig.author END,
                     author_sig = CASE WHEN batch_sig.author IS NULL AND excluded.author IS NOT NULL
                                       THEN excluded.author_sig ELSE batch_sig.author_sig END,
                     parts_sig = COALESCE(batch_sig.parts_sig, excluded.parts_sig)
                 WHERE batch_sig.sig = excluded.sig AND batch_sig.last_seq = excluded.last_seq
                   AND ((batch_sig.author IS NULL AND excluded.author IS NOT NULL)
                        OR (batch_sig.parts_sig IS NULL AND excluded.parts_sig IS NOT NULL))",
            &[
                P::uuid(&origin),
                P::Int(b.first),
                P::Int(b.last),
                P::Text(&b.sig),
                b.by.as_deref().map_or(P::Null, P::Text),
                b.by_sig.as_deref().map_or(P::Null, P::Text),
                b.parts_sig.as_deref().map_or(P::Null, P::Text),
            ],
        )?;
    }
    Ok(())
}

/// The keys and batch signatures for a page: the batches whose every op the page carries,
/// and the parts of those it cuts (by scope or by its size) whose device signed them op by op
/// (batches pushed by an older version go unsigned, as before); and the sealing key of every
/// writer the page carries ops of.
pub fn for_page(db: &mut dyn Db, ops: &[Op]) -> Result<Signatures, StorageError> {
    let mut seqs: BTreeMap<Uuid, BTreeSet<i64>> = BTreeMap::new();
    for op in ops {
        seqs.entry(op.id.origin).or_default().insert(op.id.seq);
    }
    let mut signers = BTreeMap::new();
    let mut batches = Vec::new();
    let mut seal_keys = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut scopes = BTreeMap::new();
    let mut parts = Vec::new();
    let mut budget = MAX_LEFT_OUT_PER_PAGE;
    for (origin, held) in &seqs {
        let (Some(&low), Some(&high)) = (held.first(), held.last()) else {
            continue;
        };
        let Some(row) = db.row(
            "SELECT public_key, seal_key FROM signer WHERE origin = ?1",
            &[P::uuid(origin)],
        )?
        else {
            continue;
        };
        let key = row.text(0)?;
        // A sealing key that does not parse is left out; receivers check its signature.
        if let Some(seal) = row
            .opt_text(1)?
            .and_then(|text| serde_json::from_str::<SealKey>(&text).ok())
        {
            seal_keys.insert(*origin, seal);
        }
        let rows = db.rows(
            "SELECT first_seq, last_seq, sig, author, author_sig, parts_sig FROM batch_sig
             WHERE origin = ?1 AND first_seq <= ?3 AND last_seq >= ?2 ORDER BY first_seq",
            &[P::uuid(origin), P::Int(low), P::Int(high)],
        )?;
        let before = batches.len();
        let before_parts = parts.len();
        let mut candidates: Vec<BatchSig> = Vec::new();
        let mut cut: Vec<(i64, i64, String)> = Vec::new();
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for r in rows {
            let (first, last) = (r.int(0)?, r.int(1)?);
            ranges.push((first, last));
            let whole = first >= low
                && last <= high
                && held.range(first..=last).count() as i64 == last - first + 1;
            if whole {
                candidates.push(BatchSig {
                    origin: *origin,
                    first,
                    last,
                    sig: r.text(2)?,
                    by: r.opt_text(3)?,
                    by_sig: r.opt_text(4)?,
                    parts_sig: None,
                });
            } else if let Some(parts_sig) = r.opt_text(5)? {
                cut.push((first, last, parts_sig));
            }
        }
        for (first, last, sig) in cut {
            // Overlapping batches (seqs written twice) vouch for nothing: neither goes.
            let overlapping = ranges
                .iter()
                .filter(|(f, l)| *f <= last && first <= *l)
                .count();
            if overlapping == 1
                && let Some(part) = part_of(db, *origin, first, last, sig, held, budget)?
            {
                budget -= part.left_out.len();
                parts.push(part);
            }
        }
        // Batches that overlap (seqs an origin wrote twice, after a restored file) vouch for
        // nothing a receiver could check: neither goes.
        for (i, b) in candidates.iter().enumerate() {
            let overlaps = candidates
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.first <= b.last && b.first <= o.last);
            if !overlaps {
                batches.push(b.clone());
            }
        }
        if batches.len() > before || parts.len() > before_parts {
            signers.insert(*origin, key);
            // Under the enrolment that pushes the origin now (the newest of the laptop's
            // lineage, revoked or not: a page carries only what the hub stored), so a laptop
            // enrolled again for another village is limited to that one.
            if let Some(device) = db.row(
                "SELECT d.name, d.scope FROM origin o JOIN device d ON d.id = (
                     SELECT max(x.id) FROM device x
                     WHERE x.id = o.device
                        OR x.id IN (SELECT l.device FROM device_lineage l WHERE l.earlier = o.device))
                 WHERE o.origin = ?1",
                &[P::uuid(origin)],
            )? {
                names.insert(*origin, device.text(0)?);
                scopes.insert(*origin, device.text(1)?);
            }
        }
    }
    Ok(Signatures {
        signers,
        batches,
        seal_keys,
        names,
        scopes,
        parts,
    })
}

/// The part of batch `first..=last` of `origin` a page carries the ops `held` of: the hashes
/// of the others, made from the hub's log. `None` when the page carries none of its ops, when
/// it leaves out more than [`MAX_LEFT_OUT`] (or than the page's `budget` left), or when the
/// hub does not store one of them (held aside): then the page's ops of it go unsigned, as
/// before.
fn part_of(
    db: &mut dyn Db,
    origin: Uuid,
    first: i64,
    last: i64,
    sig: String,
    held: &BTreeSet<i64>,
    budget: usize,
) -> Result<Option<BatchPart>, StorageError> {
    let carried = held.range(first..=last).count() as i64;
    let left = last - first + 1 - carried;
    if carried == 0 || left < 1 || left > MAX_LEFT_OUT.min(budget) as i64 {
        return Ok(None);
    }
    let rows = db.rows(
        "SELECT origin, seq, hlc, tbl, row, field, val, preds, seen FROM op
         WHERE origin = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq",
        &[P::uuid(&origin), P::Int(first), P::Int(last)],
    )?;
    let mut left_out = Vec::with_capacity(left as usize);
    for r in &rows {
        let seq = r.int(1)?;
        if !held.contains(&seq) {
            let op = super::logic::op_of(&*db, r, 0)?;
            left_out.push((seq, signing::hex(&signing::op_hash(&op))));
        }
    }
    if left_out.len() as i64 != left {
        return Ok(None);
    }
    Ok(Some(BatchPart {
        origin,
        first,
        last,
        sig,
        left_out,
    }))
}
