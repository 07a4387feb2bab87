//! HTTP Range requests on objects, with Swift's rules: a malformed header is
//! ignored (the whole object is sent), an unsatisfiable one is a 416.

/// Swift ignores Range headers with more ranges than this.
const MAX_RANGES: usize = 100;

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

pub fn evaluate(header: Option<&str>, size: u64) -> RangeOutcome {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeOutcome::Whole;
    };
    let mut ranges = Vec::new();
    let mut specs = 0;
    for part in spec.split(',') {
        let part = part.trim();
        specs += 1;
        let Some((a, b)) = part.split_once('-') else {
            return RangeOutcome::Whole;
        };
        let (a, b) = (a.trim(), b.trim());
        let range = if a.is_empty() {
            let Ok(n) = b.parse::<u64>() else {
                return RangeOutcome::Whole;
            };
            (n > 0 && size > 0).then(|| ByteRange {
                start: size.saturating_sub(n),
                end: size,
            })
        } else {
            let Ok(start) = a.parse::<u64>() else {
                return RangeOutcome::Whole;
            };
            let end = if b.is_empty() {
                size
            } else {
                let Ok(last) = b.parse::<u64>() else {
                    return RangeOutcome::Whole;
                };
                if last < start {
                    return RangeOutcome::Whole;
                }
                last.saturating_add(1).min(size)
            };
            (start < size).then_some(ByteRange { start, end })
        };
        ranges.extend(range);
    }
    if specs > MAX_RANGES {
        return RangeOutcome::Whole;
    }
    if ranges.is_empty() {
        RangeOutcome::Unsatisfiable
    } else {
        RangeOutcome::Partial(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
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
}
