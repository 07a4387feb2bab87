//! The metadata-header parser (constraints.rs) and the set/remove split
//! built on it (account.rs). Properties: exactly the `X-<kind>-Meta-*`
//! headers come back, lowercased, in order; a refusal happens exactly when
//! one of Swift's limits is broken; an update never sets an empty value and
//! removes only names of its kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::borrow::Cow;
use stowage::swift::account::metadata_update;
use stowage::core::constraints::{
    check_metadata, MAX_HEADER_SIZE, MAX_META_COUNT, MAX_META_NAME_LENGTH, MAX_META_OVERALL_SIZE,
    MAX_META_VALUE_LENGTH,
};
use stowage::core::http::Request;

const KINDS: [&str; 3] = ["object", "container", "account"];

// The input is text: the kind ("object", "container" or "account") on the
// first line, then one `Name: value` header a line. A line ending in `*N`
// (N decimal) has N more `v`s added to its value, so that the length limits
// (up to 8192) are reached without huge inputs.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let Some(kind) = lines
        .next()
        .and_then(|k| KINDS.into_iter().find(|&x| x == k))
    else {
        return;
    };
    let headers: Vec<(String, String)> = lines.filter_map(header).collect();
    let prefix = format!("x-{kind}-meta-");

    let expected: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| n.starts_with(&prefix))
        .collect();
    let key_len = |n: &str| n.len() - prefix.len();
    let broken = headers.iter().any(|(_, v)| v.len() > MAX_HEADER_SIZE)
        || expected.iter().any(|(n, v)| {
            key_len(n) == 0 || key_len(n) > MAX_META_NAME_LENGTH || v.len() > MAX_META_VALUE_LENGTH
        })
        || expected.len() > MAX_META_COUNT
        || expected
            .iter()
            .map(|(n, v)| key_len(n) + v.len())
            .sum::<usize>()
            > MAX_META_OVERALL_SIZE;

    let checked = check_metadata(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), kind);
    match &checked {
        Ok(meta) => {
            assert!(!broken, "a broken limit was accepted");
            assert_eq!(meta, &expected);
        }
        Err(msg) => {
            assert!(broken, "refused within the limits: {msg}");
            assert!(!msg.is_empty());
        }
    }

    let req = Request {
        method: "POST",
        uri: "/v1/a/c".into(),
        query: "",
        scheme: "http",
        host: "",
        remote_user: "",
        request_id: "",
        headers: headers
            .iter()
            .map(|(n, v)| (Cow::Borrowed(n.as_str()), v.as_str().into()))
            .collect(),
        content_length: None,
        chunked: false,
    };
    match (metadata_update(&req, kind), checked) {
        (Ok((set, remove)), Ok(meta)) => {
            for (n, v) in &set {
                assert!(!v.is_empty());
                assert!(meta.contains(&(n.clone(), v.clone())));
            }
            for n in &remove {
                assert!(
                    n.starts_with(&prefix) && *n == n.to_ascii_lowercase(),
                    "{n:?}"
                );
            }
            assert_eq!(
                set.len() + remove.len(),
                meta.len() + removals(&headers, kind)
            );
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("update {a:?} disagrees with check {b:?}"),
    }
});

fn header(line: &str) -> Option<(String, String)> {
    let (line, pad) = match line.rsplit_once('*') {
        Some((l, n)) if !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()) => {
            (l, n.parse().unwrap_or(0))
        }
        _ => (line, 0),
    };
    let (name, value) = line.split_once(':')?;
    let value = value.strip_prefix(' ').unwrap_or(value);
    Some((name.to_string(), format!("{value}{}", "v".repeat(pad))))
}

fn removals(headers: &[(String, String)], kind: &str) -> usize {
    let prefix = format!("x-remove-{kind}-meta-");
    headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with(&prefix))
        .count()
}
