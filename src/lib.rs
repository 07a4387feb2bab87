//! Stowage: OpenStack-Swift-compatible object storage that runs inside a
//! stock web server. The host (Apache, through `ffi/apache/mod_stowage.c`)
//! owns connections, threads and logs; this library owns the storage and is
//! reached only through the C ABI in `ffi/stowage.h` (see `abi`).
//!
//! Layers, each a folder, imports pointing only downward (docs/architecture.md):
//!
//! ```text
//! abi    the only extern "C": entry table, panic boundary, C views -> Rust
//!  └> swift   Swift's API: router, middleware pipeline, processors, auth
//!      └> node    one storage node: vhost, config, integrity, recovery, expiry
//!          └> gate    admission: node-wide FIFO semaphores in shared memory
//!              └> store   the disk format and its write protocol
//!                  └> core    host-independent HTTP types, limits, OS calls
//! ```

// `unsafe` only where it is the point: the C boundary (`abi`), the gates'
// shared memory and futexes (`gate::shm`) and raw OS calls (`core::os`).
// Every block there says why it is sound.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod abi;
pub mod core;
pub mod gate;
pub mod node;
pub mod store;
pub mod swift;
