//! Gate behaviour with real threads on a real shared file.

use super::liveness::Owner;
use super::semaphore::{Gate, Refusal, RECLAIM_EVERY};
use super::settings::{GateConfig, GateSettings};
use super::shm::{monotonic_ns, Region};
use super::table::Enter;
use super::{Gates, Kind};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn settings(limit: u32, queue: u32, wait_ms: u64) -> GateSettings {
    GateSettings {
        limit: Some(limit),
        queue,
        wait: Duration::from_millis(wait_ms),
        yield_at: None,
        per_db: false,
    }
}

fn gates(dir: &std::path::Path, s: GateSettings) -> Arc<Gates> {
    let mut cfg = GateConfig::default();
    cfg.set(Kind::ObjectWrite, s);
    Arc::new(Gates::new(dir, &cfg))
}

fn queued(g: &Gates) -> u32 {
    let r = g.region(&mut |_| {}).unwrap();
    r.lock(Kind::ObjectWrite.index()).unwrap().waiting
}

#[test]
fn never_more_than_the_limit_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(3, 100, 10_000));
    let now = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..12)
        .map(|_| {
            let (g, now, peak) = (g.clone(), now.clone(), peak.clone());
            thread::spawn(move || {
                for _ in 0..20 {
                    let p = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    thread::sleep(Duration::from_micros(300));
                    now.fetch_sub(1, Ordering::SeqCst);
                    drop(p);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    let figs = super::status::figures(&g, &mut |_| {});
    assert_eq!(figs[Kind::ObjectWrite.index()].admitted, 240);
    assert_eq!(
        (
            figs[Kind::ObjectWrite.index()].in_flight,
            figs[Kind::ObjectWrite.index()].queued
        ),
        (0, 0)
    );
}

#[test]
fn waiters_are_admitted_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(1, 100, 10_000));
    let first = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = vec![];
    for i in 0..8 {
        let (g2, order) = (g.clone(), order.clone());
        threads.push(thread::spawn(move || {
            let p = g2.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
            order.lock().unwrap().push(i);
            thread::sleep(Duration::from_millis(2));
            drop(p);
        }));
        // The next thread starts only once this one is queued.
        while queued(&g) != i + 1 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    drop(first);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
}

#[test]
fn sheds_over_the_queue_depth_and_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(1, 1, 150));
    let held = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    let g2 = g.clone();
    let waiter = thread::spawn(move || {
        let t = Instant::now();
        let r = g2.acquire(Kind::ObjectWrite, 0, &mut |_| {});
        (r.err().map(|e| format!("{e:?}")), t.elapsed())
    });
    while queued(&g) != 1 {
        thread::sleep(Duration::from_millis(1));
    }
    let t = Instant::now();
    assert!(matches!(
        g.acquire(Kind::ObjectWrite, 0, &mut |_| {}),
        Err(Refusal::QueueFull)
    ));
    assert!(t.elapsed() < Duration::from_millis(50));
    let (err, waited) = waiter.join().unwrap();
    assert!(err.unwrap_or_default().starts_with("TimedOut"));
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    drop(held);
    let figs = super::status::figures(&g, &mut |_| {});
    assert_eq!(
        (
            figs[Kind::ObjectWrite.index()].shed,
            figs[Kind::ObjectWrite.index()].timed_out
        ),
        (1, 1)
    );
    assert_eq!(
        (
            figs[Kind::ObjectWrite.index()].in_flight,
            figs[Kind::ObjectWrite.index()].queued
        ),
        (0, 0)
    );
}

/// The owner of a "killed child's" entries: a pid that does not exist.
const GHOST: Owner = Owner {
    pid: u32::MAX - 7,
    start: 1,
};

/// `n` entries of the object-write gate taken by GHOST, as a child killed
/// while holding or waiting leaves them.
fn ghost_entries(g: &Gates, region: &Region, n: usize) -> Vec<Enter> {
    let mut st = region.lock(Kind::ObjectWrite.index()).unwrap();
    let p = g.gate(Kind::ObjectWrite).params(&st);
    (0..n)
        .map(|_| st.enter(GHOST, monotonic_ns(), p, 0))
        .collect()
}

#[test]
fn a_dead_owners_permits_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(2, 10, 5_000));
    let region = g.region(&mut |_| {}).unwrap();
    // A "killed child" holds both permits.
    let entered = ghost_entries(&g, region, 2);
    assert!(entered.iter().all(|e| matches!(e, Enter::Holding(_))));
    let t = Instant::now();
    let p = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    assert!(t.elapsed() < RECLAIM_EVERY * 4, "{:?}", t.elapsed());
    drop(p);
    let figs = super::status::figures(&g, &mut |_| {});
    assert_eq!(figs[Kind::ObjectWrite.index()].reclaimed, 2);
    assert_eq!(figs[Kind::ObjectWrite.index()].in_flight, 0);
}

