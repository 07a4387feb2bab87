//! The pipeline's seam: order, short answers, and what reaches the app.

use super::*;
use crate::core::http::testing::MemHost;
use crate::swift::router::tests::fixture;

fn get(uri: &str) -> Request<'static> {
    Request {
        method: "GET",
        uri: uri.to_string().into(),
        ..Default::default()
    }
}

fn app_echo(env: &mut Env<'_>, req: &Request<'_>, _host: &mut dyn Host) -> Response {
    let who = match &env.caller {
        Caller::Anonymous => "anonymous".to_string(),
        Caller::User(id) => id.login.clone(),
    };
    let target = env.target(req).map(|t| t.account().to_string());
    Response::text(200, format!("app {who} {target:?}"))
}

#[test]
fn stages_answer_before_the_app_and_every_answer_has_a_trans_id() {
    let f = fixture();
    for (uri, status, body) in [
        ("/healthcheck", 200, "OK"),
        ("/v1/AUTH_test/c/o", 200, "app anonymous Ok(\"AUTH_test\")"),
        ("/v1/AUTH_test//o", 404, ""),
    ] {
        let mut host = MemHost::default();
        let resp = run(&f.vh, &get(uri), &mut host, app_echo);
        assert_eq!(resp.status, status, "{uri}");
        if !body.is_empty() {
            let Some(crate::core::http::Segment::Bytes(b)) = resp.body.first() else {
                panic!("{uri}: no body");
            };
            assert_eq!(String::from_utf8_lossy(b), body, "{uri}");
        }
        let id = resp.get_header("X-Trans-Id").unwrap_or_default();
        assert!(id.starts_with("tx"), "{uri}: {id}");
        assert_eq!(resp.get_header("X-Openstack-Request-Id"), Some(id));
    }
}

#[test]
fn a_bad_token_never_reaches_the_app_and_is_challenged() {
    let f = fixture();
    let mut req = get("/v1/AUTH_test/c");
    req.headers.push((
        "X-Auth-Token".into(),
        "AUTH_tk0000000000000000000000000000000".into(),
    ));
    let mut host = MemHost::default();
    let resp = run(&f.vh, &req, &mut host, app_echo);
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.get_header("Www-Authenticate"),
        Some("Swift realm=\"AUTH_test\"")
    );
}
