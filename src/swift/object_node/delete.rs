//! DELETE: a tombstone when the request is newer than what is there (204
//! when an object was, 404 when only a tombstone, nothing or an expired
//! object was), 409 otherwise; `X-If-Delete-At` (the expirer's) deletes
//! only the version it names; the answer carries `X-Backend-Timestamp`
//! (the newer of the two times) and the old `X-Backend-Content-Type`;
//! the container update (DELETE) follows a tombstone.

use super::headers::{parse_timestamp, required_timestamp};
use super::put::update_containers;
use super::{answer, Target};
use crate::core::http::{Host, Request, Response};
use crate::store::swift_disk::metadata::{header_from_native, Metadata};
use crate::store::swift_disk::{file_set, DiskError};
use crate::store::timestamp::OffsetTimestamp;

pub fn handle(req: &Request<'_>, t: &Target, host: &mut dyn Host) -> Response {
    let ts = match required_timestamp(req) {
        Ok(ts) => ts,
        Err(body) => return Response::error(400, &body),
    };
    let zero = OffsetTimestamp::default();
    let (orig_ts, orig, mut status) = match t.disk.open(file_set::seconds(ts), false) {
        Ok(o) => {
            let data_ts = o.data_timestamp().unwrap_or_default();
            let status = if data_ts < ts { 204 } else { 409 };
            (data_ts, o.metadata().clone(), status)
        }
        Err(DiskError::Expired { metadata }) => {
            let t = metadata
                .get("X-Timestamp")
                .and_then(|v| OffsetTimestamp::parse(v))
                .unwrap_or_default();
            (t, metadata, 404)
        }
        Err(DiskError::Deleted { timestamp, .. }) => (timestamp, Metadata::new(), 404),
        Err(DiskError::NotFound | DiskError::Quarantined { .. } | DiskError::Collision { .. }) => {
            (zero, Metadata::new(), 404)
        }
        Err(e) => return answer::disk_error(host, &t.path.device, &e),
    };
    if let Some(v) = req.header("X-If-Delete-At") {
        let Some(wanted) = parse_timestamp(v) else {
            return Response::error(400, "Bad X-If-Delete-At header value");
        };
        if orig_ts == zero {
            return Response::swob(404);
        }
        if orig_ts >= ts {
            return Response::swob(409);
        }
        let stored = orig
            .get("X-Delete-At")
            .and_then(|v| parse_timestamp(v))
            .unwrap_or_default();
        if stored != wanted {
            return Response::error(412, "X-If-Delete-At and X-Delete-At do not match");
        }
        status = 204;
    }
    // As Swift: the old task goes whatever this DELETE's outcome.
    super::expirer_queue::conditional_update(
        req,
        t,
        super::put::stored_delete_at(&orig),
        0,
        None,
        host,
    );
    if orig_ts < ts {
        if let Err(e) = t.disk.delete(ts) {
            return answer::disk_error(host, &t.path.device, &e);
        }
        update_containers(
            req,
            t,
            "DELETE",
            vec![("X-Timestamp".to_string(), ts.internal())],
            host,
        );
    }
    let mut r = Response::swob(status);
    r.header("X-Backend-Timestamp", orig_ts.max(ts).internal());
    let ctype = orig.get("Content-Type").cloned().unwrap_or_default();
    r.header_bytes(
        "X-Backend-Content-Type",
        header_from_native(&ctype).unwrap_or_else(|| ctype.into_bytes()),
    );
    r
}
