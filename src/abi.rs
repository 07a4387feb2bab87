//! The only `extern "C"` code: the table of entry points declared in
//! `ffi/stowage.h`. Converts the host's C views into Rust types, and keeps
//! every panic on this side of the boundary. No storage logic lives here.
//!
//! The table's field types come from the header through bindgen, so a Rust
//! function whose signature drifts from the header does not compile.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code
)]

mod ffi {
    #![allow(
        non_camel_case_types,
        non_upper_case_globals,
        non_snake_case,
        dead_code
    )]
    #![allow(clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/stowage_abi.rs"));
}

use crate::http::{self, Host, LogLevel, Request, Response};
use crate::vhost::Vhost;
use ffi::*;
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};
use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

const LIB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The table holds only function pointers and a pointer to a static string.
struct ApiTable(stowage_api);
// SAFETY: every field is immutable for the life of the process and points at
// code or 'static data, so sharing it between threads is sound.
unsafe impl Sync for ApiTable {}

static API: ApiTable = ApiTable(stowage_api {
    abi_version: STOWAGE_ABI_VERSION,
    lib_version: stowage_str {
        ptr: LIB_VERSION.as_ptr() as *const c_char,
        len: LIB_VERSION.len(),
    },
    check_directive: Some(check_directive),
    vhost_new: Some(vhost_new),
    vhost_free: Some(vhost_free),
    child_init: Some(child_init),
    handle: Some(handle),
    shutdown: Some(shutdown),
    status: Some(status),
});

/// The one exported symbol: the table for `abi_version`, or NULL.
#[no_mangle]
pub extern "C" fn stowage_get_api(abi_version: u32) -> *const stowage_api {
    if abi_version != STOWAGE_ABI_VERSION {
        return std::ptr::null();
    }
    install_panic_hook();
    &API.0
}

thread_local! {
    /// The message of the last panic on this thread, for the boundary to log.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics are reported through the host's log, not printed to stderr.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = info.to_string();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
        }));
    });
}

fn take_panic_message() -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "panic with no message".to_string())
}

/// Borrows the bytes of a C string view.
///
/// # Safety
/// `s.ptr` must point at `s.len` readable bytes that outlive `'a` (or be
/// NULL with `len == 0`), as the header requires of the host.
unsafe fn bytes<'a>(s: stowage_str) -> &'a [u8] {
    if s.ptr.is_null() || s.len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller (see above).
        unsafe { std::slice::from_raw_parts(s.ptr as *const u8, s.len) }
    }
}

fn view(s: &str) -> stowage_str {
    stowage_str {
        ptr: s.as_ptr() as *const c_char,
        len: s.len(),
    }
}

/// Copies `msg` into the caller's buffer, truncated and NUL-terminated.
///
/// # Safety
/// `err` must be NULL or point at `err_len` writable bytes.
unsafe fn write_err(err: *mut c_char, err_len: usize, msg: &str) {
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
unsafe fn directive_words<'a>(d: *const stowage_directive) -> Result<Vec<&'a str>, String> {
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

unsafe extern "C" fn check_directive(
    directive: *const stowage_directive,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let result = panic::catch_unwind(|| {
        // SAFETY: the host passes a valid directive or NULL.
        match unsafe { directive_words(directive) } {
            Err(msg) => (STOWAGE_ERR_ARGUMENT, msg),
            Ok(words) => match crate::config::check_directive(&words) {
                Ok(()) => (STOWAGE_OK, String::new()),
                Err(e) => (STOWAGE_ERR_CONFIG, e.0),
            },
        }
    });
    let (code, msg) = result.unwrap_or_else(|_| (STOWAGE_ERR_PANIC, take_panic_message()));
    // SAFETY: err/err_len come from the host as the header describes.
    unsafe { write_err(err, err_len, &msg) };
    code as c_int
}

/// What the host holds as `stowage_vhost *`.
struct VhostHandle {
    vhost: Vhost,
    log: stowage_log_fn,
    log_data: *mut c_void,
}

impl VhostHandle {
    fn log(&self, level: LogLevel, msg: &str) {
        if let Some(f) = self.log {
            // SAFETY: the host promised log/log_data stay valid until
            // vhost_free; the message view lives for the call.
            unsafe { f(self.log_data, level_code(level), view(msg)) };
        }
    }
}

unsafe extern "C" fn vhost_new(
    directives: *const stowage_directive,
    count: usize,
    log: stowage_log_fn,
    log_data: *mut c_void,
    err: *mut c_char,
    err_len: usize,
) -> *mut stowage_vhost {
    let result = panic::catch_unwind(|| -> Result<Box<VhostHandle>, String> {
        if directives.is_null() && count > 0 {
            return Err("NULL directives".into());
        }
        let list: &[stowage_directive] = if count == 0 {
            &[]
        } else {
            // SAFETY: the host passes `count` directives.
            unsafe { std::slice::from_raw_parts(directives, count) }
        };
        let mut words = Vec::with_capacity(list.len());
        for d in list {
            // SAFETY: each directive is valid for the call.
            words.push(unsafe { directive_words(d) }?);
        }
        let config = crate::config::build(&words).map_err(|e| e.0)?;
        let root = config.root.display().to_string();
        // Before anything is made in it: a root other local users can
        // write into is refused, as sshd refuses such a key file.
        let notes = crate::store::perms::check_root(&config.root, crate::os::effective_uid())?;
        let vhost = Vhost::new(config).map_err(|e| e.to_string())?;
        let handle = Box::new(VhostHandle {
            vhost,
            log,
            log_data,
        });
        handle.log(
            LogLevel::Info,
            &format!("stowage {LIB_VERSION}: serving storage root {root}"),
        );
        for note in notes {
            handle.log(LogLevel::Warn, &format!("stowage: {note}"));
        }
        if let Some(w) = crate::storage_fs::warning_for(&handle.vhost.config.root) {
            handle.log(LogLevel::Warn, &w);
        }
        Ok(handle)
    });
    let outcome = result.unwrap_or_else(|_| Err(take_panic_message()));
    match outcome {
        Ok(h) => Box::into_raw(h) as *mut stowage_vhost,
        Err(msg) => {
            // SAFETY: err/err_len come from the host as the header describes.
            unsafe { write_err(err, err_len, &msg) };
            std::ptr::null_mut()
        }
    }
}

unsafe extern "C" fn vhost_free(vhost: *mut stowage_vhost) {
    if vhost.is_null() {
        return;
    }
    // SAFETY: a non-NULL vhost came from Box::into_raw in vhost_new and the
    // host frees it once, after its last request.
    let handle = unsafe { Box::from_raw(vhost as *mut VhostHandle) };
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(handle)));
}

