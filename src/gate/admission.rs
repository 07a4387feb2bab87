//! Where the router meets the gates: after authentication, around the
//! processor call. The permit covers the processor's work only; the
//! response body (file buckets for GET) goes out after it is released, so a
//! slow reader never pins a disk permit.

use super::prefetch::Prefetched;
use super::semaphore::{Permit, Refusal};
use super::{Gates, Kind};
use crate::core::http::{Host, LogLevel, Request, Response};
use std::time::Duration;

/// The request note with the time spent queued (`%{stowage-wait-us}n`).
pub const WAIT_NOTE: &str = "stowage-wait-us";
/// The request note with the time an admitted write spent parked at its
/// checkpoints (`%{stowage-parked-us}n`; unset when it never parked).
pub const PARKED_NOTE: &str = "stowage-parked-us";
/// Seconds a shed client is asked to wait before retrying.
pub const RETRY_AFTER_SECS: u32 = 1;

/// Runs `process` under `kind`'s gate (the lane of database `db`, see
/// `db_key`), or answers 503 without it. `R` is what the processor returns:
/// a `Response`, or a response with work still to do after the permit.
pub fn serve<R: From<Response>>(
    gates: &Gates,
    req: &Request<'_>,
    (kind, db): (Kind, u64),
    host: &mut dyn Host,
    process: impl FnOnce(&mut dyn Host) -> R,
) -> R {
    let mut problems = Vec::new();
    let mut report = |msg: &str| problems.push(msg.to_string());
    // A full queue sheds before the body is read: shedding stays cheap.
    if gates.shed_if_full(kind, db, &mut report) {
        for p in problems {
            host.log(LogLevel::Error, &p);
        }
        return refuse(host, kind, Refusal::QueueFull).into();
    }
    let mut host = Prefetched::new(req, host);
    let admitted = gates.acquire(kind, db, &mut report);
    for p in problems {
        host.log(LogLevel::Error, &p);
    }
    let permit = match admitted {
        Ok(p) => p,
        Err(refusal) => return refuse(&mut host, kind, refusal).into(),
    };
    host.set_note(WAIT_NOTE, &permit.waited.as_micros().to_string());
    crate::core::test_hooks::while_admitted(req);
    // Latency-sensitive requests tell the write gate how crowded the CPUs
    // were as they began (gate/yielding.rs); reported after the response
    // is built, so the gate's lock is not taken before the work.
    let sensitive = kind != Kind::ObjectWrite && gates.write_gate_yields();
    let runnable = sensitive.then(crate::core::os::runnable_threads).flatten();
    let resp = process(&mut Admitted {
        host: &mut host,
        permit: &permit,
        req,
        parked: Duration::ZERO,
    });
    drop(permit);
    if let Some(n) = runnable {
        let mut report = |msg: &str| host.log(LogLevel::Error, msg);
        gates.note_runnable(n, crate::core::os::online_cpus(), &mut report);
    }
    resp
}

/// The host as a processor sees it while it holds `permit`: its
/// checkpoints may park the permit (`Permit::checkpoint`).
struct Admitted<'a, 'p> {
    host: &'a mut dyn Host,
    permit: &'a Permit<'p>,
    req: &'a Request<'a>,
    /// Time parked at its checkpoints so far.
    parked: Duration,
}

impl Host for Admitted<'_, '_> {
    fn read_body(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.host.read_body(buf)
    }
    fn set_status(&mut self, status: u16) {
        self.host.set_status(status)
    }
    fn add_header(&mut self, name: &str, value: &[u8]) {
        self.host.add_header(name, value)
    }
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.host.write(data)
    }
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
        self.host.send_file(file, offset, len)
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.host.log(level, message)
    }
    fn set_note(&mut self, name: &str, value: &str) {
        self.host.set_note(name, value)
    }
    fn checkpoint(&mut self) {
        let parked = self.permit.checkpoint();
        if !parked.is_zero() {
            self.parked += parked;
            let us = self.parked.as_micros().to_string();
            self.host.set_note(PARKED_NOTE, &us);
        }
        crate::core::test_hooks::past_checkpoint(self.req);
    }
}

fn refuse(host: &mut dyn Host, kind: Kind, refusal: Refusal) -> Response {
    let (waited, why) = match refusal {
        Refusal::QueueFull => (Duration::ZERO, "queue full"),
        Refusal::TimedOut(w) => (w, "waited too long"),
        Refusal::Broken(e) => {
            host.log(
                LogLevel::Error,
                &format!("admission gate {} is broken: {e}", kind.name()),
            );
            (Duration::ZERO, "gate unavailable")
        }
    };
    host.set_note(WAIT_NOTE, &waited.as_micros().to_string());
    host.log(
        LogLevel::Info,
        &format!(
            "shed by the {} gate ({why}) after {} us",
            kind.name(),
            waited.as_micros()
        ),
    );
    let mut r = Response::error(503, "");
    r.header("Retry-After", RETRY_AFTER_SECS.to_string());
    r
}

/// The queue lane of a database named by `parts` (account, or account and
/// container), as a hash every process agrees on: FNV-1a of the names
/// joined by '/'.
pub fn db_key(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b'/')).wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_hash_apart() {
        let a = db_key(&["AUTH_test", "a"]);
        assert_eq!(a, db_key(&["AUTH_test", "a"]));
        assert_ne!(a, db_key(&["AUTH_test", "b"]));
        assert_ne!(a, db_key(&["AUTH_tes", "ta"]));
        // Stable across builds and processes: a fixed function, not std's
        // randomly keyed hasher.
        assert_eq!(db_key(&["AUTH_test", "a"]), 0xbd42_af32_75f0_a700);
    }
}
