//! Static large objects, as Swift's `slo` middleware (in its place in the
//! pipeline, after `copy`): `PUT ?multipart-manifest=put` checks a JSON
//! list of segments and stores the manifest (`put`), GET and HEAD join the
//! segments or give back the manifest with `?multipart-manifest=get`
//! (`get`), `DELETE ?multipart-manifest=delete` deletes the segments and
//! the manifest (`delete`). The manifest is an object whose body is the
//! segment list in Swift's internal JSON (`manifest`), flagged
//! `X-Static-Large-Object: True`, with the SLO's ETag and size as object
//! sysmeta (`X-Object-Sysmeta-Slo-Etag`, `-Slo-Size`), its Content-Type
//! carrying `swift_bytes=<size>` for the listing, and its listing row's
//! hash `<manifest md5>; slo_etag=<SLO etag>`.
//!
//! Segment requests are sub-requests through the rest of the pipeline, as
//! the caller: the access rules, expiry and integrity checks of a plain
//! request apply to each.

mod delete;
mod get;
pub mod manifest;
mod put;

pub use get::{is_manifest, slo_attrs, stored_segments, SloMultipart, SloReader};

use super::{Env, Middleware, Next};
use crate::core::http::{Host, LogLevel, Request, Response, SendError, Streamed};
use crate::swift::names::Target;
use std::io;

pub struct Slo;

/// Object sysmeta the manifest carries (Swift's names).
pub const SYSMETA_SLO_ETAG: &str = "x-object-sysmeta-slo-etag";
pub const SYSMETA_SLO_SIZE: &str = "x-object-sysmeta-slo-size";

impl Middleware for Slo {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let (account, container, object) = match env.target(req) {
            Ok(Target::Object {
                account,
                container,
                object,
            }) => (account.clone(), container.clone(), object.clone()),
            _ => return next.run(env, req, host),
        };
        let mode = match env.query(req) {
            Ok(q) => q.get("multipart-manifest").map(str::to_string),
            Err(_) => return next.run(env, req, host),
        };
        let names = (account.as_str(), container.as_str(), object.as_str());
        match (req.method, mode.as_deref()) {
            ("PUT", Some("put")) => put::handle(env, req, names, host, next),
            ("DELETE", Some("delete")) => delete::handle(env, req, names, host, next),
            ("GET" | "HEAD", _) => get::handle(env, req, host, next),
            _ if req.header_value("X-Static-Large-Object").is_some() => Response::error(
                400,
                "X-Static-Large-Object is a reserved header. To create a static large \
                 object add query param multipart-manifest=put.",
            ),
            _ => next.run(env, req, host),
        }
    }
}

/// Runs `req` through the rest of the pipeline as its own request, by the
/// same caller (Swift's `make_subrequest`).
fn subrequest(env: &Env<'_>, req: &Request<'_>, host: &mut dyn Host, next: Next) -> Response {
    let mut sub = Env::new(env.vh);
    sub.caller = env.caller.clone();
    next.run(&mut sub, req, host)
}

/// A request for `/v1/<account>/<path>` made for the client's one, with
/// the headers Swift's sub-requests keep (`Referer`, which referrer ACLs
/// read; `User-Agent`; `Host`).
fn sub_request<'a>(orig: &Request<'a>, method: &'a str, account: &str, path: &str) -> Request<'a> {
    let uri = format!(
        "/v1/{}/{}",
        crate::swift::bulk_results::quote(account.as_bytes()),
        crate::swift::bulk_results::quote(path.as_bytes())
    );
    let headers = orig
        .headers
        .iter()
        .filter(|(n, _)| {
            ["Referer", "User-Agent", "Host"]
                .iter()
                .any(|k| n.eq_ignore_ascii_case(k))
        })
        .cloned()
        .collect();
    Request {
        method,
        uri: uri.into(),
        query: "",
        headers,
        content_length: Some(0),
        chunked: false,
        ..orig.clone()
    }
}

/// The first value of a response header, if it is text.
fn header<'r>(resp: &'r Response, name: &str) -> Option<&'r str> {
    resp.get_header(name)
}

/// Whether a response is an SLO manifest's (`X-Static-Large-Object`).
fn is_slo(resp: &Response) -> bool {
    header(resp, "X-Static-Large-Object").is_some_and(manifest::is_true)
}

/// The bytes of a (small) response body: in-memory pieces and file
/// ranges are read directly, a streamed piece through a capturing host.
fn read_body(resp: &Response, host: &mut dyn Host) -> io::Result<Vec<u8>> {
    use crate::core::http::Segment;
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    for seg in &resp.body {
        match seg {
            Segment::Bytes(b) => out.extend_from_slice(b),
            Segment::File { file, offset, len } => {
                let start = out.len();
                let n = usize::try_from(*len).map_err(io::Error::other)?;
                out.resize(start + n, 0);
                file.read_exact_at(&mut out[start..], *offset)?;
            }
            Segment::Stream(s) => {
                let mut cap = Capture {
                    inner: host,
                    out: Vec::new(),
                };
                s.send(&mut cap)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                out.extend(cap.out);
            }
        }
    }
    Ok(out)
}

/// A host that keeps what is written (to read a streamed body), passing
/// logs through.
struct Capture<'h> {
    inner: &'h mut dyn Host,
    out: Vec<u8>,
}

impl Host for Capture<'_> {
    fn read_body(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
    fn set_status(&mut self, _status: u16) {}
    fn add_header(&mut self, _name: &str, _value: &[u8]) {}
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(data);
        Ok(())
    }
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let start = self.out.len();
        let n = usize::try_from(len).map_err(io::Error::other)?;
        self.out.resize(start + n, 0);
        file.read_exact_at(&mut self.out[start..], offset)
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.inner.log(level, message);
    }
    fn set_note(&mut self, name: &str, value: &str) {
        self.inner.set_note(name, value);
    }
}

/// A host whose request body is `body` (a sub-request's), everything else
/// the real host's.
pub struct WithBody<'h> {
    inner: &'h mut dyn Host,
    body: io::Cursor<Vec<u8>>,
}

impl<'h> WithBody<'h> {
    pub fn new(inner: &'h mut dyn Host, body: Vec<u8>) -> WithBody<'h> {
        WithBody {
            inner,
            body: io::Cursor::new(body),
        }
    }
}

impl Host for WithBody<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.body, buf)
    }
    fn set_status(&mut self, status: u16) {
        self.inner.set_status(status);
    }
    fn add_header(&mut self, name: &str, value: &[u8]) {
        self.inner.add_header(name, value);
    }
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.write(data)
    }
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: u64) -> io::Result<()> {
        self.inner.send_file(file, offset, len)
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.inner.log(level, message);
    }
    fn set_note(&mut self, name: &str, value: &str) {
        self.inner.set_note(name, value);
    }
    fn checkpoint(&mut self) {
        self.inner.checkpoint();
    }
}

/// A body sent without a Content-Length (the host frames it: chunked), as
/// Swift sends the bodies it makes while it works (a generator).
#[derive(Debug)]
struct Unsized(Vec<u8>);

impl Streamed for Unsized {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn announces_length(&self) -> bool {
        false
    }
    fn send(&self, host: &mut dyn Host) -> Result<(), SendError> {
        host.write(&self.0)?;
        Ok(())
    }
}

/// A Content-Type without Swift's `swift_bytes` parameter (its proxy's
/// `clean_content_type`).
pub fn clean_content_type(value: &str) -> &str {
    match value.rsplit_once(';') {
        Some((left, right)) if right.trim_start().starts_with("swift_bytes=") => left,
        _ => value,
    }
}

#[cfg(test)]
mod tests;
