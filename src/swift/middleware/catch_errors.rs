//! `catch_errors`, as in Swift: gives each request its transaction id,
//! which every log line of the request carries and the response returns
//! (`X-Trans-Id`, `X-Openstack-Request-Id`). Panics are caught one layer
//! further out, at the ABI boundary.

use super::{Env, Middleware, Next};
use crate::core::hex::hex;
use crate::core::http::{Host, Request, Response};
use crate::core::request_log::TransHost;

pub struct CatchErrors;

impl Middleware for CatchErrors {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let trans_id = trans_id();
        host.set_note("stowage-trans-id", &trans_id);
        let mut host = TransHost::new(host, &trans_id);
        let mut resp = next.run(env, req, &mut host);
        resp.header("X-Trans-Id", trans_id.clone());
        resp.header("X-Openstack-Request-Id", trans_id);
        resp
    }
}

/// Swift-style transaction id: "tx" + 21 random hex digits + "-" + hex time.
fn trans_id() -> String {
    let mut raw = [0u8; 11];
    // Without OS randomness the id is still unique enough to read logs by.
    let _ = getrandom::fill(&mut raw);
    let hex = hex(&raw);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("tx{}-{secs:010x}", &hex[..21])
}
