//! Dynamic large objects, as Swift 2.38's `dlo` middleware serves them.
//!
//! A GET or HEAD of an object whose metadata holds `X-Object-Manifest:
//! <container>/<prefix>` (percent-encoded; the manifest) answers with the
//! objects listed under the prefix in that container, in name order,
//! joined (`swift::segments`): the listing is read as the caller would
//! read it (a container GET: its 401/403/404 is the answer), and, when it
//! fits in one listing page, gives the Content-Length (the sum of the
//! listed sizes) and the ETag (the quoted MD5 of the listed ETags). With
//! more segments than one page, the body has no Content-Length and the
//! ETag is the manifest's own, as in Swift. The manifest's other headers
//! (its type, metadata, `X-Object-Manifest`) are kept.
//!
//! Conditions are evaluated against the joined ETag and the manifest's
//! Last-Modified; a single Range is served across segment boundaries (416
//! when it cannot be satisfied); several ranges are ignored (200 whole), as
//! Swift's DLO does. The first segment is opened before the answer starts:
//! missing or unreadable, it is a 409. `?multipart-manifest=get` reads the
//! manifest itself. A PUT's `X-Object-Manifest` is checked here (400).

use super::{Env, Middleware, Next};
use crate::core::constraints::CONTAINER_LISTING_LIMIT;
use crate::core::http::{Host, Request, Response, Segment, Streamed};
use crate::gate::admission::{self, db_key};
use crate::gate::Kind;
use crate::node::vhost::Vhost;
use crate::store::catalog::{ListingEntry, ListingQuery};

use crate::swift::conditional::{self, Outcome};
use crate::swift::error::ApiError;
use crate::swift::names::Target;
use crate::swift::object::{check_manifest, IGNORE_RANGE_IF};
use crate::swift::range::{self, RangeOutcome};
use crate::swift::segments::{Join, JoinError, Reader, SegmentRef, SegmentSource, Window};
use md5::{Digest, Md5};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::SystemTime;

pub struct Dlo;

impl Middleware for Dlo {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let Ok(Target::Object { account, .. }) = env.target(req).cloned() else {
            return next.run(env, req, host);
        };
        let manifest_get = env
            .query(req)
            .is_ok_and(|q| q.get("multipart-manifest") == Some("get"));
        match req.method {
            "GET" | "HEAD" if !manifest_get => read(env, req, host, next, &account),
            "PUT" => match req.header("X-Object-Manifest").map(check_manifest) {
                Some(Err(why)) => ApiError::refused(400, why).respond(host),
                _ => next.run(env, req, host),
            },
            _ => next.run(env, req, host),
        }
    }
}

