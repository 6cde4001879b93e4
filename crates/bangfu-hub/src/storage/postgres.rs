//! The server storage: a PostgreSQL database shared by any number of hub processes. What each
//! call does is in `logic.rs` (shared with SQLite); this file opens the transactions (a push:
//! REPEATABLE READ under its county's lock, claiming the rows whose place in the index it read
//! or changed; every other write: SERIALIZABLE), retries them when PostgreSQL finds them in
//! conflict, numbers the feed at the end of each transaction under its counties' advisory
//! locks, and prunes the claims once none can matter (see ARCHITECTURE.md, "Several hub
//! processes").

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bangfu_core::model::FieldValue;
use bangfu_core::sync::{Op, OpId};
use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use uuid::Uuid;

use super::credentials;
use super::logic;
use super::schema_pg;
use super::sql::{Db, Join, NewOp, P, Row, RowOp, ScopeEntry, V, dollar_params};
use super::{
    AdminCheck, CodeRefusal, DeviceAuth, DeviceInfo, Enrolment, HeldInfo, HubStorage, IssuedCode,
    PullPage, PushOutcome, StorageCounts, StorageError, StoreOptions,
};
use crate::scope::Scope;

/// How often a transaction PostgreSQL aborted for a conflict is run again before giving up.
const ATTEMPTS: u32 = 30;

/// The most ops of a push stored in one transaction.
const PUSH_CHUNK: usize = 500;

/// The write gate (an advisory lock key): every write transaction holds it shared, so writes
/// run side by side; one that PostgreSQL aborted ALONE_AFTER times for conflicts runs again
/// holding it exclusively, after the writes running now and before new ones, so it commits
/// instead of losing to them again and again (many long pushes at once, a province's counties
/// uploading their first data the same morning, otherwise keep aborting one another).
const WRITE_GATE: i64 = 0x4246_4741_5445;
const ALONE_AFTER: u32 = 3;

/// How a write transaction holds the write gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    None,
    Shared,
    Alone,
}

/// How many row claims this process writes (a row touched by several transactions counts
/// each time) before it prunes `row_claim` at the end of a push ([`PgStorage::prune_row_claims`]):
/// the table then holds about this many claims per process instead of one for every row a
/// county ever pushed.
const CLAIMS_BEFORE_PRUNE: u64 = 100_000;

/// How long after its last try a process prunes the claims it wrote since, however few (at
/// the end of a push): a quiet hub keeps at most an hour's claims.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long a prune waits for the writes running to end (and then for the claims table), as
/// PostgreSQL's `lock_timeout`: the writes that start meanwhile wait behind it at most this
/// long, and a prune that gives up leaves the claims for the next time.
const PRUNE_WAIT: &str = "SET lock_timeout = '2s'";

/// Advisory lock keys of the feed and of a county's pushes: one per county (its 6-digit code
/// plus this).
const COUNTY_LOCK_BASE: i64 = 0x4246_0000_0000;

/// The advisory lock key of a county (`None` for a code that is not one).
fn county_lock(county: &str) -> Option<i64> {
    county
        .get(..6)?
        .parse::<i64>()
        .ok()
        .map(|c| COUNTY_LOCK_BASE + c)
}

/// A pooled connection with its prepared statements.
pub struct PgConn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn")
            .field("statements", &self.stmts.len())
            .finish()
    }
}

#[derive(Debug)]
struct Manager(postgres::Config);

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: self.0.connect(NoTls)?,
            stmts: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

#[derive(Debug)]
pub struct PgStorage {
    /// Always `Some` until dropped (see `Drop`).
    pool: Option<r2d2::Pool<Manager>>,
    epoch: String,
    options: StoreOptions,
    /// Transactions of this process run again after a conflict.
    retries: AtomicU64,
    /// Row claims this process committed since it last tried to prune them.
    claims_since_prune: AtomicU64,
    /// When this process last tried to prune them (or opened the storage).
    last_prune: std::sync::Mutex<Instant>,
}

impl Drop for PgStorage {
    /// A `postgres::Client` closes by blocking on its own runtime, which panics inside an
    /// async runtime (where the server drops its state): the pool is closed on a plain thread.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let closing = std::thread::spawn(move || drop(pool));
            let _ = closing.join();
        }
    }
}

/// A parameter as PostgreSQL wants it for the column it is bound to.
#[derive(Debug)]
struct Param<'a>(P<'a>);

