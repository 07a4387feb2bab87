//! Expected bodies are what Swift 2.38's `get_heartbeat_response_body`
//! returns for the same fields and errors.

use super::*;

fn delete_with_errors() -> Results {
    let mut r = Results::delete();
    r.bump(NUMBER_DELETED);
    r.bump(NUMBER_DELETED);
    r.bump(NUMBER_NOT_FOUND);
    r.fail("/c/o%20x".into(), status_line(409));
    r.fail("/c2".into(), status_line(403));
    r.set_status(400);
    r
}

#[test]
fn delete_plain_sorted_fields_then_errors() {
    let want = "Number Deleted: 2\nNumber Not Found: 1\nResponse Body: \n\
                Response Status: 400 Bad Request\nErrors:\n/c/o%20x, 409 Conflict\n\
                /c2, 403 Forbidden\n";
    let r = delete_with_errors();
    assert_eq!(r.render(Some(OutFormat::Plain), "delete"), want.as_bytes());
    // No acceptable format: plain text as well.
    assert_eq!(r.render(None, "delete"), want.as_bytes());
}

#[test]
fn delete_json_in_insertion_order() {
    let want = r#"{"Response Status": "400 Bad Request", "Response Body": "", "Number Deleted": 2, "Number Not Found": 1, "Errors": [["/c/o%20x", "409 Conflict"], ["/c2", "403 Forbidden"]]}"#;
    let r = delete_with_errors();
    assert_eq!(r.render(Some(OutFormat::Json), "delete"), want.as_bytes());
}

#[test]
fn delete_xml_without_declaration() {
    let want = "<delete>\n<number_deleted>2</number_deleted>\n<number_not_found>1</number_not_found>\n\
                <response_body></response_body>\n<response_status>400 Bad Request</response_status>\n\
                <errors>\n<object><name>/c/o%20x</name><status>409 Conflict</status></object>\n\
                <object><name>/c2</name><status>403 Forbidden</status></object>\n</errors>\n</delete>\n";
    let r = delete_with_errors();
    assert_eq!(r.render(Some(OutFormat::Xml), "delete"), want.as_bytes());
    assert_eq!(
        r.render(Some(OutFormat::TextXml), "delete"),
        want.as_bytes()
    );
}

fn extract_failed() -> Results {
    let mut r = Results::extract();
    r.set_status(400);
    r.set_body("Invalid Tar File: <bad> & \u{e9}");
    r
}

#[test]
fn extract_json_escapes_non_ascii() {
    let want = r#"{"Response Status": "400 Bad Request", "Response Body": "Invalid Tar File: <bad> & \u00e9", "Number Files Created": 0, "Errors": []}"#;
    assert_eq!(
        extract_failed().render(Some(OutFormat::Json), "extract"),
        want.as_bytes()
    );
}

#[test]
fn extract_xml_escapes_only_amp_lt_gt() {
    let want = "<extract>\n<number_files_created>0</number_files_created>\n\
                <response_body>Invalid Tar File: &lt;bad&gt; &amp; \u{e9}</response_body>\n\
                <response_status>400 Bad Request</response_status>\n<errors>\n</errors>\n</extract>\n";
    assert_eq!(
        extract_failed().render(Some(OutFormat::TextXml), "extract"),
        want.as_bytes()
    );
}

#[test]
fn extract_plain() {
    let want = "Number Files Created: 0\nResponse Body: Invalid Tar File: <bad> & \u{e9}\n\
                Response Status: 400 Bad Request\nErrors:\n";
    assert_eq!(extract_failed().render(None, "extract"), want.as_bytes());
}

#[test]
fn fresh_results_start_as_swift_does() {
    let d = Results::delete();
    assert_eq!(
        d.render(Some(OutFormat::Json), "delete"),
        br#"{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 0, "Number Not Found": 0, "Errors": []}"#
    );
    let e = Results::extract();
    assert_eq!(
        e.get(RESPONSE_STATUS),
        Some(&Value::Str("201 Created".into()))
    );
    assert_eq!(e.count(NUMBER_FILES_CREATED), 0);
    assert_eq!(status_line(502), "502 Bad Gateway");
    assert_eq!(status_line(500), "500 Internal Error");
    assert_eq!(status_line(499), "499 Client Disconnect");
}

#[test]
fn accept_negotiation() {
    assert_eq!(OutFormat::from_accept(None), Some(OutFormat::Plain));
    assert_eq!(OutFormat::from_accept(Some("*/*")), Some(OutFormat::Plain));
    assert_eq!(
        OutFormat::from_accept(Some("application/json")),
        Some(OutFormat::Json)
    );
    assert_eq!(
        OutFormat::from_accept(Some("text/xml;q=0.9, application/xml;q=0.5")),
        Some(OutFormat::TextXml)
    );
    assert_eq!(OutFormat::from_accept(Some("image/png")), None);
    assert_eq!(OutFormat::from_accept(Some("bogus")), None);
    assert_eq!(
        OutFormat::first_heartbeat(Some(OutFormat::Xml)),
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    );
    assert_eq!(OutFormat::first_heartbeat(None), b" ");
}

#[test]
fn names_quoted_as_python_quote() {
    assert_eq!(quote(b"/c/a b+c~d_e.f-g"), "/c/a%20b%2Bc~d_e.f-g");
    assert_eq!(quote("/c/\u{2603}".as_bytes()), "/c/%E2%98%83");
    assert_eq!(quote(b"/c/\xff%"), "/c/%FF%25");
}
