//! Who may do what, with tempauth's rules: account admins and reseller
//! admins own an account; everyone else (other users, anonymous callers)
//! gets only what a container ACL or the account ACL grants.
//!
//! `decide` is pure; `check` loads the ACLs it needs from the catalog, only
//! for callers that do not own the account.

use crate::core::constraints::RESELLER_PREFIX;
use crate::core::http::{Request, Response};
use crate::node::vhost::Vhost;
use crate::store::StoreError;
use crate::swift::acl::{AccountAcl, ContainerAcl};
use crate::swift::auth::Caller;
use crate::swift::error::ApiError;
use crate::swift::names::Target;

/// Where the account ACL is kept, in the account's metadata.
pub const ACCOUNT_ACL_KEY: &str = "x-account-access-control";

/// Headers only an owner may set or see (Swift's `swift_owner_headers`).
pub const OWNER_HEADERS: &[&str] = &[
    "x-container-read",
    "x-container-write",
    "x-container-sync-key",
    "x-container-sync-to",
    "x-account-meta-temp-url-key",
    "x-account-meta-temp-url-key-2",
    "x-container-meta-temp-url-key",
    "x-container-meta-temp-url-key-2",
    ACCOUNT_ACL_KEY,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Account,
    Container,
    Object,
}

impl Level {
    pub fn of(target: &Target) -> Level {
        match target {
            Target::Account { .. } => Level::Account,
            Target::Container { .. } => Level::Container,
            Target::Object { .. } => Level::Object,
        }
    }
}

/// An allowed request; `owner` callers may set and see owner headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub owner: bool,
}

/// A refused request: 401 without an identity, 403 with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub status: u16,
}

fn is_read(method: &str) -> bool {
    matches!(method, "GET" | "HEAD")
}

/// Whether `caller` owns `account` for this request, as tempauth decides:
/// reseller admins any account; an account's admins, except for PUT or
/// DELETE of the account itself.
pub fn is_owner(caller: &Caller, account: &str, level: Level, method: &str) -> bool {
    let Caller::User(who) = caller else {
        return false;
    };
    if who.reseller_admin {
        return true;
    }
    who.admin
        && who.account == account
        && (level != Level::Account || !matches!(method, "PUT" | "DELETE"))
}

/// Tempauth's decision. `container_acl` is the ACL of the target's
/// container that applies to `method` (read ACL for GET/HEAD, write ACL for
/// object writes, none for container writes or the account); the account
/// ACL is only loaded when the container ACL did not already decide.
pub fn decide<E>(
    caller: &Caller,
    account: &str,
    level: Level,
    method: &str,
    referer: Option<&str>,
    container_acl: Option<&ContainerAcl>,
    account_acl: impl FnOnce() -> Result<Option<AccountAcl>, E>,
) -> Result<Result<Grant, Denied>, E> {
    let denied = Denied {
        status: if *caller == Caller::Anonymous {
            401
        } else {
            403
        },
    };
    // Tempauth answers only for accounts under its reseller prefix.
    if !account.starts_with(RESELLER_PREFIX) {
        return Ok(Err(denied));
    }
    if is_owner(caller, account, level, method) {
        return Ok(Ok(Grant { owner: true }));
    }
    let granted = Ok(Ok(Grant { owner: false }));
    if let Some(acl) = container_acl {
        if acl.referrer_allowed(referer) && (level == Level::Object || acl.rlistings()) {
            return granted;
        }
    }
    let Caller::User(who) = caller else {
        return Ok(Err(denied));
    };
    let groups = who.groups();
    let member = |list: &[String]| list.iter().any(|g| groups.contains(g));
    if container_acl.is_some_and(|acl| member(&acl.groups)) {
        return granted;
    }
    let Some(acct) = account_acl()? else {
        return Ok(Err(denied));
    };
    if member(&acct.admin) {
        return Ok(Ok(Grant { owner: true }));
    }
    // read-write covers containers and objects, but only reads of the account.
    if member(&acct.read_write) && (level != Level::Account || is_read(method)) {
        return granted;
    }
    if member(&acct.read_only) && is_read(method) {
        return granted;
    }
    Ok(Err(denied))
}

