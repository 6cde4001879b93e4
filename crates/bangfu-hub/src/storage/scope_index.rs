//! The hub's scope index: which villages each row belongs to NOW, learnt from the ops
//! themselves, and the filing of every op into the feed of each village it belongs to.
//!
//! Each op that sets a parent (a household's or work team member's `village_id`,
//! `household_id`, a pairing's or visit's `helper_id`) is a link; a link stops counting once
//! a later op of the same field names it as a predecessor (the field's heads decide, as on
//! the laptops). A row's villages are derived
//! from its live links: a household follows its current village, its members, incomes, visits
//! follow it. When a row's villages change, the row and its children are recomputed: a village
//! it joins receives its whole history, a village it leaves is remembered for a while (an edit
//! made there before the move was learnt is still accepted) and receives the move op itself.
//! A helper named by a pairing or visit is shared into that row's villages; a shared scope
//! carries only helper ops and never cascades, so naming a foreign household as a "helper"
//! reveals nothing. The county's settings (`scope::reach_of`: 脱贫标准) belong to no village: each
//! such op is filed into every village of its pusher's county, and into a village learnt later.

use std::collections::{BTreeSet, HashMap, VecDeque};

use bangfu_core::model::{FieldValue, Table, household_ref_field, village_ref_field};
use bangfu_core::sync::Op;
use uuid::Uuid;

use super::StorageError;
use super::push_batch::RowCache;
use super::sql::{Db, INSERT_LINK, NewOp, P};

use crate::scope::{Reach, Scope, is_village_code, may_set_county_rows, reach_of};

/// How long a village a row left still counts as the row's for pushes (90 days): a laptop
/// that edited the row before it learnt of the move gets its edit through.
pub const FORMER_SCOPE_MS: i64 = 90 * 24 * 3600 * 1000;

/// Recomputations of one row in one change, at most: the index is a graph written by devices
/// and a cycle of parents must not loop.
const MAX_VISITS: u32 = 8;

/// A row's villages, split by how they were learnt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RowVillages {
    /// Through the row's own village or household.
    pub own: BTreeSet<String>,
    /// Only through a helper reference.
    pub shared: BTreeSet<String>,
}

/// A parent-setting op: the parent it names (none when cleared) and whether it shares a helper.
struct Link {
    /// (child, parent, shared) when the op names a parent.
    edge: Option<(Uuid, Uuid, bool)>,
}

fn link_of(op: &Op) -> Option<Link> {
    let table = Table::from_code(op.table)?;
    let target = match &op.value {
        FieldValue::Bytes(bytes) => Uuid::from_slice(bytes).ok(),
        _ => None,
    };
    let edge = match (table, op.field.as_str()) {
        // A household and a work team member (驻村工作队) name their village directly.
        (t, f) if village_ref_field(t) == Some(f) => target.map(|t| (op.row, t, false)),
        (Table::Pairing | Table::Visit, "helper_id") => target.map(|t| (t, op.row, true)),
        (t, f) if household_ref_field(t) == Some(f) => target.map(|t| (op.row, t, false)),
        _ => return None,
    };
    Some(Link { edge })
}

/// A village row's own code, which roots the index.
fn village_code_of(op: &Op) -> Option<&str> {
    match (&op.value, Table::from_code(op.table), op.field.as_str()) {
        (FieldValue::Text(code), Some(Table::Village), "code") if is_village_code(code) => {
            Some(code)
        }
        _ => None,
    }
}

pub fn row_villages(db: &mut dyn Db, row: Uuid) -> Result<RowVillages, StorageError> {
    db.touch(&[row]);
    let mut out = RowVillages::default();
    for r in db.rows(
        "SELECT village, shared FROM row_scope WHERE row = ?1",
        &[P::uuid(&row)],
    )? {
        let (village, shared) = (r.text(0)?, r.bool(1)?);
        if shared {
            out.shared.insert(village);
        } else {
            out.own.insert(village);
        }
    }
    Ok(out)
}

/// Why an op is held instead of stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub detail: String,
}

/// What [`admit`] found: whether the op's row has a known scope (the op then follows its row
/// anywhere later; otherwise it will go only inside the pusher's scope), and the row's current
/// villages (handed on to [`store_op`] so they are read once).
#[derive(Debug)]
pub struct Admitted {
    pub known: bool,
    pub villages: RowVillages,
}

/// The held reason of an op pushed outside its device's scope: held, not refused for good
/// (`logic::readmit_held` takes it when a move brings its row into the scope).
pub const OUTSIDE_SCOPE: &str = "outside_scope";

