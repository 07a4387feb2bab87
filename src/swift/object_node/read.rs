//! GET and HEAD as Swift's object server answers them: the merged
//! metadata as headers (user, system and transient metadata, the allowed
//! headers), `X-Timestamp`, `X-Backend-Timestamp`,
//! `X-Backend-Data-Timestamp`, `X-Backend-Durable-Timestamp`; conditional
//! requests (`X-Backend-Etag-Is-At` naming the metadata to compare with)
//! and ranges (`X-Backend-Ignore-Range-If-Metadata-Present`) as swob;
//! a 404 that carries the tombstone's (or expired object's) time.

use super::headers::{is_shown, open_expired, timestamp_or_now};
use super::{answer, Target};
use crate::core::http::{Host, Request, Response, Segment};
use crate::store::swift_disk::metadata::{header_from_native, Metadata};
use crate::store::swift_disk::{file_set, DiskError, OpenedObject};
use crate::store::timestamp::OffsetTimestamp;
use crate::swift::conditional::{self, Outcome};
use crate::swift::range::{self, ByteRange, RangeOutcome};
use std::sync::Arc;

pub fn handle(req: &Request<'_>, t: &Target, host: &mut dyn Host) -> Response {
    let now = match timestamp_or_now(req) {
        Ok(ts) => file_set::seconds(ts),
        Err(body) => return Response::error(400, &body),
    };
    let opened = match t.disk.open(now, open_expired(req)) {
        Ok(o) => o,
        Err(DiskError::Deleted { timestamp, .. }) => return not_found(Some(timestamp)),
        Err(DiskError::Expired { metadata }) => {
            let ts = metadata
                .get("X-Timestamp")
                .and_then(|v| OffsetTimestamp::parse(v));
            return not_found(ts);
        }
        Err(DiskError::NotFound | DiskError::Quarantined { .. } | DiskError::Collision { .. }) => {
            return not_found(None)
        }
        Err(e) => return answer::disk_error(host, &t.path.device, &e),
    };
    let md = opened.metadata();
    let Some(ts) = opened.timestamp() else {
        return answer::disk_error(
            host,
            &t.path.device,
            &DiskError::BadMetadata {
                path: opened.data_path().to_path_buf(),
                detail: "no X-Timestamp".into(),
            },
        );
    };
    let mut r = Response::new(200);
    object_headers(&mut r, &opened, ts);
    let etag = conditional_etag(req, md);
    match conditional::evaluate(req, &etag, ts.time.http_time()) {
        Outcome::Proceed => {}
        Outcome::NotModified => return with_status(r, 304),
        Outcome::PreconditionFailed => return with_status(r, 412),
    }
    let size = opened.content_length();
    let ignore_range = req
        .header("X-Backend-Ignore-Range-If-Metadata-Present")
        .is_some_and(|names| {
            names
                .split(',')
                .any(|n| md.keys().any(|k| k.eq_ignore_ascii_case(n.trim())))
        });
    let range_header = if ignore_range {
        None
    } else {
        req.header("Range")
    };
    let file = match opened.file().try_clone() {
        Ok(f) => Arc::new(f),
        Err(e) => {
            return answer::disk_error(
                host,
                &t.path.device,
                &DiskError::io("reopening", opened.data_path(), e),
            )
        }
    };
    match range::evaluate(range_header, size) {
        RangeOutcome::Whole => {
            r.header("Content-Length", size.to_string());
            r.body.push(Segment::File {
                file,
                offset: 0,
                len: size,
            });
            r
        }
        RangeOutcome::Unsatisfiable => {
            let mut r = Response::swob(416);
            r.header("Content-Range", format!("bytes */{size}"));
            r
        }
        RangeOutcome::Partial(ranges) => partial(r, &ranges, size, file),
    }
}

fn with_status(mut r: Response, status: u16) -> Response {
    r.status = status;
    r
}

/// Swift's 404, with the time of what is there when something is.
fn not_found(ts: Option<OffsetTimestamp>) -> Response {
    let mut r = Response::swob(404);
    if let Some(ts) = ts {
        r.header("X-Backend-Timestamp", ts.internal());
    }
    r
}

fn object_headers(r: &mut Response, o: &OpenedObject, ts: OffsetTimestamp) {
    let md = o.metadata();
    let ctype = md
        .get("Content-Type")
        .map(String::as_str)
        .unwrap_or("application/octet-stream");
    r.header_bytes(
        "Content-Type",
        header_from_native(ctype).unwrap_or_else(|| ctype.as_bytes().to_vec()),
    );
    for (k, v) in md {
        if is_shown(k) {
            r.header_bytes(
                k,
                header_from_native(v).unwrap_or_else(|| v.as_bytes().to_vec()),
            );
        }
    }
    if let Some(etag) = md.get("ETag") {
        r.header("ETag", format!("\"{etag}\""));
    }
    r.header("Last-Modified", ts.time.http_date());
    if let Some(enc) = md.get("Content-Encoding") {
        r.remove_header("Content-Encoding");
        r.header("Content-Encoding", enc.clone());
    }
    r.header("X-Timestamp", ts.time.normal());
    r.header("X-Backend-Timestamp", ts.internal());
    if let Some(data_ts) = o.data_timestamp() {
        r.header("X-Backend-Data-Timestamp", data_ts.internal());
        // A replicated `.data` is durable as soon as it is there.
        r.header("X-Backend-Durable-Timestamp", data_ts.internal());
    }
    r.header("Accept-Ranges", "bytes");
}

/// swob's conditional ETag: the metadata `X-Backend-Etag-Is-At` names
/// first, else the object's.
fn conditional_etag(req: &Request<'_>, md: &Metadata) -> String {
    if let Some(names) = req.header("X-Backend-Etag-Is-At") {
        for name in names.split(',').map(str::trim) {
            if let Some((_, v)) = md.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                return v.clone();
            }
        }
    }
    md.get("ETag").cloned().unwrap_or_default()
}

/// 206: one range, or a multipart/byteranges body as swob frames it.
fn partial(mut r: Response, ranges: &[ByteRange], size: u64, file: Arc<std::fs::File>) -> Response {
    r.status = 206;
    if let [br] = ranges {
        r.header("Content-Range", range::content_range(*br, size));
        r.header("Content-Length", br.len().to_string());
        r.body.push(Segment::File {
            file,
            offset: br.start,
            len: br.len(),
        });
        return r;
    }
    let ctype = r.get_header("Content-Type").unwrap_or("").to_string();
    let (boundary, body) = range::multipart_body(ranges, size, &ctype, &file);
    r.remove_header("Content-Type");
    r.header(
        "Content-Type",
        format!("multipart/byteranges;boundary={boundary}"),
    );
    r.body.extend(body);
    r
}
