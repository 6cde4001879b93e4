-- Devices sign what they write (issue 15). All three tables are local to this copy.
--
-- The signature of one write batch: the ops `first_seq..=last_seq` of one device, signed by
-- that device's key over their canonical encoding (see `sync::signing`). This copy's own
-- batches and the ones that arrived signed in files; an export carries them unchanged.
CREATE TABLE op_batch (
    origin INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    sig BLOB NOT NULL,
    PRIMARY KEY (origin, first_seq)
) WITHOUT ROWID;

-- The public keys of the devices this copy has heard of. `confirmed` = a person said the
-- fingerprint is the device's (or it is this copy's own key); `village` = the village code a
-- person gave the device at confirmation, whose households alone it may change.
CREATE TABLE device_key (
    device BLOB PRIMARY KEY,
    public_key BLOB NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    confirmed INTEGER NOT NULL DEFAULT 0,
    village TEXT,
    first_seen_ms INTEGER NOT NULL
);

-- Files that carried ops of devices not confirmed yet: kept whole, imported again once a
-- person confirms the device (the ops already held are duplicates then).
CREATE TABLE held_file (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    source_name TEXT NOT NULL,
    file BLOB NOT NULL
);
