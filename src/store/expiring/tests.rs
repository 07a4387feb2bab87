use super::*;
use crate::store::objects::{name_hash, NewObject};

fn names(due: &[Due]) -> Vec<&str> {
    due.iter().map(|d| d.object.as_str()).collect()
}

fn ts(secs: u64) -> Timestamp {
    crate::store::timestamp::recent(secs * 100_000)
}

fn count(dir: &Path) -> usize {
    walkdir(dir).len()
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else if !p.ends_with(".sweep") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn markers_come_back_due_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let idx = ExpiringIndex::new(dir.path());
    assert!(idx.due(100, 10).unwrap().is_empty(), "no directory yet");
    idx.add(50, ts(1), "a", "c", "late\nname").unwrap();
    idx.add(20, ts(1), "a", "c", "early").unwrap();
    idx.add(500, ts(1), "a", "c", "future").unwrap();
    idx.add(7300, ts(1), "a", "c", "hours later").unwrap();
    let bucket = dir.path().join("expiring/0000000000");
    fs::write(bucket.join("0000000001-garbage"), b"{").unwrap();
    let due = idx.due(100, 10).unwrap();
    assert_eq!(names(&due), vec!["early", "late\nname"]);
    assert_eq!(due[0].delete_at, 20);
    assert!(!bucket.join("0000000001-garbage").exists());
    assert_eq!(idx.due(100, 1).unwrap().len(), 1);
    idx.remove(&due[0]);
    assert_eq!(idx.due(100, 10).unwrap().len(), 1);
    // Removal takes both names.
    assert_eq!(
        links_in(&object_dir_in(&idx.links, &name_hash(&["a", "c", "early"]))).unwrap(),
        vec![]
    );
    // Hours that are over and empty go; the others are not even read.
    idx.remove(&idx.due(600, 10).unwrap()[0]);
    idx.remove(&idx.due(600, 10).unwrap()[0]);
    assert!(idx.due(3600, 10).unwrap().is_empty());
    assert!(!bucket.exists());
    assert!(dir.path().join("expiring/0000007200").exists());
    assert_eq!(names(&idx.due(7300, 10).unwrap()), vec!["hours later"]);
}

#[test]
fn flat_markers_of_the_earlier_layout_are_still_swept() {
    let dir = tempfile::tempdir().unwrap();
    let idx = ExpiringIndex::new(dir.path());
    fs::create_dir_all(dir.path().join("expiring")).unwrap();
    let flat = dir.path().join(format!(
        "expiring/0000000040-{}",
        name_hash(&["a", "c", "o"])
    ));
    fs::write(&flat, br#"["a","c","o"]"#).unwrap();
    fs::write(dir.path().join("expiring/0000000041-junk"), b"{").unwrap();
    assert!(idx.due(39, 10).unwrap().is_empty());
    let due = idx.due(100, 10).unwrap();
    assert_eq!(names(&due), vec!["o"]);
    idx.remove(&due[0]);
    assert!(!flat.exists());
    assert!(idx.due(100, 10).unwrap().is_empty());
}

#[test]
fn a_due_hour_is_read_only_as_far_as_needed() {
    let dir = tempfile::tempdir().unwrap();
    let idx = ExpiringIndex::new(dir.path());
    for i in 0..50 {
        idx.add(10 + i, ts(1), "a", "c", &format!("o{i}")).unwrap();
    }
    let due = idx.due(10_000, 5).unwrap();
    assert_eq!(due.len(), 5);
}

fn put(store: &ObjectStore, name: &str, at: Option<u64>, when: Timestamp) {
    let meta = at
        .map(|at| vec![("x-delete-at".to_string(), at.to_string().into_bytes())])
        .unwrap_or_default();
    let new = NewObject {
        timestamp: when,
        content_type: "text/plain".into(),
        meta,
        expected_etag: None,
        max_size: 1 << 20,
    };
    store
        .put("a", "c", name, &mut &b"x"[..], &new, Some(1))
        .unwrap();
    store.retire_older("a", "c", name, when);
}

#[test]
fn an_object_keeps_only_its_current_versions_marker() {
    let dir = tempfile::tempdir().unwrap();
    let idx = ExpiringIndex::new(dir.path());
    let store = ObjectStore::new(dir.path());
    let markers = || count(&dir.path().join("expiring"));
    // Three PUTs with different expiries, each settled after it.
    for (i, at) in [9_999_999_999u64, 5_000_000_000, 6_000_000_000]
        .iter()
        .enumerate()
    {
        let when = ts(1_000 + i as u64);
        idx.add(*at, when, "a", "c", "o").unwrap();
        put(&store, "o", Some(*at), when);
        idx.settle(&store, "a", "c", "o").unwrap();
        assert_eq!(markers(), 1);
    }
    // Nor are the hours of the replaced markers left as empty directories.
    assert_eq!(
        fs::read_dir(dir.path().join("expiring")).unwrap().count(),
        1
    );
    // POSTs replace the metadata: the old marker goes.
    for i in 0..5u64 {
        let when = ts(2_000 + i);
        let at = 7_000_000_000 + i;
        idx.add(at, when, "a", "c", "o").unwrap();
        let meta = vec![("x-delete-at".to_string(), at.to_string().into_bytes())];
        store.post("a", "c", "o", when, None, &meta).unwrap();
        idx.settle(&store, "a", "c", "o").unwrap();
        assert_eq!(markers(), 1);
    }
    // A write still in flight (newer than what the object shows) keeps
    // its marker through another writer's settle.
    let flight = idx.add(8_000_000_000, ts(9_000), "a", "c", "o").unwrap();
    assert_eq!(idx.settle(&store, "a", "c", "o").unwrap(), 0);
    assert_eq!(markers(), 2);
    // ... and takes it back when it fails.
    idx.withdraw(&store, &flight, ["a", "c", "o"]);
    assert_eq!(markers(), 1);
    // A POST that loses (409) withdraws its own marker only.
    let lost = idx.add(8_100_000_000, ts(1_500), "a", "c", "o").unwrap();
    idx.withdraw(&store, &lost, ["a", "c", "o"]);
    assert_eq!(markers(), 1);
    // An overwrite without an expiry, then a DELETE: nothing is left.
    put(&store, "o", None, ts(3_000));
    assert_eq!(idx.settle(&store, "a", "c", "o").unwrap(), 1);
    assert_eq!(markers(), 0);
    idx.add(9_000_000_000, ts(3_001), "a", "c", "o").unwrap();
    put(&store, "o", Some(9_000_000_000), ts(3_001));
    store.delete("a", "c", "o", ts(3_002)).unwrap();
    assert_eq!(idx.settle(&store, "a", "c", "o").unwrap(), 1);
    assert_eq!(markers(), 0);
    // A failed first PUT leaves no directory behind.
    let first = idx.add(9_000_000_000, ts(4_000), "a", "c", "new").unwrap();
    idx.withdraw(&store, &first, ["a", "c", "new"]);
    assert!(!object_dir_in(&idx.links, &name_hash(&["a", "c", "new"])).exists());
}

#[test]
fn one_sweeper_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let idx = ExpiringIndex::new(dir.path());
    let held = idx.try_lock().unwrap();
    assert!(held.is_some());
    assert!(idx.try_lock().unwrap().is_none());
    drop(held);
    assert!(idx.try_lock().unwrap().is_some());
    assert!(idx.claim_turn(100, 2));
    assert!(!idx.claim_turn(101, 2));
    assert!(idx.claim_turn(102, 2));
}
