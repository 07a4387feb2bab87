//! Swift's tempauth, v1.0 flavour: users from the configuration get random
//! tokens from `GET /auth/v1.0`, and every `/v1` request must carry one.
//!
//! Tokens are shared by all of the host's worker processes through files
//! under `<root>/tokens/` (`store::tokens`).

use crate::core::http::{Request, Response};
use crate::node::apache_auth::{ApacheUser, Mode};
use crate::node::config::UserEntry;
use crate::node::vhost::Vhost;
use crate::swift::error::ApiError;

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(Identity),
}

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
            .strip_prefix(crate::core::constraints::RESELLER_PREFIX)
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

    fn of_apache(user: &ApacheUser) -> Identity {
        Identity {
            account: user.account.clone(),
            login: user.login(),
            admin: user.admin,
            reseller_admin: user.reseller_admin,
        }
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
pub fn handle_auth(vh: &Vhost, req: &Request<'_>) -> Result<Response, ApiError> {
    if req.method != "GET" {
        return Err(ApiError::status_only(405));
    }
    if !vh.config.apache_auth.tokens_allowed() {
        return Err(ApiError::status_only(401));
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
        ApiError::from(
            Response::error(401, "")
                .with_header("Www-Authenticate", format!("Swift realm=\"{realm}\"")),
        )
    };
    let (Some(login), Some(key)) = (login, key) else {
        return Err(refused());
    };
    let user = vh
        .config
        .users
        .iter()
        .find(|u| u.login == login && constant_time_eq(u.key.as_bytes(), key.as_bytes()));
    let Some(user) = user else {
        return Err(refused());
    };
    let (token, life) = vh.tokens.issue(&user.login)?;
    let url = format!("{}://{}/v1/{}", req.scheme, req.host, user.account);
    let body = serde_json::json!({ "storage": { "default": "local", "local": url } }).to_string();
    let mut resp = Response::text(200, body);
    resp.headers.clear();
    resp.header("Content-Type", "application/json; charset=UTF-8")
        .header("X-Storage-Url", url)
        .header("X-Auth-Token", token.clone())
        .header("X-Storage-Token", token)
        .header("X-Auth-Token-Expires", life.to_string());
    Ok(resp)
}

/// Resolves the request to a caller: by its token; else by the user the
/// host authenticated, when StowageApacheAuth is on (403 if unmapped); else
/// anonymous. Err(401) for a token that is unknown, expired or whose user
/// is gone.
pub fn authenticate(vh: &Vhost, req: &Request<'_>, account: &str) -> Result<Caller, ApiError> {
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
            .user(req.remote_user)
            .map(|u| Caller::User(Identity::of_apache(u)))
            .ok_or_else(|| ApiError::status_only(403));
    };
    let unauthorized = || {
        ApiError::from(
            Response::error(401, "")
                .with_header("Www-Authenticate", format!("Swift realm=\"{account}\"")),
        )
    };
    let Some(login) = vh.tokens.lookup(token)? else {
        return Err(unauthorized());
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

    #[test]
    fn compares_in_constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
