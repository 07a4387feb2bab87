use super::*;
use crate::node::policy::Policies;
use crate::store::timestamp::Timestamp;
use serde_json::{json, Value};

fn ts() -> Timestamp {
    Timestamp::parse("1700000000.12345").unwrap()
}

fn objects() -> Vec<ListingEntry<ObjectRecord>> {
    vec![
        ListingEntry::Item(ObjectRecord {
            name: "a&b <\"c\">\u{1}é😀".into(),
            timestamp: ts(),
            size: 12,
            content_type: "text/plain".into(),
            etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
        }),
        ListingEntry::Subdir("dir/".into()),
    ]
}

fn containers() -> Vec<ListingEntry<ContainerRecord>> {
    vec![
        ListingEntry::Item(ContainerRecord {
            name: "c1".into(),
            object_count: 3,
            bytes_used: 42,
            last_modified: ts(),
            policy_index: 0,
        }),
        ListingEntry::Item(ContainerRecord {
            name: "gone-policy".into(),
            object_count: 0,
            bytes_used: 0,
            last_modified: ts(),
            policy_index: 7,
        }),
        ListingEntry::Subdir("sub/".into()),
    ]
}

fn chosen(format: Option<&str>, accept: Option<&str>) -> Format {
    Format::negotiate(format, accept).unwrap()
}

#[test]
fn chooses_format_like_swift() {
    assert_eq!(chosen(Some("json"), Some("application/xml")), Format::Json);
    assert_eq!(chosen(Some("XML"), None), Format::Xml);
    assert_eq!(
        chosen(Some("plain"), Some("application/json")),
        Format::Plain
    );
    assert_eq!(
        chosen(Some("bogus"), Some("application/json")),
        Format::Plain
    );
    assert_eq!(chosen(None, None), Format::Plain);
    assert_eq!(chosen(None, Some("application/json")), Format::Json);
    assert_eq!(chosen(None, Some("text/xml")), Format::TextXml);
    assert_eq!(
        chosen(None, Some("application/json;q=0.5, text/xml")),
        Format::TextXml
    );
    assert_eq!(chosen(Some("xml"), Some("text/xml")), Format::Xml);
    assert_eq!(chosen(None, Some("application/xml; q=0.9")), Format::Xml);
    assert_eq!(chosen(None, Some("*/*")), Format::Plain);
    assert_eq!(
        chosen(None, Some("text/*;q=0.5, application/json;q=0.8")),
        Format::Json
    );
    assert_eq!(
        chosen(None, Some("application/*, text/plain;q=0.1")),
        Format::Json
    );
    assert_eq!(chosen(None, Some("application/json, */*")), Format::Json);
    assert_eq!(Format::negotiate(None, Some("image/png")), Err(406));
    assert_eq!(Format::negotiate(None, Some("garbage")), Err(400));
    assert_eq!(
        Format::negotiate(Some("json"), Some("garbage")),
        Ok(Format::Json)
    );
}

#[test]
fn content_types() {
    assert_eq!(content_type(Format::Plain), "text/plain; charset=utf-8");
    assert_eq!(
        content_type(Format::Json),
        "application/json; charset=utf-8"
    );
    assert_eq!(content_type(Format::Xml), "application/xml; charset=utf-8");
    assert_eq!(content_type(Format::TextXml), "text/xml; charset=utf-8");
}

#[test]
fn listed_types_as_swift_rejoins_them() {
    let t = |s: &str| listed_type(s, 7);
    assert_eq!(t("text/plain"), ("text/plain".into(), 7));
    assert_eq!(
        t("text/html; charset=utf-8"),
        ("text/html;charset=utf-8".into(), 7)
    );
    assert_eq!(
        t("text/html ; a = b ;c=\"q; r\"  ;flag; ;=x"),
        ("text/html ;a=b;c=\"q; r\";flag=".into(), 7)
    );
    assert_eq!(t("a/b;swift_bytes=42;x=1"), ("a/b;x=1".into(), 42));
    assert_eq!(t("a/b;swift_bytes=abc"), ("a/b".into(), 7));
    assert_eq!(t("a/b;k=v/w"), ("a/b;k=v".into(), 7));
    assert_eq!(t("a/b;k=\"open"), ("a/b;k=".into(), 7));
}

#[test]
fn plain_is_one_name_per_line() {
    let body = render_objects("c", &objects(), Format::Plain);
    assert_eq!(body, "a&b <\"c\">\u{1}é😀\ndir/\n".as_bytes());
    assert_eq!(
        render_containers("a", &containers(), Format::Plain, &Policies::default()),
        b"c1\ngone-policy\nsub/\n"
    );
    assert!(render_objects("c", &[], Format::Plain).is_empty());
}

#[test]
fn object_json_matches_swift_bytes_and_parses() {
    let body = render_objects("c", &objects(), Format::Json);
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.is_ascii());
    assert_eq!(
        text,
        r#"[{"bytes": 12, "hash": "d41d8cd98f00b204e9800998ecf8427e", "name": "a&b <\"c\">\u0001\u00e9\ud83d\ude00", "content_type": "text/plain", "last_modified": "2023-11-14T22:13:20.123450"}, {"subdir": "dir/"}]"#
    );
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        parsed,
        json!([
            {"hash": "d41d8cd98f00b204e9800998ecf8427e", "last_modified": "2023-11-14T22:13:20.123450",
             "bytes": 12, "name": "a&b <\"c\">\u{1}é😀", "content_type": "text/plain"},
            {"subdir": "dir/"}
        ])
    );
    assert_eq!(render_objects("c", &[], Format::Json), b"[]");
}

