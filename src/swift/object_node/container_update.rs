//! The container update after an object write, as Swift's object server
//! sends it (`container_update` / `async_update`): to every
//! `X-Container-Host` with its `X-Container-Device` and the
//! `X-Container-Partition`, a PUT (object written or POSTed) or DELETE to
//! the container server with the listing's headers (`X-Size`,
//! `X-Content-Type`, `X-Etag`, `X-Timestamp`, ...), `X-Trans-Id`,
//! `Referer`, `User-Agent` and `X-Backend-Storage-Policy-Index`. Each goes
//! on its own thread; the request waits for them at most
//! `CONTAINER_UPDATE_TIMEOUT_SECS` (Swift's `container_update_timeout`),
//! and an update that fails (no connection, timeout, an answer that is not
//! 2xx) is saved as Swift's `async_pending` pickle for Swift's
//! object-updater to send later.

use super::client;
use crate::core::http::Request;
use crate::node::object_node::{
    CONN_TIMEOUT_SECS, CONTAINER_UPDATE_TIMEOUT_SECS, NODE_TIMEOUT_SECS,
};
use crate::store::swift_disk::async_pending::{self, AsyncUpdate};
use crate::store::timestamp::OffsetTimestamp;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// What one object write tells its containers.
#[derive(Debug, Clone)]
pub struct Update {
    pub op: &'static str,
    pub account: String,
    pub container: String,
    pub obj: String,
    /// The listing's headers (title-cased names).
    pub headers: Vec<(String, String)>,
    /// Where the object lives: its device, policy and name hash.
    pub device_dir: PathBuf,
    pub policy: u32,
    pub hash: String,
}

/// One container server to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub device: String,
    pub partition: String,
}

/// What the write's request says about its containers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    pub targets: Vec<Target>,
    /// `X-Container-Root-Db-State`.
    pub db_state: Option<String>,
    /// A shard to send to instead (`X-Backend-Quoted-Container-Path` or
    /// `X-Backend-Container-Path`, `account/container`).
    pub container_path: Option<String>,
}

/// Reads `X-Container-Host/-Device/-Partition` as Swift's
/// `container_update`: hosts and devices comma-separated and paired; a
/// count mismatch (a proxy bug) or no partition means no update. Err: the
/// mismatch, for the log.
pub fn targets_of(req: &Request<'_>) -> Result<Targets, String> {
    let split = |h| -> Vec<String> {
        req.header(h)
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    };
    let (hosts, devices) = (split("X-Container-Host"), split("X-Container-Device"));
    if hosts.len() != devices.len() {
        return Err(format!(
            "ERROR Container update failed: different numbers of hosts and devices in request: {:?} vs {:?}",
            req.header("X-Container-Host").unwrap_or(""),
            req.header("X-Container-Device").unwrap_or("")
        ));
    }
    let partition = req
        .header("X-Container-Partition")
        .unwrap_or("")
        .to_string();
    let targets = if partition.is_empty() {
        Vec::new()
    } else {
        hosts
            .into_iter()
            .zip(devices)
            .map(|(host, device)| Target {
                host,
                device,
                partition: partition.clone(),
            })
            .collect()
    };
    let container_path = req
        .header("X-Backend-Quoted-Container-Path")
        .and_then(|p| crate::swift::names::decode_path(p).ok())
        .or_else(|| req.header("X-Backend-Container-Path").map(str::to_string))
        .filter(|p| {
            let mut parts = p.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(c), None) if !a.is_empty() && !c.is_empty())
        });
    Ok(Targets {
        targets,
        db_state: req.header("X-Container-Root-Db-State").map(str::to_string),
        container_path,
    })
}

/// The headers every update carries besides the listing's:
/// `X-Trans-Id`, `Referer` (`METHOD url` of the write),
/// `X-Backend-Storage-Policy-Index`.
pub fn common_headers(req: &Request<'_>, policy: u32) -> Vec<(String, String)> {
    let query = if req.query.is_empty() {
        String::new()
    } else {
        format!("?{}", req.query)
    };
    vec![
        (
            "X-Trans-Id".into(),
            req.header("X-Trans-Id").unwrap_or("-").to_string(),
        ),
        (
            "Referer".into(),
            format!(
                "{} {}://{}{}{query}",
                req.method, req.scheme, req.host, req.uri
            ),
        ),
        ("X-Backend-Storage-Policy-Index".into(), policy.to_string()),
    ]
}

/// How one update ended, for the log.
#[derive(Debug)]
pub enum Outcome {
    Sent {
        host: String,
        status: u16,
    },
    Saved {
        host: String,
        why: String,
        path: PathBuf,
    },
    Lost {
        host: String,
        why: String,
    },
}

