//! Server-side copy, as Swift's copy middleware does it: `COPY` with
//! `Destination` (and `Destination-Account`), or `PUT` with `X-Copy-From`
//! (and `X-Copy-From-Account`). The source is read with the caller's read
//! rights, the destination written with their write rights, and the bytes
//! stream from the source file into the new object (never held in memory),
//! under the object-write gate. The destination's container and account
//! quotas count what the copy writes (the source's length, or its range's),
//! as Swift's quota middlewares see its copy's PUT.

use super::{account_quotas, container_quotas, dlo, slo, Env, Middleware, Next};
use crate::core::http::{Host, Request, Response};
use crate::gate::{admission, Kind};
use crate::node::integrity::{self, Suspect, Verdict};
use crate::node::vhost::Vhost;
use crate::store::objects::OpenObject;
use crate::store::objects::{NewObject, ObjectMeta};
use crate::store::StoreError;
use crate::store::Timestamp;
use crate::swift::access;
use crate::swift::auth::Caller;
use crate::swift::error::ApiError;
use crate::swift::names::{self, Target};
use crate::swift::object::{self, ReadPlan, Source};
use crate::swift::query::Query;
use crate::swift::segments::Reader;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

pub struct Copy;

impl Middleware for Copy {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let target = match env.target(req) {
            Ok(t) if is_copy(req, t) => t.clone(),
            _ => return next.run(env, req, host),
        };
        // A copy whose destination is an SLO manifest PUT: its bytes go
        // to `slo` as the manifest, through the rest of the pipeline (and
        // its gates), as Swift's copy hands them on.
        let mode = env
            .query(req)
            .ok()
            .and_then(|q| q.get("multipart-manifest").map(str::to_string));
        // An SLO manifest copied as it is (`?multipart-manifest=get`):
        // Swift's copy reads it in the client's form (`format=raw`) and
        // PUTs that through `slo` (`?multipart-manifest=put`), which checks
        // every segment again.
        let into = match mode.as_deref() {
            Some("put") => Some(IntoSlo::Body),
            Some("get") if source_is_slo(env, req, &target) => Some(IntoSlo::Manifest),
            _ => None,
        };
        if let Some(into) = into {
            return copy_into_manifest(env, req, &target, into, host, next)
                .unwrap_or_else(|e| e.respond(host));
        }
        let (vh, caller) = (env.vh, &env.caller);
        let quota_refused = Cell::new(false);
        let resp = admission::serve(&vh.gates, req, (Kind::ObjectWrite, 0), host, |host| {
            handle(vh, req, &target, caller, &quota_refused, host)
        });
        // Swift's container_quotas refuses the copy's PUT before any
        // controller (so before CORS) sees it.
        env.answered_before_controller |= quota_refused.get();
        resp
    }
}

