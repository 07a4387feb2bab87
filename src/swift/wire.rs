//! A response as Swift puts it on the wire, applied once to every answer of
//! the pipeline (what swob's `Response` does when it is sent): every header
//! name title-cased as Swift's `HeaderKeyDict` spells it ("Etag",
//! "X-Object-Meta-Color"; stored names keep their stored spelling, only the
//! wire spelling changes), and swob's default `Content-Type` on an answer
//! that names none (a 201, a 204 to POST or DELETE). An answer marked
//! `verbatim` (an allowed CORS preflight) goes out as it was built.

use crate::core::header_case::title_case;
use crate::core::http::{Response, SWOB_CONTENT_TYPE};

/// Gives `resp` Swift's wire spelling.
pub fn finish(resp: &mut Response) {
    if resp.verbatim {
        return;
    }
    let typed = resp
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Content-Type"));
    if !typed {
        resp.header("Content-Type", SWOB_CONTENT_TYPE);
    }
    for (name, _) in resp.headers.iter_mut() {
        let spelled = title_case(name);
        if *name != spelled {
            *name = spelled;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_title_cased_and_the_default_type_added() {
        let mut r = Response::new(201);
        r.header("ETag", "x")
            .header_bytes("x-object-meta-a1b", &b"\xe9"[..])
            .header("X-Trans-Id", "tx");
        finish(&mut r);
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["Etag", "X-Object-Meta-A1B", "X-Trans-Id", "Content-Type"]
        );
        assert_eq!(r.get_header("content-type"), Some(SWOB_CONTENT_TYPE));
        assert_eq!(r.headers[1].1, b"\xe9", "values go out as they are");
    }

    #[test]
    fn a_named_type_is_kept() {
        let mut r = Response::new(204);
        r.header("content-type", "text/plain; charset=utf-8");
        finish(&mut r);
        assert_eq!(
            r.headers,
            vec![(
                "Content-Type".to_string(),
                b"text/plain; charset=utf-8".to_vec()
            )]
        );
    }
}
