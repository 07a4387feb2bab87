//! Which filesystem the storage root is on, for the one warning the library
//! gives about it at startup: ext4 (or ext2) without a journal.
//!
//! Why that one: without a journal, ext4's inode allocator passes over every
//! inode deleted in the last minute or more and checks each again at every
//! allocation (`recently_deleted()` in fs/ext4/ialloc.c). Each PUT creates
//! an inode or two, so after many deletions a write flood spends its CPU in
//! that scan, and reads wait for the CPUs (docs/benchmarks.md, "Separation"). After a
//! crash such a filesystem also needs fsck before its metadata can be
//! trusted. Debian installs ext4 with a journal; cloud images sometimes
//! drop it.
//!
//! Read from /proc and /sys only (no unsafe): the device from the root's
//! `st_dev`, its filesystem type from /proc/self/mountinfo, its kernel name
//! from /sys/dev/block, and a journal from /proc/fs/jbd2 (one entry per
//! journaled device, named `<device>-<journal inode>`).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The startup warning for a storage root at `root` (or, while it does not
/// exist yet, the directory it will be made in), if its filesystem is ext4
/// or ext2 without a journal. None when it has one, is another filesystem,
/// or cannot be told (no /proc or /sys).
pub fn warning_for(root: &Path) -> Option<String> {
    let existing = root.ancestors().find(|p| p.exists())?;
    let (major, minor) = dev_numbers(fs::metadata(existing).ok()?.dev());
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let (fstype, source) = mount_of(&mountinfo, major, minor)?;
    if fstype != "ext4" && fstype != "ext2" {
        return None;
    }
    let link = fs::read_link(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let device = link.file_name()?.to_str()?.to_string();
    let journals: Vec<String> = fs::read_dir("/proc/fs/jbd2")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    if has_journal(&device, &journals) {
        return None;
    }
    Some(format!(
        "storage root {} is on {fstype} without a journal ({source}): after many \
         deletions it is slow to create files, as every PUT does, so write floods take \
         the CPUs from reads; after a crash it needs fsck. Use a journaled filesystem \
         (README, \"Storage filesystem\")",
        root.display()
    ))
}

/// Linux's major and minor numbers of a `st_dev` (glibc's
/// `gnu_dev_major`/`gnu_dev_minor` encoding).
fn dev_numbers(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// The filesystem type and source of the mount of device `major:minor` in
/// a mountinfo text ("36 25 254:0 / / rw,relatime - ext4 /dev/vda rw").
fn mount_of(mountinfo: &str, major: u32, minor: u32) -> Option<(String, String)> {
    let want = format!("{major}:{minor}");
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if left.split_whitespace().nth(2)? != want {
            return None;
        }
        let mut rest = right.split_whitespace();
        Some((rest.next()?.to_string(), rest.next()?.to_string()))
    })
}

/// True when /proc/fs/jbd2 lists a journal of kernel device `device`
/// ("vda" has "vda-8"; "loop1" must not match "loop10-8").
fn has_journal(device: &str, journals: &[String]) -> bool {
    journals.iter().any(|j| {
        j.strip_prefix(device)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|ino| !ino.is_empty() && ino.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_device_numbers_as_glibc_does() {
        assert_eq!(dev_numbers(0xfe00), (254, 0));
        assert_eq!(dev_numbers(0x0701), (7, 1));
        // Large numbers: glibc's makedev spreads their bits as below.
        let (major, minor) = (0x12345u64, 0xabcdeu64);
        let dev = ((major & 0xfff) << 8)
            | ((major & !0xfff) << 32)
            | (minor & 0xff)
            | ((minor & !0xff) << 12);
        assert_eq!(dev_numbers(dev), (0x12345, 0xabcde));
    }

    #[test]
    fn finds_the_mount_of_a_device() {
        let info = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    36 25 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n\
                    40 36 7:0 / /mnt/x\\040y rw - ext4 /dev/loop0 rw\n";
        assert_eq!(
            mount_of(info, 254, 0),
            Some(("ext4".into(), "/dev/vda".into()))
        );
        assert_eq!(
            mount_of(info, 7, 0),
            Some(("ext4".into(), "/dev/loop0".into()))
        );
        assert_eq!(mount_of(info, 7, 1), None);
        assert_eq!(mount_of("garbage\n - \n", 7, 0), None);
    }

    #[test]
    fn a_journal_belongs_to_its_own_device_only() {
        let j = vec!["loop10-8".to_string(), "dm-0-8".to_string()];
        assert!(has_journal("loop10", &j));
        assert!(has_journal("dm-0", &j));
        assert!(!has_journal("loop1", &j));
        assert!(!has_journal("vda", &j));
        assert!(!has_journal("dm", &j), "dm-0-8 is dm-0's, not dm's");
    }

    #[test]
    fn warns_about_this_hosts_root_only_if_it_lacks_a_journal() {
        // Whatever this machine has: the call must not fail or panic, and a
        // warning, if any, names the root.
        if let Some(w) = warning_for(Path::new("/nonexistent/stowage/root")) {
            assert!(w.contains("/nonexistent/stowage/root"), "{w}");
        }
    }
}
