//! `?bulk-delete`: the request body is a newline-separated list of
//! URL-encoded `container` or `container/object` paths; objects are deleted
//! first, then containers, each as a DELETE sub-request by the caller.

use std::io::Read;

use super::{
    has_body_length, split_target, SharedBody, SubRequests, MAX_DELETES_PER_REQUEST,
    MAX_FAILED_DELETES, MAX_PATH_LENGTH,
};
use crate::swift::bulk_results::{
    quote, status_line, OutFormat, Results, NUMBER_DELETED, NUMBER_NOT_FOUND,
};
use crate::swift::names::Target;

/// Why the list could not be read: Swift's status and body.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
}

fn refusal(status: u16, body: &str) -> Refusal {
    Refusal {
        status,
        body: body.to_string(),
    }
}

/// Reads up to `n` bytes (fewer only at the end), as a WSGI input's
/// `read(n)` does.
fn read_full(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// One line of the list: whitespace stripped, percent-decoded (bytes).
fn decode_line(line: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(line.trim_ascii()).collect()
}

/// The names in the list, as Swift's `get_objs_to_delete` reads them (in
/// pieces of `MAX_PATH_LENGTH`, with its two limits checked after each
/// step): 413 past `max` names, 400 `Invalid File Name` for a line longer
/// than twice the longest path. A read error is a 499-like disconnect.
pub fn parse_list(body: &mut dyn Read, max: usize) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut line: Vec<u8> = Vec::new();
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut remaining = true;
    while remaining {
        if let Some(i) = line.iter().position(|&b| b == b'\n') {
            names.push(decode_line(&line[..i]));
            line.drain(..=i);
        } else {
            let data = read_full(body, MAX_PATH_LENGTH).map_err(|_| refusal(499, ""))?;
            if data.is_empty() {
                remaining = false;
                let name = decode_line(&line);
                if !name.is_empty() {
                    names.push(name);
                }
            } else {
                line.extend_from_slice(&data);
            }
        }
        if names.len() > max {
            return Err(refusal(
                413,
                &format!("Maximum Bulk Deletes: {max} per request"),
            ));
        }
        if line.len() > MAX_PATH_LENGTH * 2 {
            return Err(refusal(400, "Invalid File Name"));
        }
    }
    Ok(names)
}

/// Whether a name is an object (`c/o`) rather than a container.
pub fn is_object(name: &[u8]) -> bool {
    let trimmed = trim_slashes(name);
    trimmed.contains(&b'/')
}

fn trim_slashes(name: &[u8]) -> &[u8] {
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    let end = name
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(start, |i| i + 1);
    &name[start..end.max(start)]
}

/// The path a name is deleted at (`/v1/account/name`), or None when Swift
/// refuses it (not UTF-8, or a NUL: 412).
pub fn delete_path(account: &str, name: &[u8]) -> Option<Vec<u8>> {
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    let mut path = format!("/v1/{account}/").into_bytes();
    path.extend_from_slice(&name[start..]);
    (std::str::from_utf8(&path).is_ok() && !path.contains(&0)).then_some(path)
}

/// The whole bulk delete; its results body in `format`.
pub fn run(
    sub: &SubRequests<'_, '_, '_, '_>,
    target: &Target,
    format: Option<OutFormat>,
) -> Vec<u8> {
    let mut results = Results::delete();
    if let Err(r) = delete_all(sub, target, format, &mut results) {
        results.set_status(r.status);
        results.set_body(&r.body);
    }
    results.render(format, "delete")
}

fn delete_all(
    sub: &SubRequests<'_, '_, '_, '_>,
    target: &Target,
    format: Option<OutFormat>,
    results: &mut Results,
) -> Result<(), Refusal> {
    if format.is_none() {
        return Err(refusal(406, ""));
    }
    let (account, _) = split_target(target);
    let incoming = sub.req.header("Content-Type").unwrap_or("");
    if !incoming.is_empty() && !incoming.starts_with("text/plain") {
        return Err(refusal(406, ""));
    }
    if !has_body_length(sub.req) {
        return Err(refusal(411, ""));
    }
    let names = parse_list(&mut SharedBody::of(sub), MAX_DELETES_PER_REQUEST)?;
    let mut failed_status = 400;
    for objects in [true, false] {
        let mut phase = names
            .iter()
            .filter(|n| !n.is_empty() && is_object(n) == objects)
            .peekable();
        while let Some(name) = phase.next() {
            sub.tick().map_err(|_| refusal(499, ""))?;
            delete_one(sub, account, name, results, &mut failed_status);
            if results.errors.len() >= MAX_FAILED_DELETES {
                // Swift deletes two at a time: the one still in flight
                // when the limit is reached is counted too.
                if let Some(name) = phase.next() {
                    delete_one(sub, account, name, results, &mut failed_status);
                }
                return Err(refusal(400, "Max delete failures exceeded"));
            }
        }
    }
    if !results.errors.is_empty() {
        results.set_status(failed_status);
    } else if results.count(NUMBER_DELETED) == 0 && results.count(NUMBER_NOT_FOUND) == 0 {
        results.set_status(400);
        results.set_body("Invalid bulk delete.");
    }
    Ok(())
}

/// One name's DELETE and its outcome in `results`.
fn delete_one(
    sub: &SubRequests<'_, '_, '_, '_>,
    account: &str,
    name: &[u8],
    results: &mut Results,
    failed_status: &mut u16,
) {
    let Some(path) = delete_path(account, name) else {
        results.fail(quote(name), status_line(412));
        return;
    };
    let resp = sub.run("DELETE", &path, sub.agent, &Vec::new(), 0, None);
    match resp.status {
        200..=299 => results.bump(NUMBER_DELETED),
        404 => results.bump(NUMBER_NOT_FOUND),
        s => {
            if s / 100 == 5 {
                *failed_status = 502;
            }
            results.fail(quote(name), status_line(s));
        }
    }
}

#[cfg(test)]
mod tests;
