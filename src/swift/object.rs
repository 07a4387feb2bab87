//! The object processor: PUT (streamed, verified), GET/HEAD (send-file,
//! ranges), POST (replace metadata), DELETE (tombstone).

use crate::core::constraints::{check_metadata, MAX_FILE_SIZE};
use crate::core::http::{BodyReader, Host, LogLevel, Request, Response, Segment};
use crate::node::expiry;
use crate::node::integrity::{self, Pending, Suspect, Verdict, VerifiedStream, VERIFY_FIRST_MAX};
use crate::node::verify_once::Checked;
use crate::node::vhost::Vhost;
use crate::store::catalog::{ListingEntry, ListingQuery};
use crate::store::objects::{FileState, NewObject, ObjectMeta, OpenObject, PutError};
use crate::store::write::WriteError;
use crate::store::{StoreError, Timestamp};
use crate::swift::conditional::{self, Outcome};
use crate::swift::error::ApiError;
use crate::swift::mime;
use crate::swift::range::{self, ByteRange, RangeOutcome};
use std::io::{self, Read};
use std::sync::Arc;

/// Headers besides `X-Object-Meta-*` that Swift stores with an object and
/// returns on GET/HEAD (its object server's default `allowed_headers`).
/// Like Swift's, a POST replaces all of them. (`X-Object-Manifest` makes
/// the object a DLO manifest: `middleware::dlo`.)
const KEPT_HEADERS: &[&str] = &[
    "content-disposition",
    "content-encoding",
    "x-object-manifest",
    "cache-control",
    "content-language",
    "expires",
    "x-robots-tag",
];

/// An object response, and the check of its object's bytes still to make
/// before it may be sent (a Range GET of a large object): made by `settle`
/// once the read permit is released, so that requests waiting for one
/// check of a large object hold no permit that other GETs need.
pub struct Served {
    pub resp: Response,
    pub pending: Option<Box<Pending>>,
}

impl From<Response> for Served {
    fn from(resp: Response) -> Served {
        Served {
            resp,
            pending: None,
        }
    }
}

/// The methods Swift's proxy allows on an object (its 405's `Allow`).
pub const ALLOW: &str = "DELETE, GET, HEAD, POST, PUT, OPTIONS";

pub fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Served {
    let mut pending = None;
    let result = match req.method {
        "GET" | "HEAD" => get(vh, req, (account, container, object), &mut pending, host),
        "PUT" => put(vh, req, account, container, object, host),
        "POST" => post(vh, req, account, container, object, host),
        "DELETE" => delete(vh, req, (account, container, object), host),
        _ => Err(ApiError::method_not_allowed(ALLOW)),
    };
    Served {
        resp: result.unwrap_or_else(|e| e.respond(host)),
        pending,
    }
}

/// Sends a response only after the check it waits for: itself when the
/// object is good, else 404 (it was quarantined) or the storage error's
/// answer.
pub fn settle(vh: &Vhost, served: Served, host: &mut dyn Host) -> Response {
    let Some(p) = served.pending else {
        return served.resp;
    };
    match p.check(vh, host) {
        Ok(Verdict::Good) => served.resp,
        Ok(Verdict::Quarantined) => ApiError::not_found().respond(host),
        Err(e) => ApiError::from(e).respond(host),
    }
}

