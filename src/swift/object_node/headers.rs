//! The request headers Swift's object server reads and the metadata it
//! keeps from them: `X-Timestamp` (required on writes, the offset form
//! included), `X-Delete-At`, the storage policy index, and which headers
//! are stored with an object (user metadata `X-Object-Meta-*`, system
//! metadata `X-Object-Sysmeta-*`, transient `X-Object-Transient-Sysmeta-*`
//! and Swift's `allowed_headers`), under the names Swift stores them
//! (title-cased, as WSGI gives them), with their bytes as WSGI strings.

use crate::core::header_case::title_case;
use crate::core::http::Request;
use crate::store::swift_disk::metadata::{native_from_header, Metadata};
use crate::store::timestamp::{OffsetTimestamp, Timestamp};

/// Swift's object server `allowed_headers` default.
pub const ALLOWED_HEADERS: [&str; 9] = [
    "content-disposition",
    "content-encoding",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
    "cache-control",
    "content-language",
    "expires",
    "x-robots-tag",
];

const USER_META: &str = "x-object-meta-";
const SYSMETA: &str = "x-object-sysmeta-";
const TRANSIENT: &str = "x-object-transient-sysmeta-";

fn has_prefix(key: &str, prefix: &str) -> bool {
    key.len() > prefix.len() && key[..prefix.len()].eq_ignore_ascii_case(prefix)
}

pub fn is_user_meta(key: &str) -> bool {
    has_prefix(key, USER_META)
}

pub fn is_sysmeta(key: &str) -> bool {
    has_prefix(key, SYSMETA)
}

pub fn is_transient_sysmeta(key: &str) -> bool {
    has_prefix(key, TRANSIENT)
}

/// What a GET/HEAD shows of stored metadata.
pub fn is_shown(key: &str) -> bool {
    is_user_meta(key)
        || is_sysmeta(key)
        || is_transient_sysmeta(key)
        || ALLOWED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(key))
}

/// A required `X-Timestamp` (Swift's `valid_timestamp`): Err is the 400's
/// body.
pub fn required_timestamp(req: &Request<'_>) -> Result<OffsetTimestamp, String> {
    match req.header("X-Timestamp") {
        None => Err("Missing X-Timestamp header".into()),
        Some(v) => parse_timestamp(v).ok_or_else(|| {
            format!("X-Timestamp should be a UNIX timestamp float value; was {v:?}")
        }),
    }
}

/// `X-Timestamp` or now (Swift's `ensure_x_timestamp`, for reads).
pub fn timestamp_or_now(req: &Request<'_>) -> Result<OffsetTimestamp, String> {
    match req.header("X-Timestamp") {
        None => Ok(Timestamp::now().into()),
        Some(_) => required_timestamp(req),
    }
}

/// A timestamp in any form Swift's `Timestamp` accepts that Stowage's
/// parser does: the normal and internal forms, an integer.
pub fn parse_timestamp(v: &str) -> Option<OffsetTimestamp> {
    OffsetTimestamp::parse(v.trim())
}

/// `X-Backend-Storage-Policy-Index` (default 0). Err: the 503's body when
/// it is not a number (Swift: "No policy with index").
pub fn policy_index(req: &Request<'_>) -> Result<u32, String> {
    match req.header("X-Backend-Storage-Policy-Index") {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("No policy with index {v}")),
    }
}

/// `X-Delete-At` as an integer (0: none). Err: the 400's body.
pub fn delete_at(req: &Request<'_>) -> Result<u64, String> {
    match req.header("X-Delete-At").map(str::trim) {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| "Non-integer X-Delete-At".to_string()),
    }
}

/// Whether the proxy asks to read an expired object anyway
/// (`X-Backend-Open-Expired`, Swift's `is_backend_open_expired`, with
/// `X-Backend-Replication` too).
pub fn open_expired(req: &Request<'_>) -> bool {
    let truthy = |h| {
        req.header(h).is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "on" | "t" | "y"
            )
        })
    };
    truthy("X-Backend-Open-Expired") || truthy("X-Backend-Replication")
}

/// The request's headers an object keeps: with `sysmeta` the PUT's set
/// (user, system and transient system metadata), without it a POST's
/// (user and transient only: a POST never changes system metadata); then
/// Swift's `allowed_headers` and the ones `X-Backend-Replication-Headers`
/// names, title-cased.
pub fn stored_from_request(req: &Request<'_>, sysmeta: bool) -> Metadata {
    let mut out = Metadata::new();
    let copied: Vec<String> = req
        .header("X-Backend-Replication-Headers")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    for (name, value) in &req.headers {
        let key = title_case(name);
        let lower = key.to_ascii_lowercase();
        let keep = is_user_meta(&key)
            || is_transient_sysmeta(&key)
            || (sysmeta && is_sysmeta(&key))
            || ALLOWED_HEADERS.contains(&lower.as_str())
            || copied.contains(&lower);
        if keep {
            out.insert(key, native_from_header(value.bytes()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::request;

    #[test]
    fn x_timestamp_is_required_and_may_carry_an_offset() {
        let r = request(&[]);
        assert!(required_timestamp(&r).unwrap_err().contains("Missing"));
        assert!(timestamp_or_now(&r).is_ok());
        let r = request(&[("X-Timestamp", "1700000000.12345_000000000000000a")]);
        let t = required_timestamp(&r).unwrap();
        assert_eq!(t.offset, 10);
        assert_eq!(t.internal(), "1700000000.12345_000000000000000a");
        let r = request(&[("X-Timestamp", "yesterday")]);
        assert!(required_timestamp(&r).is_err());
    }

    #[test]
    fn keeps_metadata_as_swift_names_it() {
        let r = request(&[
            ("x-object-meta-color", "blue"),
            ("X-Object-Sysmeta-Slo-Etag", "abc"),
            ("x-object-transient-sysmeta-crypto", "k"),
            ("content-disposition", "inline"),
            ("x-object-meta-", "empty name"),
            ("X-Auth-Token", "secret"),
        ]);
        let put = stored_from_request(&r, true);
        assert_eq!(
            put.get("X-Object-Meta-Color").map(String::as_str),
            Some("blue")
        );
        assert!(put.contains_key("X-Object-Sysmeta-Slo-Etag"));
        assert!(put.contains_key("X-Object-Transient-Sysmeta-Crypto"));
        assert!(put.contains_key("Content-Disposition"));
        assert!(!put.contains_key("X-Object-Meta-"));
        assert!(!put.contains_key("X-Auth-Token"));
        let post = stored_from_request(&r, false);
        assert!(!post.contains_key("X-Object-Sysmeta-Slo-Etag"));
        assert!(post.contains_key("X-Object-Meta-Color"));
    }

    #[test]
    fn policy_index_and_delete_at() {
        assert_eq!(policy_index(&request(&[])), Ok(0));
        let r = request(&[("X-Backend-Storage-Policy-Index", "2")]);
        assert_eq!(policy_index(&r), Ok(2));
        let r = request(&[("X-Backend-Storage-Policy-Index", "x")]);
        assert!(policy_index(&r).is_err());
        assert_eq!(delete_at(&request(&[("X-Delete-At", "123")])), Ok(123));
        assert!(delete_at(&request(&[("X-Delete-At", "soon")])).is_err());
        assert!(open_expired(&request(&[(
            "X-Backend-Open-Expired",
            "true"
        )])));
    }
}
