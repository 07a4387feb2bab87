//! Fault injection for tests, compiled only with the `test-hooks` cargo
//! feature (never in a release build): lets the ABI tests prove that a panic
//! stays on this side of the boundary, and the gate tests hold permits.

use crate::core::http::Request;

#[cfg(feature = "test-hooks")]
pub fn before_request(req: &Request<'_>) {
    if req.header("X-Stowage-Test-Panic") == Some("1") {
        panic!("test panic requested by X-Stowage-Test-Panic");
    }
}

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn before_request(_req: &Request<'_>) {}

/// Sleeps while holding a gate permit for `X-Stowage-Test-Delay-Ms: N`
/// (capped at 60 s): lets the end-to-end tests keep permits busy.
/// `X-Stowage-Test-Panic: admitted` panics here, holding a permit (it must
/// come back as the stack unwinds).
#[cfg(feature = "test-hooks")]
pub fn while_admitted(req: &Request<'_>) {
    if req.header("X-Stowage-Test-Panic") == Some("admitted") {
        panic!("test panic requested by X-Stowage-Test-Panic while admitted");
    }
    sleep_as_asked(req, "X-Stowage-Test-Delay-Ms");
}

/// Sleeps for the milliseconds header `name` asks for, at most 60 s.
#[cfg(feature = "test-hooks")]
fn sleep_as_asked(req: &Request<'_>, name: &str) {
    if let Some(ms) = req.header(name).and_then(|v| v.trim().parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(60_000)));
    }
}

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn while_admitted(_req: &Request<'_>) {}

/// Sleeps after a write's checkpoint for `X-Stowage-Test-Checkpoint-Delay-Ms:
/// N` (capped at 60 s): keeps the writers that went on at work while the
/// tests look at the parked ones.
#[cfg(feature = "test-hooks")]
pub fn past_checkpoint(req: &Request<'_>) {
    sleep_as_asked(req, "X-Stowage-Test-Checkpoint-Delay-Ms");
}

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn past_checkpoint(_req: &Request<'_>) {}

/// `X-Stowage-Test-Yield-Ms: N`: a long request's heartbeat interval in
/// milliseconds instead of Swift's `yield_frequency` (10 s), so the tests
/// can see heartbeats without waiting for them.
#[cfg(feature = "test-hooks")]
pub fn yield_frequency(req: &Request<'_>) -> Option<std::time::Duration> {
    req.header("X-Stowage-Test-Yield-Ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
}

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn yield_frequency(_req: &Request<'_>) -> Option<std::time::Duration> {
    None
}
