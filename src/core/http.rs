//! Host-independent HTTP request and response types. The ABI layer builds a
//! `Request` and a `Host` from the C views; processors return a `Response`
//! that `send` writes back through the host.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

/// A header value as the client sent it. HTTP allows any bytes but control
/// characters in a value; most readers want text, so the value reads as
/// text (invalid UTF-8 replaced by U+FFFD, nothing can trip on it), while
/// what is stored keeps `bytes()`, exactly what was sent (Swift keeps the
/// bytes of object metadata, and refuses them for accounts and containers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderValue<'a> {
    text: Cow<'a, str>,
    /// The bytes as sent, when they are not UTF-8 (else they are `text`'s).
    raw: Option<&'a [u8]>,
}

impl<'a> HeaderValue<'a> {
    /// The value of the bytes the host received.
    pub fn from_bytes(bytes: &'a [u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => HeaderValue {
                text: Cow::Borrowed(text),
                raw: None,
            },
            Err(_) => HeaderValue {
                text: String::from_utf8_lossy(bytes),
                raw: Some(bytes),
            },
        }
    }

    /// The value as text; bytes that are not UTF-8 read as U+FFFD.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The exact bytes the client sent.
    pub fn bytes(&self) -> &[u8] {
        self.raw.unwrap_or(self.text.as_bytes())
    }

    /// Whether the bytes are UTF-8 (then `as_str` is exactly them).
    pub fn is_utf8(&self) -> bool {
        self.raw.is_none()
    }
}

impl AsRef<str> for HeaderValue<'_> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for HeaderValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> From<&'a str> for HeaderValue<'a> {
    fn from(s: &'a str) -> Self {
        HeaderValue {
            text: Cow::Borrowed(s),
            raw: None,
        }
    }
}

impl From<String> for HeaderValue<'_> {
    fn from(s: String) -> Self {
        HeaderValue {
            text: Cow::Owned(s),
            raw: None,
        }
    }
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
    pub headers: Vec<(Cow<'a, str>, HeaderValue<'a>)>,
    pub content_length: Option<u64>,
    pub chunked: bool,
}

impl Request<'_> {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header, as the client sent it.
    pub fn header_value(&self, name: &str) -> Option<&HeaderValue<'_>> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header whose lowercase name starts with `prefix` (lowercase).
    pub fn headers_with_prefix<'s>(
        &'s self,
        prefix: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        self.headers.iter().filter_map(move |(n, v)| {
            let starts = n.len() >= prefix.len()
                && n.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
            starts.then_some((n.as_ref(), v.as_str()))
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
    /// A response header; the value's bytes go out as they are (object
    /// metadata keeps the bytes it was sent with).
    fn add_header(&mut self, name: &str, value: &[u8]);
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()>;
    /// Sends what earlier writes left buffered now (a heartbeat must reach
    /// the client while the work it reports on goes on). A host that
    /// buffers nothing has nothing to do.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
    /// Bytes the library writes itself as they are sent: a stored object
    /// streamed while its MD5 is computed, whose last piece goes out only
    /// when the digest matches the ETag (`node::integrity`).
    Stream(Box<dyn Streamed>),
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::File { len, .. } => *len,
            Segment::Stream(s) => s.len(),
        }
    }
}

/// A body piece that writes itself through the host.
pub trait Streamed: fmt::Debug {
    /// How many bytes `send` writes when nothing breaks.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn send(&self, host: &mut dyn Host) -> Result<(), SendError>;
    /// `send`, given what the host layer serves the request with (`ctx`;
    /// the ABI passes its vhost): a body that must reach storage while it
    /// is sent (a join of segments opens each as it is reached) takes what
    /// it needs from there. By default the context is not needed.
    fn send_in(&self, host: &mut dyn Host, ctx: &dyn Any) -> Result<(), SendError> {
        let _ = ctx;
        self.send(host)
    }
    /// Whether `len` is known before sending and goes out as
    /// Content-Length. A body whose length is not known up front (Swift's
    /// DLO of more segments than one listing page) says false: the answer
    /// then has no Content-Length and the host frames it (chunked).
    fn announces_length(&self) -> bool {
        true
    }
}

/// Why a streamed body broke off, for whoever must act on it after the
/// response (the layer that made the stream downcasts to its own type).
pub trait Broken: fmt::Debug + fmt::Display {
    fn as_any(&self) -> &dyn Any;
}

