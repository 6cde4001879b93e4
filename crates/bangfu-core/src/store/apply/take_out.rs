//! Taking ops out of the log: the ops this copy took under a device key that gave way to
//! another (`withdraw_pending`, listed by `device_keys::withdraw_batches`). A device has one
//! key for ever, so they are not that device's, and they hold op ids its real ops need.
//!
//! Every row they touched is made what it would be had they never arrived: its heads are
//! worked out again from its ops that stay (an op is a head unless a present op names it as a
//! predecessor), and it is materialized, reviewed and its heads stored like any row an apply
//! touched; a row only they made is removed with its search entry. An id only they named
//! leaves `superseded`; one a staying op names (an edit made over a taken-out value) is
//! pending there with the row and field that named it, as at every copy that never held the
//! taken-out op: the device's real op of that id, of another row or field, still becomes a
//! head. The ops are kept in `withdrawn_op`, and their device's
//! version vector comes down to what the log still holds, so its real ops are asked for and
//! merge.

use super::*;

/// What a take-out withdrew of one device, under one key that gave way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Withdrawn {
    pub device: Uuid,
    /// The key that gave way (it signed the ops taken out).
    pub key: Vec<u8>,
    pub ops: u64,
    /// Rows the ops touched.
    pub rows: u64,
}

/// One op of the log as working out a row's heads needs it.
struct Logged {
    origin: i64,
    seq: i64,
    hlc: i64,
    field: i64,
    value: FieldValue,
    preds: Vec<(i64, i64)>,
    seen: Vec<(i64, i64)>,
}

fn row_id(bytes: &[u8]) -> rusqlite::Result<Uuid> {
    Uuid::from_slice(bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })
}

/// Whether the log holds an op under `id`.
fn present(conn: &Connection, id: (i64, i64)) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM op WHERE origin = ?1 AND seq = ?2)")?
        .query_row([id.0, id.1], |r| r.get(0))
}

fn local_ids(blob: Option<Vec<u8>>) -> Vec<(i64, i64)> {
    blob.and_then(|b| decode_local_ids(&b)).unwrap_or_default()
}

