//! Swift's front end (eventlet) refuses a header line longer than
//! `max_header_size` before anything else; Stowage holds every header value
//! to it (in bytes, as sent), as the metadata checks and `/info` do.

use super::{Env, Middleware, Next};
use crate::core::constraints::{MAX_HEADER_SIZE, MAX_META_NAME_LENGTH};
use crate::core::http::{Host, Request, Response};

pub struct HeaderLimits;

impl Middleware for HeaderLimits {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        match oversized_header(req) {
            Some(msg) => Response::error(400, &msg),
            None => next.run(env, req, host),
        }
    }
}

fn oversized_header(req: &Request<'_>) -> Option<String> {
    let (name, _) = req
        .headers
        .iter()
        .find(|(_, v)| v.bytes().len() > MAX_HEADER_SIZE)?;
    let shown: String = name.chars().take(MAX_META_NAME_LENGTH).collect();
    Some(format!("Header value too long: {shown}"))
}