unsafe extern "C" fn child_init() {
    // Nothing is opened before fork (databases and caches are lazy), so a
    // fresh worker has no state to reset yet.
}

unsafe extern "C" fn shutdown() {}

unsafe extern "C" fn status(
    vhost: *mut stowage_vhost,
    format: c_int,
    index: u32,
    write: stowage_write_fn,
    ctx: *mut c_void,
) -> c_int {
    use crate::gate::status::Format;
    // SAFETY: a non-NULL vhost came from vhost_new and is not yet freed.
    let (Some(vh), Some(write)) = (unsafe { (vhost as *const VhostHandle).as_ref() }, write) else {
        return STOWAGE_ERR_ARGUMENT as c_int;
    };
    let format = match format as u32 {
        STOWAGE_STATUS_HTML => Format::Html,
        STOWAGE_STATUS_TEXT => Format::Text,
        STOWAGE_STATUS_JSON => Format::Json,
        _ => return STOWAGE_ERR_ARGUMENT as c_int,
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let text = crate::gate::status::render(&vh.vhost, format, index as usize, &mut |m| {
            vh.log(LogLevel::Error, m)
        });
        // SAFETY: the view borrows `text` for the call; ctx is the host's.
        unsafe { write(ctx, view(&text)) };
    }));
    match outcome {
        Ok(()) => STOWAGE_OK as c_int,
        Err(_) => {
            vh.log(
                LogLevel::Error,
                &format!("stowage: status panicked: {}", take_panic_message()),
            );
            STOWAGE_ERR_PANIC as c_int
        }
    }
}

/// The host's per-request callbacks as a `Host`.
struct CHost<'a> {
    ops: &'a stowage_host_ops,
    ctx: *mut c_void,
    /// Body bytes went out: the status can no longer change.
    wrote: bool,
}

fn level_code(level: LogLevel) -> c_int {
    (match level {
        LogLevel::Error => STOWAGE_LOG_ERROR,
        LogLevel::Warn => STOWAGE_LOG_WARN,
        LogLevel::Info => STOWAGE_LOG_INFO,
        LogLevel::Debug => STOWAGE_LOG_DEBUG,
    }) as c_int
}

impl Host for CHost<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(f) = self.ops.read_body else {
            return Ok(0);
        };
        // SAFETY: buf is valid for buf.len() writable bytes; ctx is the
        // host's own pointer for this request.
        let n = unsafe { f(self.ctx, buf.as_mut_ptr(), buf.len()) };
        if n == i64::from(STOWAGE_BODY_TIMEOUT) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not send the request body in time",
            ));
        }
        if n < 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the request body could not be read",
            ));
        }
        Ok((n as usize).min(buf.len()))
    }

    fn set_status(&mut self, status: u16) {
        if let Some(f) = self.ops.set_status {
            // SAFETY: plain values and the host's ctx.
            unsafe { f(self.ctx, c_int::from(status)) };
        }
    }

    fn add_header(&mut self, name: &str, value: &str) {
        if let Some(f) = self.ops.add_header {
            // SAFETY: the views borrow strings that outlive the call.
            unsafe { f(self.ctx, view(name), view(value)) };
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(f) = self.ops.write else {
            return Err(io::Error::other("host has no write callback"));
        };
        self.wrote = true;
        // SAFETY: data is valid for data.len() bytes during the call.
        match unsafe { f(self.ctx, data.as_ptr(), data.len()) } {
            0 => Ok(()),
            _ => Err(io::Error::new(io::ErrorKind::BrokenPipe, "client gone")),
        }
    }

    fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        let Some(f) = self.ops.send_file else {
            return Err(io::Error::other("host has no send_file callback"));
        };
        self.wrote = true;
        // SAFETY: the fd is open for the duration of the call; the header
        // tells the host to dup() it if it sends later.
        match unsafe { f(self.ctx, file.as_raw_fd(), offset, len) } {
            0 => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "sending the file failed",
            )),
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        if let Some(f) = self.ops.log {
            // SAFETY: the view borrows message for the call.
            unsafe { f(self.ctx, level_code(level), view(message)) };
        }
    }

    fn set_note(&mut self, name: &str, value: &str) {
        if let Some(f) = self.ops.set_note {
            // SAFETY: the views borrow strings that outlive the call.
            unsafe { f(self.ctx, view(name), view(value)) };
        }
    }
}

