use super::*;
use crate::core::http::testing::MemHost;
use crate::core::http::{send_in, Response};
use crate::swift::auth::Identity;
use crate::swift::router::tests::{fixture, Fixture};

const A: &str = "AUTH_test";

fn owner() -> Reader {
    Reader {
        caller: Caller::User(Identity {
            account: A.into(),
            login: "test:tester".into(),
            admin: true,
            reseller_admin: false,
        }),
        referer: None,
    }
}

fn member() -> Reader {
    Reader {
        caller: Caller::User(Identity {
            account: A.into(),
            login: "test:member".into(),
            admin: false,
            reseller_admin: false,
        }),
        referer: None,
    }
}

/// A fixture with container `c` holding s1="abc", s2="defg", s3="" , s4="hij".
fn stored() -> Fixture {
    let f = fixture();
    assert_eq!(f.req("PUT", "/v1/AUTH_test/c", b"").status, 201);
    for (name, body) in [
        ("s1", &b"abc"[..]),
        ("s2", b"defg"),
        ("s3", b""),
        ("s4", b"hij"),
    ] {
        let h = f.req("PUT", &format!("/v1/AUTH_test/c/{name}"), body);
        assert_eq!(h.status, 201, "{name}");
    }
    f
}

fn seg(name: &str, len: u64) -> SegmentRef {
    SegmentRef::whole(A, "c", name, len)
}

fn all() -> Vec<SegmentRef> {
    vec![seg("s1", 3), seg("s2", 4), seg("s3", 0), seg("s4", 3)]
}

/// Sends a join as the ABI would: the body, or why it broke off.
fn run(f: &Fixture, join: Join) -> (Vec<u8>, Option<String>) {
    let mut resp = Response::new(200);
    resp.body.push(Segment::Stream(Box::new(join)));
    let mut host = MemHost::default();
    let err = send_in(resp, &mut host, false, &f.vh).err();
    (host.out, err.map(|e| e.to_string()))
}

fn join(items: Vec<SegmentRef>, reader: Reader, window: Window) -> Join {
    Join::new(
        Box::new(ListSource::new(items)),
        reader,
        window,
        "/AUTH_test/c/m",
    )
}

#[test]
fn windows_clip_segments() {
    let w = Window {
        start: 2,
        end: Some(8),
    };
    assert_eq!(w.clip(0, 3), Some((2, 3)));
    assert_eq!(w.clip(3, 4), Some((0, 4)));
    assert_eq!(w.clip(7, 3), Some((0, 1)));
    assert_eq!(w.clip(8, 3), None);
    assert_eq!(w.clip(0, 2), None);
    assert_eq!(w.clip(5, 0), None);
    assert!(w.ends_before(8) && !w.ends_before(7));
    let open = Window::unbounded();
    assert_eq!(open.clip(10, 5), Some((0, 5)));
    assert!(!open.ends_before(u64::MAX));
}

#[test]
fn joins_whole_and_windows_across_boundaries() {
    let f = stored();
    let (body, err) = run(&f, join(all(), owner(), Window::whole(10)));
    assert_eq!((body.as_slice(), err), (&b"abcdefghij"[..], None));
    for (start, end, want) in [
        (0, 1, "a"),
        (2, 5, "cde"),
        (3, 7, "defg"),
        (6, 8, "gh"),
        (9, 10, "j"),
        (1, 10, "bcdefghij"),
    ] {
        let w = Window::range(ByteRange { start, end });
        let (body, err) = run(&f, join(all(), owner(), w));
        assert_eq!(String::from_utf8(body).unwrap(), want, "{start}-{end}");
        assert_eq!(err, None);
    }
    let (body, err) = run(&f, join(all(), owner(), Window::unbounded()));
    assert_eq!((body.as_slice(), err), (&b"abcdefghij"[..], None));
}

#[test]
fn ranges_within_segments_and_expected_etags() {
    let f = stored();
    let mut a = seg("s2", 2);
    a.range = Some(ByteRange { start: 1, end: 3 });
    a.etag = Some(format!(
        "\"{}\"",
        crate::core::hex::hex(&md5::Md5::digest(b"defg"))
    ));
    a.size = Some(4);
    let (body, err) = run(
        &f,
        join(vec![a.clone(), seg("s1", 3)], owner(), Window::whole(5)),
    );
    assert_eq!((body.as_slice(), err), (&b"efabc"[..], None));
    let mut bad = a;
    bad.etag = Some("0".repeat(32));
    let (body, err) = run(&f, join(vec![seg("s1", 3), bad], owner(), Window::whole(5)));
    assert_eq!(body, b"abc");
    assert!(err.unwrap().contains("etag"));
}

use md5::Digest;

