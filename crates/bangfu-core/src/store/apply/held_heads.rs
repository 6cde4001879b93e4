//! A bulk load's flushed rows' heads, held until the end of the load and then written to
//! `row_head` once, in key order (issue 20).
//!
//! Row ids come in no order a B-tree can follow (they are made on many laptops at different
//! times), so writing each flush's heads as they came would sweep the whole of `row_head` once
//! per flush, and once the table outgrows the page cache each sweep reads its pages back and
//! writes them again. Instead each flush's rows are kept as one sorted run packed into three
//! arrays (id, end offset, the encoded heads: 24 bytes a row besides the heads). When the runs
//! held in memory reach their bound they are merged into one sorted run on disk; at the end
//! every run is merged, the newest entry of a row winning, and `row_head` (empty when a bulk
//! load begins) is filled in one pass in key order: its pages are each written once.
//!
//! The runs on disk are in a temporary file next to the data file that no name points to on
//! Linux (it is gone when the load ends, and after a crash; on Windows it has a `.tmp` name
//! and is deleted when closed, and a power cut can leave it behind), sealed in blocks of about 4 KB with a key
//! made for this load and held only in memory (ChaCha20-Poly1305, the block's offset as its
//! nonce). They hold row ids and the device and sequence numbers of heads, no values; sealed,
//! a copy of the disk taken during a load shows not even that. A row met again after its run
//! went to disk is found through a per-run filter and the run's first id of each block: one
//! block read.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngCore;
use rusqlite::{Connection, params};
use uuid::Uuid;
use zeroize::Zeroize;

use super::heads::{self, HeadKey};
use crate::sync::op::{get_varint, put_varint};

/// About how many bytes of entries a block of a run on disk holds before it is sealed.
const BLOCK: usize = 4096;

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

/// Where a sealed block of a run on disk is, and the first row it holds.
struct BlockRef {
    first: Uuid,
    offset: u64,
    len: u32,
}

/// A run merged from runs held in memory and written to the spill file.
struct SpilledRun {
    blocks: Vec<BlockRef>,
    filter: RunFilter,
}

/// The temporary file of a bulk load's runs on disk and the key that seals its blocks.
struct Spill {
    file: File,
    cipher: ChaCha20Poly1305,
    end: u64,
    /// Oldest first.
    runs: Vec<SpilledRun>,
}

impl Spill {
    fn create(dir: &std::path::Path) -> std::io::Result<Spill> {
        let file = tempfile::tempfile_in(dir)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let cipher = ChaCha20Poly1305::new(&key.into());
        key.zeroize();
        Ok(Spill {
            file,
            cipher,
            end: 0,
            runs: Vec::new(),
        })
    }

    /// A block's nonce: its offset in the file, which no other block of this key has.
    fn nonce(offset: u64) -> Nonce {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&offset.to_le_bytes());
        nonce.into()
    }

    fn write_block(&mut self, first: Uuid, plain: &[u8]) -> std::io::Result<BlockRef> {
        let offset = self.end;
        let sealed = self
            .cipher
            .encrypt(&Self::nonce(offset), plain)
            .map_err(|_| std::io::Error::other("sealing a block of held heads failed"))?;
        // The room is taken before the write: a block written after a failed one never
        // shares its offset, so never its nonce.
        self.end += sealed.len() as u64;
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(&sealed)?;
        Ok(BlockRef {
            first,
            offset,
            len: u32::try_from(sealed.len()).map_err(std::io::Error::other)?,
        })
    }

    fn read_block(&self, block: &BlockRef) -> std::io::Result<Vec<u8>> {
        let mut sealed = vec![0u8; block.len as usize];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(block.offset))?;
        file.read_exact(&mut sealed)?;
        self.cipher
            .decrypt(&Self::nonce(block.offset), sealed.as_slice())
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a block of held heads was changed on disk",
                )
            })
    }
}

/// The next entry of a block from `pos`: the row and the range of its encoded heads.
fn next_entry(block: &[u8], pos: &mut usize) -> Option<(Uuid, Range<usize>)> {
    let id = Uuid::from_slice(block.get(*pos..*pos + 16)?).ok()?;
    *pos += 16;
    let len = usize::try_from(get_varint(block, pos)?).ok()?;
    let range = *pos..pos.checked_add(len)?;
    block.get(range.clone())?;
    *pos = range.end;
    Some((id, range))
}

/// Which rows a run on disk may hold: three bits a row in ten or more (about 2 % of other
/// rows answer "maybe", which costs one block read).
struct RunFilter {
    bits: Vec<u64>,
    mask: u64,
}

