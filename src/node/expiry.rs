//! Object expiry (`X-Delete-At` / `X-Delete-After`): the header rules, the
//! "expired objects read as 404 at once" rule, and the opportunistic sweep
//! that reclaims their space and listing rows.
//!
//! There is no background thread (the host owns threads): after a request,
//! the worker thread that served it sweeps if the node did not sweep the
//! vhost's root for `SWEEP_INTERVAL_SECS` (one process takes each turn,
//! `store::turns::NodeJob`) and no other thread or process is sweeping, and it
//! handles at most `SWEEP_BATCH` objects, so no request pays for more than
//! one small batch. A due object therefore leaves listings and counts within
//! SWEEP_INTERVAL_SECS of the first request after it expired (a backlog
//! drains at SWEEP_BATCH objects per interval). The same turn removes
//! expired auth tokens, TOKEN_REAP_BATCH at most.

use crate::core::http::{Host, LogLevel, Request};
use crate::node::vhost::Vhost;
use crate::store::expiring::Due;
use crate::store::objects::{ObjectMeta, PutError};
use crate::store::turns::NodeJob;
use crate::store::{StoreError, Timestamp};

pub const SWEEP_INTERVAL_SECS: u64 = 2;
pub const SWEEP_BATCH: usize = 100;
/// Expired tokens removed per sweep turn, at most (`auth::TokenStore::reap`).
pub const TOKEN_REAP_BATCH: usize = 256;
/// The metadata key an expiring object carries.
pub const DELETE_AT: &str = "x-delete-at";
/// Swift caps delete-at times at 9999999999 (10 digits sort as text).
const MAX_DELETE_AT: i128 = 9_999_999_999;

/// The `X-Delete-At` a PUT or POST asks for, in epoch seconds, from either
/// header (`X-Delete-After` wins, as in Swift). Err is Swift's 400 message.
/// Values are integers as Python's `int()` reads them (a sign, `_` between
/// digits, surrounding spaces); a time past 9999999999 is capped there, as
/// Swift caps it, and one before 1970 is 0 (in the past).
pub fn requested_delete_at(req: &Request<'_>, now: f64) -> Result<Option<u64>, &'static str> {
    if let Some(after) = req.header("X-Delete-After") {
        let after = python_int(after).ok_or("Non-integer X-Delete-After")?;
        let at = (now.floor() as i128)
            .saturating_add(after)
            .clamp(0, MAX_DELETE_AT);
        if at as f64 <= now {
            return Err("X-Delete-After in past");
        }
        return Ok(Some(at as u64));
    }
    if let Some(at) = req.header("X-Delete-At") {
        let at = python_int(at).ok_or("Non-integer X-Delete-At")?;
        let at = at.clamp(0, MAX_DELETE_AT);
        if at as f64 <= now {
            return Err("X-Delete-At in past");
        }
        return Ok(Some(at as u64));
    }
    Ok(None)
}

/// Python's `int(text)` of a decimal, saturated at i128's range (far past
/// any delete-at time); None where Python raises ValueError, which includes
/// more than 4300 digits (its conversion limit).
fn python_int(text: &str) -> Option<i128> {
    let t = text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    // `_` only between two digits.
    let well_formed = !digits.is_empty()
        && digits
            .split('_')
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed || digits.bytes().filter(u8::is_ascii_digit).count() > 4300 {
        return None;
    }
    let mut v: i128 = 0;
    for d in digits.bytes().filter(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i128::from(d - b'0'));
    }
    Some(if negative { -v } else { v })
}

/// An `X-If-Delete-At` value read as Swift's `Timestamp` reads it: a
/// float (Python's syntax) rounded to 10 µs, optionally `_` and a hex
/// offset of up to 16 digits; from 0 to before 10000000000. Returns
/// (10 µs units, offset); None is Swift's 400 "Bad X-If-Delete-At header
/// value".
pub fn parse_if_delete_at(text: &str) -> Option<(u64, u64)> {
    let (float, hex) = match text.split_once('_') {
        Some((f, h)) => (f, Some(h)),
        None => (text, None),
    };
    let offset = match hex {
        None | Some("") => 0,
        Some(h) if h.contains('_') || h.len() > 16 => return None,
        Some(h) => {
            let h = h.trim();
            let h = h.strip_prefix("+").unwrap_or(h);
            let h = h
                .strip_prefix("0x")
                .or_else(|| h.strip_prefix("0X"))
                .unwrap_or(h);
            u64::from_str_radix(h, 16).ok()?
        }
    };
    let value = python_float(float)?;
    let units = (value / 1e-5).round_ties_even();
    if !units.is_finite() || !(0.0..1e15).contains(&units) {
        return None;
    }
    Some((units as u64, offset))
}

