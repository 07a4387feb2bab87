//! Conditional GET/HEAD on objects, in the order Swift (swob) applies them:
//! If-Match, If-None-Match, If-Unmodified-Since, If-Modified-Since.

use crate::core::http::Request;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    NotModified,
    PreconditionFailed,
}

/// `last_modified` is what the Last-Modified header announces (whole
/// seconds), so a client echoing it back compares equal.
pub fn evaluate(req: &Request<'_>, etag: &str, last_modified: SystemTime) -> Outcome {
    if let Some(v) = req.header("If-Match") {
        if !etag_matches(v, etag) {
            return Outcome::PreconditionFailed;
        }
    }
    if let Some(v) = req.header("If-None-Match") {
        if etag_matches(v, etag) {
            return Outcome::NotModified;
        }
    }
    if let Some(since) = req.header("If-Unmodified-Since").and_then(parse_date) {
        if last_modified > since {
            return Outcome::PreconditionFailed;
        }
    }
    if req.header("If-None-Match").is_none() {
        if let Some(since) = req.header("If-Modified-Since").and_then(parse_date) {
            if last_modified <= since {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

/// Whether a header's entity-tag list (`*`, or comma-separated tags, quoted
/// or not) names `etag`.
pub fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| {
        let t = t.strip_prefix("W/").unwrap_or(t);
        t == "*" || t.trim_matches('"') == etag
    })
}

fn parse_date(v: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(v.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use crate::core::http::testing::request as req;

    #[test]
    fn applies_swifts_order() {
        let lm = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(lm);
        let older = httpdate::fmt_http_date(lm - Duration::from_secs(60));
        let e = "abc";
        assert_eq!(evaluate(&req(&[]), e, lm), Outcome::Proceed);
        assert_eq!(
            evaluate(&req(&[("If-Match", "\"abc\"")]), e, lm),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&req(&[("If-Match", "x, y")]), e, lm),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            evaluate(&req(&[("If-Match", "*")]), e, lm),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&req(&[("If-None-Match", "x, abc")]), e, lm),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&req(&[("If-None-Match", "*")]), e, lm),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&req(&[("If-Modified-Since", &date)]), e, lm),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&req(&[("If-Modified-Since", &older)]), e, lm),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&req(&[("If-Unmodified-Since", &older)]), e, lm),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            evaluate(&req(&[("If-Unmodified-Since", &date)]), e, lm),
            Outcome::Proceed
        );
        // If-None-Match present: If-Modified-Since is not consulted.
        assert_eq!(
            evaluate(
                &req(&[("If-None-Match", "x"), ("If-Modified-Since", &date)]),
                e,
                lm
            ),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&req(&[("If-Modified-Since", "garbage")]), e, lm),
            Outcome::Proceed
        );
    }
}
