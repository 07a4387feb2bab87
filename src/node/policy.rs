//! Storage policies, as Swift's `swift.conf` declares them
//! (`[storage-policy:N]` with `name`, `aliases`, `default`, `deprecated`),
//! from `StowageStoragePolicy` directives. Stowage is one node with one
//! store, so every policy is a name over the same storage: a container
//! records its policy's index (shown as `X-Storage-Policy`, counted per
//! policy on its account, listed in `/info`), and where its bytes go does
//! not depend on it.
//!
//! Swift's rules: indexes are unique non-negative integers; names (and
//! aliases) are letters, digits and '-', unique without regard to case;
//! `Policy-0` may only name index 0; with no policy declared there is one,
//! `Policy-0` (index 0, the default); once any is declared, index 0 must be
//! among them, exactly one must be the default (a lone policy is the
//! default anyway), the default may not be deprecated, and at least one
//! policy must not be.

/// The name of policy 0 when none is declared (Swift's legacy policy).
pub const LEGACY_NAME: &str = "Policy-0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub index: u32,
    /// The name first, then its aliases.
    pub names: Vec<String>,
    pub default: bool,
    /// Existing containers keep it; new ones may not choose it (400), and
    /// `/info` leaves it out.
    pub deprecated: bool,
}

impl Policy {
    pub fn name(&self) -> &str {
        &self.names[0]
    }

    fn has_name(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// The policies of one vhost, in the order they were declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    list: Vec<Policy>,
}

impl Default for Policies {
    /// Swift's default: Policy-0 alone.
    fn default() -> Self {
        Policies {
            list: vec![Policy {
                index: 0,
                names: vec![LEGACY_NAME.to_string()],
                default: true,
                deprecated: false,
            }],
        }
    }
}

impl Policies {
    /// The policies declared (none: Swift's default), checked as a whole.
    pub fn build(mut declared: Vec<Policy>) -> Result<Policies, String> {
        if declared.is_empty() {
            return Ok(Policies::default());
        }
        for (i, p) in declared.iter().enumerate() {
            for q in &declared[..i] {
                if q.index == p.index {
                    return Err(format!(
                        "storage policy index {} is declared twice",
                        p.index
                    ));
                }
                if let Some(dup) = p.names.iter().find(|n| q.has_name(n)) {
                    return Err(format!(
                        "storage policy name {dup} is used by indexes {} and {}",
                        q.index, p.index
                    ));
                }
            }
        }
        if !declared.iter().any(|p| p.index == 0) {
            return Err(
                "storage policies: index 0 must be declared when any policy is (StowageStoragePolicy 0 <name> ...)"
                    .into(),
            );
        }
        if declared.iter().all(|p| p.deprecated) {
            return Err("storage policies: every policy is deprecated".into());
        }
        match declared.iter().filter(|p| p.default).count() {
            0 if declared.len() == 1 => declared[0].default = true,
            0 => return Err("storage policies: none is marked default".into()),
            1 => {}
            _ => return Err("storage policies: more than one is marked default".into()),
        }
        Ok(Policies { list: declared })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.list.iter()
    }

    pub fn default_policy(&self) -> &Policy {
        // `build` leaves exactly one default.
        self.list
            .iter()
            .find(|p| p.default)
            .unwrap_or(&self.list[0])
    }

    /// By name or alias, without regard to case (as Swift's `get_by_name`).
    pub fn by_name(&self, name: &str) -> Option<&Policy> {
        self.list.iter().find(|p| p.has_name(name))
    }

    /// None: a container recorded with a policy no longer configured.
    pub fn by_index(&self, index: u32) -> Option<&Policy> {
        self.list.iter().find(|p| p.index == index)
    }
}

/// A policy name: letters, digits and '-' (they become header names).
fn check_name(index: u32, name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "StowageStoragePolicy {index}: invalid name {name:?} (letters, digits and '-' only)"
        ));
    }
    if index != 0 && name.eq_ignore_ascii_case(LEGACY_NAME) {
        return Err(format!(
            "StowageStoragePolicy {index}: the name {LEGACY_NAME} is reserved for index 0"
        ));
    }
    Ok(())
}

