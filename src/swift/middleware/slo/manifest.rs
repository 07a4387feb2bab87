//! An SLO manifest, as Swift's `slo` middleware reads and writes it: the
//! client's segment list on `PUT ?multipart-manifest=put` (checked for its
//! shape with Swift's 400 messages), the internal form stored as the
//! manifest object's body (`name`, `bytes`, `hash`, `content_type`,
//! `last_modified`, `range`, `sub_slo`; or `data`), the "raw" form given
//! back by `?multipart-manifest=get&format=raw`, and the SLO's ETag.
//! Pure logic: no I/O.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// Swift's defaults (`/info`'s `slo` section).
pub const MAX_MANIFEST_SEGMENTS: usize = 1000;
pub const MAX_MANIFEST_SIZE: u64 = 8 * 1024 * 1024;
pub const YIELD_FREQUENCY: u64 = 10;
/// Nested manifests deeper than this end the GET (Swift's
/// `max_slo_recursion_depth`).
pub const MAX_RECURSION_DEPTH: usize = 10;

/// One byte-range spec as swob's `Range` parses it: (first, last), either
/// may be missing but not both.
pub type Spec = (Option<u64>, Option<u64>);

/// A segment of the client's list, its shape checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Object {
        /// As the client wrote it (`/container/object`, leading `/`
        /// optional).
        path: String,
        etag: Option<String>,
        size_bytes: Option<i128>,
        range: Option<Spec>,
    },
    /// Inline bytes (`data`, base64 in the request).
    Data(Vec<u8>),
}

/// Parses and checks the client's manifest as Swift's
/// `parse_and_validate_input` does. `here` is the manifest's own
/// `(container, object)`. Err is Swift's 400 body (text/plain).
pub fn parse_input(body: &[u8], here: (&str, &str)) -> Result<Vec<Input>, String> {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Err("Manifest must be valid JSON.\n".into()),
    };
    let Value::Array(items) = parsed else {
        return Err("Manifest must be a list.\n".into());
    };
    let last = items.len().saturating_sub(1);
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match parse_one(item, i == last, here) {
            Ok(seg) => out.push(seg),
            Err(e) => errors.push(format!("Index {i}: {e}")),
        }
    }
    // Python's `'data' in d`, whatever `d` is.
    let has_data = |v: &Value| match v {
        Value::Object(d) => d.contains_key("data"),
        Value::String(s) => s.contains("data"),
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("data")),
        _ => false,
    };
    if !items.is_empty() && items.iter().all(has_data) {
        errors.push("Inline data segments require at least one object-backed segment.".into());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.iter().map(|e| format!("{e}\n")).collect())
    }
}

fn parse_one(item: &Value, is_last: bool, here: (&str, &str)) -> Result<Input, String> {
    let Value::Object(d) = item else {
        return Err("not a JSON object".into());
    };
    // Swift looks for "data" first, then "path".
    let (kind, allowed): (&str, &[&str]) = if d.contains_key("data") {
        ("data", &["data"])
    } else if d.contains_key("path") {
        ("path", &["path", "range", "etag", "size_bytes"])
    } else {
        return Err("expected keys to include one of 'data' or 'path'".into());
    };
    let mut extra: Vec<&String> = d
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    if !extra.is_empty() {
        extra.sort();
        let names: Vec<String> = extra.iter().map(|k| py_json_str(k)).collect();
        return Err(format!("extraneous keys {}", names.join(", ")));
    }
    if kind == "data" {
        let data = d
            .get("data")
            .and_then(Value::as_str)
            .and_then(strict_b64decode)
            .ok_or("data must be valid base64")?;
        if data.is_empty() {
            return Err("too small; each segment must be at least 1 byte.".into());
        }
        return Ok(Input::Data(data));
    }
    object_segment(d, is_last, here)
}

