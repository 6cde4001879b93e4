-- People and roles on a laptop (issue 15). Local to this copy, never synced: the people of a
-- team sign in on the laptop they share, and what they did here is kept here. A file with no
-- `person` row behaves as before people existed (full rights, no sign-in).
--
-- A person of this laptop: `role` is the stable code of `access::Role`; `pin_hash` an Argon2id
-- PHC string; `failed_tries`/`locked_until_ms` bound PIN guessing (a person waits after too
-- many wrong PINs in a row). A disabled person cannot sign in; the row stays for the history.
CREATE TABLE person (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_tries INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER NOT NULL DEFAULT 0
);

-- What was done with full 证件号码 on this laptop: who (the name as it was then), when, what
-- (e.g. the ledger's title) and how many people's numbers it carried.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    person INTEGER,
    person_name TEXT NOT NULL,
    action TEXT NOT NULL,
    what TEXT NOT NULL,
    people INTEGER NOT NULL
);

-- Who was signed in when this copy wrote its own ops `first_seq..=last_seq` (one write batch,
-- beside its signature in `op_batch`): the history of a field shows person, device and time.
CREATE TABLE op_author (
    origin INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    person INTEGER NOT NULL,
    PRIMARY KEY (origin, first_seq)
) WITHOUT ROWID;
