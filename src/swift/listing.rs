//! Account and container listings rendered byte for byte as Swift renders
//! them (swift/common/middleware/listing_formats.py): plain text, JSON as
//! Python's `json.dumps` writes it (ASCII only, ", " and ": " separators),
//! and XML as ElementTree serialises it.

use crate::core::http::{Request, Response, Segment};
use crate::node::policy::Policies;
use crate::store::catalog::{ContainerRecord, ListingEntry, ObjectRecord};
use crate::swift::error::ApiError;
use crate::swift::query::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Json,
    /// XML, answered as `application/xml`.
    Xml,
    /// XML, answered as `text/xml` (what an Accept header chose).
    TextXml,
}

/// The media types Swift offers, in its order of preference.
const OFFERS: [(&str, Format); 4] = [
    ("text/plain", Format::Plain),
    ("application/json", Format::Json),
    ("application/xml", Format::Xml),
    ("text/xml", Format::TextXml),
];

impl Format {
    /// `?format=json|xml|plain` wins (any other value means plain); else the
    /// Accept header decides; else plain. Err is Swift's refusal: 400 for a
    /// malformed Accept header, 406 for one that matches none of its types.
    pub fn negotiate(format_param: Option<&str>, accept: Option<&str>) -> Result<Format, u16> {
        if let Some(f) = format_param.filter(|f| !f.is_empty()) {
            return Ok(match f.to_ascii_lowercase().as_str() {
                "json" => Format::Json,
                "xml" => Format::Xml,
                _ => Format::Plain,
            });
        }
        let ranges = match accept.map(str::trim).filter(|a| !a.is_empty()) {
            None => return Ok(Format::Plain),
            Some(a) => parse_accept(a).ok_or(400u16)?,
        };
        // Swift's swob.Accept.best_match: ranges by quality, exact before
        // wildcard; the first offer a range matches wins (q=0 included).
        ranges
            .iter()
            .find_map(|r| {
                OFFERS
                    .iter()
                    .find(|(offer, _)| r.matches(offer))
                    .map(|(_, f)| *f)
            })
            .ok_or(406)
    }
}

struct MediaRange {
    kind: String,
    subtype: String,
    q: f64,
}

impl MediaRange {
    fn matches(&self, offer: &str) -> bool {
        let (kind, subtype) = offer.split_once('/').unwrap_or((offer, ""));
        (self.kind == "*" || self.kind == kind) && (self.subtype == "*" || self.subtype == subtype)
    }

    fn exact(&self) -> bool {
        self.kind != "*" && self.subtype != "*"
    }
}

/// Accept ranges sorted as Swift sorts them; None if malformed.
fn parse_accept(header: &str) -> Option<Vec<MediaRange>> {
    let mut ranges = Vec::new();
    for item in header.split(',') {
        let mut parts = item.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        };
        if !token(kind) || !token(subtype) {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            let (name, value) = param.split_once('=')?;
            if name.trim() == "q" {
                q = value.trim().parse().ok()?;
            }
        }
        ranges.push(MediaRange {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            q,
        });
    }
    // Stable: equal ranges keep header order.
    ranges.sort_by(|a, b| b.q.total_cmp(&a.q).then(b.exact().cmp(&a.exact())));
    Some(ranges)
}

/// The response to an account or container listing GET: Swift answers an
/// empty plain-text listing with 204 and no body. `render` runs only when
/// there is a body to send.
pub fn response(format: Format, is_empty: bool, render: impl FnOnce() -> Vec<u8>) -> Response {
    let empty_plain = is_empty && format == Format::Plain;
    let mut r = Response::new(if empty_plain { 204 } else { 200 });
    r.header("Content-Type", content_type(format));
    if !empty_plain {
        r.body.push(Segment::Bytes(render()));
    }
    r
}

/// The headers of every account and container HEAD and GET that succeeds,
/// as Swift's proxy sends them: `Accept-Ranges: bytes`, and `Vary: Accept`
/// unless the query names a `format` (the listing_formats middleware's
/// rule: only then may the Accept header change the answer).
pub fn read_headers(r: &mut Response, q: &Query) {
    r.header("Accept-Ranges", "bytes");
    if !q.has("format") {
        r.header("Vary", "Accept");
    }
}

/// The format a listing request asks for (`Format::negotiate`), its
/// refusal as Swift answers it: 406, or 400 `Invalid Accept header` (or
/// for a `format` that is not UTF-8).
pub fn format_of(q: &Query, req: &Request<'_>) -> Result<Format, ApiError> {
    q.check_utf8(&["format"]).map_err(ApiError::bad_request)?;
    Format::negotiate(q.get("format"), req.header("Accept")).map_err(|status| match status {
        406 => ApiError::status_only(406),
        status => ApiError::refused(status, "Invalid Accept header"),
    })
}

pub fn content_type(f: Format) -> &'static str {
    match f {
        Format::Plain => "text/plain; charset=utf-8",
        Format::Json => "application/json; charset=utf-8",
        Format::Xml => "application/xml; charset=utf-8",
        Format::TextXml => "text/xml; charset=utf-8",
    }
}

