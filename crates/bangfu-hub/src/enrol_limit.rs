//! The per-address limit on refused enrolment attempts: a bounded map in memory, one window
//! per address. Only refusals count (a county office enrolling thirty laptops from one address
//! spends thirty good codes and is never limited); an address with too many refusals in its
//! window is refused before its code is looked at. It is per hub process and forgotten at
//! restart (several processes behind one load balancer each count on their own); the lasting
//! protection is the code's own lock after a few wrong tries, kept in the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many addresses the map keeps: when full, expired windows go first, then the oldest.
/// 4,096 windows are about 200 KiB.
const MAX_ADDRESSES: usize = 4_096;

#[derive(Debug)]
pub struct EnrolLimiter {
    refusals: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl EnrolLimiter {
    /// At most `refusals` refused enrolment attempts per address in any `window`.
    pub fn new(refusals: u32, window: Duration) -> EnrolLimiter {
        EnrolLimiter {
            refusals,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `addr` may try now; `Err(wait)` when it used up its refusals, with how long
    /// until its window ends.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        // A panic elsewhere cannot leave a window half-written: the map is safe to take over.
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&key_of(addr)) {
            Some(w) if now.duration_since(w.started) < self.window && w.count >= self.refusals => {
                Err(self.window.saturating_sub(now.duration_since(w.started)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one refused attempt from `addr` at `now`.
    pub fn refused(&self, addr: IpAddr, now: Instant) {
        let key = key_of(addr);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.contains_key(&key) && seen.len() >= MAX_ADDRESSES {
            let window = self.window;
            seen.retain(|_, w| now.duration_since(w.started) < window);
            if seen.len() >= MAX_ADDRESSES {
                // Still full of live windows (many addresses at once): the oldest quarter
                // goes, so a flood costs one sort per thousand new addresses, not per one.
                let mut starts: Vec<Instant> = seen.values().map(|w| w.started).collect();
                starts.sort_unstable();
                if let Some(cut) = starts.get(MAX_ADDRESSES / 4).copied() {
                    seen.retain(|_, w| w.started > cut);
                }
            }
        }
        let w = seen.entry(key).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(w.started) >= self.window {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        w.count = w.count.saturating_add(1);
    }

    /// How many addresses are being counted (for tests).
    pub fn tracked(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// An IPv6 host usually holds a whole /64: its addresses count as one.
fn key_of(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn an_address_gets_its_refusals_per_window_and_then_waits() {
        let limiter = EnrolLimiter::new(3, Duration::from_secs(600));
        let t0 = Instant::now();
        // (address, seconds after start, refused: counts a refusal, else checks; may try)
        let cases = [
            ("10.0.0.1", 0, true, true),
            ("10.0.0.1", 1, true, true),
            ("10.0.0.1", 2, false, true), // checks alone count nothing
            ("10.0.0.1", 2, true, false), // the third refusal uses them up
            ("10.0.0.1", 3, false, false),
            ("10.0.0.2", 3, false, true), // another address counts on its own
            ("2001:db8::1", 4, true, true),
            ("2001:db8::2", 4, true, true),
            ("2001:db8::ffff", 4, true, false),
            ("2001:db8::abcd", 5, false, false), // the same /64
            ("2001:db8:0:1::1", 5, false, true),
            ("::ffff:10.0.0.1", 6, false, false), // 10.0.0.1 mapped into IPv6
            ("10.0.0.1", 599, false, false),
            ("10.0.0.1", 600, false, true), // its window is over
        ];
        for (addr, s, refused, may_try) in cases {
            let at = t0 + Duration::from_secs(s);
            if refused {
                limiter.refused(ip(addr), at);
            }
            assert_eq!(
                limiter.check(ip(addr), at).is_ok(),
                may_try,
                "{addr} at {s}s"
            );
        }
        assert_eq!(
            limiter.check(ip("10.0.0.1"), t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(590))
        );
    }

    #[test]
    fn the_map_stays_bounded_under_many_addresses() {
        let limiter = EnrolLimiter::new(1, Duration::from_secs(600));
        let t0 = Instant::now();
        let addr = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        for i in 0..(MAX_ADDRESSES as u32 * 3) {
            limiter.refused(addr(i), t0 + Duration::from_millis(u64::from(i)));
            assert!(limiter.tracked() <= MAX_ADDRESSES);
        }
        // The newest address is still counted.
        let last = addr(MAX_ADDRESSES as u32 * 3 - 1);
        assert!(limiter.check(last, t0 + Duration::from_secs(20)).is_err());
    }
}
