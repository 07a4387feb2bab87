//! The segment-join engine: turns an ordered list of segments (objects, or
//! byte ranges of objects) into one response body, as Swift's
//! `SegmentedIterable` does for DLO and SLO.
//!
//! - **Segments** are `SegmentRef`s: (account, container, object), an
//!   optional byte range within the object, how many bytes the segment
//!   adds to the join (`len`, known up front: DLO takes it from the
//!   listing, SLO from the manifest), and optionally the ETag and size the
//!   referrer expects of the object (SLO checks them; a mismatch breaks the
//!   body, Swift's `SegmentError`).
//! - **The list** comes from a `SegmentSource`, asked for one segment at a
//!   time while the body is sent: DLO lists its prefix page by page, SLO
//!   expands nested manifests when it reaches them.
//! - **A `Join`** sends one contiguous window `[start, end)` of the joined
//!   object: the whole object, a single range, or one part of a
//!   multipart/byteranges body (`multipart` makes one `Join` per part, each
//!   over a fresh source). Segments wholly before the window are skipped by
//!   their `len` without being opened; zero-length segments are never
//!   opened (as Swift). `Join::prepare` opens the first segment with bytes
//!   before the answer is committed, so that a missing or unreadable first
//!   segment can still be answered with a status (Swift's
//!   `validate_first_segment`: 409, or 503 for a server error).
//! - **Streaming**: segments are opened one at a time, as they are reached
//!   (never all at once), and each goes out through the host's send-file,
//!   or, for a whole segment above `integrity::VERIFY_FIRST_MAX` not known
//!   good, streamed while it is hashed (`integrity::VerifiedStream`). The
//!   rules of single objects apply per segment: a small segment or a range
//!   is checked against its ETag before its bytes go out; a bad one is
//!   quarantined and the body breaks (`STOWAGE_ERR_ABORTED`: the host ends
//!   the response short, so no client takes it as whole). So does a segment
//!   missing, changed (its size is not what the list said) or unreadable
//!   mid-join. A client that goes away ends the join quietly.
//! - **Access**: each segment is read as the caller would read it with a
//!   GET (`access::check` with their identity and the request's Referer),
//!   as Swift makes each segment request as the user.
//! - **Admission**: like a single-object GET, each segment is opened (and a
//!   small one checked) under an object-read permit, which is released
//!   before its bytes are sent; a range of a large segment is checked after
//!   the release. A join never holds a permit while waiting on the network,
//!   and holds at most one at a time. A refused permit mid-join breaks the
//!   body (before the first byte: 503).
//!
//! Sending needs the storage: the body is a `core::http::Streamed` whose
//! `send_in` gets the `Vhost` from the ABI.

use crate::core::http::{Broken, Host, LogLevel, Segment, SendError, Streamed};
use crate::gate::Kind;
use crate::node::integrity::{self, Suspect, Verdict, VerifiedStream, VERIFY_FIRST_MAX};
use crate::node::verify_once::Checked;
use crate::node::vhost::Vhost;
use crate::swift::access::{self, Grant};
use crate::swift::auth::Caller;
use crate::swift::conditional::normalize_etag;
use crate::swift::error::ApiError;
use crate::swift::names::Target;
use crate::swift::object;
use crate::swift::range::ByteRange;
use parking_lot::Mutex;
use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// One segment of a joined object, as its referrer lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRef {
    pub account: String,
    pub container: String,
    pub object: String,
    /// The bytes of the object this segment adds; None: all of them.
    pub range: Option<ByteRange>,
    /// How many bytes it adds to the join, known before it is opened (the
    /// listing's `bytes`, the manifest's `size_bytes` or range length). An
    /// object that turns out to hold another number breaks the body.
    pub len: u64,
    /// The ETag the referrer expects of the object (quotes allowed); None:
    /// not checked.
    pub etag: Option<String>,
    /// The size the referrer expects of the whole object; None: not checked.
    pub size: Option<u64>,
}

impl SegmentRef {
    /// A whole object of `len` bytes, checked only against that length (DLO).
    pub fn whole(account: &str, container: &str, object: &str, len: u64) -> SegmentRef {
        SegmentRef {
            account: account.to_string(),
            container: container.to_string(),
            object: object.to_string(),
            range: None,
            len,
            etag: None,
            size: None,
        }
    }

    fn path(&self) -> String {
        format!("/{}/{}/{}", self.account, self.container, self.object)
    }
}

