//! Stored bytes are checked against their ETag before a client can take them
//! as good, and an object that fails is quarantined (Swift's behaviour: 404
//! afterwards).
//!
//! Two ways, by size, so that small GETs stay cheap and large ones start at
//! once:
//! - up to `VERIFY_FIRST_MAX` (and any Range GET): the object is hashed
//!   before the response starts (from the page cache it has just been read
//!   into), then sent through the host's zero-copy path. A bad one is
//!   quarantined and the request answered 404, as Swift answers a GET that
//!   finds its object quarantined. (For a range of a larger object this
//!   happens after the admission permit is released: `swift::object::settle`.)
//! - larger whole-object GETs: the bytes stream through the library while
//!   being hashed and the last piece is held back until the digest is known.
//!   A bad one is quarantined and the response ends short of its
//!   Content-Length (the connection closes), so no client takes it as good.
//!
//! A file that matched a moment ago and has not changed since is not hashed
//! again (`verified`): it is sent with sendfile at once. Checks before
//! sending are made once per object version for the whole node
//! (`verify_once`): concurrent requests wait for the one in progress. A
//! Range GET of a large object is checked after its admission permit is
//! released (`Pending`, `swift::object::settle`), so requests waiting for that one check
//! hold no permit that other GETs need.

use crate::core::http::{Broken, Host, LogLevel, SendError, Streamed};
use crate::node::verified;
use crate::node::verify_once::{self, Checked};
use crate::node::vhost::Vhost;
use crate::store::catalog::Catalog;
use crate::store::objects::OpenObject;
use crate::store::quarantine::{Evidence, Quarantine};
use crate::store::{StoreError, Timestamp};
use md5::{Digest, Md5};
use std::any::Any;
use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Objects up to this size are verified before the response starts.
pub const VERIFY_FIRST_MAX: u64 = 8 << 20;
/// Piece size when streaming a larger object through the library.
const STREAM_BUF: usize = 256 * 1024;

/// The object a response is serving, and what its bytes should hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    pub account: String,
    pub container: String,
    pub object: String,
    /// The `.data` file.
    pub path: PathBuf,
    /// The ETag its metadata holds.
    pub etag: String,
}

impl Suspect {
    pub fn new(names: (&str, &str, &str), obj: &OpenObject) -> Suspect {
        Suspect {
            account: names.0.to_string(),
            container: names.1.to_string(),
            object: names.2.to_string(),
            path: obj.path.clone(),
            etag: obj.meta.etag.clone(),
        }
    }

    fn evidence(&self, reason: &str, actual: &str) -> Evidence {
        Evidence {
            reason: reason.to_string(),
            expected: self.etag.clone(),
            actual: actual.to_string(),
            name: Some((
                self.account.clone(),
                self.container.clone(),
                self.object.clone(),
            )),
        }
    }
}

/// What the check before sending found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Good,
    /// Bad, and now quarantined: answer 404.
    Quarantined,
}

/// Hashes the whole object before anything is sent.
pub fn verify_first(
    vh: &Vhost,
    suspect: &Suspect,
    obj: &OpenObject,
    host: &mut dyn Host,
) -> Result<Verdict, StoreError> {
    check_file(vh, suspect, &obj.file, obj.meta.size, host)
}

/// `verify_first` of an open `.data` file holding `size` object bytes.
fn check_file(
    vh: &Vhost,
    suspect: &Suspect,
    file: &File,
    size: u64,
    host: &mut dyn Host,
) -> Result<Verdict, StoreError> {
    let outcome = verify_once::check(&vh.verdicts, file, size, &suspect.etag)
        .map_err(|e| StoreError::io("verifying", &suspect.path, e))?;
    if let Some(took) = outcome.hashed {
        host.log(
            LogLevel::Debug,
            &format!(
                "verified object /{}/{}/{}: hashed {size} bytes in {} ms",
                suspect.account,
                suspect.container,
                suspect.object,
                took.as_millis()
            ),
        );
    }
    match outcome.checked {
        Checked::Good => Ok(Verdict::Good),
        Checked::KnownBad => Ok(Verdict::Quarantined),
        Checked::Mismatch { actual } => {
            let evidence = suspect.evidence("MD5 mismatch", &actual);
            quarantine_logged(vh, &evidence, &suspect.path, host)?;
            Ok(Verdict::Quarantined)
        }
    }
}

/// A check `verify_first` would make, left for after the admission permit
/// is released: the response that waits for it is sent only if the bytes
/// are good.
#[derive(Debug)]
pub struct Pending {
    pub file: Arc<File>,
    pub size: u64,
    pub suspect: Suspect,
}

impl Pending {
    /// Makes the check, before anything of the response that waited for it
    /// is sent (the object processor's `settle`, once the permit is gone).
    pub fn check(&self, vh: &Vhost, host: &mut dyn Host) -> Result<Verdict, StoreError> {
        check_file(vh, &self.suspect, &self.file, self.size, host)
    }
}