/// `PUT ?multipart-manifest=put` with `X-Copy-From` (or such a COPY): the
/// source's bytes (as a GET by the caller reads them) are the body of a
/// manifest PUT made through the rest of the pipeline, with the source's
/// ETag expected and its type and metadata carried, as Swift's copy does
/// (so `slo` checks them as a manifest; the ETag, the source's MD5, is
/// never the SLO's: Swift's 422 once the list checks out).
fn copy_into_manifest(
    env: &mut Env<'_>,
    req: &Request<'_>,
    target: &Target,
    into: IntoSlo,
    host: &mut dyn Host,
    next: Next,
) -> Result<Response, ApiError> {
    use super::slo::manifest::MAX_MANIFEST_SIZE;
    use std::os::unix::fs::FileExt;
    let vh = env.vh;
    let Target::Object {
        account,
        container,
        object,
    } = target
    else {
        return Err(ApiError::status_only(405));
    };
    let plan = plan(req, (account, container, object))
        .map_err(|r| ApiError::refused(r.status, r.message))?;
    let src = object_target(&plan.source)?;
    let mut as_get = req.clone();
    as_get.method = "GET";
    access::check(vh, &as_get, &src, &env.caller)?;
    let (sa, sc, so) = (&plan.source.0, &plan.source.1, &plan.source.2);
    let obj = object::open_live(vh, sa, sc, so)?.ok_or_else(|| object::missing(req))?;
    let (start, len, whole) = match object::plan_read(req, &obj.meta) {
        // Swift's slo turns the manifest's answer into the client's form:
        // a 304, 412 or 416, or a part of it, does not load (500).
        ReadPlan::Answer(_) if into == IntoSlo::Manifest => return Ok(unloadable(host)),
        ReadPlan::Ranges(r)
            if into == IntoSlo::Manifest && (r.len() != 1 || r[0].len() != obj.meta.size) =>
        {
            return Ok(unloadable(host))
        }
        ReadPlan::Answer(r) => return Ok(r),
        ReadPlan::Whole => (0, obj.meta.size, true),
        ReadPlan::Ranges(r) => (r[0].start, r[0].len(), false),
    };
    let raw = match into {
        IntoSlo::Body => None,
        // The manifest in the form a client PUTs it (Swift's format=raw).
        IntoSlo::Manifest => Some(
            slo::stored_segments(&obj)
                .map(|segs| slo::manifest::to_raw_json(&segs))
                .ok_or_else(|| ApiError::refused(500, "Unable to load SLO manifest"))?,
        ),
    };
    let len = raw.as_ref().map_or(len, |r| r.len() as u64);
    // What slo refuses unread (413) is not read either.
    let mut body = Vec::new();
    if let Some(raw) = raw {
        body = raw;
    } else if len <= MAX_MANIFEST_SIZE {
        body = vec![0u8; usize::try_from(len).unwrap_or(0)];
        obj.file
            .read_exact_at(&mut body, start)
            .map_err(|e| ApiError::from(StoreError::io("reading", "copy source", e)))?;
    }
    let fresh = req.header("X-Fresh-Metadata").is_some_and(is_true);
    let mut headers: Vec<(Cow<'_, str>, crate::core::http::HeaderValue<'_>)> = Vec::new();
    if !fresh {
        for (n, v) in &obj.meta.meta {
            if n.starts_with("x-object-meta-") && req.header(n).is_none() {
                let text = String::from_utf8_lossy(v).into_owned();
                headers.push((Cow::Owned(n.clone()), text.into()));
            }
        }
    }
    let dropped = [
        "X-Copy-From",
        "X-Copy-From-Account",
        "Destination",
        "Destination-Account",
        "Content-Length",
        "Transfer-Encoding",
        "Etag",
        "Range",
        "If-Match",
        "If-None-Match",
        "If-Modified-Since",
        "If-Unmodified-Since",
    ];
    headers.extend(
        req.headers
            .iter()
            .filter(|(n, _)| !dropped.iter().any(|d| n.eq_ignore_ascii_case(d)))
            .cloned(),
    );
    if req.header("Content-Type").is_none_or(str::is_empty) {
        let ct = slo::clean_content_type(&obj.meta.content_type).to_string();
        headers.push((Cow::Borrowed("Content-Type"), ct.into()));
    }
    let large =
        slo::is_manifest(&obj.meta) || obj.meta.meta.iter().any(|(n, _)| n == "x-object-manifest");
    if whole && !large {
        headers.push((Cow::Borrowed("Etag"), obj.meta.etag.clone().into()));
    }
    let (da, dc, dobj) = (&plan.dest.0, &plan.dest.1, &plan.dest.2);
    let uri = format!("/v1/{}/{}/{}", quote(da), quote(dc), quote(dobj));
    let sink = Request {
        method: "PUT",
        uri: uri.into(),
        headers,
        query: match into {
            IntoSlo::Body => req.query,
            IntoSlo::Manifest => "multipart-manifest=put",
        },
        content_length: Some(len),
        chunked: false,
        ..req.clone()
    };
    let mut sub = Env::new(vh);
    sub.caller = env.caller.clone();
    let mut with_body = slo::WithBody::new(host, body);
    let mut resp = next.run(&mut sub, &sink, &mut with_body);
    if (200..300).contains(&resp.status) {
        let modified = obj.meta.timestamp.max(obj.meta.meta_timestamp);
        resp.header("X-Copied-From-Account", quote(sa))
            .header("X-Copied-From", quote(&format!("{sc}/{so}")))
            .header("X-Copied-From-Last-Modified", modified.http_date());
    }
    Ok(resp)
}

/// Swift's answer when the manifest a copy reads with
/// `?multipart-manifest=get` is not whole (conditions, a Range).
fn unloadable(host: &mut dyn Host) -> Response {
    host.log(
        crate::core::http::LogLevel::Error,
        "Unable to load SLO manifest",
    );
    Response::error(500, "Unable to load SLO manifest")
}

/// What a copy into `slo` sends it as the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntoSlo {
    /// The source's bytes (`PUT ?multipart-manifest=put` with a source).
    Body,
    /// The source SLO's own manifest, as a client would PUT it (a copy
    /// with `?multipart-manifest=get`).
    Manifest,
}

/// Whether the copy's source is an SLO manifest the caller may read (any
/// failure is left to the plain copy to answer).
fn source_is_slo(env: &Env<'_>, req: &Request<'_>, target: &Target) -> bool {
    let Target::Object {
        account,
        container,
        object,
    } = target
    else {
        return false;
    };
    let Ok(plan) = plan(req, (account, container, object)) else {
        return false;
    };
    let Ok(src) = object_target(&plan.source) else {
        return false;
    };
    let mut as_get = req.clone();
    as_get.method = "GET";
    if access::check(env.vh, &as_get, &src, &env.caller).is_err() {
        return false;
    }
    let (sa, sc, so) = (&plan.source.0, &plan.source.1, &plan.source.2);
    matches!(object::open_live(env.vh, sa, sc, so), Ok(Some(o)) if slo::is_manifest(&o.meta))
}

