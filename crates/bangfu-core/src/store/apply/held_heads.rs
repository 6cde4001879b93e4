//! A bulk load's flushed rows' heads, held in memory until they are written to `row_head` in
//! key order (issue 20).
//!
//! Row ids come in no order a B-tree can follow, so writing each flush's heads as it came
//! would sweep the whole of `row_head` once per flush; held and written together, the table's
//! pages are swept once per write. The fewer writes, the fewer sweeps: each flush's rows are
//! kept as one sorted run packed into three arrays (id, end offset, the encoded heads: 24
//! bytes a row besides the heads, where a map took 80), and a write merges the runs, the
//! newest run's entry winning for a row met again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::heads::{self, HeadKey};

/// One flush's rows, sorted by id, and their encoded heads (an empty entry: no head now).
struct HeldRun {
    ids: Vec<Uuid>,
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl HeldRun {
    fn entry(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn cost(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<Uuid>()
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + self.bytes.capacity()
            + 3 * 16
    }
}

#[derive(Default)]
pub(super) struct HeldHeads {
    runs: Vec<HeldRun>,
    rows: usize,
    bytes: usize,
}

impl HeldHeads {
    /// Holds one flush's rows and heads; `rows` is sorted by id, as a flush writes them.
    pub(super) fn hold_run(&mut self, rows: &[(Uuid, Vec<HeadKey>)]) {
        if rows.is_empty() {
            return;
        }
        let mut run = HeldRun {
            ids: Vec::with_capacity(rows.len()),
            ends: Vec::with_capacity(rows.len()),
            bytes: Vec::new(),
        };
        for (row, keys) in rows {
            run.ids.push(*row);
            run.bytes.extend_from_slice(&heads::encode(keys));
            run.ends.push(run.bytes.len());
        }
        run.bytes.shrink_to_fit();
        self.rows += run.ids.len();
        self.bytes += run.cost();
        self.runs.push(run);
    }

    /// The held heads of a row, as the newest run that holds it has them.
    pub(super) fn get(&self, row: Uuid) -> Option<&[u8]> {
        self.runs
            .iter()
            .rev()
            .find_map(|run| run.ids.binary_search(&row).ok().map(|i| run.entry(i)))
    }

    /// Rows held (a row met in two runs counts twice).
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// About how much memory the held heads take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Writes every held row's newest heads to `row_head` in key order and forgets them.
    pub(super) fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let runs = std::mem::take(&mut self.runs);
        (self.rows, self.bytes) = (0, 0);
        let mut next = vec![0usize; runs.len()];
        // The runs by the row each is at, the newest run first among equal rows.
        let mut heap: BinaryHeap<Reverse<(Uuid, Reverse<usize>)>> = runs
            .iter()
            .enumerate()
            .filter_map(|(r, run)| run.ids.first().map(|&id| Reverse((id, Reverse(r)))))
            .collect();
        let mut insert = heads::insert_statement(conn)?;
        let mut last = None;
        while let Some(Reverse((row, Reverse(r)))) = heap.pop() {
            if last != Some(row) {
                last = Some(row);
                let buf = runs[r].entry(next[r]);
                if buf.is_empty() {
                    heads::store_encoded(conn, row, buf)?;
                } else {
                    insert.execute(params![row.as_bytes().as_slice(), buf])?;
                }
            }
            next[r] += 1;
            if let Some(&id) = runs[r].ids.get(next[r]) {
                heap.push(Reverse((id, Reverse(r))));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row held in two runs is found as the newer run has it; rows of no run are not found.
    #[test]
    fn the_newest_run_holding_a_row_answers_for_it() {
        let mut ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let mut held = HeldHeads::default();
        held.hold_run(&[(ids[0], vec![(1, 1, 1)]), (ids[2], vec![(1, 1, 2)])]);
        held.hold_run(&[(ids[2], vec![(2, 1, 3)]), (ids[3], Vec::new())]);
        assert_eq!(
            held.get(ids[0]),
            Some(heads::encode(&[(1, 1, 1)]).as_slice())
        );
        assert_eq!(
            held.get(ids[2]),
            Some(heads::encode(&[(2, 1, 3)]).as_slice())
        );
        assert_eq!(held.get(ids[3]), Some(&[][..]), "held as having no head");
        assert_eq!(held.get(ids[1]), None);
        assert_eq!(held.get(ids[4]), None);
        assert_eq!(held.rows(), 4);
        assert!(held.bytes() > 0);
    }

    /// A write puts each row's newest heads in `row_head` (over what an earlier write put
    /// there), removes a row whose newest entry has no head, and leaves nothing held.
    #[test]
    fn a_write_keeps_the_newest_heads_of_each_row() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE row_head (row BLOB PRIMARY KEY, heads BLOB NOT NULL) WITHOUT ROWID",
        )
        .unwrap();
        let mut ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let mut held = HeldHeads::default();
        held.hold_run(&[(ids[0], vec![(1, 1, 1)]), (ids[1], vec![(1, 1, 2)])]);
        held.write(&conn).unwrap();
        assert_eq!((held.rows(), held.bytes(), held.get(ids[0])), (0, 0, None));
        // Later: ids[0] changed twice (the newer run wins), ids[1] lost its heads, ids[2] new
        // in the older run only, ids[3] in the newer only.
        held.hold_run(&[(ids[0], vec![(1, 2, 5)]), (ids[2], vec![(3, 1, 7)])]);
        held.hold_run(&[
            (ids[0], vec![(1, 2, 6), (2, 2, 6)]),
            (ids[1], Vec::new()),
            (ids[3], vec![(4, 3, 9)]),
        ]);
        held.write(&conn).unwrap();
        let stored = |row: Uuid| heads::load(&conn, row).unwrap();
        assert_eq!(stored(ids[0]), vec![(1, 2, 6), (2, 2, 6)]);
        assert_eq!(stored(ids[1]), Vec::<HeadKey>::new());
        assert_eq!(stored(ids[2]), vec![(3, 1, 7)]);
        assert_eq!(stored(ids[3]), vec![(4, 3, 9)]);
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM row_head", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 3, "the row with no head is gone");
    }
}
