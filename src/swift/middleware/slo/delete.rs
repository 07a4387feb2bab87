//! `DELETE ?multipart-manifest=delete`, as Swift's
//! `handle_multipart_delete`: the manifest is read (as the caller, through
//! the rest of the pipeline), its segments are deleted one by one, nested
//! manifests' segments before the nested manifest, and the manifest last;
//! the answer is 200 with the bulk results body (`bulk_results`) in the
//! Accept header's format, the real status inside. A plain DELETE (no
//! parameter) deletes only the manifest: it never comes here.

use super::manifest::{self, Stored, MAX_MANIFEST_SEGMENTS};
use super::{is_slo, read_body, sub_request, subrequest, Unsized};
use crate::core::http::{Host, Request, Response, Segment};
use crate::swift::bulk_results::{
    self, OutFormat, Results, Value, NUMBER_DELETED, NUMBER_NOT_FOUND, RESPONSE_BODY,
};
use crate::swift::middleware::{Env, Next};

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
    let format = OutFormat::from_accept(req.header("Accept"));
    let mut results = Results::delete();
    match format {
        None => {
            results.set_status(406);
        }
        Some(_) => run(
            env,
            req,
            account,
            (container, object),
            &mut results,
            host,
            next,
        ),
    }
    let mut r = Response::new(200);
    r.header(
        "Content-Type",
        format.map_or(
            crate::core::http::SWOB_CONTENT_TYPE,
            OutFormat::content_type,
        ),
    );
    let body = results.render(format, "delete");
    r.body.push(Segment::Stream(Box::new(Unsized(body))));
    r
}

fn run(
    env: &Env<'_>,
    req: &Request<'_>,
    account: &str,
    (container, object): (&str, &str),
    results: &mut Results,
    host: &mut dyn Host,
    next: Next,
) {
    let mut queue = std::collections::VecDeque::from([Item {
        name: format!("/{container}/{object}"),
        sub_slo: true,
        error: None,
    }]);
    let mut failed_5xx = false;
    while let Some(mut item) = queue.pop_front() {
        if queue.len() + 1 > MAX_MANIFEST_SEGMENTS * 10 {
            results.set_status(400);
            results.set_body("Too many buffered slo segments to delete.");
            return;
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
