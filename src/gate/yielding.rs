//! The object-write gate yields to latency-sensitive requests.
//!
//! On this kind of machine an object write costs CPU as well as the disk
//! (fsync of file and directory, the block layer, interrupts), so a flood of
//! writers keeps the run queue long and every listing, HEAD or cached GET
//! waits for a CPU: at the write knee (256) their p99 grows 10-20 times,
//! while at 1-2 writers it stays within 2x (docs/benchmarks.md, "Separation"). A fixed
//! low write limit would cost a lone PUT flood most of its throughput, so the
//! write limit adapts instead (AIMD), node-wide, in the write gate's shared
//! state:
//!
//! - every latency-sensitive request (object read, container, account)
//!   reports, as it enters its processor, whether it found the CPUs
//!   crowded: more runnable threads node-wide than the `Crowding` bound
//!   allows (os::runnable_threads). Under fair sharing a CPU-bound piece of
//!   work stretches by about runnable / CPUs, so the bound is what keeps
//!   its latency in proportion;
//! - each `INTERVAL` in which more than half of them found the CPUs
//!   crowded cuts the write limit, by half or in proportion to how far
//!   their mean load is over the bound (`cut`) (once the writers at work under the
//!   old limit are down to it, so one burst does not cut twice: writers
//!   parked at a checkpoint count as waiting); an interval
//!   without raises it by an eighth (at least 1), up to the configured
//!   limit, but only if the limit bound in it (a writer found it full).
//!   Otherwise a lull in writing would let the limit climb back to the
//!   maximum while reads go on, and the next flood would start with every
//!   permit handed out before the first cut could bite (those writers ran
//!   to the end then: ~0.3 s of 4-8x slower reads at 256; now they step
//!   back at their next checkpoint, see `table`). Half, not a tail:
//!   the count is an instant's, and a few crowded instants happen at any
//!   load (measured under a PUT flood, HEADs found p50 / p90 runnable
//!   threads of 2 / 4 at write limit 1, 4 / 6 at 2, 9 / 13 at 8 and
//!   30 / 58 at 256, on 2 CPUs);
//! - with no latency-sensitive request for `IDLE`, nobody needs protecting:
//!   the full limit applies at once.
//!
//! (Until 2026-12-01 each request reported its own wait for a CPU, wall
//! time minus the thread's CPU time; inside Apache `getrusage` lags a
//! running thread by up to a tick, so that "wait" was mostly the request's
//! wall time, and steady listings on an idle machine kept the write limit
//! at 1. docs/gates.md, "What came before".)
//!
//! Plain data under the gate's lock; `now` is passed in, so the rules are
//! unit-tested without sleeping.

/// How crowded the CPUs may be before writes yield: runnable threads per
/// CPU, in thousandths (1500 = 1.5 per CPU), as `yield=1.5` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowding(pub u32);

impl Crowding {
    /// True when a `load` (`load_of`) is more than this allows.
    pub fn exceeded_by(self, load: u64) -> bool {
        load > u64::from(self.0)
    }

    /// How crowded `runnable` threads on `cpus` CPUs are, in the same
    /// unit: runnable threads per CPU, in thousandths.
    pub fn load_of(runnable: u32, cpus: u32) -> u64 {
        u64::from(runnable) * 1000 / u64::from(cpus.max(1))
    }

    /// Runnable threads per CPU, for the status page.
    pub fn per_cpu(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

/// How long one measurement interval lasts.
pub const INTERVAL_NS: u64 = 50_000_000;
/// Without latency-sensitive requests for this long, the limit is restored.
pub const IDLE_NS: u64 = 1_000_000_000;

/// The write gate's demand when the state is updated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Writers {
    /// Writers in flight.
    pub holding: u32,
    /// Writers queued.
    pub waiting: u32,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct YieldState {
    /// The write limit now; 0 = the configured limit (nothing learned yet).
    pub limit: u32,
    /// Latency-sensitive requests seen in the current interval.
    pub seen: u32,
    /// Of which found the CPUs crowded.
    pub crowded: u32,
    /// The sum of what they found (`Crowding::load_of`), for the mean.
    pub load: u64,
    /// 1 when a writer found the limit full in this interval (it bound).
    pub bound: u32,
    /// When the current interval began (monotonic ns).
    pub since_ns: u64,
    /// The last latency-sensitive request (monotonic ns).
    pub last_seen_ns: u64,
    /// How many times the limit was halved (status).
    pub cuts: u64,
}

impl YieldState {
    /// The limit in force, given the configured maximum.
    pub fn current(&self, max: u32) -> u32 {
        match self.limit {
            0 => max,
            l => l.min(max),
        }
    }

    /// A latency-sensitive request came and found `load` runnable threads
    /// per CPU (`Crowding::load_of`). Returns true when the limit grew.
    pub fn sample(&mut self, now: u64, load: u64, bound: Crowding, max: u32, w: Writers) -> bool {
        // Idle until now: this request starts a fresh interval.
        if now.saturating_sub(self.last_seen_ns) >= IDLE_NS {
            self.restart(now);
        }
        self.seen = self.seen.saturating_add(1);
        let crowded = bound.exceeded_by(load);
        self.crowded = self.crowded.saturating_add(u32::from(crowded));
        self.load = self.load.saturating_add(load);
        self.last_seen_ns = now;
        self.tick(now, bound, max, w)
    }

    /// Ends the interval when it is due (called on every sample and on
    /// every write admission or wake-up). Returns true when the limit grew
    /// (waiters may be promoted).
    pub fn tick(&mut self, now: u64, bound: Crowding, max: u32, writers: Writers) -> bool {
        let before = self.current(max);
        let holding = writers.holding;
        if holding >= before || writers.waiting > 0 {
            self.bound = 1;
        }
        if now.saturating_sub(self.last_seen_ns) >= IDLE_NS {
            self.limit = max;
            self.restart(now);
            return max > before;
        }
        if now.saturating_sub(self.since_ns) < INTERVAL_NS {
            return false;
        }
        let congested = u64::from(self.crowded) * 2 > u64::from(self.seen);
        self.limit = if congested {
            if holding <= before {
                self.cuts += 1;
                cut(before, bound, self.load / u64::from(self.seen.max(1)))
            } else {
                before // the last cut has not taken effect yet
            }
        } else if self.seen > 0 && self.bound != 0 {
            before.saturating_add((before / 8).max(1)).min(max)
        } else {
            before
        };
        self.restart(now);
        self.limit > before
    }

    fn restart(&mut self, now: u64) {
        self.seen = 0;
        self.crowded = 0;
        self.load = 0;
        self.bound = 0;
        self.since_ns = now;
    }
}

/// The limit after a congested interval whose samples found a `mean` load:
/// at least halved, and in proportion when the CPUs were far more crowded
/// than the bound (the runnable count follows the write limit closely, so
/// 15 per CPU against a bound of 1.5 means about ten times too many
/// writers). Halving alone took eight intervals, 0.4 s, from 256 to 1.
fn cut(before: u32, bound: Crowding, mean: u64) -> u32 {
    let in_proportion = u64::from(before) * u64::from(bound.0) / mean.max(1);
    (in_proportion.min(u64::from(before / 2)) as u32).max(1)
}

#[cfg(test)]
mod tests;
