//! Crash recovery's turn (Stowage's own, no Swift counterpart): before a
//! process serves its first request, and then once every few seconds for
//! the whole node, the request reconciles writes whose process died
//! (`node::recovery`). It runs before anything reads, so nothing is served
//! from a half-finished write after a restart.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::node::recovery::maybe_recover;

pub struct Recovery;

impl Middleware for Recovery {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        maybe_recover(env.vh, host);
        next.run(env, req, host)
    }
}