/// Who reads the segments: the caller's identity and the request's
/// Referer, against which each segment container's ACL is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub caller: Caller,
    pub referer: Option<String>,
}

impl Reader {
    /// Whether the reader may GET `target` (its container's read ACL and
    /// referrers, or ownership): `access::check` of a bare GET carrying
    /// only the request's Referer.
    pub fn check_get(&self, vh: &Vhost, target: &Target) -> Result<Grant, ApiError> {
        let mut get = crate::core::http::Request {
            method: "GET",
            ..Default::default()
        };
        if let Some(r) = &self.referer {
            get.headers
                .push((Cow::Borrowed("Referer"), r.as_str().into()));
        }
        access::check(vh, &get, target, &self.caller)
    }
}

/// The segments of a join, in order, produced while the body is sent.
pub trait SegmentSource: fmt::Debug + Send {
    /// The next segment; Ok(None) after the last. An Err breaks the body
    /// (or, before it starts, answers with `JoinError::status`).
    fn next(&mut self, vh: &Vhost, reader: &Reader) -> Result<Option<SegmentRef>, JoinError>;
}

/// A source of segments already known (tests, and SLO manifests read whole).
#[derive(Debug, Clone, Default)]
pub struct ListSource {
    items: std::collections::VecDeque<SegmentRef>,
}

impl ListSource {
    pub fn new(items: impl IntoIterator<Item = SegmentRef>) -> ListSource {
        ListSource {
            items: items.into_iter().collect(),
        }
    }
}

impl SegmentSource for ListSource {
    fn next(&mut self, _: &Vhost, _: &Reader) -> Result<Option<SegmentRef>, JoinError> {
        Ok(self.items.pop_front())
    }
}

/// Why a join cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The list of segments could not be read (a DLO listing page).
    Listing(String),
    /// A segment is missing, not readable by the caller, or not what the
    /// list said (Swift's `SegmentError`: 409 before the first byte).
    Segment(String),
    /// Storage failed or admission was refused (Swift: a segment's 5xx,
    /// 503 before the first byte).
    Unavailable(String),
}

impl JoinError {
    /// The answer when this happens before the body starts (Swift's DLO
    /// and SLO answer 409 for a `SegmentError`/`ListingIterError` of the
    /// first segment, and 503 for a segment's server error).
    pub fn status(&self) -> u16 {
        match self {
            JoinError::Listing(_) | JoinError::Segment(_) => 409,
            JoinError::Unavailable(_) => 503,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Listing(m) => write!(f, "segment listing failed: {m}"),
            JoinError::Segment(m) => write!(f, "segment error: {m}"),
            JoinError::Unavailable(m) => write!(f, "segment unavailable: {m}"),
        }
    }
}

impl Broken for JoinError {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The part of the joined object a `Join` sends: `[start, end)`, or from
/// `start` to wherever the list ends (`end` None: the length is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: Option<u64>,
}

impl Window {
    /// All of an object of `total` bytes.
    pub fn whole(total: u64) -> Window {
        Window {
            start: 0,
            end: Some(total),
        }
    }

    /// All of it, however long the list turns out to be.
    pub fn unbounded() -> Window {
        Window {
            start: 0,
            end: None,
        }
    }

    pub fn range(r: ByteRange) -> Window {
        Window {
            start: r.start,
            end: Some(r.end),
        }
    }

    /// The bytes `[from, to)` of a segment of `len` bytes starting at
    /// `seg_start` of the join that fall in this window, relative to the
    /// segment's own bytes; None when it has none in it.
    pub fn clip(&self, seg_start: u64, len: u64) -> Option<(u64, u64)> {
        let seg_end = seg_start.saturating_add(len);
        let from = self.start.max(seg_start);
        let to = self.end.map_or(seg_end, |e| e.min(seg_end));
        (from < to).then(|| (from - seg_start, to - seg_start))
    }

    /// Whether a segment starting at `seg_start` of the join lies past it.
    pub fn ends_before(&self, seg_start: u64) -> bool {
        self.end.is_some_and(|e| seg_start >= e)
    }
}

/// A segment opened and checked, whose bytes are ready to send.
#[derive(Debug)]
struct Opened {
    file: Arc<File>,
    /// Where in the object file's data, and how many bytes.
    offset: u64,
    len: u64,
    /// Sent while hashed (a whole large segment not known good).
    verify: Option<Suspect>,
}

