//! The Range header (range.rs) against two object sizes. Properties: every
//! range lies inside the object and is non-empty; at most 100 ranges, no
//! more than the header lists; a header is malformed (whole object) or not
//! whatever the (non-zero) size, and an empty object is sent whole or not
//! at all; growing the object never makes a satisfiable header
//! unsatisfiable nor loses a range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stowage::swift::range::{evaluate, ByteRange, RangeOutcome};

// The input is text: two object sizes in decimal and a space on the first
// line, then the header value.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((sizes, h)) = text.split_once('\n') else {
        return;
    };
    let Some((Ok(size), Ok(other))) = sizes
        .split_once(' ')
        .map(|(a, b)| (a.parse::<u64>(), b.parse::<u64>()))
    else {
        return;
    };
    assert_eq!(evaluate(None, size), RangeOutcome::Whole);

    let here = evaluate(Some(h), size);
    let there = evaluate(Some(h), other);
    check(h, size, &here);
    check(h, other, &there);
    // An empty object asked for its last bytes is sent whole (swob).
    if size > 0 && other > 0 {
        assert_eq!(
            here == RangeOutcome::Whole,
            there == RangeOutcome::Whole,
            "malformedness depends on size: {h:?} {here:?} at {size}, {there:?} at {other}"
        );
    }

    let (small, large, at_small, at_large) = if size <= other {
        (size, other, &here, &there)
    } else {
        (other, size, &there, &here)
    };
    // Growing the object only adds satisfiable bytes, but swob's
    // "egregious" rules (more than 2 overlaps, 8 out of order, 50 ranges)
    // can then refuse the set: compare only sets they cannot touch.
    let specs = h.matches(',').count() + 1;
    if specs > 2 {
        return;
    }
    if let RangeOutcome::Partial(few) = at_small {
        let RangeOutcome::Partial(more) = at_large else {
            panic!("{h:?}: satisfiable at {small}, not at {large}: {at_large:?}");
        };
        assert!(few.len() <= more.len());
    }
});

fn check(h: &str, size: u64, outcome: &RangeOutcome) {
    // swob drops every space and reads the unit case-insensitively.
    let compact: String = h.chars().filter(|&c| c != ' ').collect();
    if !compact.to_ascii_lowercase().starts_with("bytes=") {
        assert_eq!(*outcome, RangeOutcome::Whole);
    }
    let RangeOutcome::Partial(ranges) = outcome else {
        return;
    };
    assert!(size > 0, "{h:?}: a range of an empty object");
    assert!(!ranges.is_empty() && ranges.len() <= 100);
    assert!(ranges.len() <= h.matches(',').count() + 1);
    for &ByteRange { start, end } in ranges {
        assert!(
            start < end && end <= size,
            "{h:?} at {size}: {start}..{end}"
        );
    }
}
