//! The middleware pipeline, in the order of Swift's proxy pipeline
//! (`catch_errors gatekeeper healthcheck ... tempauth ... copy ...
//! proxy-server`). Each middleware is one module with one value that
//! implements `Middleware`: it may answer a request itself, change what the
//! rest sees, or call `next` and change what comes back. After the last one
//! the request reaches the application: the router's access check and the
//! account, container and object processors (`router::app`).
//!
//! Adding a middleware is one file here and one line in `PIPELINE`.
//! Imports: the rest of `swift`, `node`, `gate`, `store`, `core`.

mod account_quotas;
pub mod bulk;
mod catch_errors;
mod container_quotas;
mod copy;
mod cors;
mod dlo;
mod expiry;
mod gatekeeper;
mod header_limits;
mod healthcheck;
mod info;
mod quota_values;
mod recovery;
pub(crate) mod slo;
mod tempauth;

use crate::core::http::{Host, Request, Response};
use crate::node::vhost::Vhost;
use crate::swift::auth::Caller;
use crate::swift::error::ApiError;
use crate::swift::names::{self, Target};
use crate::swift::query::Query;

/// The pipeline, outermost first.
static PIPELINE: &[&dyn Middleware] = &[
    &catch_errors::CatchErrors,
    &gatekeeper::Gatekeeper,
    &recovery::Recovery,
    &expiry::Expiry,
    &header_limits::HeaderLimits,
    &healthcheck::Healthcheck,
    &info::Info,
    &bulk::Bulk,
    &tempauth::TempAuth,
    &cors::Cors,
    &copy::Copy,
    &container_quotas::ContainerQuotas,
    &account_quotas::AccountQuotas,
    &slo::Slo,
    &dlo::Dlo,
];

/// One stage of the pipeline.
pub trait Middleware: Sync {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response;
}

/// The stages after the one running, then the application. A stage may
/// run them more than once (a sub-request, e.g. SLO's HEAD of each
/// segment), each time with an `Env` of its own.
#[derive(Clone, Copy)]
pub struct Next {
    rest: &'static [&'static dyn Middleware],
    app: App,
}

/// The handler at the end of the pipeline.
pub type App = fn(&mut Env<'_>, &Request<'_>, &mut dyn Host) -> Response;

impl Next {
    pub fn run(self, env: &mut Env<'_>, req: &Request<'_>, host: &mut dyn Host) -> Response {
        match self.rest.split_first() {
            Some((stage, rest)) => stage.call(
                env,
                req,
                host,
                Next {
                    rest,
                    app: self.app,
                },
            ),
            None => (self.app)(env, req, host),
        }
    }
}

/// What the stages learn about one request and pass on (Swift keeps the
/// same in the WSGI environ): parsed once, by the first stage that needs it.
pub struct Env<'v> {
    pub vh: &'v Vhost,
    target: Option<Target>,
    query: Option<Query>,
    /// Who is calling, once `tempauth` has decided.
    pub caller: Caller,
    /// The application's access control refused the request before any
    /// processor ran (`cors` adds no headers to some of those answers).
    pub access_denied: bool,
    /// A 401 that Swift sends without a challenge (a refused CORS
    /// preflight): `tempauth` adds no `Www-Authenticate`.
    pub unchallenged: bool,
    /// A refusal a middleware defers until the caller is authorized, as
    /// Swift's wrap `swift.authorize` (account quotas): every access check
    /// the application grants from then on answers it instead (status,
    /// body under swob's Content-Type). Set only around the middleware's
    /// own `next.run`.
    pub refused_once_authorized: Option<(u16, &'static str)>,
    /// A middleware after `cors` answered itself, where Swift's controllers
    /// never ran: Swift's `cors_validation` adds nothing to that answer.
    pub answered_before_controller: bool,
}

impl<'v> Env<'v> {
    pub fn new(vh: &'v Vhost) -> Env<'v> {
        Env {
            vh,
            target: None,
            query: None,
            caller: Caller::Anonymous,
            access_denied: false,
            unchallenged: false,
            refused_once_authorized: None,
            answered_before_controller: false,
        }
    }

    /// The account, container and object the path names, with the
    /// statuses of Swift's proxy for a malformed path.
    pub fn target(&mut self, req: &Request<'_>) -> Result<&Target, ApiError> {
        if self.target.is_none() {
            let t = names::target_of(names::strip_authority(&req.uri))
                .map_err(|e| ApiError::refused(e.status, e.message))?;
            self.target = Some(t);
        }
        self.target
            .as_ref()
            .ok_or_else(|| ApiError::status_only(500))
    }

    /// The query string's parameters (400 with a NUL; a value that is not
    /// UTF-8 is refused only where it is read, `Query::check_utf8`).
    pub fn query(&mut self, req: &Request<'_>) -> Result<&Query, ApiError> {
        if self.query.is_none() {
            self.query = Some(Query::parse(req.query).map_err(ApiError::bad_request)?);
        }
        self.query
            .as_ref()
            .ok_or_else(|| ApiError::status_only(500))
    }
}

/// Runs `req` through the whole pipeline into `app`.
pub fn run(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host, app: App) -> Response {
    let mut env = Env::new(vh);
    Next {
        rest: PIPELINE,
        app,
    }
    .run(&mut env, req, host)
}

#[cfg(test)]
mod tests;
