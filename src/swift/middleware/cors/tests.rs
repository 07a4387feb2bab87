//! OPTIONS and CORS through the whole pipeline, against a real storage
//! root: the statuses, headers and bodies of Swift 2.38's proxy.

use crate::core::http::testing::MemHost;
use crate::node::config;
use crate::node::vhost::Vhost;
use crate::swift::router::tests::call;

struct Node {
    _dir: tempfile::TempDir,
    vh: Vhost,
    token: String,
}

/// A vhost with test:tester (admin of AUTH_test) and these directives.
fn node(extra: &[&[&str]]) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let mut directives = vec![
        vec!["StowageRoot", root.as_str()],
        vec!["StowageUser", "test:tester", "testing", ".admin"],
    ];
    directives.extend(extra.iter().map(|d| d.to_vec()));
    let vh = Vhost::new(config::build(&directives).unwrap()).unwrap();
    let auth = call(
        &vh,
        "GET",
        "/auth/v1.0",
        "",
        &[("X-Auth-User", "test:tester"), ("X-Auth-Key", "testing")],
        b"",
    );
    let token = auth.header("X-Auth-Token").unwrap().to_string();
    Node {
        _dir: dir,
        vh,
        token,
    }
}

impl Node {
    fn anon(&self, method: &str, uri: &str, headers: &[(&str, &str)]) -> MemHost {
        call(&self.vh, method, uri, "", headers, b"")
    }
    fn owner(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> MemHost {
        let mut all = vec![("X-Auth-Token", self.token.as_str())];
        all.extend_from_slice(headers);
        call(&self.vh, method, uri, "", &all, body)
    }
    /// AUTH_test/c with CORS rules, holding object o (metadata color).
    fn with_rules(self, rules: &[(&str, &str)]) -> Node {
        assert_eq!(self.owner("PUT", "/v1/AUTH_test/c", rules, b"").status, 201);
        let put = self.owner(
            "PUT",
            "/v1/AUTH_test/c/o",
            &[("X-Object-Meta-Color", "blue")],
            b"hello",
        );
        assert_eq!(put.status, 201);
        self
    }
}

/// Header names, as spelled, and values, in the order sent (minus the
/// transaction ids and Content-Length).
fn headers(h: &MemHost) -> Vec<(String, String)> {
    h.headers
        .iter()
        .filter(|(n, _)| {
            !["x-trans-id", "x-openstack-request-id", "content-length"]
                .contains(&n.to_ascii_lowercase().as_str())
        })
        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

const UNAUTHORIZED: &str = "<html><h1>Unauthorized</h1><p>This server could not verify that you \
                            are authorized to access the document you requested.</p></html>";

const ACCOUNT: &str = "GET, HEAD, POST, OPTIONS";
const CONTAINER: &str = "GET, HEAD, PUT, POST, DELETE, OPTIONS";
const OBJECT: &str = "GET, HEAD, PUT, POST, DELETE, OPTIONS, COPY";

#[test]
fn options_needs_no_token_and_lists_each_levels_methods() {
    let n = node(&[]);
    for (uri, allow) in [
        ("/v1/AUTH_test", ACCOUNT),
        ("/v1/AUTH_test/", ACCOUNT),
        ("/v1/AUTH_test/nope", CONTAINER),
        ("/v1/AUTH_test/nope/o", OBJECT),
        ("/v1/AUTH_other/c/o/deeper", OBJECT),
        ("/info", "HEAD, GET, OPTIONS"),
    ] {
        let h = n.anon("OPTIONS", uri, &[]);
        assert_eq!(h.status, 200, "{uri}");
        assert_eq!(
            headers(&h),
            pairs(&[
                ("Content-Type", "text/html; charset=UTF-8"),
                ("Allow", allow)
            ]),
            "{uri}"
        );
        assert_eq!(h.header("Content-Length"), Some("0"), "{uri}");
        assert!(h.out.is_empty(), "{uri}");
    }
    // The account level has no CORS: a preflight is a plain OPTIONS.
    let h = n.anon(
        "OPTIONS",
        "/v1/AUTH_test",
        &[
            ("Origin", "http://a.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!((h.status, h.header("Allow")), (200, Some(ACCOUNT)));
    assert_eq!(h.header("access-control-allow-origin"), None);
}

#[test]
fn options_is_refused_where_tempauth_refuses_first() {
    let n = node(&[]);
    // An account outside the reseller prefix: 401 challenged, 403 for a user.
    let h = n.anon("OPTIONS", "/v1/foo", &[]);
    assert_eq!(h.status, 401);
    assert_eq!(h.header("Www-Authenticate"), Some("Swift realm=\"foo\""));
    assert_eq!(n.owner("OPTIONS", "/v1/foo/c", &[], b"").status, 403);
    // A token that is not valid.
    let bad = [("X-Auth-Token", "AUTH_tk00000000000000000000000000000000")];
    let h = n.anon("OPTIONS", "/v1/AUTH_test/c/o", &bad);
    assert_eq!(h.status, 401);
    assert_eq!(
        h.header("Www-Authenticate"),
        Some("Swift realm=\"AUTH_test\"")
    );
    // A malformed path: the proxy's own statuses.
    assert_eq!(n.anon("OPTIONS", "/v1", &[]).status, 412);
}

#[test]
fn an_allowed_preflight_gets_swifts_headers() {
    let n = node(&[]).with_rules(&[
        (
            "X-Container-Meta-Access-Control-Allow-Origin",
            "http://a.com  http://b.com",
        ),
        ("X-Container-Meta-Access-Control-Max-Age", "600"),
    ]);
    let h = n.anon(
        "OPTIONS",
        "/v1/AUTH_test/c/o",
        &[
            ("Origin", "http://b.com"),
            ("Access-Control-Request-Method", "DELETE"),
            (
                "Access-Control-Request-Headers",
                "x-auth-token, Content-Type,,x-auth-token",
            ),
        ],
    );
    assert_eq!(h.status, 200);
    assert_eq!(
        headers(&h),
        pairs(&[
            ("Allow", OBJECT),
            ("access-control-allow-origin", "http://b.com"),
            ("access-control-max-age", "600"),
            ("Access-Control-Allow-Methods", OBJECT),
            ("access-control-allow-headers", "x-auth-token, Content-Type"),
            ("vary", "Origin, Access-Control-Request-Headers"),
        ])
    );
    assert_eq!(h.header("Content-Length"), Some("0"));
    // The container level, asking for no headers.
    let h = n.anon(
        "OPTIONS",
        "/v1/AUTH_test/c",
        &[
            ("Origin", "http://a.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(
        headers(&h),
        pairs(&[
            ("Allow", CONTAINER),
            ("access-control-allow-origin", "http://a.com"),
            ("access-control-max-age", "600"),
            ("access-control-allow-methods", CONTAINER),
            ("vary", "Origin"),
        ])
    );
}

#[test]
fn a_refused_preflight_is_an_unchallenged_401() {
    let n = node(&[]).with_rules(&[(
        "X-Container-Meta-Access-Control-Allow-Origin",
        "http://a.com",
    )]);
    for (uri, origin, method) in [
        ("/v1/AUTH_test/c/o", "http://x.com", Some("GET")),
        ("/v1/AUTH_test/c/o", "http://A.com", Some("GET")),
        ("/v1/AUTH_test/c/o", "http://a.com", None),
        ("/v1/AUTH_test/c/o", "http://a.com", Some("COPY")),
        ("/v1/AUTH_test/c/o", "http://a.com", Some("get")),
        ("/v1/AUTH_test/c", "http://a.com", Some("PATCH")),
        ("/v1/AUTH_test/missing/o", "http://a.com", Some("GET")),
    ] {
        let mut hdrs = vec![("Origin", origin)];
        hdrs.extend(method.map(|m| ("Access-Control-Request-Method", m)));
        let h = n.anon("OPTIONS", uri, &hdrs);
        let what = format!("{uri} {origin} {method:?}");
        assert_eq!(h.status, 401, "{what}");
        assert_eq!(
            headers(&h),
            pairs(&[
                ("Content-Type", "text/html; charset=UTF-8"),
                ("Allow", CONTAINER)
            ]),
            "{what}"
        );
        assert_eq!(String::from_utf8_lossy(&h.out), UNAUTHORIZED, "{what}");
    }
}

#[test]
fn any_origin_and_the_node_wide_origins() {
    let n = node(&[&[
        "StowageCorsAllowOrigin",
        "http://node.example,http://n2.example",
    ]])
    .with_rules(&[("X-Container-Meta-Access-Control-Allow-Origin", " * ")]);
    let ask = |uri: &str, origin: &str| {
        n.anon(
            "OPTIONS",
            uri,
            &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
        )
    };
    let h = ask("/v1/AUTH_test/c/o", "http://anyone.example");
    assert_eq!(h.status, 200);
    assert_eq!(h.header("access-control-allow-origin"), Some("*"));
    assert_eq!(h.header("vary"), None);
    // No container at all: the node's origins still count.
    let h = ask("/v1/AUTH_test/none/o", "http://n2.example");
    assert_eq!(h.status, 200);
    assert_eq!(
        h.header("access-control-allow-origin"),
        Some("http://n2.example")
    );
    assert_eq!(ask("/v1/AUTH_test/none/o", "http://x.example").status, 401);
}

#[test]
fn actual_requests_from_an_allowed_origin_get_cors_headers() {
    let n = node(&[&["StowageCorsExposeHeaders", "X-Node-Header"]]).with_rules(&[
        (
            "X-Container-Meta-Access-Control-Allow-Origin",
            "http://a.com",
        ),
        (
            "X-Container-Meta-Access-Control-Expose-Headers",
            "X-Foo  x-BAR etag",
        ),
    ]);
    let origin = [("Origin", "http://a.com")];
    let h = n.owner("GET", "/v1/AUTH_test/c/o", &origin, b"");
    assert_eq!(h.status, 200);
    assert_eq!(
        h.header("Access-Control-Expose-Headers"),
        Some(
            "cache-control, content-language, content-type, expires, last-modified, pragma, \
             etag, x-timestamp, x-trans-id, x-openstack-request-id, X-Node-Header, \
             x-object-meta-color, x-foo, x-bar"
        )
    );
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://a.com")
    );
    assert_eq!(h.header("Vary"), Some("Origin"));
    // Errors of the processors too, and an anonymous read refused by access.
    let h = n.owner("GET", "/v1/AUTH_test/c/nothing", &origin, b"");
    assert_eq!(h.status, 404);
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://a.com")
    );
    let h = n.anon("HEAD", "/v1/AUTH_test/c/o", &origin);
    assert_eq!(h.status, 401);
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://a.com")
    );
    assert_eq!(
        h.header("Www-Authenticate"),
        Some("Swift realm=\"AUTH_test\"")
    );
    // A container listing: its metadata is exposed; Origin comes first in
    // Vary, as Swift's listing middleware appends Accept after it.
    let h = n.owner("GET", "/v1/AUTH_test/c", &origin, b"");
    let exposed = h.header("Access-Control-Expose-Headers").unwrap();
    assert!(
        exposed.contains("x-container-meta-access-control-allow-origin"),
        "{exposed}"
    );
    assert!(h.header("Vary").unwrap().starts_with("Origin"));
}

#[test]
fn where_swift_adds_no_cors_headers() {
    let n = node(&[]).with_rules(&[(
        "X-Container-Meta-Access-Control-Allow-Origin",
        "http://a.com",
    )]);
    let cors = |h: &MemHost| h.header("Access-Control-Allow-Origin").map(str::to_string);
    // Strict mode: an origin nobody allowed.
    let h = n.owner(
        "GET",
        "/v1/AUTH_test/c/o",
        &[("Origin", "http://x.com")],
        b"",
    );
    assert_eq!((h.status, cors(&h)), (200, None));
    // No Origin, or an empty one.
    assert_eq!(cors(&n.owner("GET", "/v1/AUTH_test/c/o", &[], b"")), None);
    assert_eq!(
        cors(&n.owner("GET", "/v1/AUTH_test/c/o", &[("Origin", "")], b"")),
        None
    );
    let origin = [("Origin", "http://a.com")];
    // The account level.
    assert_eq!(cors(&n.owner("HEAD", "/v1/AUTH_test", &origin, b"")), None);
    // A container write refused before its handler.
    let h = n.anon("POST", "/v1/AUTH_test/c", &origin);
    assert_eq!((h.status, cors(&h)), (401, None));
    // A copy whose headers are refused.
    let h = n.owner("COPY", "/v1/AUTH_test/c/o", &origin, b"");
    assert_eq!((h.status, cors(&h)), (412, None));
    // A token that is not valid.
    let bad = [
        ("X-Auth-Token", "AUTH_tk00000000000000000000000000000000"),
        ("Origin", "http://a.com"),
    ];
    assert_eq!(cors(&n.anon("GET", "/v1/AUTH_test/c/o", &bad)), None);
}

#[test]
fn the_rules_are_those_before_the_request_and_a_copy_uses_its_destinations() {
    let n = node(&[]).with_rules(&[]);
    let origin = [("Origin", "http://a.com")];
    let set = [
        ("Origin", "http://a.com"),
        (
            "X-Container-Meta-Access-Control-Allow-Origin",
            "http://a.com",
        ),
    ];
    let h = n.owner("POST", "/v1/AUTH_test/c", &set, b"");
    assert_eq!(h.status, 204);
    assert_eq!(h.header("Access-Control-Allow-Origin"), None);
    let h = n.owner("POST", "/v1/AUTH_test/c", &origin, b"");
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://a.com")
    );
    // COPY from c to d: d's rules (none) decide.
    assert_eq!(n.owner("PUT", "/v1/AUTH_test/d", &[], b"").status, 201);
    let copy = [("Origin", "http://a.com"), ("Destination", "d/o2")];
    let h = n.owner("COPY", "/v1/AUTH_test/c/o", &copy, b"");
    assert_eq!(
        (h.status, h.header("Access-Control-Allow-Origin")),
        (201, None)
    );
    let from = [("Origin", "http://a.com"), ("X-Copy-From", "d/o2")];
    let h = n.owner("PUT", "/v1/AUTH_test/c/o3", &from, b"");
    assert_eq!(h.status, 201);
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://a.com")
    );
}

#[test]
fn strict_mode_off_answers_any_origin() {
    let n = node(&[&["StowageStrictCorsMode", "Off"]]).with_rules(&[]);
    let h = n.owner(
        "GET",
        "/v1/AUTH_test/c/o",
        &[("Origin", "http://x.com")],
        b"",
    );
    assert_eq!(
        h.header("Access-Control-Allow-Origin"),
        Some("http://x.com")
    );
    assert!(h.header("Access-Control-Expose-Headers").is_some());
    // A preflight is still refused.
    let h = n.anon(
        "OPTIONS",
        "/v1/AUTH_test/c/o",
        &[
            ("Origin", "http://x.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(h.status, 401);
    // /info says so.
    let info = n.anon("GET", "/info", &[]);
    let v: serde_json::Value = serde_json::from_slice(&info.out).unwrap();
    assert_eq!(v["swift"]["strict_cors_mode"], false);
    let info = node(&[]).anon("GET", "/info", &[]);
    let v: serde_json::Value = serde_json::from_slice(&info.out).unwrap();
    assert_eq!(v["swift"]["strict_cors_mode"], true);
}
