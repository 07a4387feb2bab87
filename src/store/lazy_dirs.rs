//! Directories made on first use in a worker, not when the vhost is built:
//! the host builds vhosts in its parent process, which may run as another
//! user than its workers.

use super::StoreError;
use std::path::PathBuf;
use std::sync::OnceLock;

pub struct LazyDirs {
    dirs: Vec<PathBuf>,
    /// Set once every directory exists.
    ready: OnceLock<()>,
}

impl LazyDirs {
    /// Touches nothing on disk.
    pub fn new(dirs: Vec<PathBuf>) -> LazyDirs {
        LazyDirs {
            dirs,
            ready: OnceLock::new(),
        }
    }

    /// Makes the directories (with their parents) unless done before.
    pub fn ensure(&self) -> Result<(), StoreError> {
        if self.ready.get().is_none() {
            for dir in &self.dirs {
                super::perms::create_dir_all(dir)
                    .map_err(|e| StoreError::io("creating", dir, e))?;
            }
            let _ = self.ready.set(());
        }
        Ok(())
    }
}
