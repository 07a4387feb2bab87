//! Query-string parsing as Swift's WSGI stack does it: `&`-separated
//! `key=value` pairs, `+` is a space, values percent-decoded, UTF-8 required.

use percent_encoding::percent_decode;

#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Errors when a key or value is not valid UTF-8 after decoding.
    pub fn parse(raw: &str) -> Result<Query, String> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Query { pairs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
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

fn decode(s: &str) -> Result<String, String> {
    let plus = s.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(plus.as_bytes()).collect();
    let text = String::from_utf8(bytes).map_err(|_| "Invalid UTF8 in query string".to_string())?;
    if text.contains('\0') {
        return Err("Query string contains NULL".into());
    }
    Ok(text)
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
        assert!(Query::parse("prefix=%FF").is_err());
        assert!(Query::parse("prefix=%00").is_err());
    }
}

use crate::store::catalog::ListingQuery;

/// The listing parameters of an account or container GET, checked as Swift
/// checks them: `limit` above the maximum is a 412; a non-numeric limit is
/// ignored; a delimiter may be any non-empty string.
pub fn listing_query(q: &Query, max_limit: usize) -> Result<ListingQuery, String> {
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
    Ok(ListingQuery {
        prefix: q.get("prefix").unwrap_or_default().to_string(),
        delimiter,
        marker: q.get("marker").unwrap_or_default().to_string(),
        end_marker: q.get("end_marker").unwrap_or_default().to_string(),
        limit,
        reverse: q.flag("reverse"),
    })
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    #[test]
    fn listing_parameters() {
        let q = Query::parse("limit=5&delimiter=/&prefix=a&marker=m&end_marker=z&reverse=true")
            .unwrap();
        let l = listing_query(&q, 10_000).unwrap();
        assert_eq!(
            (l.limit, l.delimiter.as_deref(), l.reverse),
            (5, Some("/"), true)
        );
        assert_eq!(
            (l.prefix.as_str(), l.marker.as_str(), l.end_marker.as_str()),
            ("a", "m", "z")
        );
        assert!(listing_query(&Query::parse("limit=10001").unwrap(), 10_000).is_err());
        assert_eq!(
            listing_query(&Query::parse("limit=abc").unwrap(), 10_000)
                .unwrap()
                .limit,
            10_000
        );
        let multi = listing_query(&Query::parse("delimiter=--").unwrap(), 10_000).unwrap();
        assert_eq!(multi.delimiter.as_deref(), Some("--"));
    }
}
