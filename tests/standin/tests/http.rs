//! Exercises the stand-in over real HTTP, the way the library under test will.

use std::time::{Duration, Instant};

use serde_json::Value;
use vf_standin::{Fault, Options, StandIn};

const FORM: &str = "application/x-www-form-urlencoded";

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// POSTs `body` with the stand-in's own credentials.
fn post(s: &StandIn, path: &str, content_type: &str, body: &str) -> Reply {
    post_as(s, path, Some((s.app_id(), s.secret_key())), content_type, body).expect("request")
}

fn post_as(
    s: &StandIn,
    path: &str,
    credentials: Option<(&str, &str)>,
    content_type: &str,
    body: &str,
) -> Result<Reply, ureq::Error> {
    let mut request = agent(Duration::from_secs(5))
        .post(format!("{}{path}", s.base_url()))
        .header("Content-Type", content_type);
    if let Some((id, key)) = credentials {
        request = request.header("X-App-Id", id).header("X-App-Token", key);
    }
    into_reply(request.send(body)?)
}

fn into_reply(response: ureq::http::Response<ureq::Body>) -> Result<Reply, ureq::Error> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().read_to_vec()?;
    Ok(Reply { status, headers, body })
}

fn assert_error(reply: &Reply, status: u16, key: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["code"], status);
    assert_eq!(body["key"], key);
    assert!(body["message"].is_string());
    assert!(body["details"].is_string());
    assert!(body["request_id"].as_str().unwrap().starts_with("v-"));
}

/// A 400 as the spec's examples show them: only code, key and message.
fn assert_spec_error(reply: &Reply, key: &str) {
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["code", "key", "message"], "{body}");
    assert_eq!((&body["code"], &body["key"]), (&400.into(), &key.into()));
}

