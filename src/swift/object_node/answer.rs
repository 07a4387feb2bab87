//! The object server's answers to what the disk said: Swift's
//! `HTTPInsufficientStorage(drive=...)` for a missing device or a full or
//! xattr-less filesystem, 503 for a file that vanished while read, 500
//! (logged) for the rest.

use crate::core::http::{Host, LogLevel, Response};
use crate::store::swift_disk::DiskError;

/// Swift's 507 page, naming the drive.
pub fn insufficient_storage(device: &str) -> Response {
    let mut r = Response::new(507);
    r.header("Content-Type", "text/html; charset=UTF-8");
    r.body.push(crate::core::http::Segment::Bytes(
        format!(
            "<html><h1>Insufficient Storage</h1><p>There was not enough space to save \
             the resource. Drive: {}</p></html>",
            html_escape(device)
        )
        .into_bytes(),
    ));
    r
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The answer to a disk error no method handles itself.
pub fn disk_error(host: &mut dyn Host, device: &str, e: &DiskError) -> Response {
    if e.is_insufficient_storage() {
        host.log(LogLevel::Warn, &format!("object server: {e}"));
        return insufficient_storage(device);
    }
    match e {
        DiskError::StateChanged { .. } => Response::swob(503),
        _ => {
            host.log(LogLevel::Error, &format!("object server: {e}"));
            Response::swob(500)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_drive_escaped() {
        let r = insufficient_storage("sd<b>");
        assert_eq!(r.status, 507);
        let crate::core::http::Segment::Bytes(b) = &r.body[0] else {
            panic!()
        };
        assert!(String::from_utf8_lossy(b).contains("Drive: sd&lt;b&gt;"));
    }
}
