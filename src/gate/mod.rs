//! Admission gates: each processor admits only as many concurrent requests
//! as its resource serves well, queues a bounded number more in FIFO order
//! for a bounded time, and sheds the rest with 503. Gates are node-wide:
//! their state lives in `<root>/run/gates-v7.shm`, shared by every process
//! of the web server. See docs/gates.md.
//!
//! Rooms: `settings` (the directive), `limiter` (the limit, behind a trait),
//! `table` (the algorithm on the shared state), `shm` (the OS layer: mapping,
//! robust lock, futex), `liveness` (dead-owner detection), `hist` (wait-time
//! percentiles), `semaphore` (one gate), `yielding` (the write limit that
//! adapts to latency-sensitive requests), `admission` (the router's hook),
//! `prefetch` (small bodies read before admission), `status` (figures).
//! Imports: `store` (the node-wide turns) and `core`; never a layer above:
//! the caller passes the `Gates` and says which gate a request passes.

pub mod admission;
pub mod hist;
pub mod limiter;
pub mod liveness;
pub mod prefetch;
pub mod semaphore;
pub mod settings;
#[allow(unsafe_code)]
pub mod shm;
pub mod status;
pub mod table;
pub mod yielding;

use crate::store::turns::{self, NodeJob};
use limiter::Fixed;
use semaphore::{Gate, Permit, Refusal};
use settings::GateConfig;
use shm::Region;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The processors that have a gate. Objects: two gates per device (one
/// storage root is one device for now), one for reads (GET/HEAD) and one for
/// writes (PUT/POST/DELETE/COPY): their best concurrency differs by an order
/// of magnitude, and a read must not queue behind a write flood. Accounts
/// and containers: one gate per vhost with a queue per database (hashed
/// into `table::LANES` lanes, served in turn), so a hot container neither
/// delays nor sheds another's requests (docs/gates.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ObjectRead,
    ObjectWrite,
    Container,
    Account,
}

pub const KINDS: [Kind; 4] = [
    Kind::ObjectRead,
    Kind::ObjectWrite,
    Kind::Container,
    Kind::Account,
];

impl Kind {
    pub fn index(self) -> usize {
        match self {
            Kind::ObjectRead => 0,
            Kind::ObjectWrite => 1,
            Kind::Container => 2,
            Kind::Account => 3,
        }
    }

    /// True for the gates whose requests work on a database (containers,
    /// accounts): those can queue per database.
    pub const fn has_databases(self) -> bool {
        matches!(self, Kind::Container | Kind::Account)
    }

    /// The name in `StowageGate` lines and the JSON status.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ObjectRead => "object-read",
            Kind::ObjectWrite => "object-write",
            Kind::Container => "container",
            Kind::Account => "account",
        }
    }

    /// The name inside mod_status `?auto` keys (`Stowage0ObjectReadLimit`).
    pub fn title(self) -> &'static str {
        match self {
            Kind::ObjectRead => "ObjectRead",
            Kind::ObjectWrite => "ObjectWrite",
            Kind::Container => "Container",
            Kind::Account => "Account",
        }
    }
}

/// The gates of one vhost. The shared region is mapped lazily, in the
/// worker process that first needs it and as that process's user: the
/// vhost itself is built before the host forks, possibly as root.
pub struct Gates {
    run_dir: PathBuf,
    gates: [Gate; KINDS.len()],
    region: OnceLock<Mapped>,
}

struct Mapped {
    region: Option<Region>,
    /// Why the shared file could not be used (reported once).
    problem: Option<String>,
}

impl Gates {
    pub fn new(root: &Path, config: &GateConfig) -> Gates {
        let gate = |k: Kind| {
            let s = config.get(k);
            Gate::new(k, s, Box::new(Fixed(s.limit.unwrap_or(u32::MAX))))
        };
        Gates {
            run_dir: root.join("run"),
            gates: KINDS.map(gate),
            region: OnceLock::new(),
        }
    }

    pub fn gate(&self, kind: Kind) -> &Gate {
        &self.gates[kind.index()]
    }

