//! Where Swift keeps an object on a device:
//! `<device>/objects[-N]/<partition>/<suffix>/<hash>/`, the hash being
//! Swift's `hash_path` of `/account/container/object` (`HashPath`, salted
//! by `swift.conf`'s prefix and suffix), the partition its top
//! `part_power` bits as the ring computes it, the suffix its last three hex
//! digits. Storage policy N > 0 appends `-N` to the per-policy directories
//! (`objects`, `async_pending`, `tmp`), as Swift's `get_policy_string`.

use crate::store::hash_path::HashPath;
use std::path::{Path, PathBuf};

/// Swift's `DATADIR_BASE`.
pub const DATADIR_BASE: &str = "objects";
/// Swift's `ASYNCDIR_BASE`: container updates the object-updater retries.
pub const ASYNCDIR_BASE: &str = "async_pending";
/// Swift's `TMP_BASE`: where files are written before they are renamed
/// into place (the replicator removes ones older than its reclaim age).
pub const TMP_BASE: &str = "tmp";
/// Where damaged hash directories are moved, per data directory.
pub const QUARANTINE_DIR: &str = "quarantined";
/// The partition's invalidated suffixes, one a line.
pub const HASH_INVALIDATIONS_FILE: &str = "hashes.invalid";
/// The replicator's suffix hashes (written by Swift's replicator only).
pub const HASH_FILE: &str = "hashes.pkl";
/// The highest part power a ring allows.
pub const MAX_PART_POWER: u8 = 32;

/// `base` for policy 0, `base-N` for policy N (`get_policy_string`).
pub fn policy_dir(base: &str, policy: u32) -> String {
    if policy == 0 {
        base.to_string()
    } else {
        format!("{base}-{policy}")
    }
}

/// The policy index of a directory named by `policy_dir(base, N)`: None
/// for another name (`objects-0`, `objects-01`, `objectsfoo` are not one).
pub fn parse_policy_dir(base: &str, name: &str) -> Option<u32> {
    if name == base {
        return Some(0);
    }
    let index: u32 = name.strip_prefix(base)?.strip_prefix('-')?.parse().ok()?;
    (policy_dir(base, index) == name).then_some(index)
}

/// The ring's partition of a name hash (32 hex digits): the hash's first
/// four bytes as a big-endian number, shifted right by `32 - part_power`
/// (Swift's `Ring.get_part`). None for a hash that is not hex or a part
/// power above 32.
pub fn partition(hash: &str, part_power: u8) -> Option<u32> {
    if part_power > MAX_PART_POWER || hash.len() != 32 {
        return None;
    }
    let top = u32::from_str_radix(hash.get(..8)?, 16).ok()?;
    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u64::from(top) >> (32 - u32::from(part_power))) as u32)
}

/// The suffix directory of a hash: its last three characters (the whole
/// of a hash too short or not ASCII, which no `HashPath` makes).
pub fn suffix(hash: &str) -> &str {
    hash.get(hash.len().saturating_sub(3)..).unwrap_or(hash)
}

/// One object's place on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    /// The device's mount point (`<devices>/<device>`).
    pub device: PathBuf,
    pub policy: u32,
    pub partition: u32,
    /// The object's name hash, 32 hex digits.
    pub hash: String,
}

impl ObjectLocation {
    /// Where `/account/container/object` goes with `hp`'s salt and a ring
    /// of `part_power`. None for a part power above 32.
    pub fn for_name(
        device: &Path,
        policy: u32,
        part_power: u8,
        hp: &HashPath,
        account: &str,
        container: &str,
        object: &str,
    ) -> Option<ObjectLocation> {
        let hash = hp.object(account, container, object);
        Some(ObjectLocation {
            device: device.to_path_buf(),
            policy,
            partition: partition(&hash, part_power)?,
            hash,
        })
    }

    /// `<device>/objects[-N]`
    pub fn data_dir(&self) -> PathBuf {
        self.device.join(policy_dir(DATADIR_BASE, self.policy))
    }

    /// `<device>/objects[-N]/<partition>`
    pub fn partition_dir(&self) -> PathBuf {
        self.data_dir().join(self.partition.to_string())
    }

    /// `<device>/objects[-N]/<partition>/<suffix>`
    pub fn suffix_dir(&self) -> PathBuf {
        self.partition_dir().join(suffix(&self.hash))
    }

    /// `<device>/objects[-N]/<partition>/<suffix>/<hash>`: the object's files.
    pub fn hash_dir(&self) -> PathBuf {
        self.suffix_dir().join(&self.hash)
    }

    /// `<device>/tmp[-N]`
    pub fn tmp_dir(&self) -> PathBuf {
        self.device.join(policy_dir(TMP_BASE, self.policy))
    }

