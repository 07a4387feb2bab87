//! Storage policies in the catalog: a container's policy, Swift's rules for
//! changing it, the account's totals per policy, and DBs written before
//! policies existed.

use rusqlite::Connection;

use super::tests::{catalog, obj, t};
use super::*;

fn choose(requested: Option<u32>) -> PolicyChoice {
    PolicyChoice {
        requested,
        default: 1,
    }
}

fn per_policy(cat: &Catalog) -> Vec<(u32, u64, u64, u64)> {
    let info = cat.account_info("a").unwrap();
    info.policy_stats
        .iter()
        .map(|s| (s.index, s.container_count, s.object_count, s.bytes_used))
        .collect()
}

#[test]
fn a_container_keeps_its_policy_until_deleted() {
    let (_d, cat) = catalog();
    let create = |c: &str, at, p| cat.container_create("a", c, t(at), &[], choose(p)).unwrap();
    assert_eq!(create("c", 1, None), CreateOutcome::Created);
    assert_eq!(
        cat.container_info("a", "c").unwrap().unwrap().policy_index,
        1
    );
    assert_eq!(create("c", 2, None), CreateOutcome::Existed);
    assert_eq!(create("c", 3, Some(1)), CreateOutcome::Existed);
    assert_eq!(create("c", 4, Some(2)), CreateOutcome::Conflict(1));
    assert_eq!(
        cat.container_info("a", "c").unwrap().unwrap().put_timestamp,
        t(3)
    );
    assert_eq!(create("d", 5, Some(2)), CreateOutcome::Created);
    assert!(cat.object_put("a", "d", &obj("o", t(6), 10)).unwrap());
    assert_eq!(per_policy(&cat), [(1, 1, 0, 0), (2, 1, 1, 10)]);
    let listed = cat.list_containers("a", &ListingQuery::default()).unwrap();
    let policies: Vec<u32> = listed
        .iter()
        .filter_map(|e| match e {
            ListingEntry::Item(c) => Some(c.policy_index),
            ListingEntry::Subdir(_) => None,
        })
        .collect();
    assert_eq!(policies, [1, 2]);
    // Deleted, then created again: the new PUT's policy.
    assert_eq!(
        cat.container_delete("a", "c", t(7)).unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        per_policy(&cat),
        [(1, 0, 0, 0), (2, 1, 1, 10)],
        "a row stays at zero"
    );
    assert_eq!(create("c", 8, Some(0)), CreateOutcome::Created);
    assert_eq!(
        cat.container_info("a", "c").unwrap().unwrap().policy_index,
        0
    );
    assert_eq!(
        per_policy(&cat),
        [(0, 1, 0, 0), (1, 0, 0, 0), (2, 1, 1, 10)]
    );
}

#[test]
fn dbs_from_before_policies_are_policy_0() {
    let (d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], PolicyChoice::default())
        .unwrap();
    assert!(cat.object_put("a", "c", &obj("o", t(2), 5)).unwrap());
    let container_db = cat.container_path("a", "c");
    let account_db = cat.account_path("a");
    drop(cat);
    // Make both files what version 1 wrote: no policy columns or table.
    for (path, sql) in [
        (
            &container_db,
            "ALTER TABLE container_info DROP COLUMN storage_policy_index;
             ALTER TABLE object DROP COLUMN meta_timestamp;",
        ),
        (
            &account_db,
            "DROP TRIGGER container_insert_policy; DROP TRIGGER container_delete_policy;
             DROP TABLE policy_stat; ALTER TABLE container DROP COLUMN storage_policy_index;",
        ),
    ] {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let cat = Catalog::new(d.path()).unwrap();
    assert_eq!(
        cat.container_info("a", "c").unwrap().unwrap().policy_index,
        0
    );
    assert_eq!(per_policy(&cat), [(0, 1, 1, 5)]);
    // And the migrated files work on: a new container in another policy.
    cat.container_create("a", "e", t(3), &[], choose(Some(4)))
        .unwrap();
    assert!(cat.object_put("a", "c", &obj("p", t(4), 6)).unwrap());
    assert_eq!(per_policy(&cat), [(0, 1, 2, 11), (4, 1, 0, 0)]);
}
