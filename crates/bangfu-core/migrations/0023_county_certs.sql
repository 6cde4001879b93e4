-- The county's word on device keys that travels where the hub does not reach (issue 15): per
-- device, the newest certificate the county's hub signed for its signing key, its name and
-- scope (`sync::county::DeviceCert`, JSON). Kept only when signed by the county key this copy
-- holds (`meta` `county_key`: learnt from the hub, or confirmed by a person comparing the
-- county's 安全码); carried in this copy's files for the devices whose ops they carry, so a
-- station that never syncs with the hub takes those devices' ops without a clerk confirming
-- each laptop. Nothing in it is about a household or a person.
CREATE TABLE county_cert (
    device    BLOB PRIMARY KEY,
    issued_ms INTEGER NOT NULL,
    cert      TEXT NOT NULL
) WITHOUT ROWID;
