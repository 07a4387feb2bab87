//! GET and HEAD of an SLO, as Swift's `SloGetContext`: with
//! `?multipart-manifest=get` the manifest itself (as JSON, or with
//! `&format=raw` in the form the client sent it); otherwise the joined
//! segments (`swift::segments`), with the SLO's size, quoted ETag
//! (conditional requests are answered against it) and Range over the
//! joined bytes. Nested manifests are expanded as they are reached, at
//! most `MAX_RECURSION_DEPTH` deep; a segment missing, changed or not
//! readable by the caller answers 409 before the first byte, else breaks
//! the body.

use super::manifest::{self, Stored, MAX_RECURSION_DEPTH};
use super::{clean_content_type, header, is_slo, read_body, SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE};
use crate::core::http::{Host, Request, Response, Segment, SendError, Streamed};
use crate::node::vhost::Vhost;
use crate::swift::access;
use crate::swift::conditional::{self, Outcome};
use crate::swift::middleware::{Env, Next};
use crate::swift::names::Target;
use crate::swift::object;
use crate::swift::range::{self, ByteRange, RangeOutcome};
use crate::swift::segments::{Join, JoinError, Reader, SegmentRef, SegmentSource, Window};
use md5::{Digest, Md5};
use parking_lot::Mutex;
use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The most a stored manifest may hold when read back (what PUT writes
/// stays far below: 1000 segments of a few hundred bytes).
const MAX_STORED_MANIFEST: u64 = 64 * 1024 * 1024;

pub(super) fn handle(
    env: &mut Env<'_>,
    req: &Request<'_>,
    host: &mut dyn Host,
    next: Next,
) -> Response {
    let (manifest_get, raw, part) = match env.query(req) {
        Ok(q) => {
            let get = q.get("multipart-manifest") == Some("get");
            let part = q
                .has("part-number")
                .then(|| q.get("part-number").unwrap_or("\u{fffd}").to_string());
            (get, get && q.get("format") == Some("raw"), part)
        }
        Err(_) => return next.run(env, req, host),
    };
    if manifest_get {
        let resp = next.run(env, req, host);
        return manifest_answer(resp, req, raw, host);
    }
    let vh = env.vh;
    let names = match env.target(req) {
        Ok(Target::Object {
            account,
            container,
            object,
        }) => (account.clone(), container.clone(), object.clone()),
        _ => return next.run(env, req, host),
    };
    // Swift's X-Backend-Etag-Is-At and X-Backend-Ignore-Range-If-Metadata-
    // Present: when the object is an SLO, its conditions are answered
    // against the SLO's ETag and its Range is left to us; any other object
    // answers as asked.
    let mut asked = req.clone();
    asked
        .headers
        .push((Cow::Borrowed(object::ETAG_IS_AT), SYSMETA_SLO_ETAG.into()));
    asked.headers.push((
        Cow::Borrowed(object::IGNORE_RANGE_IF),
        "X-Static-Large-Object".into(),
    ));
    let mut resp = next.run(env, &asked, host);
    if !is_slo(&resp) {
        return resp;
    }
    if matches!(resp.status, 304 | 412) {
        // The manifest's answer with the SLO's ETag (its own beside it).
        let manifest_etag = header(&resp, "ETag").unwrap_or_default().to_string();
        let slo_etag = header(&resp, SYSMETA_SLO_ETAG).map(str::to_string);
        if let Some(etag) = slo_etag {
            resp.remove_header("ETag");
            resp.header("ETag", format!("\"{etag}\""));
            resp.header("X-Manifest-Etag", manifest_etag);
        }
        if resp.status == 304 {
            let clean = header(&resp, "Content-Type").map(|t| clean_content_type(t).to_string());
            if let Some(t) = clean {
                resp.remove_header("Content-Type");
                resp.header("Content-Type", t);
            }
        } else {
            resp.remove_header("Accept-Ranges");
        }
        return resp;
    }
    if resp.status != 200 {
        return resp;
    }
    let reader = Reader {
        caller: env.caller.clone(),
        referer: req.header("Referer").map(str::to_string),
    };
    let part = match part.as_deref().map(|p| part_number(p, req)).transpose() {
        Ok(p) => p,
        Err(why) => return Response::error(400, why),
    };
    slo_answer(vh, req, resp, &names, reader, part, host)
}

/// Swift's `get_valid_part_num`: `?part-number=N` of an SLO, N > 0, and
/// no (well-formed) Range beside it; Err is its 400 message.
fn part_number(value: &str, req: &Request<'_>) -> Result<usize, &'static str> {
    let n = manifest::py_int_str(value)
        .filter(|n| *n > 0)
        .ok_or("Part number must be an integer greater than 0")?;
    let ranged = req.header("Range").is_some_and(|r| {
        let compact: String = r.chars().filter(|&c| c != ' ').collect();
        compact
            .get(..6)
            .is_some_and(|u| u.eq_ignore_ascii_case("bytes="))
            && manifest::parse_range(&compact[6..]).is_some()
    });
    if ranged {
        return Err("Range requests are not supported with part number queries");
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

fn is_true_bytes(v: &[u8]) -> bool {
    std::str::from_utf8(v).is_ok_and(manifest::is_true)
}

/// `?multipart-manifest=get`: the manifest object's own answer, typed as
/// JSON, or in the client's form with `format=raw`.
fn manifest_answer(
    mut resp: Response,
    req: &Request<'_>,
    raw: bool,
    host: &mut dyn Host,
) -> Response {
    if !is_slo(&resp) {
        return resp;
    }
    if !raw {
        resp.remove_header("Content-Type");
        resp.header("Content-Type", "application/json; charset=utf-8");
        return resp;
    }
    let clean = header(&resp, "Content-Type").map(|t| clean_content_type(t).to_string());
    if let Some(t) = clean {
        resp.remove_header("Content-Type");
        resp.header("Content-Type", t);
    }
    // Swift converts the body it got: a HEAD has none, so its JSON does
    // not load (500); a partial body does not either.
    let segments = match req.is_head() {
        true => None,
        false => read_body(&resp, host)
            .ok()
            .and_then(|b| manifest::parse_stored(&b)),
    };
    let Some(segments) = segments else {
        host.log(
            crate::core::http::LogLevel::Error,
            "Unable to load SLO manifest",
        );
        return Response::error(500, "Unable to load SLO manifest");
    };
    let json = manifest::to_raw_json(&segments);
    resp.remove_header("ETag");
    resp.remove_header("Content-Length");
    resp.header("ETag", crate::core::hex::hex(&Md5::digest(&json)));
    resp.body = vec![Segment::Bytes(json)];
    resp
}

/// What the manifest says of the whole SLO.
struct Attrs {
    etag: String,
    size: u64,
    json_md5: String,
}

fn slo_answer(
    vh: &Vhost,
    req: &Request<'_>,
    mut resp: Response,
    (account, _, _): &(String, String, String),
    reader: Reader,
    part: Option<usize>,
    host: &mut dyn Host,
) -> Response {
    let json_md5 = header(&resp, "ETag").unwrap_or_default().to_string();
    let sysmeta = (
        header(&resp, SYSMETA_SLO_ETAG).map(str::to_string),
        header(&resp, SYSMETA_SLO_SIZE).and_then(|s| s.parse::<u64>().ok()),
    );
    let needs_segments =
        !req.is_head() || part.is_some() || sysmeta.0.is_none() || sysmeta.1.is_none();
    let segments = match needs_segments {
        false => None,
        true => match read_body(&resp, host)
            .ok()
            .and_then(|b| manifest::parse_stored(&b))
        {
            Some(s) => Some(s),
            None => {
                host.log(
                    crate::core::http::LogLevel::Error,
                    "Unable to load SLO manifest",
                );
                return Response::error(500, "Unable to load SLO manifest");
            }
        },
    };
    let attrs = match (sysmeta, &segments) {
        ((Some(etag), Some(size)), _) => Attrs {
            etag,
            size,
            json_md5,
        },
        (_, Some(segs)) => Attrs {
            etag: manifest::slo_etag(segs),
            size: manifest::total_size(segs),
            json_md5,
        },
        _ => return Response::error(500, "Unable to load SLO manifest"),
    };
    let content_type = header(&resp, "Content-Type")
        .map(|t| clean_content_type(t).to_string())
        .unwrap_or_default();
    let last_modified = header(&resp, "Last-Modified")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(std::time::UNIX_EPOCH);
    for h in ["Content-Type", "ETag", "Content-Length", "Content-Range"] {
        resp.remove_header(h);
    }
    resp.body.clear();
    resp.header("Content-Type", content_type.clone())
        .header("ETag", format!("\"{}\"", attrs.etag))
        .header("X-Manifest-Etag", attrs.json_md5.clone());
    match conditional::evaluate(req, &attrs.etag, last_modified) {
        Outcome::Proceed => {}
        Outcome::NotModified => {
            resp.status = 304;
            return resp;
        }
        Outcome::PreconditionFailed => {
            resp.status = 412;
            resp.remove_header("Accept-Ranges");
            resp.remove_header("Content-Type");
            resp.header("Content-Type", crate::core::http::SWOB_CONTENT_TYPE);
            return resp;
        }
    }
    // `?part-number=N`: the Nth segment of the manifest, as a range.
    let part_range = match (part, &segments) {
        (Some(n), Some(segs)) => {
            resp.header("X-Parts-Count", segs.len().to_string());
            if n > segs.len() {
                resp.status = 416;
                resp.header("Content-Range", format!("bytes */{}", attrs.size));
                let body = b"The requested part number is not satisfiable";
                match req.is_head() {
                    true => resp.header("Content-Length", "0"),
                    false => resp.header("Content-Length", body.len().to_string()),
                };
                if !req.is_head() {
                    resp.body.push(Segment::Bytes(body.to_vec()));
                }
                return resp;
            }
            let start: u64 = segs[..n - 1].iter().map(Stored::span).sum();
            Some(ByteRange {
                start,
                end: start + segs[n - 1].span(),
            })
        }
        _ => None,
    };
    if req.is_head() {
        match part_range {
            Some(br) => {
                resp.status = 206;
                resp.header("Content-Length", br.len().to_string());
                resp.header(
                    "Content-Range",
                    format!(
                        "bytes {}-{}/{}",
                        br.start,
                        br.end.saturating_sub(1),
                        attrs.size
                    ),
                );
            }
            None => {
                resp.header("Content-Length", attrs.size.to_string());
            }
        }
        return resp;
    }
    let segments = Arc::new(segments.unwrap_or_default());
    let name = req.uri.to_string();
    let body = |window: ByteRange| SloBody::new(&segments, account, window, reader.clone(), &name);
    let planned = match part_range {
        Some(br) => RangeOutcome::Partial(vec![br]),
        None => range::evaluate(req.header("Range"), attrs.size),
    };
    match planned {
        RangeOutcome::Unsatisfiable => {
            resp.status = 416;
            resp.header("Content-Range", format!("bytes */{}", attrs.size));
            if let Some(page) = crate::core::http::swob_page(416) {
                resp.body.push(Segment::Bytes(page.into_bytes()));
            }
            resp
        }
        RangeOutcome::Whole => {
            let b = body(ByteRange {
                start: 0,
                end: attrs.size,
            });
            if let Err(e) = b.prepare(vh, host) {
                return refused_join(e, host);
            }
            resp.body.push(Segment::Stream(Box::new(b)));
            resp
        }
        RangeOutcome::Partial(ranges) => {
            let first = body(ranges[0]);
            if let Err(e) = first.prepare(vh, host) {
                return refused_join(e, host);
            }
            resp.status = 206;
            if let [br] = ranges[..] {
                resp.header(
                    "Content-Range",
                    format!("bytes {}-{}/{}", br.start, br.end - 1, attrs.size),
                );
                resp.body.push(Segment::Stream(Box::new(first)));
                return resp;
            }
            let mut raw = [0u8; 16];
            let _ = getrandom::fill(&mut raw);
            let boundary = crate::core::hex::hex(&raw);
            resp.remove_header("Content-Type");
            resp.header(
                "Content-Type",
                format!("multipart/byteranges;boundary={boundary}"),
            );
            let mut first = Some(first);
            for (i, br) in ranges.iter().enumerate() {
                let lead = if i == 0 { "" } else { "\r\n" };
                let head = format!(
                    "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
                    br.start,
                    br.end - 1,
                    attrs.size
                );
                resp.body.push(Segment::Bytes(head.into_bytes()));
                let part = first.take().unwrap_or_else(|| body(*br));
                resp.body.push(Segment::Stream(Box::new(part)));
            }
            resp.body
                .push(Segment::Bytes(format!("\r\n--{boundary}--").into_bytes()));
            resp
        }
    }
}

/// The first segment could not be opened: Swift's 409 (or 503 for a
/// storage failure), swob's page.
fn refused_join(e: JoinError, host: &mut dyn Host) -> Response {
    host.log(
        crate::core::http::LogLevel::Warn,
        &format!("SLO GET refused: {e}"),
    );
    Response::swob(e.status())
}

/// One piece of the SLO's bytes in a window, as the manifest tree yields
/// it.
enum Piece {
    Object(SegmentRef),
    Data(Vec<u8>),
}

/// One level of the manifest tree being walked: its segments, the next
/// one, and the window's first and last byte relative to this level's
/// content (Swift's `_byterange_listing_iterator`).
#[derive(Debug)]
struct Frame {
    segments: Arc<Vec<Stored>>,
    next: usize,
    first: i128,
    last: i128,
    depth: usize,
}

/// Walks the manifest tree for one window, fetching nested manifests (as
/// the reader, with their read access checked) when reached.
#[derive(Debug)]
struct Walker {
    account: String,
    stack: Vec<Frame>,
    /// The last nested manifest fetched, by name (Swift caches a few).
    cached: Option<(String, Arc<Vec<Stored>>)>,
    /// A data piece met by a join's source, for the body to write next.
    pending: Option<Vec<u8>>,
    /// Bytes yielded so far.
    yielded: u64,
    name: String,
}

impl Walker {
    fn piece(&mut self, vh: &Vhost, reader: &Reader) -> Result<Option<Piece>, JoinError> {
        loop {
            let Some(f) = self.stack.last_mut() else {
                return Ok(None);
            };
            let Some(seg) = f.segments.get(f.next).cloned() else {
                self.stack.pop();
                continue;
            };
            f.next += 1;
            let len = i128::from(seg.span());
            if f.first >= len {
                f.first -= len;
                f.last -= len;
                continue;
            }
            if f.last < 0 {
                self.stack.pop();
                continue;
            }
            let (first, last, depth) = (f.first.max(0), f.last, f.depth);
            f.first -= len;
            f.last -= len;
            match seg {
                Stored::Data(d) => {
                    let (a, b) = (first as usize, last.min(len - 1) as usize);
                    let bytes = d.get(a..=b).unwrap_or_default().to_vec();
                    self.yielded += bytes.len() as u64;
                    return Ok(Some(Piece::Data(bytes)));
                }
                Stored::Object {
                    name,
                    bytes,
                    hash,
                    range,
                    sub_slo,
                    ..
                } => {
                    let (rs, re) = match range {
                        Some((a, b)) => (i128::from(a), i128::from(b)),
                        None => (0, len - 1),
                    };
                    if sub_slo {
                        if depth >= MAX_RECURSION_DEPTH {
                            return Err(JoinError::Listing(format!(
                                "While processing manifest {:?}, max recursion depth was exceeded",
                                self.name
                            )));
                        }
                        let segments = self.sub_manifest(vh, reader, &name)?;
                        self.stack.push(Frame {
                            segments,
                            next: 0,
                            first: rs + first,
                            last: re.min(rs + last),
                            depth: depth + 1,
                        });
                        continue;
                    }
                    let (c, o) = split_name(&name)
                        .ok_or_else(|| JoinError::Segment(format!("bad segment name {name:?}")))?;
                    let start = (rs + first) as u64;
                    let end = (re.min(rs + last) + 1) as u64;
                    self.yielded += end - start;
                    return Ok(Some(Piece::Object(SegmentRef {
                        account: self.account.clone(),
                        container: c.to_string(),
                        object: o.to_string(),
                        range: Some(ByteRange { start, end }),
                        len: end - start,
                        etag: Some(hash),
                        size: Some(bytes),
                    })));
                }
            }
        }
    }

    /// A nested manifest's segments, read as the reader would GET it with
    /// `?multipart-manifest=get`.
    fn sub_manifest(
        &mut self,
        vh: &Vhost,
        reader: &Reader,
        name: &str,
    ) -> Result<Arc<Vec<Stored>>, JoinError> {
        if let Some((n, segs)) = &self.cached {
            if n == name {
                return Ok(Arc::clone(segs));
            }
        }
        let segs = Arc::new(read_manifest(vh, reader, &self.account, name)?);
        self.cached = Some((name.to_string(), Arc::clone(&segs)));
        Ok(segs)
    }
}

/// `/container/object` (or without the leading `/`) split as Swift's
/// `split_path(name, 2, 2, True)`.
fn split_name(name: &str) -> Option<(&str, &str)> {
    let (c, o) = name.trim_start_matches('/').split_once('/')?;
    (!c.is_empty() && !o.is_empty()).then_some((c, o))
}

fn read_manifest(
    vh: &Vhost,
    reader: &Reader,
    account: &str,
    name: &str,
) -> Result<Vec<Stored>, JoinError> {
    use std::os::unix::fs::FileExt;
    let failed =
        |why: String| JoinError::Listing(format!("GET of submanifest {name} failed: {why}"));
    let (c, o) = split_name(name).ok_or_else(|| failed("bad name".into()))?;
    let target = Target::Object {
        account: account.to_string(),
        container: c.to_string(),
        object: o.to_string(),
    };
    let mut get = Request {
        method: "GET",
        ..Default::default()
    };
    if let Some(r) = &reader.referer {
        get.headers
            .push((Cow::Borrowed("Referer"), r.as_str().into()));
    }
    access::check(vh, &get, &target, &reader.caller).map_err(|e| failed(e.status().to_string()))?;
    let obj = crate::swift::object::open_live(vh, account, c, o)
        .map_err(|e| JoinError::Unavailable(format!("submanifest {name}: {e}")))?
        .ok_or_else(|| failed("404".into()))?;
    let flagged = obj
        .meta
        .meta
        .iter()
        .any(|(n, v)| n == "x-static-large-object" && is_true_bytes(v));
    if !flagged || obj.meta.size > MAX_STORED_MANIFEST {
        return Err(failed("not an SLO manifest".into()));
    }
    let mut body = vec![0u8; obj.meta.size as usize];
    obj.file
        .read_exact_at(&mut body, 0)
        .map_err(|e| JoinError::Unavailable(format!("submanifest {name}: {e}")))?;
    if crate::core::hex::hex(&Md5::digest(&body)) != obj.meta.etag {
        return Err(failed("its bytes do not match its ETag".into()));
    }
    manifest::parse_stored(&body).ok_or_else(|| failed("JSON-decoding failed".into()))
}

/// The bytes of one window of an SLO, as a streamed body: runs of object
/// segments go out through a `Join` each (the engine opens, checks and
/// sends them), inline data between them as it is.
#[derive(Debug)]
struct SloBody {
    walker: Arc<Mutex<Walker>>,
    len: u64,
    reader: Reader,
    /// The first run, opened before the answer is committed.
    first: Mutex<Option<Join>>,
    name: String,
}

impl SloBody {
    fn new(
        segments: &Arc<Vec<Stored>>,
        account: &str,
        window: ByteRange,
        reader: Reader,
        name: &str,
    ) -> SloBody {
        let walker = Walker {
            account: account.to_string(),
            stack: vec![Frame {
                segments: Arc::clone(segments),
                next: 0,
                first: i128::from(window.start),
                last: i128::from(window.end) - 1,
                depth: 1,
            }],
            cached: None,
            pending: None,
            yielded: 0,
            name: name.to_string(),
        };
        SloBody {
            walker: Arc::new(Mutex::new(walker)),
            len: window.len(),
            reader,
            first: Mutex::new(None),
            name: name.to_string(),
        }
    }

    fn run(&self) -> Join {
        Join::new(
            Box::new(Run(Arc::clone(&self.walker))),
            self.reader.clone(),
            Window::unbounded(),
            self.name.clone(),
        )
    }

    /// Opens the first segment (Swift's `validate_first_segment`).
    fn prepare(&self, vh: &Vhost, host: &mut dyn Host) -> Result<(), JoinError> {
        let join = self.run();
        join.prepare(vh, host)?;
        *self.first.lock() = Some(join);
        Ok(())
    }

    fn send_all(&self, host: &mut dyn Host, ctx: &dyn Any) -> Result<(), SendError> {
        let mut join = self.first.lock().take();
        loop {
            let j = join.take().unwrap_or_else(|| self.run());
            j.send_in(host, ctx)?;
            let data = self.walker.lock().pending.take();
            match data {
                Some(d) => host.write(&d)?,
                None => break,
            }
        }
        let yielded = self.walker.lock().yielded;
        if yielded != self.len {
            let e = JoinError::Segment(format!(
                "the segments of {} hold {yielded} bytes of the {} announced",
                self.name, self.len
            ));
            host.log(crate::core::http::LogLevel::Error, &e.to_string());
            return Err(SendError::Broken(Box::new(e)));
        }
        Ok(())
    }
}

impl Streamed for SloBody {
    fn len(&self) -> u64 {
        self.len
    }

    fn send(&self, host: &mut dyn Host) -> Result<(), SendError> {
        self.send_all(host, &())
    }

    fn send_in(&self, host: &mut dyn Host, ctx: &dyn Any) -> Result<(), SendError> {
        self.send_all(host, ctx)
    }
}

/// The segments of one run: the walker's object pieces, up to the next
/// inline data (left pending for the body) or the end.
struct Run(Arc<Mutex<Walker>>);

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("slo::Run")
    }
}

impl SegmentSource for Run {
    fn next(&mut self, vh: &Vhost, reader: &Reader) -> Result<Option<SegmentRef>, JoinError> {
        let mut w = self.0.lock();
        if w.pending.is_some() {
            return Ok(None);
        }
        match w.piece(vh, reader)? {
            Some(Piece::Object(seg)) => Ok(Some(seg)),
            Some(Piece::Data(d)) => {
                w.pending = Some(d);
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

/// An SLO's segments as they stand in its manifest object (its bytes
/// checked against its ETag); None when they do not load.
pub fn stored_segments(obj: &crate::store::objects::OpenObject) -> Option<Vec<Stored>> {
    use std::os::unix::fs::FileExt;
    if obj.meta.size > MAX_STORED_MANIFEST {
        return None;
    }
    let mut body = vec![0u8; usize::try_from(obj.meta.size).ok()?];
    obj.file.read_exact_at(&mut body, 0).ok()?;
    if crate::core::hex::hex(&Md5::digest(&body)) != obj.meta.etag {
        return None;
    }
    manifest::parse_stored(&body)
}

/// Whether stored metadata flags an SLO manifest.
pub fn is_manifest(meta: &crate::store::objects::ObjectMeta) -> bool {
    meta.meta
        .iter()
        .any(|(n, v)| n == "x-static-large-object" && is_true_bytes(v))
}

/// The SLO's ETag (unquoted) and size: its sysmeta, else computed from
/// the segments.
pub fn slo_attrs(meta: &crate::store::objects::ObjectMeta, segments: &[Stored]) -> (String, u64) {
    let find = |name: &str| {
        meta.meta
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
    };
    match (
        find(SYSMETA_SLO_ETAG),
        find(SYSMETA_SLO_SIZE).and_then(|s| s.parse().ok()),
    ) {
        (Some(etag), Some(size)) => (etag, size),
        _ => (manifest::slo_etag(segments), manifest::total_size(segments)),
    }
}

/// The bytes `window` of an SLO as an `io::Read` (a server-side copy):
/// runs of object segments through `Join::into_reader` (opened and
/// checked as when sending), inline data between them. Log lines are kept
/// in `logs` for the caller to write.
pub struct SloReader<'v> {
    vh: &'v Vhost,
    walker: Arc<Mutex<Walker>>,
    reader: Reader,
    name: String,
    len: u64,
    current: Option<crate::swift::segments::JoinReader<'v>>,
    data: Option<(Vec<u8>, usize)>,
    done: bool,
    pub logs: Vec<(crate::core::http::LogLevel, String)>,
}

impl<'v> SloReader<'v> {
    pub fn new(
        vh: &'v Vhost,
        segments: Vec<Stored>,
        account: &str,
        window: ByteRange,
        reader: Reader,
        name: &str,
    ) -> SloReader<'v> {
        let body = SloBody::new(&Arc::new(segments), account, window, reader.clone(), name);
        SloReader {
            vh,
            walker: body.walker,
            reader,
            name: name.to_string(),
            len: window.len(),
            current: None,
            data: None,
            done: false,
            logs: Vec::new(),
        }
    }

    /// How many bytes it reads when whole.
    pub fn window_len(&self) -> u64 {
        self.len
    }
}

impl std::io::Read for SloReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some((d, at)) = &mut self.data {
                if *at < d.len() {
                    let n = buf.len().min(d.len() - *at);
                    buf[..n].copy_from_slice(&d[*at..*at + n]);
                    *at += n;
                    return Ok(n);
                }
                self.data = None;
            }
            if let Some(r) = &mut self.current {
                let n = r.read(buf);
                if !matches!(n, Ok(0)) {
                    return n;
                }
                if let Some(mut r) = self.current.take() {
                    self.logs.append(&mut r.logs.lines);
                }
                match self.walker.lock().pending.take() {
                    Some(d) => self.data = Some((d, 0)),
                    None => self.done = true,
                }
                continue;
            }
            if self.done {
                let yielded = self.walker.lock().yielded;
                if yielded != self.len {
                    return Err(std::io::Error::other(JoinError::Segment(format!(
                        "the segments of {} hold {yielded} bytes of the {} announced",
                        self.name, self.len
                    ))));
                }
                return Ok(0);
            }
            let join = Join::new(
                Box::new(Run(Arc::clone(&self.walker))),
                self.reader.clone(),
                Window::unbounded(),
                self.name.clone(),
            );
            self.current = Some(join.into_reader(self.vh));
        }
    }
}

/// Several ranges of an SLO as the multipart/byteranges body a GET
/// answers, as an `io::Read` (a server-side copy of such a GET, as
/// Swift's copy stores it): each part's header, then its bytes through a
/// `SloReader`. `content_type` is the response's (with the boundary),
/// `len` the body's length.
pub struct SloMultipart<'v> {
    pub content_type: String,
    pub len: u64,
    parts: std::collections::VecDeque<Part<'v>>,
    started: bool,
    pub logs: Vec<(crate::core::http::LogLevel, String)>,
}