fn get(
    vh: &Vhost,
    req: &Request<'_>,
    names: (&str, &str, &str),
    later_check: &mut Option<Box<Pending>>,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let (account, container, object) = names;
    let obj = match open_live(vh, account, container, object) {
        Ok(Some(o)) => o,
        Ok(None) => return Err(missing(req)),
        Err(StoreError::Corrupt { path, detail }) if is_data_file(&path) => {
            integrity::quarantine_unreadable(vh, names, &path, &detail, host)?;
            return Err(missing(req));
        }
        Err(e) => return Err(e.into()),
    };
    let ranges = match plan_read(req, &obj.meta) {
        ReadPlan::Answer(r) => return Ok(r),
        ReadPlan::Whole => None,
        ReadPlan::Ranges(ranges) => Some(ranges),
    };
    let suspect = Suspect::new(names, &obj);
    let large = obj.meta.size > VERIFY_FIRST_MAX;
    // Large whole objects are checked while they stream; everything else
    // that sends bytes is checked first (see `integrity`): ranges of large
    // objects once the permit is released (`settle`), so that
    // requests waiting for one check of a large object hold no permit.
    let known_good = large && matches!(vh.verdicts.known(&obj.file), Some(Checked::Good));
    let stream = ranges.is_none() && large && !known_good;
    let sends = !req.is_head();
    let later = sends && large && !known_good && ranges.is_some();
    let check_now = sends && !stream && !later && !known_good;
    if check_now && integrity::verify_first(vh, &suspect, &obj, host)? == Verdict::Quarantined {
        return Err(ApiError::not_found());
    }
    let meta = obj.meta;
    let file = Arc::new(obj.file);
    let pending = later.then(|| {
        Box::new(Pending {
            file: Arc::clone(&file),
            size: meta.size,
            suspect: suspect.clone(),
        })
    });
    let mut r = match ranges {
        None => {
            let mut r = Response::new(200);
            r.header("Content-Type", meta.content_type.clone());
            r.body.push(if stream {
                Segment::Stream(Box::new(VerifiedStream {
                    file,
                    len: meta.size,
                    suspect,
                }))
            } else {
                Segment::File {
                    file,
                    offset: 0,
                    len: meta.size,
                }
            });
            r
        }
        Some(ranges) => partial(&ranges, &meta, file),
    };
    *later_check = pending;
    r.header("Accept-Ranges", "bytes");
    Ok(with_object_headers(r, &meta))
}

/// What a read of a current object (GET, HEAD, a copy's source) answers
/// before any of its bytes, in swob's order: the conditional answers
/// (304, 412), then Range (416, or the ranges to send). HEAD ignores Range.
pub(crate) enum ReadPlan {
    /// A complete answer, with the object's headers.
    Answer(Response),
    Whole,
    Ranges(Vec<ByteRange>),
}

pub(crate) fn plan_read(req: &Request<'_>, meta: &ObjectMeta) -> ReadPlan {
    let etag = conditional_etag(req, meta);
    match conditional::evaluate(req, etag, last_modified(meta).http_time()) {
        Outcome::Proceed => {}
        Outcome::NotModified => return ReadPlan::Answer(not_modified(meta)),
        Outcome::PreconditionFailed => {
            return ReadPlan::Answer(with_object_headers(precondition_failed(), meta))
        }
    }
    if req.is_head() || wanted_whole(req, meta) {
        return ReadPlan::Whole;
    }
    match range::evaluate(req.header("Range"), meta.size) {
        RangeOutcome::Whole => ReadPlan::Whole,
        RangeOutcome::Partial(ranges) => ReadPlan::Ranges(ranges),
        RangeOutcome::Unsatisfiable => ReadPlan::Answer(unsatisfiable(meta)),
    }
}

/// The header by which a middleware (`dlo`) asks for the whole object,
/// Range unapplied, when it has one of the named metadata headers (Swift's
/// `X-Backend-Ignore-Range-If-Metadata-Present`; a client's `X-Backend-*`
/// never gets this far, `gatekeeper` drops it): the middleware serves the
/// Range of what the object stands for.
pub(crate) const IGNORE_RANGE_IF: &str = "X-Backend-Ignore-Range-If-Metadata-Present";

fn wanted_whole(req: &Request<'_>, meta: &ObjectMeta) -> bool {
    // Every value: each middleware (slo, dlo) adds its own.
    !named_metadata(req, IGNORE_RANGE_IF, meta).is_empty()
}

/// The header by which a middleware (`slo`) has conditions evaluated
/// against a metadata value instead of the object's ETag, when the object
/// has it (Swift's `X-Backend-Etag-Is-At`: an SLO's If-Match is its own
/// ETag's, not its manifest's).
pub(crate) const ETAG_IS_AT: &str = "X-Backend-Etag-Is-At";

