//! The two-step write of one object version, as the store's one protocol:
//! an intent marker (the crash journal), the expiry marker, the file
//! (published by `ObjectStore::put`), then the catalog row, then the
//! intent is settled and replaced versions' markers dropped. A crash at any
//! point leaves what recovery reconciles (docs/on-disk-format.md,
//! "Two-step writes and recovery"); a failure at any point is a typed
//! `WriteError` with everything already undone that the protocol says to
//! undo.
//!
//! The caller drives the steps, so that it can do its own work between
//! them (read the body while the file is written; step back at the gates'
//! checkpoints before the file and before the row):
//!
//! ```text
//! let mut w = writer.begin(names, &new, delete_at)?;   // intent + marker
//! let stored = w.publish(&mut body, len)?;              // the file
//! let stored = w.record(stored, &mut report)?;          // the row, settle
//! ```

use crate::store::catalog::{Catalog, ObjectRecord};
use crate::store::expiring::{ExpiringIndex, Marker};
use crate::store::intents::{Intent, IntentLog};
use crate::store::objects::{NewObject, ObjectMeta, ObjectStore, PutError};
use crate::store::{StoreError, Timestamp};
use std::io::Read;

/// The stores one object write touches.
#[derive(Clone, Copy)]
pub struct Writer<'s> {
    pub objects: &'s ObjectStore,
    pub catalog: &'s Catalog,
    pub intents: &'s IntentLog,
    pub expiring: &'s ExpiringIndex,
}

/// Why a write did not become the object's current version.
#[derive(Debug)]
pub enum WriteError {
    /// A newer (or same-timestamp) version won (Swift's proxy answers 202).
    Superseded,
    /// The container was deleted while the object was written; the object
    /// was taken back.
    ContainerGone,
    /// The file was not published: the body, its ETag, its size or the
    /// disk failed.
    Put(PutError),
    /// A marker or the catalog row could not be written; the previous
    /// version stays.
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

/// A write under way: its intent and expiry marker are on disk.
pub struct PendingWrite<'s, 'n> {
    stores: Writer<'s>,
    names: [&'n str; 3],
    new: &'n NewObject,
    /// None once settled (or left for recovery) by a failed step.
    intent: Option<Intent>,
    marker: Option<Marker>,
}

impl<'s> Writer<'s> {
    /// Journals the write of `new` as `names` (and its expiry at
    /// `delete_at`). The container must exist.
    pub fn begin<'n>(
        self,
        names: [&'n str; 3],
        new: &'n NewObject,
        delete_at: Option<u64>,
    ) -> Result<PendingWrite<'s, 'n>, WriteError> {
        let [account, container, object] = names;
        let intent = self.intents.begin(&names)?;
        let marker = match delete_at {
            Some(at) => Some(
                self.expiring
                    .add(at, new.timestamp, account, container, object)?,
            ),
            None => None,
        };
        Ok(PendingWrite {
            stores: self,
            names,
            new,
            intent: Some(intent),
            marker,
        })
    }

    /// Drops the expiry markers of the versions a write replaced
    /// (`ExpiringIndex::settle`); a failure only leaves them for the sweep.
    pub fn settle_markers(self, names: [&str; 3], report: &mut dyn FnMut(&str)) {
        let [a, c, o] = names;
        if let Err(e) = self.expiring.settle(self.objects, a, c, o) {
            report(&format!("dropping old expiry markers: {e}"));
        }
    }
}

impl PendingWrite<'_, '_> {
    /// Streams `body` (`len` bytes when known) into the new version's file.
    pub fn publish(
        &mut self,
        body: &mut dyn Read,
        len: Option<u64>,
    ) -> Result<ObjectMeta, WriteError> {
        let [a, c, o] = self.names;
        match self.stores.objects.put(a, c, o, body, self.new, len) {
            Ok(stored) => Ok(stored),
            Err(PutError::Conflict) => {
                self.settle_intent();
                self.withdraw_marker();
                Err(WriteError::Superseded)
            }
            // Failed before publishing: nothing to reconcile. (A name
            // collision: another name's object holds the directory.)
            Err(
                e @ (PutError::BodyRead(_)
                | PutError::EtagMismatch { .. }
                | PutError::TooLarge
                | PutError::Store(StoreError::NameCollision { .. })),
            ) => {
                self.settle_intent();
                self.withdraw_marker();
                Err(WriteError::Put(e))
            }
            // Maybe after publishing: the intent stays for recovery (the
            // marker too, if the new version did become current).
            Err(e) => {
                self.intent.take();
                self.withdraw_marker();
                Err(WriteError::Put(e))
            }
        }
    }

    /// Records the published version in its container, then retires the
    /// versions it replaced and settles the intent.
    pub fn record(
        mut self,
        stored: ObjectMeta,
        report: &mut dyn FnMut(&str),
    ) -> Result<ObjectMeta, WriteError> {
        let [account, container, object] = self.names;
        let stores = self.stores;
        let rec = ObjectRecord {
            name: object.to_string(),
            timestamp: stored.timestamp,
            size: stored.size,
            content_type: stored.content_type.clone(),
            etag: stored.listed_etag().to_string(),
        };
        match stores.catalog.object_put(account, container, &rec) {
            Ok(true) => {
                // Older versions go only once the new row is recorded; if we
                // die first, recovery retires them.
                stores
                    .objects
                    .retire_older(account, container, object, stored.timestamp);
                self.settle_intent();
                stores.settle_markers(self.names, report);
                Ok(stored)
            }
            Ok(false) => {
                // The container was deleted while we wrote: take it back.
                match stores
                    .objects
                    .delete(account, container, object, Timestamp::now())
                {
                    Ok(_) | Err(PutError::Conflict) => self.settle_intent(),
                    Err(_) => {
                        self.intent.take();
                    }
                }
                stores.settle_markers(self.names, report);
                Err(WriteError::ContainerGone)
            }
            Err(e) => {
                // Unrecorded (e.g. the disk filled up): the previous version
                // stays. The intent stays too: should the discard not
                // happen, recovery reconciles file and row.
                stores
                    .objects
                    .discard(account, container, object, stored.timestamp);
                self.intent.take();
                self.withdraw_marker();
                Err(WriteError::Store(e))
            }
        }
    }

    fn settle_intent(&mut self) {
        if let Some(i) = self.intent.take() {
            i.settle();
        }
    }

    /// Takes back the expiry marker of a write that did not become the
    /// current version (unless, written at the same instant, it is the
    /// winner's).
    fn withdraw_marker(&mut self) {
        if let Some(m) = self.marker.take() {
            self.stores
                .expiring
                .withdraw(self.stores.objects, &m, self.names);
        }
    }
}
