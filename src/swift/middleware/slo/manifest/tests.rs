use super::*;

const HERE: (&str, &str) = ("c", "manifest");

fn err(body: &str) -> String {
    parse_input(body.as_bytes(), HERE).unwrap_err()
}

fn obj(path: &str) -> Input {
    Input::Object {
        path: path.into(),
        etag: None,
        size_bytes: None,
        range: None,
    }
}

#[test]
fn refuses_what_is_no_list_with_swifts_messages() {
    assert_eq!(err("[{"), "Manifest must be valid JSON.\n");
    assert_eq!(err("{\"path\": \"c/o\"}"), "Manifest must be a list.\n");
    assert_eq!(err("5"), "Manifest must be a list.\n");
}

#[test]
fn each_bad_entry_is_named_by_its_index() {
    let body = r#"["x", {"etag": "e"}, {"path": "c/o", "b": 1, "a": 2}, {"path": 5},
        {"path": "c/o", "etag": 5}, {"path": "/only/"}, {"path": "c/o", "size_bytes": "x"},
        {"path": "c/o", "size_bytes": 0}, {"path": "/c/manifest"}, {"path": "c/o", "range": "x-y"},
        {"path": "c/o", "range": "0-1,3-4"}, {"path": "c/o", "size_bytes": 3, "range": "5-"},
        {"data": "!!"}, {"data": ""}, {"path": "c/o", "range": 7}]"#;
    let want = "Index 0: not a JSON object\n\
        Index 1: expected keys to include one of 'data' or 'path'\n\
        Index 2: extraneous keys \"a\", \"b\"\n\
        Index 3: \"path\" must be a string\n\
        Index 4: \"etag\" must be a string or null (if provided)\n\
        Index 5: path does not refer to an object. Path must be of the form /container/object.\n\
        Index 6: invalid size_bytes\n\
        Index 7: too small; each segment must be at least 1 byte.\n\
        Index 8: manifest must not include itself as a segment\n\
        Index 9: invalid range\n\
        Index 10: multiple ranges (only one allowed)\n\
        Index 11: unsatisfiable range\n\
        Index 12: data must be valid base64\n\
        Index 13: too small; each segment must be at least 1 byte.\n\
        Index 14: invalid range\n";
    assert_eq!(err(body), want);
}