#[derive(Debug)]
struct Walk {
    source: Box<dyn SegmentSource>,
    /// Where in the join the next segment from `source` starts.
    at: u64,
    /// The bytes sent (or prepared) so far.
    sent: u64,
    /// The first segment, opened by `prepare`.
    ready: Option<Opened>,
    prepared: bool,
}

/// One window of a joined object as a streamed response body.
#[derive(Debug)]
pub struct Join {
    walk: Mutex<Walk>,
    window: Window,
    reader: Reader,
    /// For logs: the object the join answers for.
    name: String,
}

impl Join {
    pub fn new(
        source: Box<dyn SegmentSource>,
        reader: Reader,
        window: Window,
        name: impl Into<String>,
    ) -> Join {
        Join {
            walk: Mutex::new(Walk {
                source,
                at: 0,
                sent: 0,
                ready: None,
                prepared: false,
            }),
            window,
            reader,
            name: name.into(),
        }
    }

    /// Opens the first segment with bytes in the window before the answer
    /// is committed (Swift's `validate_first_segment`). Err: answer
    /// `JoinError::status` instead (nothing was sent). A join with no
    /// bytes is fine.
    pub fn prepare(&self, vh: &Vhost, host: &mut dyn Host) -> Result<(), JoinError> {
        let mut walk = self.walk.lock();
        if walk.prepared {
            return Ok(());
        }
        walk.prepared = true;
        let first = self.next_opened(&mut walk, vh, host)?;
        walk.ready = first;
        Ok(())
    }

    /// The next segment in the window, opened; None past the window or the
    /// end of the list.
    fn next_opened(
        &self,
        walk: &mut Walk,
        vh: &Vhost,
        host: &mut dyn Host,
    ) -> Result<Option<Opened>, JoinError> {
        loop {
            if self.window.ends_before(walk.at) {
                return Ok(None);
            }
            let Some(seg) = walk.source.next(vh, &self.reader)? else {
                return Ok(None);
            };
            let seg_start = walk.at;
            walk.at = walk.at.saturating_add(seg.len);
            let Some((from, to)) = self.window.clip(seg_start, seg.len) else {
                continue;
            };
            let opened = open_segment(vh, &self.reader, &seg, (from, to), host)?;
            walk.sent += opened.len;
            return Ok(Some(opened));
        }
    }

    fn send_all(&self, vh: &Vhost, host: &mut dyn Host) -> Result<(), SendError> {
        let mut walk = self.walk.lock();
        let broken = |e: JoinError, host: &mut dyn Host| {
            host.log(
                LogLevel::Error,
                &format!("join of {} broke off: {e}", self.name),
            );
            SendError::Broken(Box::new(e))
        };
        let mut next = match walk.ready.take() {
            Some(first) => Some(first),
            None if walk.prepared => None,
            None => {
                walk.prepared = true;
                self.next_opened(&mut walk, vh, host)
                    .map_err(|e| broken(e, host))?
            }
        };
        while let Some(seg) = next {
            match &seg.verify {
                Some(suspect) => VerifiedStream {
                    file: Arc::clone(&seg.file),
                    len: seg.len,
                    suspect: suspect.clone(),
                }
                .send(host)?,
                None => host.send_file(&seg.file, seg.offset, seg.len)?,
            }
            next = self
                .next_opened(&mut walk, vh, host)
                .map_err(|e| broken(e, host))?;
        }
        if let Some(end) = self.window.end {
            let want = end - self.window.start;
            if walk.sent != want {
                let e = JoinError::Segment(format!(
                    "the segments hold {} bytes of the {want} announced",
                    walk.sent
                ));
                return Err(broken(e, host));
            }
        }
        Ok(())
    }
}

impl Join {
    /// The joined bytes as an `io::Read` (a server-side copy of a large
    /// object): segments are opened as they are reached, exactly as when
    /// sending, and read without moving any file's cursor; a large whole
    /// segment is hashed as it is read and fails the read at its end when
    /// it does not match. A segment that breaks the join is an
    /// `io::Error` carrying the `JoinError`. Log lines (a quarantine) are
    /// kept in `logs` for the caller to write.
    pub fn into_reader(self, vh: &Vhost) -> JoinReader<'_> {
        JoinReader {
            join: self,
            vh,
            current: None,
            at: 0,
            md5: None,
            logs: LogBuffer::default(),
        }
    }
}

