//! Node: the jobs of one storage node, below any HTTP API. A `Vhost` is
//! one configured storage root with its stores and gates (`vhost`), built
//! from the host's directives (`config`, `apache_auth`, `cors`). Around the stores
//! run the node's own jobs: checking object bytes against their checksum
//! and quarantining bad ones (`integrity`, `verified`), reconciling writes
//! whose process died (`recovery`), reclaiming expired objects (`expiry`),
//! checking a whole root offline (`audit`) and warning about a root on an
//! unjournaled filesystem (`storage_fs`). Imports: `gate`, `store`, `core`.

pub mod apache_auth;
pub mod audit;
pub mod config;
pub mod cors;
pub mod expiry;
pub mod integrity;
pub mod object_node;
pub mod policy;
pub mod recovery;
pub mod storage_fs;
pub mod verified;
pub mod verify_once;
pub mod vhost;