impl RunFilter {
    fn for_rows(rows: usize) -> RunFilter {
        let bits = rows.saturating_mul(10).max(64).next_power_of_two();
        RunFilter {
            bits: vec![0; bits / 64],
            mask: bits as u64 - 1,
        }
    }

    fn positions(&self, row: Uuid) -> [usize; 3] {
        let (high, low) = row.as_u64_pair();
        let a = mix(high ^ low.rotate_left(29));
        let b = mix(a ^ 0x9E37_79B9_7F4A_7C15);
        [a & self.mask, (a >> 32) & self.mask, b & self.mask].map(|p| p as usize)
    }

    fn insert(&mut self, row: Uuid) {
        for bit in self.positions(row) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    fn may_contain(&self, row: Uuid) -> bool {
        self.positions(row)
            .iter()
            .all(|&bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// SplitMix64's finalizer: a UUIDv7 starts with its time, so the id itself is far from uniform.
fn mix(mut h: u64) -> u64 {
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// A run read in key order, in memory or on disk.
enum Cursor<'a> {
    Held {
        run: &'a HeldRun,
        at: usize,
    },
    Spilled {
        spill: &'a Spill,
        run: &'a SpilledRun,
        block: usize,
        buf: Vec<u8>,
        pos: usize,
        current: Option<(Uuid, Range<usize>)>,
    },
}

impl<'a> Cursor<'a> {
    fn spilled(spill: &'a Spill, run: &'a SpilledRun) -> std::io::Result<Cursor<'a>> {
        let mut cursor = Cursor::Spilled {
            spill,
            run,
            block: 0,
            buf: Vec::new(),
            pos: 0,
            current: None,
        };
        if let Some(first) = run.blocks.first() {
            if let Cursor::Spilled { buf, .. } = &mut cursor {
                *buf = spill.read_block(first)?;
            }
            cursor.advance()?;
        }
        Ok(cursor)
    }

    fn current(&self) -> Option<(Uuid, &[u8])> {
        match self {
            Cursor::Held { run, at } => run.ids.get(*at).map(|&id| (id, run.entry(*at))),
            Cursor::Spilled { buf, current, .. } => current
                .as_ref()
                .map(|(id, range)| (*id, &buf[range.clone()])),
        }
    }

    /// Moves to the next entry (a spilled run's first one, the first time).
    fn advance(&mut self) -> std::io::Result<()> {
        match self {
            Cursor::Held { at, .. } => *at += 1,
            Cursor::Spilled {
                spill,
                run,
                block,
                buf,
                pos,
                current,
            } => {
                if *pos >= buf.len() && !buf.is_empty() {
                    *block += 1;
                    *pos = 0;
                    *buf = match run.blocks.get(*block) {
                        Some(next) => spill.read_block(next)?,
                        None => Vec::new(),
                    };
                }
                *current = if buf.is_empty() {
                    None
                } else {
                    Some(next_entry(buf, pos).ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "a block of held heads is damaged",
                        )
                    })?)
                };
            }
        }
        Ok(())
    }
}

/// Merges runs (oldest first) in key order and gives each row once, with the entry of the
/// newest run that holds it.
fn merge(
    cursors: &mut [Cursor<'_>],
    mut emit: impl FnMut(Uuid, &[u8]) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    // The runs by the row each is at, the newest run first among equal rows.
    let mut heap: BinaryHeap<Reverse<(Uuid, Reverse<usize>)>> = cursors
        .iter()
        .enumerate()
        .filter_map(|(r, c)| c.current().map(|(id, _)| Reverse((id, Reverse(r)))))
        .collect();
    let mut last = None;
    while let Some(Reverse((row, Reverse(r)))) = heap.pop() {
        if last != Some(row) {
            last = Some(row);
            if let Some((_, buf)) = cursors[r].current() {
                emit(row, buf)?;
            }
        }
        cursors[r].advance().map_err(io_error)?;
        if let Some((id, _)) = cursors[r].current() {
            heap.push(Reverse((id, Reverse(r))));
        }
    }
    Ok(())
}

/// A held entry's rowid and encoded heads.
fn split_entry(entry: &[u8]) -> Option<(i64, &[u8])> {
    let mut pos = 0;
    let rowid = i64::try_from(get_varint(entry, &mut pos)?).ok()?;
    Some((rowid, entry.get(pos..)?))
}

/// The spill file's failures as the store reports a file's: a full disk as a full disk.
fn io_error(e: std::io::Error) -> rusqlite::Error {
    let code = match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            rusqlite::ffi::SQLITE_FULL
        }
        _ => rusqlite::ffi::SQLITE_IOERR,
    };
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some(format!("a bulk load's held heads: {e}")),
    )
}

