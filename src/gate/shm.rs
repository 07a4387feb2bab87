//! The OS layer of the node-wide gates: a shared mapping of
//! `<root>/run/gates-v7.shm` holding, per gate, a process-shared robust
//! mutex and the gate's `GateState`; futex wait/wake on an entry's state
//! word; the monotonic clock. Every `unsafe` block of the gates lives here.
//! The header also holds the words by which opportunistic jobs take
//! node-wide turns (`turn`, `store::turns::NodeJob`): this is the storage
//! root's one piece of shared memory.
//!
//! Why a robust mutex: a child killed while inside the (tiny) critical
//! section must not wedge the gate. The kernel hands the next locker
//! EOWNERDEAD; we mark the mutex consistent and the caller repairs the
//! counters from the entry table (`Locked::recovered`).

use super::table::GateState;
use crate::store::turns::NodeJob;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

/// Bumped whenever `Slot` or `GateState` change layout; part of the file
/// name, so an old child still mapping the old file is never confused.
/// 2: four gates (object reads and writes apart). 3: adaptive write limit.
/// 4: queue lanes (per database). 5: parked writers (`GateState::parked`).
/// 6: the interval's load sum (`YieldState::load`). 7: the node-wide turns
/// of crash recovery and the expiry sweep in the header.
pub const LAYOUT_VERSION: u32 = 7;
const MAGIC: u64 = 0x5354_4f57_4741_5445; // "STOWGATE"
const FUTEX_WAIT: libc::c_int = 0; // shared (not _PRIVATE): other processes wait too
const FUTEX_WAKE: libc::c_int = 1;

#[repr(C)]
struct Header {
    magic: u64,
    version: u32,
    gates: u32,
    slot_size: u64,
    /// Per `NodeJob`, when its next node-wide turn may start (epoch
    /// seconds), used only as `AtomicU64`s (`turn`).
    turns: [u64; NodeJob::COUNT],
}

/// One gate in the mapping: its lock, then its state.
#[repr(C, align(64))]
struct Slot {
    mutex: libc::pthread_mutex_t,
    state: GateState,
}

/// A mapping of `gates` slots after a header.
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    gates: usize,
}

// SAFETY: the mapping is plain shared memory; every access to a slot's
// state goes through its process-shared mutex (`lock`), and the futex calls
// only pass the kernel an address inside the mapping.
unsafe impl Send for Region {}
// SAFETY: as above: shared access is serialised by the slot mutexes.
unsafe impl Sync for Region {}

fn header_len() -> usize {
    size_of::<Header>().next_multiple_of(std::mem::align_of::<Slot>())
}

fn region_len(gates: usize) -> usize {
    header_len() + gates * size_of::<Slot>()
}

