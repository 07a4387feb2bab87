//! `DELETE ?multipart-manifest=delete`, as Swift's
//! `handle_multipart_delete`: the manifest is read (as the caller, through
//! the rest of the pipeline), its segments are deleted one by one, nested
//! manifests' segments before the nested manifest, and the manifest last;
//! the answer is 200 with the bulk results body (`bulk_results`) in the
//! Accept header's format, the real status inside, sent while the deletes
//! run with heartbeats between them (`swift::heartbeat`), as Swift's. A plain DELETE (no
//! parameter) deletes only the manifest: it never comes here.

use super::manifest::{self, Stored, MAX_MANIFEST_SEGMENTS};
use super::{is_slo, read_body, sub_request, subrequest};
use crate::core::http::{Host, Request, Response, Segment};
use crate::core::owned_request::OwnedRequest;
use crate::swift::bulk_results::{
    self, OutFormat, Results, Value, NUMBER_DELETED, NUMBER_NOT_FOUND, RESPONSE_BODY,
};
use crate::swift::heartbeat::{Deferred, Heartbeat, Work};
use crate::swift::middleware::{Env, Next};
use std::io;

/// One entry still to handle: a name (`/container/object`), whether it is
/// a manifest whose segments come first, and the error met reading it.
struct Item {
    name: String,
    sub_slo: bool,
    error: Option<(u16, String)>,
}

pub(super) fn handle(
    env: &mut Env<'_>,
    req: &Request<'_>,
    (account, container, object): (&str, &str, &str),
    host: &mut dyn Host,
    next: Next,
) -> Response {
    if env.query(req).is_ok_and(|q| q.flag("async")) {
        return async_delete(env, req, (account, container, object), host, next);
    }
    let format = OutFormat::from_accept(req.header("Accept"));
    let caller_req = OwnedRequest::of(req);
    let caller = env.caller.clone();
    let (account, container, object) = (
        account.to_string(),
        container.to_string(),
        object.to_string(),
    );
    let work: Work = Box::new(move |host, vh| {
        let req = caller_req.as_request();
        let mut env = Env::new(vh);
        env.caller = caller;
        let mut heartbeat = Heartbeat::new(&req, OutFormat::first_heartbeat(format));
        let mut results = Results::delete();
        match format {
            None => results.set_status(406),
            Some(_) => run(
                &env,
                &req,
                &account,
                (&container, &object),
                &mut results,
                (host, next),
                &mut heartbeat,
            )?,
        }
        heartbeat.finish(host, &results.render(format, "delete"))
    });
    let mut r = Response::new(200);
    r.header(
        "Content-Type",
        format.map_or(
            crate::core::http::SWOB_CONTENT_TYPE,
            OutFormat::content_type,
        ),
    );
    r.body.push(Segment::Stream(Box::new(Deferred::new(work))));
    r
}

/// The deletes, a heartbeat between two when one is due; an error is the
/// client gone.
fn run(
    env: &Env<'_>,
    req: &Request<'_>,
    account: &str,
    (container, object): (&str, &str),
    results: &mut Results,
    (host, next): (&mut dyn Host, Next),
    heartbeat: &mut Heartbeat,
) -> io::Result<()> {
    let mut queue = std::collections::VecDeque::from([Item {
        name: format!("/{container}/{object}"),
        sub_slo: true,
        error: None,
    }]);
    let mut failed_5xx = false;
    while let Some(mut item) = queue.pop_front() {
        heartbeat.tick(host)?;
        if queue.len() + 1 > MAX_MANIFEST_SEGMENTS * 10 {
            results.set_status(400);
            results.set_body("Too many buffered slo segments to delete.");
            return Ok(());
        }
        if item.sub_slo {
            match segments_of(env, req, account, &item.name, host, next) {
                Ok(segs) => queue.extend(segs.into_iter().filter_map(|s| match s {
                    Stored::Object { name, sub_slo, .. } => Some(Item {
                        name,
                        sub_slo,
                        error: None,
                    }),
                    Stored::Data(_) => None,
                })),
                Err(e) => item.error = Some(e),
            }
            item.sub_slo = false;
            queue.push_back(item);
            continue;
        }
        if item.name.is_empty() {
            continue;
        }
        let quoted = bulk_results::quote(item.name.as_bytes());
        if let Some((code, message)) = item.error {
            if code == 404 {
                results.bump(NUMBER_NOT_FOUND);
            } else {
                results.fail(quoted, message);
            }
            continue;
        }
        let sub = sub_request(req, "DELETE", account, item.name.trim_start_matches('/'));
        let resp = subrequest(env, &sub, host, next);
        match resp.status {
            200..=299 => results.bump(NUMBER_DELETED),
            404 => results.bump(NUMBER_NOT_FOUND),
            s => {
                failed_5xx |= s >= 500;
                results.fail(quoted, bulk_results::status_line(s));
            }
        }
    }
    if !results.errors.is_empty() {
        results.set_status(if failed_5xx { 502 } else { 400 });
    } else if results.count(NUMBER_DELETED) == 0 && results.count(NUMBER_NOT_FOUND) == 0 {
        results.set_status(400);
        results.set(RESPONSE_BODY, Value::Str("Invalid bulk delete.".into()));
    }
    Ok(())
}

