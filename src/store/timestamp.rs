//! Swift-style timestamps: seconds since the epoch with 10 µs resolution,
//! written as `%016.5f` ("1700000000.12345") so they sort as text. Every
//! account, container and object record carries one; the newest wins.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Units of 10 microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

const UNITS_PER_SEC: u64 = 100_000;

impl Timestamp {
    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp(d.as_secs() * UNITS_PER_SEC + u64::from(d.subsec_micros()) / 10)
    }

    pub fn from_units(units: u64) -> Self {
        Timestamp(units)
    }

    pub fn units(self) -> u64 {
        self.0
    }

    /// Parses "1700000000", "1700000000.1" … "1700000000.12345" (Swift's
    /// normal form and the short forms clients send in X-Timestamp).
    pub fn parse(s: &str) -> Option<Self> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() || int.len() > 10 || frac.len() > 5 {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let secs: u64 = int.parse().ok()?;
        let mut units = 0u64;
        for (i, b) in frac.bytes().enumerate() {
            units += u64::from(b - b'0') * 10u64.pow(4 - i as u32);
        }
        Some(Timestamp(secs * UNITS_PER_SEC + units))
    }

    /// Swift's normal form, e.g. "1700000000.12345".
    pub fn normal(self) -> String {
        format!(
            "{:010}.{:05}",
            self.0 / UNITS_PER_SEC,
            self.0 % UNITS_PER_SEC
        )
    }

    pub fn system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.0 * 10)
    }

    /// ISO 8601 as Swift's listings show `last_modified`:
    /// "2026-11-22T06:27:09.123450".
    pub fn iso8601(self) -> String {
        let secs = self.0 / UNITS_PER_SEC;
        let micros = (self.0 % UNITS_PER_SEC) * 10;
        let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// RFC 7231 date for Last-Modified. HTTP dates have whole seconds; Swift
    /// rounds the timestamp up so that If-Modified-Since with the returned
    /// value matches.
    pub fn http_date(self) -> String {
        httpdate::fmt_http_date(self.http_time())
    }

    /// The instant Last-Modified announces: rounded up to whole seconds.
    pub fn http_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.div_ceil(UNITS_PER_SEC))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normal())
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_round_trips_and_sorts_as_text() {
        let t = Timestamp::parse("1700000000.12345").expect("valid");
        assert_eq!(t.normal(), "1700000000.12345");
        assert_eq!(
            Timestamp::parse("1700000000.1")
                .map(|t| t.normal())
                .as_deref(),
            Some("1700000000.10000")
        );
        assert_eq!(
            Timestamp::parse("5").map(|t| t.normal()).as_deref(),
            Some("0000000005.00000")
        );
        assert!(Timestamp::parse("5").expect("valid").normal() < t.normal());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            ".",
            "1.123456",
            "abc",
            "1e9",
            "-1",
            "12345678901",
            "1.2x",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_dates() {
        let t = Timestamp::parse("1700000000.12345").expect("valid");
        assert_eq!(t.iso8601(), "2023-11-14T22:13:20.123450");
        assert_eq!(t.http_date(), "Tue, 14 Nov 2023 22:13:21 GMT");
        let whole = Timestamp::parse("1700000000").expect("valid");
        assert_eq!(whole.http_date(), "Tue, 14 Nov 2023 22:13:20 GMT");
    }
}
