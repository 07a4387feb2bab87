//! Conditional GET/HEAD on objects, as Swift answers them (swob's
//! `Response._get_conditional_response_status`, the object server's
//! responses): If-None-Match first, then If-Match, If-Modified-Since,
//! If-Unmodified-Since; the first that decides wins. So a matching
//! If-None-Match is a 304 even when If-Match fails, and If-Modified-Since
//! is honoured beside an If-None-Match that does not match (RFC 9110
//! orders them otherwise; Swift is the reference here).

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
    if req
        .header("If-None-Match")
        .is_some_and(|v| etag_matches(v, etag))
    {
        return Outcome::NotModified;
    }
    if req
        .header("If-Match")
        .is_some_and(|v| !etag_matches(v, etag))
    {
        return Outcome::PreconditionFailed;
    }
    if let Some(since) = req.header("If-Modified-Since").and_then(parse_date) {
        if last_modified <= since {
            return Outcome::NotModified;
        }
    }
    if let Some(since) = req.header("If-Unmodified-Since").and_then(parse_date) {
        if last_modified > since {
            return Outcome::PreconditionFailed;
        }
    }
    Outcome::Proceed
}

/// A GET or HEAD of an object that does not exist: 412 when If-Match
/// names `*` (there is no current entity), else 404.
pub fn missing_fails(req: &Request<'_>) -> bool {
    req.header("If-Match").is_some_and(names_any)
}

/// Whether an entity-tag list holds `*` (quoted or not).
pub fn names_any(list: &str) -> bool {
    tags(list).any(|t| t == "*")
}

/// Whether a header's entity-tag list names `etag` or `*`, as swob's
/// `Match` reads it: comma-separated tags, each trimmed and stripped of
/// one pair of double quotes; nothing else (a weak `W/"..."` tag is
/// compared as written, so it never matches).
pub fn etag_matches(list: &str, etag: &str) -> bool {
    let etag = normalize_etag(etag);
    tags(list).any(|t| t == "*" || t == etag)
}

fn tags(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(normalize_etag)
}

/// swob's `normalize_etag`: one pair of surrounding double quotes goes.
pub fn normalize_etag(tag: &str) -> &str {
    match tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner,
        None => tag,
    }
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
        // An If-None-Match that does not match leaves If-Modified-Since
        // to decide (Swift; RFC 9110 would ignore it).
        assert_eq!(
            evaluate(
                &req(&[("If-None-Match", "x"), ("If-Modified-Since", &date)]),
                e,
                lm
            ),
            Outcome::NotModified
        );
        // If-None-Match and If-Modified-Since come before the preconditions.
        assert_eq!(
            evaluate(
                &req(&[("If-None-Match", "\"abc\""), ("If-Match", "x")]),
                e,
                lm
            ),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(
                &req(&[
                    ("If-Modified-Since", &date),
                    ("If-Unmodified-Since", &older)
                ]),
                e,
                lm
            ),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(
                &req(&[
                    ("If-Modified-Since", &older),
                    ("If-Unmodified-Since", &older)
                ]),
                e,
                lm
            ),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            evaluate(&req(&[("If-Modified-Since", "garbage")]), e, lm),
            Outcome::Proceed
        );
    }

    #[test]
    fn reads_tags_as_swob() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches(" x ,abc", "abc"));
        assert!(etag_matches("\"*\"", "abc"));
        // weak tags and other spellings are compared as written
        assert!(!etag_matches("W/\"abc\"", "abc"));
        assert!(!etag_matches("ABC", "abc"));
        assert!(!etag_matches("\"\"abc\"\"", "abc"));
        assert!(!etag_matches("", "abc"));
        assert_eq!(normalize_etag("\""), "\"");
        assert_eq!(normalize_etag("\"\""), "");
        assert!(missing_fails(&req(&[("If-Match", "x, *")])));
        assert!(missing_fails(&req(&[("If-Match", "\"*\"")])));
        assert!(!missing_fails(&req(&[("If-Match", "x")])));
        assert!(!missing_fails(&req(&[("If-None-Match", "*")])));
        // an empty If-Match names nothing: it fails on any object
        assert_eq!(
            evaluate(&req(&[("If-Match", "")]), "abc", std::time::UNIX_EPOCH),
            Outcome::PreconditionFailed
        );
    }
}
