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
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const T0: u64 = 10_000 * MS;

    /// `holding` writers in flight, none queued.
    fn held(holding: u32) -> Writers {
        Writers {
            holding,
            waiting: 0,
        }
    }

    /// Writers queued behind a full limit: the limit binds.
    const QUEUED: Writers = Writers {
        holding: 0,
        waiting: 3,
    };

    const BOUND: Crowding = Crowding(1500);

    /// `n` samples spread over one interval starting at `t`, `crowded` of
    /// them just over the bound, the others idle (so a congested interval
    /// halves: their mean is below the bound).
    fn interval(y: &mut YieldState, t: u64, n: u32, crowded: u32, max: u32, w: Writers) {
        for i in 0..n {
            let load = if i < crowded { 1501 } else { 0 };
            y.sample(t + u64::from(i), load, BOUND, max, w);
        }
        y.tick(t + INTERVAL_NS, BOUND, max, w);
    }

    #[test]
    fn starts_at_the_configured_limit() {
        let y = YieldState::default();
        assert_eq!(y.current(256), 256);
    }

    #[test]
    fn more_than_half_crowded_halves_down_to_one() {
        let mut y = YieldState::default();
        let mut t = T0;
        let mut seen = vec![];
        for _ in 0..10 {
            interval(&mut y, t, 50, 26, 256, held(0));
            seen.push(y.current(256));
            t += INTERVAL_NS;
        }
        assert_eq!(seen, [128, 64, 32, 16, 8, 4, 2, 1, 1, 1]);
        assert_eq!(y.cuts, 10);
    }

    #[test]
    fn cpus_far_more_crowded_than_the_bound_cut_in_proportion() {
        let mut y = YieldState::default();
        // Every read found 15 runnable threads per CPU, ten times the bound.
        let mut t = T0;
        for i in 0..10 {
            y.sample(t + i, 15_000, BOUND, 256, held(0));
        }
        y.tick(t + INTERVAL_NS, BOUND, 256, held(0));
        assert_eq!(y.current(256), 25);
        // Then 3 per CPU at 25 writers: twice the bound, halved.
        t += INTERVAL_NS;
        for i in 0..10 {
            y.sample(t + i, 3000, BOUND, 256, held(25));
        }
        y.tick(t + INTERVAL_NS, BOUND, 256, held(25));
        assert_eq!(y.current(256), 12);
        assert_eq!(cut(4, BOUND, 1_000_000), 1, "never below one");
        assert_eq!(cut(4, BOUND, 0), 2, "at least halved, whatever the mean");
    }

    #[test]
    fn half_or_fewer_is_not_congestion() {
        let mut y = YieldState::default();
        interval(&mut y, T0, 200, 100, 256, held(0));
        assert_eq!(y.current(256), 256);
        interval(&mut y, T0 + INTERVAL_NS, 200, 101, 256, held(0));
        assert_eq!(y.current(256), 128);
    }

    #[test]
    fn crowding_compares_runnable_threads_per_cpu() {
        let c = Crowding(1500);
        let over = |runnable, cpus| c.exceeded_by(Crowding::load_of(runnable, cpus));
        assert!(!over(3, 2), "1.5 per CPU is allowed");
        assert!(over(4, 2));
        assert!(!over(12, 8));
        assert!(over(13, 8));
        assert!(over(2, 0), "no CPU count reads as one CPU");
        assert_eq!(Crowding::load_of(30, 2), 15_000);
        assert_eq!(Crowding(2000).per_cpu(), 2.0);
    }

    #[test]
    fn does_not_cut_again_before_the_last_cut_took_effect() {
        let mut y = YieldState::default();
        interval(&mut y, T0, 10, 6, 256, held(0));
        assert_eq!(y.current(256), 128);
        // 200 writers admitted under the old limit still run: wait for them.
        interval(&mut y, T0 + INTERVAL_NS, 10, 6, 256, held(200));
        assert_eq!(y.current(256), 128);
        interval(&mut y, T0 + 2 * INTERVAL_NS, 10, 6, 256, held(128));
        assert_eq!(y.current(256), 64);
    }

    #[test]
    fn quiet_intervals_raise_by_an_eighth_up_to_the_maximum() {
        let mut y = YieldState {
            limit: 1,
            ..YieldState::default()
        };
        let mut t = T0;
        let mut seen = vec![];
        for _ in 0..12 {
            interval(&mut y, t, 20, 0, 12, QUEUED);
            seen.push(y.current(12));
            t += INTERVAL_NS;
        }
        assert_eq!(seen, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12]);
    }

    #[test]
    fn quiet_intervals_where_the_limit_does_not_bind_keep_it() {
        let mut y = YieldState {
            limit: 2,
            ..YieldState::default()
        };
        // Reads go on, writers are few: the limit stays where the last
        // flood left it, so the next one starts there, not at the maximum.
        interval(&mut y, T0, 20, 0, 256, held(1));
        interval(&mut y, T0 + INTERVAL_NS, 20, 0, 256, held(0));
        assert_eq!(y.current(256), 2);
        // A writer finds it full: the next quiet interval raises it.
        interval(&mut y, T0 + 2 * INTERVAL_NS, 20, 0, 256, held(2));
        assert_eq!(y.current(256), 3);
        interval(&mut y, T0 + 3 * INTERVAL_NS, 20, 0, 256, QUEUED);
        assert_eq!(y.current(256), 4);
    }

    #[test]
    fn growth_is_reported_so_waiters_can_be_promoted() {
        let mut y = YieldState {
            limit: 4,
            ..YieldState::default()
        };
        y.sample(T0, 0, BOUND, 64, held(4));
        assert!(y.tick(T0 + INTERVAL_NS, BOUND, 64, held(4)));
        assert!(
            !y.tick(T0 + INTERVAL_NS + 1, BOUND, 64, held(4)),
            "not due yet"
        );
    }

    #[test]
    fn no_sensitive_requests_for_a_second_restores_the_limit() {
        let mut y = YieldState {
            limit: 2,
            ..YieldState::default()
        };
        y.sample(T0, 2000, BOUND, 256, held(0));
        y.tick(T0 + IDLE_NS - 1, BOUND, 256, held(0));
        assert_eq!(y.current(256), 1, "a crowded interval cuts");
        assert!(y.tick(T0 + IDLE_NS, BOUND, 256, held(0)));
        assert_eq!(y.current(256), 256);
        // A sample after a long quiet spell starts from a clean interval.
        y.sample(T0 + 3 * IDLE_NS, 2000, BOUND, 256, held(0));
        assert_eq!((y.seen, y.crowded, y.load), (1, 1, 2000));
    }

    #[test]
    fn a_lower_configured_limit_caps_what_was_learned() {
        let y = YieldState {
            limit: 100,
            ..YieldState::default()
        };
        assert_eq!(y.current(8), 8);
    }
}
