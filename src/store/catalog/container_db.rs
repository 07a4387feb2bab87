//! One container's DB: its info row (timestamps, stats, metadata, change
//! counter) and its object rows. Every write is one IMMEDIATE transaction,
//! so the existence check and the change it guards are atomic across
//! processes: an object PUT that commits after a container DELETE sees the
//! container gone.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use super::meta::Meta;
use super::schema::CONTAINER_SCHEMA;
use super::walk;
use super::{
    ContainerInfo, CreateOutcome, DeleteOutcome, ListingEntry, ListingQuery, ObjectRecord,
    PolicyChoice,
};
use crate::store::db::{col_ts, col_u64, DbFail, DbPool, PooledConn, U64};
use crate::store::error::StoreError;
use crate::store::timestamp::Timestamp;

/// A container's state as pushed to its account row; `seq` orders them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Snapshot {
    pub put_timestamp: Timestamp,
    pub delete_timestamp: Timestamp,
    pub object_count: u64,
    pub bytes_used: u64,
    pub seq: u64,
    pub policy_index: u32,
}

impl Snapshot {
    /// Swift's rule: deleted when the delete is newer than the last PUT.
    pub fn deleted(&self) -> bool {
        self.delete_timestamp > self.put_timestamp
    }
}

/// What a write did, for the account DB.
#[derive(Debug)]
pub(super) enum Change {
    NoContainer,
    /// Nothing the account DB shows moved.
    Unchanged,
    Changed(Snapshot),
}

struct Info {
    created_at: Timestamp,
    put_timestamp: Timestamp,
    delete_timestamp: Timestamp,
    object_count: u64,
    bytes_used: u64,
    metadata: String,
    policy_index: u32,
}

impl Info {
    fn live(&self) -> bool {
        self.delete_timestamp <= self.put_timestamp
    }

    fn meta(&self) -> Result<Meta, DbFail> {
        Meta::parse(&self.metadata).map_err(DbFail::Corrupt)
    }
}

/// The info row, checked to belong to this container (a different name
/// means an md5 collision or a misplaced file: never merge the two).
fn read_info(conn: &Connection, account: &str, container: &str) -> Result<Option<Info>, DbFail> {
    let row = conn
        .prepare_cached(
            "SELECT account, container, created_at, put_timestamp, delete_timestamp,
                    object_count, bytes_used, metadata, storage_policy_index
             FROM container_info WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                Info {
                    created_at: col_ts(r, 2)?,
                    put_timestamp: col_ts(r, 3)?,
                    delete_timestamp: col_ts(r, 4)?,
                    object_count: col_u64(r, 5)?,
                    bytes_used: col_u64(r, 6)?,
                    metadata: r.get(7)?,
                    policy_index: r.get(8)?,
                },
            ))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((a, c, info)) if a == account && c == container => Ok(Some(info)),
        Some((a, c, _)) => Err(DbFail::Corrupt(format!(
            "DB belongs to {a}/{c}, not {account}/{container}"
        ))),
    }
}

/// The columns a `Snapshot` is read from, in `snapshot_row`'s order.
const SNAPSHOT_COLUMNS: &str =
    "put_timestamp, delete_timestamp, object_count, bytes_used, stats_seq, storage_policy_index";

fn snapshot_row(r: &Row<'_>) -> rusqlite::Result<Snapshot> {
    Ok(Snapshot {
        put_timestamp: col_ts(r, 0)?,
        delete_timestamp: col_ts(r, 1)?,
        object_count: col_u64(r, 2)?,
        bytes_used: col_u64(r, 3)?,
        seq: col_u64(r, 4)?,
        policy_index: r.get(5)?,
    })
}

/// Bumps the change counter and returns the new snapshot.
fn bump(conn: &Connection) -> Result<Snapshot, DbFail> {
    Ok(conn
        .prepare_cached(&format!(
            "UPDATE container_info SET stats_seq = stats_seq + 1 WHERE id = 1
             RETURNING {SNAPSHOT_COLUMNS}"
        ))?
        .query_row([], snapshot_row)?)
}

fn open<'p>(
    pool: &'p DbPool,
    path: &Path,
    create: bool,
) -> Result<Option<PooledConn<'p>>, StoreError> {
    pool.get(path, &CONTAINER_SCHEMA, create)
}

