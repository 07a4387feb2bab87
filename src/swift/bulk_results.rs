//! The results body of Swift's bulk operations (bulk delete, archive
//! extraction, SLO's `?multipart-manifest=delete` and heartbeat PUTs), in
//! the Accept header's format as Swift's `get_heartbeat_response_body`
//! writes it: JSON as `json.dumps` (fields in the order they were set, then
//! `Errors`), XML and plain text with the fields sorted by name. These
//! requests answer 200 at once and put their real status inside the body
//! (`Response Status`), since the work may outlast a client's patience.

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::core::http::reason;
use crate::swift::listing::{self, json_str};

/// The formats a results body may take (Swift's `ACCEPTABLE_FORMATS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Plain,
    Json,
    /// `application/xml`
    Xml,
    /// `text/xml`
    TextXml,
}

impl OutFormat {
    /// The format the Accept header chooses, as Swift's
    /// `req.accept.best_match(ACCEPTABLE_FORMATS)`: text/plain without a
    /// header; None for a malformed header or one matching none of them
    /// (Swift then reports 406 inside a plain-text body).
    pub fn from_accept(accept: Option<&str>) -> Option<OutFormat> {
        match listing::Format::negotiate(None, accept).ok()? {
            listing::Format::Plain => Some(OutFormat::Plain),
            listing::Format::Json => Some(OutFormat::Json),
            listing::Format::Xml => Some(OutFormat::Xml),
            listing::Format::TextXml => Some(OutFormat::TextXml),
        }
    }

    /// The response's Content-Type, exactly as Swift sets it (no charset).
    pub fn content_type(self) -> &'static str {
        match self {
            OutFormat::Plain => "text/plain",
            OutFormat::Json => "application/json",
            OutFormat::Xml => "application/xml",
            OutFormat::TextXml => "text/xml",
        }
    }

    fn is_xml(self) -> bool {
        matches!(self, OutFormat::Xml | OutFormat::TextXml)
    }

    /// What a heartbeat sends first while the work runs: the XML
    /// declaration for XML (the final body carries none), else one space.
    pub fn first_heartbeat(format: Option<OutFormat>) -> &'static [u8] {
        match format {
            Some(f) if f.is_xml() => b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            _ => b" ",
        }
    }
}

/// A field's value: text, or a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(u64),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
        }
    }
}

pub const RESPONSE_STATUS: &str = "Response Status";
pub const RESPONSE_BODY: &str = "Response Body";
pub const NUMBER_DELETED: &str = "Number Deleted";
pub const NUMBER_NOT_FOUND: &str = "Number Not Found";
pub const NUMBER_FILES_CREATED: &str = "Number Files Created";

/// One results body being built: the fields, and the (quoted name,
/// status line) of every item that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    fields: Vec<(String, Value)>,
    pub errors: Vec<(String, String)>,
}

/// `"404 Not Found"`: a status as Swift's swob writes it (its reason
/// phrases: `500 Internal Error`).
pub fn status_line(status: u16) -> String {
    match swob_reason(status) {
        "" => status.to_string(),
        r => format!("{status} {r}"),
    }
}

fn swob_reason(status: u16) -> &'static str {
    match status {
        500 => "Internal Error",
        504 => "Gateway Timeout",
        s => reason(s),
    }
}

impl Results {
    /// No fields yet (SLO's upload results start so).
    pub fn empty() -> Results {
        Results {
            fields: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A bulk delete's results before any deletion: 200 OK, no counts.
    pub fn delete() -> Results {
        let mut r = Results::empty();
        r.set_status(200);
        r.set(RESPONSE_BODY, Value::Str(String::new()));
        r.set(NUMBER_DELETED, Value::Int(0));
        r.set(NUMBER_NOT_FOUND, Value::Int(0));
        r
    }

    /// An extraction's results before any file: 201 Created, none created.
    pub fn extract() -> Results {
        let mut r = Results::empty();
        r.set_status(201);
        r.set(RESPONSE_BODY, Value::Str(String::new()));
        r.set(NUMBER_FILES_CREATED, Value::Int(0));
        r
    }

    /// Sets a field, in place if it is there, else after the others.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.fields.push((key.to_string(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Adds one to a count (0 if it was not there).
    pub fn bump(&mut self, key: &str) {
        let n = match self.get(key) {
            Some(Value::Int(n)) => n + 1,
            _ => 1,
        };
        self.set(key, Value::Int(n));
    }

    pub fn count(&self, key: &str) -> u64 {
        match self.get(key) {
            Some(Value::Int(n)) => *n,
            _ => 0,
        }
    }

    /// `Response Status` as Swift writes a status (`"400 Bad Request"`).
    pub fn set_status(&mut self, status: u16) {
        self.set(RESPONSE_STATUS, Value::Str(status_line(status)));
    }

    pub fn set_body(&mut self, body: &str) {
        self.set(RESPONSE_BODY, Value::Str(body.to_string()));
    }

    /// One failed item: its (already quoted) name and its status line.
    pub fn fail(&mut self, name: String, status: String) {
        self.errors.push((name, status));
    }

    /// The body in `format` (plain text for None), `root` naming XML's
    /// root element (`delete`, `extract`, `upload`).
    pub fn render(&self, format: Option<OutFormat>, root: &str) -> Vec<u8> {
        match format {
            Some(OutFormat::Json) => self.json().into_bytes(),
            Some(f) if f.is_xml() => self.xml(root).into_bytes(),
            _ => self.plain().into_bytes(),
        }
    }

    fn sorted(&self) -> Vec<&(String, Value)> {
        let mut v: Vec<_> = self.fields.iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn json(&self) -> String {
        let mut out = String::from("{");
        for (key, value) in &self.fields {
            json_str(&mut out, key);
            out.push_str(": ");
            match value {
                Value::Str(s) => json_str(&mut out, s),
                Value::Int(n) => out.push_str(&n.to_string()),
            }
            out.push_str(", ");
        }
        json_str(&mut out, "Errors");
        out.push_str(": [");
        for (i, (name, status)) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push('[');
            json_str(&mut out, name);
            out.push_str(", ");
            json_str(&mut out, status);
            out.push(']');
        }
        out.push_str("]}");
        out
    }

    fn xml(&self, root: &str) -> String {
        let mut out = format!("<{root}>\n");
        for (key, value) in self.sorted() {
            let tag = key.replace(' ', "_").to_lowercase();
            out.push_str(&format!("<{tag}>{}</{tag}>\n", escape(&value.text())));
        }
        out.push_str("<errors>\n");
        for (name, status) in &self.errors {
            out.push_str(&format!(
                "<object><name>{}</name><status>{}</status></object>\n",
                escape(name),
                escape(status)
            ));
        }
        out.push_str(&format!("</errors>\n</{root}>\n"));
        out
    }

    fn plain(&self) -> String {
        let mut out = String::new();
        for (key, value) in self.sorted() {
            out.push_str(&format!("{key}: {}\n", value.text()));
        }
        out.push_str("Errors:\n");
        for (name, status) in &self.errors {
            out.push_str(&format!("{name}, {status}\n"));
        }
        out
    }
}

/// A failed item's name as Swift lists it: Python's `quote` with `/` safe,
/// of the name's bytes.
pub fn quote(name: &[u8]) -> String {
    const SET: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    percent_encode(name, SET).to_string()
}

/// `xml.sax.saxutils.escape`: only &, < and >.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests;
