//! Small request bodies are read before admission, so a client that
//! trickles its body waits on the network without holding a disk permit.
//! Only bodies with a known length up to `PREFETCH_MAX` are read ahead:
//! bigger ones stream under the permit (bounded per read by the host's
//! client timeout, Apache's `Timeout`), and a shed request's unread body is
//! left to the host (it closes the connection rather than read it).

use crate::core::http::{Host, LogLevel, Request};
use std::fs::File;
use std::io;

pub const PREFETCH_MAX: u64 = 64 * 1024;

/// A `Host` whose body comes from memory when it was read ahead; past the
/// buffer, reads go to the real host again (unless it already said "end").
pub struct Prefetched<'h> {
    inner: &'h mut dyn Host,
    body: Option<Result<Vec<u8>, io::ErrorKind>>,
    pos: usize,
    /// The host reported the end of the body during the read-ahead.
    ended: bool,
}

impl<'h> Prefetched<'h> {
    /// Reads the whole body now when `req` announces a small one.
    pub fn new(req: &Request<'_>, inner: &'h mut dyn Host) -> Prefetched<'h> {
        let mut ended = false;
        let body = match req.content_length {
            Some(n) if n > 0 && n <= PREFETCH_MAX && !req.chunked => {
                Some(read_all(inner, n, &mut ended))
            }
            _ => None,
        };
        Prefetched {
            inner,
            body,
            pos: 0,
            ended,
        }
    }
}

/// Reads up to `len` bytes, then once more to see the end of the body, so
/// the host knows the body was read whole (and keeps the connection).
fn read_all(host: &mut dyn Host, len: u64, ended: &mut bool) -> Result<Vec<u8>, io::ErrorKind> {
    let mut buf = vec![0u8; len as usize + 1];
    let mut got = 0;
    while got < buf.len() {
        match host.read_body(&mut buf[got..]) {
            Ok(0) => {
                *ended = true;
                break;
            }
            Ok(n) => got += n,
            Err(e) => return Err(e.kind()),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

impl Host for Prefetched<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.body {
            None => self.inner.read_body(buf),
            Some(Err(kind)) => Err(io::Error::new(*kind, "the request body could not be read")),
            Some(Ok(data)) if self.pos == data.len() => {
                if self.ended {
                    Ok(0)
                } else {
                    self.inner.read_body(buf)
                }
            }
            Some(Ok(data)) => {
                let n = buf.len().min(data.len() - self.pos);
                buf[..n].copy_from_slice(&data[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
        }
    }

    fn set_status(&mut self, status: u16) {
        self.inner.set_status(status)
    }

    fn add_header(&mut self, name: &str, value: &[u8]) {
        self.inner.add_header(name, value)
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.write(data)
    }

    fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        self.inner.send_file(file, offset, len)
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.inner.log(level, message)
    }

    fn set_note(&mut self, name: &str, value: &str) {
        self.inner.set_note(name, value)
    }

    fn checkpoint(&mut self) {
        self.inner.checkpoint()
    }
}
