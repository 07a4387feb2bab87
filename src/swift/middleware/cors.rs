//! `OPTIONS` and CORS, as Swift's proxy controllers answer them (Swift has
//! no CORS middleware: `Controller.OPTIONS` and the `cors_validation`
//! decorator of its controllers do it, with the proxy's `cors_allow_origin`,
//! `cors_expose_headers` and `strict_cors_mode`; here `node::cors`).
//!
//! - `OPTIONS` needs no token (tempauth lets it through) and answers 200
//!   with `Allow`, the methods of the path's level. With an `Origin` it is
//!   a CORS preflight for a container or an object: allowed when the origin
//!   is in the container's `X-Container-Meta-Access-Control-Allow-Origin`
//!   (space-separated) or the node-wide list (`*` allows any) and
//!   `Access-Control-Request-Method` is one of those methods; then the
//!   answer carries `Access-Control-Allow-*`, else it is a 401 that is not
//!   challenged. The account level has no CORS: its preflight is a plain
//!   `OPTIONS`.
//! - An actual request with an `Origin` to a container or an object gets
//!   `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers`, from
//!   the container's rules as they were before the request, when the
//!   origin is allowed (or always, with strict mode off), on every answer
//!   of the processors (errors too), as on every answer of Swift's
//!   decorated handlers. Not on answers given before them: tempauth's, a
//!   copy's refused headers, a container quota's (`Env::
//!   answered_before_controller`), and a container PUT, POST or DELETE that
//!   access control refused (Swift authorizes those before their handler;
//!   object requests and container reads are refused inside it).
//!
//! Imports: `node` (the settings), `store` (the container's rules), the
//! rest of `swift`.

use super::copy;
use super::{Env, Middleware, Next};
use crate::core::constraints::RESELLER_PREFIX;
use crate::core::http::{Host, LogLevel, Request, Response, Segment};
use crate::node::cors::CorsConfig;
use crate::node::vhost::Vhost;
use crate::swift::access::Level;
use crate::swift::auth::Caller;
use crate::swift::error::ApiError;
use crate::swift::names::Target;

pub struct Cors;

/// The methods of each level, as Swift's controllers list them in `Allow`
/// (Swift prints a set, in no fixed order). The account has no PUT or
/// DELETE (Swift's `allow_account_management` is off); an object's
/// successful `OPTIONS` adds COPY (Swift's copy middleware appends it), but
/// a preflight may not ask for COPY.
pub fn allowed_methods(level: Level) -> &'static [&'static str] {
    match level {
        Level::Account => &["GET", "HEAD", "POST", "OPTIONS"],
        Level::Container | Level::Object => &["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
    }
}

/// `Allow` of a successful `OPTIONS`.
fn allow_ok(level: Level) -> String {
    let mut allow = allowed_methods(level).join(", ");
    if level == Level::Object {
        allow.push_str(", COPY");
    }
    allow
}

/// Headers every CORS answer exposes (the simple response headers, and
/// Swift's own).
const EXPOSED: &[&str] = &[
    "cache-control",
    "content-language",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
    "etag",
    "x-timestamp",
    "x-trans-id",
    "x-openstack-request-id",
];

/// Swift's body of a 401.
const UNAUTHORIZED_HTML: &str = "<html><h1>Unauthorized</h1><p>This server could not verify that \
                                 you are authorized to access the document you requested.</p></html>";

const HTML: &str = "text/html; charset=UTF-8";

impl Middleware for Cors {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        if req.method == "OPTIONS" {
            return options(env, req, host).unwrap_or_else(|e| e.respond(host));
        }
        let origin = match req.header("Origin") {
            Some(o) if !o.is_empty() => o.to_string(),
            _ => return next.run(env, req, host),
        };
        let Some((account, container)) = env.target(req).ok().and_then(|t| cors_container(req, t))
        else {
            return next.run(env, req, host);
        };
        // As Swift, the rules as they were before this request (a POST
        // that sets them is answered by the old ones).
        let rules = Rules::of(env.vh, host, &account, &container);
        let mut resp = next.run(env, req, host);
        let authorized_first = matches!(env.target(req), Ok(Target::Container { .. }))
            && matches!(req.method, "PUT" | "POST" | "DELETE");
        if (authorized_first && env.access_denied) || env.answered_before_controller {
            return resp;
        }
        add_headers(&mut resp, &origin, &rules, &env.vh.config.cors);
        resp
    }
}

