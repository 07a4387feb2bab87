//! Object expiry (`X-Delete-At` / `X-Delete-After`): the header rules, the
//! "expired objects read as 404 at once" rule, and the opportunistic sweep
//! that reclaims their space and listing rows.
//!
//! There is no background thread (the host owns threads): after a request,
//! the worker thread that served it sweeps if the node did not sweep the
//! vhost's root for `SWEEP_INTERVAL_SECS` (one process takes each turn,
//! `store::turns::NodeJob`) and no other thread or process is sweeping, and it
//! handles at most `SWEEP_BATCH` objects, so no request pays for more than
//! one small batch. A due object therefore leaves listings and counts within
//! SWEEP_INTERVAL_SECS of the first request after it expired (a backlog
//! drains at SWEEP_BATCH objects per interval). The same turn removes
//! expired auth tokens, TOKEN_REAP_BATCH at most.

use crate::core::http::{Host, LogLevel, Request};
use crate::node::vhost::Vhost;
use crate::store::expiring::Due;
use crate::store::objects::{ObjectMeta, PutError};
use crate::store::turns::NodeJob;
use crate::store::{StoreError, Timestamp};

pub const SWEEP_INTERVAL_SECS: u64 = 2;
pub const SWEEP_BATCH: usize = 100;
/// Expired tokens removed per sweep turn, at most (`auth::TokenStore::reap`).
pub const TOKEN_REAP_BATCH: usize = 256;
/// The metadata key an expiring object carries.
pub const DELETE_AT: &str = "x-delete-at";
/// Swift caps delete-at times at 9999999999 (10 digits sort as text).
const MAX_DELETE_AT: i128 = 9_999_999_999;

