-- Parts of write batches this copy holds only some ops of (issue 15): a hub page that cut a
-- batch (a save touching two villages) handed on, with the ops of it this copy's scope takes,
-- the device's signature op by op and the hashes of the batch's other ops, and this copy
-- checked them. Kept so it relays those ops signed in its files: a station that knows the
-- device takes them instead of leaving them aside. `left_out`: per op of the batch whose hash
-- this copy learnt, its seq (8 bytes, little-endian) and SHA-256 (`sync::signing::op_hash`),
-- ascending. One row per cut batch, nothing per op of the log.
CREATE TABLE op_batch_part (
    origin    INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    sig       BLOB NOT NULL,
    left_out  BLOB NOT NULL,
    PRIMARY KEY (origin, first_seq)
) WITHOUT ROWID;
