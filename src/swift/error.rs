//! The one error type of the API layer. A processor returns
//! `Result<Response, ApiError>` and writes `?` on storage calls; the status a
//! failure becomes is decided here and nowhere else: a refusal carries
//! Swift's status and body, a storage failure is logged and becomes 507
//! (the disk or quota is full, as Swift's servers answer) or 500.

use crate::core::http::{Host, LogLevel, Response, SWOB_CONTENT_TYPE};
use crate::store::StoreError;
use std::borrow::Cow;
use std::fmt;

/// The body of a 507, Swift's wording without its HTML.
pub const INSUFFICIENT_STORAGE: &str = "There was not enough space to save the resource.";

#[derive(Debug)]
pub enum ApiError {
    /// The request is refused: Swift's status and message, under the
    /// Content-Type Swift gives it (empty: swob's default page).
    Refused {
        status: u16,
        body: Cow<'static, str>,
        content_type: &'static str,
    },
    /// A refusal that needs its own headers (a 401's challenge, a 503's
    /// Retry-After, a 405's Allow), built by the one who refuses.
    Answer(Box<Response>),
    /// The storage layer failed: the client learns only the status.
    Store(StoreError),
}

impl ApiError {
    /// A refusal with Swift's message for it, under swob's default
    /// Content-Type, as Swift sends a message it names no type for
    /// (`HTTPPreconditionFailed(body='Bad URL')`).
    pub fn refused(status: u16, body: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::typed(status, body, SWOB_CONTENT_TYPE)
    }

    /// A refusal with a plain-text message, as Swift's servers send their
    /// checks' messages (`content_type='text/plain'`).
    pub fn plain(status: u16, body: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::typed(status, body, "text/plain")
    }

    /// A refusal with a message under the given Content-Type.
    pub fn typed(
        status: u16,
        body: impl Into<Cow<'static, str>>,
        content_type: &'static str,
    ) -> ApiError {
        ApiError::Refused {
            status,
            body: body.into(),
            content_type,
        }
    }

    /// A refusal with swob's default page for the status.
    pub fn status_only(status: u16) -> ApiError {
        ApiError::refused(status, "")
    }

    /// Swift's 405: its page, and the methods the path allows in `Allow`.
    pub fn method_not_allowed(allow: &str) -> ApiError {
        ApiError::from(Response::swob(405).with_header("Allow", allow))
    }

    /// A 400 with a plain-text message (most of Swift's 400s: metadata,
    /// expiry, Content-Type and conditional-header checks).
    pub fn bad_request(body: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::plain(400, body)
    }

    pub fn not_found() -> ApiError {
        ApiError::status_only(404)
    }

    /// The status the client gets.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Refused { status, .. } => *status,
            ApiError::Answer(r) => r.status,
            ApiError::Store(StoreError::MetadataLimit { .. }) => 400,
            ApiError::Store(StoreError::NameCollision { .. }) => 404,
            ApiError::Store(e) if e.is_out_of_space() => 507,
            ApiError::Store(_) => 500,
        }
    }

    /// The response, logging through `host` what the operator must see: a
    /// full disk, a damaged SQLite file (named, for the operator to act
    /// on), any other storage failure. Nothing of a storage failure's
    /// detail reaches the client.
    pub fn respond(self, host: &mut dyn Host) -> Response {
        match self {
            ApiError::Refused { status, body, .. } if body.is_empty() => Response::swob(status),
            ApiError::Refused {
                status,
                body,
                content_type,
            } => Response::message(status, body, content_type),
            ApiError::Answer(r) => *r,
            ApiError::Store(e) => storage_error(host, &e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

impl From<Response> for ApiError {
    fn from(r: Response) -> Self {
        ApiError::Answer(Box::new(r))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Refused { status, body, .. } => write!(f, "{status} {body}"),
            ApiError::Answer(r) => write!(f, "{}", r.status),
            ApiError::Store(e) => write!(f, "{e}"),
        }
    }
}

/// Logs a storage failure and answers without details for the client: 507
/// when the disk (or quota) is full, else 500. A damaged SQLite file gets a
/// line that says so and names it, for the operator to act on. Metadata the
/// store refused by its merged limits is Swift's 400, not a failure; an
/// object file that holds another name means this name is not there: 404,
/// with a line for the operator.
pub fn storage_error(host: &mut dyn Host, e: &StoreError) -> Response {
    if let StoreError::MetadataLimit { message } = e {
        // The account or container server's refusal of the merged
        // metadata: no type of its own, so swob's default.
        return Response::error(400, message);
    }
    if let StoreError::NameCollision { .. } = e {
        host.log(LogLevel::Warn, &format!("object not found: {e}"));
        return Response::error(404, "");
    }
    if e.is_out_of_space() {
        host.log(LogLevel::Error, &format!("storage full: {e}"));
        return Response::error(507, INSUFFICIENT_STORAGE);
    }
    let line = match e.damaged_db() {
        Some(path) => format!(
            "damaged SQLite database {} (check with stowage-audit; restore it from a backup): {e}",
            path.display()
        ),
        None => format!("storage error: {e}"),
    };
    host.log(LogLevel::Error, &line);
    Response::error(500, "")
}

/// Runs a processor written with `?` and turns its failure into the
/// response.
pub fn answer(
    host: &mut dyn Host,
    f: impl FnOnce(&mut dyn Host) -> Result<Response, ApiError>,
) -> Response {
    match f(host) {
        Ok(r) => r,
        Err(e) => e.respond(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::testing::MemHost;
    use std::io;

    fn full() -> StoreError {
        StoreError::io("writing", "/x", io::Error::from_raw_os_error(libc::ENOSPC))
    }

    #[test]
    fn one_place_decides_each_status() {
        let mut host = MemHost::default();
        assert_eq!(ApiError::bad_request("Bad URL").status(), 400);
        let r = ApiError::refused(412, "Bad URL").respond(&mut host);
        assert_eq!((r.status, r.body_len()), (412, "Bad URL".len() as u64));
        assert_eq!(r.get_header("Content-Type"), Some(SWOB_CONTENT_TYPE));
        let r = ApiError::bad_request("X-Delete-At in past").respond(&mut host);
        assert_eq!(r.get_header("Content-Type"), Some("text/plain"));
        let r = ApiError::status_only(404).respond(&mut host);
        let page = "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>";
        assert_eq!((r.body_len(), r.default_page), (page.len() as u64, true));
        assert_eq!(ApiError::from(full()).status(), 507);
        let r = ApiError::from(full()).respond(&mut host);
        assert_eq!(r.status, 507);
        assert!(
            host.logs[0].1.starts_with("storage full:"),
            "{:?}",
            host.logs
        );
        let other = StoreError::corrupt("/y", "bad trailer");
        let r = ApiError::from(other).respond(&mut host);
        assert_eq!(r.status, 500);
        assert!(r.default_page);
        assert!(
            host.logs[1].1.starts_with("storage error:"),
            "{:?}",
            host.logs
        );
    }
}