#[test]
fn missing_or_changed_segments_break_the_body() {
    let f = stored();
    let items = vec![seg("s1", 3), seg("gone", 4)];
    let (body, err) = run(&f, join(items, owner(), Window::whole(7)));
    assert_eq!(body, b"abc");
    assert!(err.unwrap().contains("missing"));
    // Listed as 5 bytes, holds 4.
    let items = vec![seg("s1", 3), seg("s2", 5)];
    let (body, err) = run(&f, join(items, owner(), Window::whole(8)));
    assert_eq!(body, b"abc");
    assert!(err.unwrap().contains("holds 4"));
    // A list shorter than announced.
    let (body, err) = run(&f, join(vec![seg("s1", 3)], owner(), Window::whole(6)));
    assert_eq!(body, b"abc");
    assert!(err.unwrap().contains("3 bytes of the 6"));
}

#[test]
fn prepare_answers_for_the_first_segment() {
    let f = stored();
    let mut host = MemHost::default();
    let j = join(vec![seg("gone", 3)], owner(), Window::whole(3));
    let e = j.prepare(&f.vh, &mut host).unwrap_err();
    assert_eq!(e.status(), 409);
    // Skipped segments are never opened: a window past them is fine.
    let j = join(
        vec![seg("gone", 3), seg("s1", 3)],
        owner(),
        Window::range(ByteRange { start: 3, end: 6 }),
    );
    j.prepare(&f.vh, &mut host).unwrap();
    let (body, err) = run(&f, j);
    assert_eq!((body.as_slice(), err), (&b"abc"[..], None));
    // No segments at all: an empty body.
    let j = join(vec![], owner(), Window::whole(0));
    j.prepare(&f.vh, &mut host).unwrap();
    assert_eq!(run(&f, j), (Vec::new(), None));
}

#[test]
fn segments_need_read_access_on_their_container() {
    let f = stored();
    let mut host = MemHost::default();
    let j = join(vec![seg("s1", 3)], member(), Window::whole(3));
    let e = j.prepare(&f.vh, &mut host).unwrap_err();
    assert_eq!(e.status(), 409);
    assert!(e.to_string().contains("got 403"), "{e}");
    let h = f.req_h(
        "POST",
        "/v1/AUTH_test/c",
        "",
        &[("X-Container-Read", "test:member")],
        b"",
    );
    assert_eq!(h.status, 204);
    let (body, err) = run(&f, join(vec![seg("s1", 3)], member(), Window::whole(3)));
    assert_eq!((body.as_slice(), err), (&b"abc"[..], None));
    // Referrer rules apply per segment container too.
    f.req_h(
        "POST",
        "/v1/AUTH_test/c",
        "",
        &[("X-Container-Read", ".r:*.example.com")],
        b"",
    );
    let anon = |referer: Option<&str>| Reader {
        caller: Caller::Anonymous,
        referer: referer.map(str::to_string),
    };
    let (_, err) = run(&f, join(vec![seg("s1", 3)], anon(None), Window::whole(3)));
    assert!(err.unwrap().contains("got 401"));
    let r = anon(Some("http://www.example.com/page"));
    let (body, err) = run(&f, join(vec![seg("s1", 3)], r, Window::whole(3)));
    assert_eq!((body.as_slice(), err), (&b"abc"[..], None));
}

#[test]
fn a_corrupt_segment_is_quarantined_and_breaks_the_body() {
    let f = stored();
    let obj = f.vh.objects.open(A, "c", "s2").unwrap().unwrap();
    std::fs::write(&obj.path, {
        let mut bytes = std::fs::read(&obj.path).unwrap();
        bytes[0] ^= 0xff;
        bytes
    })
    .unwrap();
    let (body, err) = run(&f, join(all(), owner(), Window::whole(10)));
    assert_eq!(body, b"abc");
    assert!(err.unwrap().contains("checksum"));
    assert!(f.vh.objects.open(A, "c", "s2").unwrap().is_none());
}

#[test]
fn multipart_frames_each_window() {
    let f = stored();
    let ranges = [
        ByteRange { start: 1, end: 2 },
        ByteRange { start: 6, end: 9 },
    ];
    let (ct, body) = multipart(&ranges, 10, "text/plain", |w| join(all(), owner(), w));
    let boundary = ct
        .strip_prefix("multipart/byteranges;boundary=")
        .unwrap()
        .to_string();
    let mut resp = Response::new(206);
    resp.body = body;
    let announced = resp.body_len();
    let mut host = MemHost::default();
    send_in(resp, &mut host, false, &f.vh).unwrap();
    let want = format!(
        "--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-1/10\r\n\r\nb\r\n\
         --{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 6-8/10\r\n\r\nghi\r\n\
         --{boundary}--"
    );
    assert_eq!(String::from_utf8(host.out).unwrap(), want);
    assert_eq!(announced, want.len() as u64);
}

#[test]
fn unknown_length_announces_none() {
    let j = join(vec![], owner(), Window::unbounded());
    assert!(!j.announces_length());
    let mut resp = Response::new(200);
    resp.body.push(Segment::Stream(Box::new(j)));
    let mut host = MemHost::default();
    send_in(resp, &mut host, true, &()).unwrap();
    assert_eq!(host.header("Content-Length"), None);
}