/// A manifest's segments, read as the caller with
/// `?multipart-manifest=get`; Err is (status, message) as Swift's
/// `get_slo_segments` raises them.
fn segments_of(
    env: &Env<'_>,
    req: &Request<'_>,
    account: &str,
    name: &str,
    host: &mut dyn Host,
    next: Next,
) -> Result<Vec<Stored>, (u16, String)> {
    let sub = sub_request(req, "GET", account, name.trim_start_matches('/'));
    let resp = subrequest(env, &sub, host, next);
    match resp.status {
        200..=299 if is_slo(&resp) => read_body(&resp, host)
            .ok()
            .and_then(|b| manifest::parse_stored(&b))
            .ok_or((500, "Unable to load SLO manifest".into())),
        200..=299 => Err((400, "Not an SLO manifest".into())),
        404 => Err((404, "SLO manifest not found".into())),
        401 => Err((401, "401 Unauthorized".into())),
        _ => Err((500, "Unable to load SLO manifest or segment.".into())),
    }
}

/// `&async=yes`, as Swift's `handle_async_delete`: only for a manifest
/// whose segments are all in one container and none a manifest (Swift's
/// 400s), with write access to that container (and the manifest's); then
/// the segments are deleted and the manifest DELETE answers. Swift hands
/// the segments to its object expirer, to go later; here they go at once.
fn async_delete(
    env: &mut Env<'_>,
    req: &Request<'_>,
    (account, container, object): (&str, &str, &str),
    host: &mut dyn Host,
    next: Next,
) -> Response {
    let name = format!("/{container}/{object}");
    let segments: Vec<(String, bool)> = match segments_of(env, req, account, &name, host, next) {
        Ok(segs) => segs
            .into_iter()
            .filter_map(|s| match s {
                Stored::Object { name, sub_slo, .. } => Some((name, sub_slo)),
                Stored::Data(_) => None,
            })
            .collect(),
        Err((status, message)) => return Response::error(status, &message),
    };
    if !segments.is_empty() {
        let mut containers: Vec<&str> = Vec::new();
        for (seg, _) in &segments {
            let c = seg
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            if !containers.contains(&c) {
                containers.push(c);
            }
        }
        if containers.len() > 1 {
            let listed: Vec<String> = containers
                .iter()
                .map(|c| format!("\"{}\"", bulk_results::quote(c.as_bytes())))
                .collect();
            return Response::error(
                400,
                &format!(
                    "All segments must be in one container. Found segments in {}",
                    listed.join(", ")
                ),
            );
        }
        if segments.iter().any(|(_, sub)| *sub) {
            return Response::error(400, "No segments may be large objects.");
        }
        // Write access where the segments are, as the caller.
        let first = segments[0].0.trim_start_matches('/');
        let probe = sub_request(req, "DELETE", account, first);
        let target = crate::swift::names::Target::Object {
            account: account.to_string(),
            container: containers[0].to_string(),
            object: first
                .split_once('/')
                .map(|(_, o)| o)
                .unwrap_or_default()
                .to_string(),
        };
        if let Err(e) = crate::swift::access::check(env.vh, &probe, &target, &env.caller) {
            return e.respond(host);
        }
        let manifest = crate::swift::names::Target::Object {
            account: account.to_string(),
            container: container.to_string(),
            object: object.to_string(),
        };
        if let Err(e) = crate::swift::access::check(env.vh, req, &manifest, &env.caller) {
            return e.respond(host);
        }
        for (seg, _) in &segments {
            let sub = sub_request(req, "DELETE", account, seg.trim_start_matches('/'));
            let resp = subrequest(env, &sub, host, next);
            if !(200..300).contains(&resp.status) && resp.status != 404 {
                host.log(
                    crate::core::http::LogLevel::Warn,
                    &format!("async SLO delete: segment {seg}: {}", resp.status),
                );
            }
        }
    }
    next.run(env, req, host)
}
