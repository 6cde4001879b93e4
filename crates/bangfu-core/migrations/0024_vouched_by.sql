-- Whose word confirmed a device key (issue 15): the county key (hex) whose certificate or
-- hub page vouched for it, `hub` when the hub vouched while no county key was believed here,
-- NULL when a person confirmed it or it is this copy's own. When a person takes a renewed
-- county key (改认, the old one may have leaked), the confirmations the old key gave are
-- withdrawn: those devices wait until the new key's certificates vouch for them again.
-- Local to this copy, like the rest of `device_key`; the keys confirmed before this column
-- count as a person's (as they did).
ALTER TABLE device_key ADD COLUMN vouched_by TEXT;
