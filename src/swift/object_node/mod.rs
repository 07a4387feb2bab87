//! Swift's object-server protocol (issue 20): a vhost with
//! `StowageObjectServer` answers the proxy's backend requests
//! `PUT/GET/HEAD/POST/DELETE /<device>/<partition>/<account>/<container>/<object>`
//! on the devices of `node::object_node`, in Swift's on-disk format
//! (`store::swift_disk`), with the semantics of Swift's `obj/server.py`:
//! `X-Timestamp` newest-wins, 409 with `X-Backend-Timestamp`, 404s that
//! carry a tombstone's time, 507 for a missing device, and the container
//! update after each write (`container_update`, over `client`, with
//! Swift's `async_pending` fallback). One concern per file: the path
//! (`path`), the headers read and stored (`headers`), each method (`put`,
//! `read` for GET/HEAD, `post`, `delete`), the expirer queue updates
//! (`expirer_queue`), the answers to disk errors
//! (`answer`). `/healthcheck` answers 200 `OK` (Swift's healthcheck
//! middleware). REPLICATE and SSYNC stay Swift's (its replication server
//! on the same devices).

pub mod answer;
pub mod client;
pub mod container_update;
pub mod delete;
pub mod expirer_queue;
pub mod headers;
pub mod path;
pub mod post;
pub mod put;
pub mod read;

use crate::core::http::{Host, LogLevel, Request, Response};
use crate::gate::{self, Kind};
use crate::node::object_node::ObjectNode;
use crate::node::vhost::Vhost;
use crate::store::swift_disk::{DiskFile, ObjectLocation, Settings};
use path::ObjectPath;
use std::path::PathBuf;

/// One request's object: where it is and its `DiskFile`.
pub struct Target {
    pub path: ObjectPath,
    pub device_dir: PathBuf,
    pub policy: u32,
    pub disk: DiskFile,
    /// The cluster's salt (for the expirer queue's names).
    pub hash_path: crate::store::hash_path::HashPath,
}

impl Target {
    pub fn hash(&self) -> &str {
        &self.disk.location().hash
    }
}

/// Serves one backend request.
pub fn handle(vh: &Vhost, node: &ObjectNode, req: &Request<'_>, host: &mut dyn Host) -> Response {
    let method = req.method;
    // Swift's healthcheck middleware, first in an object server's
    // pipeline: what the proxy's and an operator's checks ask.
    if req.uri == "/healthcheck" && matches!(method, "GET" | "HEAD") {
        return Response::text(200, "OK");
    }
    if !matches!(method, "PUT" | "GET" | "HEAD" | "POST" | "DELETE") {
        return Response::swob(405).with_header("Allow", "DELETE, GET, HEAD, POST, PUT");
    }
    let target = match locate(node, req) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    match method {
        // The checks that decide 409/412/507 come before the body is read
        // (and so before Apache answers `100 Continue`); the gate's
        // read-ahead of small bodies comes after them.
        "PUT" => put::handle(vh, req, &target, host),
        "GET" | "HEAD" => {
            gate::admission::serve(&vh.gates, req, (Kind::ObjectRead, 0), host, |host| {
                read::handle(req, &target, host)
            })
        }
        "POST" => gate::admission::serve(&vh.gates, req, (Kind::ObjectWrite, 0), host, |host| {
            post::handle(req, &target, host)
        }),
        _ => gate::admission::serve(&vh.gates, req, (Kind::ObjectWrite, 0), host, |host| {
            delete::handle(req, &target, host)
        }),
    }
}

/// The path, the policy and the device (Swift's
/// `get_obj_name_and_placement`, then `get_diskfile`).
fn locate(node: &ObjectNode, req: &Request<'_>) -> Result<Target, Response> {
    let raw = crate::swift::names::strip_authority(&req.uri);
    let path = path::parse(raw).map_err(|r| Response::error(r.status, &r.body))?;
    let policy = headers::policy_index(req).map_err(|b| Response::error(503, &b))?;
    node.policy(policy).map_err(|b| Response::error(503, &b))?;
    let Some(device_dir) = node.device_dir(&path.device) else {
        return Err(answer::insufficient_storage(&path.device));
    };
    let loc = ObjectLocation {
        device: device_dir.clone(),
        policy,
        partition: path.partition,
        hash: node
            .hash_path()
            .object(&path.account, &path.container, &path.object),
    };
    let disk = DiskFile::new(
        loc,
        &path.account,
        &path.container,
        &path.object,
        Settings::default(),
    );
    Ok(Target {
        path,
        device_dir,
        policy,
        disk,
        hash_path: node.hash_path().clone(),
    })
}

/// Logs how each container update ended.
pub(crate) fn log_updates(host: &mut dyn Host, done: &[container_update::Outcome]) {
    use container_update::Outcome;
    for o in done {
        match o {
            Outcome::Sent { .. } => {}
            Outcome::Saved {
                host: to,
                why,
                path,
            } => host.log(
                LogLevel::Warn,
                &format!(
                    "container update to {to} failed ({why}), saved for the updater: {}",
                    path.display()
                ),
            ),
            Outcome::Lost { host: to, why } => host.log(
                LogLevel::Error,
                &format!("container update to {to} failed and was not saved: {why}"),
            ),
        }
    }
}
