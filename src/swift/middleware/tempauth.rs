//! `tempauth`, as in Swift: answers `/auth/v1.0` with a token, decides who
//! the caller of every other request is (`swift::auth`), and challenges
//! each 401 with the account's realm. What the caller may do is decided by
//! the application (`swift::access`), as Swift's `swift.authorize` is
//! called by its controllers.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::swift::auth;
use crate::swift::error::ApiError;
use crate::swift::names::strip_authority;

pub struct TempAuth;

impl Middleware for TempAuth {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        // Tempauth's auth_prefix: everything under /auth/ is its own.
        let mut resp = match strip_authority(&req.uri).strip_prefix("/auth") {
            Some(rest) if rest.starts_with('/') => {
                auth::handle_auth(env.vh, req, rest).unwrap_or_else(|e| e.respond(host))
            }
            _ => match identify(env, req) {
                Ok(()) => next.run(env, req, host),
                Err(e) => e.respond(host),
            },
        };
        // Swift challenges every 401 with its realm; not when tokens are off
        // (StowageApacheAuth Only): then there is no Swift login to point to,
        // nor a refused CORS preflight (Swift's is a 200 turned 401).
        let challenge =
            resp.status == 401 && env.vh.config.apache_auth.tokens_allowed() && !env.unchallenged;
        if challenge && resp.get_header("Www-Authenticate").is_none() {
            let realm = realm(strip_authority(&req.uri));
            resp.header("Www-Authenticate", format!("Swift realm=\"{realm}\""));
        }
        resp
    }
}

/// Parses the path and query (their errors come first, as in Swift's
/// proxy) and sets the caller.
fn identify(env: &mut Env<'_>, req: &Request<'_>) -> Result<(), ApiError> {
    let account = env.target(req)?.account().to_string();
    env.query(req)?;
    env.caller = auth::authenticate(env.vh, req, &account)?;
    Ok(())
}

/// The realm a 401 names, as swob's: the account segment of the raw path
/// (still percent-encoded), "unknown" when there is none or it is auth.
fn realm(raw_path: &str) -> &str {
    let mut segs = raw_path.trim_start_matches('/').split('/');
    match (segs.next(), segs.next()) {
        (Some(_), Some(r)) if !r.is_empty() && r != "v1.0" && r != "auth" && r.is_ascii() => {
            if r.bytes().any(|b| b == b'"' || b.is_ascii_control()) {
                "unknown"
            } else {
                r
            }
        }
        _ => "unknown",
    }
}
