//! Fault injection for tests, compiled only with the `test-hooks` cargo
//! feature (never in a release build): lets the ABI tests prove that a panic
//! stays on this side of the boundary.

use crate::http::Request;

#[cfg(feature = "test-hooks")]
pub fn before_request(req: &Request<'_>) {
    if req.header("X-Stowage-Test-Panic") == Some("1") {
        panic!("test panic requested by X-Stowage-Test-Panic");
    }
}

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn before_request(_req: &Request<'_>) {}