pub(super) fn create(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    put_ts: Timestamp,
    set: &[(String, String)],
    policy: PolicyChoice,
) -> Result<(CreateOutcome, Change), StoreError> {
    let Some(mut conn) = open(pool, path, true)? else {
        return Err(StoreError::corrupt(
            path,
            "container DB vanished while being created",
        ));
    };
    create_in(&mut conn, account, container, put_ts, set, policy)
        .map_err(|e| e.into_store(&format!("create container {account}/{container}"), path))
}

fn create_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    put_ts: Timestamp,
    set: &[(String, String)],
    policy: PolicyChoice,
) -> Result<(CreateOutcome, Change), DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = match read_info(&tx, account, container)? {
        // Swift: an existing container's policy cannot change (409, and
        // nothing of the PUT is applied).
        Some(info) if info.live() && policy.requested.is_some_and(|p| p != info.policy_index) => {
            return Ok((
                CreateOutcome::Conflict(info.policy_index),
                Change::Unchanged,
            ));
        }
        Some(info) if info.live() => {
            let before = info.meta()?;
            let mut meta = before.clone();
            meta.apply(set, &[], put_ts);
            meta.check_merged(&before).map_err(DbFail::MetadataLimit)?;
            let newer = put_ts.max(info.put_timestamp);
            tx.prepare_cached(
                "UPDATE container_info SET put_timestamp = ?1, metadata = ?2 WHERE id = 1",
            )?
            .execute((U64::from(newer), meta.to_json()))?;
            let change = if newer > info.put_timestamp {
                Change::Changed(bump(&tx)?)
            } else {
                Change::Unchanged
            };
            (CreateOutcome::Existed, change)
        }
        // Deleted later than this PUT: the newer record wins.
        Some(info) if info.delete_timestamp > put_ts => (CreateOutcome::Existed, Change::Unchanged),
        Some(_) => {
            // Recreate. Delete purged the rows already; purging again keeps
            // the stats a function of the rows whatever happened since.
            tx.prepare_cached("DELETE FROM object")?.execute([])?;
            let mut meta = Meta::default();
            meta.apply(set, &[], put_ts);
            // A recreated container takes the policy of this PUT.
            tx.prepare_cached(
                "UPDATE container_info
                 SET created_at = ?1, put_timestamp = ?2, metadata = ?3, storage_policy_index = ?4
                 WHERE id = 1",
            )?
            .execute((
                U64::from(Timestamp::now()),
                U64::from(put_ts),
                meta.to_json(),
                policy.chosen(),
            ))?;
            (CreateOutcome::Created, Change::Changed(bump(&tx)?))
        }
        None => {
            let mut meta = Meta::default();
            meta.apply(set, &[], put_ts);
            tx.prepare_cached(
                "INSERT INTO container_info
                     (id, account, container, created_at, put_timestamp, metadata,
                      storage_policy_index)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                account,
                container,
                U64::from(Timestamp::now()),
                U64::from(put_ts),
                meta.to_json(),
                policy.chosen(),
            ))?;
            (CreateOutcome::Created, Change::Changed(bump(&tx)?))
        }
    };
    tx.commit()?;
    Ok(result)
}

/// The container's current stats as last pushed (or due to be pushed) to
/// its account row, without bumping the counter. None: no container DB.
pub(super) fn snapshot(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
) -> Result<Option<Snapshot>, StoreError> {
    let Some(conn) = open(pool, path, false)? else {
        return Ok(None);
    };
    snapshot_in(&conn, account, container)
        .map_err(|e| e.into_store(&format!("read container {account}/{container}"), path))
}

fn snapshot_in(
    conn: &Connection,
    account: &str,
    container: &str,
) -> Result<Option<Snapshot>, DbFail> {
    if read_info(conn, account, container)?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        conn.prepare_cached(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM container_info WHERE id = 1"
        ))?
        .query_row([], snapshot_row)?,
    ))
}

pub(super) fn info(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
) -> Result<Option<ContainerInfo>, StoreError> {
    let Some(conn) = open(pool, path, false)? else {
        return Ok(None);
    };
    info_in(&conn, account, container)
        .map_err(|e| e.into_store(&format!("read container {account}/{container}"), path))
}

fn info_in(
    conn: &Connection,
    account: &str,
    container: &str,
) -> Result<Option<ContainerInfo>, DbFail> {
    let Some(info) = read_info(conn, account, container)?.filter(Info::live) else {
        return Ok(None);
    };
    Ok(Some(ContainerInfo {
        object_count: info.object_count,
        bytes_used: info.bytes_used,
        created_at: info.created_at,
        put_timestamp: info.put_timestamp,
        metadata: info.meta()?.visible(),
        policy_index: info.policy_index,
    }))
}

