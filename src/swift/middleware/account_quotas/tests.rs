//! Both quota middlewares through the whole router, with a reseller admin,
//! an account admin and a plain user: who may set quotas, what they bind,
//! and that a refused upload stores nothing.

use crate::core::http::testing::MemHost;
use crate::node::config;
use crate::node::vhost::Vhost;
use crate::swift::router::tests::call;

struct Q {
    _dir: tempfile::TempDir,
    vh: Vhost,
    reseller: String,
    admin: String,
    member: String,
}

fn login(vh: &Vhost, user: &str, key: &str) -> String {
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

fn fixture() -> Q {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let cfg = config::build(&[
        vec!["StowageRoot", root.as_str()],
        vec!["StowageUser", "test:tester", "testing", ".admin"],
        vec!["StowageUser", "test:member", "m"],
        vec!["StowageUser", "boss:boss", "b", ".reseller_admin"],
        vec!["StowageStoragePolicy", "0", "Policy-0", "default"],
        vec!["StowageStoragePolicy", "1", "gold", "aliases=yellow"],
    ])
    .unwrap();
    let vh = Vhost::new(cfg).unwrap();
    let reseller = login(&vh, "boss:boss", "b");
    let admin = login(&vh, "test:tester", "testing");
    let member = login(&vh, "test:member", "m");
    Q {
        _dir: dir,
        vh,
        reseller,
        admin,
        member,
    }
}

const ACCT: &str = "/v1/AUTH_test";

impl Q {
    fn send(
        &self,
        token: &str,
        method: &str,
        path: &str,
        h: &[(&str, &str)],
        body: &[u8],
    ) -> MemHost {
        let mut headers = vec![("X-Auth-Token", token)];
        headers.extend_from_slice(h);
        call(
            &self.vh,
            method,
            &format!("{ACCT}{path}"),
            "",
            &headers,
            body,
        )
    }
}

fn body(h: &MemHost) -> String {
    String::from_utf8_lossy(&h.out).into_owned()
}

#[test]
fn only_a_reseller_sets_account_quotas_and_everyone_may_see_them() {
    let q = fixture();
    for token in [&q.admin, &q.member] {
        for h in [
            ("X-Account-Meta-Quota-Bytes", "10"),
            ("X-Account-Quota-Count", "1"),
            ("X-Account-Quota-Bytes-Policy-gold", "1"),
            ("X-Remove-Account-Quota-Bytes", "x"),
            ("X-Account-Meta-Quota-Bytes", ""),
        ] {
            let r = q.send(token, "POST", "", &[h], b"");
            assert_eq!(r.status, 403, "{h:?}");
            assert!(body(&r).contains("<h1>Forbidden</h1>"), "{}", body(&r));
        }
    }
    // Anonymous too: the middleware refuses before access control.
    let r = call(
        &q.vh,
        "POST",
        ACCT,
        "",
        &[("X-Account-Quota-Bytes", "1")],
        b"",
    );
    assert_eq!(r.status, 403);
    let r = q.send(
        &q.reseller,
        "POST",
        "",
        &[
            ("X-Account-Meta-Quota-Bytes", "100"),
            ("X-Account-Quota-Count", "5"),
            ("X-Account-Quota-Bytes-Policy-gold", "7"),
        ],
        b"",
    );
    assert_eq!(r.status, 204);
    for token in [&q.reseller, &q.admin] {
        let h = q.send(token, "HEAD", "", &[], b"");
        assert_eq!(h.header("X-Account-Quota-Bytes"), Some("100"));
        assert_eq!(h.header("X-Account-Meta-Quota-Bytes"), Some("100"));
        assert_eq!(h.header("X-Account-Quota-Count"), Some("5"));
        assert_eq!(h.header("X-Account-Quota-Bytes-Policy-gold"), Some("7"));
        assert!(
            h.headers
                .iter()
                .all(|(n, _)| !n.to_ascii_lowercase().contains("sysmeta")),
            "{:?}",
            h.headers
        );
    }
    // Removed: an empty value, or X-Remove-.
    let r = q.send(
        &q.reseller,
        "POST",
        "",
        &[
            ("X-Account-Meta-Quota-Bytes", ""),
            ("X-Remove-Account-Quota-Count", "x"),
            ("X-Remove-Account-Quota-Bytes-Policy-gold", "1"),
        ],
        b"",
    );
    assert_eq!(r.status, 204);
    let h = q.send(&q.admin, "HEAD", "", &[], b"");
    for name in [
        "X-Account-Quota-Bytes",
        "X-Account-Meta-Quota-Bytes",
        "X-Account-Quota-Count",
        "X-Account-Quota-Bytes-Policy-gold",
    ] {
        assert_eq!(h.header(name), None, "{name}");
    }
}

#[test]
fn a_reseller_gets_400_for_what_is_not_digits_and_405_for_put() {
    let q = fixture();
    for h in [
        ("X-Account-Meta-Quota-Bytes", "abc"),
        ("X-Account-Quota-Bytes", "-1"),
        ("X-Account-Quota-Count", "1.5"),
        ("X-Account-Quota-Count-Policy-Policy-0", "x"),
    ] {
        let r = q.send(&q.reseller, "POST", "", &[h], b"");
        assert_eq!(r.status, 400, "{h:?}");
        assert!(body(&r).contains("<h1>Bad Request</h1>"), "{}", body(&r));
    }
    assert_eq!(
        q.send(&q.reseller, "HEAD", "", &[], b"")
            .header("X-Account-Quota-Bytes"),
        None
    );
    let r = q.send(
        &q.reseller,
        "PUT",
        "",
        &[("X-Account-Quota-Bytes", "x")],
        b"",
    );
    assert_eq!(r.status, 400);
    let r = q.send(
        &q.reseller,
        "PUT",
        "",
        &[("X-Account-Quota-Bytes", "1")],
        b"",
    );
    assert_eq!(r.status, 405);
}

#[test]
fn account_quotas_bind_everyone_but_the_reseller() {
    let q = fixture();
    assert_eq!(q.send(&q.admin, "PUT", "/c", &[], b"").status, 201);
    assert_eq!(q.send(&q.admin, "PUT", "/c/a", &[], b"12345").status, 201);
    let set = |h: (&str, &str)| assert_eq!(q.send(&q.reseller, "POST", "", &[h], b"").status, 204);
    set(("X-Account-Quota-Bytes", "10"));
    let r = q.send(&q.admin, "PUT", "/c/b", &[], b"123456");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds quota.")
    );
    assert_eq!(q.send(&q.admin, "HEAD", "/c/b", &[], b"").status, 404);
    // Up to the quota exactly is fine.
    assert_eq!(q.send(&q.admin, "PUT", "/c/b", &[], b"12345").status, 201);
    // The reseller is not bound.
    assert_eq!(q.send(&q.reseller, "PUT", "/c/r", &[], b"1").status, 201);
    // A caller who may not write gets 403, not 413.
    let r = q.send(&q.member, "PUT", "/c/m", &[], b"1");
    assert_eq!(r.status, 403);
    // Count quotas: one more object than allowed.
    set(("X-Account-Quota-Bytes", ""));
    set(("X-Account-Quota-Count", "3"));
    let r = q.send(&q.admin, "PUT", "/c/d", &[], b"");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds quota.")
    );
    set(("X-Account-Quota-Count", "4"));
    assert_eq!(q.send(&q.admin, "PUT", "/c/d", &[], b"").status, 201);
}

