//! Whole requests through the pipeline (router fixture, in-memory host).

use super::clean_content_type;
use crate::swift::router::tests::{fixture, Fixture};
use md5::{Digest, Md5};

fn md5(b: &[u8]) -> String {
    crate::core::hex::hex(&Md5::digest(b))
}

fn setup() -> Fixture {
    let f = fixture();
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c/a", b"aaaa").status, 201);
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c/b", b"bbbbbb").status, 201);
    f
}

fn put_manifest(f: &Fixture, name: &str, body: &str) -> crate::core::http::testing::MemHost {
    f.req_h(
        "PUT",
        &format!("/v1/AUTH_test/c/{name}"),
        "multipart-manifest=put",
        &[],
        body.as_bytes(),
    )
}

#[test]
fn put_then_get_head_range_and_the_manifest() {
    let f = setup();
    let body = format!(
        r#"[{{"path": "c/a", "etag": "{}", "size_bytes": 4}}, {{"path": "/c/b", "range": "1-3"}}]"#,
        md5(b"aaaa")
    );
    let put = put_manifest(&f, "big", &body);
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.out));
    let slo_etag = md5(format!("{}{}:1-3;", md5(b"aaaa"), md5(b"bbbbbb")).as_bytes());
    assert_eq!(put.header("ETag"), Some(format!("\"{slo_etag}\"").as_str()));

    let get = f.req("GET", "/v1/AUTH_test/c/big", b"");
    assert_eq!((get.status, get.out.as_slice()), (200, &b"aaaabbb"[..]));
    assert_eq!(get.header("Content-Length"), Some("7"));
    assert_eq!(get.header("X-Static-Large-Object"), Some("True"));
    assert_eq!(get.header("Content-Type"), Some("application/octet-stream"));
    assert_eq!(get.header("X-Object-Sysmeta-Slo-Etag"), None);

    let head = f.req("HEAD", "/v1/AUTH_test/c/big", b"");
    assert_eq!(head.header("Content-Length"), Some("7"));
    assert_eq!(
        head.header("ETag"),
        Some(format!("\"{slo_etag}\"").as_str())
    );

    let part = f.req_h(
        "GET",
        "/v1/AUTH_test/c/big",
        "",
        &[("Range", "bytes=2-5")],
        b"",
    );
    assert_eq!((part.status, part.out.as_slice()), (206, &b"aabb"[..]));
    assert_eq!(part.header("Content-Range"), Some("bytes 2-5/7"));

    let m = f.req_h(
        "GET",
        "/v1/AUTH_test/c/big",
        "multipart-manifest=get",
        &[],
        b"",
    );
    assert_eq!(
        m.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let listed: serde_json::Value = serde_json::from_slice(&m.out).unwrap();
    assert_eq!(listed[1]["name"], "/c/b");
    assert_eq!(listed[1]["range"], "1-3");
    assert_eq!(m.header("ETag"), Some(md5(&m.out).as_str()));

    let raw = f.req_h(
        "GET",
        "/v1/AUTH_test/c/big",
        "multipart-manifest=get&format=raw",
        &[],
        b"",
    );
    assert_eq!(
        String::from_utf8(raw.out).unwrap(),
        format!(
            "[{{\"etag\": \"{}\", \"path\": \"/c/a\", \"size_bytes\": 4}}, \
             {{\"etag\": \"{}\", \"path\": \"/c/b\", \"range\": \"1-3\", \"size_bytes\": 6}}]",
            md5(b"aaaa"),
            md5(b"bbbbbb")
        )
    );

    let list = f.req_h("GET", "/v1/AUTH_test/c", "format=json", &[], b"");
    let rows: serde_json::Value = serde_json::from_slice(&list.out).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "big")
        .unwrap();
    assert_eq!(row["bytes"], 7);
    assert_eq!(row["slo_etag"], format!("\"{slo_etag}\""));
    assert_eq!(row["hash"], md5(&m.out));
    assert_eq!(row["content_type"], "application/octet-stream");
}

