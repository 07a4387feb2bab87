//! Maps a request to its processor: the middleware pipeline first
//! (`middleware`: health check, info, auth, copy, ...), then account /
//! container / object under `/v1`, each under its admission gate.

use crate::core::http::{Host, Request, Response};
use crate::gate;
use crate::node::vhost::Vhost;
use crate::swift::auth::Caller;
use crate::swift::error::{self, ApiError};
use crate::swift::middleware::{self, Env};
use crate::swift::names::{self, Target};
use crate::swift::query::Query;
use crate::swift::{access, account, admission, container, object, wire};

/// Serves one Swift request: through the middleware pipeline, into `app`.
pub fn handle(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    // A backend object node speaks Swift's object-server protocol to the
    // proxy, not the v1 API: no middleware (no auth, no gatekeeper).
    if let Some(node) = &vh.config.object_node {
        let mut resp = crate::swift::object_node::handle(vh, node, req, host);
        wire::finish(&mut resp);
        return resp;
    }
    let mut resp = middleware::run(vh, req, host, app);
    wire::finish(&mut resp);
    resp
}

/// The application at the end of the pipeline: what the caller may do
/// (`access`, tempauth's rules), the name lengths Swift's handlers check,
/// then the processor under its gate.
fn app(env: &mut Env<'_>, req: &Request<'_>, host: &mut dyn Host) -> Response {
    error::answer(host, |host| {
        let vh = env.vh;
        let target = env.target(req)?.clone();
        let query = env.query(req)?.clone();
        let grant = access::check(vh, req, &target, &env.caller).inspect_err(|_| {
            env.access_denied = true;
        })?;
        if let Some((status, body)) = env.refused_once_authorized {
            return Err(ApiError::refused(status, body));
        }
        names::check_length_for(&target, req.method)
            .map_err(|e| ApiError::refused(e.status, e.message))?;
        let reseller = matches!(&env.caller, Caller::User(who) if who.reseller_admin);
        let mut resp = if grant.owner {
            dispatch(vh, req, &query, &target, host)
        } else {
            let mut resp = dispatch(vh, &access::strip_request(req), &query, &target, host);
            access::strip_response(&mut resp);
            resp
        };
        if reseller
            && matches!(target, Target::Container { .. })
            && matches!(req.method, "HEAD" | "GET")
        {
            container::show_sharding(&mut resp);
        }
        Ok(resp)
    })
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
    let gate = admission::gate_of(target, req.method);
    let serve = |host: &mut dyn Host, process: &dyn Fn(&mut dyn Host) -> Response| {
        gate::admission::serve(&vh.gates, req, gate, host, process)
    };
    match target {
        Target::Account { account } => {
            serve(host, &|host| account::handle(vh, req, query, account, host))
        }
        Target::Container { account, container } => serve(host, &|host| {
            container::handle(vh, req, query, account, container, host)
        }),
        Target::Object {
            account,
            container,
            object,
        } => {
            let served = gate::admission::serve(&vh.gates, req, gate, host, |host| {
                object::handle(vh, req, account, container, object, host)
            });
            // After the read permit is gone: a range of a large object may
            // still wait for the check of its object's bytes.
            object::settle(vh, served, host)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_integrity;
