//! Where a name goes on disk: the hex MD5 of an account, container or object
//! name. With a salt (`StowageHashPathPrefix` / `StowageHashPathSuffix`,
//! Swift's `swift_hash_path_prefix` / `swift_hash_path_suffix`) it is exactly
//! Swift's `hash_path`: `md5(prefix + "/a[/c[/o]]" + suffix)`, so a client
//! who does not know the secret cannot choose names whose hashes collide.
//! Without one it is the layout Stowage always had (`md5("/a/c/o")`,
//! `md5("a")`, `md5("a/c")`), so roots written before salts existed keep
//! working.
//!
//! A wrong salt would make every stored name invisible, so the root records
//! a fingerprint of the salt it was first used with (`FINGERPRINT_FILE`:
//! never the salt) and `bind_root` refuses a configuration that differs.

use super::error::StoreError;
use md5::{Digest, Md5};
use sha2::Sha256;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// `<root>/<FINGERPRINT_FILE>`: which salt the root's names are hashed with.
pub const FINGERPRINT_FILE: &str = "hash-path-salt.fingerprint";

/// What the fingerprint file says of a root written without a salt.
const UNSALTED: &str = "unsalted";

/// The directories whose file names are hashes of names.
const HASHED_DIRS: [&str; 3] = ["accounts", "containers", "objects"];

/// How names are hashed for one storage root. Debug never shows the salt.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HashPath {
    prefix: String,
    suffix: String,
}

impl fmt::Debug for HashPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPath")
            .field("salted", &self.is_salted())
            .finish()
    }
}

impl HashPath {
    /// The layout without a salt.
    pub fn unsalted() -> HashPath {
        HashPath::default()
    }

    /// Swift's `hash_path` with this prefix and suffix (both empty: unsalted).
    pub fn salted(prefix: &str, suffix: &str) -> HashPath {
        HashPath {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        }
    }

    pub fn is_salted(&self) -> bool {
        !self.prefix.is_empty() || !self.suffix.is_empty()
    }

    /// The hash of an account's DB.
    pub fn account(&self, account: &str) -> String {
        if self.is_salted() {
            self.swift(&[account])
        } else {
            md5_hex(&[account.as_bytes()])
        }
    }

    /// The hash of a container's DB.
    pub fn container(&self, account: &str, container: &str) -> String {
        if self.is_salted() {
            self.swift(&[account, container])
        } else {
            md5_hex(&[account.as_bytes(), b"/", container.as_bytes()])
        }
    }

    /// The hash of an object's directory (and of its expiry marker).
    pub fn object(&self, account: &str, container: &str, object: &str) -> String {
        if self.is_salted() {
            self.swift(&[account, container, object])
        } else {
            crate::store::objects::name_hash(&[account, container, object])
        }
    }

    /// `md5(prefix + "/" + names joined by "/" + suffix)`, hex.
    fn swift(&self, names: &[&str]) -> String {
        let mut parts: Vec<&[u8]> = vec![self.prefix.as_bytes()];
        for name in names {
            parts.push(b"/");
            parts.push(name.as_bytes());
        }
        parts.push(self.suffix.as_bytes());
        md5_hex(&parts)
    }

    /// What the root records: `unsalted`, or `sha256:<hex>` of the salt.
    /// Telling a guess of the salt from it is no easier than from any
    /// hashed file name with a known name in it (an account's DB).
    pub fn fingerprint(&self) -> String {
        if !self.is_salted() {
            return UNSALTED.to_string();
        }
        let mut h = Sha256::new();
        h.update(b"stowage hash_path salt v1\0");
        for part in [&self.prefix, &self.suffix] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("sha256:{}", crate::core::hex::hex(&h.finalize()))
    }
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut md5 = Md5::new();
    for p in parts {
        md5.update(p);
    }
    crate::core::hex::hex(&md5.finalize())
}

