//! Stowage: OpenStack-Swift-compatible object storage that runs inside a
//! stock web server. The host (Apache, through `ffi/apache/mod_stowage.c`)
//! owns connections, threads and logs; this library owns the storage and is
//! reached only through the C ABI in `ffi/stowage.h` (see `abi`).
//!
//! Processors never see C types: `abi` converts the host's views into
//! `http::Request` and a `http::Host` implementation, and everything below
//! works on those.

pub mod abi;
pub mod access;
pub mod account;
pub mod acl;
pub mod apache_auth;
pub mod audit;
pub mod auth;
pub mod conditional;
pub mod config;
pub mod constraints;
pub mod container;
pub mod copy;
pub mod debug;
pub mod expiry;
pub mod gate;
pub mod http;
pub mod info;
pub mod integrity;
pub mod listing;
pub mod names;
pub mod object;
pub mod os;
pub mod query;
pub mod range;
pub mod recovery;
pub mod request_log;
pub mod router;
pub mod storage_fs;
pub mod store;
pub mod test_hooks;
pub mod verified;
pub mod verify_once;
pub mod vhost;

#[cfg(test)]
mod integrity_tests;
#[cfg(test)]
mod router_tests;