    /// `<device>/async_pending[-N]`
    pub fn async_dir(&self) -> PathBuf {
        self.device.join(policy_dir(ASYNCDIR_BASE, self.policy))
    }

    /// `<device>/quarantined/objects[-N]/<hash>`: where a damaged hash
    /// directory goes (a `-<uuid hex>` is appended when that is taken).
    pub fn quarantine_dir(&self) -> PathBuf {
        self.device
            .join(QUARANTINE_DIR)
            .join(policy_dir(DATADIR_BASE, self.policy))
            .join(&self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The partitions below are Swift's own: a ring built by Swift 2.38's
    // RingBuilder with one device and this part power, asked by
    // `Ring.get_part`, with swift.conf's prefix "pre" and suffix "suf":
    //
    //   from swift.common import utils
    //   utils.HASH_PATH_PREFIX = b'pre'; utils.HASH_PATH_SUFFIX = b'suf'
    //   from swift.common.ring import RingBuilder, Ring
    //   b = RingBuilder(pp, 1, 0); b.add_dev({'id': 0, 'region': 1,
    //       'zone': 1, 'ip': '127.0.0.1', 'port': 6200, 'device': 'sda',
    //       'weight': 1}); b.rebalance(); b.get_ring().save('o.ring.gz')
    //   r = Ring('o.ring.gz'); print(utils.hash_path(a, c, o), r.get_part(a, c, o))
    #[test]
    fn partitions_and_hashes_are_swifts() {
        let hp = HashPath::salted("pre", "suf");
        let cases = [
            (
                ("AUTH_test", "c", "o"),
                "c986cba3005b6c92e63df5b00b653be6",
                [0, 1, 806, 206363],
            ),
            (
                ("AUTH_a", "c", "oé"),
                "a157cb6603418d26488daa9a702477a0",
                [0, 1, 645, 165215],
            ),
        ];
        for ((a, c, o), hash, parts) in cases {
            assert_eq!(hp.object(a, c, o), hash);
            for (pp, want) in [0u8, 1, 10, 18].into_iter().zip(parts) {
                assert_eq!(partition(hash, pp), Some(want), "{hash} part power {pp}");
            }
            let loc = ObjectLocation::for_name(Path::new("/srv/node/sda"), 0, 10, &hp, a, c, o)
                .expect("valid part power");
            assert_eq!(loc.partition, parts[2]);
        }
        // Part power 32 is the first four bytes whole (0xc986cba3).
        assert_eq!(
            partition("c986cba3005b6c92e63df5b00b653be6", 32),
            Some(3381054371)
        );
        assert_eq!(partition("c986cba3005b6c92e63df5b00b653be6", 33), None);
        assert_eq!(partition("not hex", 10), None);
        assert_eq!(partition("zz86cba3005b6c92e63df5b00b653be6", 10), None);
    }

    #[test]
    fn paths_are_swifts() {
        let loc = ObjectLocation {
            device: PathBuf::from("/srv/node/sda"),
            policy: 0,
            partition: 7,
            hash: "a157cb6603418d26488daa9a702477a0".into(),
        };
        // Swift's DiskFile for this name, part 7, policy 0 has _datadir
        // /srv/node/sda/objects/7/7a0/a157cb6603418d26488daa9a702477a0
        assert_eq!(
            loc.hash_dir(),
            Path::new("/srv/node/sda/objects/7/7a0/a157cb6603418d26488daa9a702477a0")
        );
        assert_eq!(loc.tmp_dir(), Path::new("/srv/node/sda/tmp"));
        assert_eq!(loc.async_dir(), Path::new("/srv/node/sda/async_pending"));
        let two = ObjectLocation { policy: 2, ..loc };
        assert_eq!(two.suffix_dir(), Path::new("/srv/node/sda/objects-2/7/7a0"));
        assert_eq!(two.tmp_dir(), Path::new("/srv/node/sda/tmp-2"));
        assert_eq!(two.async_dir(), Path::new("/srv/node/sda/async_pending-2"));
        assert_eq!(
            two.quarantine_dir(),
            Path::new("/srv/node/sda/quarantined/objects-2/a157cb6603418d26488daa9a702477a0")
        );
        assert_eq!(suffix("a157cb6603418d26488daa9a702477a0"), "7a0");
        assert_eq!(suffix("ab"), "ab");
        assert_eq!(suffix("aéé"), "aéé", "never a panic");
        assert_eq!(parse_policy_dir("objects", "objects"), Some(0));
        assert_eq!(parse_policy_dir("objects", "objects-2"), Some(2));
        for bad in ["objects-0", "objects-02", "objects-", "objectsx", "tmp"] {
            assert_eq!(parse_policy_dir("objects", bad), None, "{bad}");
        }
    }
}
