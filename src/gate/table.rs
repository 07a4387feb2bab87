//! The state of one gate as it lies in shared memory, and the admission
//! algorithm on it. Everything here runs under the gate's lock (see
//! `shm::Region::lock`) and is plain safe code, so it is unit-tested on a
//! heap copy.
//!
//! Each request that holds or waits for a permit owns one entry. Waiters
//! carry a ticket from a counter and a lane (the database they work on, for
//! container and account gates; always 0 for object gates). A release hands
//! the permit straight to a waiter: the lowest ticket of the next lane, in
//! turn, that has waiters (FIFO within a lane, lanes served round-robin, no
//! barging: a newcomer queues whenever anyone waits). The queue bound holds
//! per lane, so a hot database fills and sheds only its own. The entry's
//! state word doubles as the waiter's futex, so a release wakes exactly the
//! admitted waiter.
//!
//! A writer may also step back (`step_back`) at a checkpoint of its work
//! when more writers are active than the write gate's limit now allows (it
//! was cut after they were admitted): its entry becomes PARKED, it keeps
//! its permit (it is counted in `holding`, so no newcomer overtakes it) and
//! sleeps until the active writers fall below the limit; a release wakes
//! the oldest parked writer before any waiter (`promote`).

use super::hist::Histogram;
use super::liveness::Owner;
use super::yielding::{Writers, YieldState};
use std::sync::atomic::{AtomicU32, Ordering};

/// Entries per gate: the most requests that can hold or wait at once,
/// whatever the configuration (limit + queue must fit).
pub const MAX_ENTRIES: usize = 1024;
/// Lanes of a per-database gate: each database hashes to one.
pub const LANES: usize = 64;

pub const FREE: u32 = 0;
pub const WAITING: u32 = 1;
pub const HOLDING: u32 = 2;
/// Holds a permit but stepped back at a checkpoint; sleeps on the word.
pub const PARKED: u32 = 3;

#[repr(C)]
#[derive(Default)]
pub struct Entry {
    /// FREE / WAITING / HOLDING / PARKED; a waiter or a parked writer
    /// sleeps on this word.
    pub state: AtomicU32,
    pub pid: u32,
    pub ticket: u64,
    /// When it started waiting (monotonic ns), then when it was admitted.
    pub since_ns: u64,
    pub start: u64,
    /// The waiter's lane (below `LANES`).
    pub lane: u32,
}

#[repr(C)]
pub struct GateState {
    pub next_ticket: u64,
    /// Permits held, parked ones included.
    pub holding: u32,
    pub waiting: u32,
    /// Holders that stepped back at a checkpoint (`step_back`).
    pub parked: u32,
    /// The settings last applied, for the status page.
    pub limit: u32,
    pub queue_max: u32,
    pub wait_max_ms: u64,
    pub admitted: u64,
    pub shed: u64,
    pub timed_out: u64,
    pub reclaimed: u64,
    /// How many times a writer stepped back (parked) at a checkpoint.
    pub stepped_back: u64,
    pub last_reclaim_ns: u64,
    /// Wait before admission of every admitted request, in microseconds.
    pub waits: Histogram,
    /// The adaptive limit of a gate that yields (object writes).
    pub yielding: YieldState,
    /// Waiters per lane.
    pub lane_waiting: [u32; LANES],
    /// The lane whose turn it is next.
    pub next_lane: u32,
    pub entries: [Entry; MAX_ENTRIES],
}

