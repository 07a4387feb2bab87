//! Who may touch the storage root: nobody but the server's user.
//!
//! Everything the library creates under the root is owner-only (0600
//! files, 0700 directories), by explicit modes rather than the umask (the
//! host's umask is also its logs').

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Mode of every directory made under the root.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file made under the root.
pub const FILE_MODE: u32 = 0o600;

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
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
}
