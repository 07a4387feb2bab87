//! HTTP Range requests on objects, with Swift's rules (swob.Range): a
//! malformed header is ignored (the whole object is sent); one whose ranges
//! are all unsatisfiable, or that is egregious (RFC 7233 6.1), is a 416. A
//! zero-byte object asked for its last bytes (`bytes=-N`) is sent whole, as
//! swob does (there is no byte to name in a Content-Range). HEAD ignores
//! Range altogether (its caller does not ask).

/// swob's limits on a satisfiable range set: more ranges than this, more
/// overlapping pairs than this, or this many ranges out of order: 416.
const MAX_RANGES: usize = 50;
const MAX_RANGE_OVERLAPS: usize = 2;
const MAX_NONASCENDING_RANGES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Exclusive.
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No usable Range header: send the whole object.
    Whole,
    Partial(Vec<ByteRange>),
    Unsatisfiable,
}

/// A decimal as Python's int() reads a digit string, saturated: a number
/// past u64 is still larger than any object.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}

/// One byte-range-spec as swob parses it: (first, last), either may be
/// missing but not both; None when malformed.
fn spec(part: &str) -> Option<(Option<u64>, Option<u64>)> {
    let (a, b) = part.split_once('-')?;
    // The first position goes through int(), which takes a sign.
    let first = if a.is_empty() {
        None
    } else {
        Some(number(a.strip_prefix('+').unwrap_or(a))?)
    };
    let last = if b.is_empty() { None } else { Some(number(b)?) };
    match (first, last) {
        (None, None) => None,
        (Some(f), Some(l)) if l < f => None,
        spec => Some(spec),
    }
}

/// The byte-range-specs of a Range header as swob parses them; None when
/// absent or malformed (then swob has no range: the whole object is sent).
fn specs(header: Option<&str>) -> Option<Vec<(Option<u64>, Option<u64>)>> {
    let value = header.filter(|h| !h.is_empty())?;
    // swob drops every space before parsing; the unit is case-insensitive.
    let compact: String = value.chars().filter(|&c| c != ' ').collect();
    let set = compact
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| &compact[6..])?;
    set.split(',').map(spec).collect()
}

/// How many ranges a Range header asks for (swob's `len(req.range.ranges)`,
/// before they meet a length); None when it is absent or malformed.
pub fn count(header: Option<&str>) -> Option<usize> {
    specs(header).map(|s| s.len())
}

/// The end (exclusive) of a header's single range as swob measures it
/// against an unknown length (`ranges_for_length(inf)`): None for a suffix
/// or open-ended range, which reaches the end of whatever length.
pub fn single_end(header: Option<&str>) -> Option<u64> {
    match specs(header)?.as_slice() {
        [(Some(_), Some(last))] => Some(last.saturating_add(1)),
        _ => None,
    }
}

pub fn evaluate(header: Option<&str>, size: u64) -> RangeOutcome {
    let Some(specs) = specs(header) else {
        return RangeOutcome::Whole;
    };
    let ranges: Vec<ByteRange> = specs
        .into_iter()
        .filter_map(|s| match s {
            (None, Some(0)) => None,
            // On an empty object this is the empty range 0..0: it counts
            // toward the egregious limits, then the object goes whole.
            (None, Some(n)) => Some(ByteRange {
                start: size.saturating_sub(n),
                end: size,
            }),
            (Some(start), last) if start < size => Some(ByteRange {
                start,
                end: last.map_or(size, |l| l.saturating_add(1).min(size)),
            }),
            _ => None,
        })
        .collect();
    if ranges.is_empty() || egregious(&ranges) {
        return RangeOutcome::Unsatisfiable;
    }
    if size == 0 {
        // Only suffix ranges get here: never "bytes 0--1/0".
        return RangeOutcome::Whole;
    }
    RangeOutcome::Partial(ranges)
}

/// swob's test for range sets not worth serving.
fn egregious(ranges: &[ByteRange]) -> bool {
    if ranges.len() > MAX_RANGES {
        return true;
    }
    let mut overlaps = 0;
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            let inside = |x: u64, r: &ByteRange| r.start < x && x < r.end;
            if inside(b.start, a) || inside(b.end, a) || inside(a.start, b) || inside(a.end, b) {
                overlaps += 1;
                if overlaps > MAX_RANGE_OVERLAPS {
                    return true;
                }
            }
        }
    }
    let ascending = ranges
        .windows(2)
        .all(|w| (w[0].start, w[0].end) <= (w[1].start, w[1].end));
    !ascending && ranges.len() >= MAX_NONASCENDING_RANGES
}

/// A satisfied range as Content-Range states it: `bytes a-b/size`.
pub fn content_range(br: ByteRange, size: u64) -> String {
    format!("bytes {}-{}/{size}", br.start, br.end - 1)
}

