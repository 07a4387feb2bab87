//! PUT: Swift's `_pre_create_checks` before the body is read (timestamp,
//! creation constraints, `If-None-Match`, 409 for an older-or-equal
//! write), then the body into a `.data` under the write gate, the
//! metadata Swift stores, and the container update.

use super::container_update::{self, Update};
use super::headers::{self, required_timestamp};
use super::{answer, log_updates, Target};
use crate::core::constraints::{check_metadata, MAX_FILE_SIZE};
use crate::core::http::{Host, Request, Response};
use crate::gate::{self, Kind};
use crate::node::vhost::Vhost;
use crate::store::swift_disk::metadata::{native_from_header, Metadata};
use crate::store::swift_disk::{file_set, DiskError};
use crate::store::timestamp::OffsetTimestamp;
use crate::swift::conditional::{names_any, normalize_etag};
use std::io;

pub fn handle(vh: &Vhost, req: &Request<'_>, t: &Target, host: &mut dyn Host) -> Response {
    let ts = match required_timestamp(req) {
        Ok(ts) => ts,
        Err(body) => return Response::error(400, &body),
    };
    let size = match check_creation(req, ts) {
        Ok(size) => size,
        Err(resp) => return resp,
    };
    let (orig_metadata, orig_ts) = match t.disk.open(file_set::seconds(ts), false) {
        Ok(o) => (o.metadata().clone(), o.data_timestamp().unwrap_or_default()),
        Err(DiskError::Deleted { timestamp, .. }) => (Metadata::new(), timestamp),
        Err(DiskError::Expired { metadata }) => {
            let ts = metadata
                .get("X-Timestamp")
                .and_then(|v| OffsetTimestamp::parse(v))
                .unwrap_or_default();
            (Metadata::new(), ts)
        }
        Err(
            DiskError::NotFound | DiskError::Quarantined { .. } | DiskError::StateChanged { .. },
        ) => (Metadata::new(), OffsetTimestamp::default()),
        Err(e) => return answer::disk_error(host, &t.path.device, &e),
    };
    if let Some(inm) = req.header("If-None-Match") {
        let etag = orig_metadata.get("ETag").map(String::as_str).unwrap_or("");
        if !orig_metadata.is_empty()
            && (names_any(inm) || inm.split(',').any(|e| normalize_etag(e.trim()) == etag))
        {
            return Response::swob(412);
        }
    }
    if orig_ts >= ts {
        return Response::swob(409).with_header("X-Backend-Timestamp", orig_ts.internal());
    }
    let orig_delete_at = stored_delete_at(&orig_metadata);
    gate::admission::serve(&vh.gates, req, (Kind::ObjectWrite, 0), host, |host| {
        write(req, t, ts, size, orig_delete_at, host)
    })
}

/// Swift's `check_object_creation` and `check_metadata`: the length the
/// body will have (None: chunked, unknown).
fn check_creation(req: &Request<'_>, ts: OffsetTimestamp) -> Result<Option<u64>, Response> {
    let size = match (req.content_length, req.chunked) {
        (Some(n), _) => Some(n),
        (None, true) => req
            .header("X-Backend-Obj-Content-Length")
            .and_then(|v| v.trim().parse().ok()),
        (None, false) => return Err(Response::error(411, "Missing Content-Length")),
    };
    if size.is_some_and(|n| n > MAX_FILE_SIZE) {
        return Err(Response::error(413, "Your request is too large."));
    }
    if req.header("Content-Type").is_none() {
        return Err(Response::error(400, "No content type"));
    }
    let delete_at = headers::delete_at(req).map_err(|b| Response::error(400, &b))?;
    if delete_at != 0 && (delete_at as f64) < file_set::seconds(ts) {
        return Err(Response::error(400, "X-Delete-At in past"));
    }
    check_metadata(
        req.headers.iter().map(|(n, v)| (n.as_ref(), v.bytes())),
        "object",
    )
    .map_err(|b| Response::error(400, &b))?;
    Ok(size)
}