fn conditional_etag<'m>(req: &Request<'_>, meta: &'m ObjectMeta) -> &'m str {
    named_metadata(req, ETAG_IS_AT, meta)
        .into_iter()
        .find_map(|v| std::str::from_utf8(v).ok())
        .unwrap_or(&meta.etag)
}

/// The stored metadata values that the request's `header` values name
/// (comma-separated metadata names, every value of the header).
fn named_metadata<'m>(req: &Request<'_>, header: &str, meta: &'m ObjectMeta) -> Vec<&'m [u8]> {
    let mut out = Vec::new();
    for (_, v) in req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(header))
    {
        for name in v.as_str().split(',').map(str::trim) {
            if let Some((_, value)) = meta
                .meta
                .iter()
                .find(|(stored, _)| stored.eq_ignore_ascii_case(name))
            {
                out.push(value.as_slice());
            }
        }
    }
    out
}

/// A read of an object that is not there: 412 when If-Match names `*`
/// (swob), else 404.
pub(crate) fn missing(req: &Request<'_>) -> ApiError {
    if conditional::missing_fails(req) {
        ApiError::from(precondition_failed())
    } else {
        ApiError::not_found()
    }
}

/// Swift's 412 for a failed precondition: no body, swob's default type.
fn precondition_failed() -> Response {
    let mut r = Response::new(412);
    r.header("Content-Type", "text/html; charset=UTF-8");
    r
}

/// Swift's 304: the object's headers and type, no body.
fn not_modified(meta: &ObjectMeta) -> Response {
    let mut r = Response::new(304);
    r.header("Content-Type", meta.content_type.clone())
        .header("Accept-Ranges", "bytes");
    with_object_headers(r, meta)
}

/// Swift's 416: its error page, but under the object's type and headers.
fn unsatisfiable(meta: &ObjectMeta) -> Response {
    let mut r = Response::error(416, "");
    r.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("Content-Type"));
    r.header("Content-Type", meta.content_type.clone())
        .header("Content-Range", format!("bytes */{}", meta.size))
        .header("Accept-Ranges", "bytes");
    with_object_headers(r, meta)
}

/// The headers of a whole read of a current object (a GET's 200), for a
/// middleware that answers for what the object stands for (`dlo`).
pub(crate) fn whole_headers(meta: &ObjectMeta) -> Vec<(String, Vec<u8>)> {
    let mut r = Response::new(200);
    r.header("Content-Type", meta.content_type.clone())
        .header("Accept-Ranges", "bytes");
    with_object_headers(r, meta).headers
}

/// The 206 of a range read: one range, or a multipart/byteranges body.
pub(crate) fn partial(
    ranges: &[ByteRange],
    meta: &ObjectMeta,
    file: Arc<std::fs::File>,
) -> Response {
    if let [br] = ranges {
        let mut r = Response::new(206);
        r.header("Content-Type", meta.content_type.clone());
        r.header("Content-Range", range::content_range(*br, meta.size));
        r.body.push(Segment::File {
            file,
            offset: br.start,
            len: br.len(),
        });
        return r;
    }
    multipart(ranges, meta, file)
}

/// What Last-Modified announces: the newest of the data and its metadata.
fn last_modified(meta: &ObjectMeta) -> Timestamp {
    meta.timestamp.max(meta.meta_timestamp)
}

fn is_data_file(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "data")
}

/// A multipart/byteranges answer (`range::multipart_body`).
fn multipart(ranges: &[ByteRange], meta: &ObjectMeta, file: Arc<std::fs::File>) -> Response {
    let (boundary, body) = range::multipart_body(ranges, meta.size, &meta.content_type, &file);
    let mut r = Response::new(206);
    r.header(
        "Content-Type",
        format!("multipart/byteranges;boundary={boundary}"),
    );
    r.body = body;
    r
}

/// The headers every answer about a current object carries. X-Timestamp is
/// the object's last change, metadata included, as Swift's object server
/// reports the newest file's.
fn with_object_headers(mut r: Response, meta: &ObjectMeta) -> Response {
    let changed = last_modified(meta);
    r.header("ETag", meta.etag.clone())
        .header("Last-Modified", changed.http_date())
        .header("X-Timestamp", changed.normal());
    for (name, value) in &meta.meta {
        r.header_bytes(name, value.clone());
    }
    r
}

