//! One gate: a node-wide counting semaphore with a FIFO queue, a queue
//! bound and a maximum wait, on a slot of the shared region. A `Permit`
//! gives its place back when dropped (also when the request panics).

use super::limiter::{Limiter, Sample};
use super::liveness::{self, Owner, Prober};
use super::settings::GateSettings;
use super::shm::{monotonic_ns, Locked, Region};
use super::table::{Enter, GateState, Params, Woken, PARKED, WAITING};
use super::yielding::Crowding;
use super::Kind;
use std::io;
use std::time::{Duration, Instant};

/// How often dead owners are looked for while a gate is full (and how long
/// a waiter sleeps at most between looks): a killed child's permits come
/// back within about this long.
pub const RECLAIM_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub enum Refusal {
    /// The queue is at its bound: shed at once.
    QueueFull,
    /// Waited the configured maximum without getting a permit.
    TimedOut(Duration),
    /// The shared state cannot be locked (should never happen).
    Broken(io::Error),
}

pub struct Gate {
    pub kind: Kind,
    pub settings: GateSettings,
    limiter: Box<dyn Limiter>,
}

/// The right to run one request through a processor.
pub struct Permit<'a> {
    /// Given back when the permit drops.
    _held: Option<Held<'a>>,
    /// Time spent queued before admission.
    pub waited: Duration,
}

struct Held<'a> {
    gate: &'a Gate,
    region: &'a Region,
    entry: usize,
    since: Instant,
    in_flight: u32,
}

impl Permit<'_> {
    /// For a gate that is off: admits at once, holds nothing.
    pub fn unbounded() -> Self {
        Permit {
            _held: None,
            waited: Duration::ZERO,
        }
    }

    /// A point in the holder's work where it may step back: if its gate
    /// yields and more holders are at work than the limit now allows (it was
    /// cut after they were admitted), waits until they are fewer. Returns
    /// the time spent parked. Only to be called where the holder is not in
    /// the middle of anything another request could wait on.
    pub fn checkpoint(&self) -> Duration {
        match &self._held {
            Some(h) => h.gate.checkpoint(h.region, h.entry),
            None => Duration::ZERO,
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let g = self.gate;
        if let Ok(mut st) = g.lock(self.region) {
            let p = g.params(&st);
            let woken = st.leave(self.entry, monotonic_ns(), p);
            drop(st);
            g.wake(self.region, &woken);
        }
        g.limiter.on_release(Sample {
            held: self.since.elapsed(),
            in_flight: self.in_flight,
        });
    }
}

impl Gate {
    pub fn new(kind: Kind, settings: GateSettings, limiter: Box<dyn Limiter>) -> Gate {
        Gate {
            kind,
            settings,
            limiter,
        }
    }

    /// The limit and queue bound in force: the configured limit, or, for a
    /// gate that yields, what the shared adaptive state allows of it.
    pub fn params(&self, st: &GateState) -> Params {
        let max = self.limiter.limit();
        Params {
            limit: match self.settings.yield_at {
                Some(_) => st.yielding.current(max),
                None => max,
            },
            queue: self.settings.queue,
        }
    }

    /// Closes the adaptive limit's interval when due; when the limit grew,
    /// admits the waiters that now fit (returned, to be woken).
    fn adapt(&self, st: &mut Locked<'_>, now: u64) -> Woken {
        let Some(bound) = self.settings.yield_at else {
            return Vec::new();
        };
        let writers = st.writers();
        let grew = st.yielding.tick(now, bound, self.limiter.limit(), writers);
        self.promote_if(grew, st, now)
    }

    /// After the adaptive limit grew: the waiters that now fit.
    fn promote_if(&self, grew: bool, st: &mut Locked<'_>, now: u64) -> Woken {
        if !grew {
            return Vec::new();
        }
        let p = self.params(st);
        st.promote(now, p)
    }

