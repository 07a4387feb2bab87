//! Per-vhost configuration from the host's directives. Each directive is
//! checked on its own while the host parses its files (so `apachectl -t`
//! names the bad line), and the whole set is checked when the vhost is built.

use crate::core::constraints::RESELLER_PREFIX;
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

/// Builds a vhost's configuration from all of its directives.
pub fn build(directives: &[Vec<&str>]) -> Result<VhostConfig, ConfigError> {
    let mut root = None;
    let mut users: Vec<UserEntry> = Vec::new();
    let mut token_life = 86_400;
    let mut apache_auth = crate::node::apache_auth::ApacheAuthConfig::default();
    let mut gates = crate::gate::settings::GateConfig::default();
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
        }
    }
    let Some(root) = root else {
        return err("StowageRoot is not set for this virtual host");
    };
    Ok(VhostConfig {
        root,
        users,
        token_life,
        apache_auth,
        gates,
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
    }
}
