//! The account and container catalog: one SQLite DB per account and one per
//! container, as Swift keeps them (so a gate per DB serialises exactly the
//! requests that contend for one file).
//!
//! Paths are `<root>/accounts/<h[..3]>/<h>.db` with `h = md5(account)` and
//! `<root>/containers/<h[..3]>/<h>.db` with `h = md5(account/container)`
//! (with a salt, Swift's `hash_path` of the names: `store::hash_path`):
//! names never reach the filesystem unhashed. Each DB also stores the names
//! it belongs to, so a hash collision is detected rather than merged.
//!
//! The container DB is the source of truth for its objects and stats. After
//! every commit that moves its stats (one change, or a group-committed batch
//! of object rows), the container's absolute snapshot
//! (timestamps, count, bytes) is pushed to its row in the account DB, tagged
//! with the container's change counter; the account DB keeps only the
//! highest-numbered snapshot, so writers racing from different processes
//! cannot leave an older one behind. (A crash between the two commits leaves
//! the account row one change behind until the container's next change or
//! re-PUT, as Swift's asynchronous container updates do, unless crash
//! recovery (`crate::node::recovery`) resyncs it first: see `resync_account_row`.)

mod account_db;
mod container_db;
mod group_commit;
mod meta;
mod schema;
mod walk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_group_commit;
#[cfg(test)]
mod tests_listing;
#[cfg(test)]
mod tests_policy;

use std::path::{Path, PathBuf};

use super::db::{ensure_dir, DbPool};
use super::error::StoreError;
use super::hash_path::HashPath;
use super::timestamp::Timestamp;

use container_db::Change;
use group_commit::GroupCommit;

/// An object row waiting for its container's next group commit:
/// `(record, is_tombstone)`.
type ObjectRow = (ObjectRecord, bool);

/// One object's row in its container's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub name: String,
    pub timestamp: Timestamp,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
}

/// One container's row in its account's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    pub name: String,
    pub object_count: u64,
    pub bytes_used: u64,
    /// The container's put timestamp (what Swift lists as last_modified).
    pub last_modified: Timestamp,
    /// Its storage policy's index.
    pub policy_index: u32,
}

/// One storage policy's totals in an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyStats {
    pub index: u32,
    pub container_count: u64,
    pub object_count: u64,
    pub bytes_used: u64,
}

/// The storage policy of a container PUT: the one it asked for, and the
/// one a new container gets when it asked for none (default: none asked,
/// policy 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyChoice {
    pub requested: Option<u32>,
    pub default: u32,
}