/// Whether the request is a server-side copy (object level only).
pub fn is_copy(req: &Request<'_>, target: &Target) -> bool {
    matches!(target, Target::Object { .. })
        && (req.method == "COPY"
            || (req.method == "PUT" && req.header("X-Copy-From").is_some_and(|v| !v.is_empty())))
}

/// Source and destination of one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub source: (String, String, String),
    pub dest: (String, String, String),
}

/// A failure before any data moves, with Swift's status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> Refused {
    Refused {
        status,
        message: message.into(),
    }
}

/// Works out source and destination from the headers, as Swift does.
/// `target` is the request's own (account, container, object).
pub fn plan(req: &Request<'_>, target: (&str, &str, &str)) -> Result<Plan, Refused> {
    let own = (
        target.0.to_string(),
        target.1.to_string(),
        target.2.to_string(),
    );
    if req.method == "COPY" {
        let dest = req
            .header("Destination")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refuse(412, "Destination header required"))?;
        let account = match req.header("Destination-Account") {
            Some(a) => account_name(a)?,
            None => own.0.clone(),
        };
        let (c, o) = path_header(dest, "Destination")?;
        return Ok(Plan {
            source: own,
            dest: (account, c, o),
        });
    }
    // Swift refuses a body with a non-zero length; a chunked one is read
    // as empty.
    if req.content_length.is_some_and(|n| n > 0) {
        return Err(refuse(400, "Copy requests require a zero byte body"));
    }
    let account = match req.header("X-Copy-From-Account") {
        Some(a) => account_name(a)?,
        None => own.0.clone(),
    };
    let from = req.header("X-Copy-From").unwrap_or_default();
    let (c, o) = path_header(from, "X-Copy-From")?;
    Ok(Plan {
        source: (account, c, o),
        dest: own,
    })
}

/// `<container>/<object>`, percent-decoded, optionally with a leading `/`.
fn path_header(value: &str, name: &str) -> Result<(String, String), Refused> {
    let bad = || {
        refuse(
            412,
            format!("{name} header must be of the form <container name>/<object name>"),
        )
    };
    let decoded = names::decode_path(value).map_err(|e| refuse(e.status, e.message))?;
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    match path.split_once('/') {
        Some((c, o)) if !c.is_empty() && !o.is_empty() => Ok((c.to_string(), o.to_string())),
        _ => Err(bad()),
    }
}

fn account_name(value: &str) -> Result<String, Refused> {
    let decoded = names::decode_path(value).map_err(|e| refuse(e.status, e.message))?;
    if decoded.is_empty() {
        return Err(refuse(412, "Account name cannot be empty"));
    }
    if decoded.contains('/') {
        return Err(refuse(412, "Account name cannot contain slashes"));
    }
    Ok(decoded)
}

/// The metadata of the copy: the source's (without its manifest, as Swift
/// does) overridden header by header by the request's, or only the
/// request's with `X-Fresh-Metadata: true`.
pub fn merge_metadata(
    source: &[(String, Vec<u8>)],
    request: Vec<(String, Vec<u8>)>,
    fresh: bool,
) -> Vec<(String, Vec<u8>)> {
    if fresh {
        return request;
    }
    let mut out: Vec<(String, Vec<u8>)> = source
        .iter()
        .filter(|(n, _)| n != "x-object-manifest" && !request.iter().any(|(r, _)| r == n))
        .cloned()
        .collect();
    out.extend(request);
    out
}

/// Handles a COPY or a PUT with X-Copy-From; `quota_refused` is set when
/// the destination container's quota refused it.
fn handle(
    vh: &Vhost,
    req: &Request<'_>,
    target: &Target,
    caller: &Caller,
    quota_refused: &Cell<bool>,
    host: &mut dyn Host,
) -> Response {
    copy(vh, req, target, caller, quota_refused, host).unwrap_or_else(|e| e.respond(host))
}

