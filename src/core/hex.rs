//! Lowercase hex, as Swift writes ETags, hashes and ids.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// By table, not `write!("{:02x}")`: a GET hashes names and ids several
/// times, and the formatter's per-byte cost showed in its profile
/// (bench/profile_get.sh).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The bytes of a hex string (either case); None when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = [0x00, 0x7f, 0x80, 0xe9, 0xff];
        assert_eq!(hex(&bytes), "007f80e9ff");
        assert_eq!(unhex("007f80E9ff"), Some(bytes.to_vec()));
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("+1"), None);
    }
}
