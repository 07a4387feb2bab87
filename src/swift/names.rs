//! Turns a raw request path into what it names. The path is percent-decoded
//! as a whole and then split, as Swift does, so `%2F` inside an object name
//! is a slash of the name, and `//`, trailing `/` and `..` are kept as typed.
//! Names never touch the filesystem: storage paths are hashes of them.

use crate::core::constraints::{
    MAX_ACCOUNT_NAME_LENGTH, MAX_CONTAINER_NAME_LENGTH, MAX_OBJECT_NAME_LENGTH, VALID_API_VERSIONS,
};
use percent_encoding::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Account {
        account: String,
    },
    Container {
        account: String,
        container: String,
    },
    Object {
        account: String,
        container: String,
        object: String,
    },
}

impl Target {
    pub fn account(&self) -> &str {
        match self {
            Target::Account { account }
            | Target::Container { account, .. }
            | Target::Object { account, .. } => account,
        }
    }
}

/// A path that names nothing we serve, with Swift's status for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub status: u16,
    pub message: String,
}

fn bad(status: u16, message: impl Into<String>) -> PathError {
    PathError {
        status,
        message: message.into(),
    }
}

/// The request path of an absolute-form request line ("http://h/p") is its
/// path part; an origin-form path is returned unchanged.
pub fn strip_authority(raw: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = raw.strip_prefix(scheme) {
            return rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    raw
}

/// Percent-decodes a whole path. Swift answers 412 for invalid UTF-8 or NUL.
pub fn decode_path(raw: &str) -> Result<String, PathError> {
    let bytes: Vec<u8> = percent_decode(raw.as_bytes()).collect();
    let text = String::from_utf8(bytes).map_err(|_| bad(412, "Invalid UTF8 or contains NULL"))?;
    if text.contains('\0') {
        return Err(bad(412, "Invalid UTF8 or contains NULL"));
    }
    Ok(text)
}

/// Raw request-path bytes that are not UTF-8, with every byte above 0x7F
/// percent-encoded: decoding gives the same bytes back, so such a path gets
/// the same answer (412) as its percent-encoded twin, as in Swift.
pub fn escape_raw_path(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for &b in raw {
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a raw (still percent-encoded) request path names: decoded, then
/// split as `split_path` does. What the router calls on every request path.
pub fn target_of(path: &str) -> Result<Target, PathError> {
    split_path(&decode_path(path)?)
}

/// What a decoded `/v1/...` path names, with the statuses of Swift's
/// proxy (`split_path(path, 1, 4, True)` in `get_controller`): an empty
/// segment before the last is no path (404), an account under an unknown
/// API version 400, a path without an account "Bad URL" (412).
pub fn split_path(decoded: &str) -> Result<Target, PathError> {
    let Some(rest) = decoded.strip_prefix('/') else {
        return Err(bad(404, ""));
    };
    let (version, after) = rest.split_once('/').unwrap_or((rest, ""));
    if version.is_empty() {
        return Err(bad(404, ""));
    }
    let target = split_target(after);
    if target.is_ok() && !VALID_API_VERSIONS.contains(&version) {
        // Swift's proxy: a plain HTTPBadRequest, its default page.
        return Err(bad(400, ""));
    }
    target
}

/// Splits `account[/container[/object]]`. The object keeps every further
/// slash; only a trailing slash may follow an empty segment.
pub fn split_target(rest: &str) -> Result<Target, PathError> {
    let mut parts = rest.splitn(3, '/');
    let account = parts.next().unwrap_or_default();
    let container = parts.next();
    let object = parts.next();
    let empty_inside =
        (account.is_empty() && container.is_some()) || (container == Some("") && object.is_some());
    if empty_inside {
        return Err(bad(404, ""));
    }
    if account.is_empty() {
        return Err(bad(412, "Bad URL"));
    }
    let account = account.to_string();
    Ok(
        match (
            container.filter(|c| !c.is_empty()),
            object.filter(|o| !o.is_empty()),
        ) {
            (None, _) => Target::Account { account },
            (Some(c), None) => Target::Container {
                account,
                container: c.into(),
            },
            (Some(c), Some(o)) => Target::Object {
                account,
                container: c.into(),
                object: o.into(),
            },
        },
    )
}

fn too_long(kind: &str, name: &str, max: usize) -> Result<(), PathError> {
    if name.len() <= max {
        return Ok(());
    }
    Err(bad(
        400,
        format!("{kind} name length of {} longer than {max}", name.len()),
    ))
}

/// Every name of the target against its length limit (copy sources and
/// destinations are checked this way).
pub fn check_lengths(target: &Target) -> Result<(), PathError> {
    too_long("Account", target.account(), MAX_ACCOUNT_NAME_LENGTH)?;
    match target {
        Target::Account { .. } => Ok(()),
        Target::Container { container, .. } => {
            too_long("Container", container, MAX_CONTAINER_NAME_LENGTH)
        }
        Target::Object {
            container, object, ..
        } => {
            too_long("Container", container, MAX_CONTAINER_NAME_LENGTH)?;
            too_long("Object", object, MAX_OBJECT_NAME_LENGTH)
        }
    }
}

/// The length check Swift's handler for `method` makes, after the access
/// check: an object or container PUT checks the name it creates, every
/// account request the account name. Elsewhere a name too long to exist
/// simply names nothing (404).
pub fn check_length_for(target: &Target, method: &str) -> Result<(), PathError> {
    match (target, method) {
        (Target::Account { account }, _) => too_long("Account", account, MAX_ACCOUNT_NAME_LENGTH),
        (Target::Container { container, .. }, "PUT") => {
            too_long("Container", container, MAX_CONTAINER_NAME_LENGTH)
        }
        (Target::Object { object, .. }, "PUT") => {
            too_long("Object", object, MAX_OBJECT_NAME_LENGTH)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(raw: &str) -> Result<Target, PathError> {
        let t = split_path(&decode_path(raw)?)?;
        check_lengths(&t)?;
        Ok(t)
    }

    fn status(raw: &str) -> u16 {
        target(raw).unwrap_err().status
    }

    #[test]
    fn splits_like_swift() {
        assert_eq!(
            target("/v1/AUTH_a").unwrap(),
            Target::Account {
                account: "AUTH_a".into()
            }
        );
        assert_eq!(
            target("/v1/AUTH_a/").unwrap(),
            Target::Account {
                account: "AUTH_a".into()
            }
        );
        assert_eq!(
            target("/v1/AUTH_a/c/").unwrap(),
            Target::Container {
                account: "AUTH_a".into(),
                container: "c".into()
            }
        );
        let obj = |o: &str| Target::Object {
            account: "AUTH_a".into(),
            container: "c".into(),
            object: o.into(),
        };
        assert_eq!(target("/v1/AUTH_a/c/x//y/").unwrap(), obj("x//y/"));
        assert_eq!(target("/v1/AUTH_a/c/a%2Fb").unwrap(), obj("a/b"));
        assert_eq!(target("/v1/AUTH_a/c/../..").unwrap(), obj("../.."));
        assert_eq!(target("/v1/AUTH_a/c/%E2%98%83").unwrap(), obj("☃"));
        assert_eq!(target("/v1/AUTH_a/c/100%zz").unwrap(), obj("100%zz"));
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(target("/v1/AUTH_a/c/%FF").unwrap_err().status, 412);
        assert_eq!(target("/v1/AUTH_a/c/a%00").unwrap_err().status, 412);
        let long_obj = format!("/v1/AUTH_a/c/{}", "o".repeat(1025));
        assert_eq!(target(&long_obj).unwrap_err().status, 400);
        let ok_obj = format!("/v1/AUTH_a/c/{}", "o".repeat(1024));
        assert!(target(&ok_obj).is_ok());
        let long_cont = format!("/v1/AUTH_a/{}", "c".repeat(257));
        assert_eq!(target(&long_cont).unwrap_err().status, 400);
    }

    #[test]
    fn refuses_paths_as_swift_does() {
        // An empty segment before the last: Swift's split_path fails (404).
        for p in [
            "/v1/AUTH_a//o",
            "/v1//c",
            "/v1/AUTH_a//",
            "//v1/AUTH_a",
            "/",
            "",
        ] {
            assert_eq!(status(p), 404, "{p}");
        }
        // No account: "Bad URL".
        for p in ["/v1", "/v1/", "/foo"] {
            assert_eq!(status(p), 412, "{p}");
        }
        // An account under an unknown API version.
        assert_eq!(status("/v2/AUTH_a"), 400);
        assert_eq!(status("/foo/bar/baz"), 400);
        assert!(target("/v1.0/AUTH_a/c").is_ok());
    }

    #[test]
    fn checks_lengths_where_swift_does() {
        let obj = split_path(&format!("/v1/AUTH_a/c/{}", "o".repeat(1025))).unwrap();
        assert_eq!(check_length_for(&obj, "PUT").unwrap_err().status, 400);
        assert!(check_length_for(&obj, "GET").is_ok());
        let cont = split_path(&format!("/v1/AUTH_a/{}", "c".repeat(257))).unwrap();
        assert_eq!(check_length_for(&cont, "PUT").unwrap_err().status, 400);
        assert!(check_length_for(&cont, "POST").is_ok());
        let acct = split_path(&format!("/v1/AUTH_{}", "a".repeat(252))).unwrap();
        assert_eq!(check_length_for(&acct, "GET").unwrap_err().status, 400);
        let deep = split_path(&format!("/v1/AUTH_{}/c/o", "a".repeat(252))).unwrap();
        assert!(check_length_for(&deep, "PUT").is_ok());
        assert_eq!(check_lengths(&deep).unwrap_err().status, 400);
    }

    #[test]
    fn escapes_raw_bytes_so_decoding_sees_them() {
        assert_eq!(escape_raw_path(b"/v1/a/c/x\xffy\xc3"), "/v1/a/c/x%FFy%C3");
        assert_eq!(status(&escape_raw_path(b"/v1/a/c/x\xffy")), 412);
        assert_eq!(escape_raw_path(b"/plain"), "/plain");
    }

    #[test]
    fn strips_absolute_form() {
        assert_eq!(strip_authority("http://h:8080/v1/a"), "/v1/a");
        assert_eq!(strip_authority("/v1/a"), "/v1/a");
        assert_eq!(strip_authority("https://h"), "/");
    }
}
