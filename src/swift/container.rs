//! The container processor: PUT (create), HEAD, GET (object listing), POST
//! (metadata), DELETE (only when empty).

use crate::core::constraints::{CONTAINER_LISTING_LIMIT, NOT_UTF8_METADATA};
use crate::core::http::{Host, Request, Response};
use crate::node::policy::Policies;
use crate::node::vhost::Vhost;
use crate::store::catalog::{ContainerInfo, CreateOutcome, DeleteOutcome, PolicyChoice};
use crate::store::intents::Intent;
use crate::store::{StoreError, Timestamp};
use crate::swift::account::{metadata_update, MetadataUpdate};
use crate::swift::acl::clean_container_acl;
use crate::swift::error::ApiError;
use crate::swift::listing;
use crate::swift::query::{listing_query, Query};

/// The methods Swift's proxy allows on a container (its 405's `Allow`).
pub const ALLOW: &str = "DELETE, GET, HEAD, POST, PUT, OPTIONS";

pub fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    q: &Query,
    account: &str,
    container: &str,
    host: &mut dyn Host,
) -> Response {
    let result = match req.method {
        "PUT" => put(vh, req, account, container),
        "HEAD" | "GET" => read(vh, req, q, account, container),
        "POST" => post(vh, req, account, container),
        "DELETE" => delete(vh, account, container),
        _ => Err(ApiError::method_not_allowed(ALLOW)),
    };
    result.unwrap_or_else(|e| e.respond(host))
}