fn copy(
    vh: &Vhost,
    req: &Request<'_>,
    target: &Target,
    caller: &Caller,
    quota_refused: &Cell<bool>,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let (account, container, object) = match target {
        Target::Object {
            account,
            container,
            object,
        } => (account, container, object),
        Target::Container { .. } => {
            return Err(ApiError::method_not_allowed(crate::swift::container::ALLOW))
        }
        Target::Account { .. } => {
            return Err(ApiError::method_not_allowed(crate::swift::account::ALLOW))
        }
    };
    let plan = plan(req, (account, container, object))
        .map_err(|r| ApiError::refused(r.status, r.message))?;
    let src = object_target(&plan.source)?;
    // A bad destination name answers before the source is read.
    object_target(&plan.dest)?;
    // The source is read as a GET by the same caller would be.
    let mut as_get = req.clone();
    as_get.method = "GET";
    access::check(vh, &as_get, &src, caller)?;
    let (sa, sc, so) = (&plan.source.0, &plan.source.1, &plan.source.2);
    // The source answers as a GET with the request's headers would:
    // 304, 412 and 416 with its headers, or the bytes to copy (a Range
    // copies only those, as Swift does).
    let obj = object::open_live(vh, sa, sc, so)?.ok_or_else(|| object::missing(req))?;
    let last_modified = obj.meta.timestamp.max(obj.meta.meta_timestamp);
    let manifest_get =
        Query::parse(req.query).is_ok_and(|q| q.get("multipart-manifest") == Some("get"));
    let dlo = obj
        .meta
        .meta
        .iter()
        .find(|(n, _)| n == "x-object-manifest")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    if let Some(value) = dlo.as_deref().filter(|_| !manifest_get) {
        let joined = joined_source(vh, req, &obj, (sa, value), caller, host)?;
        let sink = (&plan, caller, quota_refused);
        return copy_joined(vh, req, sink, joined, &obj, host);
    }
    let slo_manifest = slo::is_manifest(&obj.meta);
    if slo_manifest && !manifest_get {
        let sink = (&plan, caller, quota_refused);
        return copy_slo_joined(vh, req, sink, &obj, host);
    }
    let ranges = match object::plan_read(req, &obj.meta) {
        ReadPlan::Answer(r) => return Ok(r),
        ReadPlan::Whole => None,
        ReadPlan::Ranges(r) => Some(r),
    };
    // A range copies the body of a 206: its length is what the quotas
    // count, as Swift's copy PUT carries the GET's Content-Length.
    let part = match ranges {
        None => None,
        Some(ranges) => {
            let file = obj
                .file
                .try_clone()
                .map_err(|e| ApiError::from(StoreError::io("reopening", "copy source", e)))?;
            Some(object::partial(&ranges, &obj.meta, Arc::new(file)))
        }
    };
    let length = part.as_ref().map_or(obj.meta.size, Response::body_len);
    // The manifest itself (`?multipart-manifest=get`) stays one.
    let keep_manifest = dlo.filter(|_| manifest_get);
    let Sink {
        request_meta,
        content_type,
        fresh,
    } = admit_sink(vh, req, &plan, caller, length, keep_manifest, quota_refused)?;
    let (da, dc, dobj) = (&plan.dest.0, &plan.dest.1, &plan.dest.2);
    // A whole copy is verified against the source's ETag as it is
    // written; a range copy cannot be, so the source is checked first.
    let (source, source_type, expected_etag) = match part {
        None => (
            Source::File(&obj.file, obj.meta.size),
            obj.meta.content_type.clone(),
            Some(obj.meta.etag.clone()),
        ),
        Some(part) => {
            let suspect = Suspect::new((sa, sc, so), &obj);
            if integrity::verify_first(vh, &suspect, &obj, host)? == Verdict::Quarantined {
                return Err(ApiError::not_found());
            }
            // Several ranges: the multipart body and its type, as Swift.
            let ty = part
                .get_header("Content-Type")
                .unwrap_or_default()
                .to_string();
            (Source::Parts(part.body), ty, None)
        }
    };
    // An SLO manifest copied as such keeps its listed size with a type of
    // the request's (Swift re-PUTs it through slo, which appends it).
    let content_type = match (content_type, slo_manifest) {
        (Some(t), true) => Some(format!("{t};swift_bytes={}", slo_size(&obj.meta))),
        (t, _) => t.map(str::to_string),
    };
    let new = NewObject {
        timestamp: Timestamp::now(),
        content_type: content_type.unwrap_or(source_type),
        meta: merge_metadata(&obj.meta.meta, request_meta, fresh),
        expected_etag,
        max_size: crate::core::constraints::MAX_FILE_SIZE,
    };
    let stored = match object::store(vh, (da, dc, dobj), &new, source, host) {
        Ok(m) => m,
        // The source's bytes did not hash to its ETag: nothing was stored;
        // hash it again, and quarantine it when it is indeed corrupt.
        Err(e) if e.status() == 422 => {
            let suspect = Suspect::new((sa, sc, so), &obj);
            return match integrity::verify_first(vh, &suspect, &obj, host)? {
                Verdict::Quarantined => Err(ApiError::not_found()),
                Verdict::Good => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let mut r = copied(&stored, &plan, last_modified);
    if slo_manifest {
        // Still an SLO: answered with its ETag, as slo's PUT answers.
        let etag = slo_attrs_of(&obj).0;
        r.remove_header("ETag");
        r.header("ETag", format!("\"{etag}\""));
    }
    Ok(r)
}

fn slo_size(meta: &ObjectMeta) -> u64 {
    meta.meta
        .iter()
        .find(|(n, _)| n == slo::SYSMETA_SLO_SIZE)
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(meta.size)
}

fn slo_attrs_of(obj: &OpenObject) -> (String, u64) {
    let segments = slo::stored_segments(obj).unwrap_or_default();
    slo::slo_attrs(&obj.meta, &segments)
}

/// Copies the joined bytes of an SLO into a new (plain) object, as Swift
/// copies what a GET of the source answers: conditions against the SLO's
/// ETag, its Range (several: the multipart body), no ETag expected
/// of the bytes (an SLO's is not their MD5; each segment is checked as it
/// is read), none of the manifest's system metadata carried.
fn copy_slo_joined(
    vh: &Vhost,
    req: &Request<'_>,
    (plan, caller, quota_refused): (&Plan, &Caller, &Cell<bool>),
    obj: &OpenObject,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    use crate::swift::conditional::{self, Outcome};
    use crate::swift::range::{self, ByteRange, RangeOutcome};
    let segments = slo::stored_segments(obj)
        .ok_or_else(|| ApiError::refused(500, "Unable to load SLO manifest"))?;
    let (etag, size) = slo::slo_attrs(&obj.meta, &segments);
    let last_modified = obj.meta.timestamp.max(obj.meta.meta_timestamp);
    match conditional::evaluate(req, &etag, last_modified.http_time()) {
        Outcome::Proceed => {}
        Outcome::NotModified => return Err(ApiError::from(Response::new(304))),
        Outcome::PreconditionFailed => return Err(ApiError::status_only(412)),
    }
    let part_type = slo::clean_content_type(&obj.meta.content_type).to_string();
    let reader = Reader {
        caller: caller.clone(),
        referer: req.header("Referer").map(str::to_string),
    };
    let name = format!("/v1/{}/{}/{}", plan.source.0, plan.source.1, plan.source.2);
    let body = match range::evaluate(req.header("Range"), size) {
        RangeOutcome::Whole => Joined::One(Box::new(slo::SloReader::new(
            vh,
            segments,
            &plan.source.0,
            ByteRange {
                start: 0,
                end: size,
            },
            reader,
            &name,
        ))),
        RangeOutcome::Partial(r) if r.len() == 1 => Joined::One(Box::new(slo::SloReader::new(
            vh,
            segments,
            &plan.source.0,
            r[0],
            reader,
            &name,
        ))),
        // Several ranges: the multipart body the GET answers, typed as it
        // is (Swift's copy stores what its source GET gave).
        RangeOutcome::Partial(r) => Joined::Parts(slo::SloMultipart::new(
            vh,
            segments,
            (&plan.source.0, size, &part_type),
            &r,
            reader,
            &name,
        )),
        RangeOutcome::Unsatisfiable => {
            let mut r = Response::error(416, "");
            r.header("Content-Range", format!("bytes */{size}"));
            return Err(ApiError::from(r));
        }
    };
    let len = body.len();
    if len > crate::core::constraints::MAX_FILE_SIZE {
        return Err(ApiError::status_only(413));
    }
    let Sink {
        request_meta,
        content_type,
        fresh,
    } = admit_sink(vh, req, plan, caller, len, None, quota_refused)?;
    let (da, dc, dobj) = (&plan.dest.0, &plan.dest.1, &plan.dest.2);
    let source_meta: Vec<(String, Vec<u8>)> = obj
        .meta
        .meta
        .iter()
        .filter(|(n, _)| !crate::store::objects::is_datafile_system_meta(n))
        .cloned()
        .collect();
    let new = NewObject {
        timestamp: Timestamp::now(),
        content_type: content_type.map_or_else(|| body.content_type(&part_type), str::to_string),
        meta: merge_metadata(&source_meta, request_meta, fresh),
        expected_etag: None,
        max_size: crate::core::constraints::MAX_FILE_SIZE,
    };
    let mut source = CopySource {
        joined: body,
        started: false,
        refused: None,
    };
    let stored = object::store(
        vh,
        (da, dc, dobj),
        &new,
        Source::Read(&mut source, len),
        host,
    );
    for (level, line) in source.joined.take_logs() {
        host.log(level, &line);
    }
    if let (Err(_), Some(e)) = (&stored, &source.refused) {
        return Ok(Response::swob(e.status()));
    }
    let stored = stored.map_err(|e| match e.status() {
        // A segment failed mid-copy: Swift's proxy answers 500 for a body
        // that broke off on its side.
        499 => ApiError::status_only(500),
        _ => e,
    })?;
    Ok(copied(&stored, plan, last_modified))
}

/// The bytes an SLO copy reads: one window of the joined object, or the
/// multipart body of several.
enum Joined<'v> {
    One(Box<slo::SloReader<'v>>),
    Parts(slo::SloMultipart<'v>),
}

/// An SLO copy's source, remembering why it failed when that happened
/// before any segment's byte: Swift's source GET then answers (409, or
/// 503), and its copy passes that answer on.
struct CopySource<'v> {
    joined: Joined<'v>,
    started: bool,
    refused: Option<crate::swift::segments::JoinError>,
}

impl std::io::Read for CopySource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.joined.read(buf);
        let started = match &self.joined {
            Joined::One(_) => self.started,
            Joined::Parts(p) => p.started(),
        };
        match &n {
            Ok(k) if *k > 0 => self.started = true,
            Err(e) if !started => {
                self.refused = e
                    .get_ref()
                    .and_then(|i| i.downcast_ref::<crate::swift::segments::JoinError>())
                    .cloned();
            }
            _ => {}
        }
        n
    }
}

impl Joined<'_> {
    fn len(&self) -> u64 {
        match self {
            Joined::One(r) => r.window_len(),
            Joined::Parts(p) => p.len,
        }
    }

    /// The stored type when the request names none: the SLO's, or the
    /// multipart body's.
    fn content_type(&self, slo_type: &str) -> String {
        match self {
            Joined::One(_) => slo_type.to_string(),
            Joined::Parts(p) => p.content_type.clone(),
        }
    }

    fn take_logs(&mut self) -> Vec<(crate::core::http::LogLevel, String)> {
        match self {
            Joined::One(r) => std::mem::take(&mut r.logs),
            Joined::Parts(p) => std::mem::take(&mut p.logs),
        }
    }
}

