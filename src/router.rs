//! Maps a request to its processor: health check, info, auth, then
//! account / container / object under `/v1`, after the token check.

use crate::constraints::{MAX_HEADER_SIZE, MAX_META_NAME_LENGTH};
use crate::http::{Host, LogLevel, Request, Response};
use crate::names::{self, Target};
use crate::query::Query;
use crate::request_log::TransHost;
use crate::store::StoreError;
use crate::vhost::Vhost;
use crate::{access, account, auth, container, copy, expiry, gate, info, object, recovery};

pub fn handle(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    let trans_id = trans_id();
    host.set_note("stowage-trans-id", &trans_id);
    let mut host = TransHost::new(host, &trans_id);
    recovery::maybe_recover(vh, &mut host);
    let resp = route(vh, req, &mut host);
    // After the processor's permit is gone: a response may still carry a
    // check of its object's bytes (a Range GET of a large object).
    let mut resp = crate::integrity::settle(vh, resp, &mut host);
    // Swift challenges every 401 with its realm; not when tokens are off
    // (StowageApacheAuth Only): then there is no Swift login to point to.
    let challenge = resp.status == 401 && vh.config.apache_auth.tokens_allowed();
    if challenge && resp.get_header("Www-Authenticate").is_none() {
        let realm = realm(names::strip_authority(&req.uri));
        resp.header("Www-Authenticate", format!("Swift realm=\"{realm}\""));
    }
    expiry::maybe_sweep(vh, &mut host);
    resp.header("X-Trans-Id", trans_id.clone());
    resp.header("X-Openstack-Request-Id", trans_id);
    resp
}

fn route(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    if let Some(msg) = oversized_header(req) {
        return Response::error(400, &msg);
    }
    let path = names::strip_authority(&req.uri);
    match path {
        "/healthcheck" => return Response::text(200, "OK"),
        "/info" => return info::handle(req),
        "/auth/v1.0" | "/auth/v1.0/" | "/auth/v1" | "/auth/v1/" => {
            return auth::handle_auth(vh, req, host)
        }
        _ => {}
    }
    let target = match names::target_of(path) {
        Ok(t) => t,
        Err(e) => return Response::error(e.status, &e.message),
    };
    let query = match Query::parse(req.query) {
        Ok(q) => q,
        Err(msg) => return Response::error(400, &msg),
    };
    let caller = match auth::authenticate(vh, req, target.account(), host) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if copy::is_copy(req, &target) {
        return gate::admission::serve(vh, req, (gate::Kind::ObjectWrite, 0), host, |host| {
            copy::handle(vh, req, &target, &caller, host)
        });
    }
    let grant = match access::check(vh, req, &target, &caller, host) {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    if let Err(e) = names::check_length_for(&target, req.method) {
        return Response::error(e.status, &e.message);
    }
    if grant.owner {
        return dispatch(vh, req, &query, &target, host);
    }
    let mut resp = dispatch(vh, &access::strip_request(req), &query, &target, host);
    access::strip_response(&mut resp);
    resp
}

fn dispatch(
    vh: &Vhost,
    req: &Request<'_>,
    query: &Query,
    target: &Target,
    host: &mut dyn Host,
) -> Response {
    // Admission after authentication: an unauthenticated request never
    // takes a permit.
    let gate = gate::admission::gate_of(target, req.method);
    gate::admission::serve(vh, req, gate, host, |host| match target {
        Target::Account { account } => account::handle(vh, req, query, account, host),
        Target::Container { account, container } => {
            container::handle(vh, req, query, account, container, host)
        }
        Target::Object {
            account,
            container,
            object,
        } => object::handle(vh, req, account, container, object, host),
    })
}

/// Swift (eventlet) refuses a header line longer than max_header_size
/// before anything else; Stowage holds every header value to it, as the
/// metadata checks and `/info` do.
fn oversized_header(req: &Request<'_>) -> Option<String> {
    let (name, _) = req
        .headers
        .iter()
        .find(|(_, v)| v.len() > MAX_HEADER_SIZE)?;
    let shown: String = name.chars().take(MAX_META_NAME_LENGTH).collect();
    Some(format!("Header value too long: {shown}"))
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

/// Logs a storage failure and answers without details for the client: 507
/// when the disk (or quota) is full, as Swift's servers do, else 500. A
/// damaged SQLite file gets a line that says so and names it, for the
/// operator to act on; metadata refused by its merged limits is Swift's 400.
/// The one place a storage error becomes a status.
pub fn storage_error(host: &mut dyn Host, e: &StoreError) -> Response {
    if let StoreError::MetadataLimit { message } = e {
        return Response::error(400, message);
    }
    if e.is_out_of_space() {
        host.log(LogLevel::Error, &format!("storage full: {e}"));
        return Response::error(507, INSUFFICIENT_STORAGE);
    }
    let line = match e.damaged_db() {
        Some(path) => format!(
            "damaged SQLite database {} (check with stowage-audit; restore it from a backup): {e}",
            path.display()
        ),
        None => format!("storage error: {e}"),
    };
    host.log(LogLevel::Error, &line);
    Response::error(500, "")
}

/// The body of a 507, Swift's wording without its HTML.
pub const INSUFFICIENT_STORAGE: &str = "There was not enough space to save the resource.";

/// Swift-style transaction id: "tx" + 21 random hex digits + "-" + hex time.
fn trans_id() -> String {
    let mut raw = [0u8; 11];
    // Without OS randomness the id is still unique enough to read logs by.
    let _ = getrandom::fill(&mut raw);
    let hex = crate::debug::hex(&raw);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("tx{}-{secs:010x}", &hex[..21])
}