#[test]
fn a_queue_full_of_dead_waiters_does_not_shed_forever() {
    // A child killed with all the permits and a full queue: every new
    // request is shed before it could queue, so the shedding path must
    // look for dead owners too.
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(2, 2, 5_000));
    let region = g.region(&mut |_| {}).unwrap();
    let entered = ghost_entries(&g, region, 4);
    assert!(!entered.iter().any(|e| matches!(e, Enter::Shed)));
    let deadline = Instant::now() + RECLAIM_EVERY * 8;
    while g.shed_if_full(Kind::ObjectWrite, 0, &mut |_| {}) {
        assert!(Instant::now() < deadline, "still shedding");
        thread::sleep(Duration::from_millis(20));
    }
    drop(g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap());
    let figs = super::status::figures(&g, &mut |_| {});
    assert_eq!(figs[Kind::ObjectWrite.index()].reclaimed, 4);
}

#[test]
fn dead_owners_are_probed_outside_the_lock() {
    // Probing reads /proc, which can take milliseconds on a loaded host:
    // the look is claimed under the lock, done without it.
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(1, 4, 5_000));
    let region = g.region(&mut |_| {}).unwrap();
    let gate = g.gate(Kind::ObjectWrite);
    let mut st = region.lock(Kind::ObjectWrite.index()).unwrap();
    let p = gate.params(&st);
    let me = super::liveness::me();
    for o in [me, GHOST, GHOST] {
        st.enter(o, monotonic_ns(), p, 0);
    }
    let owners = gate
        .look_due(&mut st, monotonic_ns())
        .expect("busy and never looked");
    assert_eq!(owners.len(), 2, "each owner once: {owners:?}");
    assert!(
        gate.look_due(&mut st, monotonic_ns()).is_none(),
        "claimed: not due again"
    );
    drop(st);
    gate.reclaim_dead(region, owners);
    let st = region.lock(Kind::ObjectWrite.index()).unwrap();
    assert_eq!((st.holding, st.waiting, st.reclaimed), (1, 0, 2));
}

#[test]
fn the_file_is_shared_between_mappings() {
    // Two Gates on one root stand for two processes: one limit holds.
    let dir = tempfile::tempdir().unwrap();
    let a = gates(dir.path(), settings(1, 0, 100));
    let b = gates(dir.path(), settings(1, 0, 100));
    let held = a.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    assert!(matches!(
        b.acquire(Kind::ObjectWrite, 0, &mut |_| {}),
        Err(Refusal::QueueFull)
    ));
    drop(held);
    assert!(b.acquire(Kind::ObjectWrite, 0, &mut |_| {}).is_ok());
    assert!(dir.path().join("run/gates-v7.shm").exists());
}

#[test]
fn node_jobs_take_one_turn_per_interval_for_the_node() {
    // Two mappings stand for two processes: a turn one takes, the other
    // waits out; each job keeps its own turns.
    use crate::store::turns::NodeJob::{ExpirySweep, Recovery};
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        gates(dir.path(), settings(1, 0, 100)),
        gates(dir.path(), settings(1, 0, 100)),
    );
    let mut quiet = |_: &str| {};
    assert!(a.claim_node_turn(Recovery, 1_000, 2, &mut quiet));
    assert!(!b.claim_node_turn(Recovery, 1_000, 2, &mut quiet));
    assert!(b.claim_node_turn(ExpirySweep, 1_000, 2, &mut quiet));
    assert!(!b.claim_node_turn(Recovery, 1_001, 2, &mut quiet));
    assert!(b.claim_node_turn(Recovery, 1_002, 2, &mut quiet));
    assert!(!a.claim_node_turn(Recovery, 1_003, 2, &mut quiet));
    assert!(!a.claim_node_turn(ExpirySweep, 1_001, 2, &mut quiet));
}

#[test]
fn an_unusable_root_falls_back_to_a_private_region() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let g = gates(&file, settings(1, 0, 100));
    let mut said = vec![];
    let held = g
        .acquire(Kind::ObjectWrite, 0, &mut |m| said.push(m.to_string()))
        .unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).is_err());
    drop(held);
}