impl Default for GateState {
    fn default() -> Self {
        GateState {
            next_ticket: 0,
            holding: 0,
            waiting: 0,
            parked: 0,
            limit: 0,
            queue_max: 0,
            wait_max_ms: 0,
            admitted: 0,
            shed: 0,
            timed_out: 0,
            reclaimed: 0,
            stepped_back: 0,
            last_reclaim_ns: 0,
            waits: Histogram::default(),
            yielding: YieldState::default(),
            lane_waiting: [0; LANES],
            next_lane: 0,
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
    /// At work (parked holders not counted: they wait for the limit like
    /// the queued) and queued, for the adaptive write limit.
    pub fn writers(&self) -> Writers {
        Writers {
            holding: self.active(),
            waiting: self.waiting + self.parked,
        }
    }

    fn state(&self, i: usize) -> u32 {
        self.entries[i].state.load(Ordering::Relaxed)
    }

    fn set_state(&mut self, i: usize, s: u32) {
        self.entries[i].state.store(s, Ordering::Release);
    }

    fn alloc(&mut self, state: u32, who: Owner, now: u64, lane: usize) -> Option<usize> {
        let i = (0..MAX_ENTRIES).find(|&i| self.state(i) == FREE)?;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let e = &mut self.entries[i];
        e.pid = who.pid;
        e.start = who.start;
        e.ticket = ticket;
        e.since_ns = now;
        e.lane = lane as u32;
        self.set_state(i, state);
        Some(i)
    }

    fn note_settings(&mut self, p: Params) {
        self.limit = p.limit;
        self.queue_max = p.queue;
    }

    /// True when a request of `lane` would be shed now: no permit free and
    /// its lane's queue at the bound.
    pub fn full(&self, lane: usize, p: Params) -> bool {
        self.holding >= p.limit && self.lane_waiting[lane % LANES] >= p.queue
    }

    pub fn enter(&mut self, who: Owner, now: u64, p: Params, lane: usize) -> Enter {
        self.note_settings(p);
        let lane = lane % LANES;
        if self.holding < p.limit && self.waiting == 0 {
            if let Some(i) = self.alloc(HOLDING, who, now, lane) {
                self.holding += 1;
                self.admitted += 1;
                self.waits.record(0);
                return Enter::Holding(i);
            }
        } else if self.lane_waiting[lane] < p.queue {
            if let Some(i) = self.alloc(WAITING, who, now, lane) {
                self.waiting += 1;
                self.lane_waiting[lane] += 1;
                return Enter::Waiting(i);
            }
        }
        self.shed += 1;
        Enter::Shed
    }

    /// Entry `i` stops waiting (admitted, gave up, or its owner died).
    fn unqueue(&mut self, i: usize) {
        self.waiting = self.waiting.saturating_sub(1);
        let lane = self.entries[i].lane as usize % LANES;
        self.lane_waiting[lane] = self.lane_waiting[lane].saturating_sub(1);
    }

    /// Gives back the permit held in entry `i`; returns the waiters to wake.
    pub fn leave(&mut self, i: usize, now: u64, p: Params) -> Woken {
        let s = self.state(i);
        if s == HOLDING || s == PARKED {
            self.set_state(i, FREE);
            self.holding = self.holding.saturating_sub(1);
            if s == PARKED {
                self.parked = self.parked.saturating_sub(1);
            }
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
        self.unqueue(i);
        self.timed_out += 1;
        true
    }

    pub fn is_holding(&self, i: usize) -> bool {
        self.state(i) == HOLDING
    }

    pub fn is_parked(&self, i: usize) -> bool {
        self.state(i) == PARKED
    }

    /// Holders at work: not parked.
    fn active(&self) -> u32 {
        self.holding.saturating_sub(self.parked)
    }

    /// At a checkpoint of holder `i`: parks it and returns true when more
    /// holders are active than the limit `p` allows (the limit was cut
    /// after they were admitted); it then sleeps until `promote` wakes it.
    pub fn step_back(&mut self, i: usize, p: Params) -> bool {
        if self.state(i) != HOLDING || self.active() <= p.limit {
            return false;
        }
        self.set_state(i, PARKED);
        self.parked += 1;
        self.stepped_back += 1;
        true
    }

    /// A parked holder goes on although the limit does not allow it yet
    /// (it has waited as long as the gate lets anyone wait).
    pub fn resume(&mut self, i: usize) {
        if self.state(i) == PARKED {
            self.set_state(i, HOLDING);
            self.parked = self.parked.saturating_sub(1);
        }
    }

    /// Wakes parked holders, oldest first, while fewer are active than the
    /// limit; then admits waiters while permits are free: the lanes that
    /// have waiters in turn, each its lowest ticket.
    pub fn promote(&mut self, now: u64, p: Params) -> Woken {
        self.note_settings(p);
        let mut woken = Vec::new();
        while self.parked > 0 && self.active() < p.limit {
            let Some(i) = (0..MAX_ENTRIES)
                .filter(|&i| self.state(i) == PARKED)
                .min_by_key(|&i| self.entries[i].ticket)
            else {
                self.repair();
                break;
            };
            self.set_state(i, HOLDING);
            self.parked -= 1;
            woken.push(i);
        }
        while self.holding < p.limit && self.waiting > 0 {
            let Some(i) = self.next_waiter() else {
                self.repair(); // counters were off: the table is the truth
                if self.waiting == 0 {
                    break;
                }
                continue;
            };
            let waited_us = now.saturating_sub(self.entries[i].since_ns) / 1000;
            self.entries[i].since_ns = now;
            self.set_state(i, HOLDING);
            self.unqueue(i);
            self.holding += 1;
            self.admitted += 1;
            self.waits.record(waited_us);
            woken.push(i);
        }
        woken
    }

    /// The waiter whose turn it is (and moves the turn past its lane).
    fn next_waiter(&mut self) -> Option<usize> {
        let first = self.next_lane as usize % LANES;
        let lane = (0..LANES)
            .map(|k| (first + k) % LANES)
            .find(|&l| self.lane_waiting[l] > 0)?;
        let i = (0..MAX_ENTRIES)
            .filter(|&i| self.state(i) == WAITING && self.entries[i].lane as usize % LANES == lane)
            .min_by_key(|&i| self.entries[i].ticket)?;
        self.next_lane = ((lane + 1) % LANES) as u32;
        Some(i)
    }

    /// Each owner of a held or queued entry, once (a few processes own
    /// up to MAX_ENTRIES entries).
    pub fn owners(&self) -> Vec<Owner> {
        let mut v: Vec<Owner> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let o = Owner {
                pid: e.pid,
                start: e.start,
            };
            if self.state(i) != FREE && !v.contains(&o) {
                v.push(o);
            }
        }
        v
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
                match s {
                    HOLDING => self.holding = self.holding.saturating_sub(1),
                    PARKED => {
                        self.holding = self.holding.saturating_sub(1);
                        self.parked = self.parked.saturating_sub(1);
                    }
                    _ => self.unqueue(i),
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
        let (mut h, mut w, mut parked, mut t) = (0, 0, 0, self.next_ticket);
        let mut lanes = [0u32; LANES];
        for e in self.entries.iter() {
            match e.state.load(Ordering::Relaxed) {
                HOLDING => h += 1,
                PARKED => {
                    h += 1;
                    parked += 1;
                }
                WAITING => {
                    w += 1;
                    lanes[e.lane as usize % LANES] += 1;
                }
                _ => continue,
            }
            t = t.max(e.ticket + 1);
        }
        self.holding = h;
        self.waiting = w;
        self.parked = parked;
        self.lane_waiting = lanes;
        self.next_ticket = t;
    }
}

#[cfg(test)]
mod tests;
