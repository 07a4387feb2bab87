//! Store: everything about the disk format, kept apart from the processors
//! that use it: object files (`objects`), the SQLite catalog of accounts and
//! containers (`catalog`, over `db`'s connection pool), the crash journal of
//! two-step writes (`intents`) and the write protocol itself (`write`), expiry markers (`expiring`), tempauth's
//! tokens (`tokens`), quarantined files (`quarantine`), timestamps and the
//! node-wide turns of opportunistic jobs (`turns`); `hash_path` makes the
//! hashes names are stored under. Failures are one typed
//! `StoreError`; the store knows no HTTP. Imports: `core` only.

pub mod catalog;
pub mod db;
pub mod error;
pub mod expiring;
pub mod hash_path;
pub mod intents;
pub mod lazy_dirs;
pub mod objects;
pub mod part_power;
pub mod perms;
pub mod quarantine;
pub mod small_file;
pub mod swift_disk;
pub mod timestamp;
pub mod tokens;
pub mod turns;
pub mod write;

pub use error::StoreError;
pub use timestamp::Timestamp;
