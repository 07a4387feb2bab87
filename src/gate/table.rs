//! The state of one gate as it lies in shared memory, and the admission
//! algorithm on it. Everything here runs under the gate's lock (see
//! `shm::Region::lock`) and is plain safe code, so it is unit-tested on a
//! heap copy.
//!
//! Each request that holds or waits for a permit owns one entry. Waiters
//! carry a ticket from a counter; a release hands the permit straight to the
//! waiter with the lowest ticket (strict FIFO, no barging: a newcomer queues
//! whenever anyone waits). The entry's state word doubles as the waiter's
//! futex, so a release wakes exactly the admitted waiter.

use super::hist::Histogram;
use super::liveness::Owner;
use super::yielding::YieldState;
use std::sync::atomic::{AtomicU32, Ordering};

/// Entries per gate: the most requests that can hold or wait at once,
/// whatever the configuration (limit + queue must fit).
pub const MAX_ENTRIES: usize = 1024;

pub const FREE: u32 = 0;
pub const WAITING: u32 = 1;
pub const HOLDING: u32 = 2;

#[repr(C)]
#[derive(Default)]
pub struct Entry {
    /// FREE / WAITING / HOLDING; the waiter sleeps on this word.
    pub state: AtomicU32,
    pub pid: u32,
    pub ticket: u64,
    /// When it started waiting (monotonic ns), then when it was admitted.
    pub since_ns: u64,
    pub start: u64,
}

#[repr(C)]
pub struct GateState {
    pub next_ticket: u64,
    pub holding: u32,
    pub waiting: u32,
    /// The settings last applied, for the status page.
    pub limit: u32,
    pub queue_max: u32,
    pub wait_max_ms: u64,
    pub admitted: u64,
    pub shed: u64,
    pub timed_out: u64,
    pub reclaimed: u64,
    pub last_reclaim_ns: u64,
    /// Wait before admission of every admitted request, in microseconds.
    pub waits: Histogram,
    /// The adaptive limit of a gate that yields (object writes).
    pub yielding: YieldState,
    pub entries: [Entry; MAX_ENTRIES],
}

