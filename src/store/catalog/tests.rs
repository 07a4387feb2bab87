//! Catalog behaviour: counts, timestamps, tombstones, metadata, lifecycle,
//! concurrency. Listing parameters are in `tests_listing.rs`.

use std::path::Path;

use tempfile::TempDir;

use super::*;

pub(super) fn catalog() -> (TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::new(dir.path()).unwrap();
    (dir, cat)
}

/// A timestamp `n` units after a fixed base.
pub(super) fn t(n: u64) -> Timestamp {
    Timestamp::from_units(1_700_000_000 * 100_000 + n)
}

pub(super) fn obj(name: &str, ts: Timestamp, size: u64) -> ObjectRecord {
    ObjectRecord {
        name: name.to_string(),
        timestamp: ts,
        size,
        content_type: "application/octet-stream".into(),
        etag: format!("etag-{size}"),
    }
}

fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (object_count, bytes_used) as the container and the account see them.
fn stats(cat: &Catalog, a: &str, c: &str) -> ((u64, u64), (u64, u64)) {
    let ci = cat.container_info(a, c).unwrap().unwrap();
    let ai = cat.account_info(a).unwrap();
    (
        (ci.object_count, ci.bytes_used),
        (ai.object_count, ai.bytes_used),
    )
}

fn listed_names(cat: &Catalog, a: &str, c: &str) -> Vec<String> {
    cat.list_objects(a, c, &ListingQuery::default())
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|e| match e {
            ListingEntry::Item(o) => o.name,
            ListingEntry::Subdir(s) => s,
        })
        .collect()
}