fn object_segment(
    d: &Map<String, Value>,
    is_last: bool,
    (container, object): (&str, &str),
) -> Result<Input, String> {
    let Some(Value::String(path)) = d.get("path") else {
        return Err("\"path\" must be a string".into());
    };
    let etag = match d.get("etag") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(e.clone()),
        Some(_) => return Err("\"etag\" must be a string or null (if provided)".into()),
    };
    if !path.trim_matches('/').contains('/') {
        return Err(
            "path does not refer to an object. Path must be of the form \
                    /container/object."
                .into(),
        );
    }
    let size_bytes = match d.get("size_bytes") {
        None | Some(Value::Null) => None,
        Some(v) => Some(py_int(v).ok_or("invalid size_bytes")?),
    };
    if size_bytes.is_some_and(|n| n < 1) && !is_last {
        return Err("too small; each segment must be at least 1 byte.".into());
    }
    if path.trim_start_matches('/') == format!("{container}/{object}") {
        return Err("manifest must not include itself as a segment".into());
    }
    let range = match d.get("range") {
        Some(v) if py_truthy(v) => {
            let Value::String(text) = v else {
                return Err("invalid range".into());
            };
            let specs = parse_range(text).ok_or("invalid range")?;
            let [spec] = specs[..] else {
                return Err("multiple ranges (only one allowed)".into());
            };
            if let Some(size) = size_bytes {
                let len = u64::try_from(size).unwrap_or(0);
                if size < 0 || resolve(spec, len).is_none() {
                    return Err("unsatisfiable range".into());
                }
            }
            Some(spec)
        }
        _ => None,
    };
    Ok(Input::Object {
        path: path.clone(),
        etag,
        size_bytes,
        range,
    })
}

/// swob's `Range('bytes=' + text)`: every spec, or None when any is
/// malformed.
pub fn parse_range(text: &str) -> Option<Vec<Spec>> {
    let compact: String = text.chars().filter(|&c| c != ' ').collect();
    let mut out = Vec::new();
    for part in compact.split(',') {
        let (a, b) = part.split_once('-')?;
        let first = if a.is_empty() {
            None
        } else {
            let n = py_int_str(a)?;
            Some(u64::try_from(n).ok()?)
        };
        let last = if b.is_empty() {
            None
        } else {
            if !b.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            Some(b.parse::<u64>().unwrap_or(u64::MAX))
        };
        match (first, last) {
            (None, None) => return None,
            (Some(f), Some(l)) if l < f => return None,
            _ => out.push((first, last)),
        }
    }
    Some(out)
}

/// swob's `ranges_for_length` for one spec: `(start, end)` with `end`
/// exclusive, or None when it is unsatisfiable.
pub fn resolve(spec: Spec, len: u64) -> Option<(u64, u64)> {
    match spec {
        (None, Some(0)) | (None, None) => None,
        (None, Some(n)) if n > len => Some((0, len)),
        (None, Some(n)) => Some((len - n, len)),
        (Some(b), _) if b >= len => None,
        (Some(b), None) => Some((b, len)),
        (Some(b), Some(e)) => Some((b, e.saturating_add(1).min(len))),
    }
}

/// Python's `int()` of a JSON value: integers, floats (truncated),
/// booleans and digit strings.
fn py_int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i128)
            }),
        Value::String(s) => py_int_str(s),
        _ => None,
    }
}