/// Builds a `Request` from the C view; Err is a 400 for a request line that
/// is not text.
///
/// # Safety
/// Every view in `r` must be valid for `'a` (header contract).
unsafe fn request<'a>(r: &'a stowage_request) -> Result<Request<'a>, &'static str> {
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
            Err(_) => Cow::Owned(crate::names::escape_raw_path(unsafe { bytes(r.uri) })),
        },
        query: text(r.query).map_err(|_| "query string is not valid UTF-8")?,
        scheme: text(r.scheme).unwrap_or("http"),
        host: text(r.host).unwrap_or(""),
        remote_user: text(r.remote_user).unwrap_or(""),
        request_id: text(r.request_id).unwrap_or(""),
        headers: headers
            .iter()
            .map(|h| (lossy(h.name), lossy(h.value)))
            .collect(),
        content_length: u64::try_from(r.content_length).ok(),
        chunked: r.body_chunked != 0,
    })
}

unsafe extern "C" fn handle(
    vhost: *mut stowage_vhost,
    handler: c_int,
    req: *const stowage_request,
    ops: *const stowage_host_ops,
    ctx: *mut c_void,
) -> c_int {
    // SAFETY: the host passes valid pointers or NULL.
    let (Some(req), Some(ops)) = (unsafe { req.as_ref() }, unsafe { ops.as_ref() }) else {
        return STOWAGE_ERR_ARGUMENT as c_int;
    };
    // SAFETY: a non-NULL vhost came from vhost_new and is not yet freed.
    let vh = unsafe { (vhost as *const VhostHandle).as_ref() };
    let mut host = CHost {
        ops,
        ctx,
        wrote: false,
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the request's views are valid during this call.
        let parsed = unsafe { request(req) };
        let (resp, head) = match parsed {
            Err(msg) => (Response::error(400, msg), false),
            Ok(r) => (dispatch(vh, handler, &r, &mut host), r.is_head()),
        };
        let trans_id = resp.get_header("X-Trans-Id").unwrap_or("-").to_string();
        match http::send(resp, &mut host, head) {
            Ok(()) => STOWAGE_OK,
            Err(e @ http::SendError::Corrupt { .. }) => {
                let mut host = crate::request_log::TransHost::new(&mut host, &trans_id);
                if let Some(vh) = vh {
                    crate::integrity::after_broken_stream(&vh.vhost, &e, &mut host);
                }
                STOWAGE_ERR_ABORTED
            }
            Err(e) => {
                host.log(
                    LogLevel::Debug,
                    &format!("sending the response failed: {e}"),
                );
                STOWAGE_OK
            }
        }
    }));
    match outcome {
        Ok(code) => code as c_int,
        Err(_) => {
            let msg = take_panic_message();
            host.log(
                LogLevel::Error,
                &format!("stowage: request handler panicked: {msg}"),
            );
            if !host.wrote {
                let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                    let _ = http::send(Response::error(500, ""), &mut host, false);
                }));
            }
            STOWAGE_ERR_PANIC as c_int
        }
    }
}

fn dispatch(
    vh: Option<&VhostHandle>,
    handler: c_int,
    req: &Request<'_>,
    host: &mut dyn Host,
) -> Response {
    crate::test_hooks::before_request(req);
    match (handler as u32, vh) {
        (STOWAGE_HANDLER_DEBUG, _) => crate::debug::handle(req, host),
        (STOWAGE_HANDLER_SWIFT, Some(vh)) => crate::router::handle(&vh.vhost, req, host),
        (STOWAGE_HANDLER_STATUS, Some(vh)) => crate::gate::status::respond(&vh.vhost, req, host),
        (STOWAGE_HANDLER_SWIFT | STOWAGE_HANDLER_STATUS, None) => {
            host.log(
                LogLevel::Error,
                "stowage handler without a configured vhost (StowageRoot missing)",
            );
            Response::error(500, "")
        }
        _ => {
            host.log(
                LogLevel::Error,
                &format!("unknown stowage handler {handler}"),
            );
            Response::error(500, "")
        }
    }
}
