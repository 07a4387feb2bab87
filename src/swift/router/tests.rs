//! Processor-level tests: whole requests through the router against a real
//! storage root, with an in-memory host instead of Apache.

use crate::core::http::testing::MemHost;
use crate::core::http::{send_in, Request};
use crate::node::config;
use crate::node::vhost::Vhost;
use crate::swift::router;
use std::borrow::Cow;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub vh: Vhost,
    token: String,
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let cfg = config::build(&[
        vec!["StowageRoot", root.as_str()],
        vec!["StowageUser", "test:tester", "testing", ".admin"],
        vec!["StowageUser", "test:member", "m"],
        vec!["StowageUser", "other:admin", "o", ".admin"],
    ])
    .unwrap();
    let vh = Vhost::new(cfg).unwrap();
    let token = token_for(&vh, "test:tester", "testing");
    Fixture {
        _dir: dir,
        vh,
        token,
    }
}

fn token_for(vh: &Vhost, user: &str, key: &str) -> String {
    let h = call(
        vh,
        "GET",
        "/auth/v1.0",
        "",
        &[("X-Auth-User", user), ("X-Auth-Key", key)],
        b"",
    );
    assert_eq!(h.status, 200);
    h.header("X-Auth-Token").unwrap().to_string()
}

pub(crate) fn call(
    vh: &Vhost,
    method: &str,
    uri: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> MemHost {
    let req = Request {
        method,
        uri: uri.into(),
        query,
        scheme: "http",
        host: "127.0.0.1:8080",
        headers: headers
            .iter()
            .map(|(n, v)| (Cow::Borrowed(*n), (*v).into()))
            .collect(),
        content_length: Some(body.len() as u64),
        ..Default::default()
    };
    let mut host = MemHost::with_body(body);
    let resp = router::handle(vh, &req, &mut host);
    // With the vhost as the ABI sends it (a join reads its segments).
    send_in(resp, &mut host, method == "HEAD", vh).unwrap();
    host
}

impl Fixture {
    pub fn token(&self) -> &str {
        &self.token
    }
    pub fn req(&self, method: &str, uri: &str, body: &[u8]) -> MemHost {
        self.req_h(method, uri, "", &[], body)
    }
    pub fn req_h(
        &self,
        method: &str,
        uri: &str,
        query: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> MemHost {
        let mut headers = vec![("X-Auth-Token", self.token.as_str())];
        headers.extend_from_slice(extra);
        call(&self.vh, method, uri, query, &headers, body)
    }
}

#[test]
fn auth_gives_storage_url_and_checks_tokens() {
    let f = fixture();
    let h = call(
        &f.vh,
        "GET",
        "/auth/v1.0",
        "",
        &[
            ("X-Storage-User", "test:tester"),
            ("X-Storage-Pass", "testing"),
        ],
        b"",
    );
    assert_eq!(h.status, 200);
    assert_eq!(
        h.header("X-Storage-Url"),
        Some("http://127.0.0.1:8080/v1/AUTH_test")
    );
    assert_eq!(
        call(
            &f.vh,
            "GET",
            "/auth/v1.0",
            "",
            &[("X-Auth-User", "test:tester"), ("X-Auth-Key", "bad")],
            b""
        )
        .status,
        401
    );
    assert_eq!(
        call(&f.vh, "HEAD", "/v1/AUTH_test", "", &[], b"").status,
        401
    );
    assert_eq!(
        call(
            &f.vh,
            "HEAD",
            "/v1/AUTH_test",
            "",
            &[("X-Auth-Token", "AUTH_tkbogus")],
            b""
        )
        .status,
        401
    );
    // Not yet written: Swift's autocreating proxy answers 200.
    assert_eq!(f.req("HEAD", "/v1/AUTH_test", b"").status, 200);
    assert_eq!(f.req("HEAD", "/v1/AUTH_other", b"").status, 403);
    let member = token_for(&f.vh, "test:member", "m");
    assert_eq!(
        call(
            &f.vh,
            "HEAD",
            "/v1/AUTH_test",
            "",
            &[("X-Auth-Token", member.as_str())],
            b""
        )
        .status,
        403
    );
}

#[test]
fn object_lifecycle_keeps_counts_exact() {
    let f = fixture();
    assert_eq!(
        f.req("PUT", "/v1/AUTH_test/c/o", b"x").status,
        404,
        "no container yet"
    );
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 202);
    let put = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/o",
        "",
        &[
            ("X-Object-Meta-Color", "blue"),
            ("Content-Type", "text/x-test"),
        ],
        b"hello",
    );
    assert_eq!(put.status, 201);
    assert_eq!(put.header("ETag"), Some("5d41402abc4b2a76b9719d911017c592"));
    let get = f.req("GET", "/v1/AUTH_test/c/o", b"");
    assert_eq!((get.status, get.out.as_slice()), (200, &b"hello"[..]));
    assert_eq!(get.header("x-object-meta-color"), Some("blue"));
    assert_eq!(get.header("Content-Type"), Some("text/x-test"));
    assert_eq!(get.header("Content-Length"), Some("5"));
    let c = f.req("HEAD", "/v1/AUTH_test/c", b"");
    assert_eq!(
        (
            c.header("X-Container-Object-Count"),
            c.header("X-Container-Bytes-Used")
        ),
        (Some("1"), Some("5"))
    );
    f.req("PUT", "/v1/AUTH_test/c/o", b"hello world");
    let a = f.req("HEAD", "/v1/AUTH_test", b"");
    assert_eq!(a.header("X-Account-Object-Count"), Some("1"));
    assert_eq!(a.header("X-Account-Bytes-Used"), Some("11"));
    assert_eq!(a.header("X-Account-Container-Count"), Some("1"));
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c", b"").status, 409);
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/o", b"").status, 204);
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/o", b"").status, 404);
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/o", b"").status, 404);
    let a = f.req("HEAD", "/v1/AUTH_test", b"");
    assert_eq!(a.header("X-Account-Bytes-Used"), Some("0"));
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c", b"").status, 204);
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c", b"").status, 404);
}

