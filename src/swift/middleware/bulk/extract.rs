//! `PUT ?extract-archive=tar|tar.gz|tar.bz2`: each regular file of the
//! archive becomes an object (its container created first if missing),
//! streamed from the request body through the decompressor and the tar
//! reader into an object PUT sub-request by the caller. Never more than one
//! tar block and the decompressor's window are held in memory.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, Read};
use std::rc::Rc;

use super::tar_guard::TarGuard;
use super::{
    has_body_length, split_target, SharedBody, SubRequests, MAX_CONTAINERS_PER_EXTRACTION,
    MAX_FAILED_EXTRACTIONS, MAX_PATH_LENGTH,
};
use crate::core::constraints::MAX_FILE_SIZE;
use crate::swift::bulk_results::{quote, status_line, OutFormat, Results, NUMBER_FILES_CREATED};
use crate::swift::names::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
}

impl Compression {
    /// The `extract-archive` value as Swift reads it (case-insensitive,
    /// dots at either end ignored); None for a format it refuses.
    pub fn from_param(v: &str) -> Option<Compression> {
        match v.to_lowercase().trim_matches('.') {
            "tar" => Some(Compression::None),
            "tar.gz" => Some(Compression::Gzip),
            "tar.bz2" => Some(Compression::Bzip2),
            _ => None,
        }
    }
}

/// Why the extraction stopped early: Swift's status and body.
struct Stop {
    status: u16,
    body: String,
}

fn stop(status: u16, body: impl Into<String>) -> Stop {
    Stop {
        status,
        body: body.into(),
    }
}

/// Stowage's own refusal (Swift would read the header into memory).
const EXTENSION_TOO_LARGE: &str = "extension header too large";

fn invalid_tar(why: &str) -> Stop {
    stop(400, format!("Invalid Tar File: {why}"))
}

/// Where an archive member goes: `container/object` under the request's
/// `base` (Swift's mapping: one leading `./` and every leading `/`
/// dropped, the base put in front), or None for a file that would land at
/// the account's top level (Swift skips those).
pub fn object_path(base: &str, name: &[u8]) -> Option<Vec<u8>> {
    let name = name.strip_prefix(b"./").unwrap_or(name);
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    let name = &name[start..];
    let mut path = Vec::new();
    if !base.is_empty() {
        path.extend_from_slice(base.as_bytes());
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path.contains(&b'/').then_some(path)
}

/// A failed item's name: the first `MAX_PATH_LENGTH` bytes, quoted.
fn failed_name(path: &[u8]) -> String {
    quote(&path[..path.len().min(MAX_PATH_LENGTH)])
}

/// The header a pax record becomes (Swift's `pax_key_to_swift_header`):
/// GNU and BSD tar's `user.mime_type` xattr is the Content-Type,
/// `user.meta.*` object metadata; anything else is dropped.
pub fn pax_header(key: &str) -> Option<String> {
    for lead in ["SCHILY.xattr.user.", "LIBARCHIVE.xattr.user."] {
        if let Some(rest) = key.strip_prefix(lead) {
            if rest == "mime_type" {
                return Some("Content-Type".into());
            }
            if let Some(meta) = rest.strip_prefix("meta.") {
                return Some(format!("X-Object-Meta-{meta}"));
            }
        }
    }
    None
}

/// What the decompressed stream did: bytes produced, and the first
/// decompression error (a cut-short stream is an end, as Python's tarfile
/// takes it).
#[derive(Default)]
struct Stats {
    produced: Cell<u64>,
    broken: Cell<bool>,
}

struct Watch<R> {
    inner: R,
    stats: Rc<Stats>,
}

impl<R: Read> Read for Watch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.stats
                    .produced
                    .set(self.stats.produced.get() + n as u64);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.stats.broken.set(true);
                Err(e)
            }
        }
    }
}

/// A member's data as its object PUT reads it: a member the archive ends
/// inside of fails the read (Python's tarfile: `unexpected end of data`),
/// so the PUT stores nothing, and `cut` tells the extraction.
struct Exact<'c, R> {
    inner: R,
    remaining: u64,
    cut: &'c Cell<bool>,
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.cut.set(true);
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "unexpected end of data",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The request body with its first two bytes already taken (to check the
/// gzip magic) put back in front.
struct Prefixed<'a, R> {
    head: &'a [u8],
    rest: R,
}