/// A `.data` file whose metadata cannot be read is quarantined too (Swift
/// quarantines on bad metadata). The object's names are known, its ETag not.
pub fn quarantine_unreadable(
    vh: &Vhost,
    names: (&str, &str, &str),
    path: &Path,
    detail: &str,
    host: &mut dyn Host,
) -> Result<(), StoreError> {
    let evidence = Evidence {
        reason: detail.to_string(),
        expected: String::new(),
        actual: String::new(),
        name: Some((names.0.into(), names.1.into(), names.2.into())),
    };
    quarantine_logged(vh, &evidence, path, host)
}

/// The first `len` bytes of a stored object, streamed through the library
/// while their MD5 is computed: the last piece goes out only when the
/// digest matches the ETag.
#[derive(Debug)]
pub struct VerifiedStream {
    pub file: Arc<File>,
    pub len: u64,
    pub suspect: Suspect,
}

impl Streamed for VerifiedStream {
    fn len(&self) -> u64 {
        self.len
    }

    fn send(&self, host: &mut dyn Host) -> Result<(), SendError> {
        stream_verified(host, &self.file, self.len, &self.suspect)
    }
}

/// A verified body that turned out not to match its ETag (or could not be
/// read) before its last byte. `actual` is None for a read error.
#[derive(Debug)]
pub struct Corrupt {
    pub suspect: Suspect,
    pub actual: Option<String>,
    pub detail: String,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored object is corrupt: {}", self.detail)
    }
}

impl Broken for Corrupt {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Streams `[0, len)` of `file` through `host.write`, hashing on the way;
/// the last piece is written only when the MD5 matches.
fn stream_verified(
    host: &mut dyn Host,
    file: &File,
    len: u64,
    suspect: &Suspect,
) -> Result<(), SendError> {
    let corrupt = |actual: Option<String>, detail: String| {
        SendError::Broken(Box::new(Corrupt {
            suspect: suspect.clone(),
            actual,
            detail,
        }))
    };
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; STREAM_BUF];
    let mut offset = 0u64;
    while offset < len {
        let want = buf
            .len()
            .min(usize::try_from(len - offset).unwrap_or(usize::MAX));
        if let Err(e) = file.read_exact_at(&mut buf[..want], offset) {
            return Err(corrupt(None, format!("reading at {offset}: {e}")));
        }
        md5.update(&buf[..want]);
        offset += want as u64;
        if offset == len {
            let actual = crate::core::hex::hex(&md5.clone().finalize());
            if actual != suspect.etag {
                let detail = format!("MD5 {actual}, ETag {}", suspect.etag);
                return Err(corrupt(Some(actual), detail));
            }
            verified::remember(file);
        }
        host.write(&buf[..want])?;
    }
    Ok(())
}

/// After a streamed response broke off: quarantine when the bytes were
/// wrong, log either way.
pub fn after_broken_stream(vh: &Vhost, err: &SendError, host: &mut dyn Host) {
    let SendError::Broken(why) = err else {
        return;
    };
    let Some(Corrupt {
        suspect,
        actual,
        detail,
    }) = why.as_any().downcast_ref::<Corrupt>()
    else {
        return;
    };
    match actual {
        Some(actual) => {
            let evidence = suspect.evidence("MD5 mismatch", actual);
            if let Err(e) = quarantine_logged(vh, &evidence, &suspect.path, host) {
                host.log(LogLevel::Error, &format!("storage error: {e}"));
            }
        }
        None => host.log(
            LogLevel::Error,
            &format!("GET of {} ended short: {detail}", suspect.path.display()),
        ),
    }
}

/// Logs through `host` what `quarantine` did.
fn quarantine_logged(
    vh: &Vhost,
    evidence: &Evidence,
    path: &Path,
    host: &mut dyn Host,
) -> Result<(), StoreError> {
    if let Some(line) = quarantine(&vh.quarantine, &vh.catalog, evidence, path)? {
        host.log(LogLevel::Error, &line);
    }
    Ok(())
}

/// Moves the bad file aside and drops its listing row (nothing on one node
/// can restore it, so listings and counts should not promise it). Returns
/// the line to log, or None when someone else quarantined (or replaced) the
/// file first. Shared by the server and `stowage-audit`.
pub fn quarantine(
    q: &Quarantine,
    catalog: &Catalog,
    evidence: &Evidence,
    path: &Path,
) -> Result<Option<String>, StoreError> {
    let Some(moved) = q.object(path, evidence)? else {
        return Ok(None);
    };
    let name = match &evidence.name {
        Some((a, c, o)) => format!("/{a}/{c}/{o}"),
        None => "(name unknown)".to_string(),
    };
    if let (Some((a, c, o)), Some(ts)) = (&evidence.name, version_of(path)) {
        // Just after the bad version: a newer PUT's row still wins.
        let after = Timestamp::from_units(ts.units() + 1);
        catalog.object_delete(a, c, o, after)?;
    }
    Ok(Some(format!(
        "quarantined object {name}: {} -> {}: {} (expected MD5 {}, actual {})",
        path.display(),
        moved.display(),
        evidence.reason,
        or_unknown(&evidence.expected),
        or_unknown(&evidence.actual),
    )))
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() {
        "unknown"
    } else {
        s
    }
}

fn version_of(path: &Path) -> Option<Timestamp> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(Timestamp::parse)
}