/// Whether a device of `scope` may push `op`, decided before it is stored.
///
/// A row that is, or was in the last [`FORMER_SCOPE_MS`], in one of the scope's villages may
/// be edited, and moved out; a new row may be put only under a parent of the scope; a shared
/// helper only by a scope that names it.
pub fn admit(
    db: &mut dyn Db,
    cache: &mut RowCache,
    scope: &Scope,
    op: &Op,
) -> Result<Result<Admitted, Refusal>, StorageError> {
    let outside = |what: &str| Refusal {
        reason: OUTSIDE_SCOPE,
        detail: format!(
            "op {}/{} on {} row {}: {what}",
            op.id.origin,
            op.id.seq,
            Table::from_code(op.table).map_or("?", Table::label),
            op.row
        ),
    };
    if reach_of(op.table) == Reach::County {
        // The county's settings: set by a county or township device, for its whole county.
        if !may_set_county_rows(scope) {
            return Ok(Err(outside(
                "the county's settings, set by the county or a township",
            )));
        }
        return Ok(Ok(Admitted {
            known: false,
            villages: RowVillages::default(),
        }));
    }
    let current = cache.villages(db, op.row)?;
    let helper = op.table == Table::Helper.code();
    let now_in = if helper {
        any_in(scope, current.own.iter().chain(&current.shared))
    } else {
        any_in(scope, &current.own)
    };
    // Only a row outside the scope now needs the villages it left.
    let former = if now_in {
        BTreeSet::new()
    } else {
        cache.former(db, op.row)?
    };
    let admitted = |known: bool, villages: RowVillages| Ok(Ok(Admitted { known, villages }));
    if helper {
        let known = !(current.own.is_empty() && current.shared.is_empty() && former.is_empty());
        if known && !now_in && !any_in(scope, &former) {
            return Ok(Err(outside("a helper no village of the scope names")));
        }
        return admitted(known, current);
    }
    let known = !(current.own.is_empty() && former.is_empty());
    if known && !now_in && !any_in(scope, &former) {
        return Ok(Err(outside("the row belongs to another village")));
    }
    if let Some(code) = village_code_of(op) {
        if !scope.contains(code) {
            return Ok(Err(outside("a village code outside the scope")));
        }
        return admitted(true, current);
    }
    if !known
        && let Some(Link {
            edge: Some((child, parent, false)),
        }) = link_of(op)
        && child == op.row
    {
        let target = cache.villages(db, parent)?.own;
        if target.is_empty() {
            return admitted(false, current);
        }
        if !any_in(scope, &target) {
            return Ok(Err(outside("a new row under another village's parent")));
        }
        return admitted(true, current);
    }
    admitted(known, current)
}

fn any_in<'a>(scope: &Scope, villages: impl IntoIterator<Item = &'a String>) -> bool {
    villages.into_iter().any(|v| scope.contains(v))
}

/// Whether storing `op` only files it into its row's villages: it sets no parent, names no
/// village code and is no county-wide setting, so it changes nothing in the index and can be
/// stored in a batch with others (`push_batch`).
pub fn is_plain(op: &Op) -> bool {
    reach_of(op.table) == Reach::Village
        && link_of(op).is_none()
        && village_code_of(op).is_none()
        // An op naming an archive file goes through `store_op`, which notes the reference
        // (`blobs::note_ref`) that lets its file be stored and served.
        && !super::blobs::names_a_file(op)
}

/// The parent an op sets for its own row (a household's village, a member's household …),
/// when it is a link that can file its row into new villages: not a helper share, no village
/// code, no county-wide setting, no archive file. `None` for every other op.
pub fn own_parent(op: &Op) -> Option<Uuid> {
    if reach_of(op.table) != Reach::Village
        || village_code_of(op).is_some()
        || super::blobs::names_a_file(op)
    {
        return None;
    }
    match link_of(op)?.edge? {
        (child, parent, false) if child == op.row && parent != op.row => Some(parent),
        _ => None,
    }
}

/// The helper an op shares into its row's villages (a pairing's or visit's `helper_id`), under
/// the same conditions as [`own_parent`].
pub fn shared_helper(op: &Op) -> Option<Uuid> {
    if reach_of(op.table) != Reach::Village
        || village_code_of(op).is_some()
        || super::blobs::names_a_file(op)
    {
        return None;
    }
    match link_of(op)?.edge? {
        (child, parent, true) if parent == op.row && child != op.row => Some(child),
        _ => None,
    }
}

