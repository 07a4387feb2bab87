//! Tempauth's tokens, shared by all of the host's worker processes through
//! files under `<root>/tokens/`, named by the SHA-256 of the token (the
//! token itself is never written down), with a per-process cache in front.

use crate::core::hex::hex;
use crate::store::small_file::write_whole;
use crate::store::{StoreError, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Cap of the per-process cache; it is simply emptied when full.
const CACHE_MAX: usize = 10_000;

pub struct TokenStore {
    dir: PathBuf,
    life_secs: u64,
    /// token hash -> (login, expiry)
    cache: Mutex<HashMap<String, (String, Timestamp)>>,
}

impl TokenStore {
    /// Touches nothing on disk: the directory is made by the first token a
    /// worker issues (the host may build vhosts as another user).
    pub fn new(root: &Path, life_secs: u64) -> TokenStore {
        TokenStore {
            dir: root.join("tokens"),
            life_secs,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn after_fork(&self) {
        self.cache_lock().clear();
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Timestamp)>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
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
        let record = format!("{}\n{}\n", login, expires.normal());
        if let Err(e) = write_whole(&path, record.as_bytes()) {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(StoreError::io("writing token", &path, e));
            }
            fs::create_dir_all(&self.dir).map_err(|e| StoreError::io("creating", &self.dir, e))?;
            write_whole(&path, record.as_bytes())
                .map_err(|e| StoreError::io("writing token", &path, e))?;
        }
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
            let text = fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains(&tok[7..]));
        }
    }
}
