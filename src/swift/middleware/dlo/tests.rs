use super::*;
use crate::core::http::send_in;
use crate::core::http::testing::MemHost;
use crate::swift::auth::{Caller, Identity};
use crate::swift::router::tests::fixture;

#[test]
fn the_etag_is_the_md5_of_the_listed_etags() {
    let row = |etag: &str| (String::new(), 0, etag.to_string());
    // md5("") for no segments, as Swift's DLO of nothing.
    assert_eq!(joined_etag(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    // Quotes are dropped before hashing (swob's normalize_etag).
    let a = "0cc175b9c0f1b6a831c399e269772661";
    let b = "92eb5ffee6ae2fec3ad71c777531578f";
    let plain = joined_etag(&[row(a), row(b)]);
    assert_eq!(plain, joined_etag(&[row(&format!("\"{a}\"")), row(b)]));
    let mut md5 = Md5::new();
    md5.update(format!("{a}{b}").as_bytes());
    assert_eq!(plain, crate::core::hex::hex(&md5.finalize()));
}

#[test]
fn later_listing_pages_are_read_as_the_body_reaches_them() {
    let f = fixture();
    assert_eq!(f.req("PUT", "/v1/AUTH_test/s", b"").status, 201);
    let names = ["p/1", "p/2", "p/3", "p/4", "p/5"];
    for n in names {
        let h = f.req("PUT", &format!("/v1/AUTH_test/s/{n}"), n.as_bytes());
        assert_eq!(h.status, 201);
    }
    let reader = Reader {
        caller: Caller::User(Identity {
            account: "AUTH_test".into(),
            login: "test:tester".into(),
            admin: true,
            reseller_admin: false,
        }),
        referer: None,
    };
    let m = Manifest {
        account: "AUTH_test".into(),
        container: "s".into(),
        prefix: "p/".into(),
        name: "m".into(),
    };
    // A page of two: the first read before answering, the rest after.
    let first = list(&f.vh, &m, "", 2).unwrap().unwrap();
    assert_eq!(first.len(), 2);
    let source = Listing {
        account: m.account.clone(),
        container: m.container.clone(),
        prefix: m.prefix.clone(),
        page: first.into_iter().collect(),
        last: String::new(),
        more: true,
        page_size: 2,
    };
    let join = Join::new(Box::new(source), reader, Window::unbounded(), "m");
    let mut resp = Response::new(200);
    resp.body.push(Segment::Stream(Box::new(join)));
    let mut host = MemHost::default();
    send_in(resp, &mut host, false, &f.vh).unwrap();
    assert_eq!(host.out, b"p/1p/2p/3p/4p/5");
    // No Content-Length: the length was not known when the answer began.
    assert_eq!(host.header("Content-Length"), None);
}

#[test]
fn a_manifest_reads_joined_through_the_pipeline() {
    let f = fixture();
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    f.req("PUT", "/v1/AUTH_test/c/seg/1", b"hello ");
    f.req("PUT", "/v1/AUTH_test/c/seg/2", b"world");
    let h = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/m",
        "",
        &[("X-Object-Manifest", "c/seg/")],
        b"",
    );
    assert_eq!(h.status, 201);
    let h = f.req("GET", "/v1/AUTH_test/c/m", b"");
    assert_eq!((h.status, h.out.as_slice()), (200, &b"hello world"[..]));
    assert_eq!(h.header("Content-Length"), Some("11"));
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/m",
        "",
        &[("Range", "bytes=4-7")],
        b"",
    );
    assert_eq!((h.status, h.out.as_slice()), (206, &b"o wo"[..]));
    assert_eq!(h.header("Content-Range"), Some("bytes 4-7/11"));
    let h = f.req("GET", "/v1/AUTH_test/c/m", b"");
    let etag = h.header("Etag").unwrap().to_string();
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/m",
        "",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(h.status, 304);
    let h = f.req_h(
        "GET",
        "/v1/AUTH_test/c/m",
        "multipart-manifest=get",
        &[],
        b"",
    );
    assert_eq!((h.status, h.out.as_slice()), (200, &b""[..]));
    // The PUT's check.
    let h = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/bad",
        "",
        &[("X-Object-Manifest", "c%2Fp")],
        b"",
    );
    assert_eq!(h.status, 400);
}
