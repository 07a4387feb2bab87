//! Account and container metadata as Swift keeps it: a JSON object
//! `{"x-container-meta-color": ["blue", "1700000000.12345"], ...}` where each
//! key carries the timestamp of its last change, so that the newest change
//! wins per key whatever order requests arrive in. Removal writes an empty
//! value with its timestamp (a tombstone), so an older set arriving later
//! cannot resurrect the key; empty values are never shown.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::constraints::{MAX_META_COUNT, MAX_META_OVERALL_SIZE};
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

    /// Swift's count and size of user metadata (`validate_metadata` in
    /// swift/common/db.py): live `x-account-meta-*` / `x-container-meta-*`
    /// entries, each counting its name without the prefix plus its value,
    /// in bytes. ACLs, removed (empty) keys and other keys do not count.
    fn usage(&self) -> (usize, usize) {
        let mut count = 0;
        let mut size = 0;
        for (key, (value, _)) in &self.0 {
            let name = key
                .strip_prefix("x-account-meta-")
                .or_else(|| key.strip_prefix("x-container-meta-"));
            if let (Some(name), false) = (name, value.is_empty()) {
                count += 1;
                size += name.len() + value.len();
            }
        }
        (count, size)
    }

    /// Swift's check of the merged metadata (`update_metadata(...,
    /// validate_metadata=True)` in its account and container servers): the
    /// result of a change may hold at most 90 items of at most 4096 bytes
    /// in all, whatever each request carried; Err is Swift's 400 body.
    /// A change that grows neither the count nor the size is let through,
    /// so metadata stored over the limits before they were checked here can
    /// still be trimmed (Swift never holds such metadata).
    pub fn check_merged(&self, before: &Meta) -> Result<(), String> {
        let (count, size) = self.usage();
        let (count_before, size_before) = before.usage();
        if count <= count_before && size <= size_before {
            return Ok(());
        }
        if count > MAX_META_COUNT {
            return Err(format!("Too many metadata items; max {MAX_META_COUNT}"));
        }
        if size > MAX_META_OVERALL_SIZE {
            return Err(format!(
                "Total metadata too large; max {MAX_META_OVERALL_SIZE}"
            ));
        }
        Ok(())
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

    fn set(m: &mut Meta, pairs: &[(&str, &str)], at: u64) {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.apply(&pairs, &[], ts(at));
    }

    #[test]
    fn merged_limits_count_what_swift_counts() {
        let mut m = Meta::default();
        let items: Vec<(String, String)> = (0..90)
            .map(|i| (format!("x-container-meta-k{i:02}"), "v".to_string()))
            .collect();
        m.apply(&items, &[], ts(1));
        assert_eq!(m.check_merged(&Meta::default()), Ok(()));
        // ACLs, other keys and removed keys are not user metadata.
        let mut more = m.clone();
        set(
            &mut more,
            &[("x-container-read", ".r:*"), ("x-container-sysmeta-a", "b")],
            2,
        );
        assert_eq!(more.check_merged(&m), Ok(()));
        let mut grown = m.clone();
        set(&mut grown, &[("x-container-meta-one-more", "v")], 2);
        assert_eq!(
            grown.check_merged(&m),
            Err("Too many metadata items; max 90".to_string())
        );
        // Replacing a value, or removing one to make room, is fine.
        let mut swapped = m.clone();
        swapped.apply(
            &[("x-container-meta-new".into(), "v".into())],
            &["x-container-meta-k00".into()],
            ts(3),
        );
        assert_eq!(swapped.check_merged(&m), Ok(()));

        // Size: name without its prefix + value, in bytes.
        let mut big = Meta::default();
        let value = "v".repeat(254);
        let items: Vec<(String, String)> = (0..16)
            .map(|i| (format!("x-account-meta-{i:02}"), value.clone()))
            .collect();
        big.apply(&items, &[], ts(1));
        assert_eq!(big.usage(), (16, 4096));
        assert_eq!(big.check_merged(&Meta::default()), Ok(()));
        let mut over = big.clone();
        set(&mut over, &[("x-account-meta-z", "")], 2);
        assert_eq!(over.check_merged(&big), Ok(()), "empty means removed");
        set(&mut over, &[("x-account-meta-z", "1")], 3);
        assert_eq!(
            over.check_merged(&big),
            Err("Total metadata too large; max 4096".to_string())
        );
    }

    #[test]
    fn metadata_already_over_the_limits_can_shrink_but_not_grow() {
        let mut legacy = Meta::default();
        let items: Vec<(String, String)> = (0..300)
            .map(|i| (format!("x-container-meta-k{i:03}"), "v".to_string()))
            .collect();
        legacy.apply(&items, &[], ts(1));
        let mut trimmed = legacy.clone();
        trimmed.apply(&[], &["x-container-meta-k000".into()], ts(2));
        assert_eq!(trimmed.check_merged(&legacy), Ok(()));
        let mut longer = legacy.clone();
        set(&mut longer, &[("x-container-meta-k001", "vv")], 2);
        assert_eq!(
            longer.check_merged(&legacy),
            Err("Too many metadata items; max 90".to_string())
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