/// The current version of an object, unless it has expired: an expired
/// object reads as absent at once, before the sweep reclaims it.
pub(crate) fn open_live(
    vh: &Vhost,
    account: &str,
    container: &str,
    object: &str,
) -> Result<Option<OpenObject>, StoreError> {
    Ok(vh
        .objects
        .open(account, container, object)?
        .filter(|o| !expiry::is_expired(&o.meta)))
}

/// The metadata a PUT or POST stores: `X-Object-Meta-*`, kept headers and
/// the expiry time. Err is Swift's 400 message. Values keep the bytes the
/// client sent, UTF-8 or not, as Swift's object server keeps them.
pub(crate) fn stored_metadata(req: &Request<'_>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut meta = check_metadata(
        req.headers.iter().map(|(n, v)| (n.as_ref(), v.bytes())),
        "object",
    )?;
    for name in KEPT_HEADERS {
        if let Some(v) = req.header_value(name) {
            meta.push((name.to_string(), v.bytes().to_vec()));
        }
    }
    if let Some(at) = expiry::requested_delete_at(req, expiry::now_secs())? {
        meta.push((expiry::DELETE_AT.to_string(), at.to_string().into_bytes()));
    }
    Ok(meta)
}

/// A middleware's word (gatekeeper removes every `X-Backend-*` a client
/// sends) that the PUT's Content-Type carries Swift's own parameters
/// (SLO's `swift_bytes`), as Swift's `swift.content_type_overridden`.
pub const CONTENT_TYPE_OVERRIDDEN: &str = "X-Backend-Content-Type-Overridden";

/// The system metadata a PUT stores as Swift's object server does: the
/// request's `X-Object-Sysmeta-*` and `X-Static-Large-Object`, which only
/// the middlewares can have set (gatekeeper removes a client's sysmeta,
/// `slo` refuses its `X-Static-Large-Object`).
fn system_metadata(req: &Request<'_>) -> Vec<(String, Vec<u8>)> {
    req.headers
        .iter()
        .filter_map(|(n, v)| {
            let name = n.to_ascii_lowercase();
            crate::store::objects::is_datafile_system_meta(&name)
                .then(|| (name, v.bytes().to_vec()))
        })
        .collect()
}

/// The size an SLO manifest lists (its `X-Object-Sysmeta-Slo-Size`).
fn swift_bytes(meta: &[(String, Vec<u8>)]) -> Option<u64> {
    meta.iter()
        .find(|(n, _)| n == "x-object-sysmeta-slo-size")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// The request's Content-Type, None when absent or empty. Err is Swift's
/// 400 body for one that is not UTF-8 (`check_object_creation`; a POST gets
/// it too, see docs/swift-api.md).
pub(crate) fn content_type<'r>(req: &'r Request<'_>) -> Result<Option<&'r str>, &'static str> {
    match req.header_value("Content-Type") {
        Some(ct) if !ct.is_utf8() => Err("Invalid Content-Type"),
        Some(ct) if !ct.as_str().is_empty() => Ok(Some(ct.as_str())),
        _ => Ok(None),
    }
}

/// Swift's DLO check of an `X-Object-Manifest` a PUT (or a copy) sends:
/// `<container>/<prefix>` as sent (not decoded), both non-empty, the prefix
/// not starting with `/`, no `?` or `&`. Err is its 400 body. (A POST is not
/// checked, as in Swift.)
pub(crate) fn check_manifest(value: &str) -> Result<(), &'static str> {
    let ok = match value.split_once('/') {
        Some((c, p)) => !c.is_empty() && !p.is_empty() && !p.starts_with('/'),
        None => false,
    };
    if ok && !value.contains(['?', '&']) {
        Ok(())
    } else {
        Err("X-Object-Manifest must be in the format container/prefix")
    }
}

