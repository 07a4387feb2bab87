//! Container updates the object-updater sends later: when a container
//! server cannot be reached after an object write, Swift's object server
//! pickles the update into
//! `<device>/async_pending[-N]/<suffix>/<hash>-<timestamp>` (its
//! `pickle_async_update`, through `write_pickle`: a temp file in
//! `tmp[-N]`, fsynced, renamed into place), and Swift's
//! `swift-object-updater` reads, sends and removes it. The pickle here is
//! the same dict, protocol 2, with Python 3 `str` keys and values as
//! Swift's writes them (the headers title-cased with `str` values, as
//! its `HeaderKeyDict` holds them; `db_state` None when the proxy sent
//! none). Swift pickles the headers as a `HeaderKeyDict`; a plain dict is
//! what its object-updater turns that into anyway (`HeaderKeyDict(
//! update['headers'].copy())`).

use super::error::DiskError;
use super::layout::{policy_dir, suffix, ASYNCDIR_BASE, TMP_BASE};
use super::writer::{rename_into, temp_file};
use crate::store::perms;
use crate::store::timestamp::OffsetTimestamp;
use serde_pickle::{HashableValue, SerOptions, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `pickle_async_update` stores: the operation (`PUT`/`DELETE`), the
/// names, the headers the container server gets, and where to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncUpdate {
    pub op: String,
    pub account: String,
    pub container: String,
    pub obj: String,
    pub headers: Vec<(String, String)>,
    /// `X-Container-Root-Db-State` as the proxy sent it.
    pub db_state: Option<String>,
    /// `account/container` of a shard the update goes to instead.
    pub container_path: Option<String>,
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn key(s: &str) -> HashableValue {
    HashableValue::String(s.to_string())
}

impl AsyncUpdate {
    /// The pickled dict (protocol 2).
    pub fn to_pickle(&self) -> Vec<u8> {
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| (key(k), text(v)))
            .collect();
        let mut dict = std::collections::BTreeMap::new();
        dict.insert(key("op"), text(&self.op));
        dict.insert(key("account"), text(&self.account));
        dict.insert(key("container"), text(&self.container));
        dict.insert(key("obj"), text(&self.obj));
        dict.insert(key("headers"), Value::Dict(headers));
        dict.insert(
            key("db_state"),
            self.db_state.as_deref().map_or(Value::None, text),
        );
        if let Some(path) = &self.container_path {
            dict.insert(key("container_path"), text(path));
        }
        // A Value of strings, ints and None always serialises into a Vec.
        serde_pickle::value_to_vec(&Value::Dict(dict), SerOptions::new().proto_v2())
            .unwrap_or_default()
    }
}

/// Where the update of object `hash` at `timestamp` is kept:
/// `<device>/async_pending[-N]/<suffix>/<hash>-<timestamp.internal>`.
pub fn path_of(device: &Path, policy: u32, hash: &str, timestamp: OffsetTimestamp) -> PathBuf {
    device
        .join(policy_dir(ASYNCDIR_BASE, policy))
        .join(suffix(hash))
        .join(format!("{hash}-{}", timestamp.internal()))
}

/// Writes `update` for object `hash` on `device` as Swift's
/// `pickle_async_update` does; returns the file's path. `timestamp` is the
/// update's `x-meta-timestamp` when it has one, else its `x-timestamp`.
pub fn write(
    device: &Path,
    policy: u32,
    hash: &str,
    timestamp: OffsetTimestamp,
    update: &AsyncUpdate,
) -> Result<PathBuf, DiskError> {
    let tmp_dir = device.join(policy_dir(TMP_BASE, policy));
    perms::create_dir_all(&tmp_dir).map_err(|e| DiskError::io("making", &tmp_dir, e))?;
    let (mut file, tmp_path) = temp_file(&tmp_dir)?;
    let written = file
        .write_all(&update.to_pickle())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp_path);
        return Err(DiskError::io("writing", &tmp_path, e));
    }
    let dest = path_of(device, policy, hash, timestamp);
    if let Err(e) = rename_into(&tmp_path, &dest) {
        let _ = std::fs::remove_file(&tmp_path);
        return Err(e);
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AsyncUpdate {
        AsyncUpdate {
            op: "PUT".into(),
            account: "AUTH_a".into(),
            container: "c".into(),
            obj: "o".into(),
            headers: vec![
                ("X-Size".into(), "5".into()),
                ("X-Backend-Storage-Policy-Index".into(), "0".into()),
            ],
            db_state: None,
            container_path: None,
        }
    }

    #[test]
    fn the_pickle_reads_back_as_the_dict() {
        let raw = sample().to_pickle();
        let v = serde_pickle::value_from_slice(&raw, Default::default()).unwrap();
        let Value::Dict(d) = v else { panic!("{v:?}") };
        assert_eq!(d.get(&key("op")), Some(&text("PUT")));
        assert_eq!(d.get(&key("db_state")), Some(&Value::None));
        let Some(Value::Dict(h)) = d.get(&key("headers")) else {
            panic!()
        };
        assert_eq!(
            h.get(&key("X-Backend-Storage-Policy-Index")),
            Some(&text("0"))
        );
        assert!(!d.contains_key(&key("container_path")));
    }

    #[test]
    fn written_under_the_suffix_with_the_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let hash = "0123456789abcdef0123456789abcdef";
        let ts = OffsetTimestamp::parse("1700000000.12345").unwrap();
        let p = write(dir.path(), 1, hash, ts, &sample()).unwrap();
        assert_eq!(
            p,
            dir.path()
                .join("async_pending-1/def")
                .join(format!("{hash}-1700000000.12345"))
        );
        assert_eq!(std::fs::read(&p).unwrap(), sample().to_pickle());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp-1")).unwrap().count(),
            0
        );
    }
}
