//! `/info`: what this cluster supports, as Swift's proxy publishes it
//! (`swift::info`), before authentication.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::swift::names::strip_authority;

pub struct Info;

impl Middleware for Info {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        if strip_authority(&req.uri) == "/info" {
            return crate::swift::info::handle(req, &env.vh.config.policies);
        }
        next.run(env, req, host)
    }
}
