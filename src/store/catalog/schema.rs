//! The two DB schemas, shaped after Swift's account and container DBs so that
//! speaking Swift's replication protocol later is an adapter: rows are
//! replaced (DELETE + INSERT, so each change gets a new, larger row id that
//! a "since row" sync can follow), never updated in place, and the stats
//! rows are maintained by triggers in the same transaction as the rows they
//! count. Timestamps are stored as integer units of 10 µs (`Timestamp::units`).

use crate::store::db::Schema;

/// The account triggers that keep `policy_stat` (in both the new schema
/// and the migration).
macro_rules! policy_stat_triggers {
    () => {
        "
CREATE TRIGGER IF NOT EXISTS container_insert_policy AFTER INSERT ON container BEGIN
    INSERT OR IGNORE INTO policy_stat (storage_policy_index) VALUES (new.storage_policy_index);
    UPDATE policy_stat
    SET container_count = container_count + (1 - new.deleted),
        object_count = object_count + (1 - new.deleted) * new.object_count,
        bytes_used = bytes_used + (1 - new.deleted) * new.bytes_used
    WHERE storage_policy_index = new.storage_policy_index;
END;
CREATE TRIGGER IF NOT EXISTS container_delete_policy AFTER DELETE ON container BEGIN
    UPDATE policy_stat
    SET container_count = container_count - (1 - old.deleted),
        object_count = object_count - (1 - old.deleted) * old.object_count,
        bytes_used = bytes_used - (1 - old.deleted) * old.bytes_used
    WHERE storage_policy_index = old.storage_policy_index;
END;
"
    };
}

/// One file per container. `container_info` holds exactly one row once the
/// container has been created; its `stats_seq` grows with every change and
/// orders the snapshots pushed to the account DB; `storage_policy_index`
/// is the container's storage policy (version 2; a version 1 file's
/// containers are policy 0, Swift's legacy policy).
pub const CONTAINER_SCHEMA: Schema = Schema {
    kind: "container DB",
    version: 3,
    migrations: &[
        "ALTER TABLE container_info ADD COLUMN storage_policy_index INTEGER NOT NULL DEFAULT 0;",
        "ALTER TABLE object ADD COLUMN meta_timestamp INTEGER NOT NULL DEFAULT 0;",
    ],
    sql: "
CREATE TABLE IF NOT EXISTS container_info (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    put_timestamp INTEGER NOT NULL,
    delete_timestamp INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    stats_seq INTEGER NOT NULL DEFAULT 0,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS object (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    meta_timestamp INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_object_deleted_name ON object (deleted, name);
CREATE TRIGGER IF NOT EXISTS object_insert AFTER INSERT ON object BEGIN
    UPDATE container_info
    SET object_count = object_count + (1 - new.deleted),
        bytes_used = bytes_used + (1 - new.deleted) * new.size;
END;
CREATE TRIGGER IF NOT EXISTS object_delete AFTER DELETE ON object BEGIN
    UPDATE container_info
    SET object_count = object_count - (1 - old.deleted),
        bytes_used = bytes_used - (1 - old.deleted) * old.size;
END;
CREATE TRIGGER IF NOT EXISTS object_update BEFORE UPDATE ON object BEGIN
    SELECT RAISE(FAIL, 'object rows are replaced, not updated');
END;
",
};

/// One file per account: the account's own row and one row per container
/// (live or tombstoned), each a snapshot of the container DB's stats and
/// policy, and (version 2) one `policy_stat` row per storage policy any of
/// its containers has had, with that policy's totals kept by triggers, as
/// Swift's account DB keeps them (a row stays, at zero, when its last
/// container goes).
pub const ACCOUNT_SCHEMA: Schema = Schema {
    kind: "account DB",
    version: 2,
    migrations: &[ACCOUNT_MIGRATE_2],
    sql: concat!(
        "
CREATE TABLE IF NOT EXISTS account_info (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    put_timestamp INTEGER NOT NULL,
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS container (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    put_timestamp INTEGER NOT NULL,
    delete_timestamp INTEGER NOT NULL,
    object_count INTEGER NOT NULL,
    bytes_used INTEGER NOT NULL,
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    stats_seq INTEGER NOT NULL,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_container_deleted_name ON container (deleted, name);
CREATE TABLE IF NOT EXISTS policy_stat (
    storage_policy_index INTEGER PRIMARY KEY,
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS container_insert AFTER INSERT ON container BEGIN
    UPDATE account_info
    SET container_count = container_count + (1 - new.deleted),
        object_count = object_count + (1 - new.deleted) * new.object_count,
        bytes_used = bytes_used + (1 - new.deleted) * new.bytes_used;
END;
CREATE TRIGGER IF NOT EXISTS container_delete AFTER DELETE ON container BEGIN
    UPDATE account_info
    SET container_count = container_count - (1 - old.deleted),
        object_count = object_count - (1 - old.deleted) * old.object_count,
        bytes_used = bytes_used - (1 - old.deleted) * old.bytes_used;
END;
CREATE TRIGGER IF NOT EXISTS container_update BEFORE UPDATE ON container BEGIN
    SELECT RAISE(FAIL, 'container rows are replaced, not updated');
END;
",
        policy_stat_triggers!()
    ),
};

/// Version 1 to 2: every container so far is policy 0, whose totals are
/// those of the account (a row only if some container ever existed).
const ACCOUNT_MIGRATE_2: &str = concat!(
    "
ALTER TABLE container ADD COLUMN storage_policy_index INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS policy_stat (
    storage_policy_index INTEGER PRIMARY KEY,
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO policy_stat (storage_policy_index, container_count, object_count, bytes_used)
    SELECT 0, container_count, object_count, bytes_used FROM account_info
    WHERE EXISTS (SELECT 1 FROM container);
",
    policy_stat_triggers!()
);
