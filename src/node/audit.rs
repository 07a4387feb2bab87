//! The on-demand audit of a storage root (`stowage-audit ROOT`): every
//! SQLite DB gets `PRAGMA quick_check`, every object's current `.data` file
//! is hashed against its ETag, and bad objects are quarantined exactly as a
//! GET would (file moved aside, listing row dropped, record written).
//!
//! Safe beside a running server: DBs are opened as ordinary readers (WAL:
//! they never block a writer), objects are read with `pread`, and quarantine
//! is a rename of the one bad version (a newer PUT's files stay).

use crate::node::integrity;
use crate::store::catalog::Catalog;
use crate::store::hash_path::{self, HashPath};
use crate::store::objects::{content_md5, ObjectStore};
use crate::store::part_power;
use crate::store::quarantine::{Evidence, Quarantine};
use crate::store::swift_disk::layout;
use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one audit found.
#[derive(Debug, Default)]
pub struct Report {
    pub dbs_checked: usize,
    pub objects_checked: usize,
    /// One line per damaged DB.
    pub bad_dbs: Vec<String>,
    /// One line per quarantined object.
    pub quarantined: Vec<String>,
    /// What could not be checked.
    pub errors: Vec<String>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.bad_dbs.is_empty() && self.quarantined.is_empty() && self.errors.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "stowage-audit: {} DBs checked, {} damaged; {} objects checked, {} quarantined; {} errors",
            self.dbs_checked,
            self.bad_dbs.len(),
            self.objects_checked,
            self.quarantined.len(),
            self.errors.len()
        )
    }
}

/// Audits `root`, whose names are hashed by `hash_path` (the vhost's
/// salt: a root written with another is refused, as the server refuses
/// it); `say` gets each finding as it is made.
pub fn run(
    root: &Path,
    hash_path: &HashPath,
    say: &mut dyn FnMut(&str),
) -> Result<Report, StoreError> {
    hash_path::check_root(root, hash_path)?;
    part_power::check_root(root, part_power::DEFAULT_PART_POWER)?;
    let mut report = Report::default();
    let mut names = HashMap::new();
    for db in db_files(&root.join("containers"))? {
        report.dbs_checked += 1;
        match check_db(&db, Some((&mut names, hash_path))) {
            Ok(()) => {}
            Err(line) => note(&mut report.bad_dbs, say, line),
        }
    }
    for db in db_files(&root.join("accounts"))? {
        report.dbs_checked += 1;
        if let Err(line) = check_db(&db, None) {
            note(&mut report.bad_dbs, say, line);
        }
    }
    let catalog = Catalog::with_hash_path(root, hash_path.clone())?;
    let quarantine = Quarantine::new(root);
    for dir in object_dirs(root)? {
        let hash = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut name = names.get(hash).cloned();
        let found = match ObjectStore::open_dir(&dir) {
            Ok(None) => continue,
            Ok(Some(obj)) => {
                report.objects_checked += 1;
                // Unlisted objects are named by the name their file stores.
                name = name.or_else(|| obj.name.as_deref().and_then(split_name));
                match content_md5(&obj.file, obj.meta.size) {
                    Ok(actual) if actual == obj.meta.etag => continue,
                    Ok(actual) => (obj.path, "MD5 mismatch".into(), obj.meta.etag, actual),
                    Err(e) => {
                        let line = format!("reading {}: {e}", obj.path.display());
                        note(&mut report.errors, say, line);
                        continue;
                    }
                }
            }
            Err(StoreError::Corrupt { path, detail })
                if path.extension().is_some_and(|e| e == "data") =>
            {
                report.objects_checked += 1;
                (path, detail, String::new(), String::new())
            }
            Err(e) => {
                note(&mut report.errors, say, e.to_string());
                continue;
            }
        };
        let (path, reason, expected, actual) = found;
        let evidence = Evidence {
            reason,
            expected,
            actual,
            name,
        };
        match integrity::quarantine(&quarantine, &catalog, &evidence, &path) {
            Ok(Some(line)) => note(&mut report.quarantined, say, line),
            Ok(None) => {}
            Err(e) => note(&mut report.errors, say, format!("quarantining: {e}")),
        }
    }
    Ok(report)
}

