//! Turns a raw request path into what it names. The path is percent-decoded
//! as a whole and then split, as Swift does, so `%2F` inside an object name
//! is a slash of the name, and `//`, trailing `/` and `..` are kept as typed.
//! Names never touch the filesystem: storage paths are hashes of them.

use crate::constraints::{
    MAX_ACCOUNT_NAME_LENGTH, MAX_CONTAINER_NAME_LENGTH, MAX_OBJECT_NAME_LENGTH,
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

/// What a `/v1` request path names: decoded, its version prefix removed
/// (`/v1/` or `/v1.0/`; anything else is a 404), then split.
pub fn target_of(path: &str) -> Result<Target, PathError> {
    let decoded = decode_path(path)?;
    let rest = decoded
        .strip_prefix("/v1/")
        .or_else(|| decoded.strip_prefix("/v1.0/"))
        .ok_or_else(|| bad(404, ""))?;
    split_target(rest)
}

/// Splits the decoded part after `/v1/` into account, container and object.
pub fn split_target(rest: &str) -> Result<Target, PathError> {
    let mut parts = rest.splitn(3, '/');
    let account = parts.next().unwrap_or_default();
    let container = parts.next().unwrap_or_default();
    let object = parts.next().unwrap_or_default();
    if account.is_empty() {
        return Err(bad(400, "Invalid path: no account"));
    }
    if account.len() > MAX_ACCOUNT_NAME_LENGTH {
        return Err(bad(
            400,
            format!(
                "Account name length of {} longer than {MAX_ACCOUNT_NAME_LENGTH}",
                account.len()
            ),
        ));
    }
    if container.is_empty() {
        if !object.is_empty() {
            return Err(bad(400, "Invalid path: empty container name"));
        }
        return Ok(Target::Account {
            account: account.into(),
        });
    }
    if container.len() > MAX_CONTAINER_NAME_LENGTH {
        return Err(bad(
            400,
            format!(
                "Container name length of {} longer than {MAX_CONTAINER_NAME_LENGTH}",
                container.len()
            ),
        ));
    }
    if object.is_empty() {
        return Ok(Target::Container {
            account: account.into(),
            container: container.into(),
        });
    }
    if object.len() > MAX_OBJECT_NAME_LENGTH {
        return Err(bad(
            400,
            format!(
                "Object name length of {} longer than {MAX_OBJECT_NAME_LENGTH}",
                object.len()
            ),
        ));
    }
    Ok(Target::Object {
        account: account.into(),
        container: container.into(),
        object: object.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(raw: &str) -> Result<Target, PathError> {
        target_of(raw)
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
        assert_eq!(target("/v1/AUTH_a//o").unwrap_err().status, 400);
        let long_obj = format!("/v1/AUTH_a/c/{}", "o".repeat(1025));
        assert_eq!(target(&long_obj).unwrap_err().status, 400);
        let ok_obj = format!("/v1/AUTH_a/c/{}", "o".repeat(1024));
        assert!(target(&ok_obj).is_ok());
        let long_cont = format!("/v1/AUTH_a/{}", "c".repeat(257));
        assert_eq!(target(&long_cont).unwrap_err().status, 400);
    }

    #[test]
    fn only_v1_paths_name_targets() {
        assert_eq!(target("/v1.0/AUTH_a").unwrap().account(), "AUTH_a");
        assert_eq!(target("/v2/AUTH_a").unwrap_err().status, 404);
        assert_eq!(target("/v1").unwrap_err().status, 404);
        assert_eq!(target("/%761/AUTH_a").unwrap().account(), "AUTH_a");
    }

    #[test]
    fn strips_absolute_form() {
        assert_eq!(strip_authority("http://h:8080/v1/a"), "/v1/a");
        assert_eq!(strip_authority("/v1/a"), "/v1/a");
        assert_eq!(strip_authority("https://h"), "/");
    }
}
