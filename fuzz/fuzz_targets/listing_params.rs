//! Listing parameters: the query-string parser (query.rs), the listing
//! query built from it, and the format choice (listing.rs). Properties:
//! no query string is refused; decoded values (a NUL included, as Swift
//! lists with one in a marker) survive a re-encode; an accepted limit is
//! within the maximum and is the one asked for (or the maximum); only an
//! over-large numeric limit is refused; `path` (containers only) lists one
//! pseudo-directory; the format choice is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stowage::core::constraints::CONTAINER_LISTING_LIMIT;
use stowage::swift::listing::Format;
use stowage::swift::query::{listing_query, Query};
use stowage_fuzz::percent_encode_all;

const KEYS: [&str; 8] = [
    "limit",
    "path",
    "prefix",
    "delimiter",
    "marker",
    "end_marker",
    "reverse",
    "format",
];

// The input is a byte choosing the maximum limit, then the query string,
// then optionally a newline and an Accept header (seeds stay readable).
fuzz_target!(|data: &[u8]| {
    let Some((&max, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (raw, accept) = match text.split_once('\n') {
        Some((q, a)) => (q, Some(a)),
        None => (text, None),
    };
    let max_limit = match max % 4 {
        0 => CONTAINER_LISTING_LIMIT,
        1 => 0,
        2 => usize::from(max),
        _ => usize::MAX,
    };
    // A value that is not UTF-8 is no value (`get` is None), not a refusal.
    let q = Query::parse(raw).unwrap_or_else(|e| panic!("{raw:?} refused: {e}"));
    let with_path = max & 4 != 0;
    let mut encoded = Vec::new();
    for key in KEYS {
        if let Some(v) = q.get(key) {
            encoded.push(format!("{key}={}", percent_encode_all(v)));
        }
    }
    let again = Query::parse(&encoded.join("&")).expect("re-encoded query refused");
    for key in KEYS {
        assert_eq!(again.get(key), q.get(key), "{key} after re-encode");
    }

    let given = q
        .get("limit")
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    match listing_query(&q, max_limit, with_path) {
        Ok(l) => {
            assert!(l.limit <= max_limit);
            match given {
                Some(n) => assert_eq!(n.parse::<usize>().ok(), Some(l.limit)),
                None => assert_eq!(l.limit, max_limit),
            }
            let by_path = with_path && q.get("path").is_some();
            assert_eq!(l.by_path, by_path);
            if by_path {
                // One pseudo-directory: its name with one '/', no subdirs.
                assert_eq!(l.delimiter.as_deref(), Some("/"));
                assert!(l.prefix.is_empty() || l.prefix.ends_with('/'));
                assert!(!l.prefix.ends_with("//"));
            } else {
                let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
                assert_eq!(l.delimiter.as_deref(), delimiter);
                assert_eq!(l.prefix, q.get("prefix").unwrap_or_default());
            }
            assert_eq!(l.marker, q.get("marker").unwrap_or_default());
            assert_eq!(l.end_marker, q.get("end_marker").unwrap_or_default());
            assert_eq!(l.reverse, q.flag("reverse"));
        }
        Err(_) => {
            let n = given.expect("refused without a numeric limit");
            assert!(n.parse::<usize>().map_or(true, |n| n > max_limit));
        }
    }

    let format = q.get("format");
    let negotiated = Format::negotiate(format, accept);
    if let Some(f) = format.filter(|f| !f.is_empty()) {
        // ?format= wins over any Accept header, well-formed or not.
        let want = match f.to_ascii_lowercase().as_str() {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => Format::Plain,
        };
        assert_eq!(negotiated, Ok(want));
    } else if accept.is_none_or(|a| a.trim().is_empty()) {
        assert_eq!(negotiated, Ok(Format::Plain));
    } else if let Err(status) = negotiated {
        // Swift's refusals only: malformed (400) or unacceptable (406).
        assert!(matches!(status, 400 | 406), "{status}");
    }
});