/// The `X-Delete-At` a PUT or POST asks for, in epoch seconds, from either
/// header (`X-Delete-After` wins, as in Swift). Err is Swift's 400 message.
pub fn requested_delete_at(req: &Request<'_>, now: f64) -> Result<Option<u64>, &'static str> {
    if let Some(after) = req.header("X-Delete-After") {
        let after: i128 = after
            .trim()
            .parse()
            .map_err(|_| "Non-integer X-Delete-After")?;
        let at = (now.floor() as i128 + after).clamp(0, MAX_DELETE_AT);
        if at as f64 <= now {
            return Err("X-Delete-After in past");
        }
        return Ok(Some(at as u64));
    }
    if let Some(at) = req.header("X-Delete-At") {
        let at: i128 = at.trim().parse().map_err(|_| "Non-integer X-Delete-At")?;
        let at = at.clamp(0, MAX_DELETE_AT);
        if at as f64 <= now {
            return Err("X-Delete-At in past");
        }
        return Ok(Some(at as u64));
    }
    Ok(None)
}

/// The delete-at time an object carries, if any.
pub fn delete_at(meta: &ObjectMeta) -> Option<u64> {
    meta.meta
        .iter()
        .find(|(n, _)| n == DELETE_AT)
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// Whether an object has expired: it then reads as absent.
pub fn is_expired(meta: &ObjectMeta) -> bool {
    delete_at(meta).is_some_and(|at| at as f64 <= now_secs())
}

pub fn now_secs() -> f64 {
    Timestamp::now().units() as f64 / 100_000.0
}

/// Runs one bounded sweep if one is due. Failures are logged, never
/// surfaced: the request it follows has already been answered.
pub fn maybe_sweep(vh: &Vhost, host: &mut dyn Host) {
    let now = now_secs() as u64;
    if !vh.expiring.claim_turn(now, SWEEP_INTERVAL_SECS) {
        return;
    }
    let node_turn = {
        let mut report = |msg: &str| host.log(LogLevel::Error, msg);
        vh.gates
            .claim_node_turn(NodeJob::ExpirySweep, now, SWEEP_INTERVAL_SECS, &mut report)
    };
    if !node_turn {
        return;
    }
    if let Err(e) = sweep(vh, now, SWEEP_BATCH) {
        host.log(LogLevel::Warn, &format!("expiry sweep: {e}"));
    }
    // Expired tokens too, on the same turn.
    match vh.tokens.reap(Timestamp::now(), TOKEN_REAP_BATCH) {
        Ok(0) => {}
        Ok(n) => host.log(
            LogLevel::Debug,
            &format!("token reaper: removed {n} tokens"),
        ),
        Err(e) => host.log(LogLevel::Warn, &format!("token reaper: {e}")),
    }
}

/// Reclaims up to `max` objects due at `now`; returns how many markers it
/// settled. Each object is deleted with a tombstone timestamped at its
/// delete-at time, so a newer PUT of the same name always wins.
pub fn sweep(vh: &Vhost, now: u64, max: usize) -> Result<usize, StoreError> {
    let Some(_lock) = vh.expiring.try_lock()? else {
        return Ok(0);
    };
    let due = vh.expiring.due(now, max)?;
    for d in &due {
        reclaim(vh, d)?;
        vh.expiring.remove(d);
    }
    Ok(due.len())
}

fn reclaim(vh: &Vhost, d: &Due) -> Result<(), StoreError> {
    let current = match vh.objects.open(&d.account, &d.container, &d.object) {
        // Another name's file: nothing of this name to reclaim (its own
        // markers are not this name's to settle).
        Err(StoreError::NameCollision { .. }) => return Ok(()),
        other => other?,
    };
    // A newer version, or one whose expiry was changed, has its own marker;
    // any other marker the object no longer needs goes too.
    let Some(obj) = current else {
        vh.expiring
            .settle(&vh.objects, &d.account, &d.container, &d.object)?;
        return Ok(());
    };
    if delete_at(&obj.meta) != Some(d.delete_at) {
        drop(obj);
        vh.expiring
            .settle(&vh.objects, &d.account, &d.container, &d.object)?;
        return Ok(());
    }
    drop(obj);
    let ts = Timestamp::from_units(d.delete_at * 100_000);
    // Tombstone first, row second: a crash in between is repaired by
    // recovery (a retried sweep would find the object gone and drop its
    // expiry marker, leaving the row listed).
    let intent = vh.intents.begin(&[&d.account, &d.container, &d.object])?;
    match vh.objects.delete(&d.account, &d.container, &d.object, ts) {
        Ok(_) | Err(PutError::Conflict) => {}
        Err(PutError::Store(e)) => return Err(e),
        Err(_) => {
            intent.settle();
            return Ok(());
        }
    }
    vh.catalog
        .object_delete(&d.account, &d.container, &d.object, ts)?;
    intent.settle();
    vh.expiring
        .settle(&vh.objects, &d.account, &d.container, &d.object)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::http::testing::request as req;

    #[test]
    fn delete_headers_like_swift() {
        let now = 1_700_000_000.5;
        let r = |h| requested_delete_at(&req(h), now);
        assert_eq!(r(&[]), Ok(None));
        assert_eq!(r(&[("X-Delete-After", "1")]), Ok(Some(1_700_000_001)));
        assert_eq!(r(&[("X-Delete-After", "0")]), Err("X-Delete-After in past"));
        assert_eq!(
            r(&[("X-Delete-After", "-5")]),
            Err("X-Delete-After in past")
        );
        assert_eq!(
            r(&[("X-Delete-After", "1.5")]),
            Err("Non-integer X-Delete-After")
        );
        assert_eq!(r(&[("X-Delete-At", "1700000100")]), Ok(Some(1_700_000_100)));
        assert_eq!(
            r(&[("X-Delete-At", "1700000000")]),
            Err("X-Delete-At in past")
        );
        assert_eq!(r(&[("X-Delete-At", "-1")]), Err("X-Delete-At in past"));
        assert_eq!(
            r(&[("X-Delete-At", "soon")]),
            Err("Non-integer X-Delete-At")
        );
        assert_eq!(
            r(&[("X-Delete-At", "99999999999")]),
            Ok(Some(9_999_999_999))
        );
        // X-Delete-After wins over X-Delete-At.
        assert_eq!(
            r(&[("X-Delete-At", "1"), ("X-Delete-After", "10")]),
            Ok(Some(1_700_000_010))
        );
    }

    #[test]
    fn expired_is_by_the_clock() {
        let mut meta = ObjectMeta {
            timestamp: Timestamp::now(),
            meta_timestamp: Timestamp::now(),
            content_type: String::new(),
            etag: String::new(),
            size: 0,
            meta: vec![],
        };
        assert!(!is_expired(&meta));
        meta.meta.push((DELETE_AT.into(), "1000".into()));
        assert!(is_expired(&meta));
        meta.meta[0].1 = "9999999999".into();
        assert!(!is_expired(&meta));
    }
}