impl std::io::Read for Joined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Joined::One(r) => r.read(buf),
            Joined::Parts(p) => p.read(buf),
        }
    }
}

/// The X-Object-Manifest the copy's PUT carries (the source's when the
/// manifest itself is copied, else the request's), checked as Swift's DLO
/// checks a PUT's: 400.
fn check_sink_manifest(req: &Request<'_>, kept: Option<&str>) -> Result<(), ApiError> {
    match kept.or(req.header("X-Object-Manifest")) {
        Some(v) => object::check_manifest(v).map_err(|why| ApiError::refused(400, why)),
        None => Ok(()),
    }
}

/// The source of a copy of a DLO manifest: its segments joined, as a GET
/// with the request's headers (conditions, Range) by the same caller reads
/// them.
fn joined_source(
    vh: &Vhost,
    req: &Request<'_>,
    obj: &OpenObject,
    (account, value): (&str, &str),
    caller: &Caller,
    host: &mut dyn Host,
) -> Result<Result<Box<dlo::Joined>, Response>, ApiError> {
    let mut as_get = req.clone();
    as_get.method = "GET";
    as_get.headers.push((
        Cow::Borrowed(object::IGNORE_RANGE_IF),
        "X-Object-Manifest".into(),
    ));
    let own = match object::plan_read(&as_get, &obj.meta) {
        ReadPlan::Answer(r) => r.headers,
        ReadPlan::Whole | ReadPlan::Ranges(_) => object::whole_headers(&obj.meta),
    };
    let reader = Reader {
        caller: caller.clone(),
        referer: req.header("Referer").map(str::to_string),
    };
    Ok(
        match dlo::plan(vh, &as_get, host, own, (account, value), reader)? {
            dlo::Plan::Answer(r) => Err(r),
            dlo::Plan::Joined(j) if j.join.is_none() => Err(j.into_response()),
            dlo::Plan::Joined(j) => Ok(j),
        },
    )
}

