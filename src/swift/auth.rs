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
/// back to the second spelling when the first is missing or empty.
fn first_nonempty<'r>(req: &'r Request<'_>, names: [&str; 2]) -> Option<&'r str> {
    names
        .iter()
        .find_map(|n| req.header(n).filter(|v| !v.is_empty()))
}

/// Which of tempauth's token requests a path under `/auth` is, as its
/// `handle_request` and `handle_get_token` split it.
#[derive(Debug, PartialEq, Eq)]
enum AuthPath {
    /// `/auth/v1.0[/...]` or `/auth/auth[/...]`: the login names the account.
    Plain,
    /// `/auth/v1/<account>/auth`: the path names the account.
    Account(String),
    /// No first segment (`/auth/`, `/auth//v1.0`): 404.
    NotFound,
    /// Any other version or form (`/auth/v1`, `/auth/v2.0`): 400.
    BadRequest,
}

impl AuthPath {
    /// `rest` is the decoded path after `/auth`, starting with '/'.
    fn parse(rest: &str) -> AuthPath {
        let segs: Vec<&str> = rest.splitn(4, '/').collect();
        let first = segs.get(1).copied().unwrap_or("");
        match (first, segs.get(2), segs.get(3)) {
            ("", _, _) => AuthPath::NotFound,
            ("v1", Some(account), Some(&"auth")) => AuthPath::Account(account.to_string()),
            ("v1.0" | "auth", _, _) => AuthPath::Plain,
            _ => AuthPath::BadRequest,
        }
    }
}

/// A 401 challenging with tempauth's realm (a realm that could not be
/// quoted safely is "unknown").
fn unauthorized(realm: &str) -> ApiError {
    let safe = !realm.is_empty() && realm.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
    let realm = if safe { realm } else { "unknown" };
    ApiError::from(
        Response::error(401, "")
            .with_header("Www-Authenticate", format!("Swift realm=\"{realm}\"")),
    )
}

/// `GET /auth/...`: exchanges a user and key for a token and storage URL,
/// answered as Swift's tempauth answers it (200 with the token and URL in
/// headers and an empty text/html body). `rest` is the raw path after
/// `/auth`, starting with '/'. Only GET (HEAD is 405 too).
pub fn handle_auth(vh: &Vhost, req: &Request<'_>, rest: &str) -> Result<Response, ApiError> {
    if req.method != "GET" {
        return Err(ApiError::status_only(405));
    }
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8_lossy();
    let (account, user, key) = match AuthPath::parse(&decoded) {
        AuthPath::NotFound => return Err(ApiError::not_found()),
        AuthPath::BadRequest => return Err(ApiError::status_only(400)),
        AuthPath::Account(account) => {
            // X-Storage-User is the bare user; X-Auth-User "account:user"
            // must name the path's account.
            let user = match req.header("X-Storage-User").filter(|u| !u.is_empty()) {
                Some(user) => user.to_string(),
                None => match req.header("X-Auth-User").and_then(|u| u.split_once(':')) {
                    Some((a, user)) if a == account => user.to_string(),
                    _ => return Err(unauthorized(&account)),
                },
            };
            let key = first_nonempty(req, ["X-Storage-Pass", "X-Auth-Key"]);
            (account, user, key)
        }
        AuthPath::Plain => {
            let login = first_nonempty(req, ["X-Auth-User", "X-Storage-User"]);
            let Some((account, user)) = login.and_then(|l| l.split_once(':')) else {
                return Err(unauthorized("unknown"));
            };
            let key = first_nonempty(req, ["X-Auth-Key", "X-Storage-Pass"]);
            (account.to_string(), user.to_string(), key)
        }
    };
    if !vh.config.apache_auth.tokens_allowed() {
        return Err(ApiError::status_only(401));
    }
    let (false, false, Some(key)) = (account.is_empty(), user.is_empty(), key) else {
        return Err(unauthorized(&account));
    };
    let login = format!("{account}:{user}");
    let user = vh
        .config
        .users
        .iter()
        .find(|u| u.login == login && constant_time_eq(u.key.as_bytes(), key.as_bytes()));
    let Some(user) = user else {
        return Err(unauthorized(&account));
    };
    let (token, life) = vh.tokens.issue(&user.login)?;
    let url = format!("{}://{}/v1/{}", req.scheme, req.host, user.account);
    let mut resp = Response::new(200);
    resp.header("Content-Type", "text/html; charset=UTF-8")
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

    #[test]
    fn auth_paths_as_tempauth_splits_them() {
        use AuthPath::*;
        for plain in ["/v1.0", "/v1.0/", "/v1.0/x", "/auth", "/v1.0/a/b/c"] {
            assert_eq!(AuthPath::parse(plain), Plain, "{plain}");
        }
        for bad in [
            "/v1",
            "/v1/",
            "/v2.0",
            "/v1/test/x",
            "/v1/test/auth/x",
            "/x",
        ] {
            assert_eq!(AuthPath::parse(bad), BadRequest, "{bad}");
        }
        for missing in ["/", "//v1.0"] {
            assert_eq!(AuthPath::parse(missing), NotFound, "{missing}");
        }
        assert_eq!(AuthPath::parse("/v1/test/auth"), Account("test".into()));
        assert_eq!(AuthPath::parse("/v1//auth"), Account(String::new()));
    }
}
