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
