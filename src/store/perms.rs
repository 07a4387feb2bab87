//! Who may touch the storage root: nobody but the server's user.
//!
//! Everything the library creates under the root is owner-only (0600
//! files, 0700 directories), by explicit modes rather than the umask (the
//! host's umask is also its logs'). And as sshd's `StrictModes` does for a
//! user's keys, a root that another local user could write into (plant a
//! token file, a container DB with an ACL, a marker) is refused at start-up
//! (`check_root`).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every directory made under the root.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file made under the root.
pub const FILE_MODE: u32 = 0o600;

/// The directories the library makes directly under a root; `check_root`
/// looks at each that exists.
pub const TOP_DIRS: &[&str] = &[
    "objects",
    "tmp",
    "intents",
    "accounts",
    "containers",
    "tokens",
    "expiring",
    "quarantined",
    "run",
];

/// Makes one directory, owner-only.
pub fn create_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new().mode(DIR_MODE).create(path)
}

/// Makes a directory and its missing parents, each owner-only.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
}

/// Creates (or truncates) a file for writing; a new one is owner-only.
pub fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Creates an empty owner-only file unless one exists. SQLite creates a
/// database with mode 0644 (less the umask) and gives its `-wal` and
/// `-shm` files the database file's mode, so making the file first keeps
/// all three owner-only.
pub fn precreate(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map(drop)
}

/// sshd's rule for a path it trusts: owned by us or root, and writable by
/// nobody else. `what` names it in the message.
fn check_one(path: &Path, meta: &fs::Metadata, euid: u32, what: &str) -> Result<(), String> {
    let mode = meta.mode() & 0o7777;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(format!(
            "{what} {} is not a directory (a symbolic link or a file): refusing to use it",
            path.display()
        ));
    }
    if meta.uid() != euid && meta.uid() != 0 {
        return Err(format!(
            "{what} {} belongs to uid {}, not to the server's user (uid {euid}): another \
             local user could plant tokens or data in it; chown it to the server's user",
            path.display(),
            meta.uid()
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} {} is writable by {} (mode {mode:04o}): another local user could plant \
             tokens or data in it; run chmod go-w on it",
            path.display(),
            match mode & 0o022 {
                0o020 => "its group",
                0o002 => "every user",
                _ => "its group and every user",
            }
        ));
    }
    Ok(())
}

/// Checks the storage root and the directories the library made in it
/// before serving from it, as the user the workers run as (`euid`). Err
/// (refuse to start) when another local user could write into any of them;
/// a directory of ours that others can read or search is tightened to
/// 0700 (roots made by older versions were 0755 all through), and each
/// such change comes back as a note to log. A root that does not exist yet
/// is fine: it is made owner-only.
pub fn check_root(root: &Path, euid: u32) -> Result<Vec<String>, String> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("storage root {}: {e}", root.display())),
    };
    // A root given as a symbolic link is the operator's choice: judge the
    // directory it points to.
    let meta = if meta.file_type().is_symlink() {
        fs::metadata(root).map_err(|e| format!("storage root {}: {e}", root.display()))?
    } else {
        meta
    };
    check_one(root, &meta, euid, "storage root")?;
    let mut notes = Vec::new();
    for name in TOP_DIRS {
        let dir = root.join(name);
        let meta = match fs::symlink_metadata(&dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        check_one(&dir, &meta, euid, "storage directory")?;
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 && meta.uid() == euid {
            fs::set_permissions(&dir, fs::Permissions::from_mode(DIR_MODE)).map_err(|e| {
                format!("cannot make {} owner-only (chmod 0700): {e}", dir.display())
            })?;
            notes.push(format!(
                "{} was readable by other local users (mode {mode:04o}): made it 0700",
                dir.display()
            ));
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    fn me() -> u32 {
        fs::metadata("/proc/self").unwrap().uid()
    }

    #[test]
    fn made_owner_only_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        create_dir_all(&dir.path().join("a/b")).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        create_dir(&dir.path().join("c")).unwrap();
        assert_eq!(mode(&dir.path().join("c")), 0o700);
        create_file(&dir.path().join("f")).unwrap();
        assert_eq!(mode(&dir.path().join("f")), 0o600);
        precreate(&dir.path().join("g")).unwrap();
        assert_eq!(mode(&dir.path().join("g")), 0o600);
        // precreate keeps an existing file's bytes.
        fs::write(dir.path().join("g"), b"x").unwrap();
        precreate(&dir.path().join("g")).unwrap();
        assert_eq!(fs::read(dir.path().join("g")).unwrap(), b"x");
    }

    #[test]
    fn a_root_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let uid = me();
        assert_eq!(check_root(&root, uid), Ok(vec![]), "missing: made later");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_root(&root, uid).unwrap_err();
        assert!(e.contains("writable by its group and every user"), "{e}");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o770)).unwrap();
        let e = check_root(&root, uid).unwrap_err();
        assert!(e.contains("writable by its group (mode 0770)"), "{e}");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check_root(&root, uid), Ok(vec![]));
        // Owned by someone else (as seen by a server running as uid+1).
        if uid != 0 {
            let e = check_root(&root, uid + 1).unwrap_err();
            assert!(e.contains(&format!("belongs to uid {uid}")), "{e}");
        }
        // tokens/ writable by others, or a link in its place.
        let tokens = root.join("tokens");
        fs::create_dir(&tokens).unwrap();
        fs::set_permissions(&tokens, fs::Permissions::from_mode(0o1777)).unwrap();
        let e = check_root(&root, uid).unwrap_err();
        assert!(e.contains("tokens is writable by"), "{e}");
        fs::remove_dir(&tokens).unwrap();
        std::os::unix::fs::symlink(dir.path(), &tokens).unwrap();
        let e = check_root(&root, uid).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
        fs::remove_file(&tokens).unwrap();
        // A readable one of ours is tightened, and said so.
        fs::create_dir(&tokens).unwrap();
        fs::set_permissions(&tokens, fs::Permissions::from_mode(0o755)).unwrap();
        let notes = check_root(&root, uid).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(mode(&tokens), 0o700);
        assert_eq!(check_root(&root, uid), Ok(vec![]));
    }
}
