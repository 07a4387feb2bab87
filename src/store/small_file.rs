//! Small files written whole in one call (tokens, expiry markers).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Creates or replaces `path` with `bytes` (a new file is owner-only). When
/// the write fails (say, the disk is full after the file was created) the
/// file is removed again, so no empty or partial file is left for a reader
/// to trip over.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    super::perms::create_file(path)
        .and_then(|mut f| f.write_all(bytes))
        .inspect_err(|_| {
            let _ = fs::remove_file(path);
        })
}
