//! The `stowage-debug` handler: echoes the request as the processor sees
//! it and reads the whole body, reporting its length and MD5. It is how an
//! operator proves that the web server passes chunked uploads through intact.

use crate::core::hex::hex;
use crate::core::http::{Host, LogLevel, Request, Response};
use md5::{Digest, Md5};
use std::fmt::Write as _;

pub fn handle(req: &Request<'_>, host: &mut dyn Host) -> Response {
    let mut out = String::new();
    // `write!` into a String cannot fail.
    let _ = writeln!(out, "PID: {}", std::process::id());
    let (uid, gid) = crate::core::os::ids();
    let _ = writeln!(out, "UID: {uid}");
    let _ = writeln!(out, "GID: {gid}");
    let _ = writeln!(out, "Method: {}", req.method);
    let _ = writeln!(out, "URI: {}", req.uri);
    let _ = writeln!(out, "Query: {}", req.query);
    let _ = writeln!(out, "Scheme: {}", req.scheme);
    let _ = writeln!(out, "Remote-User: {}", req.remote_user);
    let _ = writeln!(out, "Request-Id: {}", req.request_id);
    for (name, value) in &req.headers {
        let _ = writeln!(out, "Header: {name}: {value}");
    }
    let _ = writeln!(
        out,
        "Body-Chunked: {}",
        if req.chunked { "yes" } else { "no" }
    );

    let mut md5 = Md5::new();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match host.read_body(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                md5.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) => {
                host.log(
                    LogLevel::Info,
                    &format!("debug handler: body read failed after {total} bytes: {e}"),
                );
                let _ = writeln!(out, "Body-Error: {e}");
                break;
            }
        }
    }
    let _ = writeln!(out, "Body-Length: {total}");
    let _ = writeln!(out, "Body-MD5: {}", hex(&md5.finalize()));
    host.log(
        LogLevel::Debug,
        &format!(
            "debug handler: {} {} body {total} bytes chunked={}",
            req.method, req.uri, req.chunked
        ),
    );
    Response::text(200, out)
}