/// Python's `int()` of a string: surrounding whitespace, a sign, digits
/// with single underscores between them.
pub fn py_int_str(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Swift's `strict_b64decode`: only the alphabet between any `=` at the
/// ends, and enough padding for what is left over.
pub fn strict_b64decode(text: &str) -> Option<Vec<u8>> {
    let inner = text.trim_matches('=');
    let value = |c: u8| B64.iter().position(|&b| b == c).map(|p| p as u32);
    let vals: Vec<u32> = inner.bytes().map(value).collect::<Option<_>>()?;
    let pad = text.len() - text.trim_end_matches('=').len();
    match vals.len() % 4 {
        1 => return None,
        2 if pad < 2 => return None,
        3 if pad < 1 => return None,
        _ => {}
    }
    let mut out = Vec::with_capacity(vals.len() * 3 / 4);
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

pub fn b64encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A segment as the manifest object stores it (Swift's internal form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Object {
        /// `/container/object`.
        name: String,
        /// The segment object's size (a nested SLO's: its whole size).
        bytes: u64,
        /// Its ETag (a nested SLO's: the SLO ETag), unquoted.
        hash: String,
        content_type: String,
        last_modified: String,
        /// Inclusive `first-last`, normalized against `bytes`.
        range: Option<(u64, u64)>,
        sub_slo: bool,
    },
    Data(Vec<u8>),
}

impl Stored {
    /// How many bytes the segment adds to the SLO.
    pub fn span(&self) -> u64 {
        match self {
            Stored::Object {
                range: Some((a, b)),
                ..
            } => b - a + 1,
            Stored::Object { bytes, .. } => *bytes,
            Stored::Data(d) => d.len() as u64,
        }
    }

    /// What the segment adds to the SLO ETag's MD5.
    fn etag_part(&self) -> String {
        match self {
            Stored::Object {
                hash,
                range: Some((a, b)),
                ..
            } => format!("{hash}:{a}-{b};"),
            Stored::Object { hash, .. } => hash.clone(),
            Stored::Data(d) => crate::core::hex::hex(&Md5::digest(d)),
        }
    }
}

/// The SLO's ETag (unquoted): the MD5 of its segments' ETags, a ranged
/// segment's as `etag:first-last;`, inline data's as its MD5.
pub fn slo_etag(segments: &[Stored]) -> String {
    let mut h = Md5::new();
    for s in segments {
        h.update(s.etag_part().as_bytes());
    }
    crate::core::hex::hex(&h.finalize())
}

pub fn total_size(segments: &[Stored]) -> u64 {
    segments.iter().map(Stored::span).sum()
}

/// The manifest body Swift stores: `json.dumps` of the internal list
/// (its separators, ASCII only, keys in Swift's order).
pub fn to_stored_json(segments: &[Stored]) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match s {
            Stored::Object {
                name,
                bytes,
                hash,
                content_type,
                last_modified,
                range,
                sub_slo,
            } => {
                out.push_str(&format!(
                    "{{\"name\": {}, \"bytes\": {bytes}, \"hash\": {}, \"content_type\": {}, \
                     \"last_modified\": {}",
                    py_json_str(name),
                    py_json_str(hash),
                    py_json_str(content_type),
                    py_json_str(last_modified)
                ));
                if let Some((a, b)) = range {
                    out.push_str(&format!(", \"range\": \"{a}-{b}\""));
                }
                if *sub_slo {
                    out.push_str(", \"sub_slo\": true");
                }
                out.push('}');
            }
            Stored::Data(d) => {
                out.push_str(&format!("{{\"data\": \"{}\"}}", b64encode(d)));
            }
        }
    }
    out.push(']');
    out.into_bytes()
}

/// Reads a stored manifest; None when it is not one (Swift: 500, "Unable
/// to load SLO manifest"). Entries are read as Swift's GET reads them: a
/// `range` of "first-last", `sub_slo` true-ish, `bytes` a number or a
/// digit string.
pub fn parse_stored(body: &[u8]) -> Option<Vec<Stored>> {
    let Value::Array(items) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    items.iter().map(stored_one).collect()
}

fn stored_one(v: &Value) -> Option<Stored> {
    let d = v.as_object()?;
    if let Some(data) = d.get("data") {
        return strict_b64decode(data.as_str()?).map(Stored::Data);
    }
    let text = |k: &str| match d.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let bytes = u64::try_from(py_int(d.get("bytes")?)?).ok()?;
    let range = match d.get("range") {
        Some(Value::String(r)) if !r.is_empty() => {
            let (a, b) = r.split_once('-')?;
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some((a, b))?;
            Some((a, b))
        }
        _ => None,
    };
    let sub_slo = match d.get("sub_slo") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => is_true(s),
        _ => false,
    };
    Some(Stored::Object {
        name: text("name"),
        bytes,
        hash: text("hash"),
        content_type: text("content_type"),
        last_modified: text("last_modified"),
        range,
        sub_slo,
    })
}

/// The manifest in the form the client sent it, as `format=raw` gives it
/// back: `json.dumps(..., sort_keys=True)` of `etag`, `path`, `range`,
/// `size_bytes` (or `data`).
pub fn to_raw_json(segments: &[Stored]) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match s {
            Stored::Object {
                name,
                bytes,
                hash,
                range,
                ..
            } => {
                out.push_str(&format!(
                    "{{\"etag\": {}, \"path\": {}",
                    py_json_str(hash),
                    py_json_str(name)
                ));
                if let Some((a, b)) = range {
                    out.push_str(&format!(", \"range\": \"{a}-{b}\""));
                }
                out.push_str(&format!(", \"size_bytes\": {bytes}}}"));
            }
            Stored::Data(d) => out.push_str(&format!("{{\"data\": \"{}\"}}", b64encode(d))),
        }
    }
    out.push(']');
    out.into_bytes()
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`):
/// the listings' encoder.
pub fn py_json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::swift::listing::json_str(&mut out, s);
    out
}

/// Swift's `config_true_value`.
pub fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

#[cfg(test)]
mod tests;
