//! The hub's SQLite file: its schema, its pragmas, and how op id lists are stored.

use std::path::Path;

use bangfu_core::sync::OpId;
use rusqlite::Connection;

use super::sql::Db;
use uuid::Uuid;

/// `PRAGMA application_id` of a hub file: "BFHB".
const APPLICATION_ID: i64 = 0x4246_4842;

const SCHEMA: &str = "
-- One-time enrolment codes, stored hashed.
CREATE TABLE enrol_code (
    code_hash  TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    used_ms    INTEGER
) WITHOUT ROWID;

-- Enrolled devices; the token is stored hashed.
CREATE TABLE device (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    name         TEXT NOT NULL,
    enrolled_ms  INTEGER NOT NULL,
    last_push_ms INTEGER,
    revoked_ms   INTEGER
);

-- Per origin (a writer's device id): the enrolled device that pushes its ops, and the
-- highest seq stored without a gap, so an interrupted push resumes exactly.
CREATE TABLE origin (
    origin     BLOB PRIMARY KEY,
    device     INTEGER NOT NULL,
    stored_seq INTEGER NOT NULL
) WITHOUT ROWID;

-- Every op stored once. `pending_scope` is the pusher's scope while the op's household or
-- village is unknown: once known, the op goes only to villages inside that scope.
CREATE TABLE op (
    key    INTEGER PRIMARY KEY,
    origin BLOB NOT NULL,
    seq    INTEGER NOT NULL,
    hlc    INTEGER NOT NULL,
    tbl    INTEGER NOT NULL,
    row    BLOB NOT NULL,
    field  TEXT NOT NULL,
    val,
    preds  BLOB,
    seen   BLOB,
    pending_scope TEXT,
    UNIQUE (origin, seq)
);
CREATE INDEX op_row ON op (row);

-- The villages (12-digit codes) each row belongs to now; `shared` = 1 when only through a
-- helper reference, which carries helper ops and never a row's children.
CREATE TABLE row_scope (
    row     BLOB NOT NULL,
    village TEXT NOT NULL,
    shared  INTEGER NOT NULL,
    PRIMARY KEY (row, village, shared)
) WITHOUT ROWID;

-- The hub's own log: every op, numbered once per village it goes to. Devices pull by
-- position; each scope level reads its own column.
CREATE TABLE feed (
    pos      INTEGER PRIMARY KEY AUTOINCREMENT,
    village  TEXT NOT NULL,
    township TEXT NOT NULL,
    county   TEXT NOT NULL,
    op       INTEGER NOT NULL,
    UNIQUE (village, op)
);
CREATE INDEX feed_village ON feed (village, pos);
CREATE INDEX feed_township ON feed (township, pos);
CREATE INDEX feed_county ON feed (county, pos);
";

/// Schema 2: the scope index follows each row's current parent; refused ops are held; the hub
/// has an epoch. Applied to a new file after `SCHEMA`, and to a schema-1 file by `migrate`.
const SCHEMA_2: &str = "
-- The hub's own settings: `epoch`, a random id given when the database is created, so a device
-- can tell a different hub database from the one it synced with.
CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Enrolments of the same data file: `device` was enrolled showing a token of `earlier` (or of
-- a device enrolled showing one of its tokens). A device may push the origins its earlier
-- enrolments claimed: the file, or a copy of it, holds those ops.
CREATE TABLE device_lineage (
    device  INTEGER NOT NULL,
    earlier INTEGER NOT NULL,
    PRIMARY KEY (device, earlier)
) WITHOUT ROWID;

-- Every op that sets a parent (household -> village, member/income/pairing/measure/visit ->
-- household; a pairing's or visit's helper_id shares the helper, `shared` = 1). `live` = 0
-- once a later op of the same row and field names it as a predecessor.
CREATE TABLE link (
    origin BLOB NOT NULL,
    seq    INTEGER NOT NULL,
    row    BLOB NOT NULL,
    field  TEXT NOT NULL,
    child  BLOB NOT NULL,
    parent BLOB NOT NULL,
    shared INTEGER NOT NULL,
    live   INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
CREATE INDEX link_child ON link (child, live);
CREATE INDEX link_parent ON link (parent, live);

-- The op ids link ops name as predecessors, so a link that arrives after its successor is
-- stored dead.
CREATE TABLE link_pred (
    origin BLOB NOT NULL,
    seq    INTEGER NOT NULL,
    row    BLOB NOT NULL,
    field  TEXT NOT NULL,
    PRIMARY KEY (origin, seq, row, field)
) WITHOUT ROWID;

-- A village row's code (the latest by clock), which roots the index.
CREATE TABLE village_row (
    row  BLOB PRIMARY KEY,
    code TEXT NOT NULL,
    hlc  INTEGER NOT NULL
) WITHOUT ROWID;

-- Villages a row left (a moved household and its children), and when: an edit made there
-- before the move was learnt is still accepted for a while.
CREATE TABLE row_left (
    row     BLOB NOT NULL,
    village TEXT NOT NULL,
    left_ms INTEGER NOT NULL,
    PRIMARY KEY (row, village)
) WITHOUT ROWID;

-- Ops refused and kept aside for the county admin (`bangfu-hub held`): outside the pusher's
-- scope, or an op id the hub holds with other content. They never block the rest of a push.
CREATE TABLE held (
    id      INTEGER PRIMARY KEY,
    origin  BLOB NOT NULL,
    seq     INTEGER NOT NULL,
    device  INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    held_ms INTEGER NOT NULL,
    hlc     INTEGER NOT NULL,
    tbl     INTEGER NOT NULL,
    row     BLOB NOT NULL,
    field   TEXT NOT NULL,
    val,
    preds   BLOB,
    seen    BLOB,
    UNIQUE (origin, seq, reason, hlc, row, field)
);
";

/// Schema 3: the op ids a later op names as predecessor, so a new device can be given only
/// the current heads of its scope (`pull_snapshot`). Ops stored before it are never marked
/// superseded: a snapshot then simply carries them too.
const SCHEMA_3: &str = "
CREATE TABLE superseded (
    origin BLOB NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
";

/// Schema 4: enrolment codes expire and lock. `lookup` is a code's first group (4 of its 12
/// characters, in the clear) so a mistyped code is counted against the code it resembles;
/// codes issued before it expire 7 days after they were made and have no lookup (a wrong try
/// at them is not counted).
const SCHEMA_4: &str = "
ALTER TABLE enrol_code ADD COLUMN expires_ms INTEGER;
ALTER TABLE enrol_code ADD COLUMN wrong_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrol_code ADD COLUMN lookup TEXT;
UPDATE enrol_code SET expires_ms = created_ms + 604800000;
CREATE INDEX enrol_code_lookup ON enrol_code (lookup);
";

/// Schema 5: the archive's files (issue 17): which files attachment ops name, and the files,
/// once each. Ops stored before it that name a file are noted here.
const SCHEMA_5: &str = "
CREATE TABLE blob_ref (
    sha256 TEXT NOT NULL,
    row    BLOB NOT NULL,
    PRIMARY KEY (sha256, row)
) WITHOUT ROWID;
CREATE TABLE blob (
    sha256   TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    bytes    BLOB NOT NULL,
    added_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO blob_ref (sha256, row)
    SELECT val, row FROM op WHERE tbl = 14 AND field = 'sha256' AND typeof(val) = 'text';
";

/// Schema 6: the write batches' signatures devices push with their ops (issue 15), so the hub
/// hands them on with the ops and a laptop checks that the hub altered or invented nothing;
/// `signer` is the signing key an origin's first signed push declared (no other is taken) and
/// the sealing key it last pushed, signed by that key, handed on so others can seal to it.
const SCHEMA_6: &str = "
CREATE TABLE batch_sig (
    origin    BLOB NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    sig       TEXT NOT NULL,
    PRIMARY KEY (origin, first_seq)
) WITHOUT ROWID;
CREATE TABLE signer (
    origin     BLOB PRIMARY KEY,
    public_key TEXT NOT NULL,
    seal_key   TEXT
);
";

/// Schema 7: work teams (驻村工作队, issue 17). A hub of an earlier version stored the ops of
/// the `team_member` table it did not know under the pusher's scope and filed them into no
/// village's feed (no device received them); the mark asks the next open to index their
/// `village_id` links (`scope_index::index_learnt_tables`), which files each member's ops into
/// its village.
const SCHEMA_7: &str = "
INSERT OR IGNORE INTO hub_meta (key, value) VALUES ('reindex_team_member', '1');
";

/// Schema 8: who wrote a batch (issue 15): the name of the person signed in on the device and
/// the device's signature over the batch's signature and that name, pushed with the batch and
/// handed on with it, so every copy's history names the person (`signing::author_digest`).
const SCHEMA_8: &str = "
ALTER TABLE batch_sig ADD COLUMN author TEXT;
ALTER TABLE batch_sig ADD COLUMN author_sig TEXT;
";

/// Schema 9: the county's settings (县级设置, issue 16). A hub of an earlier version stored the
/// ops of the `county_setting` table it did not know under the pusher's scope and filed them
/// into no village's feed; the mark asks the next open to file those a county or township device
/// pushed into every village of its county (`scope_index::index_learnt_tables`).
const SCHEMA_9: &str = "
INSERT OR IGNORE INTO hub_meta (key, value) VALUES ('reindex_county_setting', '1');
";

/// Schema 10: each write batch's second signature, op by op (`parts_sig`, issue 15), pushed
/// with the batch, so a page that carries only some of its ops states the hashes of the others
/// and the receiver checks the ops it has (`signing::BatchPart`). Batches kept before have
/// none: their cut ops go unsigned, as before.
const SCHEMA_10: &str = "
ALTER TABLE batch_sig ADD COLUMN parts_sig TEXT;
";

/// Schema 11: the lineage looked up from the earlier end. The county's device list and a
/// page's signers find, for each signer, the newest enrolment that came from it
/// (`county::list_rows`, `signatures::for_page`): without an index each was a scan of every
/// enrolment, per signer, per request.
const SCHEMA_11: &str = "
CREATE INDEX IF NOT EXISTS device_lineage_earlier ON device_lineage (earlier, device);
";

/// The schema version a hub file is brought to.
const LATEST: i64 = 11;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{0}: not a Bangfu hub database")]
    Foreign(std::path::PathBuf),
    #[error("hub database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Storage(#[from] super::StorageError),
}

/// Opens (creating if new) the hub file. A file of another program is refused untouched.
pub fn open(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    // Acknowledged pushes must survive a power cut: WAL with a full sync on every commit.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Creates the schema in a new file; checks the mark of an existing one and brings it to the
/// latest schema.
pub fn init(conn: &mut Connection, path: &Path) -> Result<(), SchemaError> {
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if app_id == APPLICATION_ID {
        return migrate(conn);
    }
    if app_id != 0 || objects != 0 {
        return Err(SchemaError::Foreign(path.to_path_buf()));
    }
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(SCHEMA_2)?;
    tx.execute_batch(SCHEMA_3)?;
    tx.execute_batch(SCHEMA_4)?;
    tx.execute_batch(SCHEMA_5)?;
    tx.execute_batch(SCHEMA_6)?;
    tx.execute_batch(SCHEMA_7)?;
    tx.execute_batch(SCHEMA_8)?;
    tx.execute_batch(SCHEMA_9)?;
    tx.execute_batch(SCHEMA_10)?;
    tx.execute_batch(SCHEMA_11)?;
    new_epoch(&tx)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", LATEST)?;
    tx.commit()?;
    Ok(())
}

/// Brings an existing hub file to the latest schema, one numbered step at a time.
fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 2 {
        migrate_to_2(conn)?;
    }
    if version < 3 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_3)?;
        tx.pragma_update(None, "user_version", 3)?;
        tx.commit()?;
    }
    if version < 4 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_4)?;
        tx.pragma_update(None, "user_version", 4)?;
        tx.commit()?;
    }
    if version < 5 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_5)?;
        tx.pragma_update(None, "user_version", 5)?;
        tx.commit()?;
    }
    if version < 6 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_6)?;
        tx.pragma_update(None, "user_version", 6)?;
        tx.commit()?;
    }
    if version < 7 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_7)?;
        tx.pragma_update(None, "user_version", 7)?;
        tx.commit()?;
    }
    if version < 8 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_8)?;
        tx.pragma_update(None, "user_version", 8)?;
        tx.commit()?;
    }
    if version < 9 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_9)?;
        tx.pragma_update(None, "user_version", 9)?;
        tx.commit()?;
    }
    if version < 10 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_10)?;
        tx.pragma_update(None, "user_version", 10)?;
        tx.commit()?;
    }
    if version < 11 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_11)?;
        tx.pragma_update(None, "user_version", 11)?;
        tx.commit()?;
    }
    Ok(())
}

