//! A backend Swift object node's settings (issue 20): the devices
//! directory a vhost serves Swift's object-server protocol for
//! (`StowageObjectServer`) and the `swift.conf` it reads
//! (`StowageSwiftConf`: the hash path salt and the storage policies).
//! The protocol itself is `swift::object_node`; the disk format
//! `store::swift_disk`.

pub mod swift_conf;

use crate::store::hash_path::HashPath;
use std::path::{Path, PathBuf};
use swift_conf::{PolicyType, SwiftConf};

/// Swift's object server defaults this node follows.
pub const CONTAINER_UPDATE_TIMEOUT_SECS: f64 = 1.0;
pub const CONN_TIMEOUT_SECS: f64 = 0.5;
pub const NODE_TIMEOUT_SECS: f64 = 3.0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNode {
    /// The directory holding one directory per device (Swift's `devices`).
    pub devices: PathBuf,
    /// The `swift.conf` read (named in errors).
    pub swift_conf_path: PathBuf,
    pub swift_conf: SwiftConf,
}

impl ObjectNode {
    /// Reads `swift_conf_path` now: a node with a salt it cannot read
    /// would store every object under the wrong hash.
    pub fn load(devices: &Path, swift_conf_path: &Path) -> Result<ObjectNode, String> {
        let text = std::fs::read_to_string(swift_conf_path)
            .map_err(|e| format!("StowageSwiftConf {}: {e}", swift_conf_path.display()))?;
        let swift_conf = SwiftConf::parse(&text)
            .map_err(|e| format!("StowageSwiftConf {}: {e}", swift_conf_path.display()))?;
        Ok(ObjectNode {
            devices: devices.to_path_buf(),
            swift_conf_path: swift_conf_path.to_path_buf(),
            swift_conf,
        })
    }

    pub fn hash_path(&self) -> &HashPath {
        &self.swift_conf.hash_path
    }

    /// A device's directory when it is one (Swift's `check_dir` with
    /// `mount_check = false`: a loopback node's devices are plain
    /// directories). None: Swift's 507.
    pub fn device_dir(&self, device: &str) -> Option<PathBuf> {
        let dir = self.devices.join(device);
        dir.is_dir().then_some(dir)
    }

    /// Whether policy `index` exists and this node can store it (only
    /// replication policies: erasure coding is not implemented).
    pub fn policy(&self, index: u32) -> Result<(), String> {
        match self.swift_conf.policies.iter().find(|p| p.index == index) {
            None => Err(format!("No policy with index {index}")),
            Some(p) if p.policy_type != PolicyType::Replication => Err(format!(
                "policy {index} is {:?}: only replication policies are served",
                p.policy_type
            )),
            Some(_) => Ok(()),
        }
    }
}
