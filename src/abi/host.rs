//! The host's per-request callbacks (`stowage_host_ops`) as a
//! `core::http::Host`, the only way the layers below reach the host.

use super::ffi::*;
use super::views::{bytes_view, view};
use crate::core::http::{Host, LogLevel};
use std::ffi::{c_int, c_void};
use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;

/// The host's per-request callbacks as a `Host`.
pub(super) struct CHost<'a> {
    pub(super) ops: &'a stowage_host_ops,
    pub(super) ctx: *mut c_void,
    /// Body bytes went out: the status can no longer change.
    pub(super) wrote: bool,
}

pub(super) fn level_code(level: LogLevel) -> c_int {
    (match level {
        LogLevel::Error => STOWAGE_LOG_ERROR,
        LogLevel::Warn => STOWAGE_LOG_WARN,
        LogLevel::Info => STOWAGE_LOG_INFO,
        LogLevel::Debug => STOWAGE_LOG_DEBUG,
    }) as c_int
}

impl Host for CHost<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(f) = self.ops.read_body else {
            return Ok(0);
        };
        // SAFETY: buf is valid for buf.len() writable bytes; ctx is the
        // host's own pointer for this request.
        let n = unsafe { f(self.ctx, buf.as_mut_ptr(), buf.len()) };
        if n == i64::from(STOWAGE_BODY_TIMEOUT) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not send the request body in time",
            ));
        }
        if n < 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the request body could not be read",
            ));
        }
        Ok((n as usize).min(buf.len()))
    }

    fn set_status(&mut self, status: u16) {
        if let Some(f) = self.ops.set_status {
            // SAFETY: plain values and the host's ctx.
            unsafe { f(self.ctx, c_int::from(status)) };
        }
    }

    fn add_header(&mut self, name: &str, value: &[u8]) {
        if let Some(f) = self.ops.add_header {
            // SAFETY: the views borrow strings that outlive the call.
            unsafe { f(self.ctx, view(name), bytes_view(value)) };
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(f) = self.ops.write else {
            return Err(io::Error::other("host has no write callback"));
        };
        self.wrote = true;
        // SAFETY: data is valid for data.len() bytes during the call.
        match unsafe { f(self.ctx, data.as_ptr(), data.len()) } {
            0 => Ok(()),
            _ => Err(io::Error::new(io::ErrorKind::BrokenPipe, "client gone")),
        }
    }

    fn send_file(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        let Some(f) = self.ops.send_file else {
            return Err(io::Error::other("host has no send_file callback"));
        };
        self.wrote = true;
        // SAFETY: the fd is open for the duration of the call; the header
        // tells the host to dup() it if it sends later.
        match unsafe { f(self.ctx, file.as_raw_fd(), offset, len) } {
            0 => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "sending the file failed",
            )),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let Some(f) = self.ops.flush else {
            return Ok(());
        };
        self.wrote = true;
        // SAFETY: ctx is the host's own per-request pointer, valid for the
        // whole request; the call takes nothing else.
        match unsafe { f(self.ctx) } {
            0 => Ok(()),
            _ => Err(io::Error::new(io::ErrorKind::BrokenPipe, "client gone")),
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        if let Some(f) = self.ops.log {
            // SAFETY: the view borrows message for the call.
            unsafe { f(self.ctx, level_code(level), view(message)) };
        }
    }

    fn set_note(&mut self, name: &str, value: &str) {
        if let Some(f) = self.ops.set_note {
            // SAFETY: the views borrow strings that outlive the call.
            unsafe { f(self.ctx, view(name), view(value)) };
        }
    }
}
