//! The `StowageGate` directive: limit, queue depth and maximum wait of one
//! processor's gate in one virtual host.
//!
//! ```apache
//! StowageGate object-write limit=64 queue=512 wait=10s
//! StowageGate object-read  limit=32
//! StowageGate object       limit=16      # both object gates, each its own 16
//! StowageGate container    limit=4 wait=2s   # a queue per database
//! StowageGate container    scope=vhost       # one queue for all of them
//! StowageGate account      off
//! ```
//! Keys may be given in any order and any may be left out (its default
//! stays; the queue defaults to sixteen times the limit). `off` removes the
//! gate (unbounded: for comparison benchmarks).

use super::table::MAX_ENTRIES;
use super::yielding::Crowding;
use super::{Kind, KINDS};
use std::time::Duration;

/// One gate's configuration. `limit == None` means no gate at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateSettings {
    pub limit: Option<u32>,
    pub queue: u32,
    pub wait: Duration,
    /// Object writes only: adapt the limit while latency-sensitive
    /// requests find the CPUs more crowded than this (see `yielding`);
    /// None: the limit is fixed.
    pub yield_at: Option<Crowding>,
    /// Container and account gates: a queue per database, served in turn
    /// (true), or one FIFO queue for the whole vhost; object gates: false.
    pub per_db: bool,
}

/// The default `yield` bound of the object-write gate (docs/benchmarks.md,
/// "Separation"): 1.5 runnable threads per CPU.
pub const DEFAULT_YIELD_AT: Crowding = Crowding(1500);

/// Defaults measured with `bench/sweep` on the development machine (2 shared
/// cores, SSD-backed ext4); see README "Admission gates" and docs/benchmarks.md.
pub const fn default_for(kind: Kind) -> GateSettings {
    let limit = match kind {
        // 4 KiB GET is CPU-bound and flat from 8 up to 512 here; 128 is
        // the knee of the quieter earlier sweep (docs/benchmarks.md).
        Kind::ObjectRead => 128,
        // With group commit, PUTs batch better the more run at once: the
        // knee at 512 connections is 256 (docs/benchmarks.md).
        Kind::ObjectWrite => 256,
        Kind::Container => 4,
        Kind::Account => 8,
    };
    GateSettings {
        limit: Some(limit),
        queue: default_queue(kind, limit),
        wait: Duration::from_secs(10),
        yield_at: match kind {
            Kind::ObjectWrite => Some(DEFAULT_YIELD_AT),
            _ => None,
        },
        per_db: kind.has_databases(),
    }
}

/// Queue depth when none is given. Objects: sixteen times the limit.
/// Shedding is not free (Apache closes the connection after every 503, and
/// clients reconnect): on the 2-core development machine a 4x queue shed
/// so much that admitted PUT throughput halved at 256 connections, while
/// 16x kept 87% of peak. Containers and accounts, whose limits are small:
/// a quarter of the table per database (a 64-deep queue shed 2,500-4,000
/// listings/s of a 256-connection flood on one container and halved what
/// it admitted; docs/benchmarks.md, "Per database"), so that one hot database never
/// takes every entry from the others.
pub const fn default_queue(kind: Kind, limit: u32) -> u32 {
    let room = (MAX_ENTRIES as u32) - limit;
    let q = if kind.has_databases() {
        room / 4
    } else {
        limit * 16
    };
    if q < room {
        q
    } else {
        room
    }
}

/// The gates of one vhost, indexed by `Kind::index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig([GateSettings; KINDS.len()]);

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig(KINDS.map(default_for))
    }
}

impl GateConfig {
    pub fn get(&self, kind: Kind) -> GateSettings {
        self.0[kind.index()]
    }

    pub fn set(&mut self, kind: Kind, s: GateSettings) {
        self.0[kind.index()] = s;
    }
}

pub const MAX_LIMIT: u32 = 512;
pub const MAX_WAIT: Duration = Duration::from_secs(300);

const USAGE: &str = "StowageGate takes object-read|object-write|object|container|account, \
                     then off or any of limit=N queue=N wait=DURATION \
                     (e.g. limit=8 queue=64 wait=10s), for object-write \
                     yield=N|off (runnable threads per CPU, e.g. 1.5), \
                     for container and account scope=db|vhost";
/// The range of `yield=N`, runnable threads per CPU.
pub const YIELD_RANGE: std::ops::RangeInclusive<f64> = 0.5..=64.0;

/// What one `StowageGate` line sets; `None` keeps the gate's default.
#[derive(Default)]
struct Overrides {
    limit: Option<u32>,
    queue: Option<u32>,
    wait: Option<Duration>,
    /// Some(None): yield=off.
    yield_at: Option<Option<Crowding>>,
    /// Some(true): scope=db.
    per_db: Option<bool>,
}