#[test]
fn put_errors() {
    let f = fixture();
    f.req("PUT", "/v1/AUTH_test/c", b"");
    let mismatch = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/o",
        "",
        &[("ETag", "00000000000000000000000000000000")],
        b"hello",
    );
    assert_eq!(mismatch.status, 422);
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/o", b"").status, 404);
    let long = format!("/v1/AUTH_test/c/{}", "o".repeat(1025));
    assert_eq!(f.req("PUT", &long, b"x").status, 400);
    let big_meta = "v".repeat(257);
    assert_eq!(
        f.req_h(
            "PUT",
            "/v1/AUTH_test/c/o",
            "",
            &[("X-Object-Meta-a", big_meta.as_str())],
            b"x"
        )
        .status,
        400
    );
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c/%FF", b"x").status, 412);
}

#[test]
fn ranges_and_head() {
    let f = fixture();
    f.req("PUT", "/v1/AUTH_test/c", b"");
    f.req("PUT", "/v1/AUTH_test/c/o", b"0123456789");
    let r = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=2-5")],
        b"",
    );
    assert_eq!((r.status, r.out.as_slice()), (206, &b"2345"[..]));
    assert_eq!(r.header("Content-Range"), Some("bytes 2-5/10"));
    let r = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=100-200")],
        b"",
    );
    assert_eq!(
        (r.status, r.header("Content-Range")),
        (416, Some("bytes */10"))
    );
    let r = f.req_h(
        "GET",
        "/v1/AUTH_test/c/o",
        "",
        &[("Range", "bytes=0-1,4-5")],
        b"",
    );
    assert_eq!(r.status, 206);
    let body = String::from_utf8(r.out.clone()).unwrap();
    assert!(
        body.contains("Content-Range: bytes 0-1/10\r\n\r\n01\r\n"),
        "{body}"
    );
    assert!(
        body.contains("Content-Range: bytes 4-5/10\r\n\r\n45\r\n--"),
        "{body}"
    );
    let h = f.req("HEAD", "/v1/AUTH_test/c/o", b"");
    assert_eq!(
        (h.status, h.out.len(), h.header("Content-Length")),
        (200, 0, Some("10"))
    );
}

