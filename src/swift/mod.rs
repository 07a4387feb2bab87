//! Swift: OpenStack Swift's v1 API over one node. The router maps a request
//! to its processor (`router`), after parsing its path, query, ranges and
//! conditions (`names`, `query`, `range`, `conditional`) and deciding who
//! the caller is and what they may do (`auth`, `access`, `acl`). The
//! account, container and object processors (`account`, `container`,
//! `object`) answer with `core::http::Response`s; listings are rendered by
//! `listing`, server-side copies by `copy`; the results body of bulk
//! operations by `bulk_results`, sent while the work runs with
//! `heartbeat`s; large objects' segments are joined into
//! one body by `segments`; a missing object Content-Type is
//! guessed from the name by `mime`; `wire` gives every answer Swift's
//! header spelling. Imports: `node`, `gate`,
//! `store`, `core`; never `abi`.

pub mod access;
pub mod account;
pub mod acl;
pub mod admission;
pub mod auth;
pub mod bulk_results;
pub mod conditional;
pub mod container;
pub mod debug;
pub mod error;
pub mod heartbeat;
pub mod info;
pub mod listing;
pub mod middleware;
pub mod mime;
pub mod names;
pub mod object;
pub mod object_node;
pub mod query;
pub mod range;
pub mod router;
pub mod segments;
pub mod wire;
