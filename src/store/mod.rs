//! On-disk formats, kept apart from the processors that use them: object
//! files (`objects`), the SQLite catalog of accounts and containers
//! (`catalog`) and the crash journal of two-step writes (`intents`).

pub mod catalog;
pub mod db;
pub mod error;
pub mod expiring;
pub mod intents;
pub mod lazy_dirs;
pub mod objects;
pub mod perms;
pub mod quarantine;
pub mod small_file;
pub mod timestamp;
pub mod turns;

pub use error::StoreError;
pub use timestamp::Timestamp;
