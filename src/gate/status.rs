//! The gates' figures, node-wide (read from the shared region): for the
//! JSON status endpoint and for the host's status page (Apache mod_status,
//! HTML and its machine-readable `?auto` form).

use super::yielding::Crowding;
use super::{Gates, KINDS};
use serde_json::{json, Value};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateFigures {
    pub name: &'static str,
    /// The name as used in `?auto` keys.
    pub title: &'static str,
    /// None: the gate is off (unbounded).
    pub limit: Option<u32>,
    /// The limit in force now: below `limit` while the gate yields to
    /// latency-sensitive requests (object writes); else `limit`.
    pub limit_now: Option<u32>,
    /// The yield bound, None when the limit is fixed.
    pub yield_at: Option<Crowding>,
    /// How often the adaptive limit was halved.
    pub yield_cuts: u64,
    pub queue_max: u32,
    pub wait_max_ms: u64,
    /// Whose queue `queue_max` bounds: "db" (each database its own),
    /// "vhost" (one for all its databases) or "device" (object gates).
    pub queue_per: &'static str,
    pub in_flight: u32,
    /// Of `in_flight`, writers that stepped back at a checkpoint.
    pub parked: u32,
    /// How many times a writer stepped back.
    pub stepped_back: u64,
    pub queued: u32,
    pub admitted: u64,
    pub shed: u64,
    pub timed_out: u64,
    pub reclaimed: u64,
    /// Queue wait of admitted requests, microseconds: p50, p90, p99.
    pub wait_us: [u64; 3],
}

pub const QUANTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

/// Reads every gate of a vhost (mapping the region if this process has
/// not yet).
pub fn figures(gates: &Gates, report: &mut dyn FnMut(&str)) -> Vec<GateFigures> {
    let region = gates.region(report);
    KINDS
        .iter()
        .map(|&k| {
            let g = gates.gate(k);
            let mut f = GateFigures {
                name: k.name(),
                title: k.title(),
                limit: g.settings.limit,
                limit_now: g.settings.limit,
                yield_at: g.settings.limit.and(g.settings.yield_at),
                queue_max: g.settings.queue,
                wait_max_ms: g.settings.wait.as_millis() as u64,
                queue_per: match (g.settings.per_db, k.has_databases()) {
                    (true, _) => "db",
                    (false, true) => "vhost",
                    (false, false) => "device",
                },
                ..GateFigures::default()
            };
            if let Some(st) = region.and_then(|r| r.lock(k.index()).ok()) {
                if f.limit.is_some() {
                    f.limit_now = Some(g.params(&st).limit);
                }
                f.yield_cuts = st.yielding.cuts;
                f.in_flight = st.holding;
                f.parked = st.parked;
                f.stepped_back = st.stepped_back;
                f.queued = st.waiting;
                f.admitted = st.admitted;
                f.shed = st.shed;
                f.timed_out = st.timed_out;
                f.reclaimed = st.reclaimed;
                f.wait_us = QUANTILES.map(|(q, _)| st.waits.quantile(q));
            }
            f
        })
        .collect()
}

