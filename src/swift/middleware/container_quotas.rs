//! `container_quotas`, as in Swift 2.38: a container's
//! `X-Container-Meta-Quota-Bytes` and `X-Container-Meta-Quota-Count`.
//!
//! - A container PUT or POST that sets either to something other than
//!   digits is refused (400 `Invalid bytes quota.` / `Invalid count
//!   quota.`); an empty value removes it, as any metadata.
//! - An object PUT whose Content-Length would take the container's bytes
//!   over its byte quota, or whose one more object would take its count
//!   over the count quota, is refused with 413 `Upload exceeds quota.`
//!   (first the caller's access is checked, so that one who could not
//!   write there learns nothing: 401/403). A chunked PUT counts as 0 bytes
//!   (Swift cannot know its size: it is refused only once the container is
//!   already over), and an overwrite counts as one more object, as in Swift.
//! - Copies are checked by the `copy` middleware (`exceeded`) with the
//!   length of what they write, as Swift checks its copy's PUT.
//!
//! The container is read once (its catalog row: counts and metadata), as
//! Swift reads its container info. Swift's info may be up to a minute old
//! (memcache); here it is always current, so Swift may let through uploads
//! Stowage refuses until its cache expires.

use super::quota_values::{exceeds, is_digits, limit};
use super::{Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::node::vhost::Vhost;
use crate::swift::access;
use crate::swift::error::ApiError;
use crate::swift::names::Target;

pub struct ContainerQuotas;

/// Swift's body of the 413.
pub const EXCEEDED: &str = "Upload exceeds quota.";

const BYTES: &str = "x-container-meta-quota-bytes";
const COUNT: &str = "x-container-meta-quota-count";

impl Middleware for ContainerQuotas {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let refusal = match env.target(req) {
            Ok(Target::Container { .. }) if matches!(req.method, "PUT" | "POST") => {
                validate(req).err()
            }
            // Swift tests `method in ('PUT')`: a substring of "PUT".
            Ok(t @ Target::Object { .. }) if is_put(req.method) => {
                let target = t.clone();
                put_refusal(env, req, &target).err()
            }
            _ => None,
        };
        match refusal {
            Some(e) => {
                env.answered_before_controller = true;
                e.respond(host)
            }
            None => next.run(env, req, host),
        }
    }
}

fn is_put(method: &str) -> bool {
    !method.is_empty() && "PUT".contains(method)
}

/// The quota headers of a container PUT or POST, as Swift checks them.
fn validate(req: &Request<'_>) -> Result<(), ApiError> {
    for (name, message) in [
        (BYTES, "Invalid bytes quota."),
        (COUNT, "Invalid count quota."),
    ] {
        if let Some(v) = req.header_value(name) {
            if !v.bytes().is_empty() && !is_digits(v.bytes()) {
                return Err(ApiError::refused(400, message));
            }
        }
    }
    Ok(())
}

/// An object PUT over its container's quota: the caller's access
/// decides first (Swift's `bad_response` authorizes), then 413.
fn put_refusal(env: &Env<'_>, req: &Request<'_>, target: &Target) -> Result<(), ApiError> {
    let Target::Object {
        account, container, ..
    } = target
    else {
        return Ok(());
    };
    if !exceeded(env.vh, account, container, req.content_length.unwrap_or(0)) {
        return Ok(());
    }
    access::check(env.vh, req, target, &env.caller)?;
    Err(ApiError::refused(413, EXCEEDED))
}

/// Whether writing `adding` bytes as one more object goes over a quota of
/// the container. A container that does not exist or cannot be read has
/// none (the request fails later, as in Swift).
pub fn exceeded(vh: &Vhost, account: &str, container: &str, adding: u64) -> bool {
    let Ok(Some(info)) = vh.catalog.container_info(account, container) else {
        return false;
    };
    let quota = |key: &str| {
        // Swift enforces a stored quota only when it is all digits.
        let v = info.metadata.iter().find(|(n, _)| n == key)?.1.as_str();
        is_digits(v.as_bytes()).then_some(v)
    };
    let over_bytes = limit(quota(BYTES)).is_some_and(|q| exceeds(q, info.bytes_used, adding));
    let over_count = limit(quota(COUNT)).is_some_and(|q| exceeds(q, info.object_count, 1));
    over_bytes || over_count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing;

    #[test]
    fn validates_like_swift() {
        let ok = |h: &[(&'static str, &'static str)]| validate(&testing::request(h)).is_ok();
        assert!(ok(&[]));
        assert!(ok(&[("X-Container-Meta-Quota-Bytes", "100")]));
        assert!(ok(&[("X-Container-Meta-Quota-Bytes", "")]));
        assert!(ok(&[("x-container-meta-quota-count", "0")]));
        for bad in ["abc", "-1", "1.5", " 1", "+3"] {
            let e = validate(&testing::request(&[("X-Container-Meta-Quota-Bytes", bad)]));
            assert_eq!(
                e.unwrap_err().to_string(),
                "400 Invalid bytes quota.",
                "{bad}"
            );
            let e = validate(&testing::request(&[("X-Container-Meta-Quota-Count", bad)]));
            assert_eq!(
                e.unwrap_err().to_string(),
                "400 Invalid count quota.",
                "{bad}"
            );
        }
        // Bytes first, as Swift.
        let e = validate(&testing::request(&[
            ("X-Container-Meta-Quota-Count", "x"),
            ("X-Container-Meta-Quota-Bytes", "y"),
        ]));
        assert_eq!(e.unwrap_err().to_string(), "400 Invalid bytes quota.");
    }

    #[test]
    fn put_is_any_substring_of_put() {
        for m in ["PUT", "PU", "UT", "P", "T"] {
            assert!(is_put(m), "{m}");
        }
        for m in ["", "POST", "GET", "put", "PUTS"] {
            assert!(!is_put(m), "{m}");
        }
    }
}
