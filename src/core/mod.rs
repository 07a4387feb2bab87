//! Core: what every layer above may use and that knows no layer above it.
//! Host-independent HTTP request and response types (`http`) and a request
//! kept past its call (`owned_request`), Swift's
//! spelling of header names (`header_case`), the request
//! log prefix (`request_log`), Swift's size and count limits (`constraints`),
//! thin OS calls (`os`), hex encoding (`hex`), and the hooks tests use to
//! hold a request at a known point (`test_hooks`). Imports: nothing from the
//! crate outside `core`.

pub mod constraints;
pub mod header_case;
pub mod hex;
pub mod http;
#[allow(unsafe_code)]
pub mod os;
pub mod owned_request;
pub mod request_log;
pub mod test_hooks;