/// The folder of the spill file: the data file's own (the user chose where it may write),
/// or the system's temporary folder for a file in memory.
fn spill_dir(conn: &Connection) -> std::path::PathBuf {
    conn.path()
        .filter(|p| !p.is_empty())
        .and_then(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()))
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

#[derive(Default)]
pub(super) struct HeldHeads {
    /// In memory, each newer than every run on disk; oldest first.
    runs: Vec<HeldRun>,
    rows: usize,
    bytes: usize,
    spill: Option<Spill>,
}

impl HeldHeads {
    /// Holds one flush's rows, where each is in its table (its rowid, 0 when it is in none
    /// yet) and heads; `rows` is sorted by id, as a flush writes them.
    pub(super) fn hold_run(&mut self, rows: &[(Uuid, i64, Vec<HeadKey>)]) {
        if rows.is_empty() {
            return;
        }
        let mut run = HeldRun {
            ids: Vec::with_capacity(rows.len()),
            ends: Vec::with_capacity(rows.len()),
            bytes: Vec::new(),
        };
        for (row, rowid, keys) in rows {
            run.ids.push(*row);
            // SQLite gives a table's rows positive rowids (and 0 says "in no table yet").
            debug_assert!(*rowid >= 0, "a negative rowid");
            put_varint(&mut run.bytes, u64::try_from(*rowid).unwrap_or(0));
            run.bytes.extend_from_slice(&heads::encode(keys));
            run.ends.push(run.bytes.len());
        }
        run.bytes.shrink_to_fit();
        self.rows += run.ids.len();
        self.bytes += run.cost();
        self.runs.push(run);
    }

    /// Where a held row is in its table (0: in none yet) and its heads, as the newest run that
    /// holds it has them.
    pub(super) fn get(&self, row: Uuid) -> rusqlite::Result<Option<(i64, Vec<HeadKey>)>> {
        let Some(entry) = self.entry(row)? else {
            return Ok(None);
        };
        split_entry(&entry)
            .and_then(|(rowid, heads)| Some((rowid, heads::decode(heads)?)))
            .map(Some)
            .ok_or_else(|| heads::damaged(row.as_bytes()))
    }

