//! ABI: the only `extern "C"` code, and the top layer. The table of entry
//! points declared in `ffi/stowage.h` (here), each running inside the one
//! panic boundary (`panic`); the host's C views read as Rust values
//! (`views`); the host's callbacks as a `core::http::Host` (`host`). No
//! storage or API logic lives here. Imports: every layer below (`swift`
//! for the handlers, `node` for vhosts, `gate` for the status page,
//! `core`).
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

mod host;
mod panic;
mod views;

use crate::core::http::{self, Host, LogLevel, Request, Response};
use crate::node::vhost::Vhost;
use ffi::*;
use host::{level_code, CHost};
use panic::boundary;
use std::ffi::{c_char, c_int, c_void};
use views::{directive_words, request, view, write_err};

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
    panic::install_hook();
    &API.0
}

unsafe extern "C" fn check_directive(
    directive: *const stowage_directive,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let (code, msg) = boundary(
        // SAFETY: the host passes a valid directive or NULL.
        || match unsafe { directive_words(directive) } {
            Err(msg) => (STOWAGE_ERR_ARGUMENT, msg),
            Ok(words) => match crate::node::config::check_directive(&words) {
                Ok(()) => (STOWAGE_OK, String::new()),
                Err(e) => (STOWAGE_ERR_CONFIG, e.0),
            },
        },
    )
    .unwrap_or_else(|msg| (STOWAGE_ERR_PANIC, msg));
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
    let built = || -> Result<Box<VhostHandle>, String> {
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
        let config = crate::node::config::build(&words).map_err(|e| e.0)?;
        let root = config.root.display().to_string();
        // Before anything is made in it: a root other local users can
        // write into is refused, as sshd refuses such a key file.
        let notes =
            crate::store::perms::check_root(&config.root, crate::core::os::effective_uid())?;
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
        if let Some(w) = crate::node::storage_fs::warning_for(&handle.vhost.config.root) {
            handle.log(LogLevel::Warn, &w);
        }
        Ok(handle)
    };
    match boundary(built).and_then(|r| r) {
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
    let _ = boundary(move || drop(handle));
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
    let render = || {
        let text = crate::gate::status::render(
            &vh.vhost.config.root,
            &vh.vhost.gates,
            format,
            index as usize,
            &mut |m| vh.log(LogLevel::Error, m),
        );
        // SAFETY: the view borrows `text` for the call; ctx is the host's.
        unsafe { write(ctx, view(&text)) };
        STOWAGE_OK as c_int
    };
    boundary(render).unwrap_or_else(|msg| {
        vh.log(LogLevel::Error, &format!("stowage: status panicked: {msg}"));
        STOWAGE_ERR_PANIC as c_int
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
    let serve = |host: &mut CHost<'_>| {
        // SAFETY: the request's views are valid during this call.
        let parsed = unsafe { request(req) };
        let (resp, head) = match parsed {
            Err(msg) => (Response::error(400, msg), false),
            Ok(r) => (dispatch(vh, handler, &r, host), r.is_head()),
        };
        let trans_id = resp.get_header("X-Trans-Id").unwrap_or("-").to_string();
        // Streamed bodies that read storage as they go (a join of
        // segments) get the vhost.
        let sent = match vh {
            Some(vh) => http::send_in(resp, host, head, &vh.vhost),
            None => http::send(resp, host, head),
        };
        match sent {
            Ok(()) => STOWAGE_OK,
            Err(e @ http::SendError::Broken(_)) => {
                let mut host = crate::core::request_log::TransHost::new(host, &trans_id);
                if let Some(vh) = vh {
                    crate::node::integrity::after_broken_stream(&vh.vhost, &e, &mut host);
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
    };
    let code = match boundary(|| serve(&mut host)) {
        Ok(code) => code,
        Err(msg) => {
            host.log(
                LogLevel::Error,
                &format!("stowage: request handler panicked: {msg}"),
            );
            if !host.wrote {
                let _ = boundary(|| http::send(Response::error(500, ""), &mut host, false));
            }
            STOWAGE_ERR_PANIC
        }
    };
    code as c_int
}

fn dispatch(
    vh: Option<&VhostHandle>,
    handler: c_int,
    req: &Request<'_>,
    host: &mut dyn Host,
) -> Response {
    crate::core::test_hooks::before_request(req);
    match (handler as u32, vh) {
        (STOWAGE_HANDLER_DEBUG, _) => crate::swift::debug::handle(req, host),
        (STOWAGE_HANDLER_SWIFT, Some(vh)) => crate::swift::router::handle(&vh.vhost, req, host),
        (STOWAGE_HANDLER_STATUS, Some(vh)) => {
            crate::gate::status::respond(&vh.vhost.config.root, &vh.vhost.gates, req, host)
        }
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
