//! The arithmetic the quota middlewares share (`container_quotas`,
//! `account_quotas`): which header values Swift accepts as a quota, how it
//! reads a stored one back, and when an upload goes over it.

/// Whether Swift's `str.isdigit()` holds for a header value: not empty,
/// and every byte (a WSGI header is Latin-1 text) a digit, where Python
/// counts the superscripts ², ³ and ¹ (0xB2, 0xB3, 0xB9) as digits too.
pub fn is_digits(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, 0xB2 | 0xB3 | 0xB9))
}

/// A stored quota as Swift's `int()` reads it: surrounding whitespace,
/// one sign and single `_` between digits allowed; None for anything else
/// (Swift's `ValueError`: no quota). Values beyond `i128` saturate.
pub fn py_int(value: &str) -> Option<i128> {
    let s = value.trim_matches(|c: char| c.is_whitespace());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes[0] == b'_' || bytes[bytes.len() - 1] == b'_' {
        return None;
    }
    let mut n: i128 = 0;
    let mut last_underscore = false;
    for &b in bytes {
        match b {
            b'_' if !last_underscore => last_underscore = true,
            b'0'..=b'9' => {
                last_underscore = false;
                n = n.saturating_mul(10).saturating_add(i128::from(b - b'0'));
            }
            _ => return None,
        }
    }
    Some(if negative { -n } else { n })
}

/// A stored quota that limits: Swift enforces one that reads as a number
/// not below zero (`quota >= 0`), and ignores the rest.
pub fn limit(value: Option<&str>) -> Option<i128> {
    value.and_then(py_int).filter(|q| *q >= 0)
}

/// Whether `used + adding` goes over `quota` (Swift: `quota < new_size`).
pub fn exceeds(quota: i128, used: u64, adding: u64) -> bool {
    quota < i128::from(used) + i128::from(adding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_as_python_sees_them() {
        for ok in [&b"0"[..], b"123", b"007", b"\xb2", b"1\xb9"] {
            assert!(is_digits(ok), "{ok:?}");
        }
        for bad in [
            &b""[..],
            b"abc",
            b"-1",
            b"+1",
            b" 1",
            b"1.5",
            b"1e3",
            b"\xc2\xb2",
            b"\xd9\xa1",
        ] {
            assert!(!is_digits(bad), "{bad:?}");
        }
    }

    #[test]
    fn stored_values_read_as_python_int() {
        assert_eq!(py_int("10"), Some(10));
        assert_eq!(py_int(" 10\n"), Some(10));
        assert_eq!(py_int("+7"), Some(7));
        assert_eq!(py_int("-5"), Some(-5));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("007"), Some(7));
        for bad in ["", "abc", "1__0", "_1", "1_", "1.0", "- 1", "0x10", "²"] {
            assert_eq!(py_int(bad), None, "{bad}");
        }
        assert_eq!(py_int(&"9".repeat(60)), Some(i128::MAX));
    }

    #[test]
    fn limits_and_going_over() {
        assert_eq!(limit(None), None);
        assert_eq!(limit(Some("abc")), None);
        assert_eq!(limit(Some("-1")), None);
        assert_eq!(limit(Some("0")), Some(0));
        // Swift: refused when quota < used + adding, so reaching it is fine.
        assert!(!exceeds(10, 4, 6));
        assert!(exceeds(10, 4, 7));
        assert!(exceeds(0, 0, 1));
        assert!(!exceeds(0, 0, 0));
        assert!(!exceeds(i128::MAX, u64::MAX, u64::MAX));
    }
}
