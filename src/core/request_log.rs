//! A `Host` adapter that prefixes every log line of a request with its
//! transaction id, so an error-log line can be matched with the client's
//! `X-Trans-Id` and the access log's `%{stowage-trans-id}n`.

use crate::core::http::{Host, LogLevel};
use std::fs::File;
use std::io;

pub struct TransHost<'h> {
    inner: &'h mut dyn Host,
    trans_id: &'h str,
}

impl<'h> TransHost<'h> {
    pub fn new(inner: &'h mut dyn Host, trans_id: &'h str) -> Self {
        TransHost { inner, trans_id }
    }
}

impl Host for TransHost<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_body(buf)
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
        self.inner
            .log(level, &format!("[{}] {message}", self.trans_id))
    }
    fn set_note(&mut self, name: &str, value: &str) {
        self.inner.set_note(name, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::MemHost;

    #[test]
    fn prefixes_log_lines() {
        let mut mem = MemHost::default();
        TransHost::new(&mut mem, "tx123").log(LogLevel::Error, "boom");
        assert_eq!(
            mem.logs,
            vec![(LogLevel::Error, "[tx123] boom".to_string())]
        );
    }
}
