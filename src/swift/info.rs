//! `GET /info`: what this cluster supports, and only what is implemented.

use crate::core::constraints::*;
use crate::core::http::{Request, Response};
use crate::node::policy::Policies;
use crate::node::vhost::Vhost;
use crate::swift::middleware::bulk;
use crate::swift::middleware::slo::manifest as slo;
use serde_json::json;

/// Swift's `policies` entry: each policy not deprecated, as
/// `{"name", "aliases" (all its names, comma-separated), "default"}`.
fn policy_info(policies: &Policies) -> serde_json::Value {
    policies
        .iter()
        .filter(|p| !p.deprecated)
        .map(|p| {
            let mut entry = serde_json::Map::new();
            entry.insert("name".into(), json!(p.name()));
            entry.insert("aliases".into(), json!(p.names.join(", ")));
            if p.default {
                entry.insert("default".into(), json!(true));
            }
            serde_json::Value::Object(entry)
        })
        .collect()
}

pub fn handle(vh: &Vhost, req: &Request<'_>) -> Response {
    let policies = &vh.config.policies;
    if !matches!(req.method, "GET" | "HEAD") {
        return Response::swob(405).with_header("Allow", "GET, HEAD, OPTIONS");
    }
    let body = json!({
        "swift": {
            "version": concat!("stowage-", env!("CARGO_PKG_VERSION")),
            "policies": policy_info(policies),
            // Account PUT/DELETE are refused; X-Open-Expired is not honoured.
            "allow_account_management": false,
            "allow_open_expired": false,
            "max_file_size": MAX_FILE_SIZE,
            "max_meta_name_length": MAX_META_NAME_LENGTH,
            "max_meta_value_length": MAX_META_VALUE_LENGTH,
            "max_meta_count": MAX_META_COUNT,
            "max_meta_overall_size": MAX_META_OVERALL_SIZE,
            "max_header_size": MAX_HEADER_SIZE,
            "max_object_name_length": MAX_OBJECT_NAME_LENGTH,
            "max_account_name_length": MAX_ACCOUNT_NAME_LENGTH,
            "max_container_name_length": MAX_CONTAINER_NAME_LENGTH,
            "container_listing_limit": CONTAINER_LISTING_LIMIT,
            "account_listing_limit": ACCOUNT_LISTING_LIMIT,
            "extra_header_count": 0,
            "account_autocreate": true,
            "strict_cors_mode": vh.config.cors.strict,
        },
        // Account ACLs (X-Account-Access-Control) work; copy and expiry are
        // core behaviour here, not middleware. Swift advertises no `dlo` (DLO
        // works).
        "tempauth": { "account_acls": true },
        // Static large objects (`middleware::slo`), Swift's keys and limits
        // (min_segment_size is always 1 since Swift 2.x).
        "slo": {
            "max_manifest_segments": slo::MAX_MANIFEST_SEGMENTS,
            "max_manifest_size": slo::MAX_MANIFEST_SIZE,
            "yield_frequency": slo::YIELD_FREQUENCY,
            "min_segment_size": 1,
            "allow_async_delete": true,
        },
        "bulk_delete": {
            "max_deletes_per_request": bulk::MAX_DELETES_PER_REQUEST,
            "max_failed_deletes": bulk::MAX_FAILED_DELETES,
        },
        "bulk_upload": {
            "max_containers_per_extraction": bulk::MAX_CONTAINERS_PER_EXTRACTION,
            "max_failed_extractions": bulk::MAX_FAILED_EXTRACTIONS,
        },
        // Swift registers both quota middlewares without options.
        "container_quotas": {},
        "account_quotas": {},
    });
    let mut r = Response::new(200);
    r.header("Content-Type", "application/json; charset=UTF-8");
    r.body.push(crate::core::http::Segment::Bytes(
        body.to_string().into_bytes(),
    ));
    r
}
