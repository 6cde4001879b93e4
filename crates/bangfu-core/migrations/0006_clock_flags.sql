-- Ops that arrived stamped more than a day ahead of this copy's clock (a laptop whose date
-- was wrong). Local to this copy, never replicated: the review queue lists such an op while it
-- is still a head, so a wrong clock never wins silently; resolving it writes the value again
-- at the present time.
CREATE TABLE clock_flag (
    origin INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