/// Log lines kept while no host can take them.
#[derive(Debug, Default)]
pub struct LogBuffer {
    pub lines: Vec<(LogLevel, String)>,
}

impl Host for LogBuffer {
    fn read_body(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Ok(0)
    }
    fn set_status(&mut self, _: u16) {}
    fn add_header(&mut self, _: &str, _: &[u8]) {}
    fn write(&mut self, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("a log buffer sends nothing"))
    }
    fn send_file(&mut self, _: &File, _: u64, _: u64) -> std::io::Result<()> {
        Err(std::io::Error::other("a log buffer sends nothing"))
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.lines.push((level, message.to_string()));
    }
    fn set_note(&mut self, _: &str, _: &str) {}
}

/// A join read as a stream of bytes (`Join::into_reader`).
pub struct JoinReader<'v> {
    join: Join,
    vh: &'v Vhost,
    current: Option<Opened>,
    /// How far into `current`.
    at: u64,
    /// The hash of `current` so far, when it is verified while read.
    md5: Option<md5::Md5>,
    pub logs: LogBuffer,
}

impl JoinReader<'_> {
    fn fail(&mut self, e: JoinError) -> std::io::Error {
        self.logs.log(
            LogLevel::Error,
            &format!("join of {} broke off: {e}", self.join.name),
        );
        std::io::Error::other(e)
    }
}

impl std::error::Error for JoinError {}

impl std::io::Read for JoinReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use md5::Digest;
        use std::os::unix::fs::FileExt;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(seg) = &self.current {
                let left = seg.len - self.at;
                if left > 0 {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = seg.file.read_at(&mut buf[..want], seg.offset + self.at)?;
                    if n == 0 {
                        let e = JoinError::Segment("a segment ended early".into());
                        return Err(self.fail(e));
                    }
                    if let Some(h) = &mut self.md5 {
                        h.update(&buf[..n]);
                    }
                    self.at += n as u64;
                    return Ok(n);
                }
                if let (Some(h), Some(suspect)) = (self.md5.take(), &seg.verify) {
                    let actual = crate::core::hex::hex(&h.finalize());
                    if actual != suspect.etag {
                        let broken = integrity::Corrupt {
                            suspect: suspect.clone(),
                            actual: Some(actual),
                            detail: String::new(),
                        };
                        integrity::after_broken_stream(
                            self.vh,
                            &SendError::Broken(Box::new(broken)),
                            &mut self.logs,
                        );
                        let e = JoinError::Segment(format!(
                            "{} failed its checksum",
                            suspect.path.display()
                        ));
                        return Err(self.fail(e));
                    }
                }
            }
            let next = {
                let mut walk = self.join.walk.lock();
                walk.prepared = true;
                match walk.ready.take() {
                    Some(first) => Ok(Some(first)),
                    None => self.join.next_opened(&mut walk, self.vh, &mut self.logs),
                }
            };
            match next {
                Ok(Some(seg)) => {
                    self.md5 = seg.verify.as_ref().map(|_| md5::Md5::new());
                    self.current = Some(seg);
                    self.at = 0;
                }
                Ok(None) => {
                    let sent = self.join.walk.lock().sent;
                    if let Some(end) = self.join.window.end {
                        let want = end - self.join.window.start;
                        if sent != want {
                            let e = JoinError::Segment(format!(
                                "the segments hold {sent} bytes of the {want} announced"
                            ));
                            return Err(self.fail(e));
                        }
                    }
                    return Ok(0);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }
}

impl Streamed for Join {
    fn len(&self) -> u64 {
        self.window
            .end
            .map_or(0, |e| e.saturating_sub(self.window.start))
    }

    fn announces_length(&self) -> bool {
        self.window.end.is_some()
    }

    fn send(&self, _host: &mut dyn Host) -> Result<(), SendError> {
        Err(SendError::Broken(Box::new(JoinError::Unavailable(
            "a join was sent without its storage".into(),
        ))))
    }

    fn send_in(&self, host: &mut dyn Host, ctx: &dyn Any) -> Result<(), SendError> {
        match ctx.downcast_ref::<Vhost>() {
            Some(vh) => self.send_all(vh, host),
            None => self.send(host),
        }
    }
}