#[test]
fn unknown_account_reads_as_zeros_and_creates_nothing() {
    let (dir, cat) = catalog();
    assert_eq!(cat.account_info("AUTH_x").unwrap(), AccountInfo::default());
    assert!(cat
        .list_containers("AUTH_x", &ListingQuery::default())
        .unwrap()
        .is_empty());
    assert_eq!(cat.container_info("AUTH_x", "c").unwrap(), None);
    assert_eq!(
        cat.list_objects("AUTH_x", "c", &ListingQuery::default())
            .unwrap(),
        None
    );
    assert!(!cat.object_put("AUTH_x", "c", &obj("o", t(1), 1)).unwrap());
    assert!(!cat.object_delete("AUTH_x", "c", "o", t(1)).unwrap());
    assert!(!cat
        .container_update_meta("AUTH_x", "c", &[], &[], t(1))
        .unwrap());
    assert_eq!(
        cat.container_delete("AUTH_x", "c", t(1)).unwrap(),
        DeleteOutcome::NotFound
    );
    let made: Vec<_> = walk_files(dir.path());
    assert!(made.is_empty(), "{made:?}");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn files_are_named_by_md5_only() {
    let (dir, cat) = catalog();
    assert_eq!(
        cat.container_create(
            "AUTH_test",
            "photos",
            t(1),
            &[],
            super::PolicyChoice::default()
        )
        .unwrap(),
        CreateOutcome::Created
    );
    // md5 hex values computed independently (Python hashlib).
    let c = dir
        .path()
        .join("containers/c41/c41a315e9ed7440fd3e190d04a389e7e.db");
    let a = dir
        .path()
        .join("accounts/9b0/9b0054d3ab5fcf311d76923592b3eb90.db");
    assert_eq!(cat.container_path("AUTH_test", "photos"), c);
    assert_eq!(cat.account_path("AUTH_test"), a);
    assert!(c.exists() && a.exists());
    for f in walk_files(dir.path()) {
        let s = f.to_string_lossy();
        assert!(!s.contains("photos") && !s.contains("AUTH"), "{s}");
    }
}

#[test]
fn counts_stay_exact_through_put_overwrite_delete_and_reput() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    assert_eq!(stats(&cat, "a", "c"), ((0, 0), (0, 0)));
    assert!(cat.object_put("a", "c", &obj("o1", t(10), 100)).unwrap());
    assert!(cat.object_put("a", "c", &obj("o2", t(11), 50)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((2, 150), (2, 150)));
    // Overwrite: same count, bytes adjusted.
    assert!(cat.object_put("a", "c", &obj("o1", t(12), 7)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((2, 57), (2, 57)));
    // Delete: tombstone, count and bytes drop.
    assert!(cat.object_delete("a", "c", "o1", t(13)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((1, 50), (1, 50)));
    // Deleting again, or deleting what never existed, changes nothing.
    assert!(cat.object_delete("a", "c", "o1", t(14)).unwrap());
    assert!(cat.object_delete("a", "c", "never", t(14)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((1, 50), (1, 50)));
    // Re-PUT after delete.
    assert!(cat.object_put("a", "c", &obj("o1", t(15), 1000)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((2, 1050), (2, 1050)));
    assert_eq!(listed_names(&cat, "a", "c"), ["o1", "o2"]);
    // A second container adds to the account's totals.
    cat.container_create("a", "d", t(2), &[], super::PolicyChoice::default())
        .unwrap();
    cat.object_put("a", "d", &obj("x", t(16), 5)).unwrap();
    let ai = cat.account_info("a").unwrap();
    assert_eq!(
        (ai.container_count, ai.object_count, ai.bytes_used),
        (2, 3, 1055)
    );
}

#[test]
fn tombstone_row_is_kept_with_its_timestamp() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    cat.object_put("a", "c", &obj("o", t(10), 3)).unwrap();
    cat.object_delete("a", "c", "o", t(20)).unwrap();
    let conn = rusqlite::Connection::open(cat.container_path("a", "c")).unwrap();
    let row: (i64, i64, i64) = conn
        .query_row(
            "SELECT created_at, size, deleted FROM object WHERE name = 'o'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, (t(20).units() as i64, 0, 1));
    assert!(listed_names(&cat, "a", "c").is_empty());
}

#[test]
fn older_or_equal_records_are_ignored() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    cat.object_put("a", "c", &obj("o", t(10), 100)).unwrap();
    // Older and same-timestamp PUTs: accepted (true) but ignored.
    assert!(cat.object_put("a", "c", &obj("o", t(9), 1)).unwrap());
    assert!(cat.object_put("a", "c", &obj("o", t(10), 2)).unwrap());
    assert_eq!(stats(&cat, "a", "c").0, (1, 100));
    // An older DELETE does not remove a newer object.
    assert!(cat.object_delete("a", "c", "o", t(5)).unwrap());
    assert_eq!(stats(&cat, "a", "c").0, (1, 100));
    // A newer DELETE does; then an older PUT does not resurrect it.
    cat.object_delete("a", "c", "o", t(20)).unwrap();
    assert!(cat.object_put("a", "c", &obj("o", t(15), 1)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((0, 0), (0, 0)));
    assert!(listed_names(&cat, "a", "c").is_empty());
}

#[test]
fn container_create_existing_merges_meta_and_keeps_newest_put_timestamp() {
    let (_d, cat) = catalog();
    let m1 = meta(&[("x-container-meta-a", "1"), ("x-container-read", ".r:*")]);
    assert_eq!(
        cat.container_create("a", "c", t(10), &m1, super::PolicyChoice::default())
            .unwrap(),
        CreateOutcome::Created
    );
    let m2 = meta(&[("X-Container-Meta-B", "2"), ("x-container-meta-a", "one")]);
    assert_eq!(
        cat.container_create("a", "c", t(5), &m2, super::PolicyChoice::default())
            .unwrap(),
        CreateOutcome::Existed
    );
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!(
        info.put_timestamp,
        t(10),
        "an older PUT does not move it back"
    );
    assert_eq!(
        info.metadata,
        meta(&[
            ("x-container-meta-a", "1"),
            ("x-container-meta-b", "2"),
            ("x-container-read", ".r:*")
        ])
    );
    assert_eq!(
        cat.container_create("a", "c", t(20), &m2, super::PolicyChoice::default())
            .unwrap(),
        CreateOutcome::Existed
    );
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!(info.put_timestamp, t(20));
    assert_eq!(
        info.metadata[0],
        ("x-container-meta-a".to_string(), "one".to_string())
    );
    let listed = cat.list_containers("a", &ListingQuery::default()).unwrap();
    assert_eq!(
        listed,
        [ListingEntry::Item(ContainerRecord {
            name: "c".into(),
            object_count: 0,
            bytes_used: 0,
            last_modified: t(20),
            policy_index: 0,
        })]
    );
}

#[test]
fn container_metadata_set_remove_newer_wins() {
    let (_d, cat) = catalog();
    cat.container_create(
        "a",
        "c",
        t(1),
        &meta(&[("x-container-meta-keep", "k")]),
        super::PolicyChoice::default(),
    )
    .unwrap();
    let set = meta(&[
        ("x-container-meta-color", "blue"),
        ("x-versions-location", "v"),
    ]);
    assert!(cat
        .container_update_meta("a", "c", &set, &[], t(10))
        .unwrap());
    // Older change to the same key loses; other keys still apply.
    let stale = meta(&[
        ("x-container-meta-color", "red"),
        ("x-container-write", "u"),
    ]);
    cat.container_update_meta("a", "c", &stale, &[], t(5))
        .unwrap();
    let info = cat.container_info("a", "c").unwrap().unwrap();
    // A POST moves the put timestamp (Swift's Last-Modified); an older one
    // does not take it back.
    assert_eq!(info.put_timestamp, t(10));
    let got = info.metadata;
    assert_eq!(
        got,
        meta(&[
            ("x-container-meta-color", "blue"),
            ("x-container-meta-keep", "k"),
            ("x-container-write", "u"),
            ("x-versions-location", "v"),
        ])
    );
    cat.container_update_meta("a", "c", &[], &["x-container-meta-color".into()], t(11))
        .unwrap();
    cat.container_update_meta(
        "a",
        "c",
        &meta(&[("x-container-meta-color", "late")]),
        &[],
        t(10),
    )
    .unwrap();
    let got = cat.container_info("a", "c").unwrap().unwrap().metadata;
    assert!(
        got.iter().all(|(k, _)| k != "x-container-meta-color"),
        "{got:?}"
    );
}

#[test]
fn account_metadata_set_remove_newer_wins() {
    let (_d, cat) = catalog();
    cat.account_update_meta(
        "AUTH_t",
        &meta(&[("x-account-meta-quota", "1"), ("x-account-meta-b", "b")]),
        &[],
        t(10),
    )
    .unwrap();
    let info = cat.account_info("AUTH_t").unwrap();
    assert_eq!(info.put_timestamp, t(10));
    assert_eq!(
        info.metadata,
        meta(&[("x-account-meta-b", "b"), ("x-account-meta-quota", "1")])
    );
    cat.account_update_meta("AUTH_t", &meta(&[("x-account-meta-quota", "0")]), &[], t(9))
        .unwrap();
    cat.account_update_meta("AUTH_t", &[], &["x-account-meta-b".into()], t(11))
        .unwrap();
    assert_eq!(
        cat.account_info("AUTH_t").unwrap().metadata,
        meta(&[("x-account-meta-quota", "1")])
    );
    assert_eq!(cat.account_info("AUTH_t").unwrap().container_count, 0);
}

/// 60 + 60 user metadata items, each request within Swift's per-request
/// limits: the merged 120 are refused with Swift's message, and what was
/// stored stays as it was. Same for a container PUT on an existing one,
/// and for accounts.
#[test]
fn merged_metadata_past_the_limits_is_refused_and_changes_nothing() {
    let (_d, cat) = catalog();
    let items = |kind: &str, from: usize| -> Vec<(String, String)> {
        (from..from + 60)
            .map(|i| (format!("x-{kind}-meta-k{i:03}"), "v".to_string()))
            .collect()
    };
    let refused = |r: Result<bool, StoreError>| match r {
        Err(StoreError::MetadataLimit { message }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    cat.container_create(
        "a",
        "c",
        t(1),
        &items("container", 0),
        super::PolicyChoice::default(),
    )
    .unwrap();
    let msg = refused(cat.container_update_meta("a", "c", &items("container", 60), &[], t(2)));
    assert_eq!(msg, "Too many metadata items; max 90");
    let msg = refused(
        cat.container_create(
            "a",
            "c",
            t(3),
            &items("container", 60),
            super::PolicyChoice::default(),
        )
        .map(|_| true),
    );
    assert_eq!(msg, "Too many metadata items; max 90");
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!(info.metadata, items("container", 0));
    assert_eq!(info.put_timestamp, t(1), "the refused PUT changed nothing");
    // Room made by a removal in the same request is room.
    let remove: Vec<String> = (0..30)
        .map(|i| format!("x-container-meta-k{i:03}"))
        .collect();
    let add: Vec<(String, String)> = items("container", 60).into_iter().take(30).collect();
    assert!(cat
        .container_update_meta("a", "c", &add, &remove, t(4))
        .unwrap());
    assert_eq!(
        cat.container_info("a", "c")
            .unwrap()
            .unwrap()
            .metadata
            .len(),
        60
    );

    let big = "v".repeat(250);
    let sized = |from: usize| -> Vec<(String, String)> {
        (from..from + 10)
            .map(|i| (format!("x-account-meta-{i:02}"), big.clone()))
            .collect()
    };
    cat.account_update_meta("AUTH_t", &sized(0), &[], t(1))
        .unwrap();
    let msg = refused(
        cat.account_update_meta("AUTH_t", &sized(10), &[], t(2))
            .map(|()| true),
    );
    assert_eq!(msg, "Total metadata too large; max 4096");
    assert_eq!(cat.account_info("AUTH_t").unwrap().metadata, sized(0));
}

#[test]
fn container_delete_outcomes() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(10), &[], super::PolicyChoice::default())
        .unwrap();
    cat.object_put("a", "c", &obj("o", t(11), 1)).unwrap();
    assert_eq!(
        cat.container_delete("a", "c", t(12)).unwrap(),
        DeleteOutcome::NotEmpty
    );
    cat.object_delete("a", "c", "o", t(13)).unwrap();
    assert_eq!(
        cat.container_delete("a", "c", t(9)).unwrap(),
        DeleteOutcome::NotEmpty,
        "older than its PUT"
    );
    assert!(cat.container_info("a", "c").unwrap().is_some());
    assert_eq!(
        cat.container_delete("a", "c", t(14)).unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        cat.container_delete("a", "c", t(15)).unwrap(),
        DeleteOutcome::NotFound
    );
    assert_eq!(cat.container_info("a", "c").unwrap(), None);
    assert_eq!(
        cat.list_objects("a", "c", &ListingQuery::default())
            .unwrap(),
        None
    );
    assert!(!cat.object_put("a", "c", &obj("late", t(16), 1)).unwrap());
    assert!(!cat.object_delete("a", "c", "late", t(16)).unwrap());
    assert!(!cat
        .container_update_meta("a", "c", &meta(&[("x-container-meta-a", "1")]), &[], t(16))
        .unwrap());
    assert!(cat
        .list_containers("a", &ListingQuery::default())
        .unwrap()
        .is_empty());
    let ai = cat.account_info("a").unwrap();
    assert_eq!(
        (ai.container_count, ai.object_count, ai.bytes_used),
        (0, 0, 0)
    );
}

#[test]
fn delete_then_recreate_is_fresh() {
    let (_d, cat) = catalog();
    cat.container_create(
        "a",
        "c",
        t(10),
        &meta(&[("x-container-meta-old", "1")]),
        super::PolicyChoice::default(),
    )
    .unwrap();
    cat.object_put("a", "c", &obj("o", t(11), 9)).unwrap();
    cat.object_delete("a", "c", "o", t(12)).unwrap();
    assert_eq!(
        cat.container_delete("a", "c", t(13)).unwrap(),
        DeleteOutcome::Deleted
    );
    // Older than the delete: stays deleted.
    assert_eq!(
        cat.container_create("a", "c", t(12), &[], super::PolicyChoice::default())
            .unwrap(),
        CreateOutcome::Existed
    );
    assert_eq!(cat.container_info("a", "c").unwrap(), None);
    assert_eq!(
        cat.container_create(
            "a",
            "c",
            t(14),
            &meta(&[("x-container-meta-new", "2")]),
            super::PolicyChoice::default()
        )
        .unwrap(),
        CreateOutcome::Created
    );
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!(
        (info.object_count, info.bytes_used, info.put_timestamp),
        (0, 0, t(14))
    );
    assert_eq!(info.metadata, meta(&[("x-container-meta-new", "2")]));
    assert!(listed_names(&cat, "a", "c").is_empty());
    // An object PUT older than the old tombstone is a fresh object now.
    assert!(cat.object_put("a", "c", &obj("o", t(11), 4)).unwrap());
    assert_eq!(stats(&cat, "a", "c"), ((1, 4), (1, 4)));
    let listed = cat.list_containers("a", &ListingQuery::default()).unwrap();
    assert_eq!(
        listed,
        [ListingEntry::Item(ContainerRecord {
            name: "c".into(),
            object_count: 1,
            bytes_used: 4,
            last_modified: t(14),
            policy_index: 0,
        })]
    );
}

#[test]
fn older_account_snapshot_never_replaces_a_newer_one() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    let path = cat.account_path("a");
    let snap = |seq, count| container_db::Snapshot {
        put_timestamp: t(1),
        delete_timestamp: Timestamp::default(),
        object_count: count,
        bytes_used: count * 10,
        seq,
        policy_index: 0,
    };
    account_db::apply_snapshot(&cat.pool, &path, "a", "c", &snap(10, 5), t(2)).unwrap();
    account_db::apply_snapshot(&cat.pool, &path, "a", "c", &snap(9, 7), t(2)).unwrap();
    account_db::apply_snapshot(&cat.pool, &path, "a", "c", &snap(10, 8), t(2)).unwrap();
    let ai = cat.account_info("a").unwrap();
    assert_eq!((ai.object_count, ai.bytes_used), (5, 50));
    account_db::apply_snapshot(&cat.pool, &path, "a", "c", &snap(11, 1), t(2)).unwrap();
    assert_eq!(cat.account_info("a").unwrap().object_count, 1);
}

/// The trigger-kept totals equal a SUM over the live container rows.
pub(super) fn assert_account_totals_match_rows(cat: &Catalog, account: &str) {
    let conn = rusqlite::Connection::open(cat.account_path(account)).unwrap();
    let sums: (i64, i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COALESCE(SUM(object_count), 0), COALESCE(SUM(bytes_used), 0)
             FROM container WHERE deleted = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let ai = cat.account_info(account).unwrap();
    assert_eq!(
        (
            ai.container_count as i64,
            ai.object_count as i64,
            ai.bytes_used as i64
        ),
        sums
    );
}

#[test]
fn concurrent_writers_keep_counts_exact() {
    let dir = tempfile::tempdir().unwrap();
    Catalog::new(dir.path())
        .unwrap()
        .container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    Catalog::new(dir.path())
        .unwrap()
        .container_create("a", "other", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    // Separate catalogs: separate pools and connections, as separate
    // processes would have. Overlapping names, racing timestamps, deletes.
    let threads: Vec<_> = (0..2u64)
        .map(|w| {
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let cat = Catalog::new(&root).unwrap();
                for i in 0..150u64 {
                    let name = format!("obj-{}", i % 60);
                    let stamp = t(100 + i * 2 + w);
                    if i % 7 == 3 {
                        assert!(cat.object_delete("a", "c", &name, stamp).unwrap());
                    } else {
                        assert!(cat
                            .object_put("a", "c", &obj(&name, stamp, i * 10 + w))
                            .unwrap());
                    }
                    if i % 10 == 0 {
                        cat.object_put("a", "other", &obj(&name, stamp, 1)).unwrap();
                    }
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let cat = Catalog::new(dir.path()).unwrap();
    let listing = cat
        .list_objects("a", "c", &ListingQuery::default())
        .unwrap()
        .unwrap();
    let (n, bytes) = listing.iter().fold((0u64, 0u64), |(n, b), e| match e {
        ListingEntry::Item(o) => (n + 1, b + o.size),
        ListingEntry::Subdir(_) => (n, b),
    });
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!((info.object_count, info.bytes_used), (n, bytes));
    let other = cat.container_info("a", "other").unwrap().unwrap();
    let ai = cat.account_info("a").unwrap();
    assert_eq!(
        (ai.object_count, ai.bytes_used),
        (n + other.object_count, bytes + other.bytes_used)
    );
    assert_account_totals_match_rows(&cat, "a");
}

#[test]
fn object_put_racing_container_delete_never_leaves_an_orphan() {
    for round in 0..5u64 {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        Catalog::new(&root)
            .unwrap()
            .container_create("a", "c", t(1), &[], super::PolicyChoice::default())
            .unwrap();
        let r2 = root.clone();
        let putter = std::thread::spawn(move || {
            let cat = Catalog::new(&r2).unwrap();
            (0..20u64)
                .map(|i| {
                    cat.object_put("a", "c", &obj(&format!("o{i}"), t(10 + i), 1))
                        .unwrap()
                })
                .collect::<Vec<_>>()
        });
        let cat = Catalog::new(&root).unwrap();
        let outcome = cat.container_delete("a", "c", t(5 + round)).unwrap();
        let accepted = putter.join().unwrap();
        match outcome {
            DeleteOutcome::Deleted => {
                // Every PUT after the delete saw the container gone.
                assert_eq!(cat.container_info("a", "c").unwrap(), None);
                assert!(accepted.iter().all(|ok| !ok), "{accepted:?}");
            }
            DeleteOutcome::NotEmpty => {
                assert!(accepted.iter().all(|ok| *ok));
                assert_eq!(stats(&cat, "a", "c"), ((20, 20), (20, 20)));
            }
            other => panic!("{other:?}"),
        }
        assert_account_totals_match_rows(&cat, "a");
    }
}

#[test]
fn md5_collision_or_misplaced_file_is_reported_not_merged() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c1", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    let right = cat.container_path("a", "c1");
    cat.after_fork();
    let conn = rusqlite::Connection::open(&right).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(conn);
    let wrong = cat.container_path("a", "c2");
    std::fs::create_dir_all(wrong.parent().unwrap()).unwrap();
    std::fs::copy(&right, &wrong).unwrap();
    let err = cat.container_info("a", "c2").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(cat.object_put("a", "c2", &obj("o", t(2), 1)).is_err());
}

#[test]
fn after_fork_drops_idle_connections() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    assert!(cat.pool.idle_count() > 0);
    cat.after_fork();
    assert_eq!(cat.pool.idle_count(), 0);
    assert!(cat.container_info("a", "c").unwrap().is_some());
}

#[test]
fn one_catalog_shared_by_threads_keeps_counts_exact() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Catalog>();
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    std::thread::scope(|s| {
        for w in 0..4u64 {
            let cat = &cat;
            s.spawn(move || {
                for i in 0..50u64 {
                    let rec = obj(&format!("w{w}-{i}"), t(10 + i), w + 1);
                    assert!(cat.object_put("a", "c", &rec).unwrap());
                }
            });
        }
    });
    assert_eq!(stats(&cat, "a", "c"), ((200, 500), (200, 500)));
    assert_account_totals_match_rows(&cat, "a");
}

#[test]
fn a_post_sets_the_time_and_type_of_the_listed_version_only() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    assert!(cat.object_put("a", "c", &obj("o", t(2), 5)).unwrap());
    let types = |cat: &Catalog| -> Vec<(Timestamp, String)> {
        cat.list_objects("a", "c", &ListingQuery::default())
            .unwrap()
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                ListingEntry::Item(o) => Some((o.timestamp, o.content_type)),
                ListingEntry::Subdir(_) => None,
            })
            .collect()
    };
    cat.object_posted("a", "c", "o", t(2), t(5), Some("text/x-new"))
        .unwrap();
    // Listed as modified by the POST.
    assert_eq!(types(&cat), vec![(t(5), "text/x-new".to_string())]);
    // A POST without a type keeps it; an older POST does not go back.
    cat.object_posted("a", "c", "o", t(2), t(6), None).unwrap();
    cat.object_posted("a", "c", "o", t(2), t(4), None).unwrap();
    assert_eq!(types(&cat), vec![(t(6), "text/x-new".to_string())]);
    assert_eq!(stats(&cat, "a", "c"), ((1, 5), (1, 5)));
    // Another version is listed by now: left alone.
    assert!(cat.object_put("a", "c", &obj("o", t(3), 7)).unwrap());
    cat.object_posted("a", "c", "o", t(2), t(9), Some("text/x-old"))
        .unwrap();
    assert_eq!(
        types(&cat),
        vec![(t(3), "application/octet-stream".to_string())]
    );
    // Deleted, or never there: nothing happens.
    assert!(cat.object_delete("a", "c", "o", t(4)).unwrap());
    cat.object_posted("a", "c", "o", t(4), t(9), Some("text/x"))
        .unwrap();
    cat.object_posted("a", "c", "gone", t(2), t(9), None)
        .unwrap();
    assert!(types(&cat).is_empty());
    assert_eq!(stats(&cat, "a", "c"), ((0, 0), (0, 0)));
}