/// Stores one op (once) and files it wherever its row is known (`before`: the row's villages,
/// as [`admit`] read them). `pending` is the pusher's scope when the row's scope is not known
/// yet: until then the op may go only inside it. Returns the rows whose villages changed (an
/// op already stored changes nothing).
pub fn store_op(
    db: &mut dyn Db,
    op: &Op,
    pending: Option<&Scope>,
    now_ms: i64,
    before: RowVillages,
) -> Result<Vec<Uuid>, StorageError> {
    let pending = pending_of(op, pending);
    let Some(key) = db.insert_ops(&[NewOp::new(op, pending)])?.pop().flatten() else {
        return Ok(Vec::new());
    };
    db.insert_superseded(&op.preds)?;
    let changed = index_op(db, op, key, pending, now_ms, Some(before))?;
    super::blobs::note_ref(db, op)?;
    Ok(changed)
}

/// The scope an op is kept inside until its row's scope is known; a county-wide row's is its
/// pusher's county, for good.
pub fn pending_of<'a>(op: &Op, pending: Option<&'a Scope>) -> Option<&'a str> {
    match reach_of(op.table) {
        Reach::County => pending.map(Scope::county),
        Reach::Village => pending.map(Scope::as_str),
    }
}

/// The `hub_meta` mark an upgrade leaves when this version scopes a table an earlier one did
/// not know (SQLite schema 7, PostgreSQL migration 7: 驻村工作队).
const REINDEX_TEAM_MEMBER: &str = "reindex_team_member";

/// The same for the county's settings (SQLite schema 9, PostgreSQL migration 10: 县级设置).
const REINDEX_COUNTY_SETTING: &str = "reindex_county_setting";

/// Whether the `hub_meta` mark is set.
fn marked(db: &mut dyn Db, mark: &str) -> Result<bool, StorageError> {
    Ok(!db
        .rows(
            "SELECT value FROM hub_meta WHERE key = ?1",
            &[P::Text(mark)],
        )?
        .is_empty())
}

/// Indexes the ops of tables an earlier version of the hub stored without knowing them. Such a
/// version sees no link in them, so it keeps them under the pusher's scope and files them into
/// no village: nothing leaks, and nothing is delivered. Here each `village_id` op of a work
/// team member is indexed in arrival order, which files all of its row's ops into the
/// village it names (within the pusher's scope, as for any op pushed before its row's scope
/// was known); and each 县级设置 op a county or township device pushed is filed into every
/// village of its county, as it is now pushed (one a village device pushed stays unfiled: this
/// version holds such an op aside, `may_set_county_rows`). Runs once per mark, at the first
/// open after the upgrade; returns the ops indexed.
pub fn index_learnt_tables(db: &mut dyn Db) -> Result<usize, StorageError> {
    let mut indexed = 0;
    let now = super::logic::now_ms();
    if marked(db, REINDEX_TEAM_MEMBER)? {
        let rows = db.rows(
            "SELECT key, origin, seq, hlc, tbl, row, field, val, preds, seen, pending_scope
             FROM op WHERE tbl = ?1 AND field = 'village_id' ORDER BY key",
            &[P::Int(Table::TeamMember.code())],
        )?;
        for r in &rows {
            let (key, pending) = (r.int(0)?, r.opt_text(10)?);
            let op = super::logic::op_of(&*db, r, 1)?;
            index_op(db, &op, key, pending.as_deref(), now, None)?;
        }
        db.exec(
            "DELETE FROM hub_meta WHERE key = ?1",
            &[P::Text(REINDEX_TEAM_MEMBER)],
        )?;
        indexed += rows.len();
    }
    if marked(db, REINDEX_COUNTY_SETTING)? {
        let rows = db.rows(
            "SELECT key, pending_scope FROM op WHERE tbl = ?1 ORDER BY key",
            &[P::Int(Table::CountySetting.code())],
        )?;
        for r in &rows {
            let key = r.int(0)?;
            let Some(scope) = r.opt_text(1)?.as_deref().and_then(Scope::parse) else {
                continue;
            };
            if !may_set_county_rows(&scope) {
                continue;
            }
            let county = scope.county().to_owned();
            // Kept under its county from now on, so villages learnt later get it too.
            db.exec(
                "UPDATE op SET pending_scope = ?1 WHERE key = ?2",
                &[P::Text(&county), P::Int(key)],
            )?;
            file_county_wide(db, key, Table::CountySetting.code(), &county)?;
            indexed += 1;
        }
        db.exec(
            "DELETE FROM hub_meta WHERE key = ?1",
            &[P::Text(REINDEX_COUNTY_SETTING)],
        )?;
    }
    Ok(indexed)
}