#[test]
fn policy_quotas_count_the_containers_policy() {
    let q = fixture();
    assert_eq!(
        q.send(&q.admin, "PUT", "/g", &[("X-Storage-Policy", "gold")], b"")
            .status,
        201
    );
    assert_eq!(q.send(&q.admin, "PUT", "/p", &[], b"").status, 201);
    assert_eq!(q.send(&q.admin, "PUT", "/g/a", &[], b"1234").status, 201);
    let set = |h: (&str, &str)| assert_eq!(q.send(&q.reseller, "POST", "", &[h], b"").status, 204);
    set(("X-Account-Quota-Bytes-Policy-gold", "5"));
    let r = q.send(&q.admin, "PUT", "/g/b", &[], b"12");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds policy quota.")
    );
    assert_eq!(q.send(&q.admin, "PUT", "/g/b", &[], b"1").status, 201);
    // Another policy's container is not bound by gold's quota.
    assert_eq!(
        q.send(&q.admin, "PUT", "/p/b", &[], b"123456789").status,
        201
    );
    set(("X-Account-Quota-Count-Policy-Policy-0", "1"));
    let r = q.send(&q.admin, "PUT", "/p/c", &[], b"");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds policy quota.")
    );
}

#[test]
fn container_quotas_are_validated_and_bind_everyone() {
    let q = fixture();
    let r = q.send(
        &q.admin,
        "PUT",
        "/c",
        &[("X-Container-Meta-Quota-Bytes", "1k")],
        b"",
    );
    assert_eq!((r.status, body(&r).as_str()), (400, "Invalid bytes quota."));
    assert_eq!(q.send(&q.admin, "HEAD", "/c", &[], b"").status, 404);
    let quotas = [
        ("X-Container-Meta-Quota-Bytes", "10"),
        ("X-Container-Meta-Quota-Count", "2"),
    ];
    assert_eq!(q.send(&q.admin, "PUT", "/c", &quotas, b"").status, 201);
    let r = q.send(
        &q.admin,
        "POST",
        "/c",
        &[("X-Container-Meta-Quota-Count", "two")],
        b"",
    );
    assert_eq!((r.status, body(&r).as_str()), (400, "Invalid count quota."));
    for token in [&q.admin, &q.reseller] {
        let r = q.send(token, "PUT", "/c/big", &[], b"12345678901");
        assert_eq!(
            (r.status, body(&r).as_str()),
            (413, "Upload exceeds quota.")
        );
    }
    // Without write access: the access answer, not the quota's.
    assert_eq!(
        q.send(&q.member, "PUT", "/c/big", &[], b"12345678901")
            .status,
        403
    );
    let anon = call(
        &q.vh,
        "PUT",
        &format!("{ACCT}/c/big"),
        "",
        &[],
        b"12345678901",
    );
    assert_eq!(anon.status, 401);
    assert_eq!(q.send(&q.admin, "PUT", "/c/a", &[], b"12345").status, 201);
    assert_eq!(q.send(&q.admin, "PUT", "/c/b", &[], b"12345").status, 201);
    let r = q.send(&q.admin, "PUT", "/c/c", &[], b"");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds quota.")
    );
    // An overwrite counts as one more object, as in Swift.
    assert_eq!(q.send(&q.admin, "PUT", "/c/a", &[], b"").status, 413);
    let listing = q.send(&q.admin, "GET", "/c", &[], b"");
    assert_eq!(body(&listing), "a\nb\n");
}