fn put(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    if req.content_length.is_none() && !req.chunked {
        return Err(ApiError::plain(411, "Missing Content-Length header."));
    }
    if req.content_length.is_some_and(|n| n > MAX_FILE_SIZE) {
        return Err(ApiError::plain(413, TOO_LARGE));
    }
    let requested_type = content_type(req).map_err(ApiError::bad_request)?;
    let mut meta = stored_metadata(req).map_err(ApiError::bad_request)?;
    meta.extend(system_metadata(req));
    if vh.catalog.container_info(account, container)?.is_none() {
        return Err(ApiError::not_found());
    }
    match req.header("If-None-Match") {
        None => {}
        Some(v) if conditional::names_any(v) => match open_live(vh, account, container, object) {
            // Another name's file is no object of this name: the write
            // itself refuses it (`store`).
            Ok(None) | Err(StoreError::NameCollision { .. }) => {}
            Ok(Some(_)) => return Err(ApiError::status_only(412)),
            Err(e) => return Err(e.into()),
        },
        Some(_) => return Err(ApiError::bad_request("If-None-Match only supports *")),
    }
    let content_type = match requested_type {
        Some(ct) if !req.header("X-Detect-Content-Type").is_some_and(is_true) => ct.to_string(),
        _ => mime::guess(object).to_string(),
    };
    if has_swift_param(&content_type) && req.header(CONTENT_TYPE_OVERRIDDEN).is_none() {
        // The proxy's check: swob's default type, not text/plain.
        return Err(ApiError::refused(
            400,
            "Invalid Content-Type, swift_* is not a valid parameter name.",
        ));
    }
    let new = NewObject {
        timestamp: Timestamp::now(),
        content_type,
        meta,
        expected_etag: expected_etag(req),
        max_size: MAX_FILE_SIZE,
    };
    let target = (account, container, object);
    let stored =
        store(vh, target, &new, Source::Client(req.content_length), host).map_err(|e| {
            match e.status() {
                // Swift's 422 tells when the refused write would have been made.
                422 => unprocessable(new.timestamp),
                _ => e,
            }
        })?;
    Ok(created(&stored))
}