/// `/account/container/object` as the three names.
fn split_name(full: &str) -> Option<(String, String, String)> {
    let mut parts = full.strip_prefix('/')?.splitn(3, '/');
    let (a, c, o) = (parts.next()?, parts.next()?, parts.next()?);
    Some((a.to_string(), c.to_string(), o.to_string()))
}

fn note(list: &mut Vec<String>, say: &mut dyn FnMut(&str), line: String) {
    say(&line);
    list.push(line);
}

/// The names of objects by the hash of their directory.
type Names = HashMap<String, (String, String, String)>;

/// `PRAGMA quick_check`, and for a container DB the hash -> name map of its
/// live objects (so quarantined objects can be named and unlisted).
fn check_db(path: &Path, names: Option<(&mut Names, &HashPath)>) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("damaged DB {}: {e}", path.display());
    // Read-write without CREATE: an ordinary reader of a WAL DB.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| fail(&e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| fail(&e))?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(|e| fail(&e))?;
    if problems != ["ok"] {
        return Err(fail(&problems.join("; ")));
    }
    if let Some((names, hash_path)) = names {
        read_names(&conn, names, hash_path).map_err(|e| fail(&e))?;
    }
    Ok(())
}

fn read_names(conn: &Connection, names: &mut Names, hash_path: &HashPath) -> rusqlite::Result<()> {
    let (account, container): (String, String) = match conn.query_row(
        "SELECT account, container FROM container_info WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ) {
        Ok(v) => v,
        Err(rusqlite::Error::QueryReturnedNoRows) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut st = conn.prepare("SELECT name FROM object WHERE deleted = 0")?;
    for name in st.query_map([], |r| r.get::<_, String>(0))? {
        let name = name?;
        let hash = hash_path.object(&account, &container, &name);
        names.insert(hash, (account.clone(), container.clone(), name));
    }
    Ok(())
}

/// `<dir>/<xxx>/<hash>.db`, sorted.
fn db_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out: Vec<PathBuf> = two_levels(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    out.sort();
    Ok(out)
}

/// Every hash directory, `<root>/objects[-N]/<partition>/<suffix>/<hash>/`,
/// sorted.
fn object_dirs(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for data_dir in list(root)? {
        let is_data_dir = data_dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| layout::parse_policy_dir(layout::DATADIR_BASE, n))
            .is_some();
        if !is_data_dir || !data_dir.is_dir() {
            continue;
        }
        // <objects[-N]>/<partition>/<suffix>/<hash>
        for partition in list(&data_dir)? {
            if !partition.is_dir() {
                continue;
            }
            for suffix in list(&partition)? {
                if suffix.is_dir() {
                    out.extend(list(&suffix)?.into_iter().filter(|p| p.is_dir()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn two_levels(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for top in list(dir)? {
        if top.is_dir() {
            out.extend(list(&top)?);
        }
    }
    Ok(out)
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("listing", dir, e)),
    };
    entries
        .map(|e| {
            e.map(|e| e.path())
                .map_err(|e| StoreError::io("listing", dir, e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::catalog::{ListingQuery, ObjectRecord};
    use crate::store::objects::NewObject;
    use crate::store::Timestamp;

    fn put(root: &Path, catalog: &Catalog, name: &str, body: &[u8]) -> PathBuf {
        put_salted(root, &HashPath::unsalted(), catalog, name, body)
    }

    fn put_salted(
        root: &Path,
        hp: &HashPath,
        catalog: &Catalog,
        name: &str,
        body: &[u8],
    ) -> PathBuf {
        let store = ObjectStore::with_hash_path(root, hp.clone());
        let new = NewObject {
            timestamp: Timestamp::now(),
            content_type: "text/plain".into(),
            meta: vec![],
            expected_etag: None,
            max_size: 1 << 20,
        };
        let m = store
            .put("a", "c", name, &mut &body[..], &new, None)
            .unwrap();
        let rec = ObjectRecord {
            name: name.into(),
            timestamp: m.timestamp,
            size: m.size,
            content_type: m.content_type,
            etag: m.etag,
        };
        assert!(catalog.object_put("a", "c", &rec).unwrap());
        store.open("a", "c", name).unwrap().unwrap().path
    }

    fn listed(catalog: &Catalog) -> Vec<String> {
        catalog
            .list_objects("a", "c", &ListingQuery::default())
            .unwrap()
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                crate::store::catalog::ListingEntry::Item(r) => Some(r.name),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_and_quarantines_a_flipped_byte_and_a_garbage_db() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let catalog = Catalog::new(root).unwrap();
        catalog
            .container_create(
                "a",
                "c",
                Timestamp::now(),
                &[],
                crate::store::catalog::PolicyChoice::default(),
            )
            .unwrap();
        let good = put(root, &catalog, "good", b"fine bytes");
        let bad = put(root, &catalog, "bad", b"soon flipped");
        let mut bytes = fs::read(&bad).unwrap();
        bytes[0] ^= 0x20;
        fs::write(&bad, bytes).unwrap();

        let clean_before = run(root, &HashPath::unsalted(), &mut |_| {}).unwrap();
        assert_eq!(clean_before.quarantined.len(), 1);
        assert!(clean_before.quarantined[0].contains("/a/c/bad"));
        assert!(!bad.exists());
        assert!(good.exists());
        assert_eq!(listed(&catalog), ["good"]);
        assert_eq!(clean_before.objects_checked, 2);

        // A second run finds nothing more.
        let again = run(root, &HashPath::unsalted(), &mut |_| {}).unwrap();
        assert!(again.clean(), "{again:?}");
        assert_eq!(again.objects_checked, 1);

        let db = db_files(&root.join("containers")).unwrap().remove(0);
        drop(catalog);
        fs::write(&db, vec![0x5au8; 8192]).unwrap();
        let damaged = run(root, &HashPath::unsalted(), &mut |_| {}).unwrap();
        assert_eq!(damaged.bad_dbs.len(), 1, "{damaged:?}");
        assert!(damaged.bad_dbs[0].contains(&db.display().to_string()));
        assert!(damaged.bad_dbs[0].contains("not a database"));
    }

    #[test]
    fn a_salted_root_is_audited_with_its_salt_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let hp = HashPath::salted("", "audit-salt");
        let catalog = Catalog::with_hash_path(root, hp.clone()).unwrap();
        hash_path::bind_root(root, &hp).unwrap();
        catalog
            .container_create(
                "a",
                "c",
                Timestamp::now(),
                &[],
                crate::store::catalog::PolicyChoice::default(),
            )
            .unwrap();
        put_salted(root, &hp, &catalog, "good", b"fine");
        let bad = put_salted(root, &hp, &catalog, "bad", b"to be flipped");
        let mut bytes = fs::read(&bad).unwrap();
        bytes[0] ^= 0x20;
        fs::write(&bad, bytes).unwrap();

        for wrong in [HashPath::unsalted(), HashPath::salted("", "other")] {
            let e = run(root, &wrong, &mut |_| {}).unwrap_err();
            assert!(matches!(e, StoreError::WrongSalt { .. }), "{e}");
            assert!(bad.exists(), "a refused audit touches nothing");
        }
        let report = run(root, &hp, &mut |_| {}).unwrap();
        assert_eq!(report.quarantined.len(), 1, "{report:?}");
        assert!(report.quarantined[0].contains("/a/c/bad"), "{report:?}");
        assert_eq!(listed(&catalog), ["good"]);
    }
}
