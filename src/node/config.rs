//! Per-vhost configuration from the host's directives. Each directive is
//! checked on its own while the host parses its files (so `apachectl -t`
//! names the bad line), and the whole set is checked when the vhost is built.

use crate::core::constraints::RESELLER_PREFIX;
use crate::store::hash_path::HashPath;
use std::fmt;
use std::path::PathBuf;

/// Swift's tempauth reseller prefix: user `test:tester` acts on `AUTH_test`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// The account this user belongs to, e.g. "AUTH_test".
    pub account: String,
    /// "test:tester", as the client sends it in X-Auth-User.
    pub login: String,
    pub key: String,
    pub admin: bool,
    pub reseller_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhostConfig {
    pub root: PathBuf,
    pub users: Vec<UserEntry>,
    /// Lifetime of issued tokens, in seconds (tempauth's token_life).
    pub token_life: u64,
    /// Users authenticated by the host (StowageApacheAuth/-User).
    pub apache_auth: crate::node::apache_auth::ApacheAuthConfig,
    /// Admission gates (StowageGate).
    pub gates: crate::gate::settings::GateConfig,
    /// How names are hashed to paths (StowageHashPathPrefix/-Suffix, the
    /// salt: never shown, not even by Debug).
    pub hash_path: HashPath,
    /// CORS (StowageCorsAllowOrigin, StowageCorsExposeHeaders,
    /// StowageStrictCorsMode).
    pub cors: crate::node::cors::CorsConfig,
    /// Storage policies (StowageStoragePolicy; none: Policy-0 alone).
    pub policies: crate::node::policy::Policies,
    /// A backend Swift object node (StowageObjectServer + StowageSwiftConf):
    /// the vhost serves Swift's object-server protocol, not the v1 API.
    pub object_node: Option<crate::node::object_node::ObjectNode>,
}

/// One parsed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Directive {
    Root(PathBuf),
    User(UserEntry),
    TokenLife(u64),
    ApacheAuth(crate::node::apache_auth::Mode),
    ApacheUser(crate::node::apache_auth::ApacheUser),
    Gate(Vec<(crate::gate::Kind, crate::gate::settings::GateSettings)>),
    HashPathPrefix(String),
    HashPathSuffix(String),
    CorsAllowOrigin(Vec<String>),
    CorsExposeHeaders(Vec<String>),
    StrictCorsMode(bool),
    StoragePolicy(crate::node::policy::Policy),
    ObjectServer(PathBuf),
    SwiftConf(PathBuf),
}

/// Names of every directive this library understands: the same list as
/// `STOWAGE_DIRECTIVES` in `ffi/stowage.h`, which the host's table is built
/// from (a unit test holds the two, and the README's table, together).
pub const DIRECTIVES: &[&str] = &[
    "StowageRoot",
    "StowageUser",
    "StowageTokenLife",
    "StowageApacheAuth",
    "StowageApacheUser",
    "StowageGate",
    "StowageHashPathPrefix",
    "StowageHashPathSuffix",
    "StowageCorsAllowOrigin",
    "StowageCorsExposeHeaders",
    "StowageStrictCorsMode",
    "StowageStoragePolicy",
    "StowageObjectServer",
    "StowageSwiftConf",
];

/// Checks one directive (argv[0] is its name) on its own.
pub fn check_directive(argv: &[&str]) -> Result<(), ConfigError> {
    parse_directive(argv).map(|_| ())
}

fn parse_directive(argv: &[&str]) -> Result<Directive, ConfigError> {
    let Some((&name, args)) = argv.split_first() else {
        return err("empty directive");
    };
    match name {
        "StowageRoot" => parse_root(args),
        "StowageUser" => parse_user(args),
        "StowageTokenLife" => parse_token_life(args),
        "StowageApacheAuth" => crate::node::apache_auth::parse_mode(args)
            .map(Directive::ApacheAuth)
            .map_err(ConfigError),
        "StowageApacheUser" => crate::node::apache_auth::parse_user(args)
            .map(Directive::ApacheUser)
            .map_err(ConfigError),
        "StowageGate" => crate::gate::settings::parse(args)
            .map(Directive::Gate)
            .map_err(ConfigError),
        "StowageHashPathPrefix" => parse_salt(name, args).map(Directive::HashPathPrefix),
        "StowageHashPathSuffix" => parse_salt(name, args).map(Directive::HashPathSuffix),
        "StowageCorsAllowOrigin" => crate::node::cors::parse_list(name, args)
            .map(Directive::CorsAllowOrigin)
            .map_err(ConfigError),
        "StowageCorsExposeHeaders" => crate::node::cors::parse_list(name, args)
            .map(Directive::CorsExposeHeaders)
            .map_err(ConfigError),
        "StowageStrictCorsMode" => crate::node::cors::parse_strict(args)
            .map(Directive::StrictCorsMode)
            .map_err(ConfigError),
        "StowageStoragePolicy" => crate::node::policy::parse_directive(args)
            .map(Directive::StoragePolicy)
            .map_err(ConfigError),
        "StowageObjectServer" => {
            parse_path(name, args, "the devices directory").map(Directive::ObjectServer)
        }
        "StowageSwiftConf" => {
            parse_path(name, args, "the swift.conf file").map(Directive::SwiftConf)
        }
        _ => err(format!("unknown directive {name}")),
    }
}