/// Sends `update` to every target; waits at most the update timeout and
/// returns what ended by then (the others go on in the background and
/// save themselves when they fail).
pub fn send(update: Update, targets: Targets) -> Vec<Outcome> {
    let (tx, rx) = mpsc::channel();
    let count = targets.targets.len();
    for target in targets.targets.clone() {
        let (u, ts, to, tx2) = (update.clone(), targets.clone(), target.clone(), tx.clone());
        let spawned = std::thread::Builder::new()
            .name("stowage-container-update".into())
            .spawn(move || {
                let _ = tx2.send(send_one(&u, &ts, &to));
            });
        if let Err(e) = spawned {
            let _ = tx.send(save(
                &update,
                &targets,
                &target.host,
                format!("no thread: {e}"),
            ));
        }
    }
    drop(tx);
    let deadline =
        std::time::Instant::now() + Duration::from_secs_f64(CONTAINER_UPDATE_TIMEOUT_SECS);
    let mut done = Vec::with_capacity(count);
    while done.len() < count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(outcome) => done.push(outcome),
            Err(_) => break,
        }
    }
    done
}

/// An update with nowhere to send it (Swift's `async_update` without a
/// host: the expirer queue's DELETEs) goes straight to `async_pending`.
pub fn save_now(update: &Update) -> Outcome {
    save(
        update,
        &Targets::default(),
        "-",
        "no container host given".into(),
    )
}

fn send_one(update: &Update, targets: &Targets, target: &Target) -> Outcome {
    let path = match &targets.container_path {
        Some(cp) => format!("/{cp}/{}", update.obj),
        None => format!("/{}/{}/{}", update.account, update.container, update.obj),
    };
    let mut headers = update.headers.clone();
    headers.push((
        "User-Agent".into(),
        format!("object-server {}", std::process::id()),
    ));
    let sent = client::request(
        &target.host,
        &target.device,
        &target.partition,
        update.op,
        &path,
        &headers,
        client::Timeouts {
            connect: Duration::from_secs_f64(CONN_TIMEOUT_SECS),
            node: Duration::from_secs_f64(NODE_TIMEOUT_SECS),
        },
    );
    match sent {
        Ok(status) if (200..300).contains(&status) => Outcome::Sent {
            host: target.host.clone(),
            status,
        },
        Ok(status) => save(update, targets, &target.host, format!("{status} response")),
        Err(e) => save(update, targets, &target.host, e.to_string()),
    }
}

/// Swift's fallback: the update as an `async_pending` pickle, named by
/// the update's `X-Meta-Timestamp` (a POST's) or `X-Timestamp`.
fn save(update: &Update, targets: &Targets, to: &str, why: String) -> Outcome {
    let mut headers = update.headers.clone();
    headers.push((
        "User-Agent".into(),
        format!("object-server {}", std::process::id()),
    ));
    let stamp = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| OffsetTimestamp::parse(v))
    };
    let Some(timestamp) = stamp("X-Meta-Timestamp").or_else(|| stamp("X-Timestamp")) else {
        return Outcome::Lost {
            host: to.to_string(),
            why: format!("{why}; the update has no timestamp to be saved under"),
        };
    };
    let pending = AsyncUpdate {
        op: update.op.to_string(),
        account: update.account.clone(),
        container: update.container.clone(),
        obj: update.obj.clone(),
        headers,
        db_state: targets.db_state.clone(),
        container_path: targets.container_path.clone(),
    };
    match async_pending::write(
        &update.device_dir,
        update.policy,
        &update.hash,
        timestamp,
        &pending,
    ) {
        Ok(path) => Outcome::Saved {
            host: to.to_string(),
            why,
            path,
        },
        Err(e) => Outcome::Lost {
            host: to.to_string(),
            why: format!("{why}; saving it failed: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::request;

    #[test]
    fn pairs_hosts_with_devices() {
        let r = request(&[
            ("X-Container-Host", "127.0.0.1:6211, 127.0.0.1:6221"),
            ("X-Container-Device", "sdb1,sdb2"),
            ("X-Container-Partition", "7"),
        ]);
        let t = targets_of(&r).unwrap();
        assert_eq!(t.targets.len(), 2);
        assert_eq!(t.targets[1].host, "127.0.0.1:6221");
        assert_eq!(t.targets[1].device, "sdb2");
        assert_eq!(t.targets[0].partition, "7");
        let r = request(&[("X-Container-Host", "a:1,b:2"), ("X-Container-Device", "d")]);
        assert!(targets_of(&r).is_err());
        let r = request(&[("X-Container-Host", "a:1"), ("X-Container-Device", "d")]);
        assert!(targets_of(&r).unwrap().targets.is_empty());
    }

    #[test]
    fn an_unreachable_container_server_leaves_an_async_pending() {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hash = "0123456789abcdef0123456789abcabc".to_string();
        let update = Update {
            op: "PUT",
            account: "a".into(),
            container: "c".into(),
            obj: "o".into(),
            headers: vec![("X-Timestamp".into(), "1700000000.00000".into())],
            device_dir: dir.path().to_path_buf(),
            policy: 0,
            hash: hash.clone(),
        };
        let targets = Targets {
            targets: vec![Target {
                host: format!("127.0.0.1:{port}"),
                device: "sdb1".into(),
                partition: "1".into(),
            }],
            ..Targets::default()
        };
        let done = send(update, targets);
        assert!(
            matches!(done.as_slice(), [Outcome::Saved { .. }]),
            "{done:?}"
        );
        let p = dir
            .path()
            .join("async_pending/abc")
            .join(format!("{hash}-1700000000.00000"));
        assert!(p.is_file());
    }
}
