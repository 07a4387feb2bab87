//! Who owns an entry, and whether that process still lives.
//!
//! An owner is (pid, start time from /proc/<pid>/stat). The start time makes
//! a recycled pid harmless: an entry left by a dead child is reclaimed even
//! when a new process got the same pid (say, after an Apache restart).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

/// Start time (clock ticks since boot) of a live process; None when it is
/// gone or a zombie (a SIGKILLed Apache child the parent has not reaped).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let state = *fields.first()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // starttime is field 22 of the line, the 20th after "(comm)".
    fields.get(19)?.parse().ok()
}

static PID: AtomicU32 = AtomicU32::new(0);
static START: AtomicU64 = AtomicU64::new(0);

/// This process as an owner, recomputed after a fork.
pub fn me() -> Owner {
    let pid = std::process::id();
    if PID.load(Ordering::Acquire) != pid {
        START.store(start_time(pid).unwrap_or(0), Ordering::Relaxed);
        PID.store(pid, Ordering::Release);
    }
    Owner {
        pid,
        start: START.load(Ordering::Relaxed),
    }
}

/// Answers "is this owner dead?" with one /proc read per pid.
pub struct Prober {
    me: Owner,
    seen: HashMap<u32, Option<u64>>,
}

impl Prober {
    pub fn new() -> Prober {
        Prober {
            me: me(),
            seen: HashMap::new(),
        }
    }

    pub fn dead(&mut self, o: Owner) -> bool {
        if o.pid == self.me.pid {
            return o.start != self.me.start;
        }
        let now = *self.seen.entry(o.pid).or_insert_with(|| start_time(o.pid));
        now != Some(o.start)
    }
}

impl Default for Prober {
    fn default() -> Self {
        Prober::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_bogus_one_is_not() {
        let m = me();
        assert!(m.start > 0);
        let mut p = Prober::new();
        assert!(!p.dead(m));
        assert!(p.dead(Owner {
            pid: m.pid,
            start: m.start + 1
        }));
        // pid 1 lives, but not with start time 0 ticks... unless it does.
        let init = start_time(1);
        assert!(init.is_some());
        assert!(p.dead(Owner {
            pid: 1,
            start: init.unwrap_or(0) + 1
        }));
        assert!(p.dead(Owner {
            pid: u32::MAX - 1,
            start: 1
        }));
    }
}