#[test]
fn generate_introspect_revoke_lifecycle() {
    let s = StandIn::start(Options::default()).unwrap();

    let generated = post(
        &s,
        "/v1/oauth/token",
        FORM,
        "grant_type=client_credentials&scope=api++vouchers",
    );
    assert_eq!(generated.status, 200);
    assert_eq!(generated.header("x-rate-limit-limit"), Some("1000000"));
    assert_eq!(generated.header("x-rate-limit-remaining"), Some("999999"));
    assert!(generated.header("x-rate-limit-retry").is_some());
    assert_eq!(generated.header("x-rate-limit-type"), Some("api_calls"));
    let token = generated.json();
    let access_token = token["access_token"].as_str().unwrap().to_string();
    assert_eq!(access_token.len(), 50);
    assert!(access_token.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(token["scope"], "api vouchers");
    assert_eq!(token["expires_in"], 900);
    assert_eq!(token["token_type"], "Bearer");
    assert!(token["client_id"].as_str().unwrap().starts_with("cl_"));
    assert!(token["expires_at"].as_u64().unwrap() > 1_700_000_000);

    let body = format!("access_token={access_token}");
    let active = post(&s, "/v1/oauth/introspect", FORM, &body);
    assert_eq!(active.status, 200);
    assert_eq!(active.header("x-rate-limit-remaining"), Some("999998"));
    let active = active.json();
    assert_eq!(active["active"], true);
    assert_eq!(active["access_token"], access_token.as_str());
    assert_eq!(active["expires_at"], token["expires_at"]);
    assert!((899..=900).contains(&active["expires_in"].as_u64().unwrap()));

    let revoked = post(&s, "/v1/oauth/token/revoke", FORM, &body);
    assert_eq!((revoked.status, revoked.body.len()), (204, 0));
    let again = post(&s, "/v1/oauth/token/revoke", FORM, &body);
    assert_eq!((again.status, again.body.len()), (404, 0));

    let inactive = post(&s, "/v1/oauth/introspect", FORM, &body);
    assert_eq!(inactive.status, 200);
    assert_eq!(inactive.json(), serde_json::json!({ "active": false }));

    // Everything went into the log, lowercase header names included.
    assert_eq!(s.request_count(), 5);
    let log = s.requests();
    assert_eq!(log[1].path, "/v1/oauth/introspect");
    assert_eq!(log[1].body, body.as_bytes());
    assert!(log[1]
        .headers
        .iter()
        .any(|(n, v)| n == "x-app-id" && v == "standin-app-id"));
    s.reset_log();
    assert_eq!((s.request_count(), s.requests().len()), (0, 0));
}

#[test]
fn credentials_content_type_and_form_errors() {
    let s = StandIn::start(Options {
        app_id: "id-1".into(),
        secret_key: "key-1".into(),
        ..Options::default()
    })
    .unwrap();
    let form = "grant_type=client_credentials&scope=api";

    let wrong = post_as(&s, "/v1/oauth/token", Some(("id-1", "nope")), FORM, form).unwrap();
    assert_error(&wrong, 401, "unauthorized");
    assert_eq!(wrong.header("x-rate-limit-limit"), Some("1000000"));
    assert_eq!(wrong.header("x-rate-limit-type"), Some("api_calls"));
    let missing = post_as(&s, "/v1/oauth/introspect", None, FORM, "access_token=x").unwrap();
    assert_error(&missing, 401, "unauthorized");

    let json = post(
        &s,
        "/v1/oauth/token",
        "application/json",
        r#"{"grant_type":"client_credentials"}"#,
    );
    assert_error(&json, 415, "unsupported_media_type");
    let with_charset = post(
        &s,
        "/v1/oauth/token",
        "application/x-www-form-urlencoded; charset=UTF-8",
        form,
    );
    assert_eq!(with_charset.status, 200);

    assert_spec_error(&post(&s, "/v1/oauth/token", FORM, "scope=api%zz"), "invalid_payload");
    assert_spec_error(
        &post(&s, "/v1/oauth/introspect", FORM, "access_token="),
        "missing_parameters",
    );
    assert_spec_error(&post(&s, "/v1/oauth/token/revoke", FORM, ""), "missing_parameters");
    assert_spec_error(
        &post(&s, "/v1/oauth/token", FORM, "grant_type=client_credentials"),
        "missing_parameters",
    );
    assert_spec_error(
        &post(&s, "/v1/oauth/token", FORM, "grant_type=password&scope=api"),
        "invalid_grant_type",
    );
    let bad_scope = post(
        &s,
        "/v1/oauth/token",
        FORM,
        "grant_type=client_credentials&scope=vouchers%2Ccampaigns",
    );
    assert_spec_error(&bad_scope, "invalid_scope");
    assert_eq!(bad_scope.json()["message"], "Invalid scope: vouchers,campaigns");

    assert_error(&post(&s, "/v1/oauth/nothing", FORM, form), 404, "not_found");
    let get = agent(Duration::from_secs(5))
        .get(format!("{}/v1/oauth/token", s.base_url()))
        .call()
        .unwrap();
    let get = into_reply(get).unwrap();
    assert_error(&get, 405, "method_not_allowed");
}

#[test]
fn fault_tokens() {
    let s = StandIn::start(Options::default()).unwrap();
    let fault = |path: &str, token: &str| post(&s, path, FORM, &format!("access_token={token}"));

    assert_error(
        &fault("/v1/oauth/introspect", "fault-status-503"),
        503,
        "service_unavailable",
    );
    assert_error(
        &fault("/v1/oauth/token/revoke", "fault-status-403"),
        403,
        "missing_required_permission",
    );
    let limited = fault("/v1/oauth/introspect", "fault-status-429");
    assert_error(&limited, 429, "too_many_requests");
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));

    let html = fault("/v1/oauth/introspect", "fault-status-502-html");
    assert_eq!((html.status, html.header("content-type")), (502, Some("text/html")));
    assert!(String::from_utf8(html.body).unwrap().contains("502 Bad Gateway"));
    let empty = fault("/v1/oauth/token/revoke", "fault-status-500-empty");
    assert_eq!((empty.status, empty.body.len()), (500, 0));
    let string_code = fault("/v1/oauth/introspect", "fault-status-429-stringcode");
    assert_eq!(string_code.json()["code"], "429");
    let bad_json = fault("/v1/oauth/introspect", "fault-status-400-badjson");
    assert_eq!(bad_json.status, 400);
    assert!(serde_json::from_slice::<Value>(&bad_json.body).is_err());
    let binary = fault("/v1/oauth/introspect", "fault-status-500-binary");
    assert!(String::from_utf8(binary.body).is_err());

    let ok = fault("/v1/oauth/token/revoke", "fault-status-200");
    assert_eq!((ok.status, ok.body.as_slice()), (200, &b"{}"[..]));
    let redirect = fault("/v1/oauth/token/revoke", "fault-redirect");
    assert_eq!(redirect.status, 307);
    assert_eq!(redirect.header("location"), Some("http://127.0.0.1:9/elsewhere"));

    // Unrecognised fault names are just unknown tokens.
    assert_eq!(fault("/v1/oauth/token/revoke", "fault-status-9999").status, 404);
}