pub(super) fn update_meta(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    set: &[(String, String)],
    remove: &[String],
    at: Timestamp,
) -> Result<Change, StoreError> {
    let Some(mut conn) = open(pool, path, false)? else {
        return Ok(Change::NoContainer);
    };
    update_meta_in(&mut conn, account, container, set, remove, at).map_err(|e| {
        e.into_store(
            &format!("update metadata of container {account}/{container}"),
            path,
        )
    })
}

fn update_meta_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    set: &[(String, String)],
    remove: &[String],
    at: Timestamp,
) -> Result<Change, DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(info) = read_info(&tx, account, container)?.filter(Info::live) else {
        return Ok(Change::NoContainer);
    };
    let before = info.meta()?;
    let mut meta = before.clone();
    meta.apply(set, remove, at);
    meta.check_merged(&before).map_err(DbFail::MetadataLimit)?;
    // A POST moves the put timestamp, as Swift's container server's does
    // (its Last-Modified follows), and the account's row with it.
    let newer = at.max(info.put_timestamp);
    tx.prepare_cached("UPDATE container_info SET put_timestamp = ?1, metadata = ?2 WHERE id = 1")?
        .execute((U64::from(newer), meta.to_json()))?;
    let change = if newer > info.put_timestamp {
        Change::Changed(bump(&tx)?)
    } else {
        Change::Unchanged
    };
    tx.commit()?;
    Ok(change)
}

pub(super) fn delete(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    at: Timestamp,
) -> Result<(DeleteOutcome, Change), StoreError> {
    let Some(mut conn) = open(pool, path, false)? else {
        return Ok((DeleteOutcome::NotFound, Change::NoContainer));
    };
    delete_in(&mut conn, account, container, at)
        .map_err(|e| e.into_store(&format!("delete container {account}/{container}"), path))
}

fn delete_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    at: Timestamp,
) -> Result<(DeleteOutcome, Change), DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(info) = read_info(&tx, account, container)?.filter(Info::live) else {
        return Ok((DeleteOutcome::NotFound, Change::NoContainer));
    };
    if info.object_count > 0 {
        return Ok((DeleteOutcome::NotEmpty, Change::Unchanged));
    }
    if at <= info.put_timestamp {
        return Ok((DeleteOutcome::NotEmpty, Change::Unchanged));
    }
    // Only tombstones are left; a recreated container starts empty.
    tx.prepare_cached("DELETE FROM object")?.execute([])?;
    let mut meta = info.meta()?;
    meta.clear(at);
    tx.prepare_cached(
        "UPDATE container_info SET delete_timestamp = ?1, metadata = ?2 WHERE id = 1",
    )?
    .execute((U64::from(at), meta.to_json()))?;
    let snapshot = bump(&tx)?;
    tx.commit()?;
    Ok((DeleteOutcome::Deleted, Change::Changed(snapshot)))
}

pub(super) fn list(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    q: &ListingQuery,
) -> Result<Option<Vec<ListingEntry<ObjectRecord>>>, StoreError> {
    let Some(mut conn) = open(pool, path, false)? else {
        return Ok(None);
    };
    list_in(&mut conn, account, container, q)
        .map_err(|e| e.into_store(&format!("list container {account}/{container}"), path))
}

fn list_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    q: &ListingQuery,
) -> Result<Option<Vec<ListingEntry<ObjectRecord>>>, DbFail> {
    // One read transaction: every batch sees the same snapshot.
    let tx = conn.transaction()?;
    if read_info(&tx, account, container)?
        .filter(Info::live)
        .is_none()
    {
        return Ok(None);
    }
    let entries = walk::list(
        &tx,
        "object",
        // Listed as last modified: the latest POST's time, else the PUT's
        // (Swift lists the row's meta timestamp).
        "name, MAX(created_at, meta_timestamp), size, content_type, etag",
        q,
        |row, name| {
            Ok(ObjectRecord {
                name,
                timestamp: col_ts(row, 1)?,
                size: col_u64(row, 2)?,
                content_type: row.get(3)?,
                etag: row.get(4)?,
            })
        },
    )?;
    tx.commit()?;
    Ok(Some(entries))
}