enum Part<'v> {
    Head(std::io::Cursor<Vec<u8>>),
    Bytes(Box<SloReader<'v>>),
}

impl<'v> SloMultipart<'v> {
    pub fn new(
        vh: &'v Vhost,
        segments: Vec<Stored>,
        (account, size, part_type): (&str, u64, &str),
        ranges: &[ByteRange],
        reader: Reader,
        name: &str,
    ) -> SloMultipart<'v> {
        let mut raw = [0u8; 16];
        let _ = getrandom::fill(&mut raw);
        let boundary = crate::core::hex::hex(&raw);
        let segments = Arc::new(segments);
        let mut parts = std::collections::VecDeque::new();
        let mut len = 0u64;
        for (i, br) in ranges.iter().enumerate() {
            let lead = if i == 0 { "" } else { "\r\n" };
            let head = format!(
                "{lead}--{boundary}\r\nContent-Type: {part_type}\r\nContent-Range: bytes {}-{}/{size}\r\n\r\n",
                br.start,
                br.end - 1
            );
            len += head.len() as u64 + br.len();
            parts.push_back(Part::Head(std::io::Cursor::new(head.into_bytes())));
            let body = SloBody::new(&segments, account, *br, reader.clone(), name);
            parts.push_back(Part::Bytes(Box::new(SloReader {
                vh,
                walker: body.walker,
                reader: reader.clone(),
                name: name.to_string(),
                len: br.len(),
                current: None,
                data: None,
                done: false,
                logs: Vec::new(),
            })));
        }
        let tail = format!("\r\n--{boundary}--").into_bytes();
        len += tail.len() as u64;
        parts.push_back(Part::Head(std::io::Cursor::new(tail)));
        SloMultipart {
            content_type: format!("multipart/byteranges;boundary={boundary}"),
            len,
            parts,
            started: false,
            logs: Vec::new(),
        }
    }
}

impl SloMultipart<'_> {
    /// Whether a segment's byte has been read (not only a part's header).
    pub fn started(&self) -> bool {
        self.started
    }
}

impl std::io::Read for SloMultipart<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while let Some(part) = self.parts.front_mut() {
            let n = match part {
                Part::Head(c) => std::io::Read::read(c, buf),
                Part::Bytes(r) => {
                    let n = r.read(buf);
                    self.logs.append(&mut r.logs);
                    self.started |= matches!(n, Ok(k) if k > 0);
                    n
                }
            }?;
            if n > 0 {
                return Ok(n);
            }
            self.parts.pop_front();
        }
        Ok(0)
    }
}
