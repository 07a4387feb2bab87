//! `gatekeeper`, as in Swift: a client may neither set nor see the headers
//! that are the cluster's own. System metadata (`X-Account-Sysmeta-*`,
//! `X-Container-Sysmeta-*`, `X-Object-Sysmeta-*`,
//! `X-Object-Transient-Sysmeta-*`) and backend headers (`X-Backend-*`) are
//! removed from every request before any other middleware reads it and
//! from every response, so the middlewares that keep their state there
//! (symlinks, versioning, large objects) can trust it. A client's
//! `X-Timestamp` is removed too: Swift shunts it to a backend header that
//! only its internal clients honour, so no client picks a record's time.

use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};

pub struct Gatekeeper;

/// Name prefixes, lowercase, that belong to the cluster, both ways.
const PRIVATE: &[&str] = &[
    "x-account-sysmeta-",
    "x-container-sysmeta-",
    "x-object-sysmeta-",
    "x-object-transient-sysmeta-",
    "x-backend",
];

fn is_private(name: &str) -> bool {
    PRIVATE.iter().any(|p| {
        name.len() >= p.len() && name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    })
}

fn is_removed_inbound(name: &str) -> bool {
    is_private(name) || name.eq_ignore_ascii_case("x-timestamp")
}

impl Middleware for Gatekeeper {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let mut resp = if req.headers.iter().any(|(n, _)| is_removed_inbound(n)) {
            let mut kept = req.clone();
            kept.headers.retain(|(n, _)| !is_removed_inbound(n));
            next.run(env, &kept, host)
        } else {
            next.run(env, req, host)
        };
        resp.headers.retain(|(n, _)| !is_private(n));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::MemHost;
    use crate::swift::middleware::run;
    use crate::swift::router::tests::fixture;

    /// Echoes the request headers the app saw, and answers with private
    /// headers of its own.
    fn app(_env: &mut Env<'_>, req: &Request<'_>, _host: &mut dyn Host) -> Response {
        let seen: Vec<String> = req.headers.iter().map(|(n, _)| n.to_lowercase()).collect();
        let mut r = Response::text(200, seen.join(","));
        r.header("X-Object-Sysmeta-Symlink-Target", "c/o")
            .header("X-Backend-Timestamp", "1")
            .header("X-Object-Meta-Color", "blue");
        r
    }

    #[test]
    fn private_headers_neither_reach_the_app_nor_leave() {
        let f = fixture();
        let headers = [
            "X-Object-Sysmeta-Symlink-Target",
            "x-container-sysmeta-versions",
            "X-Account-Sysmeta-Quota",
            "X-Object-Transient-Sysmeta-Crypto",
            "X-Backend-Storage-Policy-Index",
            "X-Timestamp",
            "X-Object-Meta-Color",
            "X-Sysmeta-Not-A-Prefix",
        ];
        let req = Request {
            method: "GET",
            uri: "/v1/AUTH_test/c/o".into(),
            headers: headers.iter().map(|h| ((*h).into(), "v".into())).collect(),
            ..Default::default()
        };
        let mut host = MemHost::default();
        let resp = run(&f.vh, &req, &mut host, app);
        let Some(crate::core::http::Segment::Bytes(seen)) = resp.body.first() else {
            panic!("no body");
        };
        // The client's private headers are gone; those `slo` and `dlo` add
        // for the object server (X-Backend-Etag-Is-At, X-Backend-Ignore-
        // Range-...) are the pipeline's own.
        assert_eq!(
            String::from_utf8_lossy(seen),
            "x-object-meta-color,x-sysmeta-not-a-prefix,x-backend-etag-is-at,\
             x-backend-ignore-range-if-metadata-present,x-backend-ignore-range-if-metadata-present"
        );
        assert_eq!(resp.get_header("X-Object-Sysmeta-Symlink-Target"), None);
        assert_eq!(resp.get_header("X-Backend-Timestamp"), None);
        assert_eq!(resp.get_header("X-Object-Meta-Color"), Some("blue"));
    }
}