/// Schema 1 to 2: the new tables, a new epoch, and the scope index rebuilt from the stored ops
/// in their arrival order (the old index only grew; the feed keeps what it already served).
fn migrate_to_2(conn: &mut Connection) -> Result<(), SchemaError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA_2)?;
    tx.execute_batch("DROP TABLE IF EXISTS edge; DELETE FROM row_scope;")?;
    new_epoch(&tx)?;
    let mut db = super::sqlite::SqliteDb(&tx);
    let rows = db.rows(
        "SELECT key, origin, seq, hlc, tbl, row, field, val, preds, seen, pending_scope
         FROM op ORDER BY key",
        &[],
    )?;
    for r in &rows {
        let (key, op, pending) = (r.int(0)?, super::logic::op_of(&db, r, 1)?, r.opt_text(10)?);
        super::scope_index::index_op(&mut db, &op, key, pending.as_deref(), now, None)?;
    }
    tx.pragma_update(None, "user_version", 2)?;
    tx.commit()?;
    Ok(())
}

fn new_epoch(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let epoch = super::logic::new_epoch();
    tx.execute(
        "INSERT OR REPLACE INTO hub_meta (key, value) VALUES ('epoch', ?1)",
        [epoch],
    )?;
    Ok(())
}

/// The hub's epoch, as made when its database was created.
pub fn epoch(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT value FROM hub_meta WHERE key = 'epoch'", [], |r| {
        r.get(0)
    })
}

