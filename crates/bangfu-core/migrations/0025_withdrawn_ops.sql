-- Ops taken out of the log because the device key that signed them gave way to another
-- (issue 15). A device has one signing key for ever, so when this copy records another key
-- for a device in place of the one it held unconfirmed (a key a person confirmed by mistake
-- and took back, or one a forged stick taught before the county's word on the device came),
-- the ops it took under the old key are not that device's: they hold ids the device's real
-- ops need. Both tables are local to this copy.
--
-- The batches to take out: recorded with the key change, in its transaction, and taken out
-- by the next transaction that applies ops, before it applies any (`store::apply::take_out`).
CREATE TABLE withdraw_pending (
    origin    INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    key       BLOB NOT NULL,
    PRIMARY KEY (origin, first_seq)
) WITHOUT ROWID;

-- The ops taken out, as the log held them, with the key that signed them and when: nothing
-- that reached this copy is thrown away, and the audit log names the device and how many.
CREATE TABLE withdrawn_op (
    origin       INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    hlc          INTEGER NOT NULL,
    tbl          INTEGER NOT NULL,
    row          BLOB NOT NULL,
    field        INTEGER NOT NULL,
    val,
    preds        BLOB,
    seen         BLOB,
    key          BLOB NOT NULL,
    withdrawn_ms INTEGER NOT NULL
);

-- Who named each pending id (`superseded`): one entry per naming op's row and field (an op
-- names only heads of its own field). An op that arrives under a pending id is written over
-- only when an op of its own row and field named it; one of another row or field is not the
-- op named — an id a forgery took on a device's own seqs, which an edit was then written
-- over — and becomes a head, as it does at a copy where it came before the op naming it.
-- Entries from before keep the old rule (row empty, field -1: named by some op).
CREATE TABLE superseded_by_row (
    origin INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    row    BLOB NOT NULL,
    field  INTEGER NOT NULL,
    PRIMARY KEY (origin, seq, row, field)
) WITHOUT ROWID;
INSERT INTO superseded_by_row (origin, seq, row, field)
    SELECT origin, seq, x'', -1 FROM superseded;
DROP TABLE superseded;
ALTER TABLE superseded_by_row RENAME TO superseded;

