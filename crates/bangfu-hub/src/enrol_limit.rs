//! The per-address limit on enrolment attempts: a bounded map in memory, one window per
//! address. It is per hub process and forgotten at restart (several processes behind one load
//! balancer each count on their own); the lasting protection is the code's own lock after a
//! few wrong tries, kept in the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many addresses the map keeps: when full, expired windows go first, then the oldest.
/// 4,096 windows are about 200 KiB.
const MAX_ADDRESSES: usize = 4_096;

#[derive(Debug)]
pub struct EnrolLimiter {
    attempts: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl EnrolLimiter {
    /// At most `attempts` enrolment attempts per address in any `window`.
    pub fn new(attempts: u32, window: Duration) -> EnrolLimiter {
        EnrolLimiter {
            attempts,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt from `addr` at `now`; `Err(wait)` when the address has used its
    /// attempts, with how long until its window ends.
    pub fn attempt(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = key_of(addr);
        // A panic elsewhere cannot leave a window half-written: the map is safe to take over.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.contains_key(&key) && seen.len() >= MAX_ADDRESSES {
            let window = self.window;
            seen.retain(|_, w| now.duration_since(w.started) < window);
            if seen.len() >= MAX_ADDRESSES {
                // Still full of live windows (many addresses at once): the oldest quarter
                // goes, so a flood costs one sort per thousand new addresses, not per one.
                let mut starts: Vec<Instant> = seen.values().map(|w| w.started).collect();
                starts.sort_unstable();
                let cut = starts[MAX_ADDRESSES / 4];
                seen.retain(|_, w| w.started > cut);
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
        if w.count >= self.attempts {
            return Err(self.window.saturating_sub(now.duration_since(w.started)));
        }
        w.count += 1;
        Ok(())
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
    fn an_address_gets_its_attempts_per_window_and_no_more() {
        let limiter = EnrolLimiter::new(3, Duration::from_secs(600));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // (address, seconds after start, allowed)
        let cases = [
            ("10.0.0.1", 0, true),
            ("10.0.0.1", 1, true),
            ("10.0.0.1", 2, true),
            ("10.0.0.1", 3, false),
            ("10.0.0.2", 3, true), // another address counts on its own
            ("2001:db8::1", 4, true),
            ("2001:db8::2", 4, true),
            ("2001:db8::ffff", 4, true),
            ("2001:db8::abcd", 5, false), // the same /64
            ("2001:db8:0:1::1", 5, true),
            ("::ffff:10.0.0.1", 6, false), // 10.0.0.1 mapped into IPv6
            ("10.0.0.1", 599, false),
            ("10.0.0.1", 600, true), // a new window
        ];
        for (addr, s, allowed) in cases {
            assert_eq!(
                limiter.attempt(ip(addr), at(s)).is_ok(),
                allowed,
                "{addr} at {s}s"
            );
        }
        assert_eq!(
            limiter
                .attempt(ip("10.0.0.2"), at(10))
                .map(|()| Duration::ZERO),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            limiter
                .attempt(ip("10.0.0.2"), at(10))
                .map(|()| Duration::ZERO),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            limiter.attempt(ip("10.0.0.2"), at(10)),
            Err(Duration::from_secs(593))
        );
    }

    #[test]
    fn the_map_stays_bounded_under_many_addresses() {
        let limiter = EnrolLimiter::new(1, Duration::from_secs(600));
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 * 3) {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let at = t0 + Duration::from_millis(u64::from(i));
            assert!(limiter.attempt(addr, at).is_ok());
            assert!(limiter.tracked() <= MAX_ADDRESSES);
        }
        // The newest address is still counted.
        let last = IpAddr::V4(std::net::Ipv4Addr::from(
            0x0a00_0000 + MAX_ADDRESSES as u32 * 3 - 1,
        ));
        assert!(limiter.attempt(last, t0 + Duration::from_secs(20)).is_err());
    }
}