/// Op ids as 16-byte device id + 8-byte little-endian seq, back to back.
pub fn encode_ids(ids: &[OpId]) -> Option<Vec<u8>> {
    if ids.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(ids.len() * 24);
    for id in ids {
        out.extend_from_slice(id.origin.as_bytes());
        out.extend_from_slice(&id.seq.to_le_bytes());
    }
    Some(out)
}

pub fn decode_ids(blob: Option<Vec<u8>>) -> Vec<OpId> {
    let Some(blob) = blob else {
        return Vec::new();
    };
    blob.chunks_exact(24)
        .filter_map(|c| {
            let origin = Uuid::from_slice(&c[..16]).ok()?;
            let seq = i64::from_le_bytes(c[16..].try_into().ok()?);
            Some(OpId { origin, seq })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_id_lists_round_trip() {
        let a = Uuid::now_v7();
        let cases = [
            vec![],
            vec![
                OpId { origin: a, seq: 1 },
                OpId {
                    origin: a,
                    seq: i64::MAX,
                },
            ],
        ];
        for ids in cases {
            assert_eq!(decode_ids(encode_ids(&ids)), ids);
        }
    }

    /// The enrolments that came from a laptop are found by index, in a new hub file and in
    /// one of schema 10 brought up to date.
    #[test]
    fn the_lineage_is_searched_from_its_earlier_end_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite");
        let plan = |conn: &Connection| -> String {
            let mut stmt = conn
                .prepare(
                    "EXPLAIN QUERY PLAN SELECT l.device FROM device_lineage l WHERE l.earlier = 7",
                )
                .unwrap();
            let details: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            details.join("; ")
        };
        let mut conn = open(&path).unwrap();
        init(&mut conn, &path).unwrap();
        assert!(
            plan(&conn).contains("device_lineage_earlier"),
            "{}",
            plan(&conn)
        );

        conn.execute_batch("DROP INDEX device_lineage_earlier; PRAGMA user_version = 10;")
            .unwrap();
        assert!(!plan(&conn).contains("device_lineage_earlier"));
        init(&mut conn, &path).unwrap();
        assert!(
            plan(&conn).contains("device_lineage_earlier"),
            "{}",
            plan(&conn)
        );
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, LATEST);
    }
}
