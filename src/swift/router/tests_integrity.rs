//! GETs of objects whose bytes changed on disk, through the router with an
//! in-memory host: never a complete response with wrong bytes, quarantine
//! and 404 afterwards.

use crate::core::http::testing::MemHost;
use crate::core::http::{send, LogLevel, Request, SendError};
use crate::node::integrity::{self, VERIFY_FIRST_MAX};
use crate::swift::router;
use crate::swift::router::tests::{fixture, Fixture};
use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

fn stored(f: &Fixture, body: &[u8]) -> PathBuf {
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c/o", body).status, 201);
    f.vh.objects
        .open("AUTH_test", "c", "o")
        .unwrap()
        .unwrap()
        .path
}

fn flip(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

fn quarantined(f: &Fixture, data: &Path) -> PathBuf {
    let hash = data.parent().unwrap().file_name().unwrap();
    f.vh.config
        .root
        .join("quarantined/objects")
        .join(hash)
        .join(data.file_name().unwrap())
}

fn assert_gone(f: &Fixture, data: &Path) {
    assert!(!data.exists());
    assert!(quarantined(f, data).exists());
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/o", b"").status, 404);
    assert_eq!(f.req("HEAD", "/v1/AUTH_test/c/o", b"").status, 404);
    let listing = f.req("GET", "/v1/AUTH_test/c", b"");
    assert_eq!(listing.status, 204, "the listing row went with the object");
    assert_eq!(listing.header("X-Container-Object-Count"), Some("0"));
}

#[test]
fn a_small_corrupt_object_is_quarantined_and_answered_404() {
    let f = fixture();
    let data = stored(&f, b"hello, world");
    flip(&data, 3);
    let h = f.req("GET", "/v1/AUTH_test/c/o", b"");
    assert_eq!(h.status, 404);
    assert!(!h.out.windows(5).any(|w| w == b"hello"));
    let line = h
        .logs
        .iter()
        .find(|(l, m)| *l == LogLevel::Error && m.contains("quarantined object /AUTH_test/c/o"))
        .map(|(_, m)| m.clone())
        .expect("an error-log line");
    assert!(line.contains(&data.display().to_string()), "{line}");
    assert!(
        line.contains("expected MD5 e4d7f1b4ed2e42d15898f4b27b019da4"),
        "{line}"
    );
    assert_gone(&f, &data);
}

#[test]
fn a_range_of_a_corrupt_object_is_not_served() {
    let f = fixture();
    let data = stored(&f, b"0123456789");
    flip(&data, 8);
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=0-1")],
        b"",
    );
    assert_eq!(h.status, 404);
    assert_gone(&f, &data);
}

#[test]
fn head_and_good_objects_are_untouched() {
    let f = fixture();
    let data = stored(&f, b"good bytes");
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=5-")],
        b"",
    );
    assert_eq!((h.status, h.out.as_slice()), (206, &b"bytes"[..]));
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/o", b"").out, b"good bytes");
    flip(&data, 0);
    // HEAD reads no bytes, so it cannot tell (as in Swift).
    assert_eq!(f.req("HEAD", "/v1/AUTH_test/c/o", b"").status, 200);
    assert!(data.exists());
}

#[test]
fn unreadable_metadata_is_quarantined_too() {
    let f = fixture();
    let data = stored(&f, b"bytes");
    // Swift's metadata checksum no longer matches the pickle.
    xattr::set(
        &data,
        "user.swift.metadata_checksum",
        b"0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/o", b"").status, 404);
    assert_gone(&f, &data);
    // The format moved the whole hash directory; the record is beside it.
    let record = quarantined(&f, &data).with_extension("json");
    let text = fs::read_to_string(record).unwrap();
    assert!(text.contains("checksum"), "{text}");
}

#[test]
fn a_large_corrupt_object_breaks_off_before_its_last_byte() {
    let f = fixture();
    let size = VERIFY_FIRST_MAX as usize + 100_000;
    let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let data = stored(&f, &body);
    flip(&data, size - 1);
    let req = Request {
        method: "GET",
        uri: "/v1/AUTH_test/c/o".into(),
        headers: vec![(Cow::Borrowed("X-Auth-Token"), f.token().into())],
        ..Default::default()
    };
    let mut host = MemHost::default();
    let resp = router::handle(&f.vh, &req, &mut host);
    let err = send(resp, &mut host, false).unwrap_err();
    assert_eq!(host.status, 200);
    assert_eq!(
        host.header("Content-Length"),
        Some(size.to_string().as_str())
    );
    assert!(host.out.len() < size, "the last piece was held back");
    assert_eq!(host.out[..], body[..host.out.len()]);
    let SendError::Broken(why) = &err else {
        panic!("not broken: {err}");
    };
    let corrupt = why.as_any().downcast_ref::<integrity::Corrupt>();
    assert!(matches!(corrupt, Some(c) if c.actual.is_some()), "{why}");
    integrity::after_broken_stream(&f.vh, &err, &mut host);
    assert!(host
        .logs
        .iter()
        .any(|(_, m)| m.contains("quarantined object /AUTH_test/c/o")));
    assert_gone(&f, &data);
}

#[test]
fn a_copy_of_a_corrupt_source_stores_nothing_and_quarantines_it() {
    let f = fixture();
    let data = stored(&f, b"copy me");
    flip(&data, 2);
    let h = f.req_h(
        "COPY",
        "/v1/AUTH_test/c/o",
        "",
        &[("Destination", "c/copy")],
        b"",
    );
    assert_eq!(h.status, 404);
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/copy", b"").status, 404);
    assert_gone(&f, &data);
}

#[test]
fn a_range_of_a_large_object_is_checked_once_after_the_permit() {
    let f = fixture();
    let size = VERIFY_FIRST_MAX as usize + 4096;
    let body: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let data = stored(&f, &body);
    let range = |f: &Fixture| {
        f.req_h(
            "GET",
            "/v1/AUTH_test/c/o",
            "",
            &[("Range", "bytes=1-2")],
            b"",
        )
    };
    let hashed = |h: &MemHost| {
        h.logs
            .iter()
            .filter(|(l, m)| *l == LogLevel::Debug && m.contains("verified object /AUTH_test/c/o"))
            .count()
    };
    let first = range(&f);
    assert_eq!((first.status, first.out.as_slice()), (206, &body[1..3]));
    assert_eq!(hashed(&first), 1);
    let second = range(&f);
    assert_eq!((second.status, second.out.as_slice()), (206, &body[1..3]));
    assert_eq!(hashed(&second), 0, "the verdict is remembered");
    assert!(data.exists());
}

#[test]
fn a_range_of_a_large_corrupt_object_is_not_served() {
    let f = fixture();
    let size = VERIFY_FIRST_MAX as usize + 4096;
    let body: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let data = stored(&f, &body);
    flip(&data, size - 2);
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=0-0")],
        b"",
    );
    assert_eq!(h.status, 404);
    assert!(h.out.len() < 100, "no object bytes");
    assert!(h.header("X-Trans-Id").is_some());
    assert_gone(&f, &data);
}
