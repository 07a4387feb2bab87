//! On-disk formats, kept apart from the processors that use them: object
//! files (`objects`), and the SQLite catalog of accounts and containers
//! (`catalog`).

pub mod catalog;
pub mod db;
pub mod error;
pub mod expiring;
pub mod objects;
pub mod quarantine;
pub mod timestamp;

pub use error::StoreError;
pub use timestamp::Timestamp;