#[test]
fn listings_and_post() {
    let f = fixture();
    f.req("PUT", "/v1/AUTH_test/c", b"");
    for name in ["a/1", "a/2", "b", "c%2Fd"] {
        assert_eq!(
            f.req("PUT", &format!("/v1/AUTH_test/c/{name}"), b"x")
                .status,
            201
        );
    }
    let plain = f.req("GET", "/v1/AUTH_test/c", b"");
    assert_eq!(String::from_utf8(plain.out).unwrap(), "a/1\na/2\nb\nc/d\n");
    let delim = f.req_h("GET", "/v1/AUTH_test/c", "delimiter=/", &[], b"");
    assert_eq!(String::from_utf8(delim.out).unwrap(), "a/\nb\nc/\n");
    let json = f.req_h(
        "GET",
        "/v1/AUTH_test/c",
        "format=json&limit=1&marker=a/1",
        &[],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&json.out).unwrap();
    assert_eq!(v[0]["name"], "a/2");
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        f.req_h("GET", "/v1/AUTH_test/c", "limit=10001", &[], b"")
            .status,
        412
    );
    assert_eq!(
        f.req_h(
            "POST",
            "/v1/AUTH_test/c/b",
            "",
            &[("X-Object-Meta-New", "1")],
            b""
        )
        .status,
        202
    );
    let g = f.req("HEAD", "/v1/AUTH_test/c/b", b"");
    assert_eq!(g.header("x-object-meta-new"), Some("1"));
    assert_eq!(f.req("POST", "/v1/AUTH_test/c/missing", b"").status, 404);
    assert_eq!(
        f.req_h(
            "POST",
            "/v1/AUTH_test/c",
            "",
            &[("X-Container-Meta-K", "v")],
            b""
        )
        .status,
        204
    );
    assert_eq!(
        f.req("HEAD", "/v1/AUTH_test/c", b"")
            .header("x-container-meta-k"),
        Some("v")
    );
    assert_eq!(
        f.req_h(
            "POST",
            "/v1/AUTH_test",
            "",
            &[("X-Account-Meta-K", "v")],
            b""
        )
        .status,
        204
    );
    assert_eq!(
        f.req("HEAD", "/v1/AUTH_test", b"")
            .header("x-account-meta-k"),
        Some("v")
    );
    assert_eq!(
        f.req_h(
            "POST",
            "/v1/AUTH_test",
            "",
            &[("X-Remove-Account-Meta-K", "x")],
            b""
        )
        .status,
        204
    );
    assert_eq!(
        f.req("HEAD", "/v1/AUTH_test", b"")
            .header("x-account-meta-k"),
        None
    );
    let acct = f.req_h("GET", "/v1/AUTH_test", "format=json", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&acct.out).unwrap();
    assert_eq!(
        (v[0]["name"].as_str(), v[0]["count"].as_u64()),
        (Some("c"), Some(4))
    );
}

#[test]
fn info_and_healthcheck_need_no_token() {
    let f = fixture();
    assert_eq!(call(&f.vh, "GET", "/healthcheck", "", &[], b"").out, b"OK");
    let info = call(&f.vh, "GET", "/info", "", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&info.out).unwrap();
    assert_eq!(v["swift"]["max_file_size"], 5_368_709_122u64);
}