    fn entry(&self, row: Uuid) -> rusqlite::Result<Option<Cow<'_, [u8]>>> {
        if let Some(found) = self
            .runs
            .iter()
            .rev()
            .find_map(|run| run.ids.binary_search(&row).ok().map(|i| run.entry(i)))
        {
            return Ok(Some(Cow::Borrowed(found)));
        }
        let Some(spill) = &self.spill else {
            return Ok(None);
        };
        for run in spill.runs.iter().rev() {
            if !run.filter.may_contain(row) {
                continue;
            }
            let at = run.blocks.partition_point(|b| b.first <= row);
            let Some(block) = at.checked_sub(1).map(|b| &run.blocks[b]) else {
                continue;
            };
            let buf = spill.read_block(block).map_err(io_error)?;
            let mut pos = 0;
            while let Some((id, range)) = next_entry(&buf, &mut pos) {
                if id == row {
                    return Ok(Some(Cow::Owned(buf[range].to_vec())));
                }
                if id > row {
                    break;
                }
            }
        }
        Ok(None)
    }

    /// Rows held in memory (a row met in two runs counts twice).
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// About how much memory the runs held in memory take (a run on disk keeps its filter and
    /// block index in memory besides: about 2–3 bytes a row, not counted here).
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many runs are on disk.
    #[cfg(test)]
    fn spilled_runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.runs.len())
    }

    /// Merges the runs held in memory into one run on disk and frees their memory.
    pub(super) fn spill(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if self.runs.is_empty() {
            return Ok(());
        }
        if self.spill.is_none() {
            self.spill = Some(Spill::create(&spill_dir(conn)).map_err(io_error)?);
        }
        let runs = std::mem::take(&mut self.runs);
        let rows = std::mem::take(&mut self.rows);
        self.bytes = 0;
        let Some(spill) = self.spill.as_mut() else {
            return Ok(());
        };
        let mut cursors: Vec<Cursor<'_>> =
            runs.iter().map(|run| Cursor::Held { run, at: 0 }).collect();
        let mut filter = RunFilter::for_rows(rows);
        let mut blocks = Vec::new();
        let mut block: Vec<u8> = Vec::with_capacity(BLOCK + 512);
        let mut first = Uuid::nil();
        merge(&mut cursors, |row, buf| {
            if block.is_empty() {
                first = row;
            }
            block.extend_from_slice(row.as_bytes());
            put_varint(&mut block, buf.len() as u64);
            block.extend_from_slice(buf);
            filter.insert(row);
            if block.len() >= BLOCK {
                blocks.push(spill.write_block(first, &block).map_err(io_error)?);
                block.clear();
            }
            Ok(())
        })?;
        if !block.is_empty() {
            blocks.push(spill.write_block(first, &block).map_err(io_error)?);
        }
        spill.runs.push(SpilledRun { blocks, filter });
        Ok(())
    }

    /// Writes every held row's newest heads to `row_head` in key order and forgets them (the
    /// spill file with them).
    pub(super) fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let runs = std::mem::take(&mut self.runs);
        let spill = self.spill.take();
        (self.rows, self.bytes) = (0, 0);
        let mut cursors: Vec<Cursor<'_>> = Vec::new();
        if let Some(spill) = &spill {
            for run in &spill.runs {
                cursors.push(Cursor::spilled(spill, run).map_err(io_error)?);
            }
        }
        cursors.extend(runs.iter().map(|run| Cursor::Held { run, at: 0 }));
        let mut insert = heads::insert_statement(conn)?;
        merge(&mut cursors, |row, entry| {
            let buf = split_entry(entry)
                .ok_or_else(|| heads::damaged(row.as_bytes()))?
                .1;
            if buf.is_empty() {
                heads::store_encoded(conn, row, buf)
            } else {
                insert
                    .execute(params![row.as_bytes().as_slice(), buf])
                    .map(|_| ())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(held: &HeldHeads, row: Uuid) -> Option<(i64, Vec<HeadKey>)> {
        held.get(row).unwrap()
    }

    fn row_head() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE row_head (row BLOB PRIMARY KEY, heads BLOB NOT NULL) WITHOUT ROWID",
        )
        .unwrap();
        conn
    }

    /// A row held in two runs is found as the newer run has it; rows of no run are not found.
    #[test]
    fn the_newest_run_holding_a_row_answers_for_it() {
        let mut ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let mut held = HeldHeads::default();
        held.hold_run(&[(ids[0], 7, vec![(1, 1, 1)]), (ids[2], 0, vec![(1, 1, 2)])]);
        held.hold_run(&[(ids[2], 9, vec![(2, 1, 3)]), (ids[3], 0, Vec::new())]);
        assert_eq!(got(&held, ids[0]), Some((7, vec![(1, 1, 1)])));
        assert_eq!(
            got(&held, ids[2]),
            Some((9, vec![(2, 1, 3)])),
            "the newer run's, rowid too"
        );
        assert_eq!(
            got(&held, ids[3]),
            Some((0, Vec::new())),
            "held as having no head"
        );
        assert_eq!(got(&held, ids[1]), None);
        assert_eq!(got(&held, ids[4]), None);
        assert_eq!(held.rows(), 4);
        assert!(held.bytes() > 0);
    }

    /// A write puts each row's newest heads in `row_head` (over what an earlier write put
    /// there), removes a row whose newest entry has no head, and leaves nothing held.
    #[test]
    fn a_write_keeps_the_newest_heads_of_each_row() {
        let conn = row_head();
        let mut ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let mut held = HeldHeads::default();
        held.hold_run(&[(ids[0], 1, vec![(1, 1, 1)]), (ids[1], 2, vec![(1, 1, 2)])]);
        held.write(&conn).unwrap();
        assert_eq!(
            (held.rows(), held.bytes(), got(&held, ids[0])),
            (0, 0, None)
        );
        // Later: ids[0] changed twice (the newer run wins), ids[1] lost its heads, ids[2] new
        // in the older run only, ids[3] in the newer only.
        held.hold_run(&[(ids[0], 1, vec![(1, 2, 5)]), (ids[2], 3, vec![(3, 1, 7)])]);
        held.hold_run(&[
            (ids[0], 1, vec![(1, 2, 6), (2, 2, 6)]),
            (ids[1], 2, Vec::new()),
            (ids[3], 1 << 40, vec![(4, 3, 9)]),
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

    /// Runs moved to disk answer as they did in memory, the newest run still winning across
    /// disk and memory; the file holds no row id in the clear; the write at the end merges
    /// both and leaves nothing held.
    #[test]
    fn runs_on_disk_answer_and_merge_as_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("data.sqlite")).unwrap();
        conn.execute_batch(
            "CREATE TABLE row_head (row BLOB PRIMARY KEY, heads BLOB NOT NULL) WITHOUT ROWID",
        )
        .unwrap();
        // Enough rows that a run on disk takes many blocks.
        let mut ids: Vec<Uuid> = (0..3000).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let heads_of = |i: usize, round: i64| vec![(1, 1, i as i64 * 10 + round)];
        let mut held = HeldHeads::default();
        // Round 1: every row, in two runs (the even rows, then the odd ones), to disk.
        let evens: Vec<_> = (0..3000)
            .step_by(2)
            .map(|i| (ids[i], i as i64, heads_of(i, 1)))
            .collect();
        let odds: Vec<_> = (1..3000)
            .step_by(2)
            .map(|i| (ids[i], i as i64, heads_of(i, 1)))
            .collect();
        held.hold_run(&evens);
        held.hold_run(&odds);
        held.spill(&conn).unwrap();
        assert_eq!((held.rows(), held.bytes(), held.spilled_runs()), (0, 0, 1));
        // Round 2, to disk: every third row changed, row 7 lost its heads.
        let mut second: Vec<_> = (0..3000)
            .step_by(3)
            .map(|i| (ids[i], i as i64, heads_of(i, 2)))
            .collect();
        second.push((ids[7], 7, Vec::new()));
        second.sort();
        held.hold_run(&second);
        held.spill(&conn).unwrap();
        // Round 3, in memory: rows 0 and 5 changed again, row 8 lost its heads.
        held.hold_run(&[
            (ids[0], 0, heads_of(0, 3)),
            (ids[5], 5, heads_of(5, 3)),
            (ids[8], 8, Vec::new()),
        ]);
        assert_eq!(held.spilled_runs(), 2);

        let expected = |i: usize| -> Vec<HeadKey> {
            match i {
                0 | 5 => heads_of(i, 3),
                7 | 8 => Vec::new(),
                _ if i.is_multiple_of(3) => heads_of(i, 2),
                _ => heads_of(i, 1),
            }
        };
        for (i, &row) in ids.iter().enumerate() {
            assert_eq!(
                got(&held, row),
                Some((i as i64, expected(i))),
                "row {i} as its newest run has it"
            );
        }
        let never: Vec<Uuid> = (0..2000).map(|_| Uuid::now_v7()).collect();
        assert!(never.iter().all(|&row| got(&held, row).is_none()));

        // Sealed: no row id appears in the file as it is.
        let spill = held.spill.as_ref().unwrap();
        let mut on_disk = Vec::new();
        (&spill.file).seek(SeekFrom::Start(0)).unwrap();
        (&spill.file).read_to_end(&mut on_disk).unwrap();
        assert!(on_disk.len() > 3000 * 16, "every row went to disk");
        let clear: std::collections::HashSet<&[u8]> =
            ids.iter().map(|row| row.as_bytes().as_slice()).collect();
        assert!(
            !on_disk.windows(16).any(|w| clear.contains(w)),
            "a row id is on disk in the clear"
        );
        // And the file has no name in the data file's folder (on Linux: `O_TMPFILE`).
        #[cfg(target_os = "linux")]
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        #[cfg(target_os = "linux")]
        assert_eq!(names, vec![std::ffi::OsString::from("data.sqlite")]);

        held.write(&conn).unwrap();
        assert!(held.spill.is_none() && held.runs.is_empty());
        for (i, &row) in ids.iter().enumerate() {
            assert_eq!(
                heads::load(&conn, row).unwrap(),
                expected(i),
                "row {i} stored"
            );
        }
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM row_head", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 2998, "the rows with no head are not stored");
    }

    /// A block changed on disk is refused, not read as heads.
    #[test]
    fn a_changed_block_on_disk_is_refused() {
        let conn = row_head();
        let mut ids: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        let mut held = HeldHeads::default();
        let run: Vec<_> = ids.iter().map(|&id| (id, 1, vec![(1, 1, 1)])).collect();
        held.hold_run(&run);
        held.spill(&conn).unwrap();
        {
            let spill = held.spill.as_ref().unwrap();
            let mut file = &spill.file;
            file.seek(SeekFrom::Start(3)).unwrap();
            file.write_all(&[0xff]).unwrap();
        }
        assert!(held.get(ids[0]).is_err());
        assert!(held.write(&conn).is_err());
    }
}