/// An op's value in a BYTEA column: a tag byte, then the value.
pub fn encode_value(value: &FieldValue) -> Option<Vec<u8>> {
    let (tag, body) = match value {
        FieldValue::Null => return None,
        FieldValue::Int(n) => (1u8, n.to_le_bytes().to_vec()),
        FieldValue::Real(x) => (2, x.to_bits().to_le_bytes().to_vec()),
        FieldValue::Text(t) => (3, t.as_bytes().to_vec()),
        FieldValue::Bytes(b) => (4, b.clone()),
    };
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(tag);
    out.extend_from_slice(&body);
    Some(out)
}

pub fn decode_value(stored: &[u8]) -> FieldValue {
    let Some((tag, body)) = stored.split_first() else {
        return FieldValue::Null;
    };
    let eight = || <[u8; 8]>::try_from(body).ok();
    match tag {
        1 => eight().map_or(FieldValue::Null, |b| FieldValue::Int(i64::from_le_bytes(b))),
        2 => eight().map_or(FieldValue::Null, |b| {
            FieldValue::Real(f64::from_bits(u64::from_le_bytes(b)))
        }),
        3 => FieldValue::Text(String::from_utf8_lossy(body).into_owned()),
        4 => FieldValue::Bytes(body.to_vec()),
        _ => FieldValue::Null,
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

fn put_int(n: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT8 => n.to_sql(ty, out),
        Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
        Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
        Type::BOOL => (n != 0).to_sql(ty, out),
        _ => Err(format!("integer bound to a {ty} column").into()),
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            P::Null => Ok(IsNull::Yes),
            P::Int(n) => put_int(n, ty, out),
            P::Bool(b) => put_int(i64::from(b), ty, out),
            P::Text(t) => {
                out.extend_from_slice(t.as_bytes());
                Ok(IsNull::No)
            }
            P::Bytes(b) => {
                out.extend_from_slice(b);
                Ok(IsNull::No)
            }
            P::Value(v) => match encode_value(v) {
                None => Ok(IsNull::Yes),
                Some(bytes) => {
                    out.extend_from_slice(&bytes);
                    Ok(IsNull::No)
                }
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn value_of(row: &postgres::Row, i: usize) -> Result<V, StorageError> {
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(V::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|n| V::Int(n.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(|n| V::Int(n.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(V::Bool),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(V::Real),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(V::Bytes),
        _ => row.try_get::<_, Option<String>>(i)?.map(V::Text),
    };
    Ok(v.unwrap_or(V::Null))
}

/// One transaction on one pooled connection.
struct PgDb<'a, 'c> {
    tx: &'a mut Transaction<'c>,
    stmts: &'a mut HashMap<&'static str, Statement>,
    /// Feed entries to number at the end, in filing order, once each.
    feed: Vec<(String, i64)>,
    filed: HashSet<(String, i64)>,
    /// Rows whose place in the index the transaction read or changed ([`Db::touch`]), claimed
    /// at its end.
    touched: BTreeSet<Uuid>,
}

impl PgDb<'_, '_> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StorageError> {
        if let Some(stmt) = self.stmts.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.tx.prepare(&dollar_params(sql))?;
        self.stmts.insert(sql, stmt.clone());
        Ok(stmt)
    }

    /// Claims the touched rows: one `row_claim` row each, inserted or updated. Two concurrent
    /// transactions that touched a common row thereby write the same row, and PostgreSQL lets
    /// only the first commit (the other fails with a serialization failure and runs again,
    /// seeing what the first wrote); rows in key order, so two claims never wait crosswise.
    fn claim_touched(&mut self) -> Result<(), StorageError> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let claim = self.statement(
            "INSERT INTO row_claim (row)
             SELECT r FROM unnest(CAST(?1 AS BYTEA[])) AS t (r) ORDER BY r
             ON CONFLICT (row) DO UPDATE SET n = row_claim.n + 1",
        )?;
        let rows: Vec<&[u8]> = self
            .touched
            .iter()
            .map(|r| r.as_bytes().as_slice())
            .collect();
        self.tx.execute(&claim, &[&rows])?;
        Ok(())
    }

    /// Numbers the filed entries: the counties' locks first (in code order, so two
    /// transactions never wait on each other crosswise), then positions from the sequence.
    /// The locks are held until commit, so within a county a later position never becomes
    /// visible before an earlier one: a device that pulled up to P never misses an op
    /// numbered below P.
    fn flush_feed(&mut self) -> Result<(), StorageError> {
        if self.feed.is_empty() {
            return Ok(());
        }
        let counties: BTreeSet<i64> = self
            .feed
            .iter()
            .filter_map(|(village, _)| village.get(..6)?.parse::<i64>().ok())
            .collect();
        let lock = self.statement("SELECT pg_advisory_xact_lock(CAST(?1 AS BIGINT))")?;
        for county in counties {
            self.tx.execute(&lock, &[&(COUNTY_LOCK_BASE + county)])?;
        }
        let feed = std::mem::take(&mut self.feed);
        let villages: Vec<&str> = feed.iter().map(|(v, _)| v.as_str()).collect();
        let ops: Vec<i64> = feed.iter().map(|(_, op)| *op).collect();
        let insert = self.statement(
            "INSERT INTO feed (pos, village, township, county, op)
             SELECT nextval('feed_pos'), v, substr(v, 1, 9), substr(v, 1, 6), o
             FROM unnest(CAST(?1 AS TEXT[]), CAST(?2 AS BIGINT[])) WITH ORDINALITY AS t (v, o, n)
             ORDER BY n
             ON CONFLICT DO NOTHING",
        )?;
        self.tx.execute(&insert, &[&villages, &ops])?;
        Ok(())
    }
}

impl Db for PgDb<'_, '_> {
    fn exec(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<u64, StorageError> {
        let stmt = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|p| Param(*p)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        Ok(self.tx.execute(&stmt, &refs)?)
    }

    fn rows(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<Vec<Row>, StorageError> {
        let stmt = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|p| Param(*p)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.tx
            .query(&stmt, &refs)?
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| value_of(r, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    fn field_value(&self, stored: V) -> FieldValue {
        match stored {
            V::Bytes(b) => decode_value(&b),
            _ => FieldValue::Null,
        }
    }

    fn append_feed(&mut self, village: &str, op: i64) -> Result<(), StorageError> {
        if self.filed.insert((village.to_owned(), op)) {
            self.feed.push((village.to_owned(), op));
        }
        Ok(())
    }

    fn touch(&mut self, rows: &[Uuid]) {
        self.touched.extend(rows.iter().copied());
    }

    fn insert_ops(&mut self, ops: &[NewOp<'_>]) -> Result<Vec<Option<i64>>, StorageError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let origins: Vec<&[u8]> = ops
            .iter()
            .map(|n| n.op.id.origin.as_bytes().as_slice())
            .collect();
        let seqs: Vec<i64> = ops.iter().map(|n| n.op.id.seq).collect();
        let hlcs: Vec<i64> = ops.iter().map(|n| n.op.hlc.to_i64()).collect();
        let tables: Vec<i64> = ops.iter().map(|n| n.op.table).collect();
        let rows: Vec<&[u8]> = ops.iter().map(|n| n.op.row.as_bytes().as_slice()).collect();
        let fields: Vec<&str> = ops.iter().map(|n| n.op.field.as_str()).collect();
        let values: Vec<Option<Vec<u8>>> = ops.iter().map(|n| encode_value(&n.op.value)).collect();
        let preds: Vec<Option<&[u8]>> = ops.iter().map(|n| n.preds.as_deref()).collect();
        let seen: Vec<Option<&[u8]>> = ops.iter().map(|n| n.seen.as_deref()).collect();
        let pending: Vec<Option<&str>> = ops.iter().map(|n| n.pending).collect();
        // One statement for the whole batch; keys are taken in the batch's order.
        let insert = self.statement(
            "INSERT INTO op (origin, seq, hlc, tbl, row, field, val, preds, seen, pending_scope)
             SELECT o, s, h, t, r, f, v, p, n, ps FROM unnest(
                 CAST(?1 AS BYTEA[]), CAST(?2 AS BIGINT[]), CAST(?3 AS BIGINT[]),
                 CAST(?4 AS BIGINT[]), CAST(?5 AS BYTEA[]), CAST(?6 AS TEXT[]),
                 CAST(?7 AS BYTEA[]), CAST(?8 AS BYTEA[]), CAST(?9 AS BYTEA[]),
                 CAST(?10 AS TEXT[]))
                 WITH ORDINALITY AS x (o, s, h, t, r, f, v, p, n, ps, i)
             ORDER BY i
             ON CONFLICT DO NOTHING RETURNING origin, seq, key",
        )?;
        let inserted = self.tx.query(
            &insert,
            &[
                &origins, &seqs, &hlcs, &tables, &rows, &fields, &values, &preds, &seen, &pending,
            ],
        )?;
        let mut keys: HashMap<(Vec<u8>, i64), i64> = HashMap::with_capacity(inserted.len());
        for r in &inserted {
            keys.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
        }
        Ok(ops
            .iter()
            .map(|n| {
                keys.get(&(n.op.id.origin.as_bytes().to_vec(), n.op.id.seq))
                    .copied()
            })
            .collect())
    }

    fn insert_superseded(&mut self, ids: &[OpId]) -> Result<(), StorageError> {
        if ids.is_empty() {
            return Ok(());
        }
        let origins: Vec<&[u8]> = ids
            .iter()
            .map(|id| id.origin.as_bytes().as_slice())
            .collect();
        let seqs: Vec<i64> = ids.iter().map(|id| id.seq).collect();
        let insert = self.statement(
            "INSERT INTO superseded (origin, seq)
             SELECT * FROM unnest(CAST(?1 AS BYTEA[]), CAST(?2 AS BIGINT[]))
             ON CONFLICT DO NOTHING",
        )?;
        self.tx.execute(&insert, &[&origins, &seqs])?;
        Ok(())
    }

    fn row_scopes(&mut self, rows: &[Uuid]) -> Result<Vec<ScopeEntry>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes().as_slice()).collect();
        let select = self.statement(
            "SELECT row, village, shared FROM row_scope WHERE row = ANY (CAST(?1 AS BYTEA[]))",
        )?;
        self.tx
            .query(&select, &[&ids])?
            .iter()
            .map(|r| {
                let row: Vec<u8> = r.try_get(0)?;
                let row = Uuid::from_slice(&row)
                    .map_err(|_| StorageError::BadRow("row_scope.row is no id".into()))?;
                let shared: i32 = r.try_get(2)?;
                Ok((row, r.try_get(1)?, shared != 0))
            })
            .collect()
    }

    fn rows_linked(&mut self, rows: &[Uuid]) -> Result<Vec<(Uuid, bool)>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes().as_slice()).collect();
        let select = self.statement(
            "SELECT child, 0 FROM link WHERE child = ANY (CAST(?1 AS BYTEA[])) AND live = 1
             UNION SELECT parent, 1 FROM link WHERE parent = ANY (CAST(?1 AS BYTEA[])) AND live = 1
             UNION SELECT row, 1 FROM village_row WHERE row = ANY (CAST(?1 AS BYTEA[]))",
        )?;
        self.tx
            .query(&select, &[&ids])?
            .iter()
            .map(|r| {
                let row: Vec<u8> = r.try_get(0)?;
                let parent: i32 = r.try_get(1)?;
                let row = Uuid::from_slice(&row)
                    .map_err(|_| StorageError::BadRow("link row is no id".into()))?;
                Ok((row, parent != 0))
            })
            .collect()
    }

    fn insert_joins(&mut self, joins: &[Join<'_>]) -> Result<(), StorageError> {
        if joins.is_empty() {
            return Ok(());
        }
        let origins: Vec<&[u8]> = joins
            .iter()
            .map(|j| j.op.id.origin.as_bytes().as_slice())
            .collect();
        let seqs: Vec<i64> = joins.iter().map(|j| j.op.id.seq).collect();
        let rows: Vec<&[u8]> = joins
            .iter()
            .map(|j| j.op.row.as_bytes().as_slice())
            .collect();
        let fields: Vec<&str> = joins.iter().map(|j| j.op.field.as_str()).collect();
        let children: Vec<&[u8]> = joins
            .iter()
            .map(|j| j.child.as_bytes().as_slice())
            .collect();
        let parents: Vec<&[u8]> = joins
            .iter()
            .map(|j| j.parent.as_bytes().as_slice())
            .collect();
        let shared: Vec<i32> = joins.iter().map(|j| i32::from(j.shared)).collect();
        let links = self.statement(
            "INSERT INTO link (origin, seq, row, field, child, parent, shared, live)
             SELECT o, s, r, f, c, p, sh, CAST(NOT EXISTS (SELECT 1 FROM link_pred l
                 WHERE l.origin = o AND l.seq = s AND l.row = r AND l.field = f) AS INTEGER)
             FROM unnest(CAST(?1 AS BYTEA[]), CAST(?2 AS BIGINT[]), CAST(?3 AS BYTEA[]),
                 CAST(?4 AS TEXT[]), CAST(?5 AS BYTEA[]), CAST(?6 AS BYTEA[]),
                 CAST(?7 AS INTEGER[])) AS t (o, s, r, f, c, p, sh)
             ON CONFLICT DO NOTHING",
        )?;
        self.tx.execute(
            &links,
            &[
                &origins, &seqs, &rows, &fields, &children, &parents, &shared,
            ],
        )?;
        let mut scoped: Vec<&[u8]> = Vec::new();
        let mut villages: Vec<&str> = Vec::new();
        let mut flags: Vec<i32> = Vec::new();
        for j in joins {
            for v in &j.villages {
                scoped.push(j.child.as_bytes().as_slice());
                villages.push(v.as_str());
                flags.push(i32::from(j.shared));
            }
        }
        let scope = self.statement(
            "INSERT INTO row_scope (row, village, shared)
             SELECT r, v, s FROM unnest(CAST(?1 AS BYTEA[]), CAST(?2 AS TEXT[]),
                 CAST(?3 AS INTEGER[])) AS t (r, v, s)",
        )?;
        self.tx.execute(&scope, &[&scoped, &villages, &flags])?;
        let left = self.statement(
            "DELETE FROM row_left USING unnest(CAST(?1 AS BYTEA[]), CAST(?2 AS TEXT[])) AS t (r, v)
             WHERE row_left.row = t.r AND row_left.village = t.v",
        )?;
        self.tx.execute(&left, &[&scoped, &villages])?;
        Ok(())
    }

    fn ops_of_rows(&mut self, rows: &[Uuid]) -> Result<Vec<RowOp>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes().as_slice()).collect();
        let select = self.statement(
            "SELECT row, key, tbl, pending_scope FROM op
             WHERE row = ANY (CAST(?1 AS BYTEA[])) ORDER BY key",
        )?;
        self.tx
            .query(&select, &[&ids])?
            .iter()
            .map(|r| {
                let row: Vec<u8> = r.try_get(0)?;
                let row = Uuid::from_slice(&row)
                    .map_err(|_| StorageError::BadRow("op.row is no id".into()))?;
                Ok((row, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
            })
            .collect()
    }

    fn rows_left(
        &mut self,
        rows: &[Uuid],
        since_ms: i64,
    ) -> Result<Vec<(Uuid, String)>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes().as_slice()).collect();
        let select = self.statement(
            "SELECT row, village FROM row_left
             WHERE row = ANY (CAST(?1 AS BYTEA[])) AND left_ms >= ?2",
        )?;
        self.tx
            .query(&select, &[&ids, &since_ms])?
            .iter()
            .map(|r| {
                let row: Vec<u8> = r.try_get(0)?;
                let row = Uuid::from_slice(&row)
                    .map_err(|_| StorageError::BadRow("row_left.row is no id".into()))?;
                Ok((row, r.try_get(1)?))
            })
            .collect()
    }
}

/// Whether PostgreSQL aborted the transaction for a conflict with another one, so running it
/// again may succeed.
fn retryable(e: &StorageError) -> bool {
    let StorageError::Postgres(e) = e else {
        return matches!(e, StorageError::Concurrent(_));
    };
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
            // The predicate lock table full while many writes run: run again, alone at last.
            || *c == SqlState::OUT_OF_MEMORY
    )
}

/// How a write transaction runs: its isolation and the counties whose pushes it excludes.
#[derive(Debug, Clone, Copy)]
struct Mode<'a> {
    isolation: IsolationLevel,
    read_only: bool,
    /// Advisory lock keys held from before the transaction's snapshot until it ended.
    counties: &'a [i64],
}

impl PgStorage {
    /// Connects to `url` (`postgres://user@host:port/database`), with at most `connections`
    /// pooled connections, and brings the hub schema up to date.
    pub fn open(url: &str, connections: u32) -> Result<PgStorage, StorageError> {
        PgStorage::open_with(url, connections, StoreOptions::default())
    }

    /// [`PgStorage::open`], storing pushes as `options` say.
    pub fn open_with(
        url: &str,
        connections: u32,
        options: StoreOptions,
    ) -> Result<PgStorage, StorageError> {
        let config: postgres::Config = url.parse()?;
        let mut client = config.connect(NoTls)?;
        let epoch = schema_pg::migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(Manager(config))
            .map_err(|e| StorageError::Pool(e.to_string()))?;
        let storage = PgStorage {
            pool: Some(pool),
            epoch,
            options,
            retries: AtomicU64::new(0),
            claims_since_prune: AtomicU64::new(0),
            last_prune: std::sync::Mutex::new(Instant::now()),
        };
        storage.write(super::scope_index::index_learnt_tables)?;
        Ok(storage)
    }

    fn run<T>(
        &self,
        mode: Mode<'_>,
        f: impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let gate = match mode.read_only {
                false if attempt > ALONE_AFTER => Gate::Alone,
                false => Gate::Shared,
                true => Gate::None,
            };
            let result = self.once(mode, gate, &f);
            match result {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    // Back off a little, more each time, so the conflicting pushes spread.
                    let jitter = u64::from(rand::random::<u8>() % 8);
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * 2 + jitter));
                }
                other => return other,
            }
        }
    }

    fn once<T>(
        &self,
        mode: Mode<'_>,
        gate: Gate,
        f: &impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| StorageError::Pool("closed".into()))?;
        let mut conn = pool.get().map_err(|e| StorageError::Pool(e.to_string()))?;
        let PgConn { client, stmts } = &mut *conn;
        // The gate and the counties' locks are session locks taken before the transaction
        // starts, so a transaction that waited for them takes its snapshot after the ones it
        // waited for committed.
        let locked = (|| {
            match gate {
                Gate::None => return Ok(()),
                Gate::Shared => {
                    client.execute("SELECT pg_advisory_lock_shared($1)", &[&WRITE_GATE])?
                }
                Gate::Alone => client.execute("SELECT pg_advisory_lock($1)", &[&WRITE_GATE])?,
            };
            // In key order, as the feed's locks: two pushes never wait on each other crosswise.
            for county in mode.counties.iter().collect::<BTreeSet<_>>() {
                client.execute("SELECT pg_advisory_lock($1)", &[county])?;
            }
            Ok::<_, StorageError>(())
        })();
        let result = locked
            .and_then(|()| Self::transaction(client, stmts, mode, f))
            .map(|(out, claimed)| {
                self.claims_since_prune
                    .fetch_add(claimed, Ordering::Relaxed);
                out
            });
        if gate == Gate::None {
            return result;
        }
        // Released whatever the transaction did (only a broken connection fails to, and its
        // session's end releases it).
        let released = client.execute("SELECT pg_advisory_unlock_all()", &[]);
        let out = result?;
        released?;
        Ok(out)
    }

    /// Runs `f` in one transaction and commits it: what `f` returned, and how many rows the
    /// transaction claimed.
    fn transaction<T>(
        client: &mut Client,
        stmts: &mut HashMap<&'static str, Statement>,
        mode: Mode<'_>,
        f: &impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<(T, u64), StorageError> {
        let mut tx = client
            .build_transaction()
            .isolation_level(mode.isolation)
            .read_only(mode.read_only)
            .start()?;
        let out = {
            let mut db = PgDb {
                tx: &mut tx,
                stmts,
                feed: Vec::new(),
                filed: HashSet::new(),
                touched: BTreeSet::new(),
            };
            let out = f(&mut db)?;
            let mut claimed = 0;
            if !mode.read_only {
                db.claim_touched()?;
                claimed = db.touched.len() as u64;
            }
            db.flush_feed()?;
            (out, claimed)
        };
        // Acknowledged only once committed (the caller answers after this returns).
        tx.commit()?;
        Ok(out)
    }

    /// Empties `row_claim` while no write runs; `Some(claims removed)`, or `None` when the
    /// writes running (or whatever else holds the table, a backup) did not let go within
    /// `PRUNE_WAIT`, the claims then staying for the next time.
    ///
    /// Why that is safe: a claim matters only to a transaction that overlapped the one that
    /// wrote it, one whose snapshot was taken before that write committed, so that it does
    /// not see what the write did; its own claim on the same row then fails and it runs again
    /// (`claim_touched`). A transaction whose snapshot came after the commit sees all of it
    /// and needs no claim. Every write transaction holds the write gate, shared, from before
    /// its snapshot until after its end (`once`; reads claim nothing); holding the gate
    /// exclusively, the prune waits for the writes running to end and keeps new ones from
    /// starting, so while it holds it every claim's writer has committed (or rolled back)
    /// and no transaction is left that could have overlapped it: every claim can go. The
    /// writes let through afterwards take their snapshots after all of them.
    /// TRUNCATE, not DELETE: quick whatever the number of claims and no dead rows left for
    /// vacuum; that it is not MVCC-safe does not matter, as nothing but a write's claim ever
    /// reads the table and no write runs.
    pub fn prune_row_claims(&self) -> Result<Option<u64>, StorageError> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| StorageError::Pool("closed".into()))?;
        let mut conn = pool.get().map_err(|e| StorageError::Pool(e.to_string()))?;
        let client = &mut conn.client;
        client.batch_execute(PRUNE_WAIT)?;
        let pruned = Self::truncate_claims_alone(client);
        // The gate is a session lock: released whatever happened, and the wait reset for the
        // connection's next user.
        let released = client.batch_execute("SELECT pg_advisory_unlock_all(); RESET lock_timeout");
        match pruned {
            Err(StorageError::Postgres(e)) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                released?;
                Ok(None)
            }
            Err(e) => Err(e),
            Ok(claims) => {
                released?;
                Ok(Some(claims))
            }
        }
    }

    /// Takes the write gate exclusively, then empties `row_claim` in a transaction of its own.
    fn truncate_claims_alone(client: &mut Client) -> Result<u64, StorageError> {
        client.execute("SELECT pg_advisory_lock($1)", &[&WRITE_GATE])?;
        let mut tx = client.transaction()?;
        let claims: i64 = tx.query_one("SELECT count(*) FROM row_claim", &[])?.get(0);
        tx.batch_execute("TRUNCATE row_claim")?;
        tx.commit()?;
        Ok(u64::try_from(claims).unwrap_or(0))
    }

    /// Prunes `row_claim` once this process has committed `CLAIMS_BEFORE_PRUNE` claims since
    /// it last tried, or any claim and `PRUNE_EVERY` has passed since (one thread: the one
    /// that takes the count back to 0). A prune that gives up or fails is logged and tried
    /// again after as many claims or as long; the push it follows was committed and stands.
    fn prune_when_due(&self) {
        let due = self
            .options
            .claims_before_prune
            .unwrap_or(CLAIMS_BEFORE_PRUNE);
        let every = self.options.prune_every.unwrap_or(PRUNE_EVERY);
        let claimed = self.claims_since_prune.load(Ordering::Relaxed);
        let quiet_long = || {
            self.last_prune
                .lock()
                .is_ok_and(|last| last.elapsed() >= every)
        };
        if claimed == 0
            || (claimed < due && !quiet_long())
            || self
                .claims_since_prune
                .compare_exchange(claimed, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Ok(mut last) = self.last_prune.lock() {
            *last = Instant::now();
        }
        match self.prune_row_claims() {
            Ok(Some(claims)) => {
                crate::metrics::log("row_claims_pruned", &[("claims", claims.into())])
            }
            Ok(None) => {
                crate::metrics::log("row_claims_prune_postponed", &[("claimed", claimed.into())])
            }
            Err(e) => crate::metrics::log(
                "row_claims_prune_failed",
                &[("detail", e.to_string().into())],
            ),
        }
    }

    fn write<T>(
        &self,
        f: impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mode = Mode {
            isolation: IsolationLevel::Serializable,
            read_only: false,
            counties: &[],
        };
        self.run(mode, f)
    }

    /// A push's transaction: REPEATABLE READ, holding the lock of the pusher's county from
    /// before its snapshot to its end, so the county's pushes run one after the other and each
    /// sees all earlier ones; rows shared with other counties are guarded by their claims
    /// (ARCHITECTURE.md, "Several hub processes").
    fn write_county<T>(
        &self,
        scope: &Scope,
        f: impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let Some(county) = county_lock(scope.county()) else {
            return self.write(f);
        };
        let mode = Mode {
            isolation: IsolationLevel::RepeatableRead,
            read_only: false,
            counties: &[county],
        };
        self.run(mode, f)
    }

    fn read<T>(
        &self,
        f: impl Fn(&mut dyn Db) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mode = Mode {
            isolation: IsolationLevel::RepeatableRead,
            read_only: true,
            counties: &[],
        };
        self.run(mode, f)
    }
}