/// Checks that `root` was written with `hp`'s salt, and records it when the
/// root has none recorded yet. A root without a record that already holds
/// accounts, containers or objects was written before salts existed, so
/// unsalted. Err (`StoreError::WrongSalt`) when they differ: serving would
/// make every stored name invisible.
pub fn bind_root(root: &Path, hp: &HashPath) -> Result<(), StoreError> {
    let file = root.join(FINGERPRINT_FILE);
    let recorded = match recorded(root)? {
        Some(r) => r,
        None => match record(root, &file, &hp.fingerprint())? {
            // Another process recorded one first (apachectl -t racing a
            // start): that one counts.
            Some(theirs) => theirs,
            None => return Ok(()),
        },
    };
    compare(&file, &recorded, hp)
}

/// `bind_root` without recording anything (`stowage-audit`): Ok also for
/// a root that holds no names and no record.
pub fn check_root(root: &Path, hp: &HashPath) -> Result<(), StoreError> {
    match recorded(root)? {
        Some(r) => compare(&root.join(FINGERPRINT_FILE), &r, hp),
        None => Ok(()),
    }
}

/// The fingerprint the root's names were hashed with, if it can tell.
fn recorded(root: &Path) -> Result<Option<String>, StoreError> {
    match read_record(&root.join(FINGERPRINT_FILE))? {
        Some(r) => Ok(Some(r)),
        None if holds_names(root)? => Ok(Some(UNSALTED.to_string())),
        None => Ok(None),
    }
}

fn compare(file: &Path, recorded: &str, hp: &HashPath) -> Result<(), StoreError> {
    if recorded == hp.fingerprint() {
        return Ok(());
    }
    Err(StoreError::WrongSalt {
        path: file.to_path_buf(),
        detail: mismatch(file, recorded, hp),
    })
}

fn mismatch(file: &Path, recorded: &str, hp: &HashPath) -> String {
    let root = file.parent().unwrap_or(file).display();
    let (configured, written, fix) = match (hp.is_salted(), recorded == UNSALTED) {
        (true, true) => (
            "StowageHashPathPrefix/-Suffix configure a salt",
            format!("storage root {root} was written without one"),
            "remove them (a salt cannot be added to a root that has data)",
        ),
        (true, false) => (
            "the StowageHashPathPrefix/-Suffix configured are not the salt",
            format!(
                "storage root {root} was written with (its fingerprint in {}: {recorded})",
                file.display()
            ),
            "configure the salt the root was written with",
        ),
        (false, _) => (
            "no StowageHashPathPrefix/-Suffix is configured",
            format!(
                "storage root {root} was written with a salt (its fingerprint in {}: {recorded})",
                file.display()
            ),
            "configure the salt the root was written with",
        ),
    };
    format!(
        "{configured}, but {written}: every account, container and object in it would be \
         invisible; {fix}"
    )
}

/// The fingerprint a root recorded, if any.
fn read_record(file: &Path) -> Result<Option<String>, StoreError> {
    match fs::read_to_string(file) {
        Ok(text) => {
            let line = text.trim();
            if line == UNSALTED || line.starts_with("sha256:") {
                Ok(Some(line.to_string()))
            } else {
                Err(StoreError::corrupt(
                    file,
                    "not a hash-path salt fingerprint",
                ))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("reading", file, e)),
    }
}

/// Whether any hashed name is stored under `root`.
fn holds_names(root: &Path) -> Result<bool, StoreError> {
    for dir in HASHED_DIRS {
        let dir = root.join(dir);
        match fs::read_dir(&dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Ok(true);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("listing", &dir, e)),
        }
    }
    Ok(false)
}

