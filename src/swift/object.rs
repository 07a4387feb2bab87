//! The object processor: PUT (streamed, verified), GET/HEAD (send-file,
//! ranges), POST (replace metadata), DELETE (tombstone).

use crate::core::constraints::{check_metadata, MAX_FILE_SIZE};
use crate::core::http::{BodyReader, Host, LogLevel, Request, Response, Segment};
use crate::node::expiry;
use crate::node::integrity::{self, Pending, Suspect, Verdict, VerifiedStream, VERIFY_FIRST_MAX};
use crate::node::verify_once::Checked;
use crate::node::vhost::Vhost;
use crate::store::catalog::{ListingEntry, ListingQuery};
use crate::store::objects::{NewObject, ObjectMeta, OpenObject, PutError};
use crate::store::write::WriteError;
use crate::store::{StoreError, Timestamp};
use crate::swift::conditional::{self, Outcome};
use crate::swift::error::storage_error;
use crate::swift::range::{self, ByteRange, RangeOutcome};
use std::io::{self, Read};
use std::sync::Arc;

/// Headers besides `X-Object-Meta-*` that Swift stores with an object and
/// returns on GET/HEAD. Like Swift's, a POST replaces all of them.
/// (`X-Object-Manifest` is only kept: DLO reads are not implemented.)
const KEPT_HEADERS: &[&str] = &[
    "content-disposition",
    "content-encoding",
    "x-object-manifest",
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

pub fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Served {
    let mut pending = None;
    let resp = match req.method {
        "GET" | "HEAD" => get(vh, req, (account, container, object), &mut pending, host),
        "PUT" => put(vh, req, account, container, object, host),
        "POST" => post(vh, req, account, container, object, host),
        "DELETE" => delete(vh, account, container, object, host),
        _ => Response::error(405, ""),
    };
    Served { resp, pending }
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
        Ok(Verdict::Quarantined) => Response::error(404, ""),
        Err(e) => storage_error(host, &e),
    }
}

fn get(
    vh: &Vhost,
    req: &Request<'_>,
    names: (&str, &str, &str),
    later_check: &mut Option<Box<Pending>>,
    host: &mut dyn Host,
) -> Response {
    let (account, container, object) = names;
    let obj = match open_live(vh, account, container, object) {
        Ok(Some(o)) => o,
        Ok(None) => return Response::error(404, ""),
        Err(StoreError::Corrupt { path, detail }) if is_data_file(&path) => {
            return match integrity::quarantine_unreadable(vh, names, &path, &detail, host) {
                Ok(()) => Response::error(404, ""),
                Err(e) => storage_error(host, &e),
            };
        }
        Err(e) => return storage_error(host, &e),
    };
    let last_modified = obj.meta.timestamp.max(obj.meta.meta_timestamp).http_time();
    match conditional::evaluate(req, &obj.meta.etag, last_modified) {
        Outcome::Proceed => {}
        Outcome::NotModified => return with_object_headers(Response::new(304), &obj.meta),
        Outcome::PreconditionFailed => {
            return with_object_headers(Response::error(412, ""), &obj.meta)
        }
    }
    let range = range::evaluate(req.header("Range"), obj.meta.size);
    let suspect = Suspect::new(names, &obj);
    let large = obj.meta.size > VERIFY_FIRST_MAX;
    // Large whole objects are checked while they stream; everything else
    // that sends bytes is checked first (see `integrity`): ranges of large
    // objects once the permit is released (`settle`), so that
    // requests waiting for one check of a large object hold no permit.
    let known_good = large && matches!(vh.verdicts.known(&obj.file), Some(Checked::Good));
    let stream = matches!(range, RangeOutcome::Whole) && large && !known_good;
    let sends = !req.is_head() && !matches!(range, RangeOutcome::Unsatisfiable);
    let later = sends && large && !known_good && matches!(range, RangeOutcome::Partial(_));
    if sends && !stream && !later && !known_good {
        match integrity::verify_first(vh, &suspect, &obj, host) {
            Ok(Verdict::Good) => {}
            Ok(Verdict::Quarantined) => return Response::error(404, ""),
            Err(e) => return storage_error(host, &e),
        }
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
    let mut r = match range {
        RangeOutcome::Whole => {
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
        RangeOutcome::Unsatisfiable => {
            let mut r = Response::error(416, "");
            r.header("Content-Range", format!("bytes */{}", meta.size));
            return with_object_headers(r, &meta);
        }
        RangeOutcome::Partial(ranges) if ranges.len() == 1 => {
            let br = ranges[0];
            let mut r = Response::new(206);
            r.header("Content-Type", meta.content_type.clone());
            r.header("Content-Range", content_range(br, meta.size));
            r.body.push(Segment::File {
                file,
                offset: br.start,
                len: br.len(),
            });
            r
        }
        RangeOutcome::Partial(ranges) => multipart(&ranges, &meta, file),
    };
    *later_check = pending;
    r.header("Accept-Ranges", "bytes");
    with_object_headers(r, &meta)
}

fn is_data_file(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "data")
}

fn content_range(br: ByteRange, size: u64) -> String {
    format!("bytes {}-{}/{size}", br.start, br.end - 1)
}

/// A multipart/byteranges body: each part is framed by a small header and
/// still sent from the file through the host.
fn multipart(ranges: &[ByteRange], meta: &ObjectMeta, file: Arc<std::fs::File>) -> Response {
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    let boundary = crate::core::hex::hex(&raw);
    let mut r = Response::new(206);
    r.header(
        "Content-Type",
        format!("multipart/byteranges;boundary={boundary}"),
    );
    for (i, br) in ranges.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{lead}--{boundary}\r\nContent-Type: {}\r\nContent-Range: {}\r\n\r\n",
            meta.content_type,
            content_range(*br, meta.size)
        );
        r.body.push(Segment::Bytes(head.into_bytes()));
        r.body.push(Segment::File {
            file: Arc::clone(&file),
            offset: br.start,
            len: br.len(),
        });
    }
    r.body
        .push(Segment::Bytes(format!("\r\n--{boundary}--").into_bytes()));
    r
}