/// Copies the joined segments of a DLO into a new object (not a manifest:
/// the source's X-Object-Manifest is not carried), as Swift copies what a
/// GET of the source answers. Its length must be known (413 for more
/// segments than one listing page, as Swift) and within the object limit;
/// no ETag is expected of the bytes (a DLO's is not their MD5), each
/// segment is checked as it is read.
fn copy_joined(
    vh: &Vhost,
    req: &Request<'_>,
    (plan, caller, quota_refused): (&Plan, &Caller, &Cell<bool>),
    joined: Result<Box<dlo::Joined>, Response>,
    obj: &OpenObject,
    host: &mut dyn Host,
) -> Result<Response, ApiError> {
    let mut joined = match joined {
        Ok(j) => j,
        Err(answer) => return Ok(answer),
    };
    let len = match joined.len() {
        Some(n) if n <= crate::core::constraints::MAX_FILE_SIZE => n,
        _ => return Err(ApiError::status_only(413)),
    };
    // The quotas count the joined length, as Swift's copy PUT carries it.
    let Sink {
        request_meta,
        content_type,
        fresh,
    } = admit_sink(vh, req, plan, caller, len, None, quota_refused)?;
    let (da, dc, dobj) = (&plan.dest.0, &plan.dest.1, &plan.dest.2);
    let source_type = joined
        .header("Content-Type")
        .unwrap_or_default()
        .to_string();
    let new = NewObject {
        timestamp: Timestamp::now(),
        content_type: content_type.map_or(source_type, str::to_string),
        meta: merge_metadata(&obj.meta.meta, request_meta, fresh),
        expected_etag: None,
        max_size: crate::core::constraints::MAX_FILE_SIZE,
    };
    let Some(join) = joined.join.take() else {
        return Err(ApiError::status_only(500));
    };
    let mut reader = join.into_reader(vh);
    let stored = object::store(
        vh,
        (da, dc, dobj),
        &new,
        Source::Read(&mut reader, len),
        host,
    );
    for (level, line) in std::mem::take(&mut reader.logs.lines) {
        host.log(level, &line);
    }
    // A segment that fails mid-copy ends the joined bytes short and nothing
    // is stored. Swift's proxy, whose PUT then has less than its length,
    // answers 499, a status Apache cannot send (it sends 500 with the 499
    // page): the answer is a plain 500.
    let stored = stored.map_err(|e| match e.status() {
        499 => ApiError::status_only(500),
        _ => e,
    })?;
    let last_modified = obj.meta.timestamp.max(obj.meta.meta_timestamp);
    Ok(copied(&stored, plan, last_modified))
}