/// Files a county-wide op into every village of its county the hub knows.
fn file_county_wide(
    db: &mut dyn Db,
    key: i64,
    table: i64,
    county: &str,
) -> Result<(), StorageError> {
    let villages = db.rows(
        "SELECT DISTINCT code FROM village_row WHERE substr(code, 1, 6) = ?1",
        &[P::Text(county)],
    )?;
    for village in villages {
        file(db, key, table, Some(county), &village.text(0)?, false)?;
    }
    Ok(())
}

/// Files the county-wide ops of a village's county into a village the hub just learnt of
/// (those already in its feed are left as they are).
fn file_county_wide_into(db: &mut dyn Db, village: &str) -> Result<(), StorageError> {
    let Some(county) = village.get(..6) else {
        return Ok(());
    };
    for table in Table::ALL
        .into_iter()
        .filter(|t| reach_of(t.code()) == Reach::County)
    {
        let keys = db.rows(
            "SELECT key FROM op WHERE tbl = ?1 AND pending_scope = ?2
               AND key NOT IN (SELECT op FROM feed WHERE village = ?3)",
            &[P::Int(table.code()), P::Text(county), P::Text(village)],
        )?;
        for key in keys {
            file(db, key.int(0)?, table.code(), Some(county), village, false)?;
        }
    }
    Ok(())
}

/// Files a stored op into its row's villages (`before`, read here when not given) and applies
/// what it says about parents. Returns the rows whose villages changed.
pub fn index_op(
    db: &mut dyn Db,
    op: &Op,
    key: i64,
    pending: Option<&str>,
    now_ms: i64,
    before: Option<RowVillages>,
) -> Result<Vec<Uuid>, StorageError> {
    if reach_of(op.table) == Reach::County {
        if let Some(county) = pending {
            file_county_wide(db, key, op.table, county)?;
        }
        return Ok(Vec::new());
    }
    let before = match before {
        Some(before) => before,
        None => row_villages(db, op.row)?,
    };
    for village in &before.own {
        file(db, key, op.table, pending, village, false)?;
    }
    for village in &before.shared {
        file(db, key, op.table, pending, village, true)?;
    }
    let mut changed: Vec<Uuid> = Vec::new();
    let link = link_of(op);
    if let Some(link) = &link {
        changed.extend(apply_link(db, op, link)?);
    }
    if let Some(code) = village_code_of(op) {
        db.exec(
            "INSERT INTO village_row (row, code, hlc) VALUES (?1, ?2, ?3)
             ON CONFLICT (row) DO UPDATE SET code = excluded.code, hlc = excluded.hlc
             WHERE excluded.hlc >= village_row.hlc",
            &[P::uuid(&op.row), P::Text(code), P::Int(op.hlc.to_i64())],
        )?;
        changed.push(op.row);
        file_county_wide_into(db, code)?;
    }
    let changed = refresh(db, changed, now_ms)?;
    // A move also goes to the villages the row leaves: their copies learn it moved out.
    if link.is_some_and(|l| !matches!(l.edge, Some((_, _, true)))) {
        for village in &before.own {
            file(db, key, op.table, None, village, false)?;
        }
    }
    Ok(changed)
}

/// Records a link op: the links it names as predecessors stop counting, and it counts itself
/// unless a stored op already names it. Returns the rows whose parents changed.
fn apply_link(db: &mut dyn Db, op: &Op, link: &Link) -> Result<Vec<Uuid>, StorageError> {
    let row = P::uuid(&op.row);
    let field = P::Text(&op.field);
    let mut changed = Vec::new();
    for pred in &op.preds {
        let params = [P::uuid(&pred.origin), P::Int(pred.seq), row, field];
        db.exec(
            "INSERT INTO link_pred (origin, seq, row, field) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            &params,
        )?;
        let child = db.row(
            "UPDATE link SET live = 0 WHERE origin = ?1 AND seq = ?2 AND row = ?3
             AND field = ?4 AND live = 1 RETURNING child",
            &params,
        )?;
        if let Some(child) = child.and_then(|c| c.uuid(0).ok()) {
            changed.push(child);
        }
    }
    if let Some((child, parent, shared)) = link.edge {
        db.touch(&[child, parent]);
        db.exec(
            INSERT_LINK,
            &[
                P::uuid(&op.id.origin),
                P::Int(op.id.seq),
                row,
                field,
                P::uuid(&child),
                P::uuid(&parent),
                P::Bool(shared),
            ],
        )?;
        changed.push(child);
    }
    Ok(changed)
}