pub fn json(root: &str, figs: &[GateFigures]) -> Value {
    let gates: serde_json::Map<String, Value> = figs
        .iter()
        .map(|f| {
            let waits: serde_json::Map<String, Value> = QUANTILES
                .iter()
                .zip(f.wait_us)
                .map(|((_, n), v)| (n.to_string(), json!(v)))
                .collect();
            (
                f.name.to_string(),
                json!({
                    "limit": f.limit,
                    "limit_now": f.limit_now,
                    "yield_per_cpu": f.yield_at.map(Crowding::per_cpu),
                    "yield_cuts": f.yield_cuts,
                    "queue_max": f.queue_max,
                    "wait_max_ms": f.wait_max_ms,
                    "queue_per": f.queue_per,
                    "in_flight": f.in_flight,
                    "parked": f.parked,
                    "stepped_back": f.stepped_back,
                    "queued": f.queued,
                    "admitted": f.admitted,
                    "shed": f.shed,
                    "timed_out": f.timed_out,
                    "reclaimed": f.reclaimed,
                    "wait_us": waits,
                }),
            )
        })
        .collect();
    json!({ "root": root, "gates": gates })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A limit for the status page: the number, or "off" for no gate.
fn limit_text(limit: Option<u32>) -> String {
    limit.map_or_else(|| "off".to_string(), |l| l.to_string())
}

/// A section for mod_status's HTML page.
pub fn html(root: &str, figs: &[GateFigures]) -> String {
    let mut out = format!(
        "<h2>Stowage admission gates: {}</h2>\n<table border=\"1\">\n<tr><th>gate</th>\
         <th>limit</th><th>limit now</th><th>queue max</th><th>queue per</th><th>wait max (ms)</th><th>in flight</th>\
         <th>parked</th><th>queued</th><th>admitted</th><th>shed</th><th>timed out</th><th>reclaimed</th>\
         <th>wait p50 (&micro;s)</th><th>wait p90 (&micro;s)</th><th>wait p99 (&micro;s)</th></tr>\n",
        esc(root)
    );
    for f in figs {
        out += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            f.name,
            limit_text(f.limit),
            limit_text(f.limit_now),
            f.queue_max,
            f.queue_per,
            f.wait_max_ms,
            f.in_flight,
            f.parked,
            f.queued,
            f.admitted,
            f.shed,
            f.timed_out,
            f.reclaimed,
            f.wait_us[0],
            f.wait_us[1],
            f.wait_us[2]
        );
    }
    out + "</table>\n"
}

/// "Key: value" lines for mod_status's `?auto` form. `n` numbers the
/// storage instance so keys stay unique when a server has several.
pub fn text(n: usize, root: &str, figs: &[GateFigures]) -> String {
    let mut out = format!("Stowage{n}Root: {root}\n");
    for f in figs {
        let p = format!("Stowage{n}{}", f.title);
        out += &format!(
            "{p}Limit: {}\n{p}LimitNow: {}\n{p}YieldCuts: {}\n{p}QueueMax: {}\n{p}QueuePer: {}\n{p}InFlight: {}\n{p}Parked: {}\n{p}SteppedBack: {}\n{p}Queued: {}\n{p}Admitted: {}\n\
             {p}Shed: {}\n{p}TimedOut: {}\n{p}Reclaimed: {}\n{p}WaitP50us: {}\n\
             {p}WaitP90us: {}\n{p}WaitP99us: {}\n",
            limit_text(f.limit),
            limit_text(f.limit_now),
            f.yield_cuts,
            f.queue_max,
            f.queue_per,
            f.in_flight,
            f.parked,
            f.stepped_back,
            f.queued,
            f.admitted,
            f.shed,
            f.timed_out,
            f.reclaimed,
            f.wait_us[0],
            f.wait_us[1],
            f.wait_us[2]
        );
    }
    out
}

/// The renderings the host can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Text,
    Json,
}

/// One storage root's gates in `format`; `index` numbers it among the host's.
pub fn render(
    root: &std::path::Path,
    gates: &Gates,
    format: Format,
    index: usize,
    report: &mut dyn FnMut(&str),
) -> String {
    let root = root.display().to_string();
    let figs = figures(gates, report);
    match format {
        Format::Html => html(&root, &figs),
        Format::Text => text(index, &root, &figs),
        Format::Json => json(&root, &figs).to_string(),
    }
}

/// The JSON status endpoint (`SetHandler stowage-status`).
pub fn respond(
    root: &std::path::Path,
    gates: &Gates,
    req: &crate::core::http::Request<'_>,
    host: &mut dyn crate::core::http::Host,
) -> crate::core::http::Response {
    use crate::core::http::{LogLevel, Response, Segment};
    if req.method != "GET" && req.method != "HEAD" {
        let mut r = Response::error(405, "");
        r.header("Allow", "GET, HEAD");
        return r;
    }
    let mut problems = Vec::new();
    let body = render(root, gates, Format::Json, 0, &mut |m| {
        problems.push(m.to_string())
    });
    for p in problems {
        host.log(LogLevel::Error, &p);
    }
    let mut r = Response::new(200);
    r.header("Content-Type", "application/json; charset=utf-8");
    r.header("Cache-Control", "no-store");
    r.body.push(Segment::Bytes(body.into_bytes()));
    r
}
