//! Crash recovery against a real storage root: each test stops a write
//! between its two steps (as SIGKILL would), then recovers.

use super::*;
use crate::node::config;
use crate::store::catalog::{ListingEntry, ListingQuery};
use crate::store::objects::NewObject;
use md5::{Digest, Md5};

fn vhost(dir: &tempfile::TempDir) -> Vhost {
    let root = dir.path().to_str().unwrap();
    Vhost::new(config::build(&[vec!["StowageRoot", root]]).unwrap()).unwrap()
}

fn new_obj(ts: u64) -> NewObject {
    NewObject {
        timestamp: crate::store::timestamp::recent(ts),
        content_type: "text/plain".into(),
        meta: vec![],
        expected_etag: None,
        max_size: 1 << 20,
    }
}

fn listed(vh: &Vhost) -> Vec<(String, u64)> {
    let rows = vh
        .catalog
        .list_objects("a", "c", &ListingQuery::default())
        .unwrap()
        .unwrap();
    rows.into_iter()
        .filter_map(|e| match e {
            ListingEntry::Item(r) => Some((r.name, r.size)),
            ListingEntry::Subdir(_) => None,
        })
        .collect()
}

/// (container objects, container bytes, account objects, account bytes).
fn counts(vh: &Vhost) -> (u64, u64, u64, u64) {
    let c = vh.catalog.container_info("a", "c").unwrap().unwrap();
    let a = vh.catalog.account_info("a").unwrap();
    (c.object_count, c.bytes_used, a.object_count, a.bytes_used)
}

fn markers(dir: &tempfile::TempDir) -> usize {
    std::fs::read_dir(dir.path().join("intents")).map_or(0, |d| d.count())
}

fn with_container(dir: &tempfile::TempDir) -> Vhost {
    let vh = vhost(dir);
    vh.catalog
        .container_create(
            "a",
            "c",
            crate::store::timestamp::recent(1),
            &[],
            crate::store::catalog::PolicyChoice::default(),
        )
        .unwrap();
    vh
}

/// A PUT killed after its file was linked, before its row.
fn crashed_put(vh: &Vhost, name: &str, body: &[u8], ts: u64) {
    let intent = vh.intents.begin(&["a", "c", name]).unwrap();
    vh.objects
        .put(
            "a",
            "c",
            name,
            &mut &body[..],
            &new_obj(ts),
            Some(body.len() as u64),
        )
        .unwrap();
    drop(intent);
}

#[test]
fn a_file_without_its_row_gets_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    crashed_put(&vh, "o", b"hello", 10);
    assert!(listed(&vh).is_empty());
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    assert_eq!(listed(&vh), vec![("o".to_string(), 5)]);
    assert_eq!(counts(&vh), (1, 5, 1, 5));
    assert_eq!(markers(&dir), 0);
    assert_eq!(recover(&vh, 100).unwrap(), 0, "nothing left to do");
}

#[test]
fn a_tombstone_without_its_row_removes_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    let m = vh
        .objects
        .put("a", "c", "o", &mut &b"hello"[..], &new_obj(10), Some(5))
        .unwrap();
    let rec = ObjectRecord {
        name: "o".into(),
        timestamp: m.timestamp,
        size: m.size,
        content_type: m.content_type,
        etag: m.etag,
    };
    assert!(vh.catalog.object_put("a", "c", &rec).unwrap());
    let intent = vh.intents.begin(&["a", "c", "o"]).unwrap();
    vh.objects
        .delete("a", "c", "o", crate::store::timestamp::recent(20))
        .unwrap();
    drop(intent);
    assert_eq!(listed(&vh).len(), 1, "the listed row has no live file");
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    assert!(listed(&vh).is_empty());
    assert_eq!(counts(&vh), (0, 0, 0, 0));
}

#[test]
fn a_lagging_account_row_is_resynced() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    crashed_put(&vh, "o", b"hello", 10);
    recover(&vh, 100).unwrap();
    // The account commit of the container's last change is lost.
    let hex: String = Md5::digest(b"a")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir
        .path()
        .join("accounts")
        .join(&hex[..3])
        .join(format!("{hex}.db"));
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute("DELETE FROM container WHERE name = 'c'", [])
        .unwrap();
    drop(conn);
    assert_eq!(vh.catalog.account_info("a").unwrap().container_count, 0);
    drop(vh.intents.begin(&["a", "c"]).unwrap());
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    let a = vh.catalog.account_info("a").unwrap();
    assert_eq!((a.container_count, a.object_count, a.bytes_used), (1, 1, 5));
}

#[test]
fn an_object_of_a_deleted_container_is_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    crashed_put(&vh, "o", b"hello", 10);
    // The DB still counts no object, so the container can go.
    vh.catalog
        .container_delete("a", "c", crate::store::timestamp::recent(30))
        .unwrap();
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    assert!(matches!(
        vh.objects.state("a", "c", "o").unwrap(),
        FileState::Deleted(_)
    ));
    assert!(vh.catalog.container_info("a", "c").unwrap().is_none());
    assert_eq!(vh.catalog.account_info("a").unwrap().container_count, 0);
}

#[test]
fn live_writers_and_unwritten_objects_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    let live = vh.intents.begin(&["a", "c", "busy"]).unwrap();
    // Killed before its file was linked: nothing to reconcile.
    drop(vh.intents.begin(&["a", "c", "never"]).unwrap());
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    assert!(listed(&vh).is_empty());
    assert_eq!(markers(&dir), 1);
    live.settle();
    assert_eq!(markers(&dir), 0);
}

#[test]
fn an_older_file_never_overrides_a_newer_row() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    crashed_put(&vh, "o", b"old", 10);
    // A newer version wrote its row (its file is not there yet).
    let newer = ObjectRecord {
        name: "o".into(),
        timestamp: crate::store::timestamp::recent(20),
        size: 9,
        content_type: "text/plain".into(),
        etag: "x".into(),
    };
    vh.catalog.object_put("a", "c", &newer).unwrap();
    recover(&vh, 100).unwrap();
    assert_eq!(listed(&vh), vec![("o".to_string(), 9)]);
}

#[test]
fn each_pass_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    for i in 0..5 {
        crashed_put(&vh, &format!("o{i}"), b"x", 10 + i);
    }
    assert_eq!(recover(&vh, 2).unwrap(), 2);
    assert_eq!(recover(&vh, 100).unwrap(), 3);
    assert_eq!(counts(&vh), (5, 5, 5, 5));
}

#[test]
fn a_put_killed_before_retiring_the_old_version_loses_it_in_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let vh = with_container(&dir);
    crashed_put(&vh, "o", b"old", 10);
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    crashed_put(&vh, "o", b"newer", 20);
    let data_files = || {
        let hash_dir = vh.objects.object_dir("a", "c", "o");
        std::fs::read_dir(hash_dir)
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|e| e == "data")
            })
            .count()
    };
    assert_eq!(
        data_files(),
        2,
        "the new version is linked, the old not yet retired"
    );
    assert_eq!(recover(&vh, 100).unwrap(), 1);
    assert_eq!(listed(&vh), vec![("o".to_string(), 5)]);
    assert_eq!(data_files(), 1, "recovery retired the old version");
}
