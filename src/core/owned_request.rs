//! A request kept past the `handle` call's borrow of the host's memory: the
//! work of a long request that runs while its answer is sent (bulk's and
//! SLO's heartbeat bodies) still needs the caller's method, identity and
//! headers for the sub-requests it makes. The body is not kept: it is still
//! read from the host.

use super::http::{HeaderValue, Request};

#[derive(Debug, Clone, Default)]
pub struct OwnedRequest {
    method: String,
    uri: String,
    query: String,
    scheme: String,
    host: String,
    remote_user: String,
    request_id: String,
    /// Names as received; values as the exact bytes sent.
    headers: Vec<(String, Vec<u8>)>,
    content_length: Option<u64>,
    chunked: bool,
}

impl OwnedRequest {
    pub fn of(req: &Request<'_>) -> Self {
        OwnedRequest {
            method: req.method.to_string(),
            uri: req.uri.to_string(),
            query: req.query.to_string(),
            scheme: req.scheme.to_string(),
            host: req.host.to_string(),
            remote_user: req.remote_user.to_string(),
            request_id: req.request_id.to_string(),
            headers: req
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.bytes().to_vec()))
                .collect(),
            content_length: req.content_length,
            chunked: req.chunked,
        }
    }

    /// The request again, borrowing from this copy.
    pub fn as_request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            uri: self.uri.as_str().into(),
            query: &self.query,
            scheme: &self.scheme,
            host: &self.host,
            remote_user: &self.remote_user,
            request_id: &self.request_id,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().into(), HeaderValue::from_bytes(v)))
                .collect(),
            content_length: self.content_length,
            chunked: self.chunked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_reads_as_the_request_did() {
        let raw = [b'a', 0xff, b'b'];
        let req = Request {
            method: "PUT",
            uri: "/v1/AUTH_t/c%20d".into(),
            query: "extract-archive=tar",
            scheme: "http",
            host: "h:1",
            remote_user: "u",
            request_id: "id",
            headers: vec![
                ("X-Auth-Token".into(), "tok".into()),
                ("X-Object-Meta-Bin".into(), HeaderValue::from_bytes(&raw)),
            ],
            content_length: Some(7),
            chunked: false,
        };
        let owned = OwnedRequest::of(&req);
        let again = owned.as_request();
        assert_eq!(again.method, "PUT");
        assert_eq!(again.uri, "/v1/AUTH_t/c%20d");
        assert_eq!(again.query, "extract-archive=tar");
        assert_eq!((again.scheme, again.host), ("http", "h:1"));
        assert_eq!((again.remote_user, again.request_id), ("u", "id"));
        assert_eq!(again.header("x-auth-token"), Some("tok"));
        let bin = again.header_value("X-Object-Meta-Bin").map(|v| v.bytes());
        assert_eq!(bin, Some(&raw[..]));
        assert_eq!((again.content_length, again.chunked), (Some(7), false));
    }
}