/// A row's villages as its village code and live links say now.
fn compute(db: &mut dyn Db, row: Uuid) -> Result<RowVillages, StorageError> {
    let mut out = RowVillages::default();
    // Its own village code, and the own villages of each live parent: one query.
    for r in db.rows(
        "SELECT code, 0 FROM village_row WHERE row = ?1
         UNION ALL
         SELECT s.village, l.shared FROM link l
             JOIN row_scope s ON s.row = l.parent AND s.shared = 0
         WHERE l.child = ?1 AND l.live = 1",
        &[P::uuid(&row)],
    )? {
        let village = r.text(0)?;
        if r.bool(1)? {
            out.shared.insert(village);
        } else {
            out.own.insert(village);
        }
    }
    Ok(out)
}

/// Recomputes the villages of `rows` and, where they changed, of their children: files the
/// rows' ops into villages they joined and remembers the villages they left. Returns the rows
/// whose villages changed (the only rows whose `row_scope` and `row_left` it wrote).
fn refresh(db: &mut dyn Db, rows: Vec<Uuid>, now_ms: i64) -> Result<Vec<Uuid>, StorageError> {
    let mut changed = Vec::new();
    let mut work: VecDeque<Uuid> = rows.into();
    let mut visits: HashMap<Uuid, u32> = HashMap::new();
    while let Some(row) = work.pop_front() {
        let seen = visits.entry(row).or_default();
        *seen += 1;
        if *seen > MAX_VISITS {
            continue;
        }
        let old = row_villages(db, row)?;
        let new = compute(db, row)?;
        if old == new {
            continue;
        }
        changed.push(row);
        let key = P::uuid(&row);
        db.exec("DELETE FROM row_scope WHERE row = ?1", &[key])?;
        for (list, shared) in [(&new.own, false), (&new.shared, true)] {
            for village in list {
                db.exec(
                    "INSERT INTO row_scope (row, village, shared) VALUES (?1, ?2, ?3)",
                    &[key, P::Text(village), P::Bool(shared)],
                )?;
                db.exec(
                    "DELETE FROM row_left WHERE row = ?1 AND village = ?2",
                    &[key, P::Text(village)],
                )?;
            }
        }
        for village in old.own.difference(&new.own) {
            db.exec(
                "INSERT INTO row_left (row, village, left_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (row, village) DO UPDATE SET left_ms = excluded.left_ms",
                &[key, P::Text(village), P::Int(now_ms)],
            )?;
        }
        let joined: Vec<(&String, bool)> = new
            .own
            .difference(&old.own)
            .map(|v| (v, false))
            .chain(new.shared.difference(&old.shared).map(|v| (v, true)))
            .collect();
        if !joined.is_empty() {
            let ops = db.rows(
                "SELECT key, tbl, pending_scope FROM op WHERE row = ?1 ORDER BY key",
                &[key],
            )?;
            for r in &ops {
                let (op, table, pending) = (r.int(0)?, r.int(1)?, r.opt_text(2)?);
                for (village, shared) in &joined {
                    file(db, op, table, pending.as_deref(), village, *shared)?;
                }
            }
        }
        if old.own != new.own {
            let children = db.rows(
                "SELECT DISTINCT child FROM link WHERE parent = ?1 AND live = 1",
                &[key],
            )?;
            work.extend(children.iter().filter_map(|c| c.uuid(0).ok()));
        }
    }
    Ok(changed)
}

/// Appends one op to a village's feed, unless the rules keep it out: a shared scope carries
/// helper ops only, and an op pushed before its scope was known goes only inside its
/// pusher's scope.
pub fn file(
    db: &mut dyn Db,
    op: i64,
    table: i64,
    pending: Option<&str>,
    village: &str,
    shared: bool,
) -> Result<(), StorageError> {
    let helper = table == Table::Helper.code();
    if shared && !helper {
        return Ok(());
    }
    if pending.is_some_and(|p| !village.starts_with(p)) && !helper {
        return Ok(());
    }
    if !is_village_code(village) {
        return Ok(());
    }
    db.append_feed(village, op)
}
