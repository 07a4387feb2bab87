//! The part power of a storage root's object layout, fixed for the root's
//! life and recorded in it (`<root>/object-part-power`, next to the
//! hash-path fingerprint): objects live in
//! `<root>/objects[-N]/<partition>/<suffix>/<hash>/`, the partition being
//! the top `part_power` bits of the name hash, so reading a root with
//! another part power would find nothing. Swift's SAIO builds its rings
//! with part power 10, and so does a single Stowage node.
//!
//! A root whose `objects/` already holds files but has no record was
//! written by Stowage before the switch to Swift's format (issue 20:
//! `objects/<hash[29..32]>/<hash>/<ts>.data` with a trailer). That format
//! is no longer read, and such a root is refused with a message rather
//! than served as if empty.

use super::error::StoreError;
use std::fs;
use std::io;
use std::path::Path;

/// `<root>/<PART_POWER_FILE>`: the part power the root's objects use.
pub const PART_POWER_FILE: &str = "object-part-power";

/// The part power of a new root: Swift's SAIO's (`swift-ring-builder
/// object.builder create 10 3 1`).
pub const DEFAULT_PART_POWER: u8 = 10;

/// Checks that `root` uses `part_power`, recording it when the root has
/// no record and no objects yet.
pub fn bind_root(root: &Path, part_power: u8) -> Result<(), StoreError> {
    let file = root.join(PART_POWER_FILE);
    match read_record(&file)? {
        Some(recorded) => compare(root, recorded, part_power),
        None => {
            refuse_old_layout(root)?;
            super::perms::create_dir_all(root).map_err(|e| StoreError::io("creating", root, e))?;
            super::small_file::write_whole(&file, format!("{part_power}\n").as_bytes())
                .map_err(|e| StoreError::io("writing", &file, e))?;
            // Another process may have recorded another value meanwhile.
            match read_record(&file)? {
                Some(recorded) => compare(root, recorded, part_power),
                None => Ok(()),
            }
        }
    }
}

/// `bind_root` without recording anything (`stowage-audit`).
pub fn check_root(root: &Path, part_power: u8) -> Result<(), StoreError> {
    match read_record(&root.join(PART_POWER_FILE))? {
        Some(recorded) => compare(root, recorded, part_power),
        None => refuse_old_layout(root),
    }
}

fn compare(root: &Path, recorded: u8, part_power: u8) -> Result<(), StoreError> {
    if recorded == part_power {
        return Ok(());
    }
    Err(StoreError::WrongLayout {
        path: root.join(PART_POWER_FILE),
        detail: format!(
            "storage root {} stores objects with part power {recorded} (recorded in {}), \
             this server uses {part_power}: every object in it would be invisible",
            root.display(),
            root.join(PART_POWER_FILE).display()
        ),
    })
}

/// Err when `<root>/objects` is in Stowage's old format: its directories
/// hold hash directories (32 hex digits) straight away, where Swift's
/// partitions hold suffix directories (3 hex digits) and the partition's
/// `hashes.invalid` / `.lock`. The first directory that holds anything
/// tells.
fn refuse_old_layout(root: &Path) -> Result<(), StoreError> {
    let objects = root.join("objects");
    let tops = match fs::read_dir(&objects) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("listing", &objects, e)),
    };
    for top in tops {
        let top = top.map_err(|e| StoreError::io("listing", &objects, e))?;
        let Ok(inner) = fs::read_dir(top.path()) else {
            continue;
        };
        let mut names = inner
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .peekable();
        if names.peek().is_none() {
            continue;
        }
        if !names.any(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Ok(());
        }
        return Err(StoreError::WrongLayout {
            path: objects.clone(),
            detail: format!(
                "storage root {} holds objects in Stowage's old format \
                 ({}/<hash[29..32]>/<hash>/ with a metadata trailer), which this version no \
                 longer reads: it stores objects only in Swift's on-disk format. There is no \
                 migration: move the root aside (or copy the objects out with an older \
                 Stowage) and start with an empty root",
                root.display(),
                objects.display()
            ),
        });
    }
    Ok(())
}

fn read_record(file: &Path) -> Result<Option<u8>, StoreError> {
    match fs::read_to_string(file) {
        Ok(text) => match text.trim().parse::<u8>() {
            Ok(p) if p <= super::swift_disk::layout::MAX_PART_POWER => Ok(Some(p)),
            _ => Err(StoreError::corrupt(file, "not a part power (0 to 32)")),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("reading", file, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_refuses_a_mismatch_and_the_old_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        check_root(root, 10).unwrap();
        bind_root(root, 10).unwrap();
        assert_eq!(
            fs::read_to_string(root.join(PART_POWER_FILE)).unwrap(),
            "10\n"
        );
        bind_root(root, 10).unwrap();
        let e = bind_root(root, 12).unwrap_err();
        assert!(matches!(e, StoreError::WrongLayout { .. }), "{e}");
        assert!(e.to_string().contains("part power 10"), "{e}");

        let old = tempfile::tempdir().unwrap();
        let objdir = old
            .path()
            .join("objects/e6b/c986cba3005b6c92e63df5b00b653e6b");
        fs::create_dir_all(&objdir).unwrap();
        for e in [bind_root(old.path(), 10), check_root(old.path(), 10)] {
            let e = e.unwrap_err();
            assert!(e.to_string().contains("old format"), "{e}");
        }
        assert!(!old.path().join(PART_POWER_FILE).exists());

        // Swift's layout without a record (written by an ObjectStore
        // alone) is not mistaken for the old one.
        let new = tempfile::tempdir().unwrap();
        let s = crate::store::objects::ObjectStore::new(new.path());
        let n = crate::store::objects::NewObject {
            timestamp: crate::store::Timestamp::now(),
            content_type: "text/plain".into(),
            meta: vec![],
            expected_etag: None,
            max_size: 10,
        };
        s.put("a", "c", "o", &mut &b"x"[..], &n, None).unwrap();
        check_root(new.path(), 10).unwrap();
        bind_root(new.path(), 10).unwrap();
    }
}