/// What a copy may write, once `admit_sink` let it.
struct Sink<'r> {
    /// The request's own metadata for the new object.
    request_meta: Vec<(String, Vec<u8>)>,
    content_type: Option<&'r str>,
    /// `X-Fresh-Metadata`: the source's metadata is not carried over.
    fresh: bool,
}

/// The checks of a copy's destination before `length` bytes are written
/// there, in Swift's order: the manifest header (`kept_manifest`: the
/// source's, a copy of a DLO manifest stays one), the caller's write
/// access, the quotas, the container; then what the request asks of the
/// new object.
fn admit_sink<'r>(
    vh: &Vhost,
    req: &'r Request<'_>,
    plan: &Plan,
    caller: &Caller,
    length: u64,
    kept_manifest: Option<String>,
    quota_refused: &Cell<bool>,
) -> Result<Sink<'r>, ApiError> {
    check_sink_manifest(req, kept_manifest.as_deref())?;
    let mut as_put = req.clone();
    as_put.method = "PUT";
    access::check(vh, &as_put, &object_target(&plan.dest)?, caller)?;
    let (da, dc) = (&plan.dest.0, &plan.dest.1);
    check_quotas(vh, caller, (da, dc), length, quota_refused)?;
    if vh.catalog.container_info(da, dc)?.is_none() {
        return Err(ApiError::not_found());
    }
    let mut request_meta = object::stored_metadata(req).map_err(ApiError::bad_request)?;
    if let Some(value) = kept_manifest {
        request_meta.retain(|(n, _)| n != "x-object-manifest");
        request_meta.push(("x-object-manifest".into(), value.into_bytes()));
    }
    Ok(Sink {
        request_meta,
        content_type: object::content_type(req).map_err(ApiError::bad_request)?,
        fresh: req.header("X-Fresh-Metadata").is_some_and(is_true),
    })
}

/// The destination's quotas, in pipeline order, for `length` bytes (what
/// the copy writes: Swift's copy PUT carries its source GET's length);
/// call once the caller may write there (their access answers first).
fn check_quotas(
    vh: &Vhost,
    caller: &Caller,
    (account, container): (&str, &str),
    length: u64,
    quota_refused: &Cell<bool>,
) -> Result<(), ApiError> {
    if container_quotas::exceeded(vh, account, container, length) {
        quota_refused.set(true);
        return Err(ApiError::refused(413, container_quotas::EXCEEDED));
    }
    if let Some(body) = account_quotas::exceeded(vh, caller, account, container, length) {
        return Err(ApiError::refused(413, body));
    }
    Ok(())
}

/// Swift's 201 for a copy: the PUT's headers, where it came from, and the
/// metadata the new object carries.
fn copied(stored: &ObjectMeta, plan: &Plan, src_modified: Timestamp) -> Response {
    let mut r = object::created(stored);
    r.header("X-Copied-From-Account", quote(&plan.source.0))
        .header(
            "X-Copied-From",
            quote(&format!("{}/{}", plan.source.1, plan.source.2)),
        )
        .header("X-Copied-From-Last-Modified", src_modified.http_date());
    for (name, value) in &stored.meta {
        if name.starts_with("x-object-meta-") || name == crate::node::expiry::DELETE_AT {
            r.header_bytes(name, value.clone());
        }
    }
    r
}