/// Parses the arguments of one `StowageGate` line (after the directive
/// name) into the settings of each gate it names (`object` names both
/// object gates: each starts from its own defaults and gets the line's keys).
pub fn parse(args: &[&str]) -> Result<Vec<(Kind, GateSettings)>, String> {
    let Some((&which, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    let kinds: &[Kind] = match which.to_ascii_lowercase().as_str() {
        "object" => &[Kind::ObjectRead, Kind::ObjectWrite],
        "object-read" => &[Kind::ObjectRead],
        "object-write" => &[Kind::ObjectWrite],
        "container" => &[Kind::Container],
        "account" => &[Kind::Account],
        _ => return Err(format!("StowageGate {which}: unknown gate; {USAGE}")),
    };
    if rest.is_empty() {
        return Err(format!("StowageGate {which}: nothing to set; {USAGE}"));
    }
    if rest.len() == 1 && rest[0].eq_ignore_ascii_case("off") {
        let off = |&k: &Kind| {
            let mut s = default_for(k);
            s.limit = None;
            (k, s)
        };
        return Ok(kinds.iter().map(off).collect());
    }
    let o = parse_overrides(which, rest)?;
    // `object ... yield=` sets the write gate's (the only one that yields).
    if o.yield_at.is_some() && !kinds.contains(&Kind::ObjectWrite) {
        return Err(format!(
            "StowageGate {which}: yield applies to the object-write gate only"
        ));
    }
    if o.per_db.is_some() && !kinds.iter().all(|k| k.has_databases()) {
        return Err(format!(
            "StowageGate {which}: scope applies to the container and account gates only"
        ));
    }
    let mut out = Vec::with_capacity(kinds.len());
    for &k in kinds {
        let mut s = default_for(k);
        s.limit = o.limit.or(s.limit);
        s.wait = o.wait.unwrap_or(s.wait);
        if k == Kind::ObjectWrite {
            s.yield_at = o.yield_at.unwrap_or(s.yield_at);
        }
        s.per_db = o.per_db.unwrap_or(s.per_db);
        s.queue = o.queue.unwrap_or(default_queue(k, s.limit.unwrap_or(1)));
        if s.limit.unwrap_or(0) as usize + s.queue as usize > MAX_ENTRIES {
            return Err(format!(
                "StowageGate {which}: limit + queue must not exceed {MAX_ENTRIES}"
            ));
        }
        out.push((k, s));
    }
    Ok(out)
}

fn parse_overrides(which: &str, rest: &[&str]) -> Result<Overrides, String> {
    let mut o = Overrides::default();
    for arg in rest {
        let bad = |why: &str| format!("StowageGate {which} {arg}: {why}");
        let Some((key, value)) = arg.split_once('=') else {
            return Err(bad(&format!("expected key=value; {USAGE}")));
        };
        match key.to_ascii_lowercase().as_str() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => o.limit = Some(n),
                _ => return Err(bad(&format!("limit must be 1 to {MAX_LIMIT}"))),
            },
            "queue" => match value.parse::<u32>() {
                Ok(n) if (n as usize) < MAX_ENTRIES => o.queue = Some(n),
                _ => return Err(bad(&format!("queue must be 0 to {}", MAX_ENTRIES - 1))),
            },
            "wait" => match parse_duration(value) {
                Some(d) if d > Duration::ZERO && d <= MAX_WAIT => o.wait = Some(d),
                _ => {
                    return Err(bad(
                        "wait must be a duration from 1ms to 300s (e.g. 500ms, 10s)",
                    ))
                }
            },
            "yield" if value.eq_ignore_ascii_case("off") => o.yield_at = Some(None),
            "yield" => match value.parse::<f64>() {
                Ok(n) if YIELD_RANGE.contains(&n) => {
                    o.yield_at = Some(Some(Crowding((n * 1000.0).round() as u32)))
                }
                // Until 2026-12-01 the bound was a CPU wait (e.g. 250us).
                _ => {
                    return Err(bad(
                        "yield must be off or runnable threads per CPU from 0.5 to 64 \
                         (e.g. 1.5); it is no longer a duration",
                    ))
                }
            },
            "scope" => match value.to_ascii_lowercase().as_str() {
                "db" => o.per_db = Some(true),
                "vhost" => o.per_db = Some(false),
                _ => return Err(bad("scope must be db or vhost")),
            },
            _ => return Err(bad(&format!("unknown key {key}; {USAGE}"))),
        }
    }
    Ok(o)
}

/// "250us", "250ms", "10s", or bare seconds "10".
fn parse_duration(v: &str) -> Option<Duration> {
    if let Some(us) = v.strip_suffix("us") {
        return us.parse::<u64>().ok().map(Duration::from_micros);
    }
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.parse::<u64>().ok().map(Duration::from_millis);
    }
    let secs = v.strip_suffix('s').unwrap_or(v);
    secs.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests;