/// A multipart/byteranges body of `file`'s `ranges`, framed as swob frames
/// it: the boundary (for the answer's Content-Type) and the body's pieces,
/// each part still sent from the file through the host.
pub fn multipart_body(
    ranges: &[ByteRange],
    size: u64,
    content_type: &str,
    file: &std::sync::Arc<std::fs::File>,
) -> (String, Vec<crate::core::http::Segment>) {
    use crate::core::http::Segment;
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    let boundary = crate::core::hex::hex(&raw);
    let mut body = Vec::with_capacity(ranges.len() * 2 + 1);
    for (i, br) in ranges.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            content_range(*br, size)
        );
        body.push(Segment::Bytes(head.into_bytes()));
        body.push(Segment::File {
            file: std::sync::Arc::clone(file),
            offset: br.start,
            len: br.len(),
        });
    }
    body.push(Segment::Bytes(format!("\r\n--{boundary}--").into_bytes()));
    (boundary, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn suffix_ranges_of_an_empty_object_send_it_whole() {
        for h in ["bytes=-3", "bytes=-3,5-, 0-0", "bytes=-1", "bytes=-0,-1"] {
            assert_eq!(evaluate(Some(h), 0), RangeOutcome::Whole, "{h}");
        }
        for h in ["bytes=-0", "bytes=0-0", "bytes=0-", "bytes=3-5"] {
            assert_eq!(evaluate(Some(h), 0), RangeOutcome::Unsatisfiable, "{h}");
        }
        // the egregious limits still count the empty ranges
        let many = format!("bytes={}", vec!["-1"; 51].join(","));
        assert_eq!(evaluate(Some(&many), 0), RangeOutcome::Unsatisfiable);
    }

    #[test]
    fn evaluates_ranges() {
        assert_eq!(evaluate(None, 10), RangeOutcome::Whole);
        assert_eq!(
            evaluate(Some("bytes=2-5"), 10),
            RangeOutcome::Partial(vec![r(2, 6)])
        );
        assert_eq!(
            evaluate(Some("bytes=-3"), 10),
            RangeOutcome::Partial(vec![r(7, 10)])
        );
        assert_eq!(
            evaluate(Some("bytes=-30"), 10),
            RangeOutcome::Partial(vec![r(0, 10)])
        );
        assert_eq!(
            evaluate(Some("bytes=5-"), 10),
            RangeOutcome::Partial(vec![r(5, 10)])
        );
        assert_eq!(
            evaluate(Some("bytes=8-100"), 10),
            RangeOutcome::Partial(vec![r(8, 10)])
        );
        assert_eq!(
            evaluate(Some("bytes=0-1,4-5"), 10),
            RangeOutcome::Partial(vec![r(0, 2), r(4, 6)])
        );
        assert_eq!(
            evaluate(Some("bytes=100-200"), 10),
            RangeOutcome::Unsatisfiable
        );
        assert_eq!(evaluate(Some("bytes=-0"), 10), RangeOutcome::Unsatisfiable);
        assert_eq!(evaluate(Some("bytes=5-2"), 10), RangeOutcome::Whole);
        assert_eq!(evaluate(Some("bytes=x-2"), 10), RangeOutcome::Whole);
        assert_eq!(evaluate(Some("items=1-2"), 10), RangeOutcome::Whole);
        assert_eq!(evaluate(Some("bytes=0-0"), 0), RangeOutcome::Unsatisfiable);
    }

    #[test]
    fn parses_like_swob() {
        // Spaces anywhere and the unit's case do not matter.
        assert_eq!(
            evaluate(Some("Bytes = 1 - 2"), 10),
            RangeOutcome::Partial(vec![r(1, 3)])
        );
        // Malformed: ignored.
        for h in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "bytes=0-1,",
            "bytes=--1",
            "bytes=1--2",
            "bytes=1-+2",
            "bytes=+-2",
        ] {
            assert_eq!(evaluate(Some(h), 10), RangeOutcome::Whole, "{h}");
        }
        assert_eq!(
            evaluate(Some("bytes=+1-2"), 10),
            RangeOutcome::Partial(vec![r(1, 3)])
        );
        // Numbers past u64 are still numbers.
        let huge = "9".repeat(30);
        assert_eq!(
            evaluate(Some(&format!("bytes={huge}-")), 10),
            RangeOutcome::Unsatisfiable
        );
        assert_eq!(
            evaluate(Some(&format!("bytes=-{huge}")), 10),
            RangeOutcome::Partial(vec![r(0, 10)])
        );
        assert_eq!(
            evaluate(Some(&format!("bytes=2-{huge}")), 10),
            RangeOutcome::Partial(vec![r(2, 10)])
        );
    }

    #[test]
    fn counts_and_ends_like_swob() {
        assert_eq!(count(Some("bytes=1-2,5-")), Some(2));
        assert_eq!(count(Some("bytes=-3")), Some(1));
        assert_eq!(count(Some("bytes=3-1")), None);
        assert_eq!(count(Some("items=1-2")), None);
        assert_eq!(count(None), None);
        assert_eq!(single_end(Some("bytes=2-9")), Some(10));
        assert_eq!(single_end(Some("bytes=2-")), None);
        assert_eq!(single_end(Some("bytes=-5")), None);
    }

    #[test]
    fn refuses_egregious_sets() {
        let many = |n: usize| format!("bytes={}", vec!["0-0"; n].join(","));
        assert!(matches!(evaluate(Some(&many(50)), 10), RangeOutcome::Partial(v) if v.len() == 50));
        assert_eq!(evaluate(Some(&many(51)), 10), RangeOutcome::Unsatisfiable);
        // Two overlapping pairs are fine, three are not.
        assert!(matches!(
            evaluate(Some("bytes=0-5,1-6"), 10),
            RangeOutcome::Partial(_)
        ));
        assert_eq!(
            evaluate(Some("bytes=0-5,1-6,2-7"), 10),
            RangeOutcome::Unsatisfiable
        );
        // Seven ranges out of order are fine, eight are not.
        let desc = |n: u64| {
            let parts: Vec<String> = (0..n).rev().map(|i| format!("{i}-{i}")).collect();
            format!("bytes={}", parts.join(","))
        };
        assert!(matches!(
            evaluate(Some(&desc(7)), 10),
            RangeOutcome::Partial(_)
        ));
        assert_eq!(evaluate(Some(&desc(8)), 10), RangeOutcome::Unsatisfiable);
        // Unsatisfiable members are dropped before the count.
        assert_eq!(
            evaluate(Some("bytes=0-0,100-200"), 10),
            RangeOutcome::Partial(vec![r(0, 1)])
        );
    }
}
