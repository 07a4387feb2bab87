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

/// Reserves `len` bytes of disk for `file` without changing its size (the
/// blocks are used by the writes that follow), so an upload that cannot fit
/// fails with ENOSPC before its body is read. Where the filesystem cannot
/// preallocate, compares `len` with the free space instead.
pub fn reserve(file: &File, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let Ok(off_len) = libc::off_t::try_from(len) else {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    };
    // SAFETY: fallocate takes a descriptor we own (open for writing for as
    // long as `file` lives) and plain integers; it touches no memory of ours.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, off_len) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EOPNOTSUPP | libc::ENOSYS) => check_free_space(file, len),
        _ => Err(err),
    }
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

/// The calling thread's CPU time and voluntary context switches so far
/// (`getrusage(RUSAGE_THREAD)`): with a wall clock around a piece of work,
/// enough to tell how long the thread waited for a CPU (see `CpuWait`).
#[derive(Debug, Clone, Copy)]
pub struct ThreadUsage {
    pub cpu: std::time::Duration,
    pub voluntary_switches: u64,
}

/// This thread's usage now; None if the kernel refuses (it does not).
pub fn thread_usage() -> Option<ThreadUsage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: ru is writable and large enough for a struct rusage, which
    // getrusage fills on success; RUSAGE_THREAD names the calling thread.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage succeeded, so ru is initialised.
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec.max(0) as u64)
            + std::time::Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Some(ThreadUsage {
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        voluntary_switches: ru.ru_nvcsw.max(0) as u64,
    })
}

/// Measures how long a piece of work on this thread waited for a CPU:
/// wall time minus CPU time, counted only when the thread never blocked
/// (no voluntary context switch), so that what remains is time spent
/// ready to run but not running. (Reading the kernel's own run-queue delay
/// from /proc/thread-self/schedstat was tried: the first open per thread
/// took 5-30 ms inside Apache's children.)
///
/// Caveat, measured: inside Apache's children `getrusage` dates a running
/// thread's CPU time from its last tick or switch, so for work shorter than
/// a tick the result is close to the wall time, not the wait (docs/gates.md,
/// "What the signal really measures").
pub struct CpuWait {
    wall: std::time::Instant,
    usage: ThreadUsage,
}

impl CpuWait {
    pub fn start() -> Option<CpuWait> {
        Some(CpuWait {
            usage: thread_usage()?,
            wall: std::time::Instant::now(),
        })
    }

    /// None when the work blocked (I/O, a lock): its off-CPU time is not
    /// all waiting for a CPU, so it says nothing about CPU contention.
    pub fn finish(&self) -> Option<std::time::Duration> {
        let wall = self.wall.elapsed();
        let now = thread_usage()?;
        if now.voluntary_switches != self.usage.voluntary_switches {
            return None;
        }
        Some(wall.saturating_sub(now.cpu.saturating_sub(self.usage.cpu)))
    }
}

#[cfg(test)]
mod tests {
    use super::CpuWait;
    use std::time::{Duration, Instant};

    /// Spins for `d` of wall time.
    fn spin(d: Duration) {
        let t = Instant::now();
        while t.elapsed() < d {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn cpu_wait_grows_when_threads_outnumber_cpus() {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let alone = CpuWait::start().unwrap();
        spin(Duration::from_millis(20));
        let quiet = alone.finish();
        let crowded = std::thread::scope(|s| {
            for _ in 0..cpus * 4 {
                s.spawn(|| spin(Duration::from_millis(400)));
            }
            let w = CpuWait::start().unwrap();
            spin(Duration::from_millis(300));
            w.finish()
        });
        // Spinning never blocks, so both are measured; sharing the CPUs
        // with four times as many spinners leaves most of the wall time
        // spent waiting.
        let crowded = crowded.expect("spinning does not block");
        assert!(crowded > Duration::from_millis(100), "{crowded:?}");
        assert!(quiet.is_some());
    }

    #[test]
    fn work_that_blocks_is_not_measured() {
        let w = CpuWait::start().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(w.finish(), None);
    }
}
