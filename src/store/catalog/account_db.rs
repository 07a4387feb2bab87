//! One account's DB: the account's info row (totals kept by triggers,
//! metadata) and one row per container, each the newest snapshot of that
//! container's stats. The file is made on the first write; until then the
//! account reads as empty (Swift's account_autocreate).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::container_db::Snapshot;
use super::meta::Meta;
use super::schema::ACCOUNT_SCHEMA;
use super::walk;
use super::{AccountInfo, ContainerRecord, ListingEntry, ListingQuery, PolicyStats};
use crate::store::db::{col_ts, col_u64, DbFail, DbPool, U64};
use crate::store::error::StoreError;
use crate::store::timestamp::Timestamp;

/// Makes the account row on first write; checks that the file belongs to
/// this account (an md5 collision or misplaced file is never merged).
fn ensure_account(conn: &Connection, account: &str, put_ts: Timestamp) -> Result<(), DbFail> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO account_info (id, account, created_at, put_timestamp) VALUES (1, ?1, ?2, ?3)",
    )?
    .execute((account, U64::from(Timestamp::now()), U64::from(put_ts)))?;
    check_owner(conn, account)
}

fn check_owner(conn: &Connection, account: &str) -> Result<(), DbFail> {
    let owner: String = conn
        .prepare_cached("SELECT account FROM account_info WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    if owner != account {
        return Err(DbFail::Corrupt(format!(
            "DB belongs to account {owner}, not {account}"
        )));
    }
    Ok(())
}

pub(super) fn info(pool: &DbPool, path: &Path, account: &str) -> Result<AccountInfo, StoreError> {
    let Some(conn) = pool.get(path, &ACCOUNT_SCHEMA, false)? else {
        return Ok(AccountInfo::default());
    };
    info_in(&conn, account).map_err(|e| e.into_store(&format!("read account {account}"), path))
}

fn info_in(conn: &Connection, account: &str) -> Result<AccountInfo, DbFail> {
    let row = conn
        .prepare_cached(
            "SELECT account, created_at, put_timestamp, container_count, object_count, bytes_used, metadata
             FROM account_info WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                AccountInfo {
                    exists: true,
                    created_at: col_ts(r, 1)?,
                    put_timestamp: col_ts(r, 2)?,
                    container_count: col_u64(r, 3)?,
                    object_count: col_u64(r, 4)?,
                    bytes_used: col_u64(r, 5)?,
                    metadata: Vec::new(),
                    policy_stats: Vec::new(),
                },
                r.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((owner, mut info, meta)) = row else {
        return Ok(AccountInfo::default());
    };
    if owner != account {
        return Err(DbFail::Corrupt(format!(
            "DB belongs to account {owner}, not {account}"
        )));
    }
    info.metadata = Meta::parse(&meta).map_err(DbFail::Corrupt)?.visible();
    info.policy_stats = conn
        .prepare_cached(
            "SELECT storage_policy_index, container_count, object_count, bytes_used
             FROM policy_stat ORDER BY storage_policy_index",
        )?
        .query_map([], |r| {
            Ok(PolicyStats {
                index: r.get(0)?,
                container_count: col_u64(r, 1)?,
                object_count: col_u64(r, 2)?,
                bytes_used: col_u64(r, 3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(info)
}

pub(super) fn update_meta(
    pool: &DbPool,
    path: &Path,
    account: &str,
    set: &[(String, String)],
    remove: &[String],
    at: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut conn) = pool.get(path, &ACCOUNT_SCHEMA, true)? else {
        return Err(StoreError::corrupt(
            path,
            "account DB vanished while being created",
        ));
    };
    update_meta_in(&mut conn, account, set, remove, at)
        .map_err(|e| e.into_store(&format!("update metadata of account {account}"), path))
}

fn update_meta_in(
    conn: &mut Connection,
    account: &str,
    set: &[(String, String)],
    remove: &[String],
    at: Timestamp,
) -> Result<(), DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    ensure_account(&tx, account, at)?;
    let json: String = tx
        .prepare_cached("SELECT metadata FROM account_info WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let before = Meta::parse(&json).map_err(DbFail::Corrupt)?;
    let mut meta = before.clone();
    meta.apply(set, remove, at);
    meta.check_merged(&before).map_err(DbFail::MetadataLimit)?;
    tx.prepare_cached("UPDATE account_info SET metadata = ?1 WHERE id = 1")?
        .execute([meta.to_json()])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn list(
    pool: &DbPool,
    path: &Path,
    account: &str,
    q: &ListingQuery,
) -> Result<Vec<ListingEntry<ContainerRecord>>, StoreError> {
    let Some(mut conn) = pool.get(path, &ACCOUNT_SCHEMA, false)? else {
        return Ok(Vec::new());
    };
    list_in(&mut conn, account, q)
        .map_err(|e| e.into_store(&format!("list account {account}"), path))
}

fn list_in(
    conn: &mut Connection,
    account: &str,
    q: &ListingQuery,
) -> Result<Vec<ListingEntry<ContainerRecord>>, DbFail> {
    // One read transaction: every batch sees the same snapshot.
    let tx = conn.transaction()?;
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM account_info WHERE id = 1)")?
        .query_row([], |r| r.get(0))?;
    if !exists {
        return Ok(Vec::new());
    }
    check_owner(&tx, account)?;
    let entries = walk::list(
        &tx,
        "container",
        "name, object_count, bytes_used, put_timestamp, storage_policy_index",
        q,
        |row, name| {
            Ok(ContainerRecord {
                name,
                object_count: col_u64(row, 1)?,
                bytes_used: col_u64(row, 2)?,
                last_modified: col_ts(row, 3)?,
                policy_index: row.get(4)?,
            })
        },
    )?;
    tx.commit()?;
    Ok(entries)
}

/// Stores a container's snapshot unless a newer one (higher seq) is already
/// there. `at` is the change's timestamp, used if this makes the account.
pub(super) fn apply_snapshot(
    pool: &DbPool,
    path: &Path,
    account: &str,
    container: &str,
    snapshot: &Snapshot,
    at: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut conn) = pool.get(path, &ACCOUNT_SCHEMA, true)? else {
        return Err(StoreError::corrupt(
            path,
            "account DB vanished while being created",
        ));
    };
    apply_snapshot_in(&mut conn, account, container, snapshot, at).map_err(|e| {
        e.into_store(
            &format!("update container {container} in account {account}"),
            path,
        )
    })
}

fn apply_snapshot_in(
    conn: &mut Connection,
    account: &str,
    container: &str,
    s: &Snapshot,
    at: Timestamp,
) -> Result<(), DbFail> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    ensure_account(&tx, account, at)?;
    let stored: Option<u64> = tx
        .prepare_cached("SELECT stats_seq FROM container WHERE name = ?1")?
        .query_row([container], |r| col_u64(r, 0))
        .optional()?;
    if stored.is_some_and(|seq| seq >= s.seq) {
        return Ok(());
    }
    // Replace, not update: the triggers move the account totals by the
    // difference, and the row gets a new id (Swift's replication order).
    tx.prepare_cached("DELETE FROM container WHERE name = ?1")?
        .execute([container])?;
    tx.prepare_cached(
        "INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted, stats_seq,
                                storage_policy_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute((
        container,
        U64::from(s.put_timestamp),
        U64::from(s.delete_timestamp),
        U64(s.object_count),
        U64(s.bytes_used),
        s.deleted(),
        U64(s.seq),
        s.policy_index,
    ))?;
    tx.commit()?;
    Ok(())
}
