//! Swift's `bulk` middleware: `POST|DELETE ?bulk-delete` deletes a list of
//! objects and containers (`delete`), `PUT ?extract-archive=tar|tar.gz|
//! tar.bz2` creates containers and objects from an archive (`extract`).
//! It sits where Swift's does, before `tempauth`: it answers 200 itself and
//! does the work as sub-requests through the rest of the pipeline, each
//! carrying the caller's credentials, so every one is authorised, admitted
//! and checked exactly as the caller's own request would be. The real
//! outcome is in the results body (`swift::bulk_results`).
//!
//! As in Swift, the answer starts at once and the work runs while it is
//! sent (`swift::heartbeat`): whitespace every `yield_frequency`, then the
//! results.

mod delete;
mod extract;
mod tar_guard;

use std::cell::RefCell;
use std::io::{self, Read};

use super::{Env, Middleware, Next};
use crate::core::constraints::{MAX_CONTAINER_NAME_LENGTH, MAX_OBJECT_NAME_LENGTH};
use crate::core::http::{
    HeaderValue, Host, LogLevel, Request, Response, Segment, SWOB_CONTENT_TYPE,
};
use crate::core::owned_request::OwnedRequest;
use crate::swift::bulk_results::OutFormat;
use crate::swift::heartbeat::{Deferred, Heartbeat, Work};
use crate::swift::names::Target;

/// Swift's `max_deletes_per_request`.
pub const MAX_DELETES_PER_REQUEST: usize = 10_000;
/// Swift's `max_failed_deletes`.
pub const MAX_FAILED_DELETES: usize = 1_000;
/// Swift's `max_containers_per_extraction`.
pub const MAX_CONTAINERS_PER_EXTRACTION: u64 = 10_000;
/// Swift's `max_failed_extractions`.
pub const MAX_FAILED_EXTRACTIONS: usize = 1_000;
/// The longest `container/object` path (Swift's `max_path_length`).
pub const MAX_PATH_LENGTH: usize = MAX_OBJECT_NAME_LENGTH + MAX_CONTAINER_NAME_LENGTH + 2;

pub struct Bulk;

impl Middleware for Bulk {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let Ok(query) = env.query(req) else {
            return next.run(env, req, host);
        };
        // A value that is not UTF-8 names no format Swift knows.
        let extract = match req.method {
            "PUT" if query.has("extract-archive") => Some(
                query
                    .get("extract-archive")
                    .unwrap_or("\u{fffd}")
                    .to_string(),
            ),
            _ => None,
        };
        let delete = matches!(req.method, "POST" | "DELETE") && query.has("bulk-delete");
        if extract.is_none() && !delete {
            return next.run(env, req, host);
        }
        let Ok(target) = env.target(req).cloned() else {
            return next.run(env, req, host);
        };
        let format = OutFormat::from_accept(req.header("Accept"));
        let compression = match extract.as_deref().map(extract::Compression::from_param) {
            Some(None) => return Response::error(400, "Unsupported archive format"),
            Some(Some(c)) => Some(c),
            None => None,
        };
        let agent = if compression.is_some() {
            "BulkExpand"
        } else {
            "BulkDelete"
        };
        answer_while_working(req, next, format, agent, move |sub| match compression {
            Some(c) => extract::run(sub, &target, c, format),
            None => delete::run(sub, &target, format),
        })
    }
}

/// The 200 that carries a results body (swob's default Content-Type when
/// no format was acceptable), made by `work` while it is sent: Swift's
/// bulk answers at once and sends heartbeats while it works, so a client's
/// read timeout does not end a long request.
fn answer_while_working<W>(
    req: &Request<'_>,
    next: Next,
    format: Option<OutFormat>,
    agent: &'static str,
    work: W,
) -> Response
where
    W: FnOnce(&SubRequests<'_, '_, '_, '_>) -> Vec<u8> + 'static,
{
    let caller = OwnedRequest::of(req);
    let first = OutFormat::first_heartbeat(format);
    let mut r = Response::new(200);
    r.header(
        "Content-Type",
        format.map_or(SWOB_CONTENT_TYPE, OutFormat::content_type),
    );
    let run: Work = Box::new(move |host, vh| {
        let req = caller.as_request();
        let shared = RefCell::new(host);
        let sub = SubRequests {
            vh,
            next,
            req: &req,
            shared: &shared,
            agent,
            heartbeat: RefCell::new(Heartbeat::new(&req, first)),
        };
        let body = work(&sub);
        let heartbeat = sub.heartbeat.into_inner();
        heartbeat.finish(shared.into_inner(), &body)
    });
    r.body.push(Segment::Stream(Box::new(Deferred::new(run))));
    r
}

