//! Identities established by the web server's own authentication (e.g.
//! `mod_auth_basic` + `htpasswd`), mapped to Swift accounts and roles:
//!
//! ```apache
//! StowageApacheAuth On                      # Off (default) | On | Only
//! StowageApacheUser alice test .admin       # alice administers AUTH_test
//! StowageApacheUser bob test                # bob is a user of AUTH_test
//! ```
//! With `On`, a request without a token is acted on as the mapped user that
//! Apache authenticated (an unmapped user gets 403); token requests work as
//! before. `Only` ignores tokens: identities come from Apache alone. ACLs
//! name a mapped user as `<account>:<apache-user>` (`test:bob`).

use crate::core::constraints::RESELLER_PREFIX;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Off,
    On,
    Only,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApacheUser {
    pub name: String,
    /// e.g. "AUTH_test".
    pub account: String,
    pub admin: bool,
    pub reseller_admin: bool,
}

impl ApacheUser {
    /// The login ACLs name this user by: `<account without prefix>:<name>`.
    pub fn login(&self) -> String {
        let short = self
            .account
            .strip_prefix(RESELLER_PREFIX)
            .unwrap_or(&self.account);
        format!("{short}:{}", self.name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApacheAuthConfig {
    pub mode: Mode,
    pub users: Vec<ApacheUser>,
}

impl ApacheAuthConfig {
    /// Whether tokens from `/auth/v1.0` are accepted.
    pub fn tokens_allowed(&self) -> bool {
        self.mode != Mode::Only
    }

    /// The mapping of an Apache-authenticated user; None when unmapped.
    pub fn user(&self, remote_user: &str) -> Option<&ApacheUser> {
        self.users.iter().find(|u| u.name == remote_user)
    }

    /// A later line for the same Apache user replaces the earlier one.
    pub fn add(&mut self, user: ApacheUser) {
        self.users.retain(|u| u.name != user.name);
        self.users.push(user);
    }
}

/// `StowageApacheAuth Off|On|Only`.
pub fn parse_mode(args: &[&str]) -> Result<Mode, String> {
    match args {
        [v] if v.eq_ignore_ascii_case("off") => Ok(Mode::Off),
        [v] if v.eq_ignore_ascii_case("on") => Ok(Mode::On),
        [v] if v.eq_ignore_ascii_case("only") => Ok(Mode::Only),
        [v] => Err(format!("StowageApacheAuth {v}: expected Off, On or Only")),
        _ => Err("StowageApacheAuth takes one argument: Off, On or Only".into()),
    }
}

/// `StowageApacheUser <apache-user> <account> [.admin] [.reseller_admin]`.
pub fn parse_user(args: &[&str]) -> Result<ApacheUser, String> {
    let [name, account, roles @ ..] = args else {
        return Err(
            "StowageApacheUser takes <apache-user> <account> [.admin] [.reseller_admin]".into(),
        );
    };
    if name.is_empty() || name.contains(',') {
        return Err(format!("StowageApacheUser {name}: invalid user name"));
    }
    if account.is_empty()
        || account.contains(['/', ':'])
        || account.len() + RESELLER_PREFIX.len() > crate::core::constraints::MAX_ACCOUNT_NAME_LENGTH
    {
        return Err(format!(
            "StowageApacheUser {name} {account}: invalid account name (give it without {RESELLER_PREFIX}, e.g. test)"
        ));
    }
    let mut user = ApacheUser {
        name: name.to_string(),
        account: format!("{RESELLER_PREFIX}{account}"),
        admin: false,
        reseller_admin: false,
    };
    for role in roles {
        match *role {
            ".admin" => user.admin = true,
            ".reseller_admin" => user.reseller_admin = true,
            other => {
                return Err(format!(
                "StowageApacheUser {name}: unknown role {other} (known: .admin, .reseller_admin)"
            ))
            }
        }
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        assert_eq!(parse_mode(&["on"]), Ok(Mode::On));
        assert_eq!(parse_mode(&["Only"]), Ok(Mode::Only));
        assert_eq!(parse_mode(&["Off"]), Ok(Mode::Off));
        assert!(parse_mode(&["maybe"]).unwrap_err().contains("maybe"));
        assert!(parse_mode(&[]).is_err());
        let u = parse_user(&["alice", "test", ".admin"]).unwrap();
        assert_eq!(u.account, "AUTH_test");
        assert!(u.admin && !u.reseller_admin);
        assert!(parse_user(&["alice"]).is_err());
        assert!(parse_user(&["alice", "a/b"]).is_err());
        assert!(parse_user(&["alice", "a:b"]).is_err());
        let e = parse_user(&["alice", "test", ".root"]).unwrap_err();
        assert!(e.contains(".root"), "{e}");
    }

    #[test]
    fn maps_users() {
        let mut cfg = ApacheAuthConfig {
            mode: Mode::On,
            users: vec![],
        };
        cfg.add(parse_user(&["bob", "test"]).unwrap());
        cfg.add(parse_user(&["bob", "test", ".admin"]).unwrap());
        assert_eq!(cfg.users.len(), 1);
        let who = cfg.user("bob").unwrap();
        assert_eq!(who.login(), "test:bob");
        assert_eq!(who.account, "AUTH_test");
        assert!(who.admin);
        assert_eq!(cfg.user("carol"), None);
        assert!(cfg.tokens_allowed());
        cfg.mode = Mode::Only;
        assert!(!cfg.tokens_allowed());
    }
}
