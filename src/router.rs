//! Maps a request to its processor: health check, info, auth, then
//! account / container / object under `/v1`, after the token check.

use crate::http::{Host, LogLevel, Request, Response};
use crate::names::{self, Target};
use crate::query::Query;
use crate::request_log::TransHost;
use crate::vhost::Vhost;
use crate::{access, account, auth, container, copy, expiry, gate, info, object};
use std::fmt::Display;

pub fn handle(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    let trans_id = trans_id();
    host.set_note("stowage-trans-id", &trans_id);
    let mut host = TransHost::new(host, &trans_id);
    let mut resp = route(vh, req, &mut host);
    expiry::maybe_sweep(vh, &mut host);
    resp.header("X-Trans-Id", trans_id.clone());
    resp.header("X-Openstack-Request-Id", trans_id);
    resp
}

fn route(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    let path = names::strip_authority(req.uri);
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
        return gate::admission::serve(vh, req, gate::Kind::Object, host, |host| {
            copy::handle(vh, req, &target, &caller, host)
        });
    }
    let grant = match access::check(vh, req, &target, &caller, host) {
        Ok(g) => g,
        Err(resp) => return resp,
    };
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
    let kind = gate::admission::kind_of(target);
    gate::admission::serve(vh, req, kind, host, |host| match target {
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

/// Logs a storage failure and answers 500 without details for the client.
pub fn internal_error(host: &mut dyn Host, e: &dyn Display) -> Response {
    host.log(LogLevel::Error, &format!("storage error: {e}"));
    Response::error(500, "")
}

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
