//! Swift's ACL formats, as tempauth reads them: container ACLs
//! (`X-Container-Read` / `X-Container-Write`, a comma-separated list of
//! groups and `.r:` referrer rules) and account ACLs
//! (`X-Account-Access-Control`, JSON with `admin`, `read-write` and
//! `read-only` lists). Pure functions: who may do what is `access.rs`.

use serde_json::Value;
use std::collections::BTreeMap;

/// Normalises a container ACL header the way Swift stores it (`bob , sue`
/// -> `bob,sue`, `.referrer:*` -> `.r:*`). Err is Swift's 400 message.
pub fn clean_container_acl(header: &str, value: &str) -> Result<String, String> {
    let is_write = header.to_ascii_lowercase().contains("write");
    let mut out: Vec<String> = Vec::new();
    for raw in value.split(',') {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let Some((first, second)) = raw.split_once(':') else {
            out.push(raw.to_string());
            continue;
        };
        let (first, second) = (first.trim(), second.trim());
        if !first.starts_with('.') {
            out.push(raw.to_string());
            continue;
        }
        if !matches!(first, ".r" | ".ref" | ".referer" | ".referrer") {
            return Err(format!("Unknown designator '{first}' in ACL: '{raw}'"));
        }
        if is_write {
            return Err(format!("Referrers not allowed in write ACL: '{raw}'"));
        }
        let (negate, mut host) = match second.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, second),
        };
        // `*.example.com` means the domain `.example.com`.
        if host != "*" && host.starts_with('*') {
            host = host[1..].trim();
        }
        if host.is_empty() || host == "." {
            return Err(format!(
                "No host/domain value after referrer designation in ACL: '{raw}'"
            ));
        }
        out.push(format!(".r:{}{host}", if negate { "-" } else { "" }));
    }
    Ok(out.join(","))
}

/// A parsed container ACL: referrer rules (without `.r:`) and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerAcl {
    pub referrers: Vec<String>,
    pub groups: Vec<String>,
}

impl ContainerAcl {
    pub fn parse(acl: &str) -> ContainerAcl {
        let mut parsed = ContainerAcl::default();
        for item in acl.split(',').filter(|s| !s.is_empty()) {
            match item.strip_prefix(".r:") {
                Some(r) => parsed.referrers.push(r.to_string()),
                None => parsed.groups.push(percent_decode(item)),
            }
        }
        parsed
    }

    /// Whether the ACL grants listings to whoever its referrer rules admit.
    pub fn rlistings(&self) -> bool {
        self.groups.iter().any(|g| g == ".rlistings")
    }

    /// Swift's rules in order; a later rule overrides an earlier one, so
    /// `.r:*,.r:-bad.com` admits everyone but bad.com.
    pub fn referrer_allowed(&self, referer: Option<&str>) -> bool {
        if self.referrers.is_empty() {
            return false;
        }
        let host = referer
            .and_then(url_host)
            .unwrap_or_else(|| "unknown".to_string());
        let matches = |rule: &str| rule == host || (rule.starts_with('.') && host.ends_with(rule));
        let mut allow = false;
        for rule in &self.referrers {
            match rule.strip_prefix('-') {
                Some(denied) => {
                    if matches(denied) {
                        allow = false;
                    }
                }
                None => {
                    if rule == "*" || matches(rule) {
                        allow = true;
                    }
                }
            }
        }
        allow
    }
}

/// The lowercase host of an absolute URL, as Python's urlparse finds it.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("//")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Tempauth's account ACL: who administers, writes or reads an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountAcl {
    pub admin: Vec<String>,
    pub read_write: Vec<String>,
    pub read_only: Vec<String>,
}

const ACCOUNT_ACL_KEYS: [&str; 3] = ["admin", "read-write", "read-only"];

impl AccountAcl {
    /// Validates an `X-Account-Access-Control` value as tempauth does. Ok(None)
    /// for an empty value or one granting nothing (the ACL is removed).
    /// Err is the reason for Swift's 400.
    pub fn parse(data: &str) -> Result<Option<AccountAcl>, String> {
        if data.is_empty() {
            return Ok(None);
        }
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(data) else {
            return Err(format!("Syntax error in input ('{data}')"));
        };
        if let Some(key) = map.keys().find(|k| !ACCOUNT_ACL_KEYS.contains(&k.as_str())) {
            return Err(format!("Key {} not recognized", Value::from(key.as_str())));
        }
        let mut lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for key in ACCOUNT_ACL_KEYS {
            let Some(v) = map.get(key) else { continue };
            let Value::Array(items) = v else {
                return Err(format!("Value for key \"{key}\" must be a list"));
            };
            let mut names = Vec::new();
            for item in items {
                let Value::String(s) = item else {
                    return Err(format!("Elements of \"{key}\" list must be strings"));
                };
                names.push(s.clone());
            }
            lists.insert(key, names);
        }
        let mut take = |k| lists.remove(k).unwrap_or_default();
        let acl = AccountAcl {
            admin: take("admin"),
            read_write: take("read-write"),
            read_only: take("read-only"),
        };
        let empty = acl.admin.is_empty() && acl.read_write.is_empty() && acl.read_only.is_empty();
        Ok((!empty).then_some(acl))
    }

