//! `PUT ?multipart-manifest=put`, as Swift's `handle_multipart_put`: the
//! body (at most `max_manifest_size`) is the client's segment list; its
//! shape is checked, every segment is HEADed as the caller, and only when
//! all match is the manifest stored, by a PUT through the rest of the
//! pipeline (so access, the container, metadata and expiry are checked as
//! for any PUT). Nothing is stored when anything fails.
//!
//! `heartbeat=on`: as Swift, 202 and a space at once, the checks while the
//! body is sent with a space every `yield_frequency` (`swift::heartbeat`),
//! then the results body (`Response Status`, ...).

use super::manifest::{self, Input, Stored, MAX_MANIFEST_SEGMENTS, MAX_MANIFEST_SIZE};
use super::{
    header, is_slo, sub_request, subrequest, Unsized, WithBody, SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE,
};
use crate::core::http::{reason, swob_page, Host, Request, Response, Segment};
use crate::core::owned_request::OwnedRequest;
use crate::store::objects::LISTING_ETAG_OVERRIDE;
use crate::store::Timestamp;
use crate::swift::bulk_results::{self, OutFormat, Results, Value};
use crate::swift::conditional::normalize_etag;
use crate::swift::heartbeat::{Deferred, Heartbeat, Work};
use crate::swift::middleware::{Env, Next};
use crate::swift::mime;
use crate::swift::object::CONTENT_TYPE_OVERRIDDEN;
use md5::{Digest, Md5};
use std::borrow::Cow;
use std::io;

pub(super) fn handle(
    env: &mut Env<'_>,
    req: &Request<'_>,
    (account, container, object): (&str, &str, &str),
    host: &mut dyn Host,
    next: Next,
) -> Response {
    if req.content_length.is_none() && !req.chunked {
        return Response::swob(411);
    }
    let too_large = || Response::error(413, &format!("Manifest File > {MAX_MANIFEST_SIZE} bytes"));
    if req.content_length.is_some_and(|n| n > MAX_MANIFEST_SIZE) {
        return too_large();
    }
    let body = match read_limited(host, MAX_MANIFEST_SIZE + 1) {
        Ok(b) => b,
        Err(e) => {
            host.log(
                crate::core::http::LogLevel::Info,
                &format!("client disconnected while sending the manifest: {e}"),
            );
            return Response::swob(499);
        }
    };
    if body.len() as u64 > MAX_MANIFEST_SIZE {
        return too_large();
    }
    let input = match manifest::parse_input(&body, (container, object)) {
        Ok(i) => i,
        // The list's own faults are plain text; a body that is no list,
        // swob's default type.
        Err(msg) if msg.starts_with("Index ") || msg.starts_with("Inline") => {
            return Response::text(400, msg)
        }
        Err(msg) => return Response::error(400, &msg),
    };
    let objects = input
        .iter()
        .filter(|s| matches!(s, Input::Object { .. }))
        .count();
    if objects > MAX_MANIFEST_SEGMENTS {
        return Response::error(
            413,
            &format!("Number of object-backed segments must be <= {MAX_MANIFEST_SEGMENTS}"),
        );
    }
    let format = OutFormat::from_accept(req.header("Accept")).unwrap_or(OutFormat::Plain);
    let heartbeat = env.query(req).is_ok_and(|q| q.flag("heartbeat"));
    if heartbeat {
        return answer_while_checking(env, req, (account, object), input, format, next);
    }
    match decide(env, req, (account, object), &input, host, next, &mut None) {
        Ok(answer) => plain_answer(answer, format),
        // Only a heartbeat's write fails here, and there is none.
        Err(_) => Response::swob(499),
    }
}

/// Checks the segments and, when they all check out, stores the manifest.
/// With a heartbeat, one goes out after each segment's HEAD when it is
/// due; an error is the client gone.
fn decide(
    env: &mut Env<'_>,
    req: &Request<'_>,
    (account, object): (&str, &str),
    input: &[Input],
    host: &mut dyn Host,
    next: Next,
    heartbeat: &mut Option<Heartbeat>,
) -> io::Result<Outcome> {
    let checked = check_segments(env, req, account, input, host, next, heartbeat)?;
    Ok(match checked {
        Err(problems) => Outcome::Problems(problems),
        Ok(segments) => {
            let slo_etag = manifest::slo_etag(&segments);
            let wanted = req.header("Etag").map(normalize_etag).unwrap_or_default();
            if !wanted.is_empty() && wanted != slo_etag {
                Outcome::Refused(422)
            } else {
                Outcome::Stored(store(env, req, object, &segments, &slo_etag, host, next))
            }
        }
    })
}