/// One `StowageStoragePolicy <index> <name> [aliases=a,b,...] [default]
/// [deprecated]` line.
pub fn parse_directive(args: &[&str]) -> Result<Policy, String> {
    const USAGE: &str =
        "StowageStoragePolicy takes <index> <name> [aliases=NAME,...] [default] [deprecated]";
    let [index, name, options @ ..] = args else {
        return Err(USAGE.into());
    };
    let index: u32 = match index.parse() {
        Ok(i) if i <= i32::MAX as u32 => i,
        _ => {
            return Err(format!(
                "StowageStoragePolicy {index}: the index must be an integer from 0 to 2147483647"
            ))
        }
    };
    check_name(index, name)?;
    let mut policy = Policy {
        index,
        names: vec![name.to_string()],
        default: false,
        deprecated: false,
    };
    for option in options {
        match *option {
            "default" => policy.default = true,
            "deprecated" => policy.deprecated = true,
            _ => {
                let Some(aliases) = option.strip_prefix("aliases=") else {
                    return Err(format!(
                        "StowageStoragePolicy {index}: unknown option {option}; {USAGE}"
                    ));
                };
                for alias in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                    check_name(index, alias)?;
                    // Swift skips an alias equal to the name, refuses others
                    // already given.
                    if alias == *name {
                        continue;
                    }
                    if policy.has_name(alias) {
                        return Err(format!(
                            "StowageStoragePolicy {index}: the name {alias} is given twice"
                        ));
                    }
                    policy.names.push(alias.to_string());
                }
            }
        }
    }
    if policy.default && policy.deprecated {
        return Err(format!(
            "StowageStoragePolicy {index}: a deprecated policy cannot be the default"
        ));
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Policy {
        parse_directive(args).unwrap()
    }

    #[test]
    fn one_directive() {
        let gold = p(&["1", "gold", "aliases=yellow, orange,gold", "default"]);
        assert_eq!(gold.names, ["gold", "yellow", "orange"]);
        assert!(gold.default && !gold.deprecated);
        assert!(p(&["2", "silver", "deprecated"]).deprecated);
        for bad in [
            &["x", "gold"][..],
            &["-1", "gold"],
            &["1"],
            &["1", "go ld"],
            &["1", "gold_x"],
            &["1", "policy-0"],
            &["1", "gold", "aliases=GOLD2,gold2"],
            &["1", "gold", "default", "deprecated"],
            &["1", "gold", "fast"],
        ] {
            assert!(parse_directive(bad).is_err(), "{bad:?}");
        }
        assert!(parse_directive(&["0", "Policy-0"]).is_ok());
    }

    #[test]
    fn the_set_as_swift_checks_it() {
        let none = Policies::build(vec![]).unwrap();
        assert_eq!(none.default_policy().name(), "Policy-0");
        assert_eq!(none.by_name("POLICY-0").map(|p| p.index), Some(0));
        let lone = Policies::build(vec![p(&["0", "only"])]).unwrap();
        assert!(lone.default_policy().default);
        let two = Policies::build(vec![
            p(&["0", "Policy-0"]),
            p(&["1", "gold", "aliases=yellow", "default"]),
            p(&["2", "silver", "deprecated"]),
        ])
        .unwrap();
        assert_eq!(two.default_policy().index, 1);
        assert_eq!(two.by_name("Yellow").map(|p| p.index), Some(1));
        assert_eq!(two.by_index(2).map(|p| p.deprecated), Some(true));
        assert!(two.by_index(3).is_none());
        for bad in [
            vec![p(&["1", "gold"])],
            vec![p(&["0", "a"]), p(&["1", "b"])],
            vec![p(&["0", "a", "default"]), p(&["1", "b", "default"])],
            vec![p(&["0", "a", "default"]), p(&["0", "b"])],
            vec![p(&["0", "a", "default"]), p(&["1", "A"])],
            vec![
                p(&["0", "a", "aliases=x", "default"]),
                p(&["1", "b", "aliases=X"]),
            ],
            vec![p(&["0", "a", "deprecated"])],
        ] {
            assert!(Policies::build(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