/// The container metadata key whose ACL governs `method` on `level`.
fn container_acl_key(level: Level, method: &str) -> Option<&'static str> {
    match level {
        Level::Account => None,
        Level::Container => is_read(method).then_some("x-container-read"),
        Level::Object if is_read(method) => Some("x-container-read"),
        Level::Object => Some("x-container-write"),
    }
}

/// Checks a request against the stored ACLs: Ok(grant) or the response to
/// send (400 for a malformed account ACL header, 401, 403, 500).
pub fn check(
    vh: &Vhost,
    req: &Request<'_>,
    target: &Target,
    caller: &Caller,
) -> Result<Grant, ApiError> {
    // Tempauth validates this header whoever sends it, before deciding.
    if let Some(data) = req.header(ACCOUNT_ACL_KEY) {
        if let Err(why) = AccountAcl::parse(data) {
            // Tempauth's message, newline and Content-Type included.
            return Err(ApiError::typed(
                400,
                format!("X-Account-Access-Control invalid: {why}\n\nInput: {data}\n"),
                "text/plain; charset=UTF-8",
            ));
        }
    }
    let level = Level::of(target);
    let account = target.account();
    // Owners need no ACL lookups (`decide` repeats the prefix rule).
    if account.starts_with(RESELLER_PREFIX) && is_owner(caller, account, level, req.method) {
        return Ok(Grant { owner: true });
    }
    let container_acl = match (target, container_acl_key(level, req.method)) {
        (Target::Container { container, .. } | Target::Object { container, .. }, Some(key)) => {
            let info = vh.catalog.container_info(account, container)?;
            info.and_then(|i| {
                i.metadata
                    .iter()
                    .find(|(n, _)| n == key)
                    .map(|(_, v)| ContainerAcl::parse(v))
            })
        }
        _ => None,
    };
    let account_acl = || -> Result<Option<AccountAcl>, StoreError> {
        let info = vh.catalog.account_info(account)?;
        Ok(info
            .metadata
            .iter()
            .find(|(n, _)| n == ACCOUNT_ACL_KEY)
            // A stored ACL was validated when it was set; if it no longer
            // parses, it grants nothing.
            .and_then(|(_, v)| AccountAcl::parse(v).ok().flatten()))
    };
    let referer = req.header("Referer");
    let decided = decide(
        caller,
        account,
        level,
        req.method,
        referer,
        container_acl.as_ref(),
        account_acl,
    )?;
    decided.map_err(|denied| ApiError::status_only(denied.status))
}

/// A non-owner's request loses the owner headers it carries, as Swift's
/// proxy drops them (silently: the rest of the request still applies).
pub fn strip_request<'a>(req: &Request<'a>) -> Request<'a> {
    let mut out = req.clone();
    out.headers.retain(|(n, _)| !is_owner_header(n));
    out
}

/// A non-owner does not see owner headers in responses.
pub fn strip_response(resp: &mut Response) {
    resp.headers.retain(|(n, _)| !is_owner_header(n));
}