/// Applies object rows (`(record, is_tombstone)`, in order) in one
/// transaction: one write lock and one commit for the lot (group commit,
/// see `group_commit.rs`). Each row is applied as a lone write would be.
pub(super) fn write_objects(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    rows: &[(ObjectRecord, bool)],
) -> Result<Change, StoreError> {
    let Some(mut conn) = open(pool, path, false)? else {
        return Ok(Change::NoContainer);
    };
    write_objects_in(&mut conn, account, container, rows).map_err(|e| {
        let what = match rows {
            [(rec, false)] => format!("put object {account}/{container}/{}", rec.name),
            [(rec, true)] => format!("delete object {account}/{container}/{}", rec.name),
            _ => format!("write {} object rows in {account}/{container}", rows.len()),
        };
        e.into_store(&what, path)
    })
}

/// The container's stats move by the triggers in the same transaction; the
/// change counter moves once, if the stats moved at all.
fn write_objects_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    rows: &[(ObjectRecord, bool)],
) -> Result<Change, DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(before) = read_info(&tx, account, container)?.filter(Info::live) else {
        return Ok(Change::NoContainer);
    };
    for (rec, deleted) in rows {
        replace_object(&tx, rec, *deleted)?;
    }
    let (count, bytes): (u64, u64) = tx
        .prepare_cached("SELECT object_count, bytes_used FROM container_info WHERE id = 1")?
        .query_row([], |r| Ok((col_u64(r, 0)?, col_u64(r, 1)?)))?;
    let change = if (count, bytes) == (before.object_count, before.bytes_used) {
        Change::Unchanged
    } else {
        Change::Changed(bump(&tx)?)
    };
    tx.commit()?;
    Ok(change)
}

/// A POST of the version whose data timestamp is `data_ts`: its row is
/// listed as modified at `meta_ts`, and with `content_type` when the POST
/// named one (Swift's object server sends the container both). Another
/// version listed by now, or none: nothing happens.
pub(super) fn object_posted(
    pool: &DbPool,
    path: &Path,
    name: &str,
    data_ts: Timestamp,
    meta_ts: Timestamp,
    content_type: Option<&str>,
) -> Result<(), StoreError> {
    let Some(mut conn) = open(pool, path, false)? else {
        return Ok(());
    };
    let run = |conn: &mut Connection| -> Result<(), DbFail> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(u64, String, String, Timestamp)> = tx
            .prepare_cached(
                "SELECT size, etag, content_type, meta_timestamp FROM object
                 WHERE name = ?1 AND created_at = ?2 AND deleted = 0",
            )?
            .query_row((name, U64::from(data_ts)), |r| {
                Ok((col_u64(r, 0)?, r.get(1)?, r.get(2)?, col_ts(r, 3)?))
            })
            .optional()?;
        if let Some((size, etag, listed_type, listed_meta)) = row {
            // Rows are replaced, never updated (the schema's triggers keep
            // the counts that way); size and existence do not change.
            tx.prepare_cached("DELETE FROM object WHERE name = ?1")?
                .execute([name])?;
            tx.prepare_cached(
                "INSERT INTO object
                     (name, created_at, size, content_type, etag, deleted, meta_timestamp)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            )?
            .execute((
                name,
                U64::from(data_ts),
                U64(size),
                content_type.unwrap_or(&listed_type),
                &etag,
                U64::from(meta_ts.max(listed_meta)),
            ))?;
        }
        tx.commit()?;
        Ok(())
    };
    run(&mut conn).map_err(|e| e.into_store(&format!("record a POST of object {name}"), path))
}

/// Replaces the object's row with `rec` unless the stored row is as new or
/// newer.
fn replace_object(conn: &Connection, rec: &ObjectRecord, deleted: bool) -> Result<(), DbFail> {
    let stored: Option<Timestamp> = conn
        .prepare_cached("SELECT created_at FROM object WHERE name = ?1")?
        .query_row([&rec.name], |r| col_ts(r, 0))
        .optional()?;
    if stored.is_some_and(|t| t >= rec.timestamp) {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM object WHERE name = ?1")?
        .execute([&rec.name])?;
    insert_object(conn, rec, deleted)
}

fn insert_object(conn: &Connection, rec: &ObjectRecord, deleted: bool) -> Result<(), DbFail> {
    conn.prepare_cached(
        "INSERT INTO object (name, created_at, size, content_type, etag, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        &rec.name,
        U64::from(rec.timestamp),
        U64(rec.size),
        &rec.content_type,
        &rec.etag,
        deleted,
    ))?;
    Ok(())
}