/// Writes the record whole under its final name (an unnamed temp file,
/// fsynced, then linked: never half a line, never over another process's
/// record). Some: a record was there first, and this is it.
fn record(root: &Path, file: &Path, fingerprint: &str) -> Result<Option<String>, StoreError> {
    let written = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(super::perms::FILE_MODE)
        .custom_flags(libc::O_TMPFILE)
        .open(root)
        .and_then(|mut f| {
            f.write_all(format!("{fingerprint}\n").as_bytes())?;
            f.sync_all()?;
            crate::core::os::link_anonymous(&f, file)
        });
    match written {
        Ok(()) => {
            if let Ok(dir) = fs::File::open(root) {
                let _ = dir.sync_all();
            }
            Ok(None)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_record(file)?
            .map(Some)
            .ok_or_else(|| StoreError::corrupt(file, "vanished while being recorded")),
        Err(e) => Err(StoreError::io("recording the hash-path salt in", file, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_hashes_are_swifts_hash_path() {
        // md5 hex values computed independently (Python hashlib).
        let hp = HashPath::salted("p", "s");
        assert_eq!(hp.object("a", "c", "o"), "91d0b237560f13fca7c508fc70af8535");
        assert_eq!(hp.account("a"), "14e52dd14404069d2bdcc44a3e224ecb");
        assert_eq!(hp.container("a", "c"), "3aee8bec42b759777a9c5746551a62c2");
        let suffix_only = HashPath::salted("", "changeme");
        assert_eq!(
            suffix_only.object("a", "c", "é"),
            "a83ae05a9229265f9bb35b0c0320a11a"
        );
    }

    #[test]
    fn unsalted_hashes_are_the_layout_stowage_always_had() {
        let hp = HashPath::unsalted();
        assert_eq!(
            hp.object("AUTH_test", "c", "o"),
            "55f2182e9b0819d00895c2e4f33a8fcb"
        );
        assert_eq!(hp.account("AUTH_test"), "9b0054d3ab5fcf311d76923592b3eb90");
        assert_eq!(
            hp.container("AUTH_test", "c"),
            "a68247cd6686dc7dfc87915c54ed866e"
        );
    }

    #[test]
    fn neither_debug_nor_the_fingerprint_shows_the_salt() {
        let hp = HashPath::salted("secret-prefix", "secret-suffix");
        let shown = format!("{hp:?} {}", hp.fingerprint());
        assert!(!shown.contains("secret"), "{shown}");
        assert!(hp.fingerprint().starts_with("sha256:"));
        assert_ne!(
            hp.fingerprint(),
            HashPath::salted("secret-prefixsecret-suffix", "").fingerprint()
        );
        assert_eq!(HashPath::unsalted().fingerprint(), "unsalted");
    }

    #[test]
    fn a_root_keeps_the_salt_it_was_first_used_with() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let a = HashPath::salted("", "one");
        let b = HashPath::salted("", "two");
        bind_root(root, &a).unwrap();
        bind_root(root, &a).unwrap();
        let text = fs::read_to_string(root.join(FINGERPRINT_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", a.fingerprint()));
        for other in [&b, &HashPath::unsalted()] {
            let e = bind_root(root, other).unwrap_err();
            assert!(matches!(e, StoreError::WrongSalt { .. }), "{e}");
            assert!(e.to_string().contains("would be invisible"), "{e}");
        }
        // Nothing but the record is left behind.
        assert_eq!(fs::read_dir(root).unwrap().count(), 1);
    }

    #[test]
    fn a_root_with_names_and_no_record_was_written_unsalted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("accounts/9b0")).unwrap();
        let e = bind_root(root, &HashPath::salted("", "new")).unwrap_err();
        assert!(e.to_string().contains("written without one"), "{e}");
        assert!(!root.join(FINGERPRINT_FILE).exists(), "nothing recorded");
        bind_root(root, &HashPath::unsalted()).unwrap();
        check_root(root, &HashPath::unsalted()).unwrap();
        assert!(check_root(root, &HashPath::salted("", "new")).is_err());
        // Empty hashed directories hold no names.
        let fresh = tempfile::tempdir().unwrap();
        for d in HASHED_DIRS {
            fs::create_dir(fresh.path().join(d)).unwrap();
        }
        check_root(fresh.path(), &HashPath::salted("", "other")).unwrap();
        bind_root(fresh.path(), &HashPath::salted("", "new")).unwrap();
        assert!(check_root(fresh.path(), &HashPath::salted("", "other")).is_err());
        // A fresh root used without a salt records that too.
        let plain = tempfile::tempdir().unwrap();
        bind_root(plain.path(), &HashPath::unsalted()).unwrap();
        let text = fs::read_to_string(plain.path().join(FINGERPRINT_FILE)).unwrap();
        assert_eq!(text, "unsalted\n");
        assert!(bind_root(plain.path(), &HashPath::salted("x", "")).is_err());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_new_salt() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FINGERPRINT_FILE), "garbage").unwrap();
        let e = bind_root(dir.path(), &HashPath::unsalted()).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    }
}
