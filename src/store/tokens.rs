//! Tempauth's tokens, shared by all of the host's worker processes through
//! files under `<root>/tokens/`, named by the SHA-256 of the token (the
//! token itself is never written down), with a per-process cache in front:
//!
//! ```text
//! <root>/tokens/<sha256(token)>                                login, expiry
//! <root>/tokens/users/<sha256(login)[..32]>/<expiry>-<sha256(token)>   same file
//! ```
//! The second name (a hard link) indexes a user's tokens by expiry: the
//! reaper (`reap`, on the expiry sweep's node-wide turn) removes expired
//! ones without their being presented, and a user holds at most
//! `MAX_TOKENS_PER_USER` live tokens (the oldest go first).

use crate::core::hex::hex;
use crate::store::small_file::write_whole;
use crate::store::{StoreError, Timestamp};
use parking_lot::{Mutex, MutexGuard};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cap of the per-process cache; it is simply emptied when full.
const CACHE_MAX: usize = 10_000;
/// Live tokens one user may hold; issuing one more removes the oldest (a
/// process that cached a removed token accepts it until it expires).
pub const MAX_TOKENS_PER_USER: usize = 1000;
/// Tokens an issue removes at most (the user's oldest beyond the cap, and
/// expired ones).
const ISSUE_TRIM_MAX: usize = 16;
/// Index entries the reaper reads in one pass, at most (it reads one user's
/// directory at least).
const REAP_READ_BUDGET: usize = 4096;

pub struct TokenStore {
    dir: PathBuf,
    /// `dir/users`: the per-user index.
    users: PathBuf,
    life_secs: u64,
    /// Where this process's next reaper pass starts among the users.
    reap_from: AtomicUsize,
    /// token hash -> (login, expiry)
    cache: Mutex<HashMap<String, (String, Timestamp)>>,
}

impl TokenStore {
    /// Touches nothing on disk: the directory is made by the first token a
    /// worker issues (the host may build vhosts as another user).
    pub fn new(root: &Path, life_secs: u64) -> TokenStore {
        TokenStore {
            dir: root.join("tokens"),
            users: root.join("tokens").join("users"),
            life_secs,
            reap_from: AtomicUsize::new(0),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn after_fork(&self) {
        self.cache_lock().clear();
    }

    fn cache_lock(&self) -> MutexGuard<'_, HashMap<String, (String, Timestamp)>> {
        self.cache.lock()
    }

    /// A new random token for `login`, and its lifetime in seconds.
    pub fn issue(&self, login: &str) -> Result<(String, u64), StoreError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| {
            StoreError::io(
                "drawing random bytes for",
                &self.dir,
                io::Error::other(e.to_string()),
            )
        })?;
        let token = format!("AUTH_tk{}", hex(&raw));
        let expires = Timestamp::from_units(Timestamp::now().units() + self.life_secs * 100_000);
        let hash = token_hash(&token);
        let path = self.dir.join(&hash);
        let record = format!("{login}\n{}\n", expires.normal());
        // Indexed first, then named: a crash in between leaves an index
        // entry the reaper removes, never a token it cannot find.
        let user_dir = self.user_dir(login);
        let entry = user_dir.join(format!("{}-{hash}", expires.normal()));
        write_in_dir(&entry, || write_whole(&entry, record.as_bytes()))
            .map_err(|e| StoreError::io("writing token", &entry, e))?;
        if let Err(e) = fs::hard_link(&entry, &path) {
            let _ = fs::remove_file(&entry);
            return Err(StoreError::io("writing token", &path, e));
        }
        // Keeps the user within the cap (a few removals at most: every
        // issue trims); expired tokens are mostly the reaper's.
        self.trim(&user_dir, Timestamp::now(), ISSUE_TRIM_MAX);
        let mut cache = self.cache_lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (login.to_string(), expires));
        Ok((token, self.life_secs))
    }

    /// The login a token belongs to, if it is known and not expired.
    pub fn lookup(&self, token: &str) -> Result<Option<String>, StoreError> {
        if !token.starts_with("AUTH_tk") || token.len() != 39 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let now = Timestamp::now();
        if let Some((login, expires)) = self.cache_lock().get(&hash) {
            return Ok((*expires > now).then(|| login.clone()));
        }
        let path = self.dir.join(&hash);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("reading token", &path, e)),
        };
        let mut lines = text.lines();
        let (Some(login), Some(expires)) = (lines.next(), lines.next().and_then(Timestamp::parse))
        else {
            return Err(StoreError::corrupt(&path, "malformed token file"));
        };
        if expires <= now {
            let _ = fs::remove_file(&path);
            let entry = self
                .user_dir(login)
                .join(format!("{}-{hash}", expires.normal()));
            let _ = fs::remove_file(entry);
            return Ok(None);
        }
        let mut cache = self.cache_lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (login.to_string(), expires));
        Ok(Some(login.to_string()))
    }
}

