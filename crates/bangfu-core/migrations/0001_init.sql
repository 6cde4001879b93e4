-- Bangfu data file, schema 1: the op log, its derived heads and review queue, and the
-- materialized tables of the filing forms. Replicated tables carry no UNIQUE or FOREIGN KEY
-- that a merge could violate: duplicates are reported after a merge, never dropped.

-- Local settings of this copy (device identity, clock, sync positions). Never replicated.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;

-- Every device whose ops this copy holds. `idx` is local; `id` is the device's UUID.
CREATE TABLE device (
    idx  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT ''
);

-- Field names per table code, so an op stores a small number. Names a newer version added are
-- kept here too, and their ops are materialized after an upgrade.
CREATE TABLE field_name (
    idx  INTEGER PRIMARY KEY,
    tbl  INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (tbl, name)
);

-- The op log: one row per field change, keyed by (origin device, its sequence number).
CREATE TABLE op (
    origin INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    hlc    INTEGER NOT NULL,
    tbl    INTEGER NOT NULL,
    row    BLOB NOT NULL,
    field  INTEGER NOT NULL,
    val,
    preds  BLOB,
    seen   BLOB,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;

-- The current heads of each field: its ops that no other op names as a predecessor.
CREATE TABLE head (
    row    BLOB NOT NULL,
    field  INTEGER NOT NULL,
    origin INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (row, field, origin, seq)
) WITHOUT ROWID;

-- Ops that some present op names as a predecessor but that have not arrived yet (pending);
-- an op found here on arrival is not a head.
CREATE TABLE superseded (
    origin INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;

-- The review queue, derived from the heads: kind 1 = a field with several heads (conflict),
-- kind 2 = a deleted row with edits its deleter did not see.
CREATE TABLE review_item (
    row   BLOB NOT NULL,
    field INTEGER NOT NULL,
    kind  INTEGER NOT NULL,
    tbl   INTEGER NOT NULL,
    PRIMARY KEY (row, field, kind)
) WITHOUT ROWID;

-- Per origin: the highest seq held without a gap, and the highest seq held at all.
CREATE TABLE version_vector (
    origin     INTEGER PRIMARY KEY,
    contiguous INTEGER NOT NULL,
    max_seq    INTEGER NOT NULL
);

-- What this copy knows of other copies: the version vector each stated in its last file.
CREATE TABLE peer (
    device     BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    covered    TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Local: unsaved form edits, kept across a closed window or a crash until saved or discarded.
CREATE TABLE draft (
    key        TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Materialized tables: the current value of each field, rebuilt from the heads.
CREATE TABLE village (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    code TEXT, name TEXT, township TEXT, county TEXT, province TEXT, rural_population INTEGER
);

CREATE TABLE household (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    village_id BLOB, code TEXT, group_name TEXT, address TEXT,
    identify_standard TEXT, attribute TEXT, poverty_status TEXT, main_cause TEXT,
    other_causes TEXT, arable_area REAL, forest_area REAL, returned_farmland_area REAL,
    fruit_area REAL, pasture_area REAL, water_area REAL, road_distance_km REAL, road_type TEXT,
    house_area REAL, dangerous_house INTEGER, danger_level TEXT, living_power INTEGER,
    production_power INTEGER, broadcast_tv INTEGER, water_difficult INTEGER, water_safe INTEGER,
    fuel_type TEXT, sanitary_toilet INTEGER, cooperative INTEGER, phone TEXT, bank_name TEXT,
    bank_account TEXT, plan_exit_year INTEGER, development_intent TEXT, remark TEXT
);
CREATE INDEX household_village ON household (village_id, code);
CREATE INDEX household_code ON household (code);

CREATE TABLE member (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, name TEXT, sex TEXT, id_number TEXT, relation TEXT, ethnicity TEXT,
    political_status TEXT, education TEXT, schooling TEXT, health TEXT, disability_category TEXT,
    disability_grade TEXT, labor_skill TEXT, work_status TEXT, work_months INTEGER,
    medical_insurance INTEGER, serious_illness_insurance INTEGER, pension_insurance INTEGER,
    dibao INTEGER, active_military INTEGER, phone TEXT,
    -- Local, derived: pinyin initials of the name, for search.
    initials TEXT
);
CREATE INDEX member_household ON member (household_id);
CREATE INDEX member_id_number ON member (id_number);
CREATE INDEX member_name ON member (name);
CREATE INDEX member_initials ON member (initials);

CREATE TABLE income (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, year INTEGER, wage REAL, business REAL, dividend REAL,
    property_other REAL, family_planning REAL, dibao_allowance REAL, tekun_allowance REAL,
    pension_income REAL, eco_compensation REAL, other_transfer REAL, business_expense REAL
);
CREATE INDEX income_household ON income (household_id, year);

CREATE TABLE helper (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    name TEXT, sex TEXT, unit TEXT, unit_level TEXT, title TEXT, phone TEXT
);

CREATE TABLE pairing (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, helper_id BLOB, start_date TEXT, end_date TEXT
);
CREATE INDEX pairing_household ON pairing (household_id);
CREATE INDEX pairing_helper ON pairing (helper_id);

CREATE TABLE measure (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, year INTEGER, path TEXT, description TEXT, target TEXT, amount REAL,
    funding_source TEXT, status TEXT
);
CREATE INDEX measure_household ON measure (household_id, year);

CREATE TABLE visit (
    id BLOB NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    household_id BLOB, helper_id BLOB, visit_date TEXT, found TEXT, done TEXT
);
CREATE INDEX visit_household ON visit (household_id, visit_date);

-- Local, derived: one line per household for the list screen, kept current on every write.
CREATE TABLE household_summary (
    household_id   BLOB PRIMARY KEY,
    head_name      TEXT NOT NULL DEFAULT '',
    head_id_number TEXT NOT NULL DEFAULT '',
    members        INTEGER NOT NULL DEFAULT 0,
    heads          INTEGER NOT NULL DEFAULT 0,
    last_visit     TEXT
) WITHOUT ROWID;

-- Local, derived: trigram index over each member's name, pinyin initials and ID number.
CREATE VIRTUAL TABLE person_fts USING fts5 (
    text, tokenize = 'trigram', content = '', contentless_delete = 1
);