impl<R: Read> Read for Prefixed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head = &self.head[n..];
            return Ok(n);
        }
        self.rest.read(buf)
    }
}

/// The whole extraction; its results body in `format`.
pub fn run(
    sub: &SubRequests<'_, '_, '_, '_>,
    target: &Target,
    compression: Compression,
    format: Option<OutFormat>,
) -> Vec<u8> {
    let mut results = Results::extract();
    if let Err(s) = extract_all(sub, target, compression, format, &mut results) {
        results.set_status(s.status);
        results.set_body(&s.body);
    }
    results.render(format, "extract")
}

fn extract_all(
    sub: &SubRequests<'_, '_, '_, '_>,
    target: &Target,
    compression: Compression,
    format: Option<OutFormat>,
    results: &mut Results,
) -> Result<(), Stop> {
    if format.is_none() {
        return Err(stop(406, ""));
    }
    if !has_body_length(sub.req) {
        return Err(stop(411, ""));
    }
    let (account, base) = split_target(target);
    let base = base.trim_end_matches('/').to_string();
    let stats = Rc::new(Stats::default());
    let mut body = SharedBody::of(sub);
    let mut magic = Vec::new();
    let decoded: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(body),
        Compression::Gzip => {
            (&mut body)
                .take(2)
                .read_to_end(&mut magic)
                .map_err(|_| stop(499, ""))?;
            if magic != [0x1f, 0x8b] {
                return Err(invalid_tar("not a gzip file"));
            }
            Box::new(flate2::read::GzDecoder::new(Prefixed {
                head: &magic,
                rest: body,
            }))
        }
        Compression::Bzip2 => Box::new(bzip2::read::BzDecoder::new(body)),
    };
    let refused = Rc::new(Cell::new(false));
    let watched = Watch {
        inner: decoded,
        stats: Rc::clone(&stats),
    };
    let mut archive = tar::Archive::new(TarGuard::new(watched, Rc::clone(&refused)));
    let entries = archive.entries().map_err(|e| invalid_tar(&e.to_string()))?;
    let mut failed_status = 400;
    let mut created_containers = 0u64;
    let mut accessed: HashSet<Vec<u8>> = HashSet::new();
    let mut seen_any = false;
    for entry in entries {
        sub.tick().map_err(|_| stop(499, ""))?;
        if results.errors.len() >= MAX_FAILED_EXTRACTIONS {
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(_) if stats.broken.get() => return Err(invalid_tar("invalid compressed data")),
            Err(_) if refused.get() => return Err(invalid_tar(EXTENSION_TOO_LARGE)),
            // The archive ended inside the member before (one skipped, or
            // whose PUT stopped reading): Python's tarfile raises; any other
            // bad header after the first ends the archive quietly.
            Err(e) if seen_any && e.to_string().contains("unexpected EOF during skip") => {
                return Err(invalid_tar("unexpected end of data"))
            }
            Err(_) if seen_any => break,
            Err(_) => {
                return Err(invalid_tar(match stats.produced.get() {
                    0 => "empty file",
                    1..=511 => "truncated header",
                    _ => "invalid header",
                }))
            }
        };
        seen_any = true;
        let kind = entry.header().entry_type();
        let name = entry.path_bytes().into_owned();
        let old_dir = kind.as_byte() == b'\0' && name.ends_with(b"/");
        let regular = (kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) && !old_dir;
        if !regular {
            continue;
        }
        let Some(obj_path) = object_path(&base, &name) else {
            continue;
        };
        let mut destination = format!("/v1/{account}/").into_bytes();
        destination.extend_from_slice(&obj_path);
        if std::str::from_utf8(&destination).is_err() || destination.contains(&0) {
            results.fail(failed_name(&obj_path), status_line(412));
            continue;
        }
        let size = entry.size();
        if size > MAX_FILE_SIZE {
            results.fail(failed_name(&obj_path), status_line(413));
            continue;
        }
        let container = obj_path
            .split(|&b| b == b'/')
            .next()
            .unwrap_or_default()
            .to_vec();
        let mut container_failure = None;
        if !accessed.contains(&container) {
            let mut cont_path = format!("/v1/{account}/").into_bytes();
            cont_path.extend_from_slice(&container);
            match create_container(sub, &cont_path) {
                Ok(true) => {
                    created_containers += 1;
                    if created_containers > MAX_CONTAINERS_PER_EXTRACTION {
                        return Err(stop(
                            400,
                            format!(
                                "More than {MAX_CONTAINERS_PER_EXTRACTION} containers to create from tar."
                            ),
                        ));
                    }
                }
                Ok(false) => {}
                Err(401) => return Err(stop(401, "")),
                Err(status) => {
                    container_failure = Some((failed_name(&cont_path), status_line(status)))
                }
            }
        }
        let mut headers = Vec::new();
        for (k, v) in &sub.req.headers {
            let lower = k.to_ascii_lowercase();
            let user_meta = lower.starts_with("x-object-meta-") && lower.len() > 14;
            if user_meta || lower == "x-delete-at" || lower == "x-delete-after" {
                headers.push((k.to_string(), v.bytes().to_vec()));
            }
        }
        if let Ok(Some(pax)) = entry.pax_extensions() {
            for ext in pax.flatten() {
                if let Some(h) = ext.key().ok().and_then(pax_header) {
                    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&h));
                    headers.push((h, ext.value_bytes().to_vec()));
                }
            }
        }
        let cut = Cell::new(false);
        let mut data = Exact {
            inner: &mut entry,
            remaining: size,
            cut: &cut,
        };
        let resp = sub.run(
            "PUT",
            &destination,
            sub.agent,
            &headers,
            size,
            Some(&mut data),
        );
        accessed.insert(container);
        if cut.get() || stats.broken.get() {
            // Swift's proxy fails the PUT whose body raised (500), then the
            // archive's next read raises again.
            if let Some((n, s)) = container_failure {
                results.fail(n, s);
            }
            results.fail(failed_name(&obj_path), status_line(500));
            if stats.broken.get() {
                return Err(invalid_tar("invalid compressed data"));
            }
            return Err(invalid_tar("unexpected end of data"));
        }
        if (200..300).contains(&resp.status) {
            results.bump(NUMBER_FILES_CREATED);
        } else {
            if let Some((n, s)) = container_failure {
                results.fail(n, s);
            }
            if resp.status == 401 {
                results.fail(failed_name(&obj_path), status_line(401));
                return Err(stop(401, ""));
            }
            if resp.status / 100 == 5 {
                failed_status = 502;
            }
            results.fail(failed_name(&obj_path), status_line(resp.status));
        }
        if stats.broken.get() {
            return Err(invalid_tar("invalid compressed data"));
        }
    }
    if !seen_any && stats.produced.get() == 0 && !stats.broken.get() {
        return Err(invalid_tar("empty file"));
    }
    if stats.broken.get() {
        return Err(invalid_tar("invalid compressed data"));
    }
    if !results.errors.is_empty() {
        results.set_status(failed_status);
    } else if results.count(NUMBER_FILES_CREATED) == 0 {
        results.set_status(400);
        results.set_body("Invalid Tar File: No Valid Files");
    }
    Ok(())
}

/// Swift's `create_container`: HEAD the container, PUT it when missing.
/// Ok(true) when it was created, Ok(false) when it was there; Err is the
/// failing status.
fn create_container(sub: &SubRequests<'_, '_, '_, '_>, path: &[u8]) -> Result<bool, u16> {
    let none = Vec::new();
    let head = sub.run("HEAD", path, "", &none, 0, None);
    if (200..300).contains(&head.status) {
        return Ok(false);
    }
    if head.status == 404 {
        let put = sub.run("PUT", path, "", &none, 0, None);
        if (200..300).contains(&put.status) {
            return Ok(true);
        }
        return Err(put.status);
    }
    Err(head.status)
}

#[cfg(test)]
mod tests;