impl TokenStore {
    fn user_dir(&self, login: &str) -> PathBuf {
        let h = token_hash(login);
        self.users.join(&h[..32])
    }

    /// Removes a user's expired tokens, and the oldest beyond
    /// `MAX_TOKENS_PER_USER`; gives up after `max_removed`. Returns how many
    /// index entries it read and how many tokens it removed.
    fn trim(&self, user_dir: &Path, now: Timestamp, max_removed: usize) -> (usize, usize) {
        let Ok(entries) = fs::read_dir(user_dir) else {
            return (0, 0);
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        let read = names.len();
        names.sort_unstable();
        let excess = names.len().saturating_sub(MAX_TOKENS_PER_USER);
        let mut removed = 0;
        for (i, name) in names.iter().enumerate() {
            if removed >= max_removed {
                break;
            }
            let parsed = name
                .split_once('-')
                .and_then(|(exp, hash)| Some((Timestamp::parse(exp)?, hash)))
                .filter(|(_, hash)| {
                    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                });
            let (gone, hash) = match parsed {
                Some((exp, hash)) => (exp <= now || i < excess, Some(hash)),
                None => (true, None),
            };
            if !gone {
                // Sorted by expiry: the rest are live, and within the cap.
                break;
            }
            if let Some(hash) = hash {
                let _ = fs::remove_file(self.dir.join(hash));
            }
            let _ = fs::remove_file(user_dir.join(name));
            removed += 1;
        }
        if removed == read {
            // Empty now (an issue racing this makes it again).
            let _ = fs::remove_dir(user_dir);
        }
        (read, removed)
    }

    /// One reaper pass: expired tokens (and users' tokens beyond the cap)
    /// are removed, at most `max_removed`, reading the index of one user
    /// after another (where the last pass of this process stopped) for up
    /// to `REAP_READ_BUDGET` entries. Returns how many tokens it removed.
    pub fn reap(&self, now: Timestamp, max_removed: usize) -> Result<usize, StoreError> {
        let mut users: Vec<PathBuf> = match fs::read_dir(&self.users) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("listing", &self.users, e)),
        };
        if users.is_empty() {
            return Ok(0);
        }
        users.sort_unstable();
        let start = self.reap_from.load(Ordering::Relaxed) % users.len();
        let (mut read, mut removed, mut visited) = (0, 0, 0);
        while visited < users.len() && read < REAP_READ_BUDGET && removed < max_removed {
            let dir = &users[(start + visited) % users.len()];
            let (r, n) = self.trim(dir, now, max_removed - removed);
            read += r;
            removed += n;
            visited += 1;
        }
        self.reap_from.store(start + visited, Ordering::Relaxed);
        Ok(removed)
    }
}

