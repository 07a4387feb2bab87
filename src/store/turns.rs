//! "At most once per interval in this process" for the opportunistic jobs
//! that ride on requests (expiry sweep, crash recovery): most requests skip
//! them with one atomic load.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Turns {
    /// When the next turn may start (epoch seconds); 0: at once.
    next: AtomicU64,
}

impl Turns {
    /// True for the one caller per `interval` whose turn it is; always true
    /// for the first call.
    pub fn claim(&self, now: u64, interval: u64) -> bool {
        let next = self.next.load(Ordering::Relaxed);
        now >= next
            && self
                .next
                .compare_exchange(next, now + interval, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_per_interval_the_first_at_once() {
        let t = Turns::default();
        assert!(t.claim(1_000, 2));
        assert!(!t.claim(1_001, 2));
        assert!(t.claim(1_002, 2));
        assert!(!t.claim(1_002, 2));
    }
}
