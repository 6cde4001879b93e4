-- Who wrote a batch travels with it (issue 15): the name of the person signed in on the device
-- when it wrote the batch, and the device's Ed25519 signature over the batch's own signature
-- and that name (`sync::signing::author_digest`), so every copy's field history names the
-- person, and no relay can alter the name or put it on another batch. Rows of batches written
-- before this version, or on a copy nobody signs in to, hold neither.
ALTER TABLE op_batch ADD COLUMN author TEXT;
ALTER TABLE op_batch ADD COLUMN author_sig BLOB;
