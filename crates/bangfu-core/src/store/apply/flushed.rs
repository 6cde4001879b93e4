//! Which rows a merge into an empty copy has flushed, in a fixed few megabytes whatever the
//! file's size.
//!
//! A merge into a copy without rows skips looking up the stored heads of a row it has not
//! flushed yet (there are none). Knowing that exactly would take a set of every row id, 40
//! bytes or so each: 160 MB for a county of four million rows. A filter of a fixed size (a
//! Bloom filter, two bits per row) can answer "maybe flushed" of a row it never saw, never
//! "not flushed" of one it did; a wrong "maybe" costs one lookup that finds nothing, so the
//! merge stays exact and its memory stays flat.

use uuid::Uuid;

/// Bits of the filter: 2^25, 4 MiB. For two million rows about one new row in a hundred
/// is looked up for nothing, for four million about one in twenty.
const BITS: usize = 1 << 25;

#[derive(Debug, Default)]
pub(super) struct FlushedRows {
    /// Empty until the first row is flushed, so a small apply allocates nothing.
    bits: Vec<u64>,
}

impl FlushedRows {
    pub(super) fn insert(&mut self, row: Uuid) {
        if self.bits.is_empty() {
            self.bits = vec![0; BITS / 64];
        }
        for bit in positions(row) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// Whether the row may have been flushed: `false` only for a row never inserted.
    pub(super) fn may_contain(&self, row: Uuid) -> bool {
        !self.bits.is_empty()
            && positions(row)
                .iter()
                .all(|&bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// The two bits of a row: two halves of one well-mixed hash of its id (a UUIDv7 starts with
/// its time, so the id itself is far from uniform).
fn positions(row: Uuid) -> [usize; 2] {
    let (high, low) = row.as_u64_pair();
    let mut h = high ^ low.rotate_left(29) ^ 0x9E37_79B9_7F4A_7C15;
    // SplitMix64's finalizer.
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    let mask = (BITS - 1) as u64;
    [(h & mask) as usize, ((h >> 32) & mask) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every inserted row is found; of rows never inserted, few are "maybe".
    #[test]
    fn a_flushed_row_is_always_found_and_few_others_are() {
        let mut flushed = FlushedRows::default();
        let inserted: Vec<Uuid> = (0..200_000).map(|_| Uuid::now_v7()).collect();
        assert!(
            !flushed.may_contain(inserted[0]),
            "an empty filter holds nothing"
        );
        for &row in &inserted {
            flushed.insert(row);
        }
        assert!(inserted.iter().all(|&row| flushed.may_contain(row)));
        let wrong = (0..200_000)
            .filter(|_| flushed.may_contain(Uuid::now_v7()))
            .count();
        // Expected about 0.01 %: (1 - e^(-2 * 200,000 / 2^25))^2.
        assert!(
            wrong < 200,
            "{wrong} rows never flushed were taken for flushed"
        );
    }
}
