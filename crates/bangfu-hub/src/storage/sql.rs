//! The one SQL dialect both hub backends speak: fixed statement texts with `?N` parameters,
//! written so SQLite and PostgreSQL read them alike (`ON CONFLICT`, `RETURNING`, integer flags,
//! casts where PostgreSQL cannot infer a parameter's type), and the [`Db`] trait a transaction
//! of either backend implements. The hub's rules (`scope_index`, `logic`) are written once
//! against it.

use bangfu_core::model::FieldValue;
use bangfu_core::sync::{Op, OpId};
use uuid::Uuid;

use super::StorageError;

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum P<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'a str),
    Bytes(&'a [u8]),
    /// An op's value (`val` columns): SQLite stores it as it is, PostgreSQL as tagged bytes.
    Value(&'a FieldValue),
}

impl<'a> P<'a> {
    pub fn uuid(id: &'a Uuid) -> P<'a> {
        P::Bytes(id.as_bytes().as_slice())
    }

    pub fn opt_text(text: Option<&'a str>) -> P<'a> {
        text.map_or(P::Null, P::Text)
    }

    pub fn opt_bytes(bytes: Option<&'a [u8]>) -> P<'a> {
        bytes.map_or(P::Null, P::Bytes)
    }
}

/// A column read back.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// One result row.
#[derive(Debug, Clone, Default)]
pub struct Row(pub Vec<V>);

fn bad(what: &str, at: usize, got: &V) -> StorageError {
    StorageError::BadRow(format!("column {at}: expected {what}, found {got:?}"))
}

impl Row {
    fn at(&self, i: usize) -> &V {
        self.0.get(i).unwrap_or(&V::Null)
    }

    pub fn int(&self, i: usize) -> Result<i64, StorageError> {
        match self.at(i) {
            V::Int(n) => Ok(*n),
            V::Bool(b) => Ok(i64::from(*b)),
            other => Err(bad("integer", i, other)),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StorageError> {
        match self.at(i) {
            V::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool, StorageError> {
        self.int(i).map(|n| n != 0)
    }

    pub fn text(&self, i: usize) -> Result<String, StorageError> {
        match self.at(i) {
            V::Text(t) => Ok(t.clone()),
            other => Err(bad("text", i, other)),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StorageError> {
        match self.at(i) {
            V::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StorageError> {
        match self.at(i) {
            V::Null => Ok(None),
            V::Bytes(b) => Ok(Some(b.clone())),
            other => Err(bad("bytes", i, other)),
        }
    }

    pub fn uuid(&self, i: usize) -> Result<Uuid, StorageError> {
        match self.at(i) {
            V::Bytes(b) => Uuid::from_slice(b).map_err(|_| bad("16-byte id", i, self.at(i))),
            other => Err(bad("id", i, other)),
        }
    }

    pub fn raw(&self, i: usize) -> V {
        self.at(i).clone()
    }
}

/// An op to insert into the `op` table, its id lists already encoded.
#[derive(Debug, Clone)]
pub struct NewOp<'a> {
    pub op: &'a Op,
    pub preds: Option<Vec<u8>>,
    pub seen: Option<Vec<u8>>,
    /// The scope the op stays inside until its row's scope is known.
    pub pending: Option<&'a str>,
}

impl<'a> NewOp<'a> {
    pub fn new(op: &'a Op, pending: Option<&'a str>) -> NewOp<'a> {
        NewOp {
            op,
            preds: super::schema::encode_ids(&op.preds),
            seen: super::schema::encode_ids(&op.seen),
            pending,
        }
    }
}

const INSERT_OP: &str =
    "INSERT INTO op (origin, seq, hlc, tbl, row, field, val, preds, seen, pending_scope)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT DO NOTHING RETURNING key";

const INSERT_SUPERSEDED: &str =
    "INSERT INTO superseded (origin, seq) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

/// A row of `row_scope`: (row, village, shared).
pub type ScopeEntry = (Uuid, String, bool);

/// A stored op of a row, as a village it joins receives it: (row, key, table, pending scope).
pub type RowOp = (Uuid, i64, i64, Option<String>);

/// A row filed into villages for the first time by its first parent link (`push_batch`): the
/// link to record live, the row's villages to write.
#[derive(Debug, Clone)]
pub struct Join<'a> {
    pub op: &'a Op,
    /// The link's child: the op's row, or the helper it shares.
    pub child: Uuid,
    /// The link's parent: the op's parent, or the op's row when it shares a helper.
    pub parent: Uuid,
    /// Whether the link shares a helper.
    pub shared: bool,
    /// The villages the child joins (own, or shared when the link shares).
    pub villages: Vec<String>,
}

pub const INSERT_LINK: &str =
    "INSERT INTO link (origin, seq, row, field, child, parent, shared, live)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CAST(NOT EXISTS (SELECT 1 FROM link_pred
         WHERE origin = ?1 AND seq = ?2 AND row = ?3 AND field = ?4) AS INTEGER))
     ON CONFLICT DO NOTHING";

/// One open transaction of a hub backend.
///
/// The batch methods (`insert_ops`, `insert_superseded`, `row_scopes`, `rows_left`) run a
/// statement per item by default, which costs nothing in-process (SQLite); PostgreSQL does
/// each in one statement over arrays, one round trip instead of one per op.
pub trait Db {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<u64, StorageError>;
    /// Runs a query; all its rows.
    fn rows(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Vec<Row>, StorageError>;
    /// An op's value as this backend stored it.
    fn field_value(&self, stored: V) -> FieldValue;
    /// Appends feed entries `(village, op key)` in this order, each village at most once per
    /// op. SQLite numbers them as it inserts (one writer); PostgreSQL numbers them at the end
    /// of the transaction under its counties' locks, so positions become visible in order.
    fn append_feed(&mut self, village: &str, op: i64) -> Result<(), StorageError>;
    /// Notes rows whose place in the scope index this transaction reads or changes. PostgreSQL
    /// claims them at the end of the transaction (`row_claim`), so two concurrent pushes that
    /// touched the same row conflict and one runs again (ARCHITECTURE.md, "Several hub
    /// processes"); SQLite has one writer and needs nothing.
    fn touch(&mut self, _rows: &[Uuid]) {}

    /// Inserts ops in this order, skipping those already stored: the new key of each, `None`
    /// for one the table already held.
    fn insert_ops(&mut self, ops: &[NewOp<'_>]) -> Result<Vec<Option<i64>>, StorageError> {
        let mut keys = Vec::with_capacity(ops.len());
        for new in ops {
            let op = new.op;
            let row = self.row(
                INSERT_OP,
                &[
                    P::uuid(&op.id.origin),
                    P::Int(op.id.seq),
                    P::Int(op.hlc.to_i64()),
                    P::Int(op.table),
                    P::uuid(&op.row),
                    P::Text(&op.field),
                    P::Value(&op.value),
                    P::opt_bytes(new.preds.as_deref()),
                    P::opt_bytes(new.seen.as_deref()),
                    P::opt_text(new.pending),
                ],
            )?;
            keys.push(row.map(|r| r.int(0)).transpose()?);
        }
        Ok(keys)
    }

    /// Records that these ops are superseded (some stored op names them as predecessors).
    fn insert_superseded(&mut self, ids: &[OpId]) -> Result<(), StorageError> {
        for id in ids {
            self.exec(INSERT_SUPERSEDED, &[P::uuid(&id.origin), P::Int(id.seq)])?;
        }
        Ok(())
    }

    /// The `row_scope` entries of these rows.
    fn row_scopes(&mut self, rows: &[Uuid]) -> Result<Vec<ScopeEntry>, StorageError> {
        let mut out = Vec::new();
        for row in rows {
            for r in self.rows(
                "SELECT village, shared FROM row_scope WHERE row = ?1",
                &[P::uuid(row)],
            )? {
                out.push((*row, r.text(0)?, r.bool(1)?));
            }
        }
        Ok(out)
    }

    /// The villages these rows left since `since_ms`: (row, village).
    fn rows_left(
        &mut self,
        rows: &[Uuid],
        since_ms: i64,
    ) -> Result<Vec<(Uuid, String)>, StorageError> {
        let mut out = Vec::new();
        for row in rows {
            for r in self.rows(
                "SELECT village FROM row_left WHERE row = ?1 AND left_ms >= ?2",
                &[P::uuid(row), P::Int(since_ms)],
            )? {
                out.push((*row, r.text(0)?));
            }
        }
        Ok(out)
    }

    /// The rows among `rows` the index already ties to others: the child of a live link
    /// (`false`), or the parent of one or a village row (`true`); a row may come twice.
    fn rows_linked(&mut self, rows: &[Uuid]) -> Result<Vec<(Uuid, bool)>, StorageError> {
        let mut out = Vec::new();
        for row in rows {
            for r in self.rows(
                "SELECT 0 FROM link WHERE child = ?1 AND live = 1
                 UNION SELECT 1 FROM link WHERE parent = ?1 AND live = 1
                 UNION SELECT 1 FROM village_row WHERE row = ?1",
                &[P::uuid(row)],
            )? {
                out.push((*row, r.bool(0)?));
            }
        }
        Ok(out)
    }

    /// The seqs of `origin` after `after` that the hub already stores or that a stored link
    /// op names as a predecessor.
    fn seqs_known(&mut self, origin: Uuid, after: i64) -> Result<Vec<i64>, StorageError> {
        self.rows(
            "SELECT seq FROM op WHERE origin = ?1 AND seq > ?2
             UNION SELECT seq FROM link_pred WHERE origin = ?1 AND seq > ?2",
            &[P::uuid(&origin), P::Int(after)],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect()
    }

    /// Records links whose effect on the index is known (their ops already stored): each
    /// link, and the villages its child joins (`row_scope`; the child no longer counts as
    /// having left them).
    fn insert_joins(&mut self, joins: &[Join<'_>]) -> Result<(), StorageError> {
        for join in joins {
            let op = join.op;
            let child = P::uuid(&join.child);
            self.exec(
                INSERT_LINK,
                &[
                    P::uuid(&op.id.origin),
                    P::Int(op.id.seq),
                    P::uuid(&op.row),
                    P::Text(&op.field),
                    child,
                    P::uuid(&join.parent),
                    P::Bool(join.shared),
                ],
            )?;
            for village in &join.villages {
                self.exec(
                    "INSERT INTO row_scope (row, village, shared) VALUES (?1, ?2, ?3)",
                    &[child, P::Text(village), P::Bool(join.shared)],
                )?;
                self.exec(
                    "DELETE FROM row_left WHERE row = ?1 AND village = ?2",
                    &[child, P::Text(village)],
                )?;
            }
        }
        Ok(())
    }

    /// The stored ops of `rows`, in key order.
    fn ops_of_rows(&mut self, rows: &[Uuid]) -> Result<Vec<RowOp>, StorageError> {
        let mut out = Vec::new();
        for row in rows {
            for r in self.rows(
                "SELECT key, tbl, pending_scope FROM op WHERE row = ?1 ORDER BY key",
                &[P::uuid(row)],
            )? {
                out.push((*row, r.int(0)?, r.int(1)?, r.opt_text(2)?));
            }
        }
        out.sort_by_key(|(_, key, _, _)| *key);
        Ok(out)
    }

    fn row(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Option<Row>, StorageError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    fn one_int(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<i64, StorageError> {
        self.row(sql, params)?
            .ok_or_else(|| StorageError::BadRow(format!("no row from {sql}")))?
            .int(0)
    }
}

/// PostgreSQL's `$N` for SQLite's `?N`: the only rewrite the shared texts need.
pub fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_mark_parameters_become_dollar_parameters() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE a = ?1 AND b = ?12 AND c = '?'"),
            "SELECT a FROM t WHERE a = $1 AND b = $12 AND c = '?'"
        );
    }
}