fn with_object_headers(mut r: Response, meta: &ObjectMeta) -> Response {
    r.header("ETag", meta.etag.clone())
        .header(
            "Last-Modified",
            meta.timestamp.max(meta.meta_timestamp).http_date(),
        )
        .header("X-Timestamp", meta.timestamp.normal());
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
    if let Some(m) = req.header("X-Object-Manifest") {
        check_manifest(m)?;
    }
    if let Some(at) = expiry::requested_delete_at(req, expiry::now_secs())? {
        meta.push((expiry::DELETE_AT.to_string(), at.to_string().into_bytes()));
    }
    Ok(meta)
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

/// Swift's DLO check of the value's shape: `<container>/<prefix>`.
fn check_manifest(value: &str) -> Result<(), String> {
    let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
    let ok = match decoded.split_once('/') {
        Some((c, p)) => !c.is_empty() && !p.is_empty() && !p.starts_with('/'),
        None => false,
    };
    if ok && !value.contains(['?', '&']) {
        Ok(())
    } else {
        Err("X-Object-Manifest must be in the format container/prefix".into())
    }
}

fn put(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Response {
    if req.content_length.is_none() && !req.chunked {
        return Response::error(411, "");
    }
    if req.content_length.is_some_and(|n| n > MAX_FILE_SIZE) {
        return Response::error(413, "Your request is too large.");
    }
    let requested_type = match content_type(req) {
        Ok(ct) => ct,
        Err(msg) => return Response::error(400, msg),
    };
    let meta = match stored_metadata(req) {
        Ok(m) => m,
        Err(msg) => return Response::error(400, &msg),
    };
    match vh.catalog.container_info(account, container) {
        Ok(Some(_)) => {}
        Ok(None) => return Response::error(404, ""),
        Err(e) => return storage_error(host, &e),
    }
    match req.header("If-None-Match").map(str::trim) {
        None => {}
        Some("*") => match open_live(vh, account, container, object) {
            // Another name's file is no object of this name: the write
            // itself refuses it (`store`).
            Ok(None) | Err(StoreError::NameCollision { .. }) => {}
            Ok(Some(_)) => return Response::error(412, ""),
            Err(e) => return storage_error(host, &e),
        },
        Some(_) => return Response::error(400, "If-None-Match only supports *"),
    }
    let content_type = match requested_type {
        Some(ct) if !req.header("X-Detect-Content-Type").is_some_and(is_true) => ct.to_string(),
        _ => guess_content_type(object).to_string(),
    };
    let new = NewObject {
        timestamp: Timestamp::now(),
        content_type,
        meta,
        expected_etag: req.header("ETag").map(str::to_string),
        max_size: MAX_FILE_SIZE,
    };
    let target = (account, container, object);
    match store(vh, target, &new, Source::Client(req.content_length), host) {
        Ok(stored) => created(&stored),
        Err(resp) => resp,
    }
}

/// Where a new object's bytes come from.
pub(crate) enum Source<'f> {
    /// The request body, with its Content-Length (None: chunked).
    Client(Option<u64>),
    /// The first `len` bytes of an open object file (server-side copy).
    File(&'f std::fs::File, u64),
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
) -> Result<ObjectMeta, Response> {
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
fn write_error(host: &mut dyn Host, e: WriteError) -> Response {
    match e {
        // A newer (or same-timestamp) version won: Swift's proxy answers 202.
        WriteError::Superseded => Response::new(202),
        WriteError::ContainerGone => Response::error(404, ""),
        // Another name's object holds the directory: never replaced (Swift's
        // object server answers DiskFileCollision with 403).
        WriteError::Put(PutError::Store(e @ StoreError::NameCollision { .. })) => {
            host.log(LogLevel::Warn, &format!("write refused: {e}"));
            Response::error(403, "")
        }
        WriteError::Put(e) => put_error(host, e),
        WriteError::Store(e) => storage_error(host, &e),
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
        .header("Last-Modified", stored.timestamp.http_date())
        .header("X-Timestamp", stored.timestamp.normal());
    r
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

pub(crate) fn put_error(host: &mut dyn Host, e: PutError) -> Response {
    match e {
        PutError::EtagMismatch { .. } => {
            Response::error(422, "The provided ETag does not match the data received.")
        }
        PutError::TooLarge => Response::error(413, "Your request is too large."),
        PutError::Conflict => Response::error(409, ""),
        PutError::BodyRead(err) if err.kind() == io::ErrorKind::TimedOut => {
            host.log(LogLevel::Info, &format!("request body timed out: {err}"));
            // Swift's proxy answers a client_timeout with 408.
            Response::error(408, "")
        }
        PutError::BodyRead(err) => {
            host.log(
                LogLevel::Info,
                &format!("client disconnected while sending the body: {err}"),
            );
            Response::error(499, "")
        }
        PutError::Store(err) => storage_error(host, &err),
    }
}

fn post(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Response {
    let content_type = match content_type(req) {
        Ok(ct) => ct,
        Err(msg) => return Response::error(400, msg),
    };
    let meta = match stored_metadata(req) {
        Ok(m) => m,
        Err(msg) => return Response::error(400, &msg),
    };
    // An expired object is gone for POST too (and its expiry cannot be
    // lifted): Swift answers 404.
    match open_live(vh, account, container, object) {
        Ok(Some(_)) => {}
        Ok(None) => return Response::error(404, ""),
        Err(e) => return storage_error(host, &e),
    }
    let ts = Timestamp::now();
    let marker = match new_delete_at(&meta) {
        Some(at) => match vh.expiring.add(at, ts, account, container, object) {
            Ok(m) => Some(m),
            Err(e) => return storage_error(host, &e),
        },
        None => None,
    };
    let posted = vh
        .objects
        .post(account, container, object, ts, content_type, &meta);
    if let Ok(Some(_)) = posted {
        settle_markers(vh, (account, container, object), host);
    } else if let Some(m) = &marker {
        // 404, 409 or an error: this metadata is not the object's.
        vh.expiring
            .withdraw(&vh.objects, m, [account, container, object]);
    }
    match posted {
        Ok(Some(_)) => Response::new(202),
        Ok(None) => Response::error(404, ""),
        Err(e) => put_error(host, e),
    }
}

fn delete(
    vh: &Vhost,
    account: &str,
    container: &str,
    object: &str,
    host: &mut dyn Host,
) -> Response {
    let ts = Timestamp::now();
    // Tombstone first, row second: a crash in between is repaired by recovery.
    let intent = match vh.intents.begin_or_untracked(&[account, container, object]) {
        Ok(i) => i,
        Err(e) => return storage_error(host, &e),
    };
    let expired = match vh.objects.delete(account, container, object, ts) {
        Ok(Some(old)) => expiry::is_expired(&old),
        Ok(None) => {
            // One step only (a row, no file): nothing for recovery.
            let resp = drop_stranded_row(vh, (account, container, object), ts, host);
            intent.settle();
            return resp;
        }
        Err(PutError::Conflict) => {
            intent.settle();
            return put_error(host, PutError::Conflict);
        }
        // Another name's object: nothing of this name to delete (404).
        Err(PutError::Store(e @ StoreError::NameCollision { .. })) => {
            intent.settle();
            return storage_error(host, &e);
        }
        Err(e) => return put_error(host, e),
    };
    settle_markers(vh, (account, container, object), host);
    match vh.catalog.object_delete(account, container, object, ts) {
        Ok(_) => intent.settle(),
        // The files are gone but the row stays: the intent stays for
        // recovery, and a retried DELETE drops the row too.
        Err(e) => return storage_error(host, &e),
    }
    if expired {
        // Deleting an expired object reclaims it, but it was already gone.
        Response::error(404, "")
    } else {
        Response::new(204)
    }
}

/// A DELETE of an object no longer on disk: 404. If its container still
/// lists it (an earlier DELETE removed the files but could not record that,
/// e.g. on a full disk), the row is dropped now, so a retried DELETE
/// repairs the listing and counts.
fn drop_stranded_row(
    vh: &Vhost,
    (account, container, object): (&str, &str, &str),
    ts: Timestamp,
    host: &mut dyn Host,
) -> Response {
    let q = ListingQuery {
        prefix: object.to_string(),
        limit: 1,
        ..ListingQuery::default()
    };
    let listed = match vh.catalog.list_objects(account, container, &q) {
        Ok(Some(rows)) => {
            matches!(rows.first(), Some(ListingEntry::Item(r)) if r.name == object)
        }
        Ok(None) => false,
        Err(e) => return storage_error(host, &e),
    };
    if listed {
        if let Err(e) = vh.catalog.object_delete(account, container, object, ts) {
            return storage_error(host, &e);
        }
    }
    Response::error(404, "")
}

fn is_true(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

/// Swift guesses a missing Content-Type from the name's extension.
fn guess_content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}
