//! The host's C views read as Rust values, and Rust values lent to the
//! host as C views. Every view is valid only for the call it came with
//! (the header's contract), which the lifetimes here say.

use super::ffi::*;
use crate::core::http::{HeaderValue, Request};
use std::borrow::Cow;
use std::ffi::c_char;

/// Borrows the bytes of a C string view.
///
/// # Safety
/// `s.ptr` must point at `s.len` readable bytes that outlive `'a` (or be
/// NULL with `len == 0`), as the header requires of the host.
pub(super) unsafe fn bytes<'a>(s: stowage_str) -> &'a [u8] {
    if s.ptr.is_null() || s.len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller (see above).
        unsafe { std::slice::from_raw_parts(s.ptr as *const u8, s.len) }
    }
}

pub(super) fn view(s: &str) -> stowage_str {
    bytes_view(s.as_bytes())
}

/// Bytes lent as a view: the header's strings are byte views with a
/// length, UTF-8 or not (a header value the client sent as bytes).
pub(super) fn bytes_view(b: &[u8]) -> stowage_str {
    stowage_str {
        ptr: b.as_ptr() as *const c_char,
        len: b.len(),
    }
}

/// Copies `msg` into the caller's buffer, truncated and NUL-terminated.
///
/// # Safety
/// `err` must be NULL or point at `err_len` writable bytes.
pub(super) unsafe fn write_err(err: *mut c_char, err_len: usize, msg: &str) {
    if err.is_null() || err_len == 0 {
        return;
    }
    let n = msg.len().min(err_len - 1);
    // SAFETY: n + 1 <= err_len bytes are writable per the caller's contract,
    // and msg is a separate Rust allocation, so the ranges do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), err as *mut u8, n);
        *err.add(n) = 0;
    }
}

/// The directive's words as &str (directive files are text).
///
/// # Safety
/// `d` must be NULL or a valid directive whose argv holds argc views.
pub(super) unsafe fn directive_words<'a>(
    d: *const stowage_directive,
) -> Result<Vec<&'a str>, String> {
    // SAFETY: per the caller's contract.
    let Some(d) = (unsafe { d.as_ref() }) else {
        return Err("NULL directive".into());
    };
    if d.argc == 0 || d.argv.is_null() {
        return Err("empty directive".into());
    }
    // SAFETY: argv holds argc views (header contract).
    let argv = unsafe { std::slice::from_raw_parts(d.argv, d.argc) };
    argv.iter()
        // SAFETY: each view is valid for the call (header contract).
        .map(|s| {
            std::str::from_utf8(unsafe { bytes(*s) })
                .map_err(|_| "directive is not valid UTF-8".to_string())
        })
        .collect()
}

/// Builds a `Request` from the C view; Err is a 400 for a request line that
/// is not text. Header values keep their bytes (`HeaderValue`); names are
/// tokens for Apache, read lossily all the same.
///
/// # Safety
/// Every view in `r` must be valid for `'a` (header contract).
pub(super) unsafe fn request<'a>(r: &'a stowage_request) -> Result<Request<'a>, &'static str> {
    // SAFETY (whole function): views are valid per the caller's contract.
    let text = |s: stowage_str| std::str::from_utf8(unsafe { bytes(s) });
    let headers = if r.headers.is_null() || r.header_count == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(r.headers, r.header_count) }
    };
    let lossy = |s: stowage_str| -> Cow<'a, str> { String::from_utf8_lossy(unsafe { bytes(s) }) };
    Ok(Request {
        method: text(r.method).map_err(|_| "method is not text")?,
        uri: match text(r.uri) {
            Ok(uri) => Cow::Borrowed(uri),
            // SAFETY: the view is valid for 'a (caller's contract).
            Err(_) => Cow::Owned(crate::swift::names::escape_raw_path(unsafe {
                bytes(r.uri)
            })),
        },
        query: text(r.query).map_err(|_| "query string is not valid UTF-8")?,
        scheme: text(r.scheme).unwrap_or("http"),
        host: text(r.host).unwrap_or(""),
        remote_user: text(r.remote_user).unwrap_or(""),
        request_id: text(r.request_id).unwrap_or(""),
        headers: headers
            .iter()
            // SAFETY: the view is valid for 'a (caller's contract).
            .map(|h| {
                (
                    lossy(h.name),
                    HeaderValue::from_bytes(unsafe { bytes(h.value) }),
                )
            })
            .collect(),
        content_length: u64::try_from(r.content_length).ok(),
        chunked: r.body_chunked != 0,
    })
}