impl PolicyChoice {
    /// The policy a new (or recreated) container gets.
    pub fn chosen(self) -> u32 {
        self.requested.unwrap_or(self.default)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountInfo {
    /// False for an account never written to (it reads as all zeros).
    pub exists: bool,
    pub container_count: u64,
    pub object_count: u64,
    pub bytes_used: u64,
    pub created_at: Timestamp,
    pub put_timestamp: Timestamp,
    /// `(lowercase header name, value)`, sorted by name.
    pub metadata: Vec<(String, String)>,
    /// Per storage policy any container of the account has had, by index.
    pub policy_stats: Vec<PolicyStats>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub object_count: u64,
    pub bytes_used: u64,
    pub created_at: Timestamp,
    pub put_timestamp: Timestamp,
    /// `(lowercase header name, value)`, sorted by name.
    pub metadata: Vec<(String, String)>,
    /// Its storage policy's index.
    pub policy_index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    /// New, or recreated after a delete (Swift: 201).
    Created,
    /// Already there; the request's metadata was merged in (Swift: 202).
    /// Also: deleted at a timestamp newer than this PUT's, so the PUT was
    /// ignored and nothing exists (Swift would answer 409; only a clock
    /// stepping back, or client-given X-Timestamps, can get here).
    Existed,
    /// Exists with another storage policy (this index) than the PUT asked
    /// for; nothing was changed (Swift: 409).
    Conflict(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Swift: 204.
    Deleted,
    /// Never created, or already deleted (Swift: 404).
    NotFound,
    /// Still has objects, or was PUT at a timestamp not older than this
    /// DELETE's, so it stays (both Swift's 409).
    NotEmpty,
}

/// A listing request, with Swift's meaning of each parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingQuery {
    pub prefix: String,
    /// Swift allows delimiters of any length.
    pub delimiter: Option<String>,
    /// Exclusive lower bound ("" = none); the upper bound when `reverse`.
    pub marker: String,
    /// Exclusive upper bound ("" = none); the lower bound when `reverse`.
    pub end_marker: String,
    /// Subdirs and items together count against it.
    pub limit: usize,
    pub reverse: bool,
    /// Swift's deprecated `path` listing (prefix = the directory with its
    /// '/', delimiter '/'): names directly in the directory are listed, the
    /// directory's own name and deeper names are skipped, no subdirs.
    pub by_path: bool,
}

impl Default for ListingQuery {
    /// Everything, forward, up to Swift's default listing limit.
    fn default() -> Self {
        ListingQuery {
            prefix: String::new(),
            delimiter: None,
            marker: String::new(),
            end_marker: String::new(),
            limit: 10_000,
            reverse: false,
            by_path: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingEntry<T> {
    Item(T),
    /// `prefix + part up to and including the delimiter`.
    Subdir(String),
}

/// The catalog of one storage root (one vhost).
pub struct Catalog {
    accounts: PathBuf,
    containers: PathBuf,
    /// How names become file names.
    hash_path: HashPath,
    pool: DbPool,
    /// Object rows of this process, batched per `(account, container)`.
    object_rows: GroupCommit<(String, String), ObjectRow, Result<bool, StoreError>>,
}

impl Catalog {
    /// Creates `accounts/` and `containers/` under `root`; opens no DB, so
    /// it is safe to call before the host forks.
    pub fn new(root: &Path) -> Result<Catalog, StoreError> {
        Catalog::with_hash_path(root, HashPath::unsalted())
    }

    /// `new`, with names hashed by `hash_path`.
    pub fn with_hash_path(root: &Path, hash_path: HashPath) -> Result<Catalog, StoreError> {
        let accounts = root.join("accounts");
        let containers = root.join("containers");
        ensure_dir(&accounts)?;
        ensure_dir(&containers)?;
        Ok(Catalog {
            accounts,
            containers,
            hash_path,
            pool: DbPool::new(),
            object_rows: GroupCommit::new(),
        })
    }

    /// Drops connections inherited from the parent; call in each child.
    pub fn after_fork(&self) {
        self.pool.clear();
        self.object_rows.clear();
    }

    // ---- accounts (implicit, as with Swift's account_autocreate) ----

    /// An account never written to reads as all zeros.
    pub fn account_info(&self, account: &str) -> Result<AccountInfo, StoreError> {
        account_db::info(&self.pool, &self.account_path(account), account)
    }

    pub fn account_update_meta(
        &self,
        account: &str,
        set: &[(String, String)],
        remove: &[String],
        ts: Timestamp,
    ) -> Result<(), StoreError> {
        let path = self.account_path(account);
        ensure_parent(&path)?;
        account_db::update_meta(&self.pool, &path, account, set, remove, ts)
    }

    pub fn list_containers(
        &self,
        account: &str,
        q: &ListingQuery,
    ) -> Result<Vec<ListingEntry<ContainerRecord>>, StoreError> {
        account_db::list(&self.pool, &self.account_path(account), account, q)
    }

    // ---- containers ----

    pub fn container_create(
        &self,
        account: &str,
        container: &str,
        ts: Timestamp,
        meta: &[(String, String)],
        policy: PolicyChoice,
    ) -> Result<CreateOutcome, StoreError> {
        let path = self.container_path(account, container);
        ensure_parent(&path)?;
        let (outcome, change) =
            container_db::create(&self.pool, &path, account, container, ts, meta, policy)?;
        self.propagate(account, container, change, ts)?;
        Ok(outcome)
    }

    /// None: never created, or deleted.
    pub fn container_info(
        &self,
        account: &str,
        container: &str,
    ) -> Result<Option<ContainerInfo>, StoreError> {
        container_db::info(
            &self.pool,
            &self.container_path(account, container),
            account,
            container,
        )
    }

    /// Returns false when there is no such container.
    pub fn container_update_meta(
        &self,
        account: &str,
        container: &str,
        set: &[(String, String)],
        remove: &[String],
        ts: Timestamp,
    ) -> Result<bool, StoreError> {
        let path = self.container_path(account, container);
        let change =
            container_db::update_meta(&self.pool, &path, account, container, set, remove, ts)?;
        self.propagate(account, container, change, ts)
    }

    pub fn container_delete(
        &self,
        account: &str,
        container: &str,
        ts: Timestamp,
    ) -> Result<DeleteOutcome, StoreError> {
        let path = self.container_path(account, container);
        let (outcome, change) = container_db::delete(&self.pool, &path, account, container, ts)?;
        self.propagate(account, container, change, ts)?;
        Ok(outcome)
    }

    /// None: no such container.
    pub fn list_objects(
        &self,
        account: &str,
        container: &str,
        q: &ListingQuery,
    ) -> Result<Option<Vec<ListingEntry<ObjectRecord>>>, StoreError> {
        container_db::list(
            &self.pool,
            &self.container_path(account, container),
            account,
            container,
            q,
        )
    }

    /// Records an object version. False: no such container. A record not
    /// newer than the stored one for that name is ignored (still true).
    /// Returns once the row is committed, possibly with other threads' rows.
    pub fn object_put(
        &self,
        account: &str,
        container: &str,
        rec: &ObjectRecord,
    ) -> Result<bool, StoreError> {
        self.write_object(account, container, (rec.clone(), false))
    }

    /// A POST of the object version whose data timestamp is `data_ts`
    /// (`container_db::object_posted`).
    pub fn object_posted(
        &self,
        account: &str,
        container: &str,
        name: &str,
        data_ts: Timestamp,
        meta_ts: Timestamp,
        content_type: Option<&str>,
    ) -> Result<(), StoreError> {
        let path = self.container_path(account, container);
        container_db::object_posted(&self.pool, &path, name, data_ts, meta_ts, content_type)
    }

    /// Records a deletion as a tombstone row (as Swift does). False: no such
    /// container.
    pub fn object_delete(
        &self,
        account: &str,
        container: &str,
        name: &str,
        ts: Timestamp,
    ) -> Result<bool, StoreError> {
        let tombstone = ObjectRecord {
            name: name.to_string(),
            timestamp: ts,
            size: 0,
            content_type: String::new(),
            etag: String::new(),
        };
        self.write_object(account, container, (tombstone, true))
    }

    /// Concurrent writers of one container in this process share one
    /// container commit and one account update (see `group_commit.rs`).
    fn write_object(
        &self,
        account: &str,
        container: &str,
        row: ObjectRow,
    ) -> Result<bool, StoreError> {
        let key = (account.to_string(), container.to_string());
        self.object_rows.submit(
            &key,
            row,
            |rows| self.commit_object_rows(account, container, &rows),
            || {
                Err(StoreError::io(
                    "commit object row",
                    self.container_path(account, container),
                    std::io::Error::other("the thread committing this batch failed"),
                ))
            },
        )
    }

    /// One result per row. When the batch's transaction fails, each row is
    /// retried alone, so a row that cannot be written (say, an out-of-range
    /// size) fails only its own request. A failed account update after the
    /// commit is every row's error, as it would have been for each alone.
    fn commit_object_rows(
        &self,
        account: &str,
        container: &str,
        rows: &[ObjectRow],
    ) -> Vec<Result<bool, StoreError>> {
        let path = self.container_path(account, container);
        let write = |rows: &[ObjectRow]| {
            container_db::write_objects(&self.pool, &path, account, container, rows)
        };
        let push = |rows: &[ObjectRow], change| {
            // Used only if this makes the account DB: the newest record's.
            let ts = rows.iter().map(|(r, _)| r.timestamp).max();
            self.propagate(account, container, change, ts.unwrap_or_default())
        };
        match write(rows) {
            Ok(change) => match push(rows, change) {
                Ok(live) => rows.iter().map(|_| Ok(live)).collect(),
                Err(e) => rows.iter().map(|_| Err(e.duplicate())).collect(),
            },
            Err(e) if rows.len() == 1 => vec![Err(e)],
            Err(_) => rows
                .chunks(1)
                .map(|row| write(row).and_then(|change| push(row, change)))
                .collect(),
        }
    }

    /// Pushes the container's current stats to its account row again, for
    /// a writer that died between the two commits (crash recovery). The
    /// account keeps the higher-numbered snapshot, so this is idempotent.
    /// Returns whether there is a container DB.
    pub fn resync_account_row(&self, account: &str, container: &str) -> Result<bool, StoreError> {
        let path = self.container_path(account, container);
        match container_db::snapshot(&self.pool, &path, account, container)? {
            None => Ok(false),
            Some(s) => {
                let ts = s.put_timestamp;
                self.propagate(account, container, Change::Changed(s), ts)
            }
        }
    }

    /// Pushes a container's changed stats to its account row. Returns
    /// whether the container was there.
    fn propagate(
        &self,
        account: &str,
        container: &str,
        change: Change,
        ts: Timestamp,
    ) -> Result<bool, StoreError> {
        match change {
            Change::NoContainer => Ok(false),
            Change::Unchanged => Ok(true),
            Change::Changed(snapshot) => {
                let path = self.account_path(account);
                ensure_parent(&path)?;
                account_db::apply_snapshot(&self.pool, &path, account, container, &snapshot, ts)?;
                Ok(true)
            }
        }
    }

    fn account_path(&self, account: &str) -> PathBuf {
        hashed_path(&self.accounts, &self.hash_path.account(account))
    }

    fn container_path(&self, account: &str, container: &str) -> PathBuf {
        hashed_path(
            &self.containers,
            &self.hash_path.container(account, container),
        )
    }
}

/// `<dir>/<hash[..3]>/<hash>.db`, the hash in lowercase hex.
fn hashed_path(dir: &Path, hex: &str) -> PathBuf {
    dir.join(&hex[..3]).join(format!("{hex}.db"))
}

fn ensure_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) => ensure_dir(dir),
        None => Ok(()),
    }
}