/// Why a response could not be sent in full.
#[derive(Debug)]
pub enum SendError {
    /// The client went away, or the host failed.
    Host(io::Error),
    /// A streamed body turned out wrong (or could not be read) before its
    /// last byte: the host must end the response short, so no client takes
    /// it as complete.
    Broken(Box<dyn Broken>),
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
            SendError::Broken(why) => write!(f, "{why}"),
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Values are bytes: stored object metadata goes back as it was sent.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<Segment>,
    /// The body is Swift's default page for the status (`swob_page`),
    /// which Swift makes only for a body it sends: the answer to a HEAD
    /// announces `Content-Length: 0`, not the page's length.
    pub default_page: bool,
    /// The headers go out exactly as set: no re-spelling and no default
    /// type (Swift's allowed CORS preflight replaces swob's header set with
    /// its own lower-case names).
    pub verbatim: bool,
}

/// The Content-Type Swift's responses carry unless they name another
/// (swob's `Response` starts with it).
pub const SWOB_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            default_page: false,
            verbatim: false,
        }
    }

    /// A plain-text message, as Swift's servers send theirs
    /// (`content_type='text/plain'`), without a trailing newline.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response::message(status, body, "text/plain")
    }

    /// A message with the given Content-Type.
    pub fn message(status: u16, body: impl Into<String>, content_type: &str) -> Self {
        let mut r = Response::new(status);
        r.header("Content-Type", content_type);
        r.body.push(Segment::Bytes(body.into().into_bytes()));
        r
    }

    /// Swift's answer for a status without a message of its own: swob's
    /// default page (`<html><h1>Not Found</h1><p>...</p></html>`) for the
    /// statuses that have one (202 and the errors), else no body; always
    /// `SWOB_CONTENT_TYPE`.
    pub fn swob(status: u16) -> Self {
        let mut r = Response::new(status);
        r.header("Content-Type", SWOB_CONTENT_TYPE);
        if let Some(page) = swob_page(status) {
            r.body.push(Segment::Bytes(page.into_bytes()));
            r.default_page = true;
        }
        r
    }

    /// An error response: swob's default page when `detail` is empty, else
    /// `detail` as Swift sends a message it gives no Content-Type of its
    /// own (`HTTPBadRequest(body=...)`): the text, under swob's default
    /// Content-Type.
    pub fn error(status: u16, detail: &str) -> Self {
        if detail.is_empty() {
            Response::swob(status)
        } else {
            Response::message(status, detail, SWOB_CONTENT_TYPE)
        }
    }

    pub fn header(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers
            .push((name.to_string(), value.into().into_bytes()));
        self
    }

    /// A header whose value need not be UTF-8 (stored object metadata).
    pub fn header_bytes(&mut self, name: &str, value: impl Into<Vec<u8>>) -> &mut Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.header(name, value);
        self
    }

    /// Removes every value of a header (matched case-insensitively).
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The first value of a header, when it is text.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    pub fn body_len(&self) -> u64 {
        self.body.iter().map(Segment::len).sum()
    }
}

/// Writes a response through the host. For HEAD the body is not sent but
/// its length is still announced, as a GET would have had it (a default
/// page's as 0, as Swift does). Answers without a body (201, 204, 304)
/// announce `Content-Length: 0`, as Swift's do.
pub fn send(resp: Response, host: &mut dyn Host, head: bool) -> Result<(), SendError> {
    send_in(resp, host, head, &())
}

/// `send`, with the context streamed bodies may need (`Streamed::send_in`).
pub fn send_in(
    resp: Response,
    host: &mut dyn Host,
    head: bool,
    ctx: &dyn Any,
) -> Result<(), SendError> {
    host.set_status(resp.status);
    let mut has_length = false;
    for (name, value) in &resp.headers {
        has_length |= name.eq_ignore_ascii_case("Content-Length");
        host.add_header(name, value);
    }
    // A body of unknown length announces none.
    let unknown = resp
        .body
        .iter()
        .any(|s| matches!(s, Segment::Stream(st) if !st.announces_length()));
    if !has_length && !unknown {
        let len = match head && resp.default_page {
            true => 0,
            false => resp.body_len(),
        };
        host.add_header("Content-Length", len.to_string().as_bytes());
    }
    if head {
        return Ok(());
    }
    for seg in &resp.body {
        match seg {
            Segment::Bytes(b) if !b.is_empty() => host.write(b)?,
            Segment::Bytes(_) => {}
            Segment::File { file, offset, len } => host.send_file(file, *offset, *len)?,
            Segment::Stream(s) => s.send_in(host, ctx)?,
        }
    }
    Ok(())
}