/// The ETag a PUT's body must hash to, as Swift's object server compares
/// it: one pair of quotes dropped, then exactly (lower-case hex); an empty
/// one asks for nothing.
fn expected_etag(req: &Request<'_>) -> Option<String> {
    req.header("ETag")
        .map(conditional::normalize_etag)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

/// Swift's proxy refuses `swift_*` Content-Type parameters from clients
/// (they are its own, e.g. SLO's `swift_bytes`).
fn has_swift_param(content_type: &str) -> bool {
    content_type
        .split(';')
        .skip(1)
        .any(|p| p.trim_start().starts_with("swift_"))
}

fn unprocessable(ts: Timestamp) -> ApiError {
    let mut r = Response::error(422, "");
    r.header("Last-Modified", ts.http_date());
    ApiError::from(r)
}

/// Where a new object's bytes come from.
pub(crate) enum Source<'f> {
    /// The request body, with its Content-Length (None: chunked).
    Client(Option<u64>),
    /// The first `len` bytes of an open object file (server-side copy).
    File(&'f std::fs::File, u64),
    /// The body of a range read of an object (a copy with Range): bytes
    /// and file ranges, in order.
    Parts(Vec<Segment>),
    /// `len` bytes of a reader (a copy of a joined large object).
    Read(&'f mut dyn Read, u64),
}

/// Writes a new version and records it in its container (and in the expiry
/// index when it expires), by the store's write protocol
/// (`store::write`). The container must exist.
pub(crate) fn store(
    vh: &Vhost,
    (account, container, object): (&str, &str, &str),
    new: &NewObject,
    source: Source<'_>,
    host: &mut dyn Host,
) -> Result<ObjectMeta, ApiError> {
    let names = [account, container, object];
    // Checkpoints (gate::admission): a writer admitted before the write
    // limit was cut steps back here, before creating its files, and again
    // before its catalog commit, while more writers are at work than the
    // cut limit allows; it holds nothing another request waits for there.
    host.checkpoint();
    let written = vh
        .writer()
        .begin(names, new, new_delete_at(&new.meta))
        .and_then(|mut w| {
            let stored = match source {
                Source::Client(len) => {
                    let mut body = ExactBody {
                        inner: BodyReader::new(host),
                        remaining: len,
                    };
                    w.publish(&mut body, len)?
                }
                Source::File(file, len) => w.publish(&mut file.take(len), Some(len))?,
                Source::Read(r, len) => w.publish(r, Some(len))?,
                Source::Parts(parts) => {
                    let len = parts.iter().map(part_len).sum();
                    w.publish(
                        &mut PartsReader {
                            parts,
                            next: 0,
                            at: 0,
                        },
                        Some(len),
                    )?
                }
            };
            host.checkpoint();
            let mut report = |msg: &str| host.log(LogLevel::Warn, msg);
            w.record(stored, &mut report)
        });
    written.map_err(|e| write_error(host, e))
}

/// After a write: drops the expiry markers of the versions it replaced.
pub(crate) fn settle_markers(vh: &Vhost, names: (&str, &str, &str), host: &mut dyn Host) {
    let mut report = |msg: &str| host.log(LogLevel::Warn, msg);
    vh.writer()
        .settle_markers([names.0, names.1, names.2], &mut report);
}

/// The answer to a write that did not become the current version.
fn write_error(host: &mut dyn Host, e: WriteError) -> ApiError {
    match e {
        // A newer (or same-timestamp) version won: Swift's proxy answers 202.
        WriteError::Superseded => ApiError::from(Response::swob(202)),
        WriteError::ContainerGone => ApiError::not_found(),
        // Another name's object holds the directory: never replaced (Swift's
        // object server answers DiskFileCollision with 403).
        WriteError::Put(PutError::Store(e @ StoreError::NameCollision { .. })) => {
            host.log(LogLevel::Warn, &format!("write refused: {e}"));
            ApiError::status_only(403)
        }
        WriteError::Put(e) => put_error(host, e),
        WriteError::Store(e) => e.into(),
    }
}

fn new_delete_at(meta: &[(String, Vec<u8>)]) -> Option<u64> {
    meta.iter()
        .find(|(n, _)| n == expiry::DELETE_AT)
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// Swift's answer to a successful PUT.
pub(crate) fn created(stored: &ObjectMeta) -> Response {
    let mut r = Response::new(201);
    r.header("ETag", stored.etag.clone())
        .header("Last-Modified", stored.timestamp.http_date());
    r
}

fn part_len(s: &Segment) -> u64 {
    match s {
        Segment::Bytes(b) => b.len() as u64,
        Segment::File { len, .. } => *len,
        Segment::Stream(st) => st.len(),
    }
}

/// Reads a response body made of bytes and file ranges (never a stream:
/// range reads have none), without moving any file's cursor.
struct PartsReader {
    parts: Vec<Segment>,
    /// The part being read and how far into it.
    next: usize,
    at: u64,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(part) = self.parts.get(self.next) else {
                return Ok(0);
            };
            let left = part_len(part) - self.at;
            if left == 0 {
                (self.next, self.at) = (self.next + 1, 0);
                continue;
            }
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = match part {
                Segment::Bytes(b) => {
                    let from = usize::try_from(self.at).unwrap_or(usize::MAX);
                    buf[..want].copy_from_slice(&b[from..from + want]);
                    want
                }
                Segment::File { file, offset, .. } => {
                    match file.read_at(&mut buf[..want], offset + self.at)? {
                        0 => {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "object file shorter than its size",
                            ))
                        }
                        n => n,
                    }
                }
                Segment::Stream(_) => {
                    return Err(io::Error::other("a streamed body cannot be copied"))
                }
            };
            self.at += n as u64;
            return Ok(n);
        }
    }
}

/// The request body, held to its Content-Length: a body that ends early is
/// an error (Swift: 499), never a shorter object.
struct ExactBody<R> {
    inner: R,
    /// Bytes still promised by Content-Length (None: chunked).
    remaining: Option<u64>,
}

