//! Lowercase hex, as Swift writes ETags, hashes and ids.

use std::fmt::Write as _;

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
