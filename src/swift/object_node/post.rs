//! POST: a `.meta` with the request's user and transient metadata (a
//! newer POST replaces an older one's metadata; a Content-Type carries its
//! own `Content-Type-Timestamp`), 409 when neither the metadata nor the
//! content type is newer, and the container update (a PUT, as Swift's)
//! with the listing's current values.

use super::headers::{self, open_expired, required_timestamp};
use super::put::{apply_stored_overrides, update_containers};
use super::{answer, Target};
use crate::core::constraints::check_metadata;
use crate::core::http::{Host, Request, Response};
use crate::store::swift_disk::metadata::{header_from_native, native_from_header};
use crate::store::swift_disk::{file_set, DiskError};
use crate::store::timestamp::OffsetTimestamp;

pub fn handle(req: &Request<'_>, t: &Target, host: &mut dyn Host) -> Response {
    let ts = match required_timestamp(req) {
        Ok(ts) => ts,
        Err(body) => return Response::error(400, &body),
    };
    let new_delete_at = match headers::delete_at(req) {
        Ok(n) => n,
        Err(body) => return Response::error(400, &body),
    };
    if new_delete_at != 0 && (new_delete_at as f64) < file_set::seconds(ts) {
        return Response::error(400, "X-Delete-At in past");
    }
    if let Err(body) = check_metadata(
        req.headers.iter().map(|(n, v)| (n.as_ref(), v.bytes())),
        "object",
    ) {
        return Response::error(400, &body);
    }
    // An empty Content-Type (the proxy sends one) sets nothing, as Swift.
    let req_ctype = req
        .header_value("Content-Type")
        .map(|v| native_from_header(v.bytes()))
        .filter(|c| !c.is_empty());
    let req_ctype_ts = match &req_ctype {
        None => OffsetTimestamp::default(),
        Some(_) => match req.header("Content-Type-Timestamp") {
            None => ts,
            Some(v) => match headers::parse_timestamp(v) {
                Some(t) => t,
                None => {
                    return Response::error(400, &format!("invalid Content-Type-Timestamp {v:?}"))
                }
            },
        },
    };
    let opened = match t.disk.open(file_set::seconds(ts), open_expired(req)) {
        Ok(o) => o,
        Err(
            DiskError::NotFound
            | DiskError::Deleted { .. }
            | DiskError::Expired { .. }
            | DiskError::Quarantined { .. }
            | DiskError::Collision { .. },
        ) => return Response::swob(404),
        Err(e) => return answer::disk_error(host, &t.path.device, &e),
    };
    let orig = opened.metadata().clone();
    let orig_ts = opened.timestamp().unwrap_or_default();
    let orig_ctype_ts = opened.content_type_timestamp().unwrap_or_default();
    let data_ts = opened.data_timestamp().unwrap_or_default();
    if orig_ts >= ts && orig_ctype_ts >= req_ctype_ts {
        return Response::swob(409).with_header("X-Backend-Timestamp", orig_ts.internal());
    }
    let mut metadata = if ts > orig_ts {
        let mut m = headers::stored_from_request(req, false);
        m.insert("X-Timestamp".into(), ts.internal());
        let data_md = opened.datafile_metadata();
        let length = data_md.get("Content-Length").cloned().unwrap_or_default();
        let stamp = data_md.get("X-Timestamp").cloned().unwrap_or_default();
        super::expirer_queue::conditional_update(
            req,
            t,
            super::put::stored_delete_at(&orig),
            new_delete_at,
            Some((&length, &stamp)),
            host,
        );
        m
    } else {
        opened.metafile_metadata().cloned().unwrap_or_default()
    };
    let (ctype, ctype_ts) = match req_ctype {
        Some(c) if req_ctype_ts > orig_ctype_ts => {
            metadata.insert("Content-Type".into(), c.clone());
            metadata.insert("Content-Type-Timestamp".into(), req_ctype_ts.internal());
            (c, req_ctype_ts)
        }
        _ => {
            let c = orig.get("Content-Type").cloned().unwrap_or_default();
            if orig_ctype_ts != data_ts {
                metadata.insert("Content-Type".into(), c.clone());
                metadata.insert("Content-Type-Timestamp".into(), orig_ctype_ts.internal());
            }
            (c, orig_ctype_ts)
        }
    };
    let meta_ts = metadata.get("X-Timestamp").cloned().unwrap_or_default();
    if let Err(e) = t.disk.write_metadata(metadata) {
        return answer::disk_error(host, &t.path.device, &e);
    }
    // A content type not from the `.data` keeps the `swift_bytes` SLO put
    // on the data's.
    let mut listed_ctype = ctype.clone();
    if ctype_ts != data_ts {
        if let Some(bytes) = opened
            .datafile_metadata()
            .get("Content-Type")
            .and_then(|c| swift_bytes(c))
        {
            listed_ctype.push_str(&format!(";swift_bytes={bytes}"));
        }
    }
    let mut listing = vec![
        (
            "X-Size".to_string(),
            orig.get("Content-Length").cloned().unwrap_or_default(),
        ),
        ("X-Content-Type".to_string(), listed_ctype),
        ("X-Timestamp".to_string(), data_ts.internal()),
        ("X-Content-Type-Timestamp".to_string(), ctype_ts.internal()),
        ("X-Meta-Timestamp".to_string(), meta_ts),
        (
            "X-Etag".to_string(),
            orig.get("ETag").cloned().unwrap_or_default(),
        ),
    ];
    apply_stored_overrides(&mut listing, &orig);
    update_containers(req, t, "PUT", listing, host);
    let mut r = Response::swob(202);
    r.header_bytes(
        "X-Backend-Content-Type",
        header_from_native(&ctype).unwrap_or_else(|| ctype.clone().into_bytes()),
    );
    for (k, v) in &orig {
        if headers::is_sysmeta(k) {
            r.header_bytes(
                k,
                header_from_native(v).unwrap_or_else(|| v.clone().into_bytes()),
            );
        }
    }
    r
}

/// The `swift_bytes` parameter of a Content-Type (Swift's
/// `extract_swift_bytes`: the last parameter named so).
fn swift_bytes(ctype: &str) -> Option<String> {
    ctype
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("swift_bytes="))
        .last()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_swift_bytes() {
        assert_eq!(
            swift_bytes("text/plain;swift_bytes=12").as_deref(),
            Some("12")
        );
        assert_eq!(swift_bytes("text/plain; charset=x"), None);
    }
}