pub fn render_objects(
    container: &str,
    entries: &[ListingEntry<ObjectRecord>],
    f: Format,
) -> Vec<u8> {
    match f {
        Format::Plain => plain(entries, |o| &o.name),
        // Swift's container server writes bytes, hash, name, content_type,
        // last_modified, in that order.
        Format::Json => json_list(entries, |out, o| {
            let (content_type, bytes) = listed_type(&o.content_type, o.size);
            let (hash, slo_etag) = listed_hash(&o.etag);
            out.push_str(&format!("{{\"bytes\": {bytes}, \"hash\": "));
            json_str(out, &hash);
            out.push_str(", \"name\": ");
            json_str(out, &o.name);
            out.push_str(", \"content_type\": ");
            json_str(out, &content_type);
            out.push_str(", \"last_modified\": ");
            json_str(out, &o.timestamp.iso8601());
            if let Some(etag) = slo_etag {
                out.push_str(", \"slo_etag\": ");
                json_str(out, &format!("\"{etag}\""));
            }
            out.push('}');
        }),
        Format::Xml | Format::TextXml => {
            let mut out = xml_open("container", container);
            if entries.is_empty() {
                out.push_str(" />");
                return out.into_bytes();
            }
            out.push('>');
            for e in entries {
                match e {
                    ListingEntry::Item(o) => {
                        let (content_type, bytes) = listed_type(&o.content_type, o.size);
                        out.push_str("<object>");
                        xml_field(&mut out, "name", &o.name);
                        xml_field(&mut out, "hash", &listed_hash(&o.etag).0);
                        xml_field(&mut out, "bytes", &bytes.to_string());
                        xml_field(&mut out, "content_type", &content_type);
                        xml_field(&mut out, "last_modified", &o.timestamp.iso8601());
                        out.push_str("</object>");
                    }
                    ListingEntry::Subdir(name) => {
                        out.push_str("<subdir name=\"");
                        xml_attr(&mut out, name);
                        out.push_str("\">");
                        xml_field(&mut out, "name", name);
                        out.push_str("</subdir>");
                    }
                }
            }
            out.push_str("</container>");
            out.into_bytes()
        }
    }
}

pub fn render_containers(
    account: &str,
    entries: &[ListingEntry<ContainerRecord>],
    f: Format,
    policies: &Policies,
) -> Vec<u8> {
    // A policy no longer configured is left out, as Swift leaves it out.
    let policy_of = |c: &ContainerRecord| policies.by_index(c.policy_index).map(|p| p.name());
    match f {
        Format::Plain => plain(entries, |c| &c.name),
        Format::Json => json_list(entries, |out, c| {
            out.push_str("{\"name\": ");
            json_str(out, &c.name);
            out.push_str(&format!(
                ", \"count\": {}, \"bytes\": {}, \"last_modified\": ",
                c.object_count, c.bytes_used
            ));
            json_str(out, &c.last_modified.iso8601());
            if let Some(name) = policy_of(c) {
                out.push_str(", \"storage_policy\": ");
                json_str(out, name);
            }
            out.push('}');
        }),
        Format::Xml | Format::TextXml => {
            // Swift's account document has a newline after the opening tag
            // and after each entry; its subdirs carry no <name> child.
            let mut out = xml_open("account", account);
            out.push_str(">\n");
            for e in entries {
                match e {
                    ListingEntry::Item(c) => {
                        out.push_str("<container>");
                        xml_field(&mut out, "name", &c.name);
                        xml_field(&mut out, "count", &c.object_count.to_string());
                        xml_field(&mut out, "bytes", &c.bytes_used.to_string());
                        xml_field(&mut out, "last_modified", &c.last_modified.iso8601());
                        if let Some(name) = policy_of(c) {
                            xml_field(&mut out, "storage_policy", name);
                        }
                        out.push_str("</container>");
                    }
                    ListingEntry::Subdir(name) => {
                        out.push_str("<subdir name=\"");
                        xml_attr(&mut out, name);
                        out.push_str("\" />");
                    }
                }
                out.push('\n');
            }
            out.push_str("</account>");
            out.into_bytes()
        }
    }
}

/// An object's hash as a listing shows it, and its SLO ETag: the row of an
/// SLO manifest holds `<manifest md5>; slo_etag=<SLO etag>`, which Swift's
/// slo middleware splits into `hash` (the rest of the parameters kept)
/// and `slo_etag`; any other hash is shown as it is.
pub fn listed_hash(stored: &str) -> (String, Option<String>) {
    let Some((etag, params)) = stored.split_once(';') else {
        return (stored.to_string(), None);
    };
    let params = content_type_params(&format!(";{params}"));
    let Some(slo) = params.iter().find(|(k, _)| k == "slo_etag") else {
        return (stored.to_string(), None);
    };
    let mut hash = etag.trim().to_string();
    for (k, v) in params.iter().filter(|(k, _)| k != "slo_etag") {
        hash.push_str(&format!("; {k}={v}"));
    }
    (hash, Some(slo.1.clone()))
}

