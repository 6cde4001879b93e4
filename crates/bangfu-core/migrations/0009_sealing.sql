-- Sealed changesets (issue 15): the public sealing key (age X25519 recipient, `age1…`) of a
-- device this copy knows, and the signature its device's signing key made over it, so a
-- sealing key is only ever believed for the device whose signing key vouches for it.
-- Local to this copy, like the rest of `device_key`.
ALTER TABLE device_key ADD COLUMN seal_key TEXT;
ALTER TABLE device_key ADD COLUMN seal_sig BLOB;