    /// Swift's canonical form: compact JSON with sorted keys, ASCII only.
    pub fn format(&self) -> String {
        let mut map = serde_json::Map::new();
        for (key, list) in [
            ("admin", &self.admin),
            ("read-only", &self.read_only),
            ("read-write", &self.read_write),
        ] {
            if !list.is_empty() {
                map.insert(key.to_string(), Value::from(list.clone()));
            }
        }
        ascii_json(&Value::Object(map).to_string())
    }
}

/// Escapes non-ASCII characters as `\uXXXX`, as Python's json.dumps does.
fn ascii_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_swift() {
        let c = |v| clean_container_acl("X-Container-Read", v);
        assert_eq!(c("bob, sue").unwrap(), "bob,sue");
        assert_eq!(c("bob , sue").unwrap(), "bob,sue");
        assert_eq!(c("bob,,,sue").unwrap(), "bob,sue");
        assert_eq!(c(".referrer : *").unwrap(), ".r:*");
        assert_eq!(c(".ref:*.example.com").unwrap(), ".r:.example.com");
        assert_eq!(c(".r:*, .rlistings").unwrap(), ".r:*,.rlistings");
        assert_eq!(c(".r:-thief.com").unwrap(), ".r:-thief.com");
        assert_eq!(c("test:member").unwrap(), "test:member");
        assert_eq!(c("").unwrap(), "");
        assert!(c(".r:").unwrap_err().contains("No host/domain"));
        assert!(c(".r:-").is_err());
        assert!(c(".r:.").is_err());
        assert!(c(".x:y").unwrap_err().contains("Unknown designator"));
        let w = clean_container_acl("X-Container-Write", ".r:*").unwrap_err();
        assert!(w.contains("Referrers not allowed in write ACL"), "{w}");
        assert_eq!(
            clean_container_acl("X-Container-Write", "a:b,c").unwrap(),
            "a:b,c"
        );
    }

    #[test]
    fn parses_groups_and_referrers() {
        let acl = ContainerAcl::parse(".r:*,.rlistings,test:member,bob%20x");
        assert_eq!(acl.referrers, vec!["*"]);
        assert_eq!(acl.groups, vec![".rlistings", "test:member", "bob x"]);
        assert!(acl.rlistings());
        assert!(!ContainerAcl::parse(".r:*").rlistings());
    }

    #[test]
    fn referrer_rules_in_order() {
        let acl = ContainerAcl::parse(".r:*");
        assert!(acl.referrer_allowed(None));
        assert!(acl.referrer_allowed(Some("http://x.com/p")));
        let acl = ContainerAcl::parse(".r:.example.com,.r:-thief.example.com");
        assert!(acl.referrer_allowed(Some("http://www.example.com/a")));
        assert!(acl.referrer_allowed(Some("https://user@WWW.Example.com:8080/")));
        assert!(!acl.referrer_allowed(Some("http://thief.example.com/")));
        assert!(!acl.referrer_allowed(Some("http://example.org/")));
        assert!(!acl.referrer_allowed(None));
        let acl = ContainerAcl::parse(".r:*,.r:-.bad.com");
        assert!(!acl.referrer_allowed(Some("http://www.bad.com/")));
        assert!(acl.referrer_allowed(Some("http://good.com/")));
        let acl = ContainerAcl::parse(".r:host.com");
        assert!(acl.referrer_allowed(Some("http://host.com")));
        assert!(!acl.referrer_allowed(Some("host.com")), "not a URL");
        assert!(!ContainerAcl::parse("test:member").referrer_allowed(None));
    }

    #[test]
    fn account_acl_validation() {
        let acl = AccountAcl::parse(r#"{"read-only":["test:member"],"admin":["x"]}"#)
            .unwrap()
            .unwrap();
        assert_eq!(acl.read_only, vec!["test:member"]);
        assert_eq!(acl.admin, vec!["x"]);
        assert_eq!(
            acl.format(),
            r#"{"admin":["x"],"read-only":["test:member"]}"#
        );
        assert_eq!(AccountAcl::parse("").unwrap(), None);
        assert_eq!(AccountAcl::parse("{}").unwrap(), None);
        assert_eq!(AccountAcl::parse(r#"{"admin":[]}"#).unwrap(), None);
        assert!(AccountAcl::parse("nope")
            .unwrap_err()
            .contains("Syntax error"));
        assert!(AccountAcl::parse("[1]")
            .unwrap_err()
            .contains("Syntax error"));
        let e = AccountAcl::parse(r#"{"owner":[]}"#).unwrap_err();
        assert_eq!(e, r#"Key "owner" not recognized"#);
        let e = AccountAcl::parse(r#"{"admin":"x"}"#).unwrap_err();
        assert_eq!(e, r#"Value for key "admin" must be a list"#);
        let e = AccountAcl::parse(r#"{"read-only":[1]}"#).unwrap_err();
        assert_eq!(e, r#"Elements of "read-only" list must be strings"#);
        let acl = AccountAcl::parse(r#"{"admin":["é"]}"#).unwrap().unwrap();
        assert_eq!(acl.format(), r#"{"admin":["\u00e9"]}"#);
    }
}
