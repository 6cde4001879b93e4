//! Hybrid logical clock: wall-clock milliseconds with a logical counter, so that ops order
//! causally even when a village laptop's clock is days off.

use serde::{Deserialize, Serialize};

/// A timestamp: milliseconds since the Unix epoch in the high 48 bits, a counter in the low 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc(pub u64);

impl Hlc {
    const COUNTER_BITS: u32 = 16;

    pub fn new(millis: u64, counter: u16) -> Hlc {
        Hlc((millis << Self::COUNTER_BITS) | u64::from(counter))
    }

    pub fn millis(self) -> u64 {
        self.0 >> Self::COUNTER_BITS
    }

    pub fn counter(self) -> u16 {
        (self.0 & 0xFFFF) as u16
    }

    /// Stored in SQLite as a signed integer; 48 bits of milliseconds keep it positive.
    pub fn to_i64(self) -> i64 {
        self.0 as i64
    }

    pub fn from_i64(v: i64) -> Hlc {
        Hlc(v.max(0) as u64)
    }
}

/// How far ahead of this machine's clock a received timestamp may be before it is treated as
/// a wrong clock: the local clock does not follow it, and the op is flagged for the station.
pub const MAX_FORWARD_SKEW_MS: u64 = 24 * 3600 * 1000;

/// The local clock. Its state advances only after a transaction commits (see `Store`), so a
/// rolled-back write never leaves the clock ahead of the data.
#[derive(Debug, Clone, Copy)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub fn starting_at(last: Hlc) -> HlcClock {
        HlcClock { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// Whether this clock stands more than [`MAX_FORWARD_SKEW_MS`] ahead of the wall clock:
    /// this device once wrote with a date set too far ahead (or its date is now set too far
    /// back), and the person should check the date.
    pub fn ran_ahead_of(&self, wall_ms: u64) -> bool {
        self.last.millis() > wall_ms.saturating_add(MAX_FORWARD_SKEW_MS)
    }

    /// The timestamp for a new local op at wall time `wall_ms`.
    ///
    /// A clock that stands far ahead of the wall clock (the date was set a year ahead, ops
    /// were written, then the date was fixed) starts again from the wall clock instead of
    /// stamping every later op a year ahead, where each would win every concurrent edit. The
    /// device's own later edits still supersede its earlier ones: they name them as
    /// predecessors, whatever their clocks say.
    pub fn tick(&mut self, wall_ms: u64) -> Hlc {
        if self.ran_ahead_of(wall_ms) {
            self.last = Hlc::new(wall_ms, 0);
            return self.last;
        }
        let next = if wall_ms > self.last.millis() {
            Hlc::new(wall_ms, 0)
        } else if self.last.counter() == u16::MAX {
            Hlc::new(self.last.millis() + 1, 0)
        } else {
            Hlc::new(self.last.millis(), self.last.counter() + 1)
        };
        self.last = next;
        next
    }

    /// Takes a received timestamp into account. Returns false when it is too far in the future
    /// to follow; the op is still kept (its timestamp is part of every replica's ordering).
    pub fn observe(&mut self, remote: Hlc, wall_ms: u64) -> bool {
        if remote.millis() > wall_ms.saturating_add(MAX_FORWARD_SKEW_MS) {
            return false;
        }
        if remote > self.last {
            self.last = remote;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_strictly_increasing_even_when_the_wall_clock_goes_back() {
        let mut clock = HlcClock::starting_at(Hlc::new(1_000, 0));
        let a = clock.tick(2_000);
        let b = clock.tick(1_500);
        let c = clock.tick(1_500);
        assert!(a < b && b < c);
        assert_eq!(b, Hlc::new(2_000, 1));
    }

    #[test]
    fn counter_overflow_moves_to_the_next_millisecond() {
        let mut clock = HlcClock::starting_at(Hlc::new(5, u16::MAX));
        assert_eq!(clock.tick(1), Hlc::new(6, 0));
    }

    #[test]
    fn a_far_future_timestamp_is_not_followed() {
        let mut clock = HlcClock::starting_at(Hlc::new(1_000, 0));
        let far = Hlc::new(1_000 + MAX_FORWARD_SKEW_MS + 1, 0);
        assert!(!clock.observe(far, 1_000));
        assert_eq!(clock.last(), Hlc::new(1_000, 0));
        let near = Hlc::new(1_000 + MAX_FORWARD_SKEW_MS, 3);
        assert!(clock.observe(near, 1_000));
        assert!(clock.tick(1_000) > near);
    }

    /// Regression: a laptop whose date ran a year ahead kept stamping a year ahead after the
    /// date was fixed (the clock never goes below its last stamp), so its every later edit won
    /// every concurrent one.
    #[test]
    fn a_clock_far_ahead_of_a_fixed_wall_clock_starts_again_from_the_wall() {
        let year = 365 * 24 * 3600 * 1000;
        let now = 1_800_000_000_000;
        let mut clock = HlcClock::starting_at(Hlc::new(now + year, 7));
        assert!(clock.ran_ahead_of(now));
        assert_eq!(clock.tick(now), Hlc::new(now, 0));
        assert!(!clock.ran_ahead_of(now));
        assert_eq!(clock.tick(now), Hlc::new(now, 1));
        // A clock within the bound keeps its strict order.
        let mut near = HlcClock::starting_at(Hlc::new(now + 1000, 0));
        assert_eq!(near.tick(now), Hlc::new(now + 1000, 1));
    }
}
