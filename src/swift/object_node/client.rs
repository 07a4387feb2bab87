//! A small blocking HTTP/1.1 client over `std::net` for the one outgoing
//! request an object server makes: the container update (Swift's
//! `http_connect(ip, port, device, partition, method, path, headers)`),
//! a body-less request on its own connection (`Connection: close`) with a
//! connect timeout and a response timeout. Only the status matters to the
//! caller; the response is read to its end so the server is not cut off.
//! No crate: one request shape, loopback or LAN, no TLS, no pooling.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Everything but the unreserved characters and `/` percent-encoded, as
/// Python's `urllib.parse.quote(path)` (Swift quotes the path so).
pub fn quote(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How long to wait for the connection, then for each read or write.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub node: Duration,
}

/// One request: `method /<device>/<partition><path>` to `host` (`ip:port`,
/// `[v6]:port` too) with `headers`; the response's status.
pub fn request(
    host: &str,
    device: &str,
    partition: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    timeouts: Timeouts,
) -> io::Result<u16> {
    let addr = resolve(host)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeouts.connect)?;
    stream.set_write_timeout(Some(timeouts.node))?;
    stream.set_read_timeout(Some(timeouts.node))?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n",
        quote(&format!("/{device}/{partition}{path}"))
    );
    for (name, value) in headers {
        if name.contains(['\r', '\n', ':']) || value.contains(['\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("header {name:?} cannot be sent"),
            ));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let status = read_status(&mut reader)?;
    // Headers, then whatever body there is until the server closes.
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut sink = [0u8; 4096];
    while reader.read(&mut sink)? > 0 {}
    Ok(status)
}

fn resolve(host: &str) -> io::Result<SocketAddr> {
    host.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {host}"),
        )
    })
}

fn read_status(reader: &mut impl BufRead) -> io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    parse_status(&line).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad status line {:?}", line.trim_end()),
        )
    })
}

fn parse_status(line: &str) -> Option<u16> {
    let mut words = line.split_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    words
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..600).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn quotes_as_python_does() {
        assert_eq!(quote("/a/c/o x/é?"), "/a/c/o%20x/%C3%A9%3F");
        assert_eq!(quote("/AUTH_a/c~-._"), "/AUTH_a/c~-._");
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("HTTP/1.1 201 Created\r\n"), Some(201));
        assert_eq!(parse_status("HTTP/1.0 404\r\n"), Some(404));
        assert_eq!(parse_status("SPDY 200 OK"), None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn sends_the_request_and_reads_the_status() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            s.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            String::from_utf8(buf).unwrap()
        });
        let headers = vec![("X-Size".to_string(), "5".to_string())];
        let t = Timeouts {
            connect: Duration::from_secs(2),
            node: Duration::from_secs(2),
        };
        let status = request(&host, "sdb1", "3", "PUT", "/a/c/o 1", &headers, t).unwrap();
        assert_eq!(status, 201);
        let sent = server.join().unwrap();
        assert!(
            sent.starts_with("PUT /sdb1/3/a/c/o%201 HTTP/1.1\r\n"),
            "{sent}"
        );
        assert!(sent.contains("\r\nX-Size: 5\r\n"), "{sent}");
    }

    #[test]
    fn a_closed_port_is_an_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = Timeouts {
            connect: Duration::from_millis(500),
            node: Duration::from_millis(500),
        };
        assert!(request(
            &format!("127.0.0.1:{port}"),
            "d",
            "1",
            "PUT",
            "/a/c/o",
            &[],
            t
        )
        .is_err());
    }
}
