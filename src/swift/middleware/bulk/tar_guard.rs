//! A reader in front of the tar parser that follows the archive's block
//! layout as it streams past and refuses an extension header (GNU long
//! name or link, pax) larger than `MAX_EXTENSION`: the `tar` crate (like
//! Python's tarfile) reads those whole into memory, so one header
//! announcing gigabytes would otherwise be a memory bomb. File data is
//! never held; only a header block and a small pax record are.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// The largest extension header accepted (a long name is at most a few
/// KiB; pax records with xattrs rarely more).
pub const MAX_EXTENSION: u64 = 1 << 20;

const BLOCK: u64 = 512;

pub struct TarGuard<R> {
    inner: R,
    /// Set once an extension header was refused.
    pub refused: Rc<Cell<bool>>,
    pos: u64,
    /// Where the next header block starts.
    next_header: u64,
    header: Vec<u8>,
    /// A pax header's data being collected (for its `size` record), and
    /// where that data ends.
    pax: Option<(Vec<u8>, u64)>,
    /// The size a pax header gave the next member.
    pax_size: Option<u64>,
    /// The layout could not be followed (a header that does not parse):
    /// the tar parser will refuse it; stop looking.
    lost: bool,
}

impl<R: Read> TarGuard<R> {
    pub fn new(inner: R, refused: Rc<Cell<bool>>) -> Self {
        TarGuard {
            inner,
            refused,
            pos: 0,
            next_header: 0,
            header: Vec::with_capacity(BLOCK as usize),
            pax: None,
            pax_size: None,
            lost: false,
        }
    }

    fn follow(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() && !self.lost {
            if self.pos < self.next_header {
                let take = bytes
                    .len()
                    .min(usize::try_from(self.next_header - self.pos).unwrap_or(usize::MAX));
                if let Some((data, end)) = self.pax.as_mut() {
                    let keep = take.min(usize::try_from(end.saturating_sub(self.pos)).unwrap_or(0));
                    data.extend_from_slice(&bytes[..keep]);
                }
                self.pos += take as u64;
                bytes = &bytes[take..];
                if self.pos == self.next_header {
                    if let Some((data, _)) = self.pax.take() {
                        self.pax_size = pax_size(&data).or(self.pax_size);
                    }
                }
                continue;
            }
            let take = bytes.len().min(BLOCK as usize - self.header.len());
            self.header.extend_from_slice(&bytes[..take]);
            self.pos += take as u64;
            bytes = &bytes[take..];
            if self.header.len() == BLOCK as usize {
                let header = std::mem::take(&mut self.header);
                self.at_header(&header)?;
            }
        }
        Ok(())
    }

    fn at_header(&mut self, h: &[u8]) -> io::Result<()> {
        if h.iter().all(|&b| b == 0) {
            self.next_header = self.pos;
            return Ok(());
        }
        let Some(size) = header_size(&h[124..136]) else {
            self.lost = true;
            return Ok(());
        };
        let kind = h[156];
        let extension = matches!(kind, b'L' | b'K' | b'x' | b'g');
        if extension && size > MAX_EXTENSION {
            self.refused.set(true);
            return Err(io::Error::other("extension header too large"));
        }
        let size = match (extension, self.pax_size.take()) {
            (false, Some(s)) => s,
            (true, pending) => {
                self.pax_size = pending;
                size
            }
            (false, None) => size,
        };
        if kind == b'x' {
            self.pax = Some((Vec::new(), self.pos.saturating_add(size)));
        }
        let padded = size.div_ceil(BLOCK).saturating_mul(BLOCK);
        self.next_header = self.pos.saturating_add(padded);
        Ok(())
    }
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

/// A header's size field: octal (spaces and NULs around it), or GNU's
/// base-256 (high bit of the first byte set). None if it does not parse.
fn header_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c| c == ' ' || c == '\0');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// The `size` record of a pax header's data (`"<len> size=<n>\n"`).
fn pax_size(data: &[u8]) -> Option<u64> {
    let mut rest = data;
    let mut found = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if len <= space || len > rest.len() {
            return found;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"size=") {
            found = std::str::from_utf8(v).ok().and_then(|v| v.parse().ok());
        }
        rest = &rest[len..];
    }
    found
}

#[cfg(test)]
mod tests;