/// `heartbeat=on`, as Swift: 202 and a space at once, the checks and the
/// manifest's PUT while the body is sent (a space after a segment's HEAD
/// every `yield_frequency`), then the results with the real status inside.
fn answer_while_checking(
    env: &Env<'_>,
    req: &Request<'_>,
    (account, object): (&str, &str),
    input: Vec<Input>,
    format: OutFormat,
    next: Next,
) -> Response {
    let caller_req = OwnedRequest::of(req);
    let caller = env.caller.clone();
    let refused = env.refused_once_authorized;
    let (account, object) = (account.to_string(), object.to_string());
    let work: Work = Box::new(move |host, vh| {
        let req = caller_req.as_request();
        let mut env = Env::new(vh);
        env.caller = caller;
        env.refused_once_authorized = refused;
        let mut beat = Heartbeat::new(&req, b" ");
        beat.beat(host)?;
        let mut heartbeat = Some(beat);
        let outcome = decide(
            &mut env,
            &req,
            (&account, &object),
            &input,
            host,
            next,
            &mut heartbeat,
        )?;
        let body = heartbeat_results(outcome, format);
        match heartbeat {
            Some(beat) => beat.finish(host, &body),
            None => host.write(&body),
        }
    });
    let mut r = Response::new(202);
    r.header("Content-Type", format.content_type());
    r.body.push(Segment::Stream(Box::new(Deferred::new(work))));
    r
}

/// The segments to store, or those that did not check out: (quoted path,
/// what was wrong).
type Checked = Result<Vec<Stored>, Vec<(String, String)>>;

enum Outcome {
    /// Segments that did not check out: (quoted path, what was wrong).
    Problems(Vec<(String, String)>),
    /// Refused with swob's page for the status.
    Refused(u16),
    /// The manifest PUT's own answer.
    Stored(Response),
}

fn plain_answer(outcome: Outcome, format: OutFormat) -> Response {
    match outcome {
        Outcome::Problems(problems) => {
            let mut results = Results::empty();
            results.errors = problems;
            let mut r = Response::new(400);
            r.header("Content-Type", format.content_type());
            let body = results.render(Some(format), "upload");
            r.body.push(Segment::Stream(Box::new(Unsized(body))));
            r
        }
        Outcome::Refused(status) => Response::swob(status),
        Outcome::Stored(r) => r,
    }
}

/// The results body of a heartbeat answer, the real status inside.
fn heartbeat_results(outcome: Outcome, format: OutFormat) -> Vec<u8> {
    let mut results = Results::empty();
    let page_text = |status: u16| {
        swob_page(status).map_or_else(String::new, |_| {
            format!("{}\n{}", reason(status), explanation(status))
        })
    };
    match outcome {
        Outcome::Problems(problems) => {
            results.set_status(400);
            results.set_body(&page_text(400));
            results.errors = problems;
        }
        Outcome::Refused(status) => {
            results.set_status(status);
            results.set_body(&page_text(status));
        }
        Outcome::Stored(r) => {
            results.set_status(r.status);
            if (200..300).contains(&r.status) {
                let etag = header(&r, "ETag").unwrap_or_default().to_string();
                let modified = header(&r, "Last-Modified").unwrap_or_default().to_string();
                results.set("Etag", Value::Str(etag));
                results.set("Last Modified", Value::Str(modified));
            }
            let mut bytes = Vec::new();
            for seg in &r.body {
                if let Segment::Bytes(b) = seg {
                    bytes.extend_from_slice(b);
                }
            }
            let body = String::from_utf8_lossy(&bytes).into_owned();
            results.set_body(&body);
        }
    }
    results.render(Some(format), "upload")
}

/// The explanation line of swob's page for a status.
fn explanation(status: u16) -> String {
    swob_page(status)
        .and_then(|p| {
            let start = p.find("<p>")? + 3;
            let end = p.find("</p>")?;
            Some(p[start..end].to_string())
        })
        .unwrap_or_default()
}

