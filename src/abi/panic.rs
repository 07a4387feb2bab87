//! The panic boundary every entry point runs its body inside: no panic
//! crosses into the host. A panic's message is kept (not printed to
//! stderr) for the entry to report through the host's log or its error
//! buffer, and the entry returns its failure value instead.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// The message of the last panic on this thread, for the boundary to log.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics are reported through the host's log, not printed to stderr.
pub(super) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = info.to_string();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
        }));
    });
}

fn take_message() -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "panic with no message".to_string())
}

/// Runs an entry point's `body`: its value, or the message of its panic
/// for the entry to report before it returns its failure value (an error
/// code, NULL, ...).
///
/// Unwind safety is asserted: after a panic the entry only reports it, and
/// the state a request touched is per request (shared stores are guarded
/// by locks that tolerate poisoning, and the gates' shared memory by robust
/// mutexes), so nothing half-updated is read as whole.
pub(super) fn boundary<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(body)).map_err(|_| take_message())
}
