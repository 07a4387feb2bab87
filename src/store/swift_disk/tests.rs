//! The whole cycle on a temp device: PUT, POST, DELETE, open, cleanup,
//! quarantine, as Swift's `DiskFile` behaves.

use super::*;
use crate::store::hash_path::HashPath;
use crate::store::timestamp::OffsetTimestamp;
use std::fs;
use std::path::Path;

fn md(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// With a reclaim age of ~30 years, so that the 2023 tombstones below stay.
fn object(device: &Path, name: &str) -> DiskFile {
    let hp = HashPath::salted("pre", "suf");
    let loc =
        ObjectLocation::for_name(device, 0, 10, &hp, "AUTH_a", "c", name).expect("part power");
    let settings = Settings {
        reclaim_age_secs: 1 << 30,
        ..Settings::default()
    };
    DiskFile::new(loc, "AUTH_a", "c", name, settings)
}

fn put(df: &DiskFile, ts: &str, body: &[u8], extra: &[(&str, &str)]) -> std::path::PathBuf {
    let mut w = df.create().expect("writer");
    w.write(body).expect("write");
    let mut m = md(&[
        ("X-Timestamp", ts),
        ("Content-Length", &body.len().to_string()),
        ("ETag", &w.etag()),
        ("Content-Type", "text/plain"),
    ]);
    m.extend(md(extra));
    w.put(m).expect("put")
}

#[test]
fn put_post_delete_open() {
    let dev = tempfile::tempdir().expect("tempdir");
    let df = object(dev.path(), "o");
    assert!(matches!(
        df.open(now_secs(), false),
        Err(DiskError::NotFound)
    ));
    let data = put(
        &df,
        "1700000000.00000",
        b"hello",
        &[("X-Object-Meta-A", "1"), ("X-Object-Sysmeta-S", "s")],
    );
    assert_eq!(
        data.file_name().and_then(|n| n.to_str()),
        Some("1700000000.00000.data")
    );
    assert_eq!(
        fs::read(&data).expect("read"),
        b"hello",
        ".data holds only the bytes"
    );
    let tmp = df.location().tmp_dir();
    assert_eq!(
        fs::read_dir(&tmp).expect("tmp").count(),
        0,
        "no temp file left"
    );

    let opened = df.open(now_secs(), false).expect("open");
    assert_eq!(opened.content_length(), 5);
    assert_eq!(
        opened.metadata()["ETag"],
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(opened.metadata()["name"], "/AUTH_a/c/o");

    // POST: user metadata replaced, sysmeta and the data's keys kept, a
    // new Content-Type with its timestamp.
    df.write_metadata(md(&[
        ("X-Timestamp", "1700000001.00000"),
        ("X-Object-Meta-B", "2"),
        ("X-Object-Sysmeta-S", "changed"),
        ("ETag", "bogus"),
        ("Content-Type", "image/png"),
        ("Content-Type-Timestamp", "1700000001.00000"),
    ]))
    .expect("post");
    let opened = df.open(now_secs(), false).expect("open");
    let m = opened.metadata();
    assert_eq!(m.get("X-Object-Meta-A"), None);
    assert_eq!(m["X-Object-Meta-B"], "2");
    assert_eq!(m["X-Object-Sysmeta-S"], "s");
    assert_eq!(m["ETag"], "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(m["Content-Type"], "image/png");
    assert_eq!(m["X-Timestamp"], "1700000001.00000");
    assert_eq!(
        opened.data_timestamp(),
        OffsetTimestamp::parse("1700000000")
    );
    assert_eq!(
        opened.content_type_timestamp(),
        OffsetTimestamp::parse("1700000001")
    );
    assert_eq!(opened.metafile_metadata().and_then(|m| m.get("name")), None);
    let hash_dir = df.location().hash_dir();
    let mut names = file_set::list(&hash_dir).expect("list");
    names.sort();
    assert_eq!(names, ["1700000000.00000.data", "1700000001.00000+0.meta"]);

    // A later PUT makes the .data and .meta obsolete.
    put(&df, "1700000002.00000", b"again", &[]);
    let names = file_set::list(&hash_dir).expect("list");
    assert_eq!(names, ["1700000002.00000.data"]);
    assert_eq!(
        df.open(now_secs(), false).expect("open").metadata()["Content-Type"],
        "text/plain"
    );

    // DELETE with an offset timestamp.
    let ts = OffsetTimestamp::parse("1700000003.00000_0000000000000001").expect("valid");
    df.delete(ts).expect("delete");
    assert_eq!(
        file_set::list(&hash_dir).expect("list"),
        ["1700000003.00000_0000000000000001.ts"]
    );
    match df.open(now_secs(), false) {
        Err(DiskError::Deleted {
            timestamp,
            metadata,
        }) => {
            assert_eq!(timestamp, ts);
            assert_eq!(metadata["name"], "/AUTH_a/c/o");
        }
        other => panic!("{other:?}"),
    }
    let invalid =
        fs::read_to_string(df.location().partition_dir().join("hashes.invalid")).expect("read");
    let suffix = layout::suffix(&df.location().hash);
    assert_eq!(
        invalid,
        format!("{suffix}\n").repeat(4),
        "one line per change"
    );

    // With Swift's default reclaim age (a week) a tombstone from 2023 is
    // reclaimed by the cleanup after its own write, and the directory goes.
    let weekly = DiskFile::new(
        df.location().clone(),
        "AUTH_a",
        "c",
        "o",
        Settings::default(),
    );
    weekly
        .delete(OffsetTimestamp::parse("1700000004").expect("valid"))
        .expect("delete");
    assert!(!hash_dir.exists());
    assert!(matches!(
        weekly.open(now_secs(), false),
        Err(DiskError::NotFound)
    ));
}

#[test]
fn expired_collided_and_damaged_objects() {
    let dev = tempfile::tempdir().expect("tempdir");
    let df = object(dev.path(), "x");
    put(
        &df,
        "1700000000.00000",
        b"abc",
        &[("X-Delete-At", "1700000100")],
    );
    assert!(df.open(1700000050.0, false).is_ok());
    assert!(matches!(
        df.open(1700000100.0, false),
        Err(DiskError::Expired { .. })
    ));
    assert!(
        df.open(1700000100.0, true).is_ok(),
        "X-Backend-Open-Expired"
    );

    // The same hash directory asked for under another name: a collision.
    let other = DiskFile::new(
        df.location().clone(),
        "AUTH_a",
        "c",
        "y",
        Settings::default(),
    );
    assert!(matches!(
        other.open(now_secs(), true),
        Err(DiskError::Collision { .. })
    ));

    // A .data whose length is not its Content-Length is quarantined.
    let data = df.location().hash_dir().join("1700000000.00000.data");
    fs::OpenOptions::new()
        .append(true)
        .open(&data)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(b"more")
        })
        .expect("append");
    match df.open(1700000050.0, false) {
        Err(DiskError::Quarantined { to, reason }) => {
            assert!(
                reason.contains("does not match actual object size"),
                "{reason}"
            );
            assert!(to.join("1700000000.00000.data").exists());
            assert!(to.starts_with(dev.path().join("quarantined/objects")));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        df.open(now_secs(), false),
        Err(DiskError::NotFound)
    ));

    // Metadata whose checksum fails is quarantined too.
    put(&df, "1700000001.00000", b"abc", &[]);
    let data = df.location().hash_dir().join("1700000001.00000.data");
    xattr::set(
        &data,
        metadata::CHECKSUM_KEY,
        b"00000000000000000000000000000000",
    )
    .expect("xattr");
    assert!(matches!(
        df.open(now_secs(), false),
        Err(DiskError::Quarantined { .. })
    ));
}

#[test]
fn a_writer_dropped_before_put_leaves_nothing() {
    let dev = tempfile::tempdir().expect("tempdir");
    let df = object(dev.path(), "o");
    let mut w = df.create().expect("writer");
    w.write(b"partial").expect("write");
    drop(w);
    assert_eq!(
        fs::read_dir(df.location().tmp_dir()).expect("tmp").count(),
        0
    );
    assert!(!df.location().hash_dir().exists());
    let w = df.create().expect("writer");
    let e = w
        .put(md(&[("X-Timestamp", "yesterday")]))
        .expect_err("bad timestamp");
    assert!(matches!(e, DiskError::InvalidTimestamp { .. }), "{e}");
    assert_eq!(
        fs::read_dir(df.location().tmp_dir()).expect("tmp").count(),
        0
    );
}

#[test]
fn a_two_step_write_keeps_the_older_version_until_cleanup_or_discard() {
    let dev = tempfile::tempdir().expect("tempdir");
    let df = object(dev.path(), "two-step");
    put(&df, "1700000000.00000", b"old", &[]);
    let write = |ts: &str| {
        let mut w = df.create().expect("writer");
        w.write(b"new").expect("write");
        let m = md(&[
            ("X-Timestamp", ts),
            ("Content-Length", "3"),
            ("ETag", &w.etag()),
        ]);
        w.put_keeping_older(m).expect("put")
    };
    let newer = write("1700000001.00000");
    assert_eq!(
        file_set::list(&df.location().hash_dir())
            .expect("list")
            .len(),
        2
    );
    df.discard(&newer).expect("discard");
    let opened = df.open(now_secs(), false).expect("open");
    assert_eq!(
        opened.data_timestamp(),
        OffsetTimestamp::parse("1700000000")
    );
    write("1700000002.00000");
    assert_eq!(
        file_set::list(&df.location().hash_dir())
            .expect("list")
            .len(),
        2
    );
    let cleaned = df.cleanup().expect("cleanup");
    assert_eq!(cleaned.remaining, ["1700000002.00000.data"]);
    assert!(
        df.discard(Path::new("/etc/passwd")).is_err(),
        "only the object's own files"
    );
}

// /tmp is ext4 without ea_inode here: Swift's full metadata does not fit
// in one inode's xattrs. The PUT fails with NoSpace (Swift's 507) and
// leaves neither a temp file nor an object behind.
#[test]
fn metadata_that_does_not_fit_fails_the_put_cleanly() {
    let dev = tempfile::tempdir_in("/tmp").expect("tempdir");
    let df = object(dev.path(), "big");
    let mut w = df.create().expect("writer");
    w.write(b"x").expect("write");
    let mut m = md(&[
        ("X-Timestamp", "1700000000.00000"),
        ("Content-Length", "1"),
        ("ETag", &w.etag()),
    ]);
    for i in 0..90 {
        m.insert(format!("X-Object-Meta-{i:0>100}"), "v".repeat(256));
    }
    let e = w.put(m).expect_err("does not fit on ext4");
    assert!(matches!(e, DiskError::NoSpace { .. }), "{e}");
    assert!(e.is_insufficient_storage());
    assert_eq!(
        fs::read_dir(df.location().tmp_dir()).expect("tmp").count(),
        0
    );
    assert!(!df.location().hash_dir().exists());
    assert!(matches!(
        df.open(now_secs(), false),
        Err(DiskError::NotFound)
    ));
}
