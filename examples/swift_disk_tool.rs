//! Test-only driver of `store::swift_disk` for tests/interop: one JSON
//! request as the argument, one JSON answer on stdout, so that a Python
//! test running Swift's own code can make Stowage write and read the same
//! device. Not installed anywhere; `cargo build --release --example
//! swift_disk_tool` builds it.
//!
//! Request: {"op": "put"|"post"|"delete"|"get"|"cleanup", "device": path,
//! "policy": N, "part_power": N, "prefix": s, "suffix": s, "account": s,
//! "container": s, "object": s, "metadata": {k: v} (put, post),
//! "body_hex": hex (put), "timestamp": s (delete), "now": secs (get)}.
//! Header-like metadata values are given and answered as the text of the
//! header (UTF-8); the tool stores them as Swift's object server does
//! (WSGI strings).

use serde_json::{json, Map, Value};
use std::os::unix::fs::FileExt;
use stowage::store::hash_path::HashPath;
use stowage::store::swift_disk::metadata::{header_from_native, native_from_header};
use stowage::store::swift_disk::{
    now_secs, DiskError, DiskFile, Metadata, ObjectLocation, Settings,
};
use stowage::store::timestamp::OffsetTimestamp;

fn main() {
    let answer = match std::env::args()
        .nth(1)
        .map(|a| serde_json::from_str::<Value>(&a))
    {
        Some(Ok(req)) => run(&req).unwrap_or_else(|e| json!({"error": e})),
        _ => json!({"error": "usage: swift_disk_tool '<json request>'"}),
    };
    println!("{answer}");
}

fn text<'a>(req: &'a Value, key: &str) -> Result<&'a str, String> {
    req.get(key)
        .and_then(Value::as_str)
        .ok_or(format!("missing {key}"))
}

fn number(req: &Value, key: &str) -> Result<u64, String> {
    req.get(key)
        .and_then(Value::as_u64)
        .ok_or(format!("missing {key}"))
}

/// Names that are text in Swift's metadata, not header values.
fn is_text_key(key: &str) -> bool {
    key == "name"
}

fn to_disk(metadata: Option<&Value>) -> Result<Metadata, String> {
    let mut out = Metadata::new();
    for (k, v) in metadata.and_then(Value::as_object).unwrap_or(&Map::new()) {
        let v = v.as_str().ok_or(format!("metadata {k} is not a string"))?;
        let v = if is_text_key(k) {
            v.to_string()
        } else {
            native_from_header(v.as_bytes())
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

fn from_disk(metadata: &Metadata) -> Value {
    let mut out = Map::new();
    for (k, v) in metadata {
        let shown = if is_text_key(k) {
            v.clone()
        } else {
            match header_from_native(v) {
                Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                None => v.clone(),
            }
        };
        out.insert(k.clone(), Value::String(shown));
    }
    Value::Object(out)
}

fn error_name(e: &DiskError) -> Value {
    let kind = match e {
        DiskError::NotFound => "not_found",
        DiskError::Deleted { .. } => "deleted",
        DiskError::Expired { .. } => "expired",
        DiskError::Collision { .. } => "collision",
        DiskError::Quarantined { .. } => "quarantined",
        DiskError::NoSpace { .. } => "no_space",
        _ => "error",
    };
    let mut v = json!({"status": kind, "detail": e.to_string()});
    if let DiskError::Deleted {
        timestamp,
        metadata,
    } = e
    {
        v["timestamp"] = json!(timestamp.internal());
        v["metadata"] = from_disk(metadata);
    }
    v
}

fn run(req: &Value) -> Result<Value, String> {
    let hp = HashPath::salted(text(req, "prefix")?, text(req, "suffix")?);
    let (a, c, o) = (
        text(req, "account")?,
        text(req, "container")?,
        text(req, "object")?,
    );
    let loc = ObjectLocation::for_name(
        std::path::Path::new(text(req, "device")?),
        number(req, "policy")? as u32,
        number(req, "part_power")? as u8,
        &hp,
        a,
        c,
        o,
    )
    .ok_or("bad part power")?;
    let df = DiskFile::new(loc, a, c, o, Settings::default());
    let done = |r: Result<std::path::PathBuf, DiskError>| match r {
        Ok(path) => json!({"status": "ok", "path": path.display().to_string()}),
        Err(e) => error_name(&e),
    };
    Ok(match text(req, "op")? {
        "put" => {
            let body = stowage::core::hex::unhex(text(req, "body_hex")?).ok_or("body_hex")?;
            let mut w = df.create().map_err(|e| e.to_string())?;
            w.write(&body).map_err(|e| e.to_string())?;
            let mut md = to_disk(req.get("metadata"))?;
            md.entry("ETag".into()).or_insert_with(|| w.etag());
            md.entry("Content-Length".into())
                .or_insert_with(|| body.len().to_string());
            done(w.put(md))
        }
        "post" => done(df.write_metadata(to_disk(req.get("metadata"))?)),
        "delete" => {
            let ts = OffsetTimestamp::parse(text(req, "timestamp")?).ok_or("timestamp")?;
            done(df.delete(ts))
        }
        "get" => {
            let now = req
                .get("now")
                .and_then(Value::as_f64)
                .unwrap_or_else(now_secs);
            match df.open(now, false) {
                Ok(obj) => {
                    let mut body = vec![0u8; obj.content_length() as usize];
                    obj.file()
                        .read_exact_at(&mut body, 0)
                        .map_err(|e| e.to_string())?;
                    json!({
                        "status": "ok",
                        "metadata": from_disk(obj.metadata()),
                        "datafile_metadata": from_disk(obj.datafile_metadata()),
                        "body_hex": stowage::core::hex::hex(&body),
                        "data_file": obj.data_path().display().to_string(),
                    })
                }
                Err(e) => error_name(&e),
            }
        }
        "cleanup" => match df.cleanup() {
            Ok(c) => json!({"status": "ok", "remaining": c.remaining}),
            Err(e) => error_name(&e),
        },
        other => return Err(format!("unknown op {other}")),
    })
}
