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
