//! `account_quotas`, as in Swift 2.38: an account's byte and object-count
//! quotas, overall and per storage policy, which only a reseller admin may
//! set and which bind everyone else.
//!
//! - Set on account POST (or PUT) with `X-Account-Quota-Bytes`,
//!   `X-Account-Quota-Count`, `X-Account-Quota-Bytes-Policy-<name>`,
//!   `X-Account-Quota-Count-Policy-<name>` (the policy's name, not an
//!   alias), or the older `X-Account-Meta-Quota-Bytes` (kept as metadata
//!   too); removed with an empty value or `X-Remove-Account-...`. They are
//!   kept as system metadata (`X-Account-Sysmeta-Quota-Bytes`, `...-Policy-
//!   <index>`, which no client can set or see: `gatekeeper`), validated
//!   for a reseller admin (400, swob's page, for anything but digits) and
//!   refused to anyone else (403, whoever they are, before access control).
//!   Account HEAD/GET show them to whoever may read the account, as
//!   `X-Account-Quota-Bytes` etc.
//! - An object PUT by anyone but a reseller admin that would take the
//!   account's bytes (Content-Length; 0 when chunked) or object count (one
//!   more) over a quota, or its container's policy's, is refused with 413
//!   `Upload exceeds quota.` / `Upload exceeds policy quota.`, but only
//!   once the caller is otherwise allowed to write there: Swift defers it
//!   into `swift.authorize`, so a caller without access gets 401/403 and an
//!   allowed one 413 before any other check of the PUT. Copies are checked
//!   by the `copy` middleware (`exceeded`).
//!
//! The account's counters are read once per PUT (and its container once
//! when a policy quota is set). Swift's may be a minute old (memcache);
//! here they are current. Swift 2.38 also reads a policy's usage as 0 when
//! its account info was fetched in the same request (its cache's keys are
//! numbers there and strings after memcache); Stowage always uses the
//! policy's real usage.

use super::quota_values::{exceeds, is_digits, limit};
use super::{Env, Middleware, Next};
use crate::core::http::{HeaderValue, Host, Request, Response};
use crate::node::policy::Policies;
use crate::node::vhost::Vhost;
use crate::swift::auth::Caller;
use crate::swift::error::ApiError;
use crate::swift::names::Target;
use std::borrow::Cow;

pub struct AccountQuotas;

/// Swift's bodies of the 413s.
pub const EXCEEDED: &str = "Upload exceeds quota.";
pub const POLICY_EXCEEDED: &str = "Upload exceeds policy quota.";

/// The two kinds of quota, as they appear in header names.
const KINDS: [&str; 2] = ["Quota-Bytes", "Quota-Count"];

impl Middleware for AccountQuotas {
    fn call(
        &self,
        env: &mut Env<'_>,
        req: &Request<'_>,
        host: &mut dyn Host,
        next: Next,
    ) -> Response {
        let target = match env.target(req) {
            Ok(t) => t.clone(),
            Err(_) => return next.run(env, req, host),
        };
        match &target {
            Target::Account { .. } => account_request(env, req, host, next),
            Target::Object {
                account, container, ..
            } if req.method == "PUT" => {
                let adding = req.content_length.unwrap_or(0);
                match exceeded(env.vh, &env.caller, account, container, adding) {
                    Some(body) => {
                        let outer = env.refused_once_authorized.replace((413, body));
                        let resp = next.run(env, req, host);
                        env.refused_once_authorized = outer;
                        resp
                    }
                    None => next.run(env, req, host),
                }
            }
            _ => next.run(env, req, host),
        }
    }
}

fn is_reseller(caller: &Caller) -> bool {
    matches!(caller, Caller::User(who) if who.reseller_admin)
}

/// An account request: quota headers of a POST or PUT turned into system
/// metadata (or refused), and the stored quotas shown on the answer.
fn account_request(
    env: &mut Env<'_>,
    req: &Request<'_>,
    host: &mut dyn Host,
    next: Next,
) -> Response {
    let policies = &env.vh.config.policies;
    let mut resp = if matches!(req.method, "POST" | "PUT") {
        let mut translated = req.clone();
        match translate(&mut translated, policies, is_reseller(&env.caller)) {
            Ok(()) => next.run(env, &translated, host),
            Err(e) => e.respond(host),
        }
    } else {
        next.run(env, req, host)
    };
    show_quotas(&mut resp, policies);
    resp
}

/// Swift's `handle_account` for POST/PUT: the legacy header stands for the
/// new one when that is missing or empty, then each kind is validated and
/// translated.
fn translate<'a>(
    req: &mut Request<'a>,
    policies: &Policies,
    reseller: bool,
) -> Result<(), ApiError> {
    for legacy in [
        "X-Account-Meta-Quota-Bytes",
        "X-Remove-Account-Meta-Quota-Bytes",
    ] {
        let new = legacy.replace("-Meta-", "-");
        if let Some(value) = value_of(req, legacy) {
            if req.header(&new).is_none_or(str::is_empty) {
                set_header(req, &new, Some(value));
            }
        }
    }
    for kind in KINDS {
        translate_kind(req, policies, kind, reseller)?;
    }
    Ok(())
}

/// One kind's quotas from the request: overall (None) and per policy
/// index; a value of None leaves it as it is, an empty one removes it.
type NewQuotas<'a> = Vec<(Option<u32>, Option<HeaderValue<'a>>)>;