/// Runs requests through the stages after `bulk`, as the caller.
struct SubRequests<'r, 'v, 's, 'h> {
    vh: &'v crate::node::vhost::Vhost,
    next: Next,
    req: &'r Request<'r>,
    /// The real host: its body is the request's, read in turn by the
    /// bulk operation and the sub-requests it feeds.
    shared: &'s RefCell<&'h mut dyn Host>,
    /// What the sub-requests add to the caller's User-Agent.
    agent: &'r str,
    /// Beats between the steps of the work (`tick`).
    heartbeat: RefCell<Heartbeat>,
}

/// One sub-request's own headers (beyond those taken from the caller's).
type Headers = Vec<(String, Vec<u8>)>;

impl SubRequests<'_, '_, '_, '_> {
    /// Between two steps of the work: a heartbeat when one is due. An
    /// error means the client is gone: the work stops.
    fn tick(&self) -> io::Result<()> {
        let mut host = self.shared.borrow_mut();
        self.heartbeat.borrow_mut().tick(&mut **host)
    }

    /// `method` on the decoded `path` (`/v1/account/...`), with the
    /// caller's credentials and identity headers (what Swift's
    /// `make_subrequest` keeps) plus `extra`; `body` is what the
    /// sub-request reads as its body (none: empty).
    fn run(
        &self,
        method: &str,
        path: &[u8],
        agent: &str,
        extra: &Headers,
        content_length: u64,
        body: Option<&mut dyn Read>,
    ) -> Response {
        let uri = quote_path(path);
        let mut headers: Vec<(std::borrow::Cow<'_, str>, HeaderValue<'_>)> = Vec::new();
        for name in [
            "X-Auth-Token",
            "Host",
            "Origin",
            "Access-Control-Request-Method",
            "Referer",
            "X-User-Id",
            "X-Project-Id",
        ] {
            if let Some(v) = self.req.header_value(name) {
                headers.push((name.into(), v.clone()));
            }
        }
        let orig_agent = self.req.header("User-Agent").unwrap_or("");
        headers.push((
            "User-Agent".into(),
            HeaderValue::from(format!("{orig_agent} {agent}").trim().to_string()),
        ));
        headers.push((
            "Content-Length".into(),
            HeaderValue::from(content_length.to_string()),
        ));
        for (name, value) in extra {
            headers.push((name.as_str().into(), HeaderValue::from_bytes(value)));
        }
        let sub = Request {
            method,
            uri: uri.into(),
            query: "",
            scheme: self.req.scheme,
            host: self.req.host,
            remote_user: self.req.remote_user,
            request_id: self.req.request_id,
            headers,
            content_length: Some(content_length),
            chunked: false,
        };
        let mut host = SubHost {
            shared: self.shared,
            body,
        };
        let mut env = Env::new(self.vh);
        Next {
            rest: self.next.rest,
            app: self.next.app,
        }
        .run(&mut env, &sub, &mut host)
    }
}

/// A decoded path as a request URI: every byte but unreserved ones and `/`
/// percent-encoded.
fn quote_path(path: &[u8]) -> String {
    crate::swift::bulk_results::quote(path)
}

/// The host a sub-request sees: its body is `body`; what it would send
/// goes nowhere (its caller reads the `Response`); logs and notes go to the
/// real host.
struct SubHost<'s, 'h, 'b> {
    shared: &'s RefCell<&'h mut dyn Host>,
    body: Option<&'b mut dyn Read>,
}

impl Host for SubHost<'_, '_, '_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.body.as_mut() {
            Some(b) => b.read(buf),
            None => Ok(0),
        }
    }
    fn set_status(&mut self, _status: u16) {}
    fn add_header(&mut self, _name: &str, _value: &[u8]) {}
    fn write(&mut self, _data: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn send_file(&mut self, _file: &std::fs::File, _offset: u64, _len: u64) -> io::Result<()> {
        Ok(())
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.shared.borrow_mut().log(level, message);
    }
    fn set_note(&mut self, name: &str, value: &str) {
        self.shared.borrow_mut().set_note(name, value);
    }
    fn checkpoint(&mut self) {
        self.shared.borrow_mut().checkpoint();
    }
}

/// The request's body, read through the shared host.
struct SharedBody<'s, 'h> {
    shared: &'s RefCell<&'h mut dyn Host>,
}

impl<'s, 'h> SharedBody<'s, 'h> {
    fn of(sub: &SubRequests<'_, '_, 's, 'h>) -> Self {
        SharedBody { shared: sub.shared }
    }
}

impl Read for SharedBody<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.shared.borrow_mut().read_body(buf)
    }
}

/// The account and the `container[/prefix]` the request names.
fn split_target(t: &Target) -> (&str, String) {
    match t {
        Target::Account { account } => (account, String::new()),
        Target::Container { account, container } => (account, container.clone()),
        Target::Object {
            account,
            container,
            object,
        } => (account, format!("{container}/{object}")),
    }
}

/// Whether the request announces a body Swift can read (a length, or
/// chunked); else Swift reports 411.
fn has_body_length(req: &Request<'_>) -> bool {
    req.content_length.is_some() || req.chunked
}