fn parse_root(args: &[&str]) -> Result<Directive, ConfigError> {
    let [path] = args else {
        return err("StowageRoot takes one argument: an absolute directory path");
    };
    let p = PathBuf::from(path);
    if !p.is_absolute() {
        return err(format!("StowageRoot {path}: the path must be absolute"));
    }
    if p.exists() && !p.is_dir() {
        return err(format!("StowageRoot {path}: exists and is not a directory"));
    }
    Ok(Directive::Root(p))
}

/// One absolute path (StowageObjectServer, StowageSwiftConf).
fn parse_path(name: &str, args: &[&str], what: &str) -> Result<PathBuf, ConfigError> {
    let [path] = args else {
        return err(format!(
            "{name} takes one argument: the absolute path of {what}"
        ));
    };
    let p = PathBuf::from(path);
    if !p.is_absolute() {
        return err(format!("{name} {path}: the path must be absolute"));
    }
    Ok(p)
}

fn parse_user(args: &[&str]) -> Result<Directive, ConfigError> {
    let [login, key, roles @ ..] = args else {
        return err("StowageUser takes <account:user> <key> [.admin] [.reseller_admin]");
    };
    let Some((account, user)) = login.split_once(':') else {
        return err(format!("StowageUser {login}: expected <account>:<user>"));
    };
    if account.is_empty() || user.is_empty() || user.contains(':') {
        return err(format!(
            "StowageUser {login}: expected <account>:<user>, both non-empty"
        ));
    }
    if account.len() + RESELLER_PREFIX.len() > crate::core::constraints::MAX_ACCOUNT_NAME_LENGTH
        || account.contains('/')
    {
        return err(format!("StowageUser {login}: invalid account name"));
    }
    if key.is_empty() {
        return err(format!("StowageUser {login}: the key must not be empty"));
    }
    let mut entry = UserEntry {
        account: format!("{RESELLER_PREFIX}{account}"),
        login: login.to_string(),
        key: key.to_string(),
        admin: false,
        reseller_admin: false,
    };
    for role in roles {
        match *role {
            ".admin" => entry.admin = true,
            ".reseller_admin" => entry.reseller_admin = true,
            other => {
                return err(format!(
                    "StowageUser {login}: unknown role {other} (known: .admin, .reseller_admin)"
                ))
            }
        }
    }
    Ok(Directive::User(entry))
}

/// A salt part: one non-empty word (Apache strips quotes and spaces
/// around it). Errors never show it.
fn parse_salt(name: &str, args: &[&str]) -> Result<String, ConfigError> {
    match args {
        [salt] if !salt.is_empty() => Ok(salt.to_string()),
        [_] => err(format!("{name}: the value must not be empty")),
        _ => err(format!(
            "{name} takes one argument: a secret string (Swift's swift_hash_path_{})",
            if name.ends_with("Prefix") {
                "prefix"
            } else {
                "suffix"
            }
        )),
    }
}

fn parse_token_life(args: &[&str]) -> Result<Directive, ConfigError> {
    match args {
        [secs] => match secs.parse::<u64>() {
            Ok(n) if (1..=365 * 86_400).contains(&n) => Ok(Directive::TokenLife(n)),
            _ => err(format!(
                "StowageTokenLife {secs}: expected seconds from 1 to 31536000"
            )),
        },
        _ => err("StowageTokenLife takes one argument: seconds"),
    }
}

/// The salt of the `StowageHashPathPrefix` / `StowageHashPathSuffix` lines
/// of an Apache configuration text (one vhost's: `Include`s are not
/// followed), for tools that work on a storage root without the server
/// (`stowage-audit --conf`). No such line: unsalted. The same directive
/// with two values is an error, never a guess. Errors never show a salt.
pub fn hash_path_from_conf(text: &str) -> Result<HashPath, ConfigError> {
    let (mut prefix, mut suffix): (Option<String>, Option<String>) = (None, None);
    for line in text.lines() {
        let line = line.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let value = match rest.as_bytes() {
            [q @ (b'"' | b'\''), .., last] if last == q => &rest[1..rest.len() - 1],
            _ => rest,
        };
        let (name, slot) = if word.eq_ignore_ascii_case("StowageHashPathPrefix") {
            ("StowageHashPathPrefix", &mut prefix)
        } else if word.eq_ignore_ascii_case("StowageHashPathSuffix") {
            ("StowageHashPathSuffix", &mut suffix)
        } else {
            continue;
        };
        let salt = parse_salt(name, &[value])?;
        match slot {
            Some(old) if *old != salt => {
                return err(format!(
                    "{name} is given twice with different values: give the file of one virtual host"
                ))
            }
            _ => *slot = Some(salt),
        }
    }
    Ok(HashPath::salted(
        prefix.as_deref().unwrap_or(""),
        suffix.as_deref().unwrap_or(""),
    ))
}

