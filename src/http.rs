//! Host-independent HTTP request and response types. The ABI layer builds a
//! `Request` and a `Host` from the C views; processors return a `Response`
//! that `send` writes back through the host.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::sync::Arc;

use crate::integrity::{Pending, Suspect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

/// A request as the host received it. Strings borrow from the host's memory
/// for the duration of one `handle` call.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Raw request path, still percent-encoded (raw bytes that are not
    /// UTF-8 arrive percent-encoded too).
    pub uri: Cow<'a, str>,
    /// Raw query string without '?'.
    pub query: &'a str,
    pub scheme: &'a str,
    pub host: &'a str,
    /// Identity established by the host's own authentication, if any.
    pub remote_user: &'a str,
    pub request_id: &'a str,
    pub headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub content_length: Option<u64>,
    pub chunked: bool,
}

impl Request<'_> {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// Every header whose lowercase name starts with `prefix` (lowercase).
    pub fn headers_with_prefix<'s>(
        &'s self,
        prefix: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        self.headers.iter().filter_map(move |(n, v)| {
            let starts = n.len() >= prefix.len()
                && n.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
            starts.then_some((n.as_ref(), v.as_ref()))
        })
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// What the library needs from the web server while serving one request.
pub trait Host {
    /// Reads de-chunked body bytes; Ok(0) at the end of the body.
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn set_status(&mut self, status: u16);
    fn add_header(&mut self, name: &str, value: &str);
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()>;
    fn log(&mut self, level: LogLevel, message: &str);
    fn set_note(&mut self, name: &str, value: &str);
    /// A point in an object write where it may step back, while the write
    /// gate's limit is cut below the writers already at work, until they
    /// are fewer (`gate::admission`). The web server has nothing to do here.
    fn checkpoint(&mut self) {}
}

/// The request body as an `io::Read`, so storage code can stream it without
/// knowing about the host.
pub struct BodyReader<'h> {
    host: &'h mut dyn Host,
    pub bytes_read: u64,
}

impl<'h> BodyReader<'h> {
    pub fn new(host: &'h mut dyn Host) -> Self {
        BodyReader {
            host,
            bytes_read: 0,
        }
    }
}

impl io::Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.host.read_body(buf)?;
        self.bytes_read += n as u64;
        Ok(n)
    }
}

/// One piece of a response body.
#[derive(Debug)]
pub enum Segment {
    Bytes(Vec<u8>),
    /// A byte range of an open file, sent through the host's zero-copy path.
    File {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
    /// The first `len` bytes of a stored object, streamed through the
    /// library while their MD5 is computed: the last piece goes out only
    /// when the digest matches the ETag (see `integrity`).
    Verified {
        file: Arc<File>,
        len: u64,
        suspect: Box<Suspect>,
    },
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::File { len, .. } | Segment::Verified { len, .. } => *len,
        }
    }
}

/// Why a response could not be sent in full.
#[derive(Debug)]
pub enum SendError {
    /// The client went away, or the host failed.
    Host(io::Error),
    /// A verified body turned out not to match its ETag (or could not be
    /// read) before its last byte: the host must end the response short, so
    /// no client takes it as complete. `actual` is None for a read error.
    Corrupt {
        suspect: Box<Suspect>,
        actual: Option<String>,
        detail: String,
    },
}

impl From<io::Error> for SendError {
    fn from(e: io::Error) -> Self {
        SendError::Host(e)
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Host(e) => write!(f, "{e}"),
            SendError::Corrupt { detail, .. } => write!(f, "stored object is corrupt: {detail}"),
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<Segment>,
    /// A check of the stored bytes still to be made before any of this is
    /// sent (`integrity::settle`, once the admission permit is released).
    pub check: Option<Box<Pending>>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            check: None,
        }
    }

    /// A short text response, as Swift's error pages are.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        let mut r = Response::new(status);
        r.header("Content-Type", "text/plain; charset=utf-8");
        r.body.push(Segment::Bytes(body.into().into_bytes()));
        r
    }

    /// An error response whose body is the reason phrase or a given detail.
    pub fn error(status: u16, detail: &str) -> Self {
        let body = if detail.is_empty() {
            reason(status)
        } else {
            detail
        };
        Response::text(status, format!("{body}\n"))
    }

    pub fn header(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.header(name, value);
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_len(&self) -> u64 {
        self.body.iter().map(Segment::len).sum()
    }
}

/// Writes a response through the host. For HEAD the body is not sent but
/// its length is still announced, as a GET would have had it.
pub fn send(resp: Response, host: &mut dyn Host, head: bool) -> Result<(), SendError> {
    host.set_status(resp.status);
    let mut has_length = false;
    for (name, value) in &resp.headers {
        has_length |= name.eq_ignore_ascii_case("Content-Length");
        host.add_header(name, value);
    }
    if !has_length && !matches!(resp.status, 204 | 304) {
        host.add_header("Content-Length", &resp.body_len().to_string());
    }
    if head {
        return Ok(());
    }
    for seg in &resp.body {
        match seg {
            Segment::Bytes(b) if !b.is_empty() => host.write(b)?,
            Segment::Bytes(_) => {}
            Segment::File { file, offset, len } => host.send_file(file, *offset, *len)?,
            Segment::Verified { file, len, suspect } => {
                crate::integrity::stream_verified(host, file, *len, suspect)?
            }
        }
    }
    Ok(())
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        422 => "Unprocessable Entity",
        431 => "Request Header Fields Too Large",
        499 => "Client Disconnect",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "",
    }
}

#[cfg(test)]
pub mod testing {
    //! An in-memory `Host` for unit tests of processors.
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::FileExt;

    #[derive(Default)]
    pub struct MemHost {
        pub body_in: io::Cursor<Vec<u8>>,
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub out: Vec<u8>,
        pub logs: Vec<(LogLevel, String)>,
        pub notes: Vec<(String, String)>,
    }

    /// A GET request carrying just these headers.
    pub fn request<'a>(headers: &[(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: "GET",
            headers: headers
                .iter()
                .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(*v)))
                .collect(),
            ..Default::default()
        }
    }

    impl MemHost {
        pub fn with_body(body: &[u8]) -> Self {
            MemHost {
                body_in: io::Cursor::new(body.to_vec()),
                ..Default::default()
            }
        }
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    impl Host for MemHost {
        fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.body_in.read(buf)
        }
        fn set_status(&mut self, status: u16) {
            self.status = status;
        }
        fn add_header(&mut self, name: &str, value: &str) {
            self.headers.push((name.into(), value.into()));
        }
        fn write(&mut self, data: &[u8]) -> io::Result<()> {
            self.out.extend_from_slice(data);
            Ok(())
        }
        fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
            let mut buf = vec![0; len as usize];
            file.read_exact_at(&mut buf, offset)?;
            self.out.extend_from_slice(&buf);
            Ok(())
        }
        fn log(&mut self, level: LogLevel, message: &str) {
            self.logs.push((level, message.into()));
        }
        fn set_note(&mut self, name: &str, value: &str) {
            self.notes.push((name.into(), value.into()));
        }
    }
}