/// swob's default page for a status (its `RESPONSE_REASONS` title and
/// explanation), for the statuses that have one.
pub fn swob_page(status: u16) -> Option<String> {
    let explanation = match status {
        202 => "The request is accepted for processing.",
        400 => "The server could not comply with the request since it is either malformed or otherwise incorrect.",
        401 => "This server could not verify that you are authorized to access the document you requested.",
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        405 => "The method is not allowed for this resource.",
        406 => "The resource is not available in a format acceptable to your browser.",
        408 => "The server has waited too long for the request to be sent by the client.",
        409 => "There was a conflict when trying to complete your request.",
        411 => "Content-Length header required.",
        412 => "A precondition for this request was not met.",
        413 => "The body of your request was too large for this server.",
        416 => "The Range requested is not available.",
        422 => "Unable to process the contained instructions",
        499 => "The client was disconnected during request.",
        500 => "The server has either erred or is incapable of performing the requested operation.",
        501 => "The requested method is not implemented by this server.",
        503 => "The server is currently unavailable. Please try again at a later time.",
        507 => "There was not enough space to save the resource. Drive: unknown",
        _ => return None,
    };
    let title = match status {
        500 => "Internal Error",
        s => reason(s),
    };
    Some(format!("<html><h1>{title}</h1><p>{explanation}</p></html>"))
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
        502 => "Bad Gateway",
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
        pub headers: Vec<(String, Vec<u8>)>,
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
                .map(|(n, v)| (Cow::Borrowed(*n), HeaderValue::from(*v)))
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
            self.header_bytes(name)
                .and_then(|v| std::str::from_utf8(v).ok())
        }
        pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_slice())
        }
    }

    impl Host for MemHost {
        fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.body_in.read(buf)
        }
        fn set_status(&mut self, status: u16) {
            self.status = status;
        }
        fn add_header(&mut self, name: &str, value: &[u8]) {
            self.headers.push((name.into(), value.to_vec()));
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

#[cfg(test)]
mod tests {
    use super::testing::MemHost;
    use super::*;

    #[test]
    fn a_header_value_reads_as_text_and_keeps_its_bytes() {
        let sent = b"caf\xe9 \xff";
        let v = HeaderValue::from_bytes(sent);
        assert!(!v.is_utf8());
        assert_eq!(v.as_str(), "caf\u{fffd} \u{fffd}");
        assert_eq!(v.bytes(), sent);
        let text = HeaderValue::from_bytes("café".as_bytes());
        assert!(text.is_utf8());
        assert_eq!((text.as_str(), text.bytes()), ("café", "café".as_bytes()));
        assert_eq!(HeaderValue::from("x").bytes(), b"x");
    }

    #[test]
    fn response_header_bytes_go_out_as_they_are() {
        let mut r = Response::new(204);
        r.header("X-Text", "v")
            .header_bytes("X-Bytes", &b"\xe9"[..]);
        assert_eq!(r.get_header("X-Text"), Some("v"));
        assert_eq!(r.get_header("X-Bytes"), None, "not text");
        let mut host = MemHost::default();
        send(r, &mut host, false).unwrap();
        assert_eq!(host.header_bytes("X-Bytes"), Some(&b"\xe9"[..]));
        assert_eq!(host.header("X-Text"), Some("v"));
    }

    #[test]
    fn swob_pages_and_their_length_on_head() {
        let page = "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>";
        assert_eq!(swob_page(404).as_deref(), Some(page));
        assert_eq!(
            swob_page(500).as_deref(),
            Some("<html><h1>Internal Error</h1><p>The server has either erred or is incapable of performing the requested operation.</p></html>")
        );
        assert_eq!(swob_page(204), None);
        let r = Response::error(404, "");
        assert_eq!(r.get_header("Content-Type"), Some(SWOB_CONTENT_TYPE));
        let mut get = MemHost::default();
        send(r, &mut get, false).unwrap();
        assert_eq!(get.out, page.as_bytes());
        assert_eq!(get.header("Content-Length"), Some("70"));
        // HEAD: swob makes the page only for a body it sends.
        let mut head = MemHost::default();
        send(Response::error(404, ""), &mut head, true).unwrap();
        assert_eq!(
            (head.header("Content-Length"), head.out.len()),
            (Some("0"), 0)
        );
        // A message is the text alone, and HEAD announces its length.
        let mut head = MemHost::default();
        send(Response::error(412, "Bad URL"), &mut head, true).unwrap();
        assert_eq!(head.header("Content-Length"), Some("7"));
        let r = Response::text(400, "X-Delete-At in past");
        assert_eq!(r.get_header("Content-Type"), Some("text/plain"));
    }

    #[test]
    fn answers_without_a_body_announce_zero() {
        for status in [201, 204, 304] {
            let mut host = MemHost::default();
            send(Response::new(status), &mut host, false).unwrap();
            assert_eq!(host.header("Content-Length"), Some("0"), "{status}");
        }
    }
}
