//! Swift's default constraints, enforced exactly as `/info` advertises them.

use crate::core::header_case::title_case;

pub const MAX_FILE_SIZE: u64 = 5_368_709_122;
pub const MAX_META_NAME_LENGTH: usize = 128;
pub const MAX_META_VALUE_LENGTH: usize = 256;
pub const MAX_META_COUNT: usize = 90;
pub const MAX_META_OVERALL_SIZE: usize = 4096;
pub const MAX_HEADER_SIZE: usize = 8192;
pub const MAX_OBJECT_NAME_LENGTH: usize = 1024;
pub const MAX_ACCOUNT_NAME_LENGTH: usize = 256;
pub const MAX_CONTAINER_NAME_LENGTH: usize = 256;
pub const CONTAINER_LISTING_LIMIT: usize = 10_000;
pub const ACCOUNT_LISTING_LIMIT: usize = 10_000;
pub const VALID_API_VERSIONS: &[&str] = &["v1", "v1.0"];
/// Tempauth's reseller prefix: user `test:tester` owns account `AUTH_test`.
pub const RESELLER_PREFIX: &str = "AUTH_";

/// Swift's 400 body for account or container metadata that is not UTF-8.
pub const NOT_UTF8_METADATA: &str = "Metadata must be valid UTF-8";

/// Checks the `X-<kind>-Meta-*` headers of a request against Swift's limits
/// and returns them as lowercase (name, value) pairs. `kind` is "object",
/// "container" or "account". The error is Swift's 400 message. Values are
/// text (`str`) or the bytes the client sent (`[u8]`): lengths count bytes,
/// and, as in Swift, account and container metadata must be UTF-8 while an
/// object's keeps whatever bytes it was sent.
pub fn check_metadata<'a, V>(
    headers: impl Iterator<Item = (&'a str, &'a V)>,
    kind: &str,
) -> Result<Vec<(String, V::Owned)>, String>
where
    V: AsRef<[u8]> + ToOwned + ?Sized + 'a,
{
    let prefix = format!("x-{kind}-meta-");
    let mut out = Vec::new();
    let mut total = 0usize;
    for (name, value) in headers {
        let bytes = value.as_ref();
        if bytes.len() > MAX_HEADER_SIZE {
            let shown: String = name.chars().take(MAX_META_NAME_LENGTH).collect();
            return Err(format!("Header value too long: {shown}"));
        }
        let lower = name.to_ascii_lowercase();
        let Some(key) = lower.strip_prefix(&prefix) else {
            continue;
        };
        if key.is_empty() {
            return Err("Metadata name cannot be empty".into());
        }
        if kind != "object" && std::str::from_utf8(bytes).is_err() {
            return Err(NOT_UTF8_METADATA.into());
        }
        // Swift names the header as its request object spells it: the
        // prefix in lower case, the rest title-cased ("x-account-meta-Long").
        let shown = || format!("{prefix}{}", &title_case(name)[prefix.len()..]);
        if key.len() > MAX_META_NAME_LENGTH {
            return Err(format!("Metadata name too long: {}", shown()));
        }
        if bytes.len() > MAX_META_VALUE_LENGTH {
            return Err(format!(
                "Metadata value longer than {MAX_META_VALUE_LENGTH}: {}",
                shown()
            ));
        }
        total += key.len() + bytes.len();
        out.push((lower.clone(), value.to_owned()));
    }
    if out.len() > MAX_META_COUNT {
        return Err(format!("Too many metadata items; max {MAX_META_COUNT}"));
    }
    if total > MAX_META_OVERALL_SIZE {
        return Err(format!(
            "Total metadata too large; max {MAX_META_OVERALL_SIZE}"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_bytes_that_are_not_utf8() {
        let latin1: &[u8] = b"caf\xe9";
        let sent = [("X-Object-Meta-A", latin1), ("X-Other", &b"\xff"[..])];
        // Objects keep the bytes; lengths count them, not their U+FFFDs.
        let kept = check_metadata(sent.into_iter(), "object").unwrap();
        assert_eq!(kept, vec![("x-object-meta-a".to_string(), latin1.to_vec())]);
        let long = vec![0xffu8; MAX_META_VALUE_LENGTH];
        assert!(check_metadata([("X-Object-Meta-A", &long[..])].into_iter(), "object").is_ok());
        // Accounts and containers store text: Swift's 400.
        for kind in ["container", "account"] {
            let name = format!("X-{kind}-Meta-A");
            let err = check_metadata([(name.as_str(), latin1)].into_iter(), kind).unwrap_err();
            assert_eq!(err, NOT_UTF8_METADATA);
            let ok = check_metadata([(name.as_str(), "café".as_bytes())].into_iter(), kind);
            assert_eq!(ok.unwrap()[0].1, "café".as_bytes());
            // Only metadata headers are held to it.
            assert!(check_metadata([("X-Other", latin1)].into_iter(), kind).is_ok());
        }
    }

    #[test]
    fn metadata_limits() {
        let ok = check_metadata(
            [("X-Object-Meta-Color", "blue"), ("Other", "x")].into_iter(),
            "object",
        );
        assert_eq!(
            ok.unwrap(),
            vec![("x-object-meta-color".to_string(), "blue".to_string())]
        );
        assert!(check_metadata([("X-Object-Meta-", "v")].into_iter(), "object").is_err());
        let long_name = format!("X-Object-Meta-{}", "n".repeat(129));
        assert!(check_metadata([(long_name.as_str(), "v")].into_iter(), "object").is_err());
        let long_value = "v".repeat(257);
        assert!(check_metadata(
            [("X-Object-Meta-a", long_value.as_str())].into_iter(),
            "object"
        )
        .is_err());
        let names: Vec<String> = (0..91).map(|i| format!("X-Container-Meta-k{i}")).collect();
        assert!(check_metadata(names.iter().map(|n| (n.as_str(), "v")), "container").is_err());
        let huge = "h".repeat(MAX_HEADER_SIZE + 1);
        let err = check_metadata([("X-Other", huge.as_str())].into_iter(), "object").unwrap_err();
        assert_eq!(err, "Header value too long: X-Other");
        let names: Vec<String> = (0..20).map(|i| format!("X-Account-Meta-k{i:03}")).collect();
        let big = "v".repeat(250);
        assert!(
            check_metadata(names.iter().map(|n| (n.as_str(), big.as_str())), "account").is_err()
        );
    }

    #[test]
    fn messages_name_the_header_as_swift_spells_it() {
        let long_name = format!("X-Container-Meta-{}", "n".repeat(129));
        let err = check_metadata([(long_name.as_str(), "v")].into_iter(), "container");
        let want = format!(
            "Metadata name too long: x-container-meta-N{}",
            "n".repeat(128)
        );
        assert_eq!(err.unwrap_err(), want);
        let long = "v".repeat(257);
        let err = check_metadata(
            [("x-account-meta-LONG-one", long.as_str())].into_iter(),
            "account",
        );
        assert_eq!(
            err.unwrap_err(),
            "Metadata value longer than 256: x-account-meta-Long-One"
        );
    }
}