impl HubStorage for PgStorage {
    fn authenticate(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
        self.read(|db| credentials::authenticate(db, token))
    }

    fn revoked_device(&self, token: &str) -> Result<Option<DeviceAuth>, StorageError> {
        self.read(|db| credentials::revoked_device(db, token))
    }

    fn enrol(
        &self,
        code: &str,
        device_name: &str,
        previous_tokens: &[String],
    ) -> Result<Result<Enrolment, CodeRefusal>, StorageError> {
        self.write(|db| credentials::enrol(db, code, device_name, previous_tokens))
    }

    fn push_cursor(&self, device: &DeviceAuth, origin: Uuid) -> Result<i64, StorageError> {
        self.write(|db| logic::claim_origin(db, device, origin))
    }

    fn push(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<PushOutcome, StorageError> {
        let options = self.options;
        if ops.is_empty() {
            return self.write_county(&device.scope, |db| {
                logic::push(db, device, origin, ops, options)
            });
        }
        // A long push is stored in transactions of PUSH_CHUNK ops, each committed before the
        // next: a conflict retries only its own chunk, and other pushes of the county wait for
        // one chunk at most. The push is answered once the last chunk is committed; cut short,
        // what was committed stays and the device resumes from its cursor as after a cut
        // connection.
        let mut outcome = PushOutcome {
            stored_seq: 0,
            held: Vec::new(),
        };
        for chunk in ops.chunks(PUSH_CHUNK) {
            let part = self.write_county(&device.scope, |db| {
                logic::push(db, device, origin, chunk, options)
            })?;
            outcome.stored_seq = part.stored_seq;
            outcome.held.extend(part.held);
        }
        self.prune_when_due();
        Ok(outcome)
    }

    fn signer_key(&self, origin: Uuid) -> Result<Option<String>, StorageError> {
        self.read(|db| super::signatures::signer_key(db, origin))
    }

    fn keep_signatures(
        &self,
        origin: Uuid,
        key: &str,
        batches: &[bangfu_core::sync::signing::BatchSig],
        seal_key: Option<&str>,
    ) -> Result<(), StorageError> {
        self.write(|db| super::signatures::keep(db, origin, key, batches, seal_key))
    }

    fn signatures_for(&self, ops: &[Op]) -> Result<super::PageSignatures, StorageError> {
        self.read(|db| super::signatures::for_page(db, ops))
    }

    fn blobs_missing(&self, scope: &Scope, hashes: &[String]) -> Result<Vec<String>, StorageError> {
        self.read(|db| super::blobs::missing(db, scope, hashes))
    }

    fn put_blob(
        &self,
        device: &DeviceAuth,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<super::BlobPut, StorageError> {
        let now = super::logic::now_ms();
        self.write(|db| super::blobs::put(db, &device.scope, sha256, bytes, now))
    }

    fn get_blob(&self, scope: &Scope, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|db| super::blobs::get(db, scope, sha256))
    }

    fn pull(&self, scope: &Scope, after: i64, limit: usize) -> Result<PullPage, StorageError> {
        self.read(|db| logic::pull(db, scope, after, limit, false))
    }

    fn pull_snapshot(
        &self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<PullPage, StorageError> {
        self.read(|db| logic::pull(db, scope, after, limit, true))
    }

    fn issue_code_for(
        &self,
        scope: &Scope,
        valid_for: std::time::Duration,
    ) -> Result<IssuedCode, StorageError> {
        let valid_for_ms = i64::try_from(valid_for.as_millis()).unwrap_or(i64::MAX);
        self.write(|db| credentials::issue_code(db, scope, valid_for_ms))
    }

    fn quarantine_cursor(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
    ) -> Result<Option<i64>, StorageError> {
        self.read(|db| logic::quarantine_cursor(db, device, origin))
    }

    fn quarantine(
        &self,
        device: &DeviceAuth,
        origin: Uuid,
        ops: &[Op],
    ) -> Result<Option<PushOutcome>, StorageError> {
        self.write(|db| logic::quarantine(db, device, origin, ops))
    }

    fn create_admin_token(&self, replace: bool) -> Result<Option<String>, StorageError> {
        self.write(|db| credentials::create_admin_token(db, replace))
    }

    fn check_admin(&self, token: &str) -> Result<AdminCheck, StorageError> {
        self.read(|db| credentials::check_admin(db, token))
    }

    fn revoke(&self, device_id: i64) -> Result<bool, StorageError> {
        self.write(|db| logic::revoke(db, device_id))
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError> {
        self.read(logic::devices)
    }

    fn county_rows(
        &self,
        county: &str,
    ) -> Result<
        (
            bangfu_core::sync::county::CountySigner,
            Vec<super::county::Listed>,
        ),
        StorageError,
    > {
        let (key, listed) = self.read(|db| super::county::list_rows(db, county))?;
        let key = match key {
            Some(key) => key,
            None => self.write(|db| super::county::county_key(db, county))?,
        };
        Ok((key, listed))
    }

    fn renew_county_key(
        &self,
        county: &str,
    ) -> Result<bangfu_core::sync::county::CountySigner, StorageError> {
        self.write(|db| super::county::renew_key(db, county))
    }

    fn held(&self) -> Result<Vec<HeldInfo>, StorageError> {
        self.read(logic::held)
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn counts(&self) -> Result<StorageCounts, StorageError> {
        self.read(logic::counts)
    }

    fn conflicts_retried(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_values_round_trip_through_their_bytea_encoding() {
        let cases = [
            FieldValue::Int(-7),
            FieldValue::Real(2.5),
            FieldValue::Text("张三".into()),
            FieldValue::Bytes(vec![0, 1, 2]),
            FieldValue::Bytes(vec![]),
            FieldValue::Text(String::new()),
        ];
        for v in cases {
            let stored = encode_value(&v).unwrap_or_default();
            assert_eq!(decode_value(&stored), v);
        }
        assert_eq!(encode_value(&FieldValue::Null), None);
    }
}
