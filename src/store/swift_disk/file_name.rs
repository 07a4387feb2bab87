//! The names of an object's files: `<timestamp>.data`, `<timestamp>.ts`,
//! and `<timestamp>.meta` or, when the `.meta` carries a Content-Type of
//! its own time, `<timestamp><±hex delta>.meta` (Swift's
//! `encode_timestamps(t, ctype_t, explicit=True)`): the timestamp in
//! Swift's internal form (`OffsetTimestamp::internal`, the offset shown as
//! `short` in the `.meta` form, as Swift's encoder does).

use crate::store::timestamp::{OffsetTimestamp, Timestamp};

pub const DATA: &str = ".data";
pub const META: &str = ".meta";
pub const TOMBSTONE: &str = ".ts";

/// One file of a hash directory, as Swift's `parse_on_disk_filename`
/// reads its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub timestamp: OffsetTimestamp,
    /// The extension with its dot (`.data`, `.meta`, `.ts`, or any other
    /// Swift would accept), or "".
    pub ext: String,
    /// For a `.meta`: the time of the Content-Type it holds, when its name
    /// says one.
    pub ctype_timestamp: Option<OffsetTimestamp>,
}

/// The name Swift gives a file: `timestamp.internal + ext`, and for a
/// `.meta` with a content-type timestamp the delta form.
pub fn on_disk_name(
    timestamp: OffsetTimestamp,
    ext: &str,
    ctype_timestamp: Option<OffsetTimestamp>,
) -> String {
    match ctype_timestamp {
        Some(ctype) if ext == META => {
            let delta = i128::from(ctype.time.units()) - i128::from(timestamp.time.units());
            format!("{}{}{ext}", timestamp.short(), signed_hex(delta))
        }
        _ => format!("{}{ext}", timestamp.internal()),
    }
}

/// Python's `'{:+x}'.format(n)`.
fn signed_hex(n: i128) -> String {
    if n < 0 {
        format!("-{:x}", n.unsigned_abs())
    } else {
        format!("+{n:x}")
    }
}

/// Reads a file name as Swift does; None for one Swift would call
/// unexpected (no valid timestamp).
pub fn parse(name: &str) -> Option<FileInfo> {
    let (stem, ext) = split_ext(name);
    let (timestamp, ctype_timestamp) = if ext == META {
        decode_meta_stem(stem)?
    } else {
        (OffsetTimestamp::parse(stem)?, None)
    };
    Some(FileInfo {
        name: name.to_string(),
        timestamp,
        ext: ext.to_string(),
        ctype_timestamp,
    })
}

/// Python's `os.path.splitext` of a bare name: the extension from the last
/// dot, unless only dots precede it.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if name[..i].bytes().any(|b| b != b'.') => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// Swift's `decode_timestamps(stem, explicit=True)[:2]`: the `.meta`'s own
/// time and, when a delta follows, the content-type's (the offset is kept
/// only when the delta is 0).
fn decode_meta_stem(stem: &str) -> Option<(OffsetTimestamp, Option<OffsetTimestamp>)> {
    let mut parts: Vec<(i128, &str)> = Vec::new();
    for plus in stem.split('+') {
        for (i, part) in plus.split('-').enumerate() {
            parts.push((if i == 0 { 1 } else { -1 }, part));
        }
    }
    let t1 = OffsetTimestamp::parse(parts.first()?.1)?;
    let t2 = match parts.get(1) {
        None => None,
        Some(&(sign, hex)) => {
            let delta = sign * python_hex_int(hex)?;
            if delta == 0 {
                Some(t1)
            } else {
                let units = i128::from(t1.time.units()) + delta;
                Some(Timestamp::from_units(u64::try_from(units).ok()?).into())
            }
        }
    };
    // A third part (the metadata time of a container row) is parsed by
    // Swift too, and must be valid, but a .meta name never has one.
    if let Some(&(_, hex)) = parts.get(2) {
        python_hex_int(hex)?;
    }
    if parts.len() > 3 {
        return None;
    }
    Some((t1, t2))
}

