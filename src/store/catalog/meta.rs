//! Account and container metadata as Swift keeps it: a JSON object
//! `{"x-container-meta-color": ["blue", "1700000000.12345"], ...}` where each
//! key carries the timestamp of its last change, so that the newest change
//! wins per key whatever order requests arrive in. Removal writes an empty
//! value with its timestamp (a tombstone), so an older set arriving later
//! cannot resurrect the key; empty values are never shown.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::store::timestamp::Timestamp;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Meta(BTreeMap<String, (String, Timestamp)>);

impl Meta {
    pub fn parse(json: &str) -> Result<Meta, String> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| format!("metadata is not JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("metadata is not a JSON object".into());
        };
        let mut out = BTreeMap::new();
        for (key, entry) in map {
            let pair = match &entry {
                Value::Array(items) => match items.as_slice() {
                    [Value::String(v), Value::String(ts)] => {
                        Timestamp::parse(ts).map(|ts| (v.clone(), ts))
                    }
                    _ => None,
                },
                _ => None,
            };
            let pair =
                pair.ok_or_else(|| format!("metadata entry {key:?} is not [value, timestamp]"))?;
            out.insert(key, pair);
        }
        Ok(Meta(out))
    }

    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, Value> = self
            .0
            .iter()
            .map(|(k, (v, ts))| (k.clone(), Value::from(vec![v.clone(), ts.normal()])))
            .collect();
        Value::Object(map).to_string()
    }

    /// Sets and removes keys (header names, compared lowercase) as of `ts`;
    /// a key already changed at `ts` or later keeps its value.
    pub fn apply(&mut self, set: &[(String, String)], remove: &[String], ts: Timestamp) {
        for (key, value) in set {
            self.put(key, value, ts);
        }
        for key in remove {
            self.put(key, "", ts);
        }
    }

    /// Removes every key as of `ts` (a deleted container keeps no metadata).
    pub fn clear(&mut self, ts: Timestamp) {
        let keys: Vec<String> = self.0.keys().cloned().collect();
        for key in keys {
            self.put(&key, "", ts);
        }
    }

    /// The live entries, sorted by name.
    pub fn visible(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(_, (v, _))| !v.is_empty())
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }

    fn put(&mut self, key: &str, value: &str, ts: Timestamp) {
        let key = key.to_ascii_lowercase();
        match self.0.get(&key) {
            Some((_, old)) if *old >= ts => {}
            _ => {
                self.0.insert(key, (value.to_string(), ts));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: u64) -> Timestamp {
        Timestamp::from_units(n)
    }

    #[test]
    fn newest_change_wins_per_key() {
        let mut m = Meta::default();
        m.apply(&[("X-Container-Meta-A".into(), "1".into())], &[], ts(10));
        m.apply(&[("x-container-meta-a".into(), "old".into())], &[], ts(5));
        assert_eq!(
            m.visible(),
            vec![("x-container-meta-a".to_string(), "1".to_string())]
        );
        m.apply(&[], &["x-container-meta-a".into()], ts(20));
        m.apply(
            &[("x-container-meta-a".into(), "stale".into())],
            &[],
            ts(15),
        );
        assert!(m.visible().is_empty(), "a removal is a tombstone");
        m.apply(&[("x-container-meta-a".into(), "new".into())], &[], ts(21));
        assert_eq!(
            m.visible(),
            vec![("x-container-meta-a".to_string(), "new".to_string())]
        );
    }

    #[test]
    fn json_round_trip_in_swift_shape() {
        let mut m = Meta::default();
        m.apply(
            &[("x-container-read".into(), ".r:*".into())],
            &[],
            Timestamp::parse("1700000000.5").unwrap(),
        );
        let json = m.to_json();
        assert_eq!(json, r#"{"x-container-read":[".r:*","1700000000.50000"]}"#);
        assert_eq!(Meta::parse(&json).unwrap(), m);
        assert!(Meta::parse("[1]").is_err());
        assert!(Meta::parse(r#"{"a": ["v"]}"#).is_err());
    }
}