#[test]
fn an_off_gate_admits_everyone() {
    let mut s = settings(1, 0, 100);
    s.limit = None;
    let gate = Gate::new(Kind::ObjectWrite, s, Box::new(super::limiter::Fixed(1)));
    let r = Region::anonymous(3).unwrap();
    let _a = gate.acquire(&r, 0).unwrap();
    let _b = gate.acquire(&r, 0).unwrap();
}

#[test]
fn a_full_write_gate_does_not_hold_up_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = GateConfig::default();
    cfg.set(Kind::ObjectWrite, settings(1, 0, 50));
    cfg.set(Kind::ObjectRead, settings(1, 0, 50));
    let g = Gates::new(dir.path(), &cfg);
    let write = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    assert!(matches!(
        g.acquire(Kind::ObjectWrite, 0, &mut |_| {}),
        Err(Refusal::QueueFull)
    ));
    let read = g.acquire(Kind::ObjectRead, 0, &mut |_| {});
    assert!(read.is_ok(), "a read waited behind a write");
    drop(write);
}

#[test]
fn write_gate_yields_to_crowded_sensitive_requests_and_recovers() {
    use super::yielding::INTERVAL_NS;
    let interval = Duration::from_nanos(INTERVAL_NS) + Duration::from_millis(10);
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(8, 16, 5_000);
    s.yield_at = Some(super::yielding::Crowding(1500));
    let g = gates(dir.path(), s);
    let limit_now = |g: &Gates| {
        let r = g.region(&mut |_| {}).unwrap();
        let st = r.lock(Kind::ObjectWrite.index()).unwrap();
        g.gate(Kind::ObjectWrite).params(&st).limit
    };
    assert_eq!(limit_now(&g), 8);
    // Reads that found 4 runnable threads on 2 CPUs (more than 1.5 per
    // CPU, not so many that the cut goes below half): the next interval
    // halves the limit.
    for _ in 0..10 {
        g.note_runnable(4, 2, &mut |_| {});
    }
    thread::sleep(interval);
    g.note_runnable(1, 2, &mut |_| {});
    assert_eq!(limit_now(&g), 4);
    let held: Vec<_> = (0..4)
        .map(|_| g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap())
        .collect();
    let g2 = Arc::clone(&g);
    let fifth = thread::spawn(move || g2.acquire(Kind::ObjectWrite, 0, &mut |_| {}).is_ok());
    let t = Instant::now();
    while queued(&g) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "fifth writer never queued"
        );
        thread::sleep(Duration::from_millis(2));
    }
    // Quiet reads for an interval: the limit grows and the waiter gets in.
    g.note_runnable(3, 2, &mut |_| {});
    thread::sleep(interval);
    g.note_runnable(1, 2, &mut |_| {});
    assert_eq!(limit_now(&g), 5);
    assert!(fifth.join().unwrap(), "the grown limit admitted the waiter");
    drop(held);
    // Reads that find the CPUs uncrowded never cut; and after a second
    // without any, the configured limit is back.
    thread::sleep(Duration::from_millis(1_050));
    let p = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
    assert_eq!(limit_now(&g), 8);
    drop(p);
}

#[test]
fn a_gate_without_yield_ignores_crowding() {
    let dir = tempfile::tempdir().unwrap();
    let g = gates(dir.path(), settings(8, 16, 5_000));
    assert!(!g.write_gate_yields());
    for _ in 0..3 {
        for _ in 0..10 {
            g.note_runnable(64, 2, &mut |_| {});
        }
        thread::sleep(Duration::from_millis(60));
    }
    let r = g.region(&mut |_| {}).unwrap();
    let st = r.lock(Kind::ObjectWrite.index()).unwrap();
    assert_eq!(g.gate(Kind::ObjectWrite).params(&st).limit, 8);
    assert_eq!(st.yielding.seen, 0);
}

/// A container gate of limit 1 and a queue of `queue`, per database or
/// per vhost.
fn container_gates(dir: &std::path::Path, per_db: bool, queue: u32) -> Arc<Gates> {
    let mut cfg = GateConfig::default();
    cfg.set(
        Kind::Container,
        GateSettings {
            per_db,
            ..settings(1, queue, 2_000)
        },
    );
    Arc::new(Gates::new(dir, &cfg))
}

fn container_figures(g: &Gates) -> super::status::GateFigures {
    let figs = super::status::figures(g, &mut |_| {});
    figs[Kind::Container.index()].clone()
}

