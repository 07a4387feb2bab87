//! The few OS calls std does not offer, each behind a safe function.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// The process's real user and group ids.
pub fn ids() -> (u32, u32) {
    // SAFETY: getuid/getgid take no arguments, cannot fail and only read the
    // process's credentials.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Gives a name to a file opened with O_TMPFILE. Until this succeeds the
/// file has no name, so a crash mid-write can never leave a visible or
/// leaked partial file. Fails with EEXIST if `dest` exists.
pub fn link_anonymous(file: &File, dest: &Path) -> io::Result<()> {
    let src = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let dst = CString::new(dest.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the
    // call; linkat does not keep them.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            src.as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// ENOSPC (before anything is written) when `len` more bytes cannot fit on
/// `file`'s filesystem, so an upload that cannot fit is refused before its
/// body is read. Nothing is reserved: a request holds only the blocks of
/// the bytes it has actually sent (a `fallocate` of the whole announced
/// length let a few header-only PUTs hold the disk, issue 17).
pub fn ensure_room(file: &File, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    check_free_space(file, len)
}

/// ENOSPC when fewer than `len` bytes are free for this user on `file`'s
/// filesystem.
fn check_free_space(file: &File, len: u64) -> io::Result<()> {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: fstatvfs fills the statvfs struct we point it at and keeps no
    // reference to it; the descriptor stays open for the call.
    let rc = unsafe { libc::fstatvfs(file.as_raw_fd(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatvfs returned 0, so it initialised the whole struct.
    let st = unsafe { st.assume_init() };
    let free = u128::from(st.f_bavail) * u128::from(st.f_frsize);
    if free < u128::from(len) {
        return Err(io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// The process's effective user id.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, cannot fail and only reads the
    // process's credentials.
    unsafe { libc::geteuid() }
}

/// Drops root for `uid`/`gid` (no supplementary groups), for a tool that
/// must create files as the storage root's owner, as the server would.
pub fn switch_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: setgroups with size 0 reads no memory; setgid/setuid take
    // plain integers. Each result is checked.
    let ok = unsafe {
        libc::setgroups(0, std::ptr::null()) == 0
            && libc::setgid(gid) == 0
            && libc::setuid(uid) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// How many threads are runnable node-wide right now, running or waiting
/// for a CPU: the fourth field of /proc/loadavg ("3/412" = 3 of 412),
/// which the kernel sums over the CPUs' run queues as the file is read.
/// One descriptor per process, read at offset 0 from any thread (procfs
/// renders the text afresh), so a sample is one pread of ~40 bytes. None
/// where there is no /proc.
pub fn runnable_threads() -> Option<u32> {
    use std::os::unix::fs::FileExt;
    static LOADAVG: std::sync::OnceLock<Option<File>> = std::sync::OnceLock::new();
    let f = LOADAVG
        .get_or_init(|| File::open("/proc/loadavg").ok())
        .as_ref()?;
    let mut buf = [0u8; 128];
    let n = f.read_at(&mut buf, 0).ok()?;
    runnable_in_loadavg(std::str::from_utf8(&buf[..n]).ok()?)
}

/// The runnable count of a /proc/loadavg line
/// ("0.52 0.58 0.59 3/412 12345").
fn runnable_in_loadavg(text: &str) -> Option<u32> {
    let (running, _) = text.split_whitespace().nth(3)?.split_once('/')?;
    running.parse().ok()
}

/// The CPUs online, the ones /proc/loadavg's runnable count is spread
/// over (not this process's affinity: the count is node-wide). Read once.
pub fn online_cpus() -> u32 {
    static CPUS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| {
        // SAFETY: sysconf takes an integer name, reads no memory of ours
        // and returns -1 on error, which the conversion below rejects.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        u32::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
    })
}

#[cfg(test)]
mod tests {
    use super::{online_cpus, runnable_in_loadavg, runnable_threads};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn reads_the_runnable_count_of_a_loadavg_line() {
        assert_eq!(runnable_in_loadavg("0.52 0.58 0.59 3/412 12345\n"), Some(3));
        assert_eq!(runnable_in_loadavg("1.00 1.00 1.00 130/2048 7"), Some(130));
        assert_eq!(runnable_in_loadavg("0.52 0.58 0.59"), None);
        assert_eq!(runnable_in_loadavg("0.52 0.58 0.59 x/412 1"), None);
        assert_eq!(runnable_in_loadavg(""), None);
    }

    #[test]
    fn runnable_threads_count_spinners_on_every_cpu() {
        let cpus = online_cpus();
        assert!(cpus >= 1);
        assert!(
            runnable_threads().is_some_and(|n| n >= 1),
            "at least this thread"
        );
        // Threads that never block are always runnable: with three per CPU
        // spinning, the count is at least that many, whatever else runs.
        let spinners = 3 * cpus as usize;
        let stop = AtomicBool::new(false);
        let seen = std::thread::scope(|s| {
            for _ in 0..spinners {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(50));
            let seen = (0..20).filter_map(|_| runnable_threads()).max();
            stop.store(true, Ordering::Relaxed);
            seen
        });
        assert!(seen >= Some(spinners as u32), "{seen:?} < {spinners}");
    }
}
