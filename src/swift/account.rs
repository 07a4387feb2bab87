//! The account processor: HEAD (counts), GET (container listing), POST
//! (metadata). Accounts exist implicitly for their users, as with Swift's
//! account_autocreate.

use crate::core::constraints::{check_metadata, ACCOUNT_LISTING_LIMIT, NOT_UTF8_METADATA};
use crate::core::http::{Host, Request, Response};
use crate::node::policy::Policies;
use crate::node::vhost::Vhost;
use crate::store::catalog::AccountInfo;
use crate::store::Timestamp;
use crate::swift::access::ACCOUNT_ACL_KEY;
use crate::swift::acl::AccountAcl;
use crate::swift::error::ApiError;
use crate::swift::listing;
use crate::swift::query::{listing_query, Query};

/// The methods Swift's proxy allows on an account (its 405's `Allow`).
pub const ALLOW: &str = "GET, HEAD, POST, OPTIONS";

pub fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    q: &Query,
    account: &str,
    host: &mut dyn Host,
) -> Response {
    let result = match req.method {
        "HEAD" | "GET" => read(vh, req, q, account),
        "POST" => post(vh, req, account),
        _ => Err(ApiError::method_not_allowed(ALLOW)),
    };
    result.unwrap_or_else(|e| e.respond(host))
}

fn read(vh: &Vhost, req: &Request<'_>, q: &Query, account: &str) -> Result<Response, ApiError> {
    let mut info = vh.catalog.account_info(account)?;
    if !info.exists {
        // As Swift's stand-in for an account not yet created: made now.
        info.created_at = Timestamp::now();
        info.put_timestamp = info.created_at;
    }
    let format = listing::format_of(q, req)?;
    if req.is_head() {
        // Swift's proxy answers an account not yet created (autocreate)
        // with a made-up empty listing: 200, where a real one is 204.
        let mut r = Response::new(if info.exists { 204 } else { 200 });
        stat_headers(&mut r, &info, q, &vh.config.policies);
        r.header("Content-Type", listing::content_type(format));
        return Ok(r);
    }
    // The account server's parameters, in the order it reads them; its
    // message reaches the client under swob's default Content-Type.
    q.check_utf8(&[
        "prefix",
        "delimiter",
        "reverse",
        "limit",
        "marker",
        "end_marker",
    ])
    .map_err(|msg| ApiError::refused(400, msg))?;
    let lq = listing_query(q, ACCOUNT_LISTING_LIMIT, false)
        .map_err(|msg| ApiError::refused(412, msg))?;
    let entries = vh.catalog.list_containers(account, &lq)?;
    let mut r = listing::response(format, entries.is_empty(), || {
        listing::render_containers(account, &entries, format, &vh.config.policies)
    });
    stat_headers(&mut r, &info, q, &vh.config.policies);
    Ok(r)
}

fn stat_headers(r: &mut Response, info: &AccountInfo, q: &Query, policies: &Policies) {
    r.header(
        "X-Account-Container-Count",
        info.container_count.to_string(),
    )
    .header("X-Account-Object-Count", info.object_count.to_string())
    .header("X-Account-Bytes-Used", info.bytes_used.to_string())
    .header("X-Timestamp", info.created_at.normal());
    // Per policy any container has had (a policy no longer configured is
    // left out); `wire` spells the names as Swift's title-casing does.
    for stats in &info.policy_stats {
        let Some(policy) = policies.by_index(stats.index) else {
            continue;
        };
        let prefix = format!("X-Account-Storage-Policy-{}-", policy.name());
        for (what, n) in [
            ("Container-Count", stats.container_count),
            ("Object-Count", stats.object_count),
            ("Bytes-Used", stats.bytes_used),
        ] {
            r.header(&format!("{prefix}{what}"), n.to_string());
        }
    }
    for (name, value) in &info.metadata {
        r.header(name, value.clone());
    }
    listing::read_headers(r, q);
    if !info.exists {
        // Swift's proxy makes this answer up (`account_listing_response`):
        // with X-Put-Timestamp, without Accept-Ranges.
        r.remove_header("Accept-Ranges");
        r.header("X-Put-Timestamp", info.put_timestamp.normal());
    }
}

fn post(vh: &Vhost, req: &Request<'_>, account: &str) -> Result<Response, ApiError> {
    let (mut set, mut remove) = metadata_update(req, "account").map_err(ApiError::bad_request)?;
    // Validated by the access check already; stored in canonical form. Its
    // bytes must be UTF-8, as everything Swift's account server stores.
    if let Some(data) = req.header_value(ACCOUNT_ACL_KEY) {
        match AccountAcl::parse(data.as_str()) {
            Ok(_) if !data.is_utf8() => return Err(ApiError::bad_request(NOT_UTF8_METADATA)),
            Ok(Some(acl)) => set.push((ACCOUNT_ACL_KEY.to_string(), acl.format())),
            Ok(None) => remove.push(ACCOUNT_ACL_KEY.to_string()),
            Err(why) => return Err(ApiError::bad_request(why)),
        }
    }
    system_metadata(req, &mut set, &mut remove)?;
    vh.catalog
        .account_update_meta(account, &set, &remove, Timestamp::now())?;
    Ok(Response::new(204))
}

/// The account's system metadata a middleware set on the request (a
/// client's never gets here: `gatekeeper`), stored as Swift's account
/// server stores it: an empty value removes it. Not counted against the
/// metadata limits, as in Swift.
fn system_metadata(
    req: &Request<'_>,
    set: &mut Vec<(String, String)>,
    remove: &mut Vec<String>,
) -> Result<(), ApiError> {
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("x-account-sysmeta-") {
            continue;
        }
        if !value.is_utf8() {
            // The account server's own check (swob's type, not the
            // proxy's text/plain for user metadata).
            return Err(ApiError::refused(400, NOT_UTF8_METADATA));
        }
        match value.as_str() {
            "" => remove.push(lower),
            v => set.push((lower, v.to_string())),
        }
    }
    Ok(())
}

/// Metadata names and values to set (lowercase names), and names to remove.
pub type MetadataUpdate = (Vec<(String, String)>, Vec<String>);

/// The `X-<kind>-Meta-*` headers to set and the `X-Remove-<kind>-Meta-*`
/// ones to remove (an empty value also removes, as in Swift). A value that
/// is not UTF-8 is Swift's 400 `Metadata must be valid UTF-8`: accounts and
/// containers store text.
pub fn metadata_update(req: &Request<'_>, kind: &str) -> Result<MetadataUpdate, String> {
    let all = check_metadata(
        req.headers.iter().map(|(n, v)| (n.as_ref(), v.bytes())),
        kind,
    )?;
    let all = all
        .into_iter()
        .map(|(n, v)| String::from_utf8(v).map(|v| (n, v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| NOT_UTF8_METADATA.to_string())?;
    let (set, mut remove): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, v)| !v.is_empty());
    let mut remove: Vec<String> = remove.drain(..).map(|(n, _)| n).collect();
    let remove_prefix = format!("x-remove-{kind}-meta-");
    for (name, _) in req.headers_with_prefix(&remove_prefix) {
        let key = &name[remove_prefix.len()..];
        remove.push(format!("x-{kind}-meta-{}", key.to_ascii_lowercase()));
    }
    Ok((set, remove))
}