impl Default for GateState {
    fn default() -> Self {
        GateState {
            next_ticket: 0,
            holding: 0,
            waiting: 0,
            limit: 0,
            queue_max: 0,
            wait_max_ms: 0,
            admitted: 0,
            shed: 0,
            timed_out: 0,
            reclaimed: 0,
            last_reclaim_ns: 0,
            waits: Histogram::default(),
            yielding: YieldState::default(),
            entries: std::array::from_fn(|_| Entry::default()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub limit: u32,
    pub queue: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Enter {
    /// Admitted at once; holds entry .0.
    Holding(usize),
    /// Queued in entry .0: sleep on its state word.
    Waiting(usize),
    /// The queue is full (or the table is): refuse now.
    Shed,
}

/// Waiters admitted by a release, to be woken after unlocking.
pub type Woken = Vec<usize>;

impl GateState {
    fn state(&self, i: usize) -> u32 {
        self.entries[i].state.load(Ordering::Relaxed)
    }

    fn set_state(&mut self, i: usize, s: u32) {
        self.entries[i].state.store(s, Ordering::Release);
    }

    fn alloc(&mut self, state: u32, who: Owner, now: u64) -> Option<usize> {
        let i = (0..MAX_ENTRIES).find(|&i| self.state(i) == FREE)?;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let e = &mut self.entries[i];
        e.pid = who.pid;
        e.start = who.start;
        e.ticket = ticket;
        e.since_ns = now;
        self.set_state(i, state);
        Some(i)
    }

    fn note_settings(&mut self, p: Params) {
        self.limit = p.limit;
        self.queue_max = p.queue;
    }

    pub fn enter(&mut self, who: Owner, now: u64, p: Params) -> Enter {
        self.note_settings(p);
        if self.holding < p.limit && self.waiting == 0 {
            if let Some(i) = self.alloc(HOLDING, who, now) {
                self.holding += 1;
                self.admitted += 1;
                self.waits.record(0);
                return Enter::Holding(i);
            }
        } else if self.waiting < p.queue {
            if let Some(i) = self.alloc(WAITING, who, now) {
                self.waiting += 1;
                return Enter::Waiting(i);
            }
        }
        self.shed += 1;
        Enter::Shed
    }

    /// Gives back the permit held in entry `i`; returns the waiters to wake.
    pub fn leave(&mut self, i: usize, now: u64, p: Params) -> Woken {
        if self.state(i) == HOLDING {
            self.set_state(i, FREE);
            self.holding = self.holding.saturating_sub(1);
        }
        self.promote(now, p)
    }

    /// A waiter gave up (its wait ran out). Returns false when it was
    /// admitted in the meantime: then it holds a permit after all.
    pub fn cancel(&mut self, i: usize) -> bool {
        if self.state(i) != WAITING {
            return false;
        }
        self.set_state(i, FREE);
        self.waiting = self.waiting.saturating_sub(1);
        self.timed_out += 1;
        true
    }

    pub fn is_holding(&self, i: usize) -> bool {
        self.state(i) == HOLDING
    }

    /// Admits waiters in ticket order while permits are free.
    pub fn promote(&mut self, now: u64, p: Params) -> Woken {
        self.note_settings(p);
        let mut woken = Vec::new();
        while self.holding < p.limit && self.waiting > 0 {
            let next = (0..MAX_ENTRIES)
                .filter(|&i| self.state(i) == WAITING)
                .min_by_key(|&i| self.entries[i].ticket);
            let Some(i) = next else {
                self.waiting = 0; // counters were off: the table is the truth
                break;
            };
            let waited_us = now.saturating_sub(self.entries[i].since_ns) / 1000;
            self.entries[i].since_ns = now;
            self.set_state(i, HOLDING);
            self.holding += 1;
            self.waiting -= 1;
            self.admitted += 1;
            self.waits.record(waited_us);
            woken.push(i);
        }
        woken
    }

    /// Frees the entries of dead owners (a child killed while it held or
    /// waited); the caller then promotes.
    pub fn reclaim(&mut self, mut dead: impl FnMut(Owner) -> bool) -> u32 {
        let mut n = 0;
        for i in 0..MAX_ENTRIES {
            let s = self.state(i);
            if s == FREE {
                continue;
            }
            let e = &self.entries[i];
            if dead(Owner {
                pid: e.pid,
                start: e.start,
            }) {
                self.set_state(i, FREE);
                if s == HOLDING {
                    self.holding = self.holding.saturating_sub(1);
                } else {
                    self.waiting = self.waiting.saturating_sub(1);
                }
                n += 1;
            }
        }
        self.reclaimed += u64::from(n);
        n
    }

    /// Recomputes the counters from the entries, after a process died
    /// inside the critical section (the entries are written first and are
    /// each one store, so they are the trustworthy part).
    pub fn repair(&mut self) {
        let (mut h, mut w, mut t) = (0, 0, self.next_ticket);
        for e in self.entries.iter() {
            match e.state.load(Ordering::Relaxed) {
                HOLDING => h += 1,
                WAITING => w += 1,
                _ => continue,
            }
            t = t.max(e.ticket + 1);
        }
        self.holding = h;
        self.waiting = w;
        self.next_ticket = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Owner = Owner { pid: 10, start: 5 };
    const P: Params = Params { limit: 2, queue: 2 };

    #[test]
    fn admits_up_to_the_limit_then_queues_then_sheds() {
        let mut g = Box::<GateState>::default();
        let a = g.enter(ME, 0, P);
        let b = g.enter(ME, 0, P);
        assert!(matches!(a, Enter::Holding(_)) && matches!(b, Enter::Holding(_)));
        let c = g.enter(ME, 0, P);
        let d = g.enter(ME, 0, P);
        assert!(matches!(c, Enter::Waiting(_)) && matches!(d, Enter::Waiting(_)));
        assert_eq!(g.enter(ME, 0, P), Enter::Shed);
        assert_eq!((g.holding, g.waiting, g.shed), (2, 2, 1));
    }

    #[test]
    fn release_admits_waiters_in_ticket_order() {
        let mut g = Box::<GateState>::default();
        let p1 = Params { limit: 1, queue: 8 };
        let Enter::Holding(h) = g.enter(ME, 0, p1) else {
            panic!()
        };
        let waiters: Vec<usize> = (0..5)
            .map(|_| match g.enter(ME, 0, p1) {
                Enter::Waiting(i) => i,
                e => panic!("{e:?}"),
            })
            .collect();
        // The second waiter gives up: it is skipped, the order holds.
        assert!(g.cancel(waiters[1]));
        let mut order = vec![];
        let mut cur = h;
        loop {
            let woken = g.leave(cur, 2000, p1);
            assert!(woken.len() <= 1);
            let Some(&next) = woken.first() else { break };
            order.push(next);
            cur = next;
        }
        assert_eq!(order, vec![waiters[0], waiters[2], waiters[3], waiters[4]]);
        assert_eq!((g.holding, g.waiting, g.timed_out), (0, 0, 1));
        assert_eq!(g.admitted, 5);
    }

    #[test]
    fn newcomers_queue_behind_waiters() {
        let mut g = Box::<GateState>::default();
        let Enter::Holding(h) = g.enter(ME, 0, P) else {
            panic!()
        };
        let Enter::Holding(_) = g.enter(ME, 0, P) else {
            panic!()
        };
        let Enter::Waiting(w) = g.enter(ME, 0, P) else {
            panic!()
        };
        g.leave(h, 0, P);
        assert!(g.is_holding(w));
        // Permits are all taken again; a newcomer waits.
        assert!(matches!(g.enter(ME, 0, P), Enter::Waiting(_)));
    }

    #[test]
    fn cancel_after_promotion_keeps_the_permit() {
        let mut g = Box::<GateState>::default();
        let p1 = Params { limit: 1, queue: 1 };
        let Enter::Holding(h) = g.enter(ME, 0, p1) else {
            panic!()
        };
        let Enter::Waiting(w) = g.enter(ME, 0, p1) else {
            panic!()
        };
        g.leave(h, 0, p1);
        assert!(!g.cancel(w));
        assert!(g.is_holding(w));
    }

    #[test]
    fn reclaims_dead_owners_and_repairs_counters() {
        let mut g = Box::<GateState>::default();
        let dead = Owner { pid: 99, start: 1 };
        g.enter(dead, 0, P);
        g.enter(dead, 0, P);
        let Enter::Waiting(w) = g.enter(ME, 0, P) else {
            panic!()
        };
        assert_eq!(g.reclaim(|o| o.pid == 99), 2);
        assert_eq!(g.promote(0, P), vec![w]);
        assert_eq!((g.holding, g.waiting, g.reclaimed), (1, 0, 2));
        g.holding = 7;
        g.waiting = 3;
        g.repair();
        assert_eq!((g.holding, g.waiting), (1, 0));
    }

    #[test]
    fn zero_queue_sheds_at_once() {
        let mut g = Box::<GateState>::default();
        let p = Params { limit: 1, queue: 0 };
        assert!(matches!(g.enter(ME, 0, p), Enter::Holding(_)));
        assert_eq!(g.enter(ME, 0, p), Enter::Shed);
    }
}