#[test]
fn bad_manifests_store_nothing() {
    let f = setup();
    let cases = [
        ("[{", 400, "Manifest must be valid JSON.\n"),
        (
            r#"[{"path": "c/missing"}]"#,
            400,
            "Errors:\nc/missing, 404 Not Found\n",
        ),
        (
            r#"[{"path": "c/a", "etag": "nope", "size_bytes": 5}]"#,
            400,
            "Errors:\nc/a, Size Mismatch\nc/a, Etag Mismatch\n",
        ),
        (
            r#"[{"path": "c/bad"}]"#,
            400,
            "Index 0: manifest must not include itself as a segment\n",
        ),
    ];
    for (body, status, text) in cases {
        let r = put_manifest(&f, "bad", body);
        assert_eq!(r.status, status, "{body}");
        assert_eq!(String::from_utf8_lossy(&r.out), text, "{body}");
        assert_eq!(f.req("HEAD", "/v1/AUTH_test/c/bad", b"").status, 404);
    }
    let r = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/bad",
        "multipart-manifest=put",
        &[("Etag", "\"00000000000000000000000000000000\"")],
        br#"[{"path": "c/a"}]"#,
    );
    assert_eq!(r.status, 422);
    assert_eq!(f.req("HEAD", "/v1/AUTH_test/c/bad", b"").status, 404);
    let reserved = f.req_h(
        "PUT",
        "/v1/AUTH_test/c/plain",
        "",
        &[("X-Static-Large-Object", "True")],
        b"x",
    );
    assert_eq!(reserved.status, 400);
}