#[test]
fn copies_count_what_they_write() {
    let q = fixture();
    assert_eq!(q.send(&q.admin, "PUT", "/src", &[], b"").status, 201);
    assert_eq!(
        q.send(&q.admin, "PUT", "/src/o", &[], b"0123456789").status,
        201
    );
    let quota = [("X-Container-Meta-Quota-Bytes", "5")];
    assert_eq!(q.send(&q.admin, "PUT", "/dst", &quota, b"").status, 201);
    let r = q.send(&q.admin, "COPY", "/src/o", &[("Destination", "dst/o")], b"");
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds quota.")
    );
    let r = q.send(&q.admin, "PUT", "/dst/o", &[("X-Copy-From", "src/o")], b"");
    assert_eq!(r.status, 413);
    // A range copies only its bytes.
    let r = q.send(
        &q.admin,
        "PUT",
        "/dst/o",
        &[("X-Copy-From", "src/o"), ("Range", "bytes=0-4")],
        b"",
    );
    assert_eq!(r.status, 201);
    assert_eq!(body(&q.send(&q.admin, "GET", "/dst/o", &[], b"")), "01234");
    // Account quotas too, on the destination account.
    let set = [("X-Account-Quota-Bytes", "16")];
    assert_eq!(q.send(&q.reseller, "POST", "", &set, b"").status, 204);
    let r = q.send(
        &q.admin,
        "COPY",
        "/src/o",
        &[("Destination", "src/o2")],
        b"",
    );
    assert_eq!(
        (r.status, body(&r).as_str()),
        (413, "Upload exceeds quota.")
    );
    assert_eq!(q.send(&q.admin, "HEAD", "/src/o2", &[], b"").status, 404);
    let r = q.send(
        &q.reseller,
        "COPY",
        "/src/o",
        &[("Destination", "src/o2")],
        b"",
    );
    assert_eq!(r.status, 201);
}
