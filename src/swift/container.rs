//! The container processor: PUT (create), HEAD, GET (object listing), POST
//! (metadata), DELETE (only when empty).

use crate::core::constraints::{CONTAINER_LISTING_LIMIT, NOT_UTF8_METADATA};
use crate::core::http::{Host, Request, Response};
use crate::node::vhost::Vhost;
use crate::store::catalog::{ContainerInfo, CreateOutcome, DeleteOutcome};
use crate::store::intents::Intent;
use crate::store::{StoreError, Timestamp};
use crate::swift::account::{metadata_update, MetadataUpdate};
use crate::swift::acl::clean_container_acl;
use crate::swift::error::storage_error;
use crate::swift::listing::{self, Format};
use crate::swift::query::{listing_query, Query};

pub fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    q: &Query,
    account: &str,
    container: &str,
    host: &mut dyn Host,
) -> Response {
    match req.method {
        "PUT" => put(vh, req, account, container, host),
        "HEAD" | "GET" => read(vh, req, q, account, container, host),
        "POST" => post(vh, req, account, container, host),
        "DELETE" => delete(vh, account, container, host),
        _ => Response::error(405, ""),
    }
}

fn put(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    host: &mut dyn Host,
) -> Response {
    let (set, _remove) = match container_update(req) {
        Ok(m) => m,
        Err(msg) => return Response::error(400, &msg),
    };
    // Container DB first, account row second: recovery resyncs the row if
    // we die in between.
    let intent = match vh.intents.begin(&[account, container]) {
        Ok(i) => i,
        Err(e) => return storage_error(host, &e),
    };
    let outcome = vh
        .catalog
        .container_create(account, container, Timestamp::now(), &set);
    match outcome {
        Ok(CreateOutcome::Created) => settled(intent, Response::new(201)),
        Ok(CreateOutcome::Existed) => settled(intent, Response::new(202)),
        // Refused before anything changed (Swift's 400).
        Err(e @ StoreError::MetadataLimit { .. }) => settled(intent, storage_error(host, &e)),
        Err(e) => storage_error(host, &e),
    }
}

fn read(
    vh: &Vhost,
    req: &Request<'_>,
    q: &Query,
    account: &str,
    container: &str,
    host: &mut dyn Host,
) -> Response {
    let info = match vh.catalog.container_info(account, container) {
        Ok(Some(i)) => i,
        Ok(None) => return Response::error(404, ""),
        Err(e) => return storage_error(host, &e),
    };
    let format = match Format::negotiate(q.get("format"), req.header("Accept")) {
        Ok(f) => f,
        Err(406) => return Response::error(406, ""),
        Err(status) => return Response::error(status, "Invalid Accept header"),
    };
    if req.is_head() {
        let mut r = Response::new(204);
        stat_headers(&mut r, &info);
        r.header("Content-Type", listing::content_type(format));
        return r;
    }
    let lq = match listing_query(q, CONTAINER_LISTING_LIMIT) {
        Ok(l) => l,
        Err(msg) => return Response::error(412, &msg),
    };
    let entries = match vh.catalog.list_objects(account, container, &lq) {
        Ok(Some(e)) => e,
        Ok(None) => return Response::error(404, ""),
        Err(e) => return storage_error(host, &e),
    };
    let mut r = listing::response(format, entries.is_empty(), || {
        listing::render_objects(container, &entries, format)
    });
    stat_headers(&mut r, &info);
    r
}

fn stat_headers(r: &mut Response, info: &ContainerInfo) {
    r.header("X-Container-Object-Count", info.object_count.to_string())
        .header("X-Container-Bytes-Used", info.bytes_used.to_string())
        .header("X-Timestamp", info.created_at.normal())
        .header("X-Put-Timestamp", info.put_timestamp.normal());
    for (name, value) in &info.metadata {
        r.header(name, value.clone());
    }
}

fn post(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    host: &mut dyn Host,
) -> Response {
    let (set, remove) = match container_update(req) {
        Ok(m) => m,
        Err(msg) => return Response::error(400, &msg),
    };
    match vh
        .catalog
        .container_update_meta(account, container, &set, &remove, Timestamp::now())
    {
        Ok(true) => Response::new(204),
        Ok(false) => Response::error(404, ""),
        Err(e) => storage_error(host, &e),
    }
}

/// User metadata plus the container ACLs, cleaned as Swift stores them (an
/// empty ACL, or `X-Remove-Container-Read`, removes it). Only owners get
/// here with ACL headers: the router drops them from others' requests.
/// As in Swift, both ACLs are cleaned (a malformed one is its 400) before
/// the container server's check that what it stores is UTF-8.
fn container_update(req: &Request<'_>) -> Result<MetadataUpdate, String> {
    let (mut set, mut remove) = metadata_update(req, "container")?;
    let mut not_utf8 = false;
    for name in ["x-container-read", "x-container-write"] {
        if let Some(value) = req.header_value(name) {
            match clean_container_acl(name, value.as_str())? {
                cleaned if cleaned.is_empty() => remove.push(name.to_string()),
                cleaned => {
                    not_utf8 |= !value.is_utf8();
                    set.push((name.to_string(), cleaned));
                }
            }
        }
        if req.header(&format!("x-remove-{}", &name[2..])).is_some() {
            remove.push(name.to_string());
        }
    }
    if not_utf8 {
        return Err(NOT_UTF8_METADATA.to_string());
    }
    Ok((set, remove))
}

fn delete(vh: &Vhost, account: &str, container: &str, host: &mut dyn Host) -> Response {
    let intent = match vh.intents.begin(&[account, container]) {
        Ok(i) => i,
        Err(e) => return storage_error(host, &e),
    };
    let outcome = vh
        .catalog
        .container_delete(account, container, Timestamp::now());
    match outcome {
        Ok(DeleteOutcome::Deleted) => settled(intent, Response::new(204)),
        Ok(DeleteOutcome::NotFound) => settled(intent, Response::error(404, "")),
        Ok(DeleteOutcome::NotEmpty) => settled(
            intent,
            Response::error(
                409,
                "There was a conflict when trying to complete your request.",
            ),
        ),
        Err(e) => storage_error(host, &e),
    }
}

/// Both steps are done: the intent goes, the response is sent.
fn settled(intent: Intent, resp: Response) -> Response {
    intent.settle();
    resp
}