fn put(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
) -> Result<Response, ApiError> {
    let (set, _remove) = container_update(req)?;
    let policy = requested_policy(req, &vh.config.policies)?;
    // Container DB first, account row second: recovery resyncs the row if
    // we die in between.
    let intent = vh.intents.begin(&[account, container])?;
    let outcome = vh
        .catalog
        .container_create(account, container, Timestamp::now(), &set, policy);
    match outcome {
        Ok(CreateOutcome::Created) => settled(intent, Response::new(201)),
        Ok(CreateOutcome::Existed) => settled(intent, Response::swob(202)),
        Ok(CreateOutcome::Conflict(_)) => {
            intent.settle();
            Err(ApiError::status_only(409))
        }
        // Refused before anything changed (Swift's 400).
        Err(e @ StoreError::MetadataLimit { .. }) => {
            intent.settle();
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The policy a container PUT asks for with `X-Storage-Policy` (a name or
/// alias, any case; absent or empty: none), refused as Swift's proxy
/// refuses it: an unknown name or a deprecated policy is 400.
fn requested_policy(req: &Request<'_>, policies: &Policies) -> Result<PolicyChoice, ApiError> {
    let default = policies.default_policy().index;
    let Some(name) = req.header("X-Storage-Policy").filter(|n| !n.is_empty()) else {
        return Ok(PolicyChoice {
            requested: None,
            default,
        });
    };
    match policies.by_name(name) {
        // Swift's proxy names the type for this one only.
        None => Err(ApiError::plain(
            400,
            format!("Invalid X-Storage-Policy '{name}'"),
        )),
        Some(p) if p.deprecated => Err(ApiError::refused(
            400,
            format!("Storage Policy '{}' is deprecated", p.name()),
        )),
        Some(p) => Ok(PolicyChoice {
            requested: Some(p.index),
            default,
        }),
    }
}

/// What Swift's proxy shows a reseller admin on container HEAD/GET:
/// whether the container is sharded (never, here).
pub fn show_sharding(resp: &mut Response) {
    if (200..300).contains(&resp.status) {
        resp.header("X-Container-Sharding", "False");
    }
}

fn read(
    vh: &Vhost,
    req: &Request<'_>,
    q: &Query,
    account: &str,
    container: &str,
) -> Result<Response, ApiError> {
    let info = vh
        .catalog
        .container_info(account, container)?
        .ok_or_else(ApiError::not_found)?;
    let format = listing::format_of(q, req)?;
    if req.is_head() {
        let mut r = Response::new(204);
        stat_headers(&mut r, &info, q, &vh.config.policies);
        r.header("Content-Type", listing::content_type(format));
        return Ok(r);
    }
    // The container server's parameters, in the order it reads them.
    q.check_utf8(&[
        "marker",
        "end_marker",
        "prefix",
        "delimiter",
        "path",
        "reverse",
        "states",
        "includes",
        "limit",
    ])
    .map_err(ApiError::bad_request)?;
    let lq = listing_query(q, CONTAINER_LISTING_LIMIT, true)
        .map_err(|msg| ApiError::refused(412, msg))?;
    let entries = vh
        .catalog
        .list_objects(account, container, &lq)?
        .ok_or_else(ApiError::not_found)?;
    let mut r = listing::response(format, entries.is_empty(), || {
        listing::render_objects(container, &entries, format)
    });
    stat_headers(&mut r, &info, q, &vh.config.policies);
    Ok(r)
}

/// A container's HEAD and GET headers: its counts, metadata and, as Swift's
/// container server derives it, Last-Modified from its last PUT or POST.
fn stat_headers(r: &mut Response, info: &ContainerInfo, q: &Query, policies: &Policies) {
    r.header("X-Container-Object-Count", info.object_count.to_string())
        .header("X-Container-Bytes-Used", info.bytes_used.to_string())
        .header("X-Timestamp", info.created_at.normal())
        .header("Last-Modified", info.put_timestamp.http_date());
    // A policy no longer configured is not named (as Swift's proxy).
    if let Some(p) = policies.by_index(info.policy_index) {
        r.header("X-Storage-Policy", p.name());
    }
    for (name, value) in &info.metadata {
        r.header(name, value.clone());
    }
    listing::read_headers(r, q);
}

fn post(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
) -> Result<Response, ApiError> {
    let (set, remove) = container_update(req)?;
    let found =
        vh.catalog
            .container_update_meta(account, container, &set, &remove, Timestamp::now())?;
    match found {
        true => Ok(Response::new(204)),
        false => Err(ApiError::not_found()),
    }
}

/// User metadata plus the container ACLs, cleaned as Swift stores them (an
/// empty ACL, or `X-Remove-Container-Read`, removes it). Only owners get
/// here with ACL headers: the router drops them from others' requests.
/// As in Swift, both ACLs are cleaned (a malformed one is its 400) before
/// the container server's check that what it stores is UTF-8. The
/// metadata checks' messages are plain text, the ACLs' swob's default type
/// (Swift's proxy names none for them).
fn container_update(req: &Request<'_>) -> Result<MetadataUpdate, ApiError> {
    let (mut set, mut remove) = metadata_update(req, "container").map_err(ApiError::bad_request)?;
    let mut not_utf8 = false;
    for name in ["x-container-read", "x-container-write"] {
        if let Some(value) = req.header_value(name) {
            let cleaned =
                clean_container_acl(name, value.as_str()).map_err(|m| ApiError::refused(400, m))?;
            match cleaned {
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
        return Err(ApiError::bad_request(NOT_UTF8_METADATA));
    }
    Ok((set, remove))
}

fn delete(vh: &Vhost, account: &str, container: &str) -> Result<Response, ApiError> {
    let intent = vh.intents.begin(&[account, container])?;
    let outcome = vh
        .catalog
        .container_delete(account, container, Timestamp::now())?;
    intent.settle();
    match outcome {
        DeleteOutcome::Deleted => Ok(Response::new(204)),
        DeleteOutcome::NotFound => Err(ApiError::not_found()),
        DeleteOutcome::NotEmpty => Err(ApiError::status_only(409)),
    }
}

/// Both steps are done: the intent goes, the response is sent.
fn settled(intent: Intent, resp: Response) -> Result<Response, ApiError> {
    intent.settle();
    Ok(resp)
}