impl Region {
    /// Maps (creating and initialising it if needed) the shared file in
    /// `dir` for `gates` gates. Safe against concurrent first use by several
    /// processes: initialisation happens under an exclusive flock.
    pub fn open(dir: &Path, gates: usize) -> io::Result<Region> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(format!("gates-v{LAYOUT_VERSION}.shm"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        file.lock()?;
        let len = region_len(gates);
        let fresh = file.metadata()?.len() != len as u64;
        if fresh {
            // Zero the whole file (a half-initialised leftover included).
            file.set_len(0)?;
            file.set_len(len as u64)?;
        }
        // Give every page its disk blocks now: a page of a sparse file that
        // is first touched through the mapping once the disk is full kills
        // the process with SIGBUS. A full disk here fails open() instead
        // (and the caller falls back to a private mapping).
        allocate(&file, len)?;
        let region = Region::map(Some(&file), len, gates)?;
        if fresh || !region.header_ok() {
            region.init()?;
        }
        file.unlock()?;
        Ok(region)
    }

    /// A process-private region: the fallback when the shared file cannot
    /// be used, and the unit tests' gate.
    pub fn anonymous(gates: usize) -> io::Result<Region> {
        let region = Region::map(None, region_len(gates), gates)?;
        region.init()?;
        Ok(region)
    }

    fn map(file: Option<&File>, len: usize, gates: usize) -> io::Result<Region> {
        let (fd, flags) = match file {
            Some(f) => (f.as_raw_fd(), libc::MAP_SHARED),
            None => (-1, libc::MAP_SHARED | libc::MAP_ANONYMOUS),
        };
        // SAFETY: a fresh mapping at an address the kernel chooses; fd is
        // open (or -1 for anonymous) and len is the file's size.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(p as *mut u8).ok_or_else(|| io::Error::other("mmap gave NULL"))?;
        Ok(Region { base, len, gates })
    }

    fn header(&self) -> *mut Header {
        self.base.as_ptr() as *mut Header
    }

    fn slot(&self, gate: usize) -> *mut Slot {
        assert!(gate < self.gates, "gate index out of range");
        // SAFETY: gate < gates, so the slot lies inside the mapping
        // (region_len), and header_len keeps it aligned for Slot.
        unsafe {
            self.base
                .as_ptr()
                .add(header_len() + gate * size_of::<Slot>()) as *mut Slot
        }
    }

    fn header_ok(&self) -> bool {
        // SAFETY: the header is inside the mapping and only written under
        // the file lock, which the caller holds.
        let h = unsafe { &*self.header() };
        h.magic == MAGIC
            && h.version == LAYOUT_VERSION
            && h.gates as usize == self.gates
            && h.slot_size == size_of::<Slot>() as u64
    }

    /// Initialises every slot's mutex, then writes the header last, so a
    /// crash half-way leaves a file the next opener initialises again.
    fn init(&self) -> io::Result<()> {
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: attr is initialised by pthread_mutexattr_init before any
        // other use and destroyed once; each slot's mutex is inside the
        // mapping, which nobody else uses yet (zero-filled, header unset,
        // and the caller holds the file lock).
        unsafe {
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let a = attr.as_mut_ptr();
            let r = check(libc::pthread_mutexattr_setpshared(
                a,
                libc::PTHREAD_PROCESS_SHARED,
            ))
            .and_then(|_| {
                check(libc::pthread_mutexattr_setrobust(
                    a,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))
            })
            .and_then(|_| {
                for g in 0..self.gates {
                    check(libc::pthread_mutex_init(
                        std::ptr::addr_of_mut!((*self.slot(g)).mutex),
                        a,
                    ))?;
                }
                Ok(())
            });
            libc::pthread_mutexattr_destroy(a);
            r?;
            *self.header() = Header {
                magic: MAGIC,
                version: LAYOUT_VERSION,
                gates: self.gates as u32,
                slot_size: size_of::<Slot>() as u64,
                turns: [0; NodeJob::COUNT],
            };
        }
        Ok(())
    }

    /// The word `job` takes its node-wide turns by (`store::turns::claim`).
    pub fn turn(&self, job: NodeJob) -> &AtomicU64 {
        // SAFETY: the header lies at the start of the mapping, which lives
        // as long as `self`; each element of `turns` is a u64 at an 8-aligned
        // offset of a repr(C) struct at a page-aligned address, so it is a
        // valid AtomicU64 (the index is checked by the array access); after
        // `init` the words are only ever accessed atomically.
        unsafe {
            let words = std::ptr::addr_of_mut!((*self.header()).turns);
            &*(std::ptr::addr_of_mut!((*words)[job.index()]) as *const AtomicU64)
        }
    }

    /// Locks gate `gate`. `recovered` tells the caller that the previous
    /// holder died inside the critical section: repair the state.
    pub fn lock(&self, gate: usize) -> io::Result<Locked<'_>> {
        let slot = self.slot(gate);
        // SAFETY: the mutex was initialised (process-shared, robust) before
        // the header was written, and the mapping outlives the guard.
        let rc = unsafe { libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*slot).mutex)) };
        let recovered = match rc {
            0 => false,
            libc::EOWNERDEAD => {
                // SAFETY: we own the mutex now (EOWNERDEAD is a success).
                check(unsafe {
                    libc::pthread_mutex_consistent(std::ptr::addr_of_mut!((*slot).mutex))
                })?;
                true
            }
            e => return Err(io::Error::from_raw_os_error(e)),
        };
        Ok(Locked {
            slot,
            recovered,
            _region: self,
        })
    }

    fn state_word(&self, gate: usize, entry: usize) -> *const AtomicU32 {
        // SAFETY: the slot is inside the mapping; `entries` is a fixed
        // array and the index is checked by the slice access.
        unsafe { std::ptr::addr_of!((*self.slot(gate)).state.entries[entry].state) }
    }

    /// Sleeps while entry `entry` of `gate` still reads `expect`, at most
    /// `timeout`. Spurious wake-ups are fine: callers re-check under lock.
    pub fn wait(&self, gate: usize, entry: usize, expect: u32, timeout: Duration) {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        let word = self.state_word(gate, entry);
        // SAFETY: word is an aligned u32 inside a shared mapping that
        // outlives the call; FUTEX_WAIT only reads it.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word,
                FUTEX_WAIT,
                expect,
                &ts as *const _,
                0usize,
                0u32,
            );
        }
    }

    /// Wakes whoever sleeps on entry `entry` of `gate`.
    pub fn wake(&self, gate: usize, entry: usize) {
        let word = self.state_word(gate, entry);
        // SAFETY: as in `wait`; FUTEX_WAKE does not touch the memory.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word,
                FUTEX_WAKE,
                1i32,
                0usize,
                0usize,
                0u32,
            );
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: base/len came from a successful mmap and no guard can
        // outlive the region (guards borrow it).
        unsafe { libc::munmap(self.base.as_ptr() as *mut libc::c_void, self.len) };
    }
}

