//! The expirer queue updates of Swift's object server
//! (`delete_at_update` / `_conditional_delete_at_update`): when a write
//! sets an `X-Delete-At`, a task
//! `<delete_at>-<account>/<container>/<object>` is PUT into the
//! `.expiring_objects` account's task container for that day (the one the
//! proxy names in `X-Delete-At-Container`, on `X-Delete-At-Host/-Device/
//! -Partition`) so that Swift's `swift-object-expirer` finds it; when a
//! write replaces or removes an `X-Delete-At`, the old task is DELETEd,
//! which Swift leaves to the object-updater (straight to `async_pending`).
//! Sent and saved as the container updates are (`container_update`).

use super::container_update::{self, Target as Host, Targets, Update};
use super::{log_updates, Target};
use crate::core::http::{self, Request};
use crate::store::hash_path::HashPath;

/// Swift's `EXPIRER_ACCOUNT_NAME`.
pub const ACCOUNT: &str = ".expiring_objects";
/// Swift's `EXPIRER_CONTAINER_DIVISOR` (a task container per day).
pub const DIVISOR: i128 = 86_400;
/// Swift's `EXPIRER_CONTAINER_PER_DIVISOR`.
pub const PER_DIVISOR: u128 = 100;
/// The MD5 of nothing: a task's `X-Etag`.
const EMPTY_ETAG: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// Swift's `normalize_delete_at_timestamp` (low precision): ten digits,
/// clamped to 0..=9999999999.
pub fn normalize(t: i128) -> String {
    format!("{:010}", t.clamp(0, 9_999_999_999))
}

/// The task container of an object deleted at `delete_at` (Swift's
/// `get_expirer_container`): the day, less the name hash modulo 100.
pub fn task_container(hp: &HashPath, delete_at: u64, a: &str, c: &str, o: &str) -> String {
    let shard = u128::from_str_radix(&hp.object(a, c, o), 16).unwrap_or(0) % PER_DIVISOR;
    normalize(i128::from(delete_at) / DIVISOR * DIVISOR - shard as i128)
}

/// Swift's `build_task_obj`.
pub fn task_name(delete_at: u64, a: &str, c: &str, o: &str) -> String {
    format!("{}-{a}/{c}/{o}", normalize(i128::from(delete_at)))
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

/// Swift's `_conditional_delete_at_update`: a PUT of the new task (with
/// the object's size in the content type, `swift_expirer_bytes`, and the
/// time of the data it was written for), a DELETE of the old one.
pub fn conditional_update(
    req: &Request<'_>,
    t: &Target,
    orig_delete_at: u64,
    new_delete_at: u64,
    data: Option<(&str, &str)>,
    host: &mut dyn http::Host,
) {
    if new_delete_at != 0 {
        let extra = match data {
            Some((length, timestamp)) => vec![
                (
                    "X-Content-Type".to_string(),
                    format!("text/plain;swift_expirer_bytes={}", length.trim()),
                ),
                (
                    "X-Content-Type-Timestamp".to_string(),
                    timestamp.to_string(),
                ),
            ],
            None => Vec::new(),
        };
        update(req, t, "PUT", new_delete_at, extra, host);
    }
    if orig_delete_at != 0 && orig_delete_at != new_delete_at {
        update(req, t, "DELETE", orig_delete_at, Vec::new(), host);
    }
}

fn update(
    req: &Request<'_>,
    t: &Target,
    op: &'static str,
    delete_at: u64,
    extra: Vec<(String, String)>,
    host: &mut dyn http::Host,
) {
    if req.header("X-Backend-Replication").is_some_and(truthy) {
        return;
    }
    let (a, c, o) = (&t.path.account, &t.path.container, &t.path.object);
    let mut container = task_container(&t.hash_path, delete_at, a, c, o);
    let query = if req.query.is_empty() {
        String::new()
    } else {
        format!("?{}", req.query)
    };
    let mut headers = vec![
        (
            "X-Backend-Storage-Policy-Index".to_string(),
            "0".to_string(),
        ),
        (
            "X-Timestamp".to_string(),
            super::headers::required_timestamp(req)
                .map(|ts| ts.internal())
                .unwrap_or_default(),
        ),
        (
            "X-Trans-Id".to_string(),
            req.header("X-Trans-Id").unwrap_or("-").to_string(),
        ),
        (
            "Referer".to_string(),
            format!(
                "{} {}://{}{}{query}",
                req.method, req.scheme, req.host, req.uri
            ),
        ),
    ];
    let mut targets = Vec::new();
    if op != "DELETE" {
        let Some(hosts) = req.header("X-Delete-At-Host") else {
            return;
        };
        if let Some(theirs) = req
            .header("X-Delete-At-Container")
            .filter(|v| !v.is_empty())
        {
            // The proxy's choice wins (it may use another divisor).
            if let Ok(n) = theirs.trim().parse::<f64>() {
                container = normalize(n as i128);
            }
        }
        let partition = req.header("X-Delete-At-Partition").unwrap_or("");
        let devices = req.header("X-Delete-At-Device").unwrap_or("");
        targets = hosts
            .split(',')
            .map(str::trim)
            .zip(devices.split(',').map(str::trim))
            .filter(|(h, d)| !h.is_empty() && !d.is_empty() && !partition.is_empty())
            .map(|(h, d)| Host {
                host: h.to_string(),
                device: d.to_string(),
                partition: partition.to_string(),
            })
            .collect();
        headers.push(("X-Size".to_string(), "0".to_string()));
        headers.push(("X-Content-Type".to_string(), "text/plain".to_string()));
        headers.push(("X-Etag".to_string(), EMPTY_ETAG.to_string()));
        for (k, v) in extra {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&k));
            headers.push((k, v));
        }
    } else if req
        .header("X-Backend-Clean-Expiring-Object-Queue")
        .is_some_and(|v| !truthy(v))
    {
        return;
    }
    let task = task_name(delete_at, a, c, o);
    let update = Update {
        op,
        account: ACCOUNT.to_string(),
        hash: t.hash_path.object(ACCOUNT, &container, &task),
        container,
        obj: task,
        headers,
        device_dir: t.device_dir.clone(),
        policy: t.policy,
    };
    let done = if targets.is_empty() {
        vec![container_update::save_now(&update)]
    } else {
        container_update::send(
            update,
            Targets {
                targets,
                ..Targets::default()
            },
        )
    };
    log_updates(host, &done);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_as_swift_builds_them() {
        assert_eq!(
            task_name(1_700_000_000, "a", "c", "o/x"),
            "1700000000-a/c/o/x"
        );
        assert_eq!(normalize(-5), "0000000000");
        assert_eq!(normalize(99_999_999_999), "9999999999");
        let hp = HashPath::salted("", "s");
        let day = 1_700_000_000 / 86_400 * 86_400;
        let shard = u128::from_str_radix(&hp.object("a", "c", "o"), 16).unwrap() % 100;
        assert_eq!(
            task_container(&hp, 1_700_000_000, "a", "c", "o"),
            format!("{:010}", day - shard as i64)
        );
    }
}