/// Runs `f`, which creates a file in `path`'s directory; if that directory
/// is missing (new, or removed as empty by the reaper meanwhile), makes it
/// owner-only and runs `f` again.
fn write_in_dir(path: &Path, mut f: impl FnMut() -> io::Result<()>) -> io::Result<()> {
    for _ in 0..3 {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    crate::store::perms::create_dir_all(dir)?;
                }
            }
            other => return other,
        }
    }
    f()
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_shared_through_files_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let a = TokenStore::new(dir.path(), 60);
        let (tok, life) = a.issue("test:tester").unwrap();
        assert_eq!(life, 60);
        assert_eq!(tok.len(), 39);
        // Another process (another store on the same root) sees it.
        let b = TokenStore::new(dir.path(), 60);
        assert_eq!(b.lookup(&tok).unwrap().as_deref(), Some("test:tester"));
        assert_eq!(
            b.lookup("AUTH_tk00000000000000000000000000000000").unwrap(),
            None
        );
        assert_eq!(b.lookup("garbage").unwrap(), None);
        let (tok2, _) = a.issue("test:tester").unwrap();
        assert_ne!(tok, tok2);
        // The token itself is never on disk.
        for entry in fs::read_dir(dir.path().join("tokens")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let text = fs::read_to_string(path).unwrap();
                assert!(!text.contains(&tok[7..]));
            }
        }
    }

    fn token_files(root: &Path) -> usize {
        fs::read_dir(root.join("tokens"))
            .map(|d| d.filter(|e| e.as_ref().unwrap().path().is_file()).count())
            .unwrap_or(0)
    }

    fn index_entries(root: &Path) -> usize {
        fs::read_dir(root.join("tokens/users"))
            .map(|d| {
                d.map(|u| fs::read_dir(u.unwrap().path()).unwrap().count())
                    .sum()
            })
            .unwrap_or(0)
    }

    #[test]
    fn expired_tokens_are_reaped_without_being_presented() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path(), 60);
        let (live, _) = store.issue("test:tester").unwrap();
        for _ in 0..9 {
            store.issue("test:tester").unwrap();
            store.issue("test:other").unwrap();
        }
        assert_eq!(token_files(dir.path()), 19);
        assert_eq!(index_entries(dir.path()), 19);
        let now = Timestamp::now();
        assert_eq!(store.reap(now, 100).unwrap(), 0, "nothing expired yet");
        // A minute later: all expired; at most 5 per pass.
        let later = Timestamp::from_units(now.units() + 61 * 100_000);
        assert_eq!(store.reap(later, 5).unwrap(), 5);
        let mut passes = 1;
        while store.reap(later, 5).unwrap() > 0 {
            passes += 1;
            assert!(passes < 10);
        }
        assert_eq!(passes, 4);
        assert_eq!(token_files(dir.path()), 0);
        assert_eq!(index_entries(dir.path()), 0);
        assert_eq!(
            fs::read_dir(dir.path().join("tokens/users"))
                .unwrap()
                .count(),
            0
        );
        // Gone for good (the per-process cache still knows the expiry).
        assert_eq!(TokenStore::new(dir.path(), 60).lookup(&live).unwrap(), None);
        // A token presented after its expiry goes with its index entry.
        let short = TokenStore::new(dir.path(), 1);
        let (tok, _) = short.issue("test:tester").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(TokenStore::new(dir.path(), 1).lookup(&tok).unwrap(), None);
        assert_eq!((token_files(dir.path()), index_entries(dir.path())), (0, 0));
    }

    #[test]
    fn a_user_holds_at_most_the_cap_of_live_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path(), 3600);
        let (first, _) = store.issue("test:tester").unwrap();
        let mut last = String::new();
        for _ in 0..MAX_TOKENS_PER_USER + 20 {
            last = store.issue("test:tester").unwrap().0;
        }
        assert_eq!(token_files(dir.path()), MAX_TOKENS_PER_USER);
        assert_eq!(index_entries(dir.path()), MAX_TOKENS_PER_USER);
        let fresh = TokenStore::new(dir.path(), 3600);
        assert_eq!(fresh.lookup(&first).unwrap(), None, "the oldest went");
        assert_eq!(fresh.lookup(&last).unwrap().as_deref(), Some("test:tester"));
    }
}