/// Opens `seg` as the reader would GET it, checks it is what the list
/// says, and readies its bytes `[from, to)` (relative to what the segment
/// adds), under an object-read permit as a single GET opens its object.
fn open_segment(
    vh: &Vhost,
    reader: &Reader,
    seg: &SegmentRef,
    (from, to): (u64, u64),
    host: &mut dyn Host,
) -> Result<Opened, JoinError> {
    let path = seg.path();
    let target = Target::Object {
        account: seg.account.clone(),
        container: seg.container.clone(),
        object: seg.object.clone(),
    };
    if let Err(e) = reader.check_get(vh, &target) {
        let why = format!("got {} reading {path}", e.status());
        return Err(if e.status() >= 500 {
            JoinError::Unavailable(why)
        } else {
            JoinError::Segment(why)
        });
    }
    let mut problems = Vec::new();
    let permit = vh.gates.acquire(Kind::ObjectRead, 0, &mut |m: &str| {
        problems.push(m.to_string())
    });
    for p in problems {
        host.log(LogLevel::Error, &p);
    }
    let permit =
        permit.map_err(|r| JoinError::Unavailable(format!("{path}: admission refused ({r:?})")))?;
    let names = (
        seg.account.as_str(),
        seg.container.as_str(),
        seg.object.as_str(),
    );
    let obj = match object::open_live(vh, names.0, names.1, names.2) {
        Ok(Some(o)) => o,
        Ok(None) => return Err(JoinError::Segment(format!("{path} is missing"))),
        Err(e) => return Err(JoinError::Unavailable(format!("{path}: {e}"))),
    };
    let size = obj.meta.size;
    if let Some(etag) = &seg.etag {
        if normalize_etag(etag) != obj.meta.etag {
            return Err(JoinError::Segment(format!(
                "{path} etag {} != {}",
                obj.meta.etag,
                normalize_etag(etag)
            )));
        }
    }
    if seg.size.is_some_and(|s| s != size) {
        return Err(JoinError::Segment(format!(
            "{path} size {size} != {}",
            seg.size.unwrap_or_default()
        )));
    }
    let (base, avail) = match seg.range {
        Some(r) if r.end <= size => (r.start, r.len()),
        Some(r) => {
            return Err(JoinError::Segment(format!(
                "{path} holds {size} bytes, range ends at {}",
                r.end
            )))
        }
        None => (0, size),
    };
    if avail != seg.len {
        return Err(JoinError::Segment(format!(
            "{path} holds {avail} bytes, listed as {}",
            seg.len
        )));
    }
    let (offset, len) = (base + from, to - from);
    let suspect = Suspect::new(names, &obj);
    let large = size > VERIFY_FIRST_MAX;
    let known_good = large && matches!(vh.verdicts.known(&obj.file), Some(Checked::Good));
    let whole = offset == 0 && len == size;
    let quarantined = || JoinError::Segment(format!("{path} failed its checksum"));
    let store_err = |e: crate::store::StoreError| JoinError::Unavailable(format!("{path}: {e}"));
    if !large
        && integrity::verify_first(vh, &suspect, &obj, host).map_err(store_err)?
            == Verdict::Quarantined
    {
        return Err(quarantined());
    }
    drop(permit);
    let stream = large && !known_good && whole;
    if large && !known_good && !whole {
        // As a range of a large object: checked after the permit is gone.
        if integrity::verify_first(vh, &suspect, &obj, host).map_err(store_err)?
            == Verdict::Quarantined
        {
            return Err(quarantined());
        }
    }
    Ok(Opened {
        file: Arc::new(obj.file),
        offset,
        len,
        verify: stream.then_some(suspect),
    })
}

/// A multipart/byteranges body of `ranges` of a joined object of `total`
/// bytes, each part a `Join` from `part` (given the part's window; make each
/// over a fresh source), framed as the object processor frames a single
/// object's parts. Returns the response's Content-Type and body.
pub fn multipart(
    ranges: &[ByteRange],
    total: u64,
    content_type: &str,
    mut part: impl FnMut(Window) -> Join,
) -> (String, Vec<Segment>) {
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    let boundary = crate::core::hex::hex(&raw);
    let mut body = Vec::new();
    for (i, br) in ranges.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {}-{}/{total}\r\n\r\n",
            br.start,
            br.end - 1
        );
        body.push(Segment::Bytes(head.into_bytes()));
        body.push(Segment::Stream(Box::new(part(Window::range(*br)))));
    }
    body.push(Segment::Bytes(format!("\r\n--{boundary}--").into_bytes()));
    (format!("multipart/byteranges;boundary={boundary}"), body)
}