#[test]
fn container_json_parses_back() {
    let body = render_containers("a", &containers(), Format::Json, &Policies::default());
    assert_eq!(
        String::from_utf8(body.clone()).unwrap(),
        r#"[{"name": "c1", "count": 3, "bytes": 42, "last_modified": "2023-11-14T22:13:20.123450", "storage_policy": "Policy-0"}, {"name": "gone-policy", "count": 0, "bytes": 0, "last_modified": "2023-11-14T22:13:20.123450"}, {"subdir": "sub/"}]"#
    );
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed[0]["count"], 3);
    assert_eq!(parsed[2]["subdir"], "sub/");
}

#[test]
fn object_xml_matches_swift() {
    let body = String::from_utf8(render_objects("c\"&<", &objects(), Format::Xml)).unwrap();
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c&quot;&amp;&lt;\">\
         <object><name>a&amp;b &lt;\"c\"&gt;\u{fffd}é😀</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash>\
         <bytes>12</bytes><content_type>text/plain</content_type>\
         <last_modified>2023-11-14T22:13:20.123450</last_modified></object>\
         <subdir name=\"dir/\"><name>dir/</name></subdir></container>"
    );
    assert_eq!(
        render_objects("c", &[], Format::Xml),
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c\" />"
    );
}

#[test]
fn account_xml_matches_swift() {
    let body = String::from_utf8(render_containers(
        "AUTH_test",
        &containers(),
        Format::Xml,
        &Policies::default(),
    ))
    .unwrap();
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_test\">\n\
         <container><name>c1</name><count>3</count><bytes>42</bytes>\
         <last_modified>2023-11-14T22:13:20.123450</last_modified><storage_policy>Policy-0</storage_policy></container>\n\
         <container><name>gone-policy</name><count>0</count><bytes>0</bytes>\
         <last_modified>2023-11-14T22:13:20.123450</last_modified></container>\n\
         <subdir name=\"sub/\" />\n</account>"
    );
    assert_eq!(
        render_containers("a", &[], Format::Xml, &Policies::default()),
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"a\">\n</account>"
    );
}

#[test]
fn xml_escapes_attributes_and_controls() {
    let mut out = String::new();
    xml_escape(&mut out, "a\n\t\r\"<", true);
    assert_eq!(out, "a&#10;&#09;&#13;&quot;&lt;");
    out.clear();
    xml_escape(&mut out, "a\n\t\r\"\u{7f}", false);
    assert_eq!(out, "a\n\t&#13;\"&#127;");
    // Not XML 1.0 characters, even as references.
    out.clear();
    xml_escape(&mut out, "\u{1}\u{1f}\u{fffe}\u{ffff}\u{85}\u{10000}", true);
    assert_eq!(out, "\u{fffd}\u{fffd}\u{fffd}\u{fffd}&#133;\u{10000}");
}

#[test]
fn read_headers_vary_only_when_accept_decides() {
    use crate::core::http::Response;
    use crate::swift::query::Query;
    for (query, vary) in [
        ("", Some("Accept")),
        ("prefix=a", Some("Accept")),
        ("format=json", None),
        ("format=", None),
    ] {
        let mut r = Response::new(200);
        read_headers(&mut r, &Query::parse(query).unwrap());
        assert_eq!(r.get_header("Accept-Ranges"), Some("bytes"), "{query}");
        assert_eq!(r.get_header("Vary"), vary, "{query}");
    }
}

#[test]
fn an_slo_rows_hash_splits_into_hash_and_slo_etag() {
    assert_eq!(
        listed_hash("abc; slo_etag=def"),
        ("abc".to_string(), Some("def".to_string()))
    );
    assert_eq!(
        listed_hash("abc;x=1; slo_etag=def"),
        ("abc; x=1".to_string(), Some("def".to_string()))
    );
    assert_eq!(listed_hash("abc"), ("abc".to_string(), None));
    assert_eq!(listed_hash("abc; x=1"), ("abc; x=1".to_string(), None));
    let rows = vec![ListingEntry::Item(ObjectRecord {
        name: "m".into(),
        timestamp: ts(),
        size: 10,
        content_type: "text/plain;swift_bytes=99".into(),
        etag: "abc; slo_etag=def".into(),
    })];
    let json: Value = serde_json::from_slice(&render_objects("c", &rows, Format::Json)).unwrap();
    assert_eq!(
        json,
        json!([{"bytes": 99, "hash": "abc", "name": "m", "content_type": "text/plain",
                "last_modified": ts().iso8601(), "slo_etag": "\"def\""}])
    );
    let xml = String::from_utf8(render_objects("c", &rows, Format::Xml)).unwrap();
    assert!(xml.contains("<hash>abc</hash><bytes>99</bytes>"), "{xml}");
}
