//! The version vector: per device, the highest seq below which this copy holds every op.

use super::*;

/// Brings a device's entry up to the ops an apply added. The log is read only above what is
/// known to be unbroken: the held contiguous top, or the run's top when the run's distinct
/// ops exactly fill the gap above it.
pub(super) fn advance_version_vector(
    conn: &Connection,
    origin: i64,
    run: Run,
) -> rusqlite::Result<()> {
    let (mut contiguous, max_seq): (i64, i64) = conn
        .prepare_cached("SELECT contiguous, max_seq FROM version_vector WHERE origin = ?1")?
        .query_row([origin], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    if run.lowest > contiguous && run.count == run.top - contiguous {
        contiguous = run.top;
    }
    let max_seq = max_seq.max(run.top);
    if contiguous < max_seq {
        let mut stmt =
            conn.prepare_cached("SELECT seq FROM op WHERE origin = ?1 AND seq > ?2 ORDER BY seq")?;
        let mut rows = stmt.query([origin, contiguous])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            if seq != contiguous + 1 {
                break;
            }
            contiguous = seq;
        }
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO version_vector (origin, contiguous, max_seq) VALUES (?1, ?2, ?3)",
    )?
    .execute([origin, contiguous, max_seq])?;
    Ok(())
}