/// Builds a vhost's configuration from all of its directives.
pub fn build(directives: &[Vec<&str>]) -> Result<VhostConfig, ConfigError> {
    let mut root = None;
    let mut users: Vec<UserEntry> = Vec::new();
    let mut token_life = 86_400;
    let mut apache_auth = crate::node::apache_auth::ApacheAuthConfig::default();
    let mut gates = crate::gate::settings::GateConfig::default();
    let (mut prefix, mut suffix) = (String::new(), String::new());
    let mut cors = crate::node::cors::CorsConfig::default();
    let mut policies = Vec::new();
    let (mut devices, mut swift_conf) = (None, None);
    for argv in directives {
        match parse_directive(argv)? {
            Directive::Root(p) => root = Some(p),
            Directive::User(u) => {
                // A later line for the same login replaces the earlier one
                // (a vhost overriding a user inherited from the main server).
                users.retain(|old| old.login != u.login);
                users.push(u);
            }
            Directive::TokenLife(n) => token_life = n,
            Directive::ApacheAuth(mode) => apache_auth.mode = mode,
            Directive::ApacheUser(u) => apache_auth.add(u),
            Directive::Gate(each) => {
                for (k, s) in each {
                    gates.set(k, s);
                }
            }
            Directive::HashPathPrefix(p) => prefix = p,
            Directive::HashPathSuffix(s) => suffix = s,
            // Each line adds to the list.
            Directive::CorsAllowOrigin(v) => cors.allow_origin.extend(v),
            Directive::CorsExposeHeaders(v) => cors.expose_headers.extend(v),
            Directive::StrictCorsMode(on) => cors.strict = on,
            Directive::StoragePolicy(p) => {
                // A later line for the same index replaces the earlier one
                // (a vhost overriding the main server's).
                policies.retain(|old: &crate::node::policy::Policy| old.index != p.index);
                policies.push(p);
            }
            Directive::ObjectServer(p) => devices = Some(p),
            Directive::SwiftConf(p) => swift_conf = Some(p),
        }
    }
    let object_node = match (devices, swift_conf) {
        (None, None) => None,
        (Some(devices), Some(conf)) => Some(
            crate::node::object_node::ObjectNode::load(&devices, &conf).map_err(ConfigError)?,
        ),
        (Some(_), None) => return err("StowageObjectServer needs StowageSwiftConf: the swift.conf with the cluster's hash path salt"),
        (None, Some(_)) => return err("StowageSwiftConf without StowageObjectServer: it is only read by a backend object server"),
    };
    let Some(root) = root else {
        return err("StowageRoot is not set for this virtual host");
    };
    Ok(VhostConfig {
        root,
        users,
        token_life,
        apache_auth,
        gates,
        hash_path: HashPath::salted(&prefix, &suffix),
        cors,
        policies: crate::node::policy::Policies::build(policies).map_err(ConfigError)?,
        object_node,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_each_directive() {
        assert!(check_directive(&["StowageRoot", "/srv/stowage"]).is_ok());
        let e = check_directive(&["StowageRoot", "relative/dir"]).unwrap_err();
        assert!(e.0.contains("relative/dir"), "{e}");
        assert!(check_directive(&["StowageRoot"]).is_err());
        assert!(check_directive(&["StowageRoot", "/a", "/b"]).is_err());
        assert!(check_directive(&["StowageUser", "test:tester", "testing", ".admin"]).is_ok());
        assert!(check_directive(&["StowageUser", "nocolon", "key"]).is_err());
        assert!(check_directive(&["StowageUser", "a:b"]).is_err());
        assert!(check_directive(&["StowageUser", "a:b", "k", ".root"]).is_err());
        assert!(check_directive(&["StowageTokenLife", "0"]).is_err());
        assert!(check_directive(&["StowageBogus", "x"]).is_err());
        assert!(check_directive(&[]).is_err());
    }

    /// The names in a text's `X("Stowage...",` entries (the header's
    /// X-macro) or `| \`Stowage... ` rows (the README's table).
    fn names_in(text: &str, open: &str, close: char) -> Vec<String> {
        let mut names: Vec<String> = text
            .split(open)
            .skip(1)
            .filter_map(|rest| rest.split_once(close).map(|(n, _)| n))
            .filter(|n| n.starts_with("Stowage") && !n.contains(char::is_whitespace))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn the_header_the_library_and_the_readme_name_the_same_directives() {
        let mut ours: Vec<String> = DIRECTIVES.iter().map(|d| d.to_string()).collect();
        ours.sort();
        let header = names_in(include_str!("../../ffi/stowage.h"), "X(\"", '"');
        assert_eq!(header, ours, "ffi/stowage.h STOWAGE_DIRECTIVES");
        let readme = names_in(include_str!("../../README.md"), "| `", ' ');
        assert_eq!(readme, ours, "README.md's directive table");
        for name in DIRECTIVES {
            let e = check_directive(&[name])
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(!e.contains("unknown directive"), "{name}: {e}");
        }
    }

    #[test]
    fn builds_a_vhost() {
        let cfg = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageUser", "test:tester", "testing", ".admin"],
            vec!["StowageUser", "test:member", "m"],
            vec!["StowageUser", "test:tester", "newkey", ".admin"],
        ])
        .unwrap();
        assert_eq!(cfg.root, PathBuf::from("/srv/s"));
        assert_eq!(cfg.users.len(), 2);
        let tester = cfg.users.iter().find(|u| u.login == "test:tester").unwrap();
        assert_eq!(tester.key, "newkey");
        assert_eq!(tester.account, "AUTH_test");
        assert!(build(&[vec!["StowageUser", "a:b", "k"]]).is_err());
        assert!(!cfg.hash_path.is_salted());
    }

    #[test]
    fn a_backend_object_server_needs_its_devices_and_swift_conf() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("swift.conf");
        std::fs::write(&conf, "[swift-hash]\nswift_hash_path_suffix = s3cr3t\n").unwrap();
        let conf = conf.to_str().unwrap();
        let devices = dir.path().to_str().unwrap();
        let cfg = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageObjectServer", devices],
            vec!["StowageSwiftConf", conf],
        ])
        .unwrap();
        let node = cfg.object_node.unwrap();
        assert_eq!(node.devices, dir.path());
        assert_eq!(*node.hash_path(), HashPath::salted("", "s3cr3t"));
        assert!(check_directive(&["StowageObjectServer", "relative"]).is_err());
        assert!(check_directive(&["StowageSwiftConf"]).is_err());
        let alone = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageObjectServer", devices],
        ]);
        assert!(alone.unwrap_err().0.contains("StowageSwiftConf"));
        let missing = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageObjectServer", devices],
            vec!["StowageSwiftConf", "/nonexistent/swift.conf"],
        ]);
        assert!(missing.unwrap_err().0.contains("/nonexistent/swift.conf"));
    }

    #[test]
    fn the_salt_of_a_configuration_file() {
        let conf = "# generated\n  StowageRoot /srv/s\nstowagehashpathsuffix \"s3cr3t\"\n\
                    StowageHashPathPrefix  p \nStowageHashPathSuffix s3cr3t\n";
        assert_eq!(
            hash_path_from_conf(conf).unwrap(),
            HashPath::salted("p", "s3cr3t")
        );
        assert_eq!(
            hash_path_from_conf("StowageRoot /x\n").unwrap(),
            HashPath::unsalted()
        );
        let e = hash_path_from_conf("StowageHashPathSuffix s3cr3t\nStowageHashPathSuffix other\n")
            .unwrap_err();
        assert!(e.0.contains("twice") && !e.0.contains("s3cr3t"), "{e}");
        assert!(hash_path_from_conf("StowageHashPathSuffix \"\"\n").is_err());
    }

    #[test]
    fn the_hash_path_salt_is_taken_and_never_shown() {
        let cfg = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageHashPathSuffix", "s3cr3t-suffix"],
            vec!["StowageHashPathPrefix", "s3cr3t-prefix"],
        ])
        .unwrap();
        assert_eq!(
            cfg.hash_path,
            HashPath::salted("s3cr3t-prefix", "s3cr3t-suffix")
        );
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
        let only = build(&[
            vec!["StowageRoot", "/srv/s"],
            vec!["StowageHashPathSuffix", "x"],
        ])
        .unwrap();
        assert_eq!(only.hash_path, HashPath::salted("", "x"));
        for name in ["StowageHashPathPrefix", "StowageHashPathSuffix"] {
            assert!(check_directive(&[name, "v"]).is_ok());
            assert!(check_directive(&[name, ""]).is_err());
            let e = check_directive(&[name, "s3cr3t", "more"]).unwrap_err();
            assert!(!e.0.contains("s3cr3t"), "{e}");
            assert!(check_directive(&[name]).is_err());
        }
    }
}
