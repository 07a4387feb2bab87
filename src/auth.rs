//! Swift's tempauth, v1.0 flavour: users from the configuration get random
//! tokens from `GET /auth/v1.0`, and every `/v1` request must carry one.
//!
//! Tokens are shared by all of the host's worker processes through files
//! under `<root>/tokens/`, named by the SHA-256 of the token (the token
//! itself is never written down), with a per-process cache in front.

use crate::access::Caller;
use crate::apache_auth::Mode;
use crate::config::UserEntry;
use crate::http::{Host, Request, Response};
use crate::store::small_file::write_whole;
use crate::store::{StoreError, Timestamp};
use crate::vhost::Vhost;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Who a valid token belongs to, resolved against the current users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub login: String,
    pub admin: bool,
    pub reseller_admin: bool,
}

impl Identity {
    /// Tempauth's groups, which ACLs name: the account without its prefix
    /// (all its users), the login, and the full account name for admins.
    pub fn groups(&self) -> Vec<String> {
        let short = self
            .account
            .strip_prefix(crate::config::RESELLER_PREFIX)
            .unwrap_or(&self.account);
        let mut groups = vec![short.to_string(), self.login.clone()];
        if self.admin {
            groups.push(self.account.clone());
        }
        if self.reseller_admin {
            groups.push(".reseller_admin".to_string());
        }
        groups
    }

    fn of(user: &UserEntry) -> Identity {
        Identity {
            account: user.account.clone(),
            login: user.login.clone(),
            admin: user.admin,
            reseller_admin: user.reseller_admin,
        }
    }
}

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

    /// A new random token for `user`, and its lifetime in seconds.
    pub fn issue(&self, user: &UserEntry) -> Result<(String, u64), StoreError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| {
            StoreError::io(
                "drawing random bytes for",
                &self.dir,
                io::Error::other(e.to_string()),
            )
        })?;
        let token = format!("AUTH_tk{}", crate::debug::hex(&raw));
        let expires = Timestamp::from_units(Timestamp::now().units() + self.life_secs * 100_000);
        let hash = token_hash(&token);
        let path = self.dir.join(&hash);
        let record = format!("{}\n{}\n", user.login, expires.normal());
        if let Err(e) = write_whole(&path, record.as_bytes()) {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(StoreError::io("writing token", &path, e));
            }
            crate::store::perms::create_dir_all(&self.dir)
                .map_err(|e| StoreError::io("creating", &self.dir, e))?;
            write_whole(&path, record.as_bytes())
                .map_err(|e| StoreError::io("writing token", &path, e))?;
        }
        let mut cache = self.cache_lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (user.login.clone(), expires));
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
    crate::debug::hex(&Sha256::digest(token.as_bytes()))
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The first of two headers that has a non-empty value: tempauth falls
/// back to the X-Storage-* spelling when the X-Auth-* one is empty too.
fn first_nonempty<'r>(req: &'r Request<'_>, names: [&str; 2]) -> Option<&'r str> {
    names
        .iter()
        .find_map(|n| req.header(n).filter(|v| !v.is_empty()))
}

/// `GET /auth/v1.0`: exchanges a user and key for a token and storage URL.
/// Only GET, as tempauth (HEAD is 405 too).
pub fn handle_auth(vh: &Vhost, req: &Request<'_>, host: &mut dyn Host) -> Response {
    if req.method != "GET" {
        return Response::error(405, "");
    }
    if !vh.config.apache_auth.tokens_allowed() {
        return Response::error(401, "");
    }
    let login = first_nonempty(req, ["X-Auth-User", "X-Storage-User"]);
    let key = first_nonempty(req, ["X-Auth-Key", "X-Storage-Pass"]);
    // Tempauth's challenge names the account part of the login.
    let realm = login
        .and_then(|l| l.split_once(':'))
        .map(|(a, _)| a)
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
        .unwrap_or("unknown");
    let refused = || {
        Response::error(401, "").with_header("Www-Authenticate", format!("Swift realm=\"{realm}\""))
    };
    let (Some(login), Some(key)) = (login, key) else {
        return refused();
    };
    let user = vh
        .config
        .users
        .iter()
        .find(|u| u.login == login && constant_time_eq(u.key.as_bytes(), key.as_bytes()));
    let Some(user) = user else {
        return refused();
    };
    let (token, life) = match vh.tokens.issue(user) {
        Ok(t) => t,
        Err(e) => return crate::router::storage_error(host, &e),
    };
    let url = format!("{}://{}/v1/{}", req.scheme, req.host, user.account);
    let body = serde_json::json!({ "storage": { "default": "local", "local": url } }).to_string();
    let mut resp = Response::text(200, body);
    resp.headers.clear();
    resp.header("Content-Type", "application/json; charset=UTF-8")
        .header("X-Storage-Url", url)
        .header("X-Auth-Token", token.clone())
        .header("X-Storage-Token", token)
        .header("X-Auth-Token-Expires", life.to_string());
    resp
}

/// Resolves the request to a caller: by its token; else by the user the
/// host authenticated, when StowageApacheAuth is on (403 if unmapped); else
/// anonymous. Err(401) for a token that is unknown, expired or whose user
/// is gone.
pub fn authenticate(
    vh: &Vhost,
    req: &Request<'_>,
    account: &str,
    host: &mut dyn Host,
) -> Result<Caller, Response> {
    let apache = &vh.config.apache_auth;
    // An empty token is no token (tempauth treats the caller as anonymous).
    let token = req
        .header("X-Auth-Token")
        .or_else(|| req.header("X-Storage-Token"))
        .filter(|t| !t.is_empty() && apache.tokens_allowed());
    let Some(token) = token else {
        if apache.mode == Mode::Off || req.remote_user.is_empty() {
            return Ok(Caller::Anonymous);
        }
        return apache
            .identity(req.remote_user)
            .map(Caller::User)
            .ok_or_else(|| Response::error(403, ""));
    };
    let unauthorized = || {
        Response::error(401, "")
            .with_header("Www-Authenticate", format!("Swift realm=\"{account}\""))
    };
    let login = match vh.tokens.lookup(token) {
        Ok(Some(login)) => login,
        Ok(None) => return Err(unauthorized()),
        Err(e) => return Err(crate::router::storage_error(host, &e)),
    };
    // A user removed from the configuration loses access with their tokens.
    vh.config
        .users
        .iter()
        .find(|u| u.login == login)
        .map(|u| Caller::User(Identity::of(u)))
        .ok_or_else(unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserEntry {
        UserEntry {
            account: "AUTH_test".into(),
            login: "test:tester".into(),
            key: "testing".into(),
            admin: true,
            reseller_admin: false,
        }
    }

    #[test]
    fn tokens_are_shared_through_files_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let a = TokenStore::new(dir.path(), 60);
        let (tok, life) = a.issue(&user()).unwrap();
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
        let (tok2, _) = a.issue(&user()).unwrap();
        assert_ne!(tok, tok2);
        // The token itself is never on disk.
        for entry in fs::read_dir(dir.path().join("tokens")).unwrap() {
            let text = fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains(&tok[7..]));
        }
    }

    #[test]
    fn compares_in_constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