#[test]
fn data_alone_is_refused_and_the_last_segment_may_be_empty() {
    assert_eq!(
        err(r#"[{"data": "YWJj"}]"#),
        "Inline data segments require at least one object-backed segment.\n"
    );
    let ok = parse_input(
        br#"[{"path": "c/a"}, {"path": "c/b", "size_bytes": 0}]"#,
        HERE,
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    // A data segment with a path is a data segment with an extra key.
    assert_eq!(
        err(r#"[{"data": "YWJj", "path": "c/o"}]"#),
        "Index 0: extraneous keys \"path\"\n\
         Inline data segments require at least one object-backed segment.\n"
    );
}

#[test]
fn sizes_read_as_pythons_int_and_ranges_as_swobs() {
    let parsed = parse_input(
        br#"[{"path": "c/a", "size_bytes": " 12 ", "etag": null},
             {"path": "c/b", "size_bytes": 7.9, "range": "-3"},
             {"path": "c/c", "size_bytes": true, "range": ""},
             {"path": "c/d", "range": "2-", "etag": "x"},
             {"data": "aGk"}]"#,
        HERE,
    );
    // "aGk" lacks its padding: not base64 to Swift.
    assert_eq!(parsed.unwrap_err(), "Index 4: data must be valid base64\n");
    let parsed = parse_input(
        br#"[{"path": "c/a", "size_bytes": " 12 ", "etag": null},
             {"path": "c/b", "size_bytes": 7.9, "range": "-3"},
             {"path": "c/c", "size_bytes": true, "range": ""},
             {"path": "c/d", "range": "2-", "etag": "x"},
             {"data": "aGk="}]"#,
        HERE,
    )
    .unwrap();
    assert_eq!(
        parsed,
        vec![
            Input::Object {
                path: "c/a".into(),
                etag: None,
                size_bytes: Some(12),
                range: None
            },
            Input::Object {
                path: "c/b".into(),
                etag: None,
                size_bytes: Some(7),
                range: Some((None, Some(3)))
            },
            Input::Object {
                path: "c/c".into(),
                etag: None,
                size_bytes: Some(1),
                range: None
            },
            Input::Object {
                path: "c/d".into(),
                etag: Some("x".into()),
                size_bytes: None,
                range: Some((Some(2), None))
            },
            Input::Data(b"hi".to_vec()),
        ]
    );
    assert_eq!(
        parse_input(br#"[{"path": "c//o"}]"#, HERE).unwrap(),
        vec![obj("c//o")]
    );
}

#[test]
fn ranges_resolve_as_swob() {
    assert_eq!(resolve((Some(0), Some(0)), 5), Some((0, 1)));
    assert_eq!(resolve((Some(2), None), 5), Some((2, 5)));
    assert_eq!(resolve((Some(2), Some(99)), 5), Some((2, 5)));
    assert_eq!(resolve((None, Some(2)), 5), Some((3, 5)));
    assert_eq!(resolve((None, Some(9)), 5), Some((0, 5)));
    assert_eq!(resolve((None, Some(0)), 5), None);
    assert_eq!(resolve((Some(5), None), 5), None);
    assert_eq!(parse_range(" 1 - 2 "), Some(vec![(Some(1), Some(2))]));
    assert_eq!(parse_range("2-1"), None);
    assert_eq!(parse_range("-"), None);
    assert_eq!(parse_range("1"), None);
    assert_eq!(parse_range("--1"), None);
}

#[test]
fn base64_is_strict_about_its_alphabet_and_padding() {
    assert_eq!(strict_b64decode("QQ=="), Some(b"A".to_vec()));
    assert_eq!(strict_b64decode("QQ==="), Some(b"A".to_vec()));
    assert_eq!(strict_b64decode("QUI="), Some(b"AB".to_vec()));
    assert_eq!(strict_b64decode("==QUJD"), Some(b"ABC".to_vec()));
    assert_eq!(strict_b64decode("QQ="), None);
    assert_eq!(strict_b64decode("Q"), None);
    assert_eq!(strict_b64decode("QU JD"), None);
    assert_eq!(strict_b64decode("QU=JD"), None);
    assert_eq!(b64encode(b"A"), "QQ==");
    assert_eq!(b64encode(b"hello world"), "aGVsbG8gd29ybGQ=");
}

fn seg(name: &str, bytes: u64, hash: &str, range: Option<(u64, u64)>) -> Stored {
    Stored::Object {
        name: name.into(),
        bytes,
        hash: hash.into(),
        content_type: "text/plain".into(),
        last_modified: "2026-12-07T22:10:20.000000".into(),
        range,
        sub_slo: false,
    }
}

#[test]
fn the_slo_etag_is_swifts() {
    // Swift's documented example: md5 of the concatenated ETags...
    let whole = [
        seg("/c/1", 10, "etagoftheobjectsegment1", None),
        seg("/c/2", 10, "etagoftheobjectsegment2", None),
    ];
    let want = crate::core::hex::hex(&Md5::digest(
        b"etagoftheobjectsegment1etagoftheobjectsegment2",
    ));
    assert_eq!(slo_etag(&whole), want);
    assert_eq!(total_size(&whole), 20);
    // ... a ranged segment's as "etag:range;", inline data's as its MD5.
    let mixed = [
        seg("/c/1", 10, "etagoftheobjectsegmentone", Some((1, 2))),
        Stored::Data(b"abc".to_vec()),
    ];
    let want = crate::core::hex::hex(&Md5::digest(
        b"etagoftheobjectsegmentone:1-2;900150983cd24fb0d6963f7d28e17f72",
    ));
    assert_eq!(slo_etag(&mixed), want);
    assert_eq!(total_size(&mixed), 5);
}

#[test]
fn stored_json_is_pythons_and_reads_back() {
    let mut nested = seg("/c/sub", 30, "abc", Some((3, 9)));
    if let Stored::Object { sub_slo, name, .. } = &mut nested {
        *sub_slo = true;
        *name = "/c/caf\u{e9}".into();
    }
    let segs = vec![
        seg("/c/1", 10, "h1", None),
        nested,
        Stored::Data(b"hi".to_vec()),
    ];
    let json = to_stored_json(&segs);
    assert_eq!(
        String::from_utf8(json.clone()).unwrap(),
        "[{\"name\": \"/c/1\", \"bytes\": 10, \"hash\": \"h1\", \"content_type\": \"text/plain\", \
         \"last_modified\": \"2026-12-07T22:10:20.000000\"}, \
         {\"name\": \"/c/caf\\u00e9\", \"bytes\": 30, \"hash\": \"abc\", \"content_type\": \
         \"text/plain\", \"last_modified\": \"2026-12-07T22:10:20.000000\", \"range\": \"3-9\", \
         \"sub_slo\": true}, {\"data\": \"aGk=\"}]"
    );
    assert_eq!(parse_stored(&json).unwrap(), segs);
    assert_eq!(
        String::from_utf8(to_raw_json(&segs)).unwrap(),
        "[{\"etag\": \"h1\", \"path\": \"/c/1\", \"size_bytes\": 10}, \
         {\"etag\": \"abc\", \"path\": \"/c/caf\\u00e9\", \"range\": \"3-9\", \"size_bytes\": 30}, \
         {\"data\": \"aGk=\"}]"
    );
    assert_eq!(parse_stored(b"{}"), None);
    assert_eq!(parse_stored(b"[{\"name\": \"/c/o\"}]"), None);
    assert_eq!(
        py_json_str("a\"\\\n\u{1}\u{1F600}"),
        "\"a\\\"\\\\\\n\\u0001\\ud83d\\ude00\""
    );
}