/// A GET or HEAD that is not `?multipart-manifest=get`: the object's own
/// answer, unless it is a manifest.
fn read(
    env: &mut Env<'_>,
    req: &Request<'_>,
    host: &mut dyn Host,
    next: Next,
    account: &str,
) -> Response {
    // A manifest is read whole, Range unapplied (Swift's object server
    // still answers its conditions, 304 and 412 with their own headers; the
    // joined answer then applies them again, to the joined ETag).
    let mut inner = req.clone();
    inner
        .headers
        .push((Cow::Borrowed(IGNORE_RANGE_IF), "X-Object-Manifest".into()));
    let resp = next.run(env, &inner, host);
    let Some(value) = resp
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("X-Object-Manifest"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    else {
        return resp;
    };
    let reader = Reader {
        caller: env.caller.clone(),
        referer: req.header("Referer").map(str::to_string),
    };
    let planned = plan(env.vh, req, host, resp.headers, (account, &value), reader);
    match planned {
        Ok(Plan::Joined(j)) => j.into_response(),
        Ok(Plan::Answer(r)) => r,
        Err(e) => e.respond(host),
    }
}

/// What a read of a manifest answers: the joined object (or its 304/412,
/// without a body), or another answer (the listing's refusal, 409, 416).
pub(crate) enum Plan {
    Joined(Box<Joined>),
    Answer(Response),
}

/// A joined answer before it is sent.
pub(crate) struct Joined {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (200, 206): its first segment opened unless for HEAD.
    pub join: Option<Join>,
}

impl Joined {
    /// Its length, when known (None: more segments than one listing page).
    pub fn len(&self) -> Option<u64> {
        self.join
            .as_ref()
            .filter(|j| j.announces_length())
            .map(|j| j.len())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    pub fn into_response(self) -> Response {
        let mut r = Response::new(self.status);
        r.headers = self.headers;
        if let Some(join) = self.join {
            r.body.push(Segment::Stream(Box::new(join)));
        }
        r
    }
}

/// Plans the read of a manifest whose own answer (as a GET or HEAD by
/// `req`'s caller, Range unapplied) had `own` headers; `manifest` is its
/// account and `X-Object-Manifest` value. Any method but HEAD reads as a
/// GET (a copy's source).
pub(crate) fn plan(
    vh: &Vhost,
    req: &Request<'_>,
    host: &mut dyn Host,
    own: Vec<(String, Vec<u8>)>,
    (account, value): (&str, &str),
    reader: Reader,
) -> Result<Plan, ApiError> {
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned();
    let Some((container, prefix)) = decoded.split_once('/').filter(|(c, _)| !c.is_empty()) else {
        // Swift cannot split it either (its 500).
        return Err(ApiError::status_only(500));
    };
    let manifest = Manifest {
        account: account.to_string(),
        container: container.to_string(),
        prefix: prefix.to_string(),
        name: req.uri.to_string(),
    };
    joined(vh, req, host, own, &manifest, reader)
}

/// Where a manifest's segments are listed, and its path for logs.
struct Manifest {
    account: String,
    container: String,
    prefix: String,
    name: String,
}

/// The answer for a manifest whose own answer had the headers `own`.
fn joined(
    vh: &Vhost,
    req: &Request<'_>,
    host: &mut dyn Host,
    own: Vec<(String, Vec<u8>)>,
    m: &Manifest,
    reader: Reader,
) -> Result<Plan, ApiError> {
    let first = match first_page(vh, req, host, m, &reader)? {
        Ok(rows) => rows,
        Err(mut answer) => {
            if req.is_head() {
                answer.body.clear();
            }
            return Ok(Plan::Answer(answer));
        }
    };
    let complete = first.len() < CONTAINER_LISTING_LIMIT;
    let listed: u64 = first.iter().map(|(_, size, _)| size).sum();
    // The ranges Swift honours: one, satisfiable as far as one page tells.
    let mut window = if complete {
        Window::whole(listed)
    } else {
        Window::unbounded()
    };
    let mut content_range = None;
    let range_header = req.header("Range");
    // HEAD ignores a satisfiable Range (swob), but not an unsatisfiable one.
    if range::count(range_header) == Some(1)
        && (complete || range::single_end(range_header).is_some_and(|e| e < listed))
    {
        match range::evaluate(range_header, listed) {
            RangeOutcome::Partial(r) if !req.is_head() => {
                if let [one] = r.as_slice() {
                    window = Window::range(*one);
                    content_range = Some(format!("bytes {}-{}/{listed}", one.start, one.end - 1));
                }
            }
            RangeOutcome::Unsatisfiable => {
                let mut r = Response::swob(416);
                r.header("Accept-Ranges", "bytes");
                if complete {
                    r.header("Content-Range", format!("bytes */{listed}"));
                }
                return Ok(Plan::Answer(r));
            }
            RangeOutcome::Partial(_) | RangeOutcome::Whole => {}
        }
    }
    let mut headers: Vec<(String, Vec<u8>)> = own
        .into_iter()
        .filter(|(n, _)| {
            let dropped = n.eq_ignore_ascii_case("Content-Length")
                || n.eq_ignore_ascii_case("Content-Range")
                || (complete && n.eq_ignore_ascii_case("ETag"));
            !dropped
        })
        .collect();
    if complete {
        headers.push((
            "ETag".into(),
            format!("\"{}\"", joined_etag(&first)).into_bytes(),
        ));
    }
    let source = Listing {
        account: m.account.clone(),
        container: m.container.clone(),
        prefix: m.prefix.clone(),
        page: first.into_iter().collect(),
        last: String::new(),
        more: !complete,
        page_size: CONTAINER_LISTING_LIMIT,
    };
    let join = Join::new(Box::new(source), reader, window, m.name.clone());
    if !req.is_head() {
        if let Err(e) = join.prepare(vh, host) {
            host.log(
                crate::core::http::LogLevel::Error,
                &format!("while reading manifest {}: {e}", m.name),
            );
            return Ok(Plan::Answer(Response::swob(e.status())));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    };
    let etag = header("ETag").unwrap_or_default().to_string();
    let modified = header("Last-Modified")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let status = match conditional::evaluate(req, &etag, modified) {
        Outcome::NotModified => Some(304),
        Outcome::PreconditionFailed => Some(412),
        Outcome::Proceed => None,
    };
    let mut joined = Joined {
        status: match (status, &content_range) {
            (Some(s), _) => s,
            (None, Some(_)) => 206,
            (None, None) => 200,
        },
        headers,
        join: None,
    };
    if status.is_none() {
        if let Some(cr) = content_range {
            joined
                .headers
                .push(("Content-Range".into(), cr.into_bytes()));
        }
        joined.join = Some(join);
    }
    Ok(Plan::Joined(Box::new(joined)))
}

/// The quoted-ETag-free MD5 of the listed ETags, in order (Swift's DLO
/// ETag).
fn joined_etag(rows: &[(String, u64, String)]) -> String {
    let mut md5 = Md5::new();
    for (_, _, etag) in rows {
        md5.update(conditional::normalize_etag(etag).as_bytes());
    }
    crate::core::hex::hex(&md5.finalize())
}

/// One listing row: name, size, ETag.
type Row = (String, u64, String);

/// The first page of the segment listing, read as the caller's container
/// GET would be (under the container's gate); Err(answer) is the
/// listing's refusal (401, 403, 404), Swift's answer for the manifest.
fn first_page(
    vh: &Vhost,
    req: &Request<'_>,
    host: &mut dyn Host,
    m: &Manifest,
    reader: &Reader,
) -> Result<Result<Vec<Row>, Response>, ApiError> {
    let target = Target::Container {
        account: m.account.clone(),
        container: m.container.clone(),
    };
    if let Err(e) = reader.check_get(vh, &target) {
        return Ok(Err(e.respond(host)));
    }
    let gate = (Kind::Container, db_key(&[&m.account, &m.container]));
    let page = admission::serve(&vh.gates, req, gate, host, |host| {
        match list(vh, m, "", CONTAINER_LISTING_LIMIT) {
            Ok(Some(rows)) => Page::Rows(rows),
            Ok(None) => Page::Answer(ApiError::not_found().respond(host)),
            Err(e) => Page::Answer(e.respond(host)),
        }
    });
    Ok(match page {
        Page::Rows(rows) => Ok(rows),
        Page::Answer(r) => Err(r),
    })
}

enum Page {
    Rows(Vec<Row>),
    Answer(Response),
}

impl From<Response> for Page {
    fn from(r: Response) -> Page {
        Page::Answer(r)
    }
}

/// One page of the listing after `marker`; None when the container is gone.
fn list(
    vh: &Vhost,
    m: &Manifest,
    marker: &str,
    limit: usize,
) -> Result<Option<Vec<Row>>, ApiError> {
    let q = ListingQuery {
        prefix: m.prefix.clone(),
        marker: marker.to_string(),
        limit,
        ..ListingQuery::default()
    };
    let rows = vh.catalog.list_objects(&m.account, &m.container, &q)?;
    Ok(rows.map(|rows| {
        rows.into_iter()
            .filter_map(|e| match e {
                ListingEntry::Item(r) => Some((r.name, r.size, r.etag)),
                ListingEntry::Subdir(_) => None,
            })
            .collect()
    }))
}

/// The segments of a DLO: the first page read before the answer, the
/// next pages as the body reaches them.
#[derive(Debug)]
struct Listing {
    account: String,
    container: String,
    prefix: String,
    page: VecDeque<Row>,
    /// The last name handed out (the next page's marker).
    last: String,
    /// The last page was full: more may follow.
    more: bool,
    page_size: usize,
}

impl SegmentSource for Listing {
    fn next(&mut self, vh: &Vhost, reader: &Reader) -> Result<Option<SegmentRef>, JoinError> {
        loop {
            if let Some((name, size, _)) = self.page.pop_front() {
                let seg = SegmentRef::whole(&self.account, &self.container, &name, size);
                self.last = name;
                return Ok(Some(seg));
            }
            if !self.more {
                return Ok(None);
            }
            let rows = self.next_page(vh, reader)?;
            self.more = rows.len() >= self.page_size;
            self.page = rows.into_iter().collect();
        }
    }
}

impl Listing {
    fn next_page(&self, vh: &Vhost, reader: &Reader) -> Result<Vec<Row>, JoinError> {
        let failed = |why: String| {
            JoinError::Listing(format!(
                "listing /{}/{}: {why}",
                self.account, self.container
            ))
        };
        let target = Target::Container {
            account: self.account.clone(),
            container: self.container.clone(),
        };
        reader
            .check_get(vh, &target)
            .map_err(|e| failed(format!("got {}", e.status())))?;
        let permit = vh.gates.acquire(
            Kind::Container,
            db_key(&[&self.account, &self.container]),
            &mut |_: &str| {},
        );
        let _permit = permit.map_err(|r| failed(format!("admission refused ({r:?})")))?;
        let m = Manifest {
            account: self.account.clone(),
            container: self.container.clone(),
            prefix: self.prefix.clone(),
            name: String::new(),
        };
        match list(vh, &m, &self.last, self.page_size) {
            Ok(Some(rows)) => Ok(rows),
            Ok(None) => Err(failed("got 404".into())),
            Err(e) => Err(failed(format!("got {}", e.status()))),
        }
    }
}

#[cfg(test)]
mod tests;