#[test]
fn a_full_database_queue_sheds_its_own_requests_only() {
    let dir = tempfile::tempdir().unwrap();
    let g = container_gates(dir.path(), true, 1);
    let (hot, cold) = (1, 2); // lanes 1 and 2
    let held = g.acquire(Kind::Container, hot, &mut |_| {}).unwrap();
    let g2 = g.clone();
    let queued = thread::spawn(move || g2.acquire(Kind::Container, hot, &mut |_| {}).is_ok());
    wait_until(|| container_figures(&g).queued == 1);
    // The hot DB's queue is full: it sheds; so does a DB in the same lane.
    assert!(g.shed_if_full(Kind::Container, hot, &mut |_| {}));
    let same_lane = hot + super::table::LANES as u64;
    assert!(g.shed_if_full(Kind::Container, same_lane, &mut |_| {}));
    // Another DB still queues (the limit is the vhost's, the queue its own);
    // both waiters are admitted in turn.
    assert!(!g.shed_if_full(Kind::Container, cold, &mut |_| {}));
    let g3 = g.clone();
    let other = thread::spawn(move || g3.acquire(Kind::Container, cold, &mut |_| {}).is_ok());
    wait_until(|| container_figures(&g).queued == 2);
    drop(held);
    assert!(queued.join().unwrap() && other.join().unwrap());
    let c = container_figures(&g);
    assert_eq!(
        (c.queue_per, c.admitted, c.shed, c.in_flight),
        ("db", 3, 2, 0)
    );
}

#[test]
fn a_vhost_queue_is_one_queue_for_every_database() {
    let dir = tempfile::tempdir().unwrap();
    let g = container_gates(dir.path(), false, 0);
    let _held = g.acquire(Kind::Container, 1, &mut |_| {}).unwrap();
    assert!(g.shed_if_full(Kind::Container, 2, &mut |_| {}));
    let c = container_figures(&g);
    assert_eq!((c.queue_per, c.in_flight, c.shed), ("vhost", 1, 1));
}

fn wait_until(mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out");
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn writers_beyond_a_cut_limit_park_at_a_checkpoint_until_others_finish() {
    use super::yielding::INTERVAL_NS;
    let interval = Duration::from_nanos(INTERVAL_NS) + Duration::from_millis(10);
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(4, 16, 5_000);
    s.yield_at = Some(super::yielding::Crowding(1500));
    let g = gates(dir.path(), s);
    let parked = |g: &Gates| {
        let r = g.region(&mut |_| {}).unwrap();
        let st = r.lock(Kind::ObjectWrite.index()).unwrap();
        (st.parked, st.holding)
    };
    // Four writers in flight; then crowded reads cut the limit to 2.
    let first: Vec<_> = (0..2)
        .map(|_| g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap())
        .collect();
    let passed = Arc::new(AtomicU32::new(0));
    let late: Vec<_> = (0..2)
        .map(|_| {
            let (g, passed) = (Arc::clone(&g), Arc::clone(&passed));
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let t = thread::spawn(move || {
                let p = g.acquire(Kind::ObjectWrite, 0, &mut |_| {}).unwrap();
                rx.recv().unwrap(); // admitted; the checkpoint comes later
                let waited = p.checkpoint();
                passed.fetch_add(1, Ordering::SeqCst);
                rx.recv().unwrap(); // at work until told to finish
                waited
            });
            (t, tx)
        })
        .collect();
    wait_until(|| parked(&g).1 == 4);
    for _ in 0..10 {
        g.note_runnable(4, 2, &mut |_| {});
    }
    thread::sleep(interval);
    g.note_runnable(4, 2, &mut |_| {});
    // Within the limit a checkpoint passes at once; beyond it, it parks.
    for (_, tx) in &late {
        tx.send(()).unwrap();
    }
    wait_until(|| parked(&g).0 == 2);
    assert_eq!(passed.load(Ordering::SeqCst), 0);
    // One of the first two finishes: one parked writer goes on.
    let mut first = first;
    drop(first.pop());
    wait_until(|| passed.load(Ordering::SeqCst) == 1);
    assert_eq!(parked(&g), (1, 3));
    drop(first);
    wait_until(|| passed.load(Ordering::SeqCst) == 2);
    let waits: Vec<Duration> = late
        .into_iter()
        .map(|(t, tx)| {
            tx.send(()).unwrap();
            t.join().unwrap()
        })
        .collect();
    assert!(waits.iter().all(|w| !w.is_zero()), "{waits:?}");
    assert_eq!(parked(&g), (0, 0));
    let r = g.region(&mut |_| {}).unwrap();
    assert_eq!(r.lock(Kind::ObjectWrite.index()).unwrap().stepped_back, 2);
}