/// Checks the names of one side of the copy as a request path would be.
fn object_target((a, c, o): &(String, String, String)) -> Result<Target, ApiError> {
    names::split_target(&format!("{a}/{c}/{o}"))
        .and_then(|t| names::check_lengths(&t).map(|()| t))
        .map_err(|e| ApiError::refused(e.status, e.message))
}

/// Percent-encodes as Python's `quote` with `/` safe.
fn quote(s: &str) -> String {
    const SET: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'\\')
        .add(b'^')
        .add(b'[')
        .add(b']')
        .add(b'!')
        .add(b'$')
        .add(b'&')
        .add(b'\'')
        .add(b'(')
        .add(b')')
        .add(b'*')
        .add(b'+')
        .add(b',')
        .add(b':')
        .add(b';')
        .add(b'=')
        .add(b'@');
    utf8_percent_encode(s, SET).to_string()
}

fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn req(method: &'static str, headers: &[(&'static str, &'static str)]) -> Request<'static> {
        Request {
            method,
            headers: headers
                .iter()
                .map(|(n, v)| (Cow::Borrowed(*n), (*v).into()))
                .collect(),
            content_length: Some(0),
            ..Default::default()
        }
    }

    fn t(a: &str, c: &str, o: &str) -> (String, String, String) {
        (a.into(), c.into(), o.into())
    }

    const HERE: (&str, &str, &str) = ("AUTH_a", "c", "o");

    #[test]
    fn plans_copy_and_put() {
        let p = plan(&req("COPY", &[("Destination", "/c2/o2")]), HERE).unwrap();
        assert_eq!(p.source, t("AUTH_a", "c", "o"));
        assert_eq!(p.dest, t("AUTH_a", "c2", "o2"));
        let p = plan(
            &req(
                "COPY",
                &[
                    ("Destination", "c2/a%2Fb/c"),
                    ("Destination-Account", "AUTH_b"),
                ],
            ),
            HERE,
        )
        .unwrap();
        assert_eq!(p.dest, t("AUTH_b", "c2", "a/b/c"));
        let p = plan(
            &req(
                "PUT",
                &[("X-Copy-From", "/src/x"), ("X-Copy-From-Account", "AUTH_z")],
            ),
            HERE,
        )
        .unwrap();
        assert_eq!(p.source, t("AUTH_z", "src", "x"));
        assert_eq!(p.dest, t("AUTH_a", "c", "o"));
    }

    #[test]
    fn refuses_like_swift() {
        let e = plan(&req("COPY", &[]), HERE).unwrap_err();
        assert_eq!(e, refuse(412, "Destination header required"));
        for bad in ["c2", "/c2", "/c2/", "//o"] {
            let e = plan(&req("COPY", &[("Destination", bad)]), HERE).unwrap_err();
            assert_eq!(e.status, 412, "{bad}");
            assert!(e.message.starts_with("Destination header must be"), "{bad}");
        }
        let e = plan(&req("PUT", &[("X-Copy-From", "nocontainer")]), HERE).unwrap_err();
        assert_eq!(e.status, 412);
        assert!(e.message.starts_with("X-Copy-From header must be"));
        let e = plan(
            &req(
                "COPY",
                &[("Destination", "c/o"), ("Destination-Account", "a/b")],
            ),
            HERE,
        )
        .unwrap_err();
        assert_eq!(e, refuse(412, "Account name cannot contain slashes"));
        let mut body = req("PUT", &[("X-Copy-From", "c/o")]);
        body.content_length = Some(3);
        assert_eq!(plan(&body, HERE).unwrap_err().status, 400);
    }

    #[test]
    fn metadata_carried_or_fresh() {
        let m = |n: &str, v: &[u8]| (n.to_string(), v.to_vec());
        let src = vec![
            m("x-object-meta-a", b"1"),
            m("x-object-meta-b", b"2"),
            m("x-object-manifest", b"c/p"),
            m("content-encoding", b"gzip"),
            m("x-object-meta-bytes", b"caf\xe9"),
        ];
        let reqm = vec![m("x-object-meta-b", b"new")];
        let merged = merge_metadata(&src, reqm.clone(), false);
        assert_eq!(
            merged,
            vec![
                m("x-object-meta-a", b"1"),
                m("content-encoding", b"gzip"),
                m("x-object-meta-bytes", b"caf\xe9"),
                m("x-object-meta-b", b"new"),
            ]
        );
        assert_eq!(merge_metadata(&src, reqm.clone(), true), reqm);
    }

    #[test]
    fn quotes_like_python() {
        assert_eq!(quote("c/o n+é"), "c/o%20n%2B%C3%A9");
        assert_eq!(quote("a-b_c.d~"), "a-b_c.d~");
    }
}