fn is_owner_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    OWNER_HEADERS.contains(&lower.as_str())
        || lower
            .strip_prefix("x-remove-")
            .is_some_and(|rest| OWNER_HEADERS.contains(&format!("x-{rest}").as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swift::auth::Identity;
    use std::convert::Infallible;

    fn user(login: &str, admin: bool) -> Caller {
        let (acct, _) = login.split_once(':').unwrap();
        Caller::User(Identity {
            account: format!("AUTH_{acct}"),
            login: login.into(),
            admin,
            reseller_admin: false,
        })
    }

    fn run(
        caller: &Caller,
        level: Level,
        method: &str,
        referer: Option<&str>,
        cacl: Option<&str>,
        aacl: Option<&str>,
    ) -> Result<Grant, Denied> {
        let cacl = cacl.map(ContainerAcl::parse);
        let aacl = aacl.map(|a| AccountAcl::parse(a).unwrap().unwrap());
        let r: Result<_, Infallible> = decide(
            caller,
            "AUTH_test",
            level,
            method,
            referer,
            cacl.as_ref(),
            || Ok(aacl),
        );
        r.unwrap()
    }

    const OWNER: Result<Grant, Denied> = Ok(Grant { owner: true });
    const ALLOWED: Result<Grant, Denied> = Ok(Grant { owner: false });
    const E401: Result<Grant, Denied> = Err(Denied { status: 401 });
    const E403: Result<Grant, Denied> = Err(Denied { status: 403 });

    #[test]
    fn owners() {
        let admin = user("test:tester", true);
        assert_eq!(run(&admin, Level::Object, "PUT", None, None, None), OWNER);
        assert_eq!(run(&admin, Level::Account, "POST", None, None, None), OWNER);
        assert_eq!(run(&admin, Level::Account, "PUT", None, None, None), E403);
        let other = user("test2:tester2", true);
        assert_eq!(run(&other, Level::Object, "GET", None, None, None), E403);
        let mut reseller = user("other:boss", false);
        if let Caller::User(who) = &mut reseller {
            who.reseller_admin = true;
        }
        assert_eq!(
            run(&reseller, Level::Account, "PUT", None, None, None),
            OWNER
        );
        let r: Result<_, Infallible> =
            decide(&admin, "acct", Level::Object, "GET", None, None, || {
                Ok(None)
            });
        assert_eq!(r.unwrap(), E403, "outside the reseller prefix");
    }

    #[test]
    fn referrer_acls() {
        let anon = Caller::Anonymous;
        let g = |lvl, m, acl| run(&anon, lvl, m, None, acl, None);
        assert_eq!(g(Level::Object, "GET", Some(".r:*")), ALLOWED);
        assert_eq!(g(Level::Container, "GET", Some(".r:*")), E401);
        assert_eq!(g(Level::Container, "GET", Some(".r:*,.rlistings")), ALLOWED);
        assert_eq!(g(Level::Object, "GET", None), E401);
        assert_eq!(
            run(
                &anon,
                Level::Object,
                "GET",
                Some("http://bad.com/"),
                Some(".r:*,.r:-bad.com"),
                None
            ),
            E401
        );
        // A referrer rule admits authenticated callers of other accounts too.
        let other = user("test2:tester2", true);
        assert_eq!(
            run(&other, Level::Object, "GET", None, Some(".r:*"), None),
            ALLOWED
        );
    }

    #[test]
    fn group_acls() {
        let member = user("test:member", false);
        let m = |lvl, method, acl| run(&member, lvl, method, None, acl, None);
        assert_eq!(m(Level::Object, "GET", Some("test:member")), ALLOWED);
        assert_eq!(
            m(Level::Object, "GET", Some("test")),
            ALLOWED,
            "the whole account"
        );
        assert_eq!(
            m(Level::Object, "GET", Some("AUTH_test")),
            E403,
            "admins only"
        );
        assert_eq!(m(Level::Container, "GET", Some("test:member")), ALLOWED);
        assert_eq!(m(Level::Object, "GET", Some("test:other")), E403);
        assert_eq!(m(Level::Account, "GET", None), E403);
    }

    #[test]
    fn account_acls() {
        let member = user("test:member", false);
        let a = |lvl, method, acl| run(&member, lvl, method, None, None, Some(acl));
        let ro = r#"{"read-only":["test:member"]}"#;
        assert_eq!(a(Level::Account, "GET", ro), ALLOWED);
        assert_eq!(a(Level::Object, "HEAD", ro), ALLOWED);
        assert_eq!(a(Level::Object, "PUT", ro), E403);
        let rw = r#"{"read-write":["test:member"]}"#;
        assert_eq!(a(Level::Object, "PUT", rw), ALLOWED);
        assert_eq!(a(Level::Container, "PUT", rw), ALLOWED);
        assert_eq!(a(Level::Account, "GET", rw), ALLOWED);
        assert_eq!(a(Level::Account, "POST", rw), E403);
        let adm = r#"{"admin":["test:member"]}"#;
        assert_eq!(a(Level::Account, "POST", adm), OWNER);
        assert_eq!(a(Level::Container, "POST", adm), OWNER);
        assert_eq!(
            run(
                &Caller::Anonymous,
                Level::Account,
                "GET",
                None,
                None,
                Some(ro)
            ),
            E401
        );
    }

    #[test]
    fn owner_headers_are_recognised() {
        assert!(is_owner_header("X-Container-Read"));
        assert!(is_owner_header("X-Remove-Container-Write"));
        assert!(is_owner_header("x-account-access-control"));
        assert!(!is_owner_header("X-Container-Meta-Color"));
    }
}
