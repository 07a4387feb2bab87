//! The request-path parser (names.rs): what the router calls on every
//! request path. Properties: decoding is exact and refuses NUL; an accepted
//! target's names pass the length check only within Swift's limits (the
//! router checks lengths where Swift does, after access), put back together give the
//! decoded path, survive a re-encode, and hash to a fixed-shape storage
//! name (so `..` in a name can never climb out of the storage root), and an
//! object's directory is Swift's `objects/<partition>/<suffix>/<hash>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stowage::core::constraints::{
    MAX_ACCOUNT_NAME_LENGTH, MAX_CONTAINER_NAME_LENGTH, MAX_OBJECT_NAME_LENGTH,
};
use stowage::store::objects::{name_hash, ObjectStore};
use stowage::swift::names::{self, Target};
use stowage_fuzz::percent_encode_all;

fuzz_target!(|data: &[u8]| {
    // The ABI answers 400 to a request line that is not UTF-8 before any
    // parser runs, so only text reaches these.
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let path = names::strip_authority(raw);
    assert!(path == "/" || raw.ends_with(path), "{raw:?} -> {path:?}");

    let decoded = names::decode_path(path);
    match &decoded {
        Ok(text) => {
            assert!(!text.contains('\0'));
            let again = names::decode_path(&percent_encode_all(text));
            assert_eq!(again.as_ref(), Ok(text));
        }
        Err(e) => assert_eq!(e.status, 412),
    }

    match names::target_of(path) {
        Ok(target) => {
            let text = decoded.expect("target_of accepted what decode_path refused");
            let rest = text
                .strip_prefix("/v1/")
                .or_else(|| text.strip_prefix("/v1.0/"))
                .expect("a target outside /v1/");
            check_target(&target, rest);
        }
        Err(e) => match decoded {
            // Swift's split_path: 404 no path, 400 unknown version, 412 no account.
            Ok(_) => assert!(matches!(e.status, 400 | 404 | 412), "{e:?}"),
            Err(d) => assert_eq!(e, d),
        },
    }
});

fn check_target(target: &Target, rest: &str) {
    let within_limits = names::check_lengths(target).is_ok();
    let (a, c, o) = match target {
        Target::Account { account } => (account, None, None),
        Target::Container { account, container } => (account, Some(container), None),
        Target::Object {
            account,
            container,
            object,
        } => (account, Some(container), Some(object)),
    };
    assert!(!a.is_empty() && !a.contains('/'));
    let mut longest_ok = a.len() <= MAX_ACCOUNT_NAME_LENGTH;
    let mut parts = vec![a.as_str()];
    if let Some(c) = c {
        assert!(!c.is_empty() && !c.contains('/'));
        longest_ok &= c.len() <= MAX_CONTAINER_NAME_LENGTH;
        parts.push(c);
    }
    if let Some(o) = o {
        assert!(!o.is_empty());
        longest_ok &= o.len() <= MAX_OBJECT_NAME_LENGTH;
        parts.push(o);
    }
    assert_eq!(within_limits, longest_ok, "check_lengths vs Swift's limits");
    for p in &parts {
        assert!(!p.contains('\0'));
    }

    // The names are the path, split: only empty trailing segments dropped.
    let joined = parts.join("/");
    let tail = rest
        .strip_prefix(joined.as_str())
        .expect("names not a prefix");
    match target {
        Target::Object { .. } => assert_eq!(tail, ""),
        Target::Container { .. } => assert!(tail.is_empty() || tail == "/"),
        Target::Account { .. } => assert!(matches!(tail, "" | "/" | "//")),
    }

    // Encoded every byte, the same names come back.
    let encoded: Vec<String> = parts.iter().map(|p| percent_encode_all(p)).collect();
    let again = names::target_of(&format!("/v1/{}", encoded.join("/")));
    assert_eq!(again.as_ref(), Ok(target));

    // Storage names are 32 hex digits whatever the name holds.
    let hash = name_hash(&parts);
    assert!(hash.len() == 32 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));

    // An object's files go to Swift's layout under the root, whatever
    // the name: objects/<partition>/<suffix>/<hash>, four plain components.
    if let [a, c, o] = parts.as_slice() {
        let root = std::path::Path::new("/srv/node/d");
        let dir = ObjectStore::new(root).object_dir(a, c, o);
        let rel = dir.strip_prefix(root).expect("object dir outside the root");
        let comps: Vec<_> = rel.components().collect();
        assert_eq!(comps.len(), 4, "{dir:?}");
        assert!(comps
            .iter()
            .all(|c| matches!(c, std::path::Component::Normal(_))));
        assert_eq!(
            rel.to_str(),
            Some(
                format!(
                    "objects/{}/{}/{hash}",
                    u32::from_str_radix(&hash[..8], 16).unwrap_or(0) >> 22,
                    &hash[29..]
                )
                .as_str()
            )
        );
    }
}
