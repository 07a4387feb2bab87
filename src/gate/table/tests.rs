use super::*;

const ME: Owner = Owner { pid: 10, start: 5 };
const P: Params = Params { limit: 2, queue: 2 };

#[test]
fn admits_up_to_the_limit_then_queues_then_sheds() {
    let mut g = Box::<GateState>::default();
    let a = g.enter(ME, 0, P, 0);
    let b = g.enter(ME, 0, P, 0);
    assert!(matches!(a, Enter::Holding(_)) && matches!(b, Enter::Holding(_)));
    let c = g.enter(ME, 0, P, 0);
    let d = g.enter(ME, 0, P, 0);
    assert!(matches!(c, Enter::Waiting(_)) && matches!(d, Enter::Waiting(_)));
    assert_eq!(g.enter(ME, 0, P, 0), Enter::Shed);
    assert_eq!((g.holding, g.waiting, g.shed), (2, 2, 1));
}

#[test]
fn release_admits_waiters_in_ticket_order() {
    let mut g = Box::<GateState>::default();
    let p1 = Params { limit: 1, queue: 8 };
    let Enter::Holding(h) = g.enter(ME, 0, p1, 0) else {
        panic!()
    };
    let waiters: Vec<usize> = (0..5)
        .map(|_| match g.enter(ME, 0, p1, 0) {
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
    let Enter::Holding(h) = g.enter(ME, 0, P, 0) else {
        panic!()
    };
    let Enter::Holding(_) = g.enter(ME, 0, P, 0) else {
        panic!()
    };
    let Enter::Waiting(w) = g.enter(ME, 0, P, 0) else {
        panic!()
    };
    g.leave(h, 0, P);
    assert!(g.is_holding(w));
    // Permits are all taken again; a newcomer waits.
    assert!(matches!(g.enter(ME, 0, P, 0), Enter::Waiting(_)));
}

#[test]
fn cancel_after_promotion_keeps_the_permit() {
    let mut g = Box::<GateState>::default();
    let p1 = Params { limit: 1, queue: 1 };
    let Enter::Holding(h) = g.enter(ME, 0, p1, 0) else {
        panic!()
    };
    let Enter::Waiting(w) = g.enter(ME, 0, p1, 0) else {
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
    g.enter(dead, 0, P, 0);
    g.enter(dead, 0, P, 0);
    let Enter::Waiting(w) = g.enter(ME, 0, P, 0) else {
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
fn lanes_take_turns_and_each_keeps_its_own_order_and_bound() {
    let mut g = Box::<GateState>::default();
    let p = Params { limit: 1, queue: 3 };
    let Enter::Holding(h) = g.enter(ME, 0, p, 5) else {
        panic!()
    };
    let wait = |g: &mut GateState, lane| match g.enter(ME, 0, p, lane) {
        Enter::Waiting(i) => i,
        e => panic!("{e:?}"),
    };
    // A hot lane queues three, then sheds; a cold lane still queues.
    let hot: Vec<usize> = (0..3).map(|_| wait(&mut g, 5)).collect();
    assert!(g.full(5, p));
    assert_eq!(g.enter(ME, 0, p, 5), Enter::Shed);
    assert!(!g.full(9, p));
    let cold = wait(&mut g, 9);
    assert_eq!(
        g.enter(ME, 0, p, 5 + LANES),
        Enter::Shed,
        "the same lane, full"
    );
    let mut order = vec![];
    let mut cur = h;
    while let Some(&next) = g.leave(cur, 0, p).first() {
        order.push(next);
        cur = next;
    }
    // The cold waiter came after all three hot ones, but gets the
    // second turn: lanes alternate, FIFO within each.
    assert_eq!(order, vec![hot[0], cold, hot[1], hot[2]]);
    assert_eq!(
        (g.holding, g.waiting, g.lane_waiting[5], g.lane_waiting[9]),
        (0, 0, 0, 0)
    );
}

#[test]
fn repair_recounts_the_lanes() {
    let mut g = Box::<GateState>::default();
    let p = Params { limit: 1, queue: 8 };
    g.enter(ME, 0, p, 1);
    g.enter(ME, 0, p, 2);
    g.enter(ME, 0, p, 2);
    g.lane_waiting = [7; LANES];
    g.repair();
    assert_eq!(
        (g.lane_waiting[1], g.lane_waiting[2], g.lane_waiting[3]),
        (0, 2, 0)
    );
}

#[test]
fn writers_beyond_a_cut_limit_park_and_go_on_oldest_first_before_any_waiter() {
    let mut g = Box::<GateState>::default();
    let wide = Params { limit: 4, queue: 8 };
    let held: Vec<usize> = (0..4)
        .map(|_| match g.enter(ME, 0, wide, 0) {
            Enter::Holding(i) => i,
            e => panic!("{e:?}"),
        })
        .collect();
    let Enter::Waiting(w) = g.enter(ME, 0, wide, 0) else {
        panic!()
    };
    // Within the limit nobody steps back.
    assert!(!g.step_back(held[3], wide));
    // The limit is cut to 1: the first three to reach a checkpoint park,
    // the fourth is then the only one active and goes on.
    let cut = Params { limit: 1, queue: 8 };
    assert!(g.step_back(held[3], cut));
    assert!(g.step_back(held[1], cut));
    assert!(g.step_back(held[0], cut));
    assert!(!g.step_back(held[2], cut));
    assert!(!g.step_back(w, cut), "a waiter holds nothing to give back");
    assert_eq!((g.holding, g.parked, g.stepped_back), (4, 3, 3));
    // A newcomer queues: parked writers keep their permits.
    assert!(matches!(g.enter(ME, 0, cut, 0), Enter::Waiting(_)));
    // Each release wakes the oldest parked writer, not a waiter.
    assert_eq!(g.leave(held[2], 0, cut), vec![held[0]]);
    assert!(g.is_holding(held[0]));
    assert_eq!(g.leave(held[0], 0, cut), vec![held[1]]);
    assert_eq!(g.leave(held[1], 0, cut), vec![held[3]]);
    // The last parked one done: now the waiter, in its turn.
    assert_eq!(g.leave(held[3], 0, cut), vec![w]);
    assert_eq!((g.holding, g.parked, g.waiting), (1, 0, 1));
    // The waiters' wait histogram and admissions saw no parking.
    assert_eq!(g.admitted, 5);
}

#[test]
fn a_parked_writer_can_resume_and_dead_ones_are_reclaimed() {
    let mut g = Box::<GateState>::default();
    let dead = Owner { pid: 99, start: 1 };
    let wide = Params { limit: 3, queue: 8 };
    let cut = Params { limit: 1, queue: 8 };
    let Enter::Holding(a) = g.enter(dead, 0, wide, 0) else {
        panic!()
    };
    let Enter::Holding(b) = g.enter(ME, 0, wide, 0) else {
        panic!()
    };
    let Enter::Holding(_c) = g.enter(ME, 0, wide, 0) else {
        panic!()
    };
    assert!(g.step_back(a, cut) && g.step_back(b, cut));
    g.resume(b);
    assert!(g.is_holding(b));
    assert_eq!((g.holding, g.parked), (3, 1));
    g.parked = 7;
    g.repair();
    assert_eq!(g.parked, 1, "repair recounts the parked");
    assert!(g.is_parked(a));
    assert_eq!(g.reclaim(|o| o.pid == 99), 1);
    assert_eq!((g.holding, g.parked), (2, 0));
}

#[test]
fn zero_queue_sheds_at_once() {
    let mut g = Box::<GateState>::default();
    let p = Params { limit: 1, queue: 0 };
    assert!(matches!(g.enter(ME, 0, p, 0), Enter::Holding(_)));
    assert_eq!(g.enter(ME, 0, p, 0), Enter::Shed);
}