impl Applier<'_> {
    /// Takes out every batch `withdraw_pending` lists (see the module), before this apply
    /// applies anything. Returns what it took out, per device and key.
    pub fn take_out_withdrawn(&mut self) -> rusqlite::Result<Vec<Withdrawn>> {
        let conn = self.conn;
        // Read at the start of every apply: cached.
        let pending: Vec<(i64, i64, i64, Vec<u8>)> = conn
            .prepare_cached(
                "SELECT origin, first_seq, last_seq, key FROM withdraw_pending
                 ORDER BY origin, first_seq",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        debug_assert!(self.rows.is_empty() && self.bulk.is_none());
        // The rows touched (with their table), the ids the taken-out ops named, and per
        // (device, key) how many ops and which rows.
        let mut rows: BTreeMap<Uuid, i64> = BTreeMap::new();
        let mut named_by_out: Vec<(Uuid, (i64, i64))> = Vec::new();
        let mut out: BTreeMap<(i64, Vec<u8>), (u64, BTreeSet<Uuid>)> = BTreeMap::new();
        for (origin, first, last, key) in &pending {
            let entry = out.entry((*origin, key.clone())).or_default();
            let mut stmt = conn.prepare_cached(
                "SELECT tbl, row, preds FROM op WHERE origin = ?1 AND seq BETWEEN ?2 AND ?3",
            )?;
            let mut found = stmt.query(params![origin, first, last])?;
            while let Some(r) = found.next()? {
                let row = row_id(r.get_ref(1)?.as_blob()?)?;
                rows.insert(row, r.get(0)?);
                named_by_out.extend(local_ids(r.get(2)?).into_iter().map(|id| (row, id)));
                entry.0 += 1;
                entry.1.insert(row);
            }
            drop(found);
            conn.prepare_cached(
                "INSERT INTO withdrawn_op
                     (origin, seq, hlc, tbl, row, field, val, preds, seen, key, withdrawn_ms)
                 SELECT origin, seq, hlc, tbl, row, field, val, preds, seen, ?4, ?5
                 FROM op WHERE origin = ?1 AND seq BETWEEN ?2 AND ?3",
            )?
            .execute(params![origin, first, last, key, self.wall_ms as i64])?;
            for table in ["op", "clock_flag"] {
                // Table names from this list only.
                conn.prepare_cached(&format!(
                    "DELETE FROM {table} WHERE origin = ?1 AND seq BETWEEN ?2 AND ?3"
                ))?
                .execute(params![origin, first, last])?;
            }
        }
        conn.execute("DELETE FROM withdraw_pending", [])?;

        // The ids whose pending entries change: the ops taken out (a staying op of any row that
        // names one now names an op this copy does not hold) and the absent ids they named (an
        // entry only they made goes). Their entries go, and one pass over the log puts back
        // exactly those its ops make, each with the namer's row and field, and gathers the ops
        // that stay of the rows touched (the log has no index by row or by predecessor; a
        // take-out is rare, after a person's or the county's word on a key).
        let taken: HashSet<(i64, i64)> = pending
            .iter()
            .flat_map(|(origin, first, last, _)| (*first..=*last).map(move |seq| (*origin, seq)))
            .collect();
        let mut renamed: HashSet<(i64, i64)> = HashSet::new();
        for (_, id) in &named_by_out {
            if !taken.contains(id) && !present(conn, *id)? {
                renamed.insert(*id);
            }
        }
        for &(origin, seq) in &renamed {
            conn.prepare_cached("DELETE FROM superseded WHERE origin = ?1 AND seq = ?2")?
                .execute([origin, seq])?;
        }
        // A batch's range may hold ids this copy never held (a batch that came cut), with
        // entries of the ops that named them: those go too, and the pass puts back the ones
        // an op that stays makes.
        for (origin, first, last, _) in &pending {
            conn.prepare_cached(
                "DELETE FROM superseded WHERE origin = ?1 AND seq BETWEEN ?2 AND ?3",
            )?
            .execute([origin, first, last])?;
        }
        let mut staying: FxHashMap<Uuid, Vec<Logged>> = FxHashMap::default();
        {
            let mut stmt =
                conn.prepare("SELECT row, origin, seq, hlc, field, val, preds, seen, tbl FROM op")?;
            let mut found = stmt.query([])?;
            while let Some(r) = found.next()? {
                let row_bytes = r.get_ref(0)?.as_blob()?;
                let preds = local_ids(r.get(6)?);
                let field: i64 = r.get(4)?;
                for id in &preds {
                    if taken.contains(id) || renamed.contains(id) {
                        conn.prepare_cached(
                            "INSERT OR IGNORE INTO superseded (origin, seq, row, field)
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![id.0, id.1, row_bytes, field])?;
                        self.pending = true;
                    }
                }
                let row = row_id(row_bytes)?;
                if !rows.contains_key(&row) {
                    continue;
                }
                staying.entry(row).or_default().push(Logged {
                    origin: r.get(1)?,
                    seq: r.get(2)?,
                    hlc: r.get(3)?,
                    field,
                    value: FieldValue::from_sql(r.get_ref(5)?),
                    preds,
                    seen: local_ids(r.get(7)?),
                });
            }
        }

        for (row, table) in rows {
            let ops = staying.remove(&row).unwrap_or_default();
            if ops.is_empty() {
                self.remove_row(row, table)?;
                continue;
            }
            self.rebuild_row(row, table, ops)?;
        }
        // The rows it changed count as changed in the summary of the apply it opens.
        self.flush()?;

        let mut withdrawn = Vec::with_capacity(out.len());
        for ((origin, key), (ops, touched)) in out {
            if ops == 0 {
                // A batch this copy held none of: nothing to say.
                continue;
            }
            recount_version_vector(conn, origin)?;
            withdrawn.push(Withdrawn {
                device: self.dict.device_id(conn, origin)?,
                key,
                ops,
                rows: touched.len() as u64,
            });
        }
        Ok(withdrawn)
    }

    /// Holds `row` for the next flush with the heads its staying `ops` give, every field it
    /// had or has touched (a field left with no head is emptied).
    fn rebuild_row(&mut self, row: Uuid, table: i64, ops: Vec<Logged>) -> rusqlite::Result<()> {
        let conn = self.conn;
        let stored = heads::load(conn, row)?;
        // An op names only heads of its own field: a staying op of another field naming the
        // same id (an id taken twice) does not hide it, as at apply.
        let named: HashSet<(i64, i64, i64)> = ops
            .iter()
            .flat_map(|o| o.preds.iter().map(|&(origin, seq)| (o.field, origin, seq)))
            .collect();
        let mut state = RowState::new(table);
        state.existed = true;
        for &(field, _, _) in &stored {
            state.field_pos(field);
        }
        for op in ops {
            let pos = state.field_pos(op.field);
            if named.contains(&(op.field, op.origin, op.seq)) {
                continue;
            }
            let origin_id = self.dict.device_id(conn, op.origin)?;
            state.fields[pos].heads.push(Head {
                origin: op.origin,
                seq: op.seq,
                hlc: Hlc::from_i64(op.hlc),
                origin_id,
                value: op.value,
                seen: op.seen,
            });
        }
        for f in &mut state.fields {
            f.touched = true;
        }
        state.stored = stored;
        self.pending_bytes += row_bytes(&state);
        self.rows.push((row, state));
        self.row_index.insert(row, self.rows.len() - 1);
        Ok(())
    }

    /// Removes a row no op of the log makes any more: its materialized row, search entry,
    /// heads and review items; its household's list summary follows.
    fn remove_row(&mut self, row: Uuid, table: i64) -> rusqlite::Result<()> {
        let conn = self.conn;
        let id = row.as_bytes().as_slice();
        heads::store(conn, row, &[])?;
        conn.prepare_cached("DELETE FROM review_item WHERE row = ?1")?
            .execute([id])?;
        let Some(table) = Table::from_code(table) else {
            return Ok(());
        };
        let household = household_of(conn, table, row)?;
        // Identifiers come from the static table list, never from input.
        let rowid: Option<i64> = conn
            .prepare_cached(&format!(
                "SELECT rowid FROM {} WHERE id = ?1",
                table.sql_name()
            ))?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(rowid) = rowid {
            let search = match table {
                Table::Member => Some(("person_fts", PENDING_PERSON)),
                Table::Household => Some(("household_fts", PENDING_HOUSEHOLD)),
                _ => None,
            };
            if let Some((index, kind)) = search {
                conn.prepare_cached(&format!("DELETE FROM {index} WHERE rowid = ?1"))?
                    .execute([rowid])?;
                conn.prepare_cached("DELETE FROM search_pending WHERE kind = ?1 AND entry = ?2")?
                    .execute([kind, rowid])?;
            }
            conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", table.sql_name()))?
                .execute([id])?;
        }
        // A household's summary stays while rows of it do (as where a member's insert made
        // it): otherwise it goes with the household.
        let refer: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM member WHERE household_id = ?1)
                     OR EXISTS (SELECT 1 FROM visit WHERE household_id = ?1)",
            )?
            .query_row([id], |r| r.get(0))?;
        if table == Table::Household && !refer {
            conn.prepare_cached("DELETE FROM household_summary WHERE household_id = ?1")?
                .execute([id])?;
        } else if let Some(household) = household {
            refresh_household_summary(conn, household)?;
        }
        Ok(())
    }
}

/// A device's version vector entry worked out again from the log (after ops of it were taken
/// out): the highest seq below which every op is held, and the highest held.
fn recount_version_vector(conn: &Connection, origin: i64) -> rusqlite::Result<()> {
    let mut contiguous = 0i64;
    let mut max_seq = 0i64;
    {
        let mut stmt = conn.prepare_cached("SELECT seq FROM op WHERE origin = ?1 ORDER BY seq")?;
        let mut seqs = stmt.query([origin])?;
        while let Some(r) = seqs.next()? {
            let seq: i64 = r.get(0)?;
            if seq == contiguous + 1 && contiguous == max_seq {
                contiguous = seq;
            }
            max_seq = seq;
        }
    }
    if max_seq == 0 {
        conn.prepare_cached("DELETE FROM version_vector WHERE origin = ?1")?
            .execute([origin])?;
    } else {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO version_vector (origin, contiguous, max_seq)
             VALUES (?1, ?2, ?3)",
        )?
        .execute([origin, contiguous, max_seq])?;
    }
    Ok(())
}
