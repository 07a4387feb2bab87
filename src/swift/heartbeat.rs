//! Long requests that answer while they work, as Swift's bulk and SLO
//! middleware do: the status and headers are decided first, the work runs
//! while the body is sent (`Deferred`), and every `yield_frequency` (10 s)
//! between two steps of it a heartbeat goes out (`Heartbeat`), so clients
//! and proxies with a read timeout see the connection alive. The results
//! body closes the answer, after a blank line when anything went before it.

use crate::core::http::{Host, Request, SendError, Streamed};
use crate::node::vhost::Vhost;
use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

/// Swift's `yield_frequency` (bulk and slo).
pub const YIELD_FREQUENCY: Duration = Duration::from_secs(10);

/// When to send a heartbeat, and which bytes.
pub struct Heartbeat {
    every: Duration,
    last: Instant,
    /// The next beat's bytes: `first` until one went out, then a space.
    next: &'static [u8],
    /// What goes before the results body: nothing until a beat went out.
    separator: &'static [u8],
}

impl Heartbeat {
    /// Silent until the work has run for one interval; the first beat is
    /// `first` (bulk's XML answers start with the XML declaration).
    pub fn new(req: &Request<'_>, first: &'static [u8]) -> Self {
        Heartbeat {
            every: crate::core::test_hooks::yield_frequency(req).unwrap_or(YIELD_FREQUENCY),
            last: Instant::now(),
            next: first,
            separator: b"",
        }
    }

    /// Sends a beat now.
    pub fn beat(&mut self, host: &mut dyn Host) -> io::Result<()> {
        host.write(self.next)?;
        host.flush()?;
        self.last = Instant::now();
        self.next = b" ";
        self.separator = b"\r\n\r\n";
        Ok(())
    }

    /// Between two steps of the work: a beat when one is due. An error
    /// means the client is gone and the work should stop.
    pub fn tick(&mut self, host: &mut dyn Host) -> io::Result<()> {
        if self.last.elapsed() > self.every {
            self.beat(host)?;
        }
        Ok(())
    }

    /// The results body, after the blank line a beat calls for.
    pub fn finish(self, host: &mut dyn Host, body: &[u8]) -> io::Result<()> {
        if !self.separator.is_empty() {
            host.write(self.separator)?;
        }
        host.write(body)
    }
}

/// The work a `Deferred` body runs: given the real host and the vhost, it
/// writes the body itself.
pub type Work = Box<dyn FnOnce(&mut dyn Host, &Vhost) -> io::Result<()>>;

/// A body of unknown length (sent chunked) made by running `Work` while
/// the answer is sent.
pub struct Deferred {
    work: RefCell<Option<Work>>,
}

impl Deferred {
    pub fn new(work: Work) -> Self {
        Deferred {
            work: RefCell::new(Some(work)),
        }
    }
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deferred")
    }
}

impl Streamed for Deferred {
    fn len(&self) -> u64 {
        0
    }

    fn announces_length(&self) -> bool {
        false
    }

    fn send(&self, _host: &mut dyn Host) -> Result<(), SendError> {
        Err(SendError::Host(io::Error::other(
            "deferred work sent without its vhost",
        )))
    }

    fn send_in(&self, host: &mut dyn Host, ctx: &dyn Any) -> Result<(), SendError> {
        let Some(vh) = ctx.downcast_ref::<Vhost>() else {
            return self.send(host);
        };
        let Some(work) = self.work.borrow_mut().take() else {
            return Err(SendError::Host(io::Error::other(
                "deferred work sent twice",
            )));
        };
        work(host, vh).map_err(SendError::Host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        out: Vec<u8>,
        flushes: usize,
    }

    impl Host for Recorder {
        fn read_body(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn set_status(&mut self, _status: u16) {}
        fn add_header(&mut self, _name: &str, _value: &[u8]) {}
        fn write(&mut self, data: &[u8]) -> io::Result<()> {
            self.out.extend_from_slice(data);
            Ok(())
        }
        fn send_file(&mut self, _f: &std::fs::File, _o: u64, _l: u64) -> io::Result<()> {
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
        fn log(&mut self, _l: crate::core::http::LogLevel, _m: &str) {}
        fn set_note(&mut self, _n: &str, _v: &str) {}
    }

    fn every(d: Duration, first: &'static [u8]) -> Heartbeat {
        Heartbeat {
            every: d,
            last: Instant::now(),
            next: first,
            separator: b"",
        }
    }

    #[test]
    fn quick_work_sends_only_the_results() {
        let mut host = Recorder::default();
        let mut hb = every(Duration::from_secs(3600), b"<?xml?>\n");
        hb.tick(&mut host).unwrap();
        hb.finish(&mut host, b"Number Deleted: 1").unwrap();
        assert_eq!(host.out, b"Number Deleted: 1");
        assert_eq!(host.flushes, 0);
    }

    #[test]
    fn due_beats_go_out_flushed_then_a_blank_line() {
        let mut host = Recorder::default();
        let mut hb = every(Duration::ZERO, b"<?xml?>\n");
        std::thread::sleep(Duration::from_millis(2));
        hb.tick(&mut host).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        hb.tick(&mut host).unwrap();
        hb.finish(&mut host, b"R").unwrap();
        assert_eq!(host.out, b"<?xml?>\n \r\n\r\nR");
        assert_eq!(host.flushes, 2);
    }

    #[test]
    fn a_beat_at_once_then_the_results() {
        let mut host = Recorder::default();
        let mut hb = every(Duration::from_secs(3600), b" ");
        hb.beat(&mut host).unwrap();
        hb.tick(&mut host).unwrap();
        hb.finish(&mut host, b"R").unwrap();
        assert_eq!(host.out, b" \r\n\r\nR");
    }
}