    /// A latency-sensitive request reports how many threads were runnable
    /// on how many CPUs when it began (see `yielding`); a gate that does
    /// not yield ignores it.
    pub fn note_sensitive(&self, region: &Region, runnable: u32, cpus: u32) {
        let Some(bound) = self.settings.yield_at else {
            return;
        };
        let load = Crowding::load_of(runnable, cpus);
        let Ok(mut st) = self.lock(region) else {
            return;
        };
        let now = monotonic_ns();
        let writers = st.writers();
        let grew = st
            .yielding
            .sample(now, load, bound, self.limiter.limit(), writers);
        let woken = self.promote_if(grew, &mut st, now);
        drop(st);
        self.wake(region, &woken);
    }

    fn lock<'r>(&self, region: &'r Region) -> io::Result<Locked<'r>> {
        let mut st = region.lock(self.kind.index())?;
        if st.recovered {
            st.repair();
        }
        st.wait_max_ms = self.settings.wait.as_millis() as u64;
        Ok(st)
    }

    fn wake(&self, region: &Region, woken: &[usize]) {
        for &i in woken {
            region.wake(self.kind.index(), i);
        }
    }

    /// Claims the periodic look for dead owners when the gate is busy and
    /// the last look (by any process) is old enough: returns each owner of
    /// an entry once, for `reclaim_dead` to probe after the lock is given
    /// up. Probing reads /proc, which takes milliseconds on a loaded host;
    /// under the lock it stalled every request of the gate (shed p99 45 ms).
    pub(super) fn look_due(&self, st: &mut Locked<'_>, now: u64) -> Option<Vec<Owner>> {
        let p = self.params(st);
        let busy = st.holding >= p.limit || st.waiting > 0;
        let due = now.saturating_sub(st.last_reclaim_ns) >= RECLAIM_EVERY.as_nanos() as u64;
        if !busy || !due {
            return None;
        }
        st.last_reclaim_ns = now;
        Some(st.owners())
    }

    /// Probes `owners` without the lock, then frees the entries of the dead
    /// ones and admits the waiters that fit. Sound with a stale list: a dead
    /// (pid, start time) never comes back, and a reused pid has another
    /// start time.
    pub(super) fn reclaim_dead(&self, region: &Region, owners: Vec<Owner>) {
        let mut prober = Prober::new();
        let dead: Vec<Owner> = owners.into_iter().filter(|&o| prober.dead(o)).collect();
        if dead.is_empty() {
            return;
        }
        let Ok(mut st) = self.lock(region) else {
            return;
        };
        let woken = if st.reclaim(|o| dead.contains(&o)) > 0 {
            let p = self.params(&st);
            st.promote(monotonic_ns(), p)
        } else {
            Vec::new()
        };
        drop(st);
        self.wake(region, &woken);
    }

    /// Counts a shed and returns true when `lane`'s queue is full right now:
    /// lets the caller refuse before reading a body it would throw away.
    pub fn shed_if_full(&self, region: &Region, lane: usize) -> bool {
        if self.settings.limit.is_none() {
            return false;
        }
        let Ok(mut st) = self.lock(region) else {
            return false;
        };
        let p = self.params(&st);
        let full = st.full(lane, p);
        // Only a request that is shed may look for dead owners here (one
        // about to be admitted must not wait on /proc); without this, a
        // queue full of a killed child's entries would shed forever.
        let look = if full {
            st.shed += 1;
            self.look_due(&mut st, monotonic_ns())
        } else {
            None
        };
        drop(st);
        if let Some(owners) = look {
            self.reclaim_dead(region, owners);
        }
        full
    }

    /// Waits for a permit (FIFO within `lane`, lanes in turn), at most the
    /// configured wait.
    pub fn acquire<'a>(&'a self, region: &'a Region, lane: usize) -> Result<Permit<'a>, Refusal> {
        if self.settings.limit.is_none() {
            return Ok(Permit::unbounded());
        }
        let start = Instant::now();
        let who = liveness::me();
        let mut st = self.lock(region).map_err(Refusal::Broken)?;
        let now = monotonic_ns();
        let woken = self.adapt(&mut st, now);
        let p = self.params(&st);
        let entered = st.enter(who, now, p, lane);
        // Whoever has to wait (or is shed) looks for dead owners when due.
        let look = match entered {
            Enter::Holding(_) => None,
            Enter::Waiting(_) | Enter::Shed => self.look_due(&mut st, now),
        };
        let in_flight = st.holding;
        drop(st);
        self.wake(region, &woken);
        if let Some(owners) = look {
            self.reclaim_dead(region, owners);
        }
        let entry = match entered {
            Enter::Holding(i) => return Ok(self.permit(region, i, start, in_flight)),
            Enter::Shed => return Err(Refusal::QueueFull),
            Enter::Waiting(i) => i,
        };
        let deadline = start + self.settings.wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let outcome = self
                .turn(region, entry, WAITING, left, |st| {
                    if st.is_holding(entry) {
                        Some(Ok(st.holding))
                    } else if left.is_zero() {
                        st.cancel(entry);
                        Some(Err(()))
                    } else {
                        None
                    }
                })
                .map_err(Refusal::Broken)?;
            match outcome {
                Some(Ok(in_flight)) => return Ok(self.permit(region, entry, start, in_flight)),
                Some(Err(())) => return Err(Refusal::TimedOut(start.elapsed())),
                None => {}
            }
        }
    }

    /// One turn of a request asleep on `entry` (queued, or parked at a
    /// checkpoint): sleeps while the entry's word is `asleep` (at most
    /// `left`, and no longer than `RECLAIM_EVERY`), then under the lock
    /// closes the adaptive interval when due and lets `settle` decide; while
    /// it decides nothing (None), looks for dead owners when due, outside
    /// the lock.
    fn turn<T>(
        &self,
        region: &Region,
        entry: usize,
        asleep: u32,
        left: Duration,
        settle: impl FnOnce(&mut Locked<'_>) -> Option<T>,
    ) -> io::Result<Option<T>> {
        if !left.is_zero() {
            region.wait(self.kind.index(), entry, asleep, left.min(RECLAIM_EVERY));
        }
        let mut st = self.lock(region)?;
        let now = monotonic_ns();
        let woken = self.adapt(&mut st, now);
        let outcome = settle(&mut st);
        let look = outcome
            .is_none()
            .then(|| self.look_due(&mut st, now))
            .flatten();
        drop(st);
        self.wake(region, &woken);
        if let Some(owners) = look {
            self.reclaim_dead(region, owners);
        }
        Ok(outcome)
    }

    /// See `Permit::checkpoint`. A parked holder sleeps on its entry's
    /// word, looks for dead owners when due (their permits free the way),
    /// and after the gate's maximum wait goes on regardless: a parked writer
    /// has its request half done and must finish it.
    fn checkpoint(&self, region: &Region, entry: usize) -> Duration {
        if self.settings.yield_at.is_none() {
            return Duration::ZERO;
        }
        let start = Instant::now();
        let Ok(mut st) = self.lock(region) else {
            return Duration::ZERO;
        };
        let p = self.params(&st);
        if !st.step_back(entry, p) {
            return Duration::ZERO;
        }
        drop(st);
        let deadline = start + self.settings.wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let done = self.turn(region, entry, PARKED, left, |st| {
                if !st.is_parked(entry) {
                    Some(())
                } else if left.is_zero() {
                    st.resume(entry);
                    Some(())
                } else {
                    None
                }
            });
            if !matches!(done, Ok(None)) {
                return start.elapsed();
            }
        }
    }

    fn permit<'a>(
        &'a self,
        region: &'a Region,
        entry: usize,
        start: Instant,
        in_flight: u32,
    ) -> Permit<'a> {
        Permit {
            waited: start.elapsed(),
            _held: Some(Held {
                gate: self,
                region,
                entry,
                since: Instant::now(),
                in_flight,
            }),
        }
    }
}
