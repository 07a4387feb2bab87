//! Query-string parsing as Swift's WSGI stack does it: `&`-separated
//! `key=value` pairs, `+` is a space, values percent-decoded. A value that
//! is not UTF-8 matters only where Swift reads that parameter: there it is
//! Swift's 400 naming it (`check_utf8`), elsewhere it is ignored. A NUL
//! is allowed (Swift lists with a NUL in a marker; no name has one).

use percent_encoding::percent_decode;

#[derive(Debug, Default, Clone)]
pub struct Query {
    /// Keys (lossily decoded: one that is not UTF-8 names no parameter)
    /// and values, None when a value is not UTF-8.
    pairs: Vec<(String, Option<String>)>,
}

impl Query {
    /// Never refuses today; the Result keeps callers ready for a check.
    pub fn parse(raw: &str) -> Result<Query, String> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(k);
            let key = key.unwrap_or_else(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            let value = decode(v).ok();
            pairs.push((key, value));
        }
        Ok(Query { pairs })
    }

    /// The parameter's value; None when absent or not UTF-8 (see
    /// `check_utf8`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether the parameter is there at all (even empty).
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// Swift's 400 message for the first of `names` (in the order Swift
    /// reads them) whose value is not UTF-8: `"prefix" parameter not
    /// valid UTF-8`.
    pub fn check_utf8(&self, names: &[&str]) -> Result<(), String> {
        for name in names {
            let bad = self
                .pairs
                .iter()
                .find(|(k, _)| k == name)
                .is_some_and(|(_, v)| v.is_none());
            if bad {
                return Err(format!("\"{name}\" parameter not valid UTF-8"));
            }
        }
        Ok(())
    }

    /// Swift's `config_true_value`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "on" | "t" | "y"
            )
        })
    }
}

/// The decoded text, or the decoded bytes when they are not UTF-8.
fn decode(s: &str) -> Result<String, Vec<u8>> {
    let plus = s.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(plus.as_bytes()).collect();
    String::from_utf8(bytes).map_err(|e| e.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs() {
        let q = Query::parse("format=json&prefix=a%2Fb+c&reverse=on&empty=&bare").unwrap();
        assert_eq!(q.get("format"), Some("json"));
        assert_eq!(q.get("prefix"), Some("a/b c"));
        assert!(q.flag("reverse"));
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("bare"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(
            Query::parse("marker=a%00b").unwrap().get("marker"),
            Some("a\0b")
        );
        let bad = Query::parse("foo=%FF&prefix=%FE%FF&marker=m").unwrap();
        assert_eq!(bad.get("prefix"), None);
        assert!(bad.has("prefix"));
        assert_eq!(bad.get("marker"), Some("m"));
        assert_eq!(bad.check_utf8(&["marker", "delimiter"]), Ok(()));
        assert_eq!(
            bad.check_utf8(&["marker", "prefix", "foo"]),
            Err("\"prefix\" parameter not valid UTF-8".to_string())
        );
    }
}

use crate::store::catalog::ListingQuery;

/// The listing parameters of an account or container GET, checked as Swift
/// checks them: `limit` above the maximum is a 412; a non-numeric limit is
/// ignored; a delimiter may be any non-empty string. The deprecated `path`
/// (containers only: `with_path`) replaces prefix and delimiter: the
/// objects directly under that pseudo-directory, no subdirs.
pub fn listing_query(q: &Query, max_limit: usize, with_path: bool) -> Result<ListingQuery, String> {
    let mut limit = max_limit;
    if let Some(given) = q.get("limit") {
        if !given.is_empty() && given.bytes().all(|b| b.is_ascii_digit()) {
            limit = match given.parse::<usize>() {
                Ok(n) if n <= max_limit => n,
                _ => return Err(format!("Maximum limit is {max_limit}")),
            };
        }
    }
    let delimiter = q
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let mut prefix = q.get("prefix").unwrap_or_default().to_string();
    let path = q.get("path").filter(|_| with_path);
    if let Some(path) = path {
        prefix = match path.trim_end_matches('/') {
            _ if path.is_empty() => String::new(),
            dir => format!("{dir}/"),
        };
    }
    Ok(ListingQuery {
        prefix,
        delimiter: if path.is_some() {
            Some("/".to_string())
        } else {
            delimiter
        },
        marker: q.get("marker").unwrap_or_default().to_string(),
        end_marker: q.get("end_marker").unwrap_or_default().to_string(),
        limit,
        reverse: q.flag("reverse"),
        by_path: path.is_some(),
    })
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    #[test]
    fn listing_parameters() {
        let q = Query::parse("limit=5&delimiter=/&prefix=a&marker=m&end_marker=z&reverse=true")
            .unwrap();
        let l = listing_query(&q, 10_000, true).unwrap();
        assert_eq!(
            (l.limit, l.delimiter.as_deref(), l.reverse),
            (5, Some("/"), true)
        );
        assert_eq!(
            (l.prefix.as_str(), l.marker.as_str(), l.end_marker.as_str()),
            ("a", "m", "z")
        );
        assert!(listing_query(&Query::parse("limit=10001").unwrap(), 10_000, true).is_err());
        assert_eq!(
            listing_query(&Query::parse("limit=abc").unwrap(), 10_000, true)
                .unwrap()
                .limit,
            10_000
        );
        let multi = listing_query(&Query::parse("delimiter=--").unwrap(), 10_000, true).unwrap();
        assert_eq!(multi.delimiter.as_deref(), Some("--"));
        let path = |raw: &str, with: bool| {
            let l = listing_query(&Query::parse(raw).unwrap(), 10_000, with).unwrap();
            (l.prefix, l.delimiter, l.by_path)
        };
        let dir = |p: &str| (p.to_string(), Some("/".to_string()), true);
        assert_eq!(path("path=a&prefix=x&delimiter=-", true), dir("a/"));
        assert_eq!(path("path=a//", true), dir("a/"));
        assert_eq!(path("path=", true), dir(""));
        assert_eq!(path("path=a&prefix=x", false), ("x".into(), None, false));
    }
}