fn write(
    req: &Request<'_>,
    t: &Target,
    ts: OffsetTimestamp,
    size: Option<u64>,
    orig_delete_at: u64,
    host: &mut dyn Host,
) -> Response {
    let mut writer = match t.disk.create() {
        Ok(w) => w,
        Err(e) => return answer::disk_error(host, &t.path.device, &e),
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match host.read_body(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = writer.write(&buf[..n]) {
                    return answer::disk_error(host, &t.path.device, &e);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Response::swob(408),
            Err(_) => return Response::swob(499),
        }
    }
    if size.is_some_and(|n| n != writer.bytes_written()) {
        return Response::swob(499);
    }
    let etag = writer.etag();
    if let Some(sent) = req.header("ETag") {
        let sent = normalize_etag(sent.trim()).to_ascii_lowercase();
        if !sent.is_empty() && sent != etag {
            return Response::swob(422);
        }
    }
    let content_type = req
        .header_value("Content-Type")
        .map(|v| native_from_header(v.bytes()))
        .unwrap_or_default();
    let mut metadata = headers::stored_from_request(req, true);
    metadata.insert("X-Timestamp".into(), ts.internal());
    metadata.insert("Content-Type".into(), content_type.clone());
    let written = writer.bytes_written();
    metadata.insert("Content-Length".into(), written.to_string());
    metadata.insert("ETag".into(), etag.clone());
    if let Err(e) = writer.put(metadata) {
        return answer::disk_error(host, &t.path.device, &e);
    }
    let new_delete_at = headers::delete_at(req).unwrap_or(0);
    let (length, stamp) = (written.to_string(), ts.internal());
    super::expirer_queue::conditional_update(
        req,
        t,
        orig_delete_at,
        new_delete_at,
        Some((&length, &stamp)),
        host,
    );
    let mut listing = vec![
        ("X-Size".to_string(), written.to_string()),
        ("X-Content-Type".to_string(), content_type),
        ("X-Timestamp".to_string(), ts.internal()),
        ("X-Etag".to_string(), etag.clone()),
    ];
    apply_overrides(&mut listing, req);
    update_containers(req, t, "PUT", listing, host);
    Response::swob(201).with_header("ETag", etag)
}

/// An object's stored `X-Delete-At` as Swift reads it back (`int(...)`;
/// 0: none or unreadable).
pub fn stored_delete_at(metadata: &Metadata) -> u64 {
    metadata
        .get("X-Delete-At")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v.max(0.0) as u64)
}

/// Swift's `_check_container_override`: `X-Backend-Container-Update-
/// Override-*`, then `X-Object-Sysmeta-Container-Update-Override-*`
/// (which wins), each replacing the listing's `X-*`.
pub fn apply_overrides(listing: &mut Vec<(String, String)>, req: &Request<'_>) {
    for prefix in [
        "x-backend-container-update-override-",
        "x-object-sysmeta-container-update-override-",
    ] {
        for (name, value) in &req.headers {
            let lower = name.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix(prefix) {
                set(
                    listing,
                    &format!("X-{}", crate::core::header_case::title_case(rest)),
                    native_from_header(value.bytes()),
                );
            }
        }
    }
}

/// Overrides from stored metadata (a POST's update).
pub fn apply_stored_overrides(listing: &mut Vec<(String, String)>, metadata: &Metadata) {
    for prefix in [
        "x-backend-container-update-override-",
        "x-object-sysmeta-container-update-override-",
    ] {
        for (key, value) in metadata {
            let lower = key.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix(prefix) {
                set(
                    listing,
                    &format!("X-{}", crate::core::header_case::title_case(rest)),
                    value.clone(),
                );
            }
        }
    }
}

fn set(listing: &mut Vec<(String, String)>, name: &str, value: String) {
    listing.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    listing.push((name.to_string(), value));
}

/// The container update of a write (`op` PUT or DELETE), logged.
pub fn update_containers(
    req: &Request<'_>,
    t: &Target,
    op: &'static str,
    mut listing: Vec<(String, String)>,
    host: &mut dyn Host,
) {
    let targets = match container_update::targets_of(req) {
        Ok(targets) => targets,
        Err(msg) => {
            host.log(crate::core::http::LogLevel::Error, &msg);
            return;
        }
    };
    if targets.targets.is_empty() {
        return;
    }
    listing.extend(container_update::common_headers(req, t.policy));
    let update = Update {
        op,
        account: t.path.account.clone(),
        container: t.path.container.clone(),
        obj: t.path.object.clone(),
        headers: listing,
        device_dir: t.device_dir.clone(),
        policy: t.policy,
        hash: t.hash().to_string(),
    };
    let done = container_update::send(update, targets);
    log_updates(host, &done);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::request;

    #[test]
    fn sysmeta_overrides_win_over_backend_ones() {
        let r = request(&[
            ("X-Backend-Container-Update-Override-Etag", "backend"),
            ("X-Object-Sysmeta-Container-Update-Override-Etag", "sysmeta"),
            ("X-Backend-Container-Update-Override-Size", "7"),
        ]);
        let mut listing = vec![
            ("X-Size".to_string(), "5".to_string()),
            ("X-Etag".to_string(), "md5".to_string()),
        ];
        apply_overrides(&mut listing, &r);
        let get = |k: &str| listing.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("X-Etag").as_deref(), Some("sysmeta"));
        assert_eq!(get("X-Size").as_deref(), Some("7"));
    }

    #[test]
    fn creation_needs_a_length_and_a_type() {
        let ts = OffsetTimestamp::parse("1700000000.00000").unwrap();
        let mut r = request(&[("Content-Type", "text/plain")]);
        assert_eq!(check_creation(&r, ts).unwrap_err().status, 411);
        r.content_length = Some(3);
        assert_eq!(check_creation(&r, ts).unwrap(), Some(3));
        let mut r = request(&[]);
        r.content_length = Some(3);
        assert_eq!(check_creation(&r, ts).unwrap_err().status, 400);
        let mut r = request(&[("Content-Type", "a/b"), ("X-Delete-At", "1")]);
        r.content_length = Some(3);
        assert_eq!(check_creation(&r, ts).unwrap_err().status, 400);
    }
}
