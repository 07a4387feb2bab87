//! "At most once per interval" for the opportunistic jobs that ride on
//! requests (expiry sweep, crash recovery): most requests skip them with one
//! atomic load. `Turns` is a process's; `claim` also serves a word in shared
//! memory, for the turns the whole node takes (`NodeJob`).

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
        claim(&self.next, now, interval)
    }
}

/// True for the one caller per `interval` whose turn it is by `next` (when
/// the next turn may start, epoch seconds; 0: at once), which it moves on.
pub fn claim(next: &AtomicU64, now: u64, interval: u64) -> bool {
    let due = next.load(Ordering::Relaxed);
    now >= due
        && next
            .compare_exchange(due, now + interval, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// The jobs that take node-wide turns, each by its own word in the storage
/// root's shared memory (`gate::shm`): one process per interval does the
/// job, not each child every interval. Both list a directory that a write
/// flood can keep busy (`intents/` always, `expiring/` when the PUTs carry
/// `X-Delete-After`), and a listing that waits for the journal holds up the
/// request carrying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeJob {
    /// Crash recovery's passes after a process's first (recovery.rs).
    Recovery,
    /// The expiry sweep, and the token reaper on the same turn (expiry.rs).
    ExpirySweep,
}

impl NodeJob {
    pub const COUNT: usize = 2;

    pub fn index(self) -> usize {
        match self {
            NodeJob::Recovery => 0,
            NodeJob::ExpirySweep => 1,
        }
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