/// An object's content type and size as Swift's container server lists
/// them: the type's parameters re-joined without spaces (`text/html;
/// charset=utf-8` lists as `text/html;charset=utf-8`), parameters that do
/// not parse dropped, and a `swift_bytes=N` parameter taken out and listed
/// as the size.
pub fn listed_type(stored: &str, size: u64) -> (String, u64) {
    let Some((main, params)) = stored.split_once(';') else {
        return (stored.to_string(), size);
    };
    let mut out = main.to_string();
    let mut bytes = size;
    for (key, value) in content_type_params(&format!(";{params}")) {
        if key == "swift_bytes" {
            if let Ok(n) = value.parse::<u64>() {
                bytes = n;
            }
        } else {
            out.push_str(&format!(";{key}={value}"));
        }
    }
    (out, bytes)
}

/// An RFC 2616 token character (not a separator, control or space).
fn is_token_char(c: char) -> bool {
    !(c <= ' ' || c == '\u{7f}' || "()<>@,;:\\\"/[]?={}".contains(c))
}

/// The `; key=value` parameters Swift's `parse_content_type` finds in
/// `text`, scanning as its regular expression does: a `;`, a token, and
/// optionally `=` with a token or a quoted string (kept with its quotes);
/// text that does not fit is skipped.
fn content_type_params(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        match param_at(&chars, start) {
            Some((key, value, end)) => {
                found.push((key, value));
                start = end;
            }
            None => start += 1,
        }
    }
    found
}

/// One parameter matched at `at`: (key, value, where the match ends).
fn param_at(chars: &[char], at: usize) -> Option<(String, String, usize)> {
    let skip_ws = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let token_end = |mut i: usize| {
        while i < chars.len() && is_token_char(chars[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(at);
    if chars.get(i) != Some(&';') {
        return None;
    }
    i = skip_ws(i + 1);
    let key_end = token_end(i);
    if key_end == i {
        return None;
    }
    let key: String = chars[i..key_end].iter().collect();
    let after_key = skip_ws(key_end);
    if chars.get(after_key) != Some(&'=') {
        return Some((key, String::new(), after_key));
    }
    let v = skip_ws(after_key + 1);
    let value_end = if chars.get(v) == Some(&'"') {
        let mut j = v + 1;
        loop {
            match chars.get(j) {
                Some('"') => break Some(j + 1),
                Some('\\') if j + 1 < chars.len() => j += 2,
                Some(_) => j += 1,
                None => break None,
            }
        }
    } else {
        Some(token_end(v)).filter(|&e| e > v)
    };
    match value_end {
        Some(end) => Some((key, chars[v..end].iter().collect(), end)),
        // `=` without a value: the parameter is matched without it.
        None => Some((key, String::new(), after_key)),
    }
}

fn plain<T>(entries: &[ListingEntry<T>], name: impl Fn(&T) -> &str) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(
            match e {
                ListingEntry::Item(item) => name(item),
                ListingEntry::Subdir(s) => s,
            }
            .as_bytes(),
        );
        out.push(b'\n');
    }
    out
}

fn json_list<T>(entries: &[ListingEntry<T>], item: impl Fn(&mut String, &T)) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match e {
            ListingEntry::Item(it) => item(&mut out, it),
            ListingEntry::Subdir(s) => {
                out.push_str("{\"subdir\": ");
                json_str(&mut out, s);
                out.push('}');
            }
        }
    }
    out.push(']');
    out.into_bytes()
}

/// A JSON string as Python's json.dumps (ensure_ascii) writes it: only
/// printable ASCII raw, everything else as \uXXXX (UTF-16, lowercase hex).
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

fn xml_open(tag: &str, name: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{tag} name=\"");
    xml_attr(&mut out, name);
    out.push('"');
    out
}

/// `<tag>text</tag>`, or `<tag />` for empty text as ElementTree writes it.
fn xml_field(out: &mut String, tag: &str, text: &str) {
    if text.is_empty() {
        out.push_str(&format!("<{tag} />"));
        return;
    }
    out.push_str(&format!("<{tag}>"));
    xml_escape(out, text, false);
    out.push_str(&format!("</{tag}>"));
}

fn xml_attr(out: &mut String, s: &str) {
    xml_escape(out, s, true);
}

/// Whether XML 1.0 can carry `c` at all (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// ElementTree's escaping (&, <, > everywhere; " and \n \t in attributes),
/// plus character references for \r and other control characters, which
/// ElementTree would write raw (a parser would drop or reject them).
/// Characters XML 1.0 cannot carry even as references (most C0 controls,
/// U+FFFE, U+FFFF) become U+FFFD, so one odd name cannot make the whole
/// document unreadable; JSON and plain listings keep the exact name.
fn xml_escape(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#09;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{fffd}'),
            c if c.is_control() => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