impl<R: Read> Read for ExactBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = match self.remaining {
            // Still ask the host, so it sees the end of the body (Apache
            // needs that to keep the connection alive).
            Some(0) => {
                let mut probe = [0u8; 1];
                return match self.inner.read(&mut probe)? {
                    0 => Ok(0),
                    _ => Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "body longer than its Content-Length",
                    )),
                };
            }
            Some(n) => buf.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..want])?;
        if let Some(rem) = self.remaining.as_mut() {
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("body ended {rem} bytes short"),
                ));
            }
            *rem -= n as u64;
        }
        Ok(n)
    }
}

/// Swift's 413 body.
const TOO_LARGE: &str = "Your request is too large.";

/// The answer to a write the object store refused; a body that broke off
/// is logged (at info: the client's doing).
fn put_error(host: &mut dyn Host, e: PutError) -> ApiError {
    match e {
        // Swift's default 422 body.
        PutError::EtagMismatch { .. } => ApiError::status_only(422),
        PutError::TooLarge => ApiError::plain(413, TOO_LARGE),
        PutError::Conflict => ApiError::status_only(409),
        PutError::BodyRead(err) if err.kind() == io::ErrorKind::TimedOut => {
            host.log(LogLevel::Info, &format!("request body timed out: {err}"));
            // Swift's proxy answers a client_timeout with 408.
            ApiError::status_only(408)
        }
        PutError::BodyRead(err) => {
            host.log(
                LogLevel::Info,
                &format!("client disconnected while sending the body: {err}"),
            );
            ApiError::status_only(499)
        }
        PutError::Store(err) => err.into(),
    }
}

fn post(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let content_type = content_type(req).map_err(ApiError::bad_request)?;
    let meta = stored_metadata(req).map_err(ApiError::bad_request)?;
    // An expired object is gone for POST too (and its expiry cannot be
    // lifted): Swift answers 404.
    if open_live(vh, account, container, object)?.is_none() {
        return Err(ApiError::not_found());
    }
    let ts = Timestamp::now();
    let marker = match new_delete_at(&meta) {
        Some(at) => Some(vh.expiring.add(at, ts, account, container, object)?),
        None => None,
    };
    let posted = vh
        .objects
        .post(account, container, object, ts, content_type, &meta);
    if let Ok(Some(updated)) = &posted {
        settle_markers(vh, (account, container, object), host);
        // The listing shows the POST's time and a new type too (Swift's
        // POST updates the container). The metadata is stored: a failure
        // here leaves only the listing behind, as a lost container update
        // would.
        // A new type keeps the data's `swift_bytes` (an SLO's size) in the
        // listing, as Swift's object server sends it with the update.
        let listed_type = content_type.map(|_| match swift_bytes(&updated.meta) {
            Some(n) => format!("{};swift_bytes={n}", updated.content_type),
            None => updated.content_type.clone(),
        });
        let listed = vh.catalog.object_posted(
            account,
            container,
            object,
            updated.timestamp,
            ts,
            listed_type.as_deref(),
        );
        if let Err(e) = listed {
            host.log(LogLevel::Warn, &format!("listing row after POST: {e}"));
        }
    } else if let Some(m) = &marker {
        // 404, 409 or an error: this metadata is not the object's.
        vh.expiring
            .withdraw(&vh.objects, m, [account, container, object]);
    }
    match posted {
        Ok(Some(_)) => Ok(Response::swob(202)),
        Ok(None) => Err(ApiError::not_found()),
        Err(e) => Err(put_error(host, e)),
    }
}

fn delete(
    vh: &Vhost,
    req: &Request<'_>,
    names: (&str, &str, &str),
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let condition = match req.header("X-If-Delete-At") {
        Some(v) => Some(if_delete_at(vh, names, v)?),
        None => None,
    };
    let done = delete_now(vh, names, host);
    match done {
        // The expirer's kind of DELETE: an object whose delete-at time was
        // named is deleted even when it has expired already (Swift: 204).
        Err(e) if condition.is_some() && e.status() == 404 => Ok(Response::new(204)),
        other => other,
    }
}

