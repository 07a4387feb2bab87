//! `healthcheck`, as in Swift: `/healthcheck` answers 200 `OK` to any
//! method, before authentication and without touching the disk.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::swift::names::strip_authority;

pub struct Healthcheck;

impl Middleware for Healthcheck {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        if strip_authority(&req.uri) == "/healthcheck" {
            return Response::text(200, "OK");
        }
        next.run(env, req, host)
    }
}
