//! Object expiry's sweep (Swift runs an object-expirer daemon; Stowage has
//! no threads of its own): after a response is built, the request may
//! reclaim one bounded batch of expired objects for the node
//! (`node::expiry::maybe_sweep`). The `X-Delete-At` rules themselves are
//! the object processor's, as they are Swift's object server's.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::node::expiry::maybe_sweep;

pub struct Expiry;

impl Middleware for Expiry {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let resp = next.run(env, req, host);
        maybe_sweep(env.vh, host);
        resp
    }
}