/// The container whose rules apply to an actual request, when Swift's
/// handler for it does CORS: container GET/HEAD/PUT/POST/DELETE, object
/// GET/HEAD/PUT/POST/DELETE; a copy is a PUT of the destination, unless
/// its headers are refused (the copy middleware answers that itself).
fn cors_container(req: &Request<'_>, target: &Target) -> Option<(String, String)> {
    match target {
        Target::Account { .. } => None,
        Target::Container { account, container } => {
            matches!(req.method, "GET" | "HEAD" | "PUT" | "POST" | "DELETE")
                .then(|| (account.clone(), container.clone()))
        }
        Target::Object {
            account,
            container,
            object,
        } => {
            if copy::is_copy(req, target) {
                let plan = copy::plan(req, (account, container, object)).ok()?;
                return Some((plan.dest.0, plan.dest.1));
            }
            matches!(req.method, "GET" | "HEAD" | "PUT" | "POST" | "DELETE")
                .then(|| (account.clone(), container.clone()))
        }
    }
}

/// A container's CORS metadata (`X-Container-Meta-Access-Control-*`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Rules {
    allow_origin: Option<String>,
    expose_headers: Option<String>,
    max_age: Option<String>,
}

impl Rules {
    /// The container's rules; none when it does not exist or cannot be
    /// read (Swift's container info is then empty too).
    fn of(vh: &Vhost, host: &mut dyn Host, account: &str, container: &str) -> Rules {
        let info = match vh.catalog.container_info(account, container) {
            Ok(info) => info,
            Err(e) => {
                host.log(LogLevel::Warn, &format!("CORS rules not read: {e}"));
                None
            }
        };
        let Some(info) = info else {
            return Rules::default();
        };
        let get = |key: &str| {
            info.metadata
                .iter()
                .find(|(n, v)| n == key && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        Rules {
            allow_origin: get("x-container-meta-access-control-allow-origin"),
            expose_headers: get("x-container-meta-access-control-expose-headers"),
            max_age: get("x-container-meta-access-control-max-age"),
        }
    }

    /// Whether `origin` may make requests: named by the container (its
    /// list is space-separated) or the node, or either says `*`.
    fn allows(&self, origin: &str, node: &CorsConfig) -> bool {
        let mine = self
            .allow_origin
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .map(str::trim)
            .filter(|a| !a.is_empty());
        mine.chain(node.allow_origin.iter().map(String::as_str))
            .any(|a| a == origin || a == "*")
    }

    /// Whether the container allows any origin (its whole value is `*`).
    fn any_origin(&self) -> bool {
        self.allow_origin.as_deref().map(str::trim) == Some("*")
    }
}

/// The answer to `OPTIONS`.
fn options(
    env: &mut Env<'_>,
    req: &Request<'_>,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let target = env.target(req)?.clone();
    // Tempauth refuses an account outside its prefix to anyone, OPTIONS
    // too, before the proxy answers.
    if !target.account().starts_with(RESELLER_PREFIX) {
        return Err(ApiError::status_only(match env.caller {
            Caller::Anonymous => 401,
            Caller::User(_) => 403,
        }));
    }
    let level = Level::of(&target);
    let origin = req.header("Origin").filter(|o| !o.is_empty());
    let (account, container, origin) = match (&target, origin) {
        (Target::Account { .. }, _) | (_, None) => return Ok(plain_options(&allow_ok(level))),
        (
            Target::Container { account, container }
            | Target::Object {
                account, container, ..
            },
            Some(origin),
        ) => (account, container, origin),
    };
    let rules = Rules::of(env.vh, host, account, container);
    let methods = allowed_methods(level);
    let method_ok = req
        .header("Access-Control-Request-Method")
        .is_some_and(|m| methods.contains(&m));
    if !method_ok || !rules.allows(origin, &env.vh.config.cors) {
        // Swift turns its 200 into a 401 after the fact: no challenge, and
        // no COPY (the copy middleware only touches a success).
        env.unchallenged = true;
        let mut r = Response::new(401);
        r.header("Content-Type", HTML)
            .header("Allow", methods.join(", "));
        r.body
            .push(Segment::Bytes(UNAUTHORIZED_HTML.as_bytes().to_vec()));
        return Ok(r);
    }
    Ok(preflight(
        level,
        origin,
        &rules,
        req.header("Access-Control-Request-Headers"),
    ))
}

/// An `OPTIONS` that is no preflight: 200, `Allow`, no body (with the
/// type of Swift's empty pages).
pub fn plain_options(allow: &str) -> Response {
    let mut r = Response::new(200);
    r.header("Content-Type", HTML).header("Allow", allow);
    r
}

/// An allowed preflight. Swift replaces the whole header set with its own
/// lower-case names (no Content-Type); on an object, the copy middleware
/// re-spells the methods header when it adds COPY.
fn preflight(level: Level, origin: &str, rules: &Rules, asked: Option<&str>) -> Response {
    let mut r = Response::new(200);
    r.verbatim = true;
    r.header("Allow", allow_ok(level));
    let mut vary = Vec::new();
    if rules.any_origin() {
        r.header("access-control-allow-origin", "*");
    } else {
        r.header("access-control-allow-origin", origin);
        vary.push("Origin");
    }
    if let Some(age) = &rules.max_age {
        r.header("access-control-max-age", age.as_str());
    }
    let methods_header = match level {
        Level::Object => "Access-Control-Allow-Methods",
        _ => "access-control-allow-methods",
    };
    r.header(methods_header, allow_ok(level));
    // Every header asked for is allowed (Swift lists them once each).
    let mut headers: Vec<&str> = Vec::new();
    for h in asked.unwrap_or("").split(',').map(str::trim) {
        if !h.is_empty() && !headers.contains(&h) {
            headers.push(h);
        }
    }
    if !headers.is_empty() {
        r.header("access-control-allow-headers", headers.join(", "));
        vary.push("Access-Control-Request-Headers");
    }
    if !vary.is_empty() {
        r.header("vary", vary.join(", "));
    }
    r
}

/// The CORS headers of an actual request's answer (`cors_validation`).
fn add_headers(resp: &mut Response, origin: &str, rules: &Rules, node: &CorsConfig) {
    if node.strict && !rules.allows(origin, node) {
        return;
    }
    if resp.get_header("Access-Control-Expose-Headers").is_none() {
        let mut exposed: Vec<String> = EXPOSED.iter().map(|h| h.to_string()).collect();
        exposed.extend(node.expose_headers.iter().cloned());
        for (name, _) in &resp.headers {
            if starts_with_ci(name, "x-container-meta") || starts_with_ci(name, "x-object-meta") {
                exposed.push(name.to_ascii_lowercase());
            }
        }
        if let Some(list) = &rules.expose_headers {
            exposed.extend(
                list.split(' ')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_lowercase),
            );
        }
        let mut once: Vec<String> = Vec::with_capacity(exposed.len());
        for h in exposed {
            if !once.contains(&h) {
                once.push(h);
            }
        }
        resp.header("Access-Control-Expose-Headers", once.join(", "));
    }
    if resp.get_header("Access-Control-Allow-Origin").is_none() {
        if rules.any_origin() {
            resp.header("Access-Control-Allow-Origin", "*");
        } else {
            resp.header("Access-Control-Allow-Origin", origin);
            // Origin first: Swift's listing middleware, outside its
            // controllers, appends its Accept after it.
            let vary = match resp.get_header("Vary") {
                Some(other) => format!("Origin, {other}"),
                None => "Origin".to_string(),
            };
            resp.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("Vary"));
            resp.header("Vary", vary);
        }
    }
}

fn starts_with_ci(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests;