/// `int(text, 16)` for what a file name can hold: hex digits, optionally
/// `0x`-prefixed. Bounded to what a timestamp delta can be.
fn python_hex_int(text: &str) -> Option<i128> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    i128::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> OffsetTimestamp {
        OffsetTimestamp::parse(s).expect("valid timestamp")
    }

    #[test]
    fn names_are_swifts() {
        // Python (Swift 2.38), with mgr a DiskFileManager and T = Timestamp:
        // mgr.make_on_disk_filename(T('1700000000.12345'), '.data')
        //   == '1700000000.12345.data'
        // mgr.make_on_disk_filename(T('1700000000.12345', offset=10), '.ts')
        //   == '1700000000.12345_000000000000000a.ts'
        // mgr.make_on_disk_filename(T('1700000001.00000'), '.meta',
        //   ctype_timestamp=T('1700000000.12345')) == '1700000001.00000-15667.meta'
        // ... ctype_timestamp=T('1700000001.00000') -> '1700000001.00000+0.meta'
        // mgr.make_on_disk_filename(T('1700000001', offset=10), '.meta',
        //   ctype_timestamp=T('1700000001.5')) == '1700000001.00000_a+c350.meta'
        assert_eq!(
            on_disk_name(ts("1700000000.12345"), DATA, None),
            "1700000000.12345.data"
        );
        assert_eq!(
            on_disk_name(ts("1700000000.12345_a"), TOMBSTONE, None),
            "1700000000.12345_000000000000000a.ts"
        );
        assert_eq!(
            on_disk_name(ts("1700000001"), META, Some(ts("1700000000.12345"))),
            "1700000001.00000-15667.meta"
        );
        assert_eq!(
            on_disk_name(ts("1700000001"), META, Some(ts("1700000001"))),
            "1700000001.00000+0.meta"
        );
        assert_eq!(
            on_disk_name(ts("1700000001_a"), META, Some(ts("1700000001.5"))),
            "1700000001.00000_a+c350.meta"
        );
        assert_eq!(
            on_disk_name(ts("1700000001"), META, None),
            "1700000001.00000.meta"
        );
        // A content-type time on another kind of file is not in its name.
        assert_eq!(
            on_disk_name(ts("1700000001"), DATA, Some(ts("1"))),
            "1700000001.00000.data"
        );
    }

    #[test]
    fn names_parse_back() {
        let meta = parse("1700000001.00000-15667.meta").expect("valid");
        assert_eq!(meta.timestamp, ts("1700000001"));
        assert_eq!(meta.ctype_timestamp, Some(ts("1700000000.12345")));
        assert_eq!(meta.ext, META);
        let offset = parse("1700000001.00000_a+0.meta").expect("valid");
        assert_eq!(
            offset.ctype_timestamp,
            Some(ts("1700000001_a")),
            "delta 0 keeps the offset"
        );
        let offset = parse("1700000001.00000_a+c350.meta").expect("valid");
        assert_eq!(offset.ctype_timestamp, Some(ts("1700000001.5")));
        let plain = parse("1700000001.00000.meta").expect("valid");
        assert_eq!(plain.ctype_timestamp, None);
        let data = parse("1700000000.12345_000000000000000a.data").expect("valid");
        assert_eq!(
            (data.timestamp, data.ext.as_str()),
            (ts("1700000000.12345_a"), DATA)
        );
        // splitext: no extension means the fraction is the extension.
        let odd = parse("1700000000.12345").expect("Swift accepts it too");
        assert_eq!(
            (odd.timestamp, odd.ext.as_str()),
            (ts("1700000000"), ".12345")
        );
        let other = parse("1700000000.12345.durable").expect("any extension");
        assert_eq!(other.ext, ".durable");
        for bad in [
            ".1700000000.12345.data.Xy095a",
            "junk.data",
            "1700000000.12345x.ts",
            ".lock",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // Round trips.
        for name in [
            "1700000000.12345.ts",
            "1700000001.00000-15667.meta",
            "1700000000.12345_000000000000000a.data",
        ] {
            let info = parse(name).expect("valid");
            assert_eq!(
                on_disk_name(info.timestamp, &info.ext, info.ctype_timestamp),
                name
            );
        }
    }
}
