//! The parts of Swift's `swift.conf` an object node needs: the hash path
//! salt (`[swift-hash]` `swift_hash_path_prefix` / `_suffix`) and the
//! storage policies (`[storage-policy:N]` with `name`, `policy_type`,
//! `default`, `deprecated`). An INI file as Python's `ConfigParser` reads
//! it: `key = value` or `key: value`, `#`/`;` comments, case-insensitive
//! keys. As Swift, a file without policies has Policy-0 alone, and one
//! without any salt is refused.

use crate::store::hash_path::HashPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Replication,
    ErasureCoding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    pub index: u32,
    pub name: String,
    pub policy_type: PolicyType,
    pub default: bool,
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwiftConf {
    pub hash_path: HashPath,
    pub policies: Vec<PolicyEntry>,
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "t" | "y"
    )
}

impl SwiftConf {
    pub fn parse(text: &str) -> Result<SwiftConf, String> {
        let (mut prefix, mut suffix) = (None::<String>, None::<String>);
        let mut policies: Vec<PolicyEntry> = Vec::new();
        let mut section = String::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                if let Some(index) = section.strip_prefix("storage-policy:") {
                    let index: u32 = index
                        .parse()
                        .map_err(|_| format!("line {}: bad policy index {index:?}", n + 1))?;
                    if policies.iter().any(|p| p.index == index) {
                        return Err(format!("line {}: policy {index} declared twice", n + 1));
                    }
                    policies.push(PolicyEntry {
                        index,
                        name: String::new(),
                        policy_type: PolicyType::Replication,
                        default: false,
                        deprecated: false,
                    });
                }
                continue;
            }
            let Some((key, value)) = line.split_once(['=', ':']) else {
                return Err(format!("line {}: expected key = value", n + 1));
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim().to_string());
            if section == "swift-hash" {
                match key.as_str() {
                    "swift_hash_path_prefix" => prefix = Some(value),
                    "swift_hash_path_suffix" => suffix = Some(value),
                    _ => {}
                }
            } else if section.starts_with("storage-policy:") {
                let Some(p) = policies.last_mut() else {
                    continue;
                };
                match key.as_str() {
                    "name" => p.name = value,
                    "default" => p.default = truthy(&value),
                    "deprecated" => p.deprecated = truthy(&value),
                    "policy_type" => {
                        p.policy_type = match value.as_str() {
                            "replication" => PolicyType::Replication,
                            "erasure_coding" => PolicyType::ErasureCoding,
                            other => {
                                return Err(format!(
                                    "policy {}: unknown policy_type {other:?}",
                                    p.index
                                ))
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let (p, s) = (prefix.unwrap_or_default(), suffix.unwrap_or_default());
        if p.is_empty() && s.is_empty() {
            return Err(
                "neither swift_hash_path_prefix nor swift_hash_path_suffix is set in [swift-hash]"
                    .into(),
            );
        }
        if policies.is_empty() {
            policies.push(PolicyEntry {
                index: 0,
                name: "Policy-0".into(),
                policy_type: PolicyType::Replication,
                default: true,
                deprecated: false,
            });
        }
        if let Some(p) = policies.iter().find(|p| p.name.is_empty()) {
            return Err(format!("policy {} has no name", p.index));
        }
        Ok(SwiftConf {
            hash_path: HashPath::salted(&p, &s),
            policies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_salt_and_the_policies() {
        let conf = SwiftConf::parse(
            "[swift-hash]\nswift_hash_path_prefix = pre\n# c\nswift_hash_path_suffix: suf\n\n\
             [storage-policy:0]\nname = gold\ndefault = yes\n\
             [storage-policy:2]\nname = ec\npolicy_type = erasure_coding\n",
        )
        .unwrap();
        assert_eq!(conf.hash_path, HashPath::salted("pre", "suf"));
        assert_eq!(conf.policies.len(), 2);
        assert!(conf.policies[0].default);
        assert_eq!(conf.policies[1].policy_type, PolicyType::ErasureCoding);
    }

    #[test]
    fn without_policies_policy_0_alone_and_without_salt_refused() {
        let conf = SwiftConf::parse("[swift-hash]\nswift_hash_path_suffix = s\n").unwrap();
        assert_eq!(conf.policies.len(), 1);
        assert_eq!(conf.policies[0].name, "Policy-0");
        assert!(SwiftConf::parse("[swift-hash]\n").is_err());
        assert!(SwiftConf::parse("[swift-hash]\nx=1\n[storage-policy:x]\n").is_err());
        assert!(
            SwiftConf::parse("[swift-hash]\nswift_hash_path_suffix=s\n[storage-policy:1]\n")
                .is_err()
        );
    }
}