    /// The shared region; on first use in a process, maps it. If the file
    /// cannot be used, a process-private region stands in (limits then hold
    /// per process, not per node) and `report` hears why, once.
    pub fn region(&self, report: &mut dyn FnMut(&str)) -> Option<&Region> {
        let mut first = false;
        let m = self.region.get_or_init(|| {
            first = true;
            match Region::open(&self.run_dir, KINDS.len()) {
                Ok(r) => Mapped {
                    region: Some(r),
                    problem: None,
                },
                Err(e) => Mapped {
                    region: Region::anonymous(KINDS.len()).ok(),
                    problem: Some(format!(
                        "admission gates: cannot use {}: {e}; limits hold per process only",
                        self.run_dir.display()
                    )),
                },
            }
        });
        if first {
            if let Some(p) = &m.problem {
                report(p);
            }
        }
        m.region.as_ref()
    }

    /// True when it is this process's turn to do `job` for the whole node
    /// (at most once per `interval` seconds node-wide, by a word in the
    /// shared region); without the region, true: each process then keeps
    /// its own turns.
    pub fn claim_node_turn(
        &self,
        job: NodeJob,
        now: u64,
        interval: u64,
        report: &mut dyn FnMut(&str),
    ) -> bool {
        self.region(report)
            .is_none_or(|r| turns::claim(r.turn(job), now, interval))
    }

    /// The queue lane of database `db` (see `admission::db_key`) at
    /// `kind`'s gate: its own, by hash, when the gate queues per database;
    /// else the one lane.
    fn lane(&self, kind: Kind, db: u64) -> usize {
        match self.gate(kind).settings.per_db {
            true => (db % table::LANES as u64) as usize,
            false => 0,
        }
    }

    /// True (and counted as shed) when `kind`'s queue (database `db`'s) is
    /// full now.
    pub fn shed_if_full(&self, kind: Kind, db: u64, report: &mut dyn FnMut(&str)) -> bool {
        let gate = self.gate(kind);
        let lane = self.lane(kind, db);
        gate.settings.limit.is_some()
            && self
                .region(report)
                .is_some_and(|r| gate.shed_if_full(r, lane))
    }

    /// True when latency-sensitive requests should report how crowded
    /// the CPUs are: the object-write gate is on and yields to them.
    pub fn write_gate_yields(&self) -> bool {
        let s = self.gate(Kind::ObjectWrite).settings;
        s.limit.is_some() && s.yield_at.is_some()
    }

    /// A latency-sensitive request (not an object write) found `runnable`
    /// threads on `cpus` CPUs as it entered its processor: feedback for
    /// the object-write gate's adaptive limit.
    pub fn note_runnable(&self, runnable: u32, cpus: u32, report: &mut dyn FnMut(&str)) {
        if !self.write_gate_yields() {
            return;
        }
        if let Some(r) = self.region(report) {
            self.gate(Kind::ObjectWrite)
                .note_sensitive(r, runnable, cpus);
        }
    }

    /// Admission to `kind`'s processor for database `db`. Without any
    /// region (mapping failed twice), requests pass ungated rather than fail.
    pub fn acquire(
        &self,
        kind: Kind,
        db: u64,
        report: &mut dyn FnMut(&str),
    ) -> Result<Permit<'_>, Refusal> {
        let gate = self.gate(kind);
        if gate.settings.limit.is_none() {
            return Ok(Permit::unbounded());
        }
        match self.region(report) {
            Some(r) => gate.acquire(r, self.lane(kind, db)),
            None => Ok(Permit::unbounded()),
        }
    }
}

impl Drop for Gates {
    /// The mapping is never unmapped: the host may free a vhost while a
    /// thread of a dying worker still sleeps on a futex in it (Apache frees
    /// its configuration pool at exit). The kernel unmaps it with the process.
    fn drop(&mut self) {
        if let Some(m) = self.region.take() {
            std::mem::forget(m);
        }
    }
}

#[cfg(test)]
mod tests;