/// A locked gate; derefs to its state. Unlocks on drop.
pub struct Locked<'a> {
    slot: *mut Slot,
    pub recovered: bool,
    _region: &'a Region,
}

impl Deref for Locked<'_> {
    type Target = GateState;
    fn deref(&self) -> &GateState {
        // SAFETY: we hold the slot's mutex, so no other thread or process
        // writes the state while this guard lives.
        unsafe { &(*self.slot).state }
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut GateState {
        // SAFETY: as in deref; the guard is the only path to the state.
        unsafe { &mut (*self.slot).state }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard locked the mutex in `lock`.
        unsafe { libc::pthread_mutex_unlock(std::ptr::addr_of_mut!((*self.slot).mutex)) };
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the same clock in every process of the
/// machine, so waits measured across processes agree.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Allocates disk blocks for the first `len` bytes of `file` (a no-op for
/// blocks it already has).
fn allocate(file: &File, len: usize) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: posix_fallocate takes a descriptor we own, open for writing
    // for as long as `file` lives, and plain integers; it touches no memory
    // of ours.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
        0 => Ok(()),
        code => Err(io::Error::from_raw_os_error(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_shared_file_has_all_its_blocks() {
        // A sparse page touched through the mapping on a full disk is SIGBUS.
        let dir = tempfile::tempdir().unwrap();
        let _r = Region::open(dir.path(), 4).unwrap();
        let path = dir.path().join(format!("gates-v{LAYOUT_VERSION}.shm"));
        let md = fs::metadata(path).unwrap();
        assert_eq!(md.len(), region_len(4) as u64);
        assert!(md.blocks() * 512 >= md.len(), "{} blocks", md.blocks());
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let region = Region::open(dir.path(), 1).unwrap();
        // SAFETY: the child only locks the shared mutex and _exits (no
        // allocation, no Rust runtime), so forking a threaded test process
        // is sound here.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let slot = region.slot(0);
            // SAFETY: see above; the child dies holding the lock.
            unsafe {
                libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*slot).mutex));
                libc::_exit(0);
            }
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let st = region.lock(0).unwrap();
        assert!(st.recovered);
        drop(st);
        assert!(!region.lock(0).unwrap().recovered);
        // A second mapping sees an initialised file and the same lock.
        let again = Region::open(dir.path(), 1).unwrap();
        assert!(!again.lock(0).unwrap().recovered);
    }
}