/// Checks an `X-If-Delete-At` as Swift's object server does, after its
/// proxy found the container: 400 when it is no timestamp, 404 when the
/// object never existed, 412 when the object's delete-at time (none is
/// 0) is another.
fn if_delete_at(vh: &Vhost, (a, c, o): (&str, &str, &str), value: &str) -> Result<(), ApiError> {
    if vh.catalog.container_info(a, c)?.is_none() {
        return Err(ApiError::not_found());
    }
    let wanted = expiry::parse_if_delete_at(value)
        .ok_or_else(|| ApiError::refused(400, "Bad X-If-Delete-At header value"))?;
    let matches = match vh.objects.state(a, c, o)? {
        FileState::Absent => return Err(ApiError::not_found()),
        FileState::Deleted(_) => wanted == (0, 0),
        FileState::Live(meta) => expiry::if_delete_at_matches(&meta, wanted),
    };
    if matches {
        Ok(())
    } else {
        Err(ApiError::refused(
            412,
            "X-If-Delete-At and X-Delete-At do not match",
        ))
    }
}

fn delete_now(
    vh: &Vhost,
    (account, container, object): (&str, &str, &str),
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let ts = Timestamp::now();
    // Tombstone first, row second: a crash in between is repaired by recovery.
    let intent = vh
        .intents
        .begin_or_untracked(&[account, container, object])?;
    let expired = match vh.objects.delete(account, container, object, ts) {
        Ok(Some(old)) => expiry::is_expired(&old),
        Ok(None) => {
            // One step only (a row, no file): nothing for recovery.
            let dropped = drop_stranded_row(vh, (account, container, object), ts);
            intent.settle();
            dropped?;
            return Err(ApiError::not_found());
        }
        Err(PutError::Conflict) => {
            intent.settle();
            return Err(put_error(host, PutError::Conflict));
        }
        // Another name's object: nothing of this name to delete (404).
        Err(PutError::Store(e @ StoreError::NameCollision { .. })) => {
            intent.settle();
            return Err(e.into());
        }
        Err(e) => return Err(put_error(host, e)),
    };
    settle_markers(vh, (account, container, object), host);
    // The files are gone; if the row cannot be dropped, the intent stays
    // for recovery, and a retried DELETE drops the row too.
    vh.catalog.object_delete(account, container, object, ts)?;
    intent.settle();
    if expired {
        // Deleting an expired object reclaims it, but it was already gone.
        Err(ApiError::not_found())
    } else {
        Ok(Response::new(204))
    }
}

/// A DELETE of an object no longer on disk (its answer is 404): if its
/// container still lists it (an earlier DELETE removed the files but could
/// not record that, e.g. on a full disk), the row is dropped now, so a
/// retried DELETE repairs the listing and counts.
fn drop_stranded_row(
    vh: &Vhost,
    (account, container, object): (&str, &str, &str),
    ts: Timestamp,
) -> Result<(), StoreError> {
    let q = ListingQuery {
        prefix: object.to_string(),
        limit: 1,
        ..ListingQuery::default()
    };
    let listed = match vh.catalog.list_objects(account, container, &q)? {
        Some(rows) => matches!(rows.first(), Some(ListingEntry::Item(r)) if r.name == object),
        None => false,
    };
    if listed {
        vh.catalog.object_delete(account, container, object, ts)?;
    }
    Ok(())
}

fn is_true(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn swift_params_are_found_as_swift_finds_them() {
        assert!(has_swift_param("text/plain;swift_bytes=5"));
        assert!(has_swift_param("text/plain; charset=x;  swift_y=1"));
        assert!(!has_swift_param("text/swift_bytes"));
        assert!(!has_swift_param("text/plain;xswift_a=1"));
        assert!(!has_swift_param("text/plain"));
    }

    #[test]
    fn parts_read_in_order_without_moving_the_file() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let file = Arc::new(f);
        let parts = vec![
            Segment::Bytes(b"<".to_vec()),
            Segment::File {
                file: Arc::clone(&file),
                offset: 2,
                len: 3,
            },
            Segment::Bytes(Vec::new()),
            Segment::File {
                file,
                offset: 8,
                len: 2,
            },
            Segment::Bytes(b">".to_vec()),
        ];
        let mut out = Vec::new();
        let mut r = PartsReader {
            parts,
            next: 0,
            at: 0,
        };
        let mut buf = [0u8; 2];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"<23489>");
    }
}