/// Python's `float(text)` for finite decimals (digits with `_` between
/// them, one point, an exponent); inf and nan are refused (Swift cannot
/// use them either).
fn python_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits_ok = |g: &str| {
        g.split('_')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = (!int.is_empty() || !frac.is_empty())
        && (int.is_empty() || digits_ok(int))
        && (frac.is_empty() || digits_ok(frac));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// Whether an object's delete-at time is the one an `X-If-Delete-At`
/// names (Swift compares timestamps: no delete-at is time 0).
pub fn if_delete_at_matches(meta: &ObjectMeta, wanted: (u64, u64)) -> bool {
    let have = delete_at(meta).unwrap_or(0).saturating_mul(100_000);
    (have, 0) == wanted
}

/// The delete-at time an object carries, if any.
pub fn delete_at(meta: &ObjectMeta) -> Option<u64> {
    meta.meta
        .iter()
        .find(|(n, _)| n == DELETE_AT)
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// Whether an object has expired: it then reads as absent.
pub fn is_expired(meta: &ObjectMeta) -> bool {
    delete_at(meta).is_some_and(|at| at as f64 <= now_secs())
}

pub fn now_secs() -> f64 {
    Timestamp::now().units() as f64 / 100_000.0
}

/// Runs one bounded sweep if one is due. Failures are logged, never
/// surfaced: the request it follows has already been answered.
pub fn maybe_sweep(vh: &Vhost, host: &mut dyn Host) {
    let now = now_secs() as u64;
    if !vh.expiring.claim_turn(now, SWEEP_INTERVAL_SECS) {
        return;
    }
    let node_turn = {
        let mut report = |msg: &str| host.log(LogLevel::Error, msg);
        vh.gates
            .claim_node_turn(NodeJob::ExpirySweep, now, SWEEP_INTERVAL_SECS, &mut report)
    };
    if !node_turn {
        return;
    }
    if let Err(e) = sweep(vh, now, SWEEP_BATCH) {
        host.log(LogLevel::Warn, &format!("expiry sweep: {e}"));
    }
    // Expired tokens too, on the same turn.
    match vh.tokens.reap(Timestamp::now(), TOKEN_REAP_BATCH) {
        Ok(0) => {}
        Ok(n) => host.log(
            LogLevel::Debug,
            &format!("token reaper: removed {n} tokens"),
        ),
        Err(e) => host.log(LogLevel::Warn, &format!("token reaper: {e}")),
    }
}

/// Reclaims up to `max` objects due at `now`; returns how many markers it
/// settled. Each object is deleted with a tombstone timestamped at its
/// delete-at time, so a newer PUT of the same name always wins.
pub fn sweep(vh: &Vhost, now: u64, max: usize) -> Result<usize, StoreError> {
    let Some(_lock) = vh.expiring.try_lock()? else {
        return Ok(0);
    };
    let due = vh.expiring.due(now, max)?;
    for d in &due {
        reclaim(vh, d)?;
        vh.expiring.remove(d);
    }
    Ok(due.len())
}

fn reclaim(vh: &Vhost, d: &Due) -> Result<(), StoreError> {
    let current = match vh.objects.open(&d.account, &d.container, &d.object) {
        // Another name's file: nothing of this name to reclaim (its own
        // markers are not this name's to settle).
        Err(StoreError::NameCollision { .. }) => return Ok(()),
        other => other?,
    };
    // A newer version, or one whose expiry was changed, has its own marker;
    // any other marker the object no longer needs goes too.
    let Some(obj) = current else {
        vh.expiring
            .settle(&vh.objects, &d.account, &d.container, &d.object)?;
        return Ok(());
    };
    if delete_at(&obj.meta) != Some(d.delete_at) {
        drop(obj);
        vh.expiring
            .settle(&vh.objects, &d.account, &d.container, &d.object)?;
        return Ok(());
    }
    drop(obj);
    let ts = Timestamp::from_units(d.delete_at * 100_000);
    // Tombstone first, row second: a crash in between is repaired by
    // recovery (a retried sweep would find the object gone and drop its
    // expiry marker, leaving the row listed).
    let intent = vh.intents.begin(&[&d.account, &d.container, &d.object])?;
    match vh.objects.delete(&d.account, &d.container, &d.object, ts) {
        Ok(_) | Err(PutError::Conflict) => {}
        Err(PutError::Store(e)) => return Err(e),
        Err(_) => {
            intent.settle();
            return Ok(());
        }
    }
    vh.catalog
        .object_delete(&d.account, &d.container, &d.object, ts)?;
    intent.settle();
    vh.expiring
        .settle(&vh.objects, &d.account, &d.container, &d.object)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::http::testing::request as req;

    /// An object's metadata with no headers, written now.
    fn bare_meta() -> ObjectMeta {
        ObjectMeta {
            timestamp: Timestamp::now(),
            meta_timestamp: Timestamp::now(),
            content_type: String::new(),
            etag: String::new(),
            size: 0,
            meta: vec![],
        }
    }

    #[test]
    fn delete_headers_like_swift() {
        let now = 1_700_000_000.5;
        let r = |h| requested_delete_at(&req(h), now);
        assert_eq!(r(&[]), Ok(None));
        assert_eq!(r(&[("X-Delete-After", "1")]), Ok(Some(1_700_000_001)));
        assert_eq!(r(&[("X-Delete-After", "0")]), Err("X-Delete-After in past"));
        assert_eq!(
            r(&[("X-Delete-After", "-5")]),
            Err("X-Delete-After in past")
        );
        assert_eq!(
            r(&[("X-Delete-After", "1.5")]),
            Err("Non-integer X-Delete-After")
        );
        assert_eq!(r(&[("X-Delete-At", "1700000100")]), Ok(Some(1_700_000_100)));
        assert_eq!(
            r(&[("X-Delete-At", "1700000000")]),
            Err("X-Delete-At in past")
        );
        assert_eq!(r(&[("X-Delete-At", "-1")]), Err("X-Delete-At in past"));
        assert_eq!(
            r(&[("X-Delete-At", "soon")]),
            Err("Non-integer X-Delete-At")
        );
        assert_eq!(
            r(&[("X-Delete-At", "99999999999")]),
            Ok(Some(9_999_999_999))
        );
        // X-Delete-After wins over X-Delete-At.
        assert_eq!(
            r(&[("X-Delete-At", "1"), ("X-Delete-After", "10")]),
            Ok(Some(1_700_000_010))
        );
        // Python's int(): any length (capped), signs, `_` between digits.
        let far = "9".repeat(60);
        assert_eq!(
            requested_delete_at(&req(&[("X-Delete-At", &far)]), now),
            Ok(Some(9_999_999_999))
        );
        assert_eq!(
            requested_delete_at(&req(&[("X-Delete-After", &far)]), now),
            Ok(Some(9_999_999_999))
        );
        assert_eq!(
            requested_delete_at(&req(&[("X-Delete-At", " +1_700_000_100 ")]), now),
            Ok(Some(1_700_000_100))
        );
        let long = format!("-{far}");
        assert_eq!(
            requested_delete_at(&req(&[("X-Delete-At", &long)]), now),
            Err("X-Delete-At in past")
        );
        for bad in [
            "1__0",
            "_1",
            "1_",
            "1e10",
            "0x10",
            "",
            "+",
            "1 0",
            &"9".repeat(4301),
        ] {
            assert_eq!(
                requested_delete_at(&req(&[("X-Delete-At", bad)]), now),
                Err("Non-integer X-Delete-At"),
                "{bad:?}"
            );
        }
        assert_eq!(
            requested_delete_at(&req(&[("X-Delete-At", &"9".repeat(4300))]), now),
            Ok(Some(9_999_999_999))
        );
    }

    #[test]
    fn if_delete_at_like_swift_timestamps() {
        let p = parse_if_delete_at;
        assert_eq!(p("1700000000"), Some((170_000_000_000_000, 0)));
        assert_eq!(p("1700000000.000001"), Some((170_000_000_000_000, 0)));
        assert_eq!(p("1.5"), Some((150_000, 0)));
        assert_eq!(p("1e3"), Some((100_000_000, 0)));
        assert_eq!(p("9999999999"), Some((999_999_999_900_000, 0)));
        assert_eq!(p("0"), Some((0, 0)));
        assert_eq!(p("5_00000000000000ff"), Some((500_000, 255)));
        assert_eq!(p("5_"), Some((500_000, 0)));
        for bad in [
            "",
            "abc",
            "-1",
            "10000000000",
            "99999999999",
            "inf",
            "nan",
            "1_2_3",
            "1_xyz",
            "1_00000000000000000",
            "1..2",
            ".",
            "1e",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        let mut meta = bare_meta();
        assert!(if_delete_at_matches(&meta, (0, 0)));
        assert!(!if_delete_at_matches(&meta, (0, 1)));
        meta.meta.push((DELETE_AT.into(), "1700000000".into()));
        assert!(if_delete_at_matches(&meta, p("1700000000.0").unwrap()));
        assert!(!if_delete_at_matches(&meta, p("1700000001").unwrap()));
    }

    #[test]
    fn expired_is_by_the_clock() {
        let mut meta = bare_meta();
        assert!(!is_expired(&meta));
        meta.meta.push((DELETE_AT.into(), "1000".into()));
        assert!(is_expired(&meta));
        meta.meta[0].1 = "9999999999".into();
        assert!(!is_expired(&meta));
    }
}