/// Reads the request body, at most `limit` bytes.
fn read_limited(host: &mut dyn Host, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while (out.len() as u64) < limit {
        let want = buf
            .len()
            .min(usize::try_from(limit - out.len() as u64).unwrap_or(usize::MAX));
        let n = host.read_body(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// What a segment's HEAD told.
struct Head {
    status: u16,
    size: u64,
    etag: String,
    content_type: String,
    last_modified: String,
    sub_slo: bool,
}

/// HEADs each distinct segment as the caller (through the rest of the
/// pipeline; a nested SLO answers with its own size and ETag) and checks
/// every entry against what it found, as Swift's `validate_seg_dict`.
fn check_segments(
    env: &Env<'_>,
    req: &Request<'_>,
    account: &str,
    input: &[Input],
    host: &mut dyn Host,
    next: Next,
    heartbeat: &mut Option<Heartbeat>,
) -> io::Result<Checked> {
    let mut heads: Vec<(String, Head)> = Vec::new();
    for seg in input {
        if let Input::Object { path, .. } = seg {
            if !heads.iter().any(|(p, _)| p == path) {
                let head = head(env, req, account, path, host, next);
                heads.push((path.clone(), head));
                if let Some(beat) = heartbeat.as_mut() {
                    beat.tick(host)?;
                }
            }
        }
    }
    let last = input.len().saturating_sub(1);
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, seg) in input.iter().enumerate() {
        let (path, etag, size_bytes, range) = match seg {
            Input::Data(d) => {
                out.push(Stored::Data(d.clone()));
                continue;
            }
            Input::Object {
                path,
                etag,
                size_bytes,
                range,
            } => (path, etag, size_bytes, range),
        };
        let Some((_, h)) = heads.iter().find(|(p, _)| p == path) else {
            continue;
        };
        let quoted = bulk_results::quote(path.as_bytes());
        if !(200..300).contains(&h.status) {
            problems.push((quoted, bulk_results::status_line(h.status)));
            continue;
        }
        let mut length = h.size;
        let mut kept_range = None;
        if let Some(spec) = range {
            match manifest::resolve(*spec, h.size) {
                None => problems.push((quoted.clone(), "Unsatisfiable Range".into())),
                Some((0, end)) if end == h.size => {}
                Some((a, b)) => {
                    kept_range = Some((a, b - 1));
                    length = b - a;
                }
            }
        }
        if length < 1 && i != last {
            problems.push((
                quoted.clone(),
                "Too small; each segment must be at least 1 byte.".into(),
            ));
        }
        if size_bytes.is_some_and(|n| n != i128::from(h.size)) {
            problems.push((quoted.clone(), "Size Mismatch".into()));
        }
        if etag.as_ref().is_some_and(|e| *e != h.etag) {
            problems.push((quoted, "Etag Mismatch".into()));
        }
        out.push(Stored::Object {
            name: format!("/{}", path.trim_start_matches('/')),
            bytes: h.size,
            hash: h.etag.clone(),
            content_type: h.content_type.clone(),
            last_modified: h.last_modified.clone(),
            range: kept_range,
            sub_slo: h.sub_slo,
        });
    }
    Ok(if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    })
}

fn head(
    env: &Env<'_>,
    req: &Request<'_>,
    account: &str,
    path: &str,
    host: &mut dyn Host,
    next: Next,
) -> Head {
    let sub = sub_request(req, "HEAD", account, path.trim_start_matches('/'));
    let resp = subrequest(env, &sub, host, next);
    let sub_slo = is_slo(&resp);
    let sysmeta = |name: &str| header(&resp, name).map(str::to_string);
    let (size, etag) = match (
        sub_slo,
        sysmeta(SYSMETA_SLO_SIZE),
        sysmeta(SYSMETA_SLO_ETAG),
    ) {
        (true, Some(size), Some(etag)) => (size.parse().unwrap_or(0), etag),
        _ => (
            header(&resp, "Content-Length")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| resp.body_len()),
            header(&resp, "ETag").unwrap_or_default().replace('"', ""),
        ),
    };
    let content_type = header(&resp, "Content-Type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let modified = header(&resp, "Last-Modified")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(Timestamp::now, |d| {
            Timestamp::from_units(d.as_secs() * 100_000)
        });
    Head {
        status: resp.status,
        size,
        etag,
        content_type,
        last_modified: modified.iso8601(),
        sub_slo,
    }
}

/// Stores the manifest by a PUT through the rest of the pipeline: Swift's
/// internal JSON as the body, the SLO flag, its ETag and size as sysmeta,
/// the listing's hash and size, and answers with the SLO's quoted ETag.
fn store(
    env: &mut Env<'_>,
    req: &Request<'_>,
    object: &str,
    segments: &[Stored],
    slo_etag: &str,
    host: &mut dyn Host,
    next: Next,
) -> Response {
    let json = manifest::to_stored_json(segments);
    let json_md5 = crate::core::hex::hex(&Md5::digest(&json));
    let total = manifest::total_size(segments);
    let content_type = match req.header("Content-Type").filter(|t| !t.is_empty()) {
        Some(t) => t.to_string(),
        None => mime::guess(object).to_string(),
    };
    let dropped = [
        "Content-Length",
        "Transfer-Encoding",
        "Etag",
        "Content-Type",
        "X-Detect-Content-Type",
        "X-Static-Large-Object",
    ];
    let mut headers: Vec<(Cow<'_, str>, crate::core::http::HeaderValue<'_>)> = req
        .headers
        .iter()
        .filter(|(n, _)| !dropped.iter().any(|d| n.eq_ignore_ascii_case(d)))
        .cloned()
        .collect();
    let mut add = |name: &'static str, value: String| headers.push((name.into(), value.into()));
    add(
        "Content-Type",
        format!("{content_type};swift_bytes={total}"),
    );
    add(CONTENT_TYPE_OVERRIDDEN, "true".into());
    add("X-Static-Large-Object", "True".into());
    add(SYSMETA_SLO_ETAG, slo_etag.to_string());
    add(SYSMETA_SLO_SIZE, total.to_string());
    add(
        LISTING_ETAG_OVERRIDE,
        format!("{json_md5}; slo_etag={slo_etag}"),
    );
    add("Etag", json_md5);
    let put = Request {
        headers,
        content_length: Some(json.len() as u64),
        chunked: false,
        ..req.clone()
    };
    let mut with_body = WithBody {
        inner: host,
        body: io::Cursor::new(json),
    };
    let mut resp = next.run(env, &put, &mut with_body);
    if (200..300).contains(&resp.status) {
        resp.remove_header("ETag");
        resp.header("ETag", format!("\"{slo_etag}\""));
    }
    resp
}
