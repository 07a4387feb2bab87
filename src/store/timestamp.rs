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

/// Swift's `Timestamp` with its offset (`ts_offset`): the time, then a
/// 64-bit counter that orders writes made "at" the same time (the
/// reconciler's, an object server's internal ones). It sorts by time, then
/// by offset. Without an offset its forms are the normal form; with one,
/// `internal` appends `_` and 16 hex digits
/// ("1700000000.12345_000000000000000a"), as on-disk file names and
/// `X-Backend-Timestamp` carry it, and `short` appends `_` and the hex
/// digits alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OffsetTimestamp {
    pub time: Timestamp,
    pub offset: u64,
}

impl OffsetTimestamp {
    pub fn new(time: Timestamp, offset: u64) -> Self {
        OffsetTimestamp { time, offset }
    }

    /// Parses the internal form, the short form and the normal forms
    /// `Timestamp::parse` accepts: "1700000000.12345_a",
    /// "1700000000.12345_000000000000000a", "1700000000.12345". As Swift's,
    /// the part after `_` is at most 16 hex digits (either case), and an
    /// empty one is offset 0.
    pub fn parse(s: &str) -> Option<Self> {
        let (time, hex) = match s.split_once('_') {
            Some((t, h)) => (t, h),
            None => (s, ""),
        };
        if hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let offset = if hex.is_empty() {
            0
        } else {
            u64::from_str_radix(hex, 16).ok()?
        };
        Some(OffsetTimestamp {
            time: Timestamp::parse(time)?,
            offset,
        })
    }

    /// Swift's `Timestamp.internal`: the normal form, and with an offset
    /// `_` and the offset as 16 hex digits.
    pub fn internal(self) -> String {
        if self.offset == 0 {
            self.time.normal()
        } else {
            format!("{}_{:016x}", self.time.normal(), self.offset)
        }
    }

    /// Swift's `Timestamp.short`: as `internal`, the offset's hex digits
    /// without leading zeros.
    pub fn short(self) -> String {
        if self.offset == 0 {
            self.time.normal()
        } else {
            format!("{}_{:x}", self.time.normal(), self.offset)
        }
    }
}

impl From<Timestamp> for OffsetTimestamp {
    fn from(time: Timestamp) -> Self {
        OffsetTimestamp { time, offset: 0 }
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

/// For tests: `units` after a fixed moment of this test run, an hour
/// ago. Object files keep Swift's rules, which reclaim tombstones older
/// than a week, so tests need timestamps of about now.
#[cfg(test)]
pub fn recent(units: u64) -> Timestamp {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| Timestamp::now().units() - 3600 * 100_000);
    Timestamp::from_units(base + units)
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

    #[test]
    fn offset_timestamps_have_swifts_forms_and_order() {
        // Python (Swift 2.38): Timestamp('1700000000.12345', offset=10).internal
        // == '1700000000.12345_000000000000000a', .short == '1700000000.12345_a'
        let t = OffsetTimestamp::parse("1700000000.12345_000000000000000a").expect("valid");
        assert_eq!(t.offset, 10);
        assert_eq!(t.internal(), "1700000000.12345_000000000000000a");
        assert_eq!(t.short(), "1700000000.12345_a");
        assert_eq!(OffsetTimestamp::parse("1700000000.12345_a"), Some(t));
        assert_eq!(OffsetTimestamp::parse("1700000000.12345_A"), Some(t));
        let plain = OffsetTimestamp::parse("1700000000.12345").expect("valid");
        assert_eq!(plain.internal(), "1700000000.12345");
        assert_eq!(plain.short(), "1700000000.12345");
        assert_eq!(OffsetTimestamp::parse("1700000000.12345_"), Some(plain));
        assert!(plain < t);
        let later = OffsetTimestamp::parse("1700000000.12346").expect("valid");
        assert!(t < later);
        assert!(t.internal() < later.internal(), "sorts as text too");
        for bad in ["1_0000000000000000a", "1_g", "1_1_1", "_1", "x_1"] {
            assert_eq!(OffsetTimestamp::parse(bad), None, "{bad}");
        }
    }
}