#[test]
fn hang_and_close_do_not_block_others() {
    let s = StandIn::start(Options::default()).unwrap();
    let url = format!("{}/v1/oauth/introspect", s.base_url());
    let send = |token: &str, timeout: Duration| {
        agent(timeout)
            .post(&url)
            .header("X-App-Id", s.app_id())
            .header("X-App-Token", s.secret_key())
            .header("Content-Type", FORM)
            .send(format!("access_token={token}"))
            .and_then(into_reply)
    };

    std::thread::scope(|scope| {
        let hung = scope.spawn(|| send("fault-hang", Duration::from_millis(500)));
        std::thread::sleep(Duration::from_millis(100));
        // Served while the other request is hanging.
        assert_eq!(send("unknown", Duration::from_secs(5)).unwrap().status, 200);
        assert!(matches!(hung.join().unwrap(), Err(ureq::Error::Timeout(_))));
    });
    assert!(send("fault-close", Duration::from_secs(5)).is_err());

    // Scripted faults come first, in order, then normal service resumes.
    s.push_faults(vec![
        Fault::Respond {
            status: 503,
            headers: vec![("Retry-After".into(), "2".into())],
            body: "busy".into(),
        },
        Fault::Close,
    ]);
    let scripted = send("unknown", Duration::from_secs(5)).unwrap();
    assert_eq!((scripted.status, scripted.header("retry-after")), (503, Some("2")));
    assert_eq!(scripted.body, b"busy");
    assert!(send("unknown", Duration::from_secs(5)).is_err());
    assert_eq!(send("unknown", Duration::from_secs(5)).unwrap().status, 200);

    // A request left hanging must not hold up shutdown, and its client sees the
    // connection close rather than waiting out its own timeout.
    let (id, key) = (s.app_id().to_string(), s.secret_key().to_string());
    let client = std::thread::spawn(move || {
        agent(Duration::from_secs(5))
            .post(&url)
            .header("X-App-Id", &id)
            .header("X-App-Token", &key)
            .header("Content-Type", FORM)
            .send("access_token=fault-hang")
            .and_then(into_reply)
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    drop(s);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        started.elapsed()
    );
    assert!(client.join().unwrap().is_err());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn control_endpoints() {
    let s = StandIn::start(Options::default()).unwrap();
    let control = agent(Duration::from_secs(5));
    let call = |method: &str, path: &str, body: &str| {
        let url = format!("{}/_standin/{path}", s.base_url());
        let response = match method {
            "GET" => control.get(&url).call(),
            _ => control.post(&url).send(body),
        };
        into_reply(response.unwrap()).unwrap()
    };

    let minted = call("POST", "mint?scope=api%20vouchers", "").json();
    let token = minted["access_token"].as_str().unwrap().to_string();
    let introspected = post(&s, "/v1/oauth/introspect", FORM, &format!("access_token={token}")).json();
    assert_eq!(
        (introspected["active"].clone(), introspected["scope"].clone()),
        (Value::Bool(true), "api vouchers".into())
    );
    let direct = s.mint_token("api");
    assert_eq!(
        post(&s, "/v1/oauth/token/revoke", FORM, &format!("access_token={direct}")).status,
        204
    );

    let faults = r#"[{"respond": {"status": 502, "headers": {"X-Test": "yes"}, "body": "<html>"}}, "close"]"#;
    assert_eq!(call("POST", "faults", faults).status, 204);
    let scripted = post(&s, "/v1/oauth/token", FORM, "");
    assert_eq!((scripted.status, scripted.header("x-test")), (502, Some("yes")));
    assert_eq!(call("POST", "faults", "not json").status, 400);

    let stats = call("GET", "stats", "").json();
    assert_eq!(stats["requests"], 3);
    // Each helper call builds its own agent, so a new connection.
    assert_eq!(stats["connections"], s.connections());
    let log = call("GET", "requests", "").json();
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/v1/oauth/introspect");
    assert_eq!(log[0]["body"], format!("access_token={token}"));

    // Reset clears the log and the queued "close".
    assert_eq!(call("POST", "reset", "").status, 204);
    assert_eq!(call("GET", "stats", "").json()["requests"], 0);
    assert_eq!(post(&s, "/v1/oauth/introspect", FORM, "access_token=x").status, 200);
}

#[test]
fn token_lifetime_option() {
    let s = StandIn::start(Options {
        token_lifetime_secs: 1,
        ..Options::default()
    })
    .unwrap();
    let generated = post(&s, "/v1/oauth/token", FORM, "grant_type=client_credentials&scope=api").json();
    assert_eq!(generated["expires_in"], 1);
    let body = format!("access_token={}", generated["access_token"].as_str().unwrap());
    assert_eq!(post(&s, "/v1/oauth/introspect", FORM, &body).json()["active"], true);

    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        post(&s, "/v1/oauth/introspect", FORM, &body).json(),
        serde_json::json!({ "active": false })
    );
    assert_eq!(post(&s, "/v1/oauth/token/revoke", FORM, &body).status, 404);
}

#[test]
fn fault_json_forms() {
    let faults: Vec<Fault> =
        serde_json::from_str(r#"["hang", "close", {"respond": {"status": 429, "headers": [["Retry-After", "1"]]}}]"#)
            .unwrap();
    assert_eq!(
        faults,
        vec![
            Fault::Hang,
            Fault::Close,
            Fault::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: String::new()
            },
        ]
    );
}