fn translate_kind<'a>(
    req: &mut Request<'a>,
    policies: &Policies,
    kind: &str,
    reseller: bool,
) -> Result<(), ApiError> {
    let removes = |req: &Request<'_>, name: &str| req.header(name).is_some_and(|v| !v.is_empty());
    let mut quotas: NewQuotas<'a> = Vec::new();
    let overall = if removes(req, &format!("X-Remove-Account-{kind}")) {
        Some(HeaderValue::from(""))
    } else {
        value_of(req, &format!("X-Account-{kind}"))
    };
    quotas.push((None, overall));
    for policy in policies.iter() {
        let tail = format!("Account-{kind}-Policy-{}", policy.name());
        let quota = if removes(req, &format!("X-Remove-{tail}")) {
            Some(HeaderValue::from(""))
        } else {
            // Swift pops it: the policy's own header goes no further.
            let name = format!("X-{tail}");
            let value = value_of(req, &name);
            set_header(req, &name, None);
            value
        };
        quotas.push((Some(policy.index), quota));
    }
    if !reseller {
        return match quotas.iter().any(|(_, q)| q.is_some()) {
            true => Err(ApiError::status_only(403)),
            false => Ok(()),
        };
    }
    let valid = |q: &HeaderValue<'_>| q.bytes().is_empty() || is_digits(q.bytes());
    if !quotas.iter().all(|(_, q)| q.as_ref().is_none_or(valid)) {
        return Err(ApiError::status_only(400));
    }
    for (index, quota) in quotas {
        let name = match index {
            None => format!("X-Account-Sysmeta-{kind}"),
            Some(i) => format!("X-Account-Sysmeta-{kind}-Policy-{i}"),
        };
        // Kept as sent: digits Python counts that are not UTF-8 (Latin-1
        // superscripts) are for the account to refuse, as Swift's does.
        set_header(req, &name, quota);
    }
    Ok(())
}

/// The first value of a request header, as sent.
fn value_of<'a>(req: &Request<'a>, name: &str) -> Option<HeaderValue<'a>> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Replaces every value of a request header (None: removes it).
fn set_header<'a>(req: &mut Request<'a>, name: &str, value: Option<HeaderValue<'a>>) {
    req.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        req.headers.push((Cow::Owned(name.to_string()), v));
    }
}

/// The stored quotas, shown under their public names (the system
/// metadata itself is removed by `gatekeeper` on the way out).
fn show_quotas(resp: &mut Response, policies: &Policies) {
    let mut shown = Vec::new();
    for kind in KINDS {
        shown.push((
            format!("X-Account-Sysmeta-{kind}"),
            format!("X-Account-{kind}"),
        ));
    }
    for policy in policies.iter() {
        for kind in KINDS {
            shown.push((
                format!("X-Account-Sysmeta-{kind}-Policy-{}", policy.index),
                format!("X-Account-{kind}-Policy-{}", policy.name()),
            ));
        }
    }
    for (sysmeta, public) in shown {
        let value = resp
            .headers
            .iter()
            .find(|(n, v)| n.eq_ignore_ascii_case(&sysmeta) && !v.is_empty())
            .map(|(_, v)| v.clone());
        if let Some(v) = value {
            resp.remove_header(&public);
            resp.header_bytes(&public, v);
        }
    }
}

/// The 413 body when writing `adding` bytes as one more object into
/// `container` would take the account over a quota; never for a reseller
/// admin. An account that cannot be read has no quota (the request fails
/// later, as in Swift).
pub fn exceeded(
    vh: &Vhost,
    caller: &Caller,
    account: &str,
    container: &str,
    adding: u64,
) -> Option<&'static str> {
    if is_reseller(caller) {
        return None;
    }
    let info = vh.catalog.account_info(account).ok()?;
    let meta = |key: &str| {
        info.metadata
            .iter()
            .find(|(n, _)| n == key)
            .map(|(_, v)| v.as_str())
    };
    let sysmeta = |key: &str| meta(&format!("x-account-sysmeta-{key}"));
    // The legacy metadata counts while no system metadata is set.
    let bytes = sysmeta("quota-bytes").or_else(|| meta("x-account-meta-quota-bytes"));
    if limit(bytes).is_some_and(|q| exceeds(q, info.bytes_used, adding)) {
        return Some(EXCEEDED);
    }
    if limit(sysmeta("quota-count")).is_some_and(|q| exceeds(q, info.object_count, 1)) {
        return Some(EXCEEDED);
    }
    let per_policy = info.metadata.iter().any(|(n, _)| {
        n.starts_with("x-account-sysmeta-quota-bytes-policy-")
            || n.starts_with("x-account-sysmeta-quota-count-policy-")
    });
    if !per_policy {
        return None;
    }
    // Swift's container info of a container that is not there names
    // policy 0.
    let index = match vh.catalog.container_info(account, container) {
        Ok(Some(c)) => c.policy_index,
        _ => 0,
    };
    let stats = info
        .policy_stats
        .iter()
        .find(|s| s.index == index)
        .copied()
        .unwrap_or_default();
    let bytes = sysmeta(&format!("quota-bytes-policy-{index}"));
    if limit(bytes).is_some_and(|q| exceeds(q, stats.bytes_used, adding)) {
        return Some(POLICY_EXCEEDED);
    }
    let count = sysmeta(&format!("quota-count-policy-{index}"));
    if limit(count).is_some_and(|q| exceeds(q, stats.object_count, 1)) {
        return Some(POLICY_EXCEEDED);
    }
    None
}

#[cfg(test)]
mod tests;