#[test]
fn nested_slos_loops_and_deletes() {
    let f = setup();
    assert_eq!(
        put_manifest(&f, "inner", r#"[{"path": "c/a"}]"#).status,
        201
    );
    assert_eq!(
        put_manifest(&f, "outer", r#"[{"path": "c/inner"}, {"path": "c/b"}]"#).status,
        201
    );
    let get = f.req("GET", "/v1/AUTH_test/c/outer", b"");
    assert_eq!(get.out, b"aaaabbbbbb");
    let part = f.req_h(
        "GET",
        "/v1/AUTH_test/c/outer",
        "",
        &[("Range", "bytes=3-4")],
        b"",
    );
    assert_eq!(part.out, b"ab");
    // inner now holds outer: a loop, refused at the depth limit (409).
    assert_eq!(
        put_manifest(&f, "inner", r#"[{"path": "c/outer"}]"#).status,
        201
    );
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/outer", b"").status, 409);
    assert_eq!(
        put_manifest(&f, "inner", r#"[{"path": "c/a"}]"#).status,
        201
    );

    let del = f.req_h(
        "DELETE",
        "/v1/AUTH_test/c/outer",
        "multipart-manifest=delete",
        &[],
        b"",
    );
    assert_eq!(del.status, 200);
    assert_eq!(
        String::from_utf8_lossy(&del.out),
        "Number Deleted: 4\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n"
    );
    for name in ["a", "b", "inner", "outer"] {
        let uri = format!("/v1/AUTH_test/c/{name}");
        assert_eq!(f.req("HEAD", &uri, b"").status, 404, "{name}");
    }
}

#[test]
fn a_segment_gone_answers_409_before_the_body() {
    let f = setup();
    assert_eq!(put_manifest(&f, "big", r#"[{"path": "c/a"}]"#).status, 201);
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/a", b"").status, 204);
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/big", b"").status, 409);
    // A plain DELETE takes the manifest only.
    assert_eq!(f.req("DELETE", "/v1/AUTH_test/c/big", b"").status, 204);
    assert_eq!(f.req("HEAD", "/v1/AUTH_test/c/b", b"").status, 200);
}

#[test]
fn swift_bytes_is_hidden() {
    assert_eq!(clean_content_type("text/plain;swift_bytes=5"), "text/plain");
    assert_eq!(
        clean_content_type("a/b; charset=x; swift_bytes=5"),
        "a/b; charset=x"
    );
    assert_eq!(clean_content_type("a/b;x=1"), "a/b;x=1");
}

#[test]
fn copies_join_or_keep_the_manifest() {
    let f = setup();
    assert_eq!(
        put_manifest(
            &f,
            "big",
            r#"[{"path": "c/a"}, {"data": "LQ=="}, {"path": "c/b", "range": "-2"}]"#
        )
        .status,
        201
    );
    let c = f.req_h(
        "COPY",
        "/v1/AUTH_test/c/big",
        "",
        &[("Destination", "c/joined")],
        b"",
    );
    assert_eq!(c.status, 201);
    assert_eq!(c.header("ETag"), Some(md5(b"aaaa-bb").as_str()));
    let g = f.req("GET", "/v1/AUTH_test/c/joined", b"");
    assert_eq!(g.out, b"aaaa-bb");
    assert_eq!(g.header("X-Static-Large-Object"), None);
    let r = f.req_h(
        "COPY",
        "/v1/AUTH_test/c/big",
        "",
        &[("Destination", "c/part"), ("Range", "bytes=3-5")],
        b"",
    );
    assert_eq!(r.status, 201);
    assert_eq!(f.req("GET", "/v1/AUTH_test/c/part", b"").out, b"a-b");

    let m = f.req_h(
        "COPY",
        "/v1/AUTH_test/c/big",
        "multipart-manifest=get",
        &[("Destination", "c/still-slo")],
        b"",
    );
    assert_eq!(m.status, 201);
    let head = f.req("HEAD", "/v1/AUTH_test/c/big", b"");
    assert_eq!(m.header("ETag"), head.header("ETag"));
    let g = f.req("GET", "/v1/AUTH_test/c/still-slo", b"");
    assert_eq!(
        (g.out.as_slice(), g.header("X-Static-Large-Object")),
        (&b"aaaa-bb"[..], Some("True"))
    );
}

#[test]
fn conditions_are_the_slos_and_plain_objects_keep_theirs() {
    let f = setup();
    let put = put_manifest(&f, "big", r#"[{"path": "c/a"}, {"path": "c/b"}]"#);
    let slo = put.header("ETag").unwrap().to_string();
    let manifest = f.req_h(
        "HEAD",
        "/v1/AUTH_test/c/big",
        "multipart-manifest=get",
        &[],
        b"",
    );
    let json_md5 = manifest.header("ETag").unwrap().to_string();
    let g = |h: &[(&str, &str)]| f.req_h("GET", "/v1/AUTH_test/c/big", "", h, b"");
    assert_eq!(g(&[("If-Match", &slo)]).status, 200);
    assert_eq!(g(&[("If-Match", &json_md5)]).status, 412);
    let nm = g(&[("If-None-Match", &slo)]);
    assert_eq!(nm.status, 304);
    assert_eq!(nm.header("ETag"), Some(slo.as_str()));
    assert_eq!(nm.header("X-Manifest-Etag"), Some(json_md5.as_str()));
    assert_eq!(g(&[("If-None-Match", &json_md5)]).status, 200);
    // A plain object: its own ETag, its Range.
    let a = f.req_h(
        "GET",
        "/v1/AUTH_test/c/b",
        "",
        &[("If-Match", &md5(b"bbbbbb")), ("Range", "bytes=1-2")],
        b"",
    );
    assert_eq!((a.status, a.out.as_slice()), (206, &b"bb"[..]));
}

#[test]
fn a_copy_of_several_ranges_stores_the_multipart_body() {
    let f = setup();
    let list = r#"[{"path": "c/a"}, {"data": "LQ=="}, {"path": "c/b", "range": "-2"}]"#;
    assert_eq!(put_manifest(&f, "big", list).status, 201);
    // "aaaa-bb": ranges across the inline byte and into the ranged segment.
    let c = f.req_h(
        "COPY",
        "/v1/AUTH_test/c/big",
        "",
        &[("Destination", "c/parts"), ("Range", "bytes=3-4,-2")],
        b"",
    );
    assert_eq!(c.status, 201);
    let g = f.req("GET", "/v1/AUTH_test/c/parts", b"");
    let ctype = g.header("Content-Type").unwrap_or_default().to_string();
    let boundary = ctype
        .strip_prefix("multipart/byteranges;boundary=")
        .expect("a multipart type");
    let want = format!(
        "--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 3-4/7\r\n\r\na-\
         \r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-6/7\r\n\r\nbb\
         \r\n--{boundary}--"
    );
    assert_eq!(String::from_utf8_lossy(&g.out), want);
    assert_eq!(c.header("ETag"), Some(md5(want.as_bytes()).as_str()));
}
