//! The `StowageGate` directive: limit, queue depth and maximum wait of one
//! processor's gate in one virtual host.
//!
//! ```apache
//! StowageGate object    limit=16 queue=256 wait=10s
//! StowageGate container limit=4 wait=2s
//! StowageGate account   off
//! ```
//! Keys may be given in any order and any may be left out (its default
//! stays; the queue defaults to sixteen times the limit). `off` removes the gate (unbounded: for comparison benchmarks).

use super::table::MAX_ENTRIES;
use super::Kind;
use std::time::Duration;

/// One gate's configuration. `limit == None` means no gate at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateSettings {
    pub limit: Option<u32>,
    pub queue: u32,
    pub wait: Duration,
}

/// Defaults measured with `bench/sweep` on the development machine (2 shared
/// cores, SSD-backed ext4); see README "Admission gates".
pub const fn default_for(kind: Kind) -> GateSettings {
    let limit = match kind {
        Kind::Object => 16,
        Kind::Container => 4,
        Kind::Account => 8,
    };
    GateSettings {
        limit: Some(limit),
        queue: default_queue(limit),
        wait: Duration::from_secs(10),
    }
}

/// Queue depth when none is given: sixteen times the limit. Shedding is
/// not free (Apache closes the connection after every 503, and clients
/// reconnect): on the 2-core development machine a 4x queue shed so much
/// that admitted PUT throughput halved at 256 connections, while 16x kept
/// 87% of peak (README, "Admission gates").
pub const fn default_queue(limit: u32) -> u32 {
    let q = limit * 16;
    let room = (MAX_ENTRIES as u32) - limit;
    if q < room {
        q
    } else {
        room
    }
}

/// The gates of one vhost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig {
    pub object: GateSettings,
    pub container: GateSettings,
    pub account: GateSettings,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            object: default_for(Kind::Object),
            container: default_for(Kind::Container),
            account: default_for(Kind::Account),
        }
    }
}

impl GateConfig {
    pub fn get(&self, kind: Kind) -> GateSettings {
        match kind {
            Kind::Object => self.object,
            Kind::Container => self.container,
            Kind::Account => self.account,
        }
    }

    pub fn set(&mut self, kind: Kind, s: GateSettings) {
        match kind {
            Kind::Object => self.object = s,
            Kind::Container => self.container = s,
            Kind::Account => self.account = s,
        }
    }
}

pub const MAX_LIMIT: u32 = 512;
pub const MAX_WAIT: Duration = Duration::from_secs(300);

const USAGE: &str = "StowageGate takes object|container|account, then off or any of \
                     limit=N queue=N wait=DURATION (e.g. limit=8 queue=64 wait=10s)";

/// Parses the arguments of one `StowageGate` line (after the directive
/// name) into the gate it names and its settings, starting from defaults.
pub fn parse(args: &[&str]) -> Result<(Kind, GateSettings), String> {
    let Some((&which, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    let kind = match which.to_ascii_lowercase().as_str() {
        "object" => Kind::Object,
        "container" => Kind::Container,
        "account" => Kind::Account,
        _ => return Err(format!("StowageGate {which}: unknown gate; {USAGE}")),
    };
    if rest.is_empty() {
        return Err(format!("StowageGate {which}: nothing to set; {USAGE}"));
    }
    if rest.len() == 1 && rest[0].eq_ignore_ascii_case("off") {
        let mut s = default_for(kind);
        s.limit = None;
        return Ok((kind, s));
    }
    let mut s = default_for(kind);
    let mut queue_given = false;
    for arg in rest {
        let bad = |why: &str| format!("StowageGate {which} {arg}: {why}");
        let Some((key, value)) = arg.split_once('=') else {
            return Err(bad(&format!("expected key=value; {USAGE}")));
        };
        match key.to_ascii_lowercase().as_str() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => s.limit = Some(n),
                _ => return Err(bad(&format!("limit must be 1 to {MAX_LIMIT}"))),
            },
            "queue" => match value.parse::<u32>() {
                Ok(n) if (n as usize) < MAX_ENTRIES => {
                    s.queue = n;
                    queue_given = true;
                }
                _ => return Err(bad(&format!("queue must be 0 to {}", MAX_ENTRIES - 1))),
            },
            "wait" => match parse_duration(value) {
                Some(d) if d > Duration::ZERO && d <= MAX_WAIT => s.wait = d,
                _ => {
                    return Err(bad(
                        "wait must be a duration from 1ms to 300s (e.g. 500ms, 10s)",
                    ))
                }
            },
            _ => return Err(bad(&format!("unknown key {key}; {USAGE}"))),
        }
    }
    if !queue_given {
        s.queue = default_queue(s.limit.unwrap_or(1));
    }
    let limit = s.limit.unwrap_or(0) as usize;
    if limit + s.queue as usize > MAX_ENTRIES {
        return Err(format!(
            "StowageGate {which}: limit + queue must not exceed {MAX_ENTRIES}"
        ));
    }
    Ok((kind, s))
}

/// "250ms", "10s", or bare seconds "10".
fn parse_duration(v: &str) -> Option<Duration> {
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.parse::<u64>().ok().map(Duration::from_millis);
    }
    let secs = v.strip_suffix('s').unwrap_or(v);
    secs.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_lines() {
        let (k, s) = parse(&["object", "limit=8", "queue=64", "wait=500ms"]).unwrap();
        assert_eq!(k, Kind::Object);
        assert_eq!(s.limit, Some(8));
        assert_eq!(s.queue, 64);
        assert_eq!(s.wait, Duration::from_millis(500));
        assert_eq!(parse(&["object", "limit=10"]).unwrap().1.queue, 160);
        assert_eq!(parse(&["object", "limit=512"]).unwrap().1.queue, 512);
        let (k, s) = parse(&["Container", "wait=3"]).unwrap();
        assert_eq!(k, Kind::Container);
        assert_eq!(s.wait, Duration::from_secs(3));
        assert_eq!(s.limit, default_for(Kind::Container).limit);
        let (_, s) = parse(&["account", "off"]).unwrap();
        assert_eq!(s.limit, None);
        assert_eq!(parse(&["object", "queue=0"]).unwrap().1.queue, 0);
    }

    #[test]
    fn rejects_bad_lines_naming_the_value() {
        for (args, needle) in [
            (&["disk", "limit=1"][..], "disk"),
            (&["object"][..], "nothing to set"),
            (&["object", "limit=0"][..], "limit=0"),
            (&["object", "limit=513"][..], "limit=513"),
            (&["object", "limit=x"][..], "limit=x"),
            (&["object", "queue=-1"][..], "queue=-1"),
            (&["object", "queue=1024"][..], "queue=1024"),
            (&["object", "wait=0s"][..], "wait=0s"),
            (&["object", "wait=301s"][..], "wait=301s"),
            (&["object", "wait=fast"][..], "wait=fast"),
            (&["object", "speed=9"][..], "speed"),
            (&["object", "limit"][..], "key=value"),
            (&["object", "limit=512", "queue=600"][..], "exceed"),
            (&[][..], "StowageGate takes"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
            assert!(e.starts_with("StowageGate"), "{e}");
        }
    }
}
