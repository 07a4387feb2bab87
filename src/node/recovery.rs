//! Crash recovery: makes the catalog agree with the object files again for
//! every two-step write whose process died between its steps (see
//! `store::intents`).
//!
//! "Agree" means: a container lists exactly the objects whose newest file
//! is a `.data` (expired ones until the sweep takes them), with that file's
//! size and ETag; its counts are those rows' totals; its account row holds
//! its latest stats. A write that crashed after publishing its file but
//! before its row gets the row (the object a client never got a 2xx for
//! stays, complete, as Swift's object server keeps a durable `.data` whose
//! container update was lost); a tombstone without its row gets the row.
//!
//! When: before the first request a process serves for a vhost, then once
//! per `RECOVERY_INTERVAL_SECS` for the whole node, in whichever process
//! claims the turn (children killed while the server keeps running leave
//! markers the survivors pick up). Cost: one listing of `<root>/intents/`
//! (as many entries as writes in flight) plus, per orphan, one object
//! directory scan and two small catalog writes; at most `RECOVERY_BATCH`
//! orphans per pass. Each pass that found work is logged.
//!
//! Why node-wide: under a write flood every PUT adds and removes a marker
//! in `intents/`, and listing it waited for the filesystem's journal: up to
//! ~0.5 s (measured on journaled ext4, 256 writers), paid by whatever
//! request carried the pass, a listing or a health check as much as a PUT.
//! When each child took its own turn every interval, that was eight
//! requests a second with 16 children: more than 1% of all requests.

use crate::core::http::{Host, LogLevel};
use crate::node::vhost::Vhost;
use crate::store::catalog::ObjectRecord;
use crate::store::objects::{FileState, PutError};
use crate::store::turns::NodeJob;
use crate::store::{StoreError, Timestamp};
use std::time::Instant;

pub const RECOVERY_INTERVAL_SECS: u64 = 2;
pub const RECOVERY_BATCH: usize = 1000;

/// Runs one bounded pass if this process's turn has come. Failures are
/// logged; their markers stay for the next pass.
pub fn maybe_recover(vh: &Vhost, host: &mut dyn Host) {
    let now = crate::node::expiry::now_secs() as u64;
    if !vh.intents.claim_turn(now, RECOVERY_INTERVAL_SECS) {
        return;
    }
    if !vh.intents.first_scan() && !node_turn(vh, now, host) {
        return;
    }
    let started = Instant::now();
    match recover(vh, RECOVERY_BATCH) {
        Ok(0) => {}
        Ok(n) => host.log(
            LogLevel::Warn,
            &format!(
                "crash recovery: reconciled {n} interrupted writes in {} ms",
                started.elapsed().as_millis()
            ),
        ),
        Err(e) => host.log(LogLevel::Warn, &format!("crash recovery: {e}")),
    }
}

/// True when this process's pass is the node's turn.
fn node_turn(vh: &Vhost, now: u64, host: &mut dyn Host) -> bool {
    let mut report = |msg: &str| host.log(LogLevel::Error, msg);
    vh.gates
        .claim_node_turn(NodeJob::Recovery, now, RECOVERY_INTERVAL_SECS, &mut report)
}

/// Reconciles up to `max` orphaned intents; returns how many it settled.
/// Temp files of dead writers go first (a writer holds a lock on its own).
pub fn recover(vh: &Vhost, max: usize) -> Result<usize, StoreError> {
    vh.objects.sweep_abandoned_temp_files()?;
    let mut settled = 0;
    for orphan in vh.intents.orphans(max)? {
        match orphan.names.as_slice() {
            [a, c] => {
                vh.catalog.resync_account_row(a, c)?;
            }
            [a, c, o] => {
                reconcile_object(vh, a, c, o)?;
                vh.catalog.resync_account_row(a, c)?;
            }
            _ => {}
        }
        orphan.settle();
        settled += 1;
    }
    Ok(settled)
}

/// Writes the row the object's newest file calls for. Newest-wins makes it
/// safe against a live writer of the same name: the older record is ignored.
fn reconcile_object(vh: &Vhost, a: &str, c: &str, o: &str) -> Result<(), StoreError> {
    let meta = match vh.objects.state(a, c, o)? {
        FileState::Absent => return Ok(()),
        FileState::Deleted(ts) => return vh.catalog.object_delete(a, c, o, ts).map(|_| ()),
        FileState::Live(meta) => meta,
    };
    let ts = meta.timestamp;
    let listed = vh.catalog.object_put(
        a,
        c,
        &ObjectRecord {
            name: o.to_string(),
            timestamp: ts,
            size: meta.size,
            etag: meta.listed_etag().to_string(),
            content_type: meta.content_type,
        },
    )?;
    if listed {
        // A PUT retires older versions only after its row is recorded: one
        // that died in between left them behind.
        vh.objects.retire_older(a, c, o, ts);
        return Ok(());
    }
    // The container went away meanwhile: take the object back, as a PUT
    // that loses that race does.
    match vh.objects.delete(a, c, o, Timestamp::now()) {
        Ok(_) | Err(PutError::Conflict) => Ok(()),
        Err(PutError::Store(e)) => Err(e),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