#[test]
fn auth_takes_tempauth_fallbacks_and_only_get() {
    let f = fixture();
    let auth = |method: &str, headers: &[(&str, &str)]| {
        call(&f.vh, method, "/auth/v1.0", "", headers, b"")
    };
    let fallback = auth(
        "GET",
        &[
            ("X-Auth-User", ""),
            ("X-Storage-User", "test:tester"),
            ("X-Auth-Key", ""),
            ("X-Storage-Pass", "testing"),
        ],
    );
    assert_eq!(fallback.status, 200);
    let head = auth(
        "HEAD",
        &[("X-Auth-User", "test:tester"), ("X-Auth-Key", "testing")],
    );
    assert_eq!(head.status, 405);
    let refused = auth(
        "GET",
        &[("X-Auth-User", "test:tester"), ("X-Auth-Key", "no")],
    );
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("Www-Authenticate"),
        Some("Swift realm=\"test\"")
    );
    let no_colon = auth("GET", &[("X-Auth-User", "tester"), ("X-Auth-Key", "no")]);
    assert_eq!(
        no_colon.header("Www-Authenticate"),
        Some("Swift realm=\"unknown\"")
    );
}

#[test]
fn every_401_is_challenged_and_an_empty_token_is_anonymous() {
    let f = fixture();
    for headers in [&[][..], &[("X-Auth-Token", "")][..]] {
        let h = call(&f.vh, "GET", "/v1/AUTH_test/c", "", headers, b"");
        assert_eq!(h.status, 401);
        assert_eq!(
            h.header("Www-Authenticate"),
            Some("Swift realm=\"AUTH_test\"")
        );
    }
}

#[test]
fn oversized_header_value_is_400_on_any_request() {
    let f = fixture();
    let long = "x".repeat(8193);
    let ok = "x".repeat(8192);
    let head = |v: &str| {
        call(
            &f.vh,
            "HEAD",
            "/v1/AUTH_test",
            "",
            &[("X-Auth-Token", f.token.as_str()), ("X-Long", v)],
            b"",
        )
        .status
    };
    assert_eq!(head(&long), 400);
    assert_eq!(head(&ok), 200, "an account not yet written");
}

#[test]
fn name_lengths_are_checked_after_access() {
    let f = fixture();
    let long_account = format!("/v1/AUTH_{}", "a".repeat(252));
    // Not the caller's account: refused before the name is looked at.
    assert_eq!(f.req("GET", &long_account, b"").status, 403);
    let long_object = format!("/v1/AUTH_test/c/{}", "o".repeat(1025));
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    assert_eq!(f.req("PUT", &long_object, b"x").status, 400);
    assert_eq!(f.req("GET", &long_object, b"").status, 404);
    assert_eq!(call(&f.vh, "PUT", &long_object, "", &[], b"x").status, 401);
}

#[test]
fn a_delete_repairs_a_row_whose_object_is_gone() {
    // What a DELETE on a full disk can leave: the tombstone is written and
    // the data removed, but the container row could not be recorded.
    let f = fixture();
    f.req("PUT", "/v1/AUTH_test/c", b"");
    f.req("PUT", "/v1/AUTH_test/c/o", b"hello");
    f.req("PUT", "/v1/AUTH_test/c/o2", b"other");
    let odir =
        crate::store::objects::ObjectStore::new(f._dir.path()).object_dir("AUTH_test", "c", "o");
    std::fs::remove_dir_all(&odir).unwrap();
    let count = |f: &Fixture| {
        let c = f.req("HEAD", "/v1/AUTH_test/c", b"");
        c.header("X-Container-Object-Count").map(str::to_string)
    };
    assert_eq!(count(&f).as_deref(), Some("2"));

    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/o", b"").status, 404);
    assert_eq!(count(&f).as_deref(), Some("1"));
    let listing = f.req("GET", "/v1/AUTH_test/c", b"");
    assert_eq!(listing.out, b"o2\n");
    // A name that was never there writes nothing.
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/nope", b"").status, 404);
    assert_eq!(count(&f).as_deref(), Some("1"));
}
