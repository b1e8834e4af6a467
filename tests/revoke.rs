//! Revoke against the local stand-in: every outcome, the wire format, bad
//! input, and one client shared by many threads.

use std::time::{Duration, Instant};

mod common;

use common::{config_for, header, respond, revoke_from_threads, single_attempt_config};
use vf_standin::{Fault, Options, StandIn};
use voucherify::{Client, Config, Status};

fn standin() -> StandIn {
    common::standin(Options::default())
}

fn client_for(server: &StandIn) -> Client {
    Client::new(&single_attempt_config(server)).unwrap()
}

#[test]
fn revoke_succeeds_once_then_reports_not_found() {
    let server = standin();
    let client = client_for(&server);
    let token = server.mint_token("api");
    client.revoke_token(&token).unwrap();
    let err = client.revoke_token(&token).unwrap_err();
    assert_eq!(err.status, Status::TokenNotFound);
    assert_eq!(err.http_status, 404);
    assert!(!err.message.contains(&token));
}

#[test]
fn the_live_apis_empty_404_is_not_found_with_the_headers_it_carried() {
    let server = standin();
    let err = client_for(&server).revoke_token("never-minted").unwrap_err();
    assert_eq!(
        (err.status, err.http_status, err.attempts),
        (Status::TokenNotFound, 404, 1)
    );
    assert_eq!(
        err.message,
        "revoke: HTTP 404: the token is unknown, expired or already revoked"
    );
    assert!(
        err.rate_limit.limit.is_some() && err.rate_limit.remaining.is_some(),
        "{:?}",
        err.rate_limit
    );
    assert_eq!(err.body.key, None);
}

#[test]
fn a_404_with_an_error_body_keeps_what_the_body_says() {
    let server = standin();
    server.push_faults(vec![Fault::Respond {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"code":404,"key":"not_found","message":"Resource not found","request_id":"v-0a1b2c"}"#.into(),
    }]);
    let err = client_for(&server).revoke_token("never-minted").unwrap_err();
    assert_eq!((err.status, err.http_status), (Status::TokenNotFound, 404));
    assert_eq!(err.body.key.as_deref(), Some("not_found"));
    assert_eq!(err.body.request_id.as_deref(), Some("v-0a1b2c"));
    assert!(err.message.contains("v-0a1b2c"), "{}", err.message);
    assert!(
        !err.message.contains("attempts"),
        "one attempt is not counted aloud: {}",
        err.message
    );
}

#[test]
fn an_empty_404_after_a_retried_503_reports_both_attempts() {
    let server = standin();
    server.push_faults(vec![respond(503, &[]), respond(404, &[])]);
    let err = Client::new(&config_for(&server))
        .unwrap()
        .revoke_token("never-minted")
        .unwrap_err();
    assert_eq!(
        (err.status, err.http_status, err.attempts),
        (Status::TokenNotFound, 404, 2)
    );
    assert!(err.message.contains("(after 2 attempts)"), "{}", err.message);
}

#[test]
fn request_carries_credentials_form_body_and_identifying_headers() {
    let server = standin();
    let mut config = single_attempt_config(&server);
    config.set_channel(Some("ops-tool")).unwrap();
    config.set_user_agent_suffix(Some("billing/2.1")).unwrap();
    let client = Client::new(&config).unwrap();
    // A token with characters that must be percent-encoded arrives intact.
    let odd = "a+b&c=d %/é~";
    let _ = client.revoke_token(odd);
    let requests = server.requests();
    let request = requests.last().expect("one request");
    let header = |name: &str| header(request, name);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/oauth/token/revoke");
    assert_eq!(header("x-app-id"), server.app_id());
    assert_eq!(header("x-app-token"), server.secret_key());
    assert_eq!(header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(header("accept"), "application/json");
    assert_eq!(header("x-voucherify-channel"), "ops-tool");
    assert_eq!(
        header("user-agent"),
        format!("libvoucherify/{} billing/2.1", voucherify::core::VERSION)
    );
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).unwrap();
    assert_eq!(fields, vec![("access_token".to_owned(), odd.to_owned())]);
}

#[test]
fn a_callers_own_user_agent_or_accept_replaces_the_librarys() {
    let server = standin();
    let mut config = single_attempt_config(&server);
    config.add_header("User-Agent", "billing-cron/7").unwrap();
    config.add_header("Accept", "*/*").unwrap();
    let _ = Client::new(&config).unwrap().revoke_token("whatever");
    let requests = server.requests();
    let request = requests.last().expect("one request");
    let values = |name: &str| -> Vec<&str> {
        let named = request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        named.map(|(_, v)| v.as_str()).collect()
    };
    assert_eq!(values("user-agent"), ["billing-cron/7"]);
    assert_eq!(values("accept"), ["*/*"]);
}

#[test]
fn wrong_credentials_give_unauthorized_with_request_id_and_no_secret() {
    let server = standin();
    let mut config = single_attempt_config(&server);
    config.set_secret_key("wrong-secret-value").unwrap();
    let err = Client::new(&config).unwrap().revoke_token("whatever").unwrap_err();
    assert_eq!(err.status, Status::Unauthorized);
    assert_eq!(err.http_status, 401);
    assert_eq!(err.body.key.as_deref(), Some("unauthorized"));
    let request_id = err.body.request_id.clone().expect("request_id");
    assert!(request_id.starts_with("v-"), "{request_id}");
    assert!(err.message.contains(&request_id), "{}", err.message);
    assert!(!err.message.contains("wrong-secret-value") && !format!("{err:?}").contains("wrong-secret-value"));
}

#[test]
fn http_answers_map_to_their_statuses() {
    let server = standin();
    let client = client_for(&server);
    let cases = [
        ("fault-status-400", Status::BadRequest, 400),
        ("fault-status-403", Status::Forbidden, 403),
        ("fault-status-429", Status::RateLimited, 429),
        ("fault-status-500", Status::ServerError, 500),
        ("fault-status-502-html", Status::ServerError, 502),
        ("fault-status-503-empty", Status::ServerError, 503),
        ("fault-status-504-binary", Status::ServerError, 504),
        ("fault-status-418", Status::UnexpectedResponse, 418),
        ("fault-status-415", Status::UnexpectedResponse, 415),
        ("fault-redirect", Status::UnexpectedResponse, 307),
    ];
    for (token, status, http) in cases {
        let err = client.revoke_token(token).unwrap_err();
        assert_eq!(
            (err.status, err.http_status),
            (status, http),
            "{token}: {}",
            err.message
        );
    }
}

#[test]
fn lenient_error_bodies() {
    let server = standin();
    let client = client_for(&server);
    let err = client.revoke_token("fault-status-429-stringcode").unwrap_err();
    assert_eq!(err.body.code, Some(429));
    assert!(err.body.request_id.is_some());
    for token in [
        "fault-status-500-badjson",
        "fault-status-502-html",
        "fault-status-500-binary",
    ] {
        let err = client.revoke_token(token).unwrap_err();
        assert_eq!(err.status, Status::ServerError, "{token}");
        assert_eq!(err.body, Default::default(), "{token}");
    }
}

#[test]
fn redirects_are_not_followed() {
    let server = standin();
    let client = client_for(&server);
    let before = server.request_count();
    let err = client.revoke_token("fault-redirect").unwrap_err();
    assert_eq!((err.status, err.http_status), (Status::UnexpectedResponse, 307));
    assert_eq!(server.request_count(), before + 1, "one request, no second hop");
}

#[test]
fn tls_failure_is_its_own_status() {
    let server = standin();
    let mut config = single_attempt_config(&server);
    // The stand-in speaks plain HTTP: the TLS handshake cannot succeed.
    config
        .set_base_url(&format!("https://127.0.0.1:{}", server.port()))
        .unwrap();
    let err = Client::new(&config).unwrap().revoke_token("t").unwrap_err();
    assert_eq!(err.status, Status::TlsError, "{}", err.message);
}

#[test]
fn a_hostname_base_url_works() {
    let server = standin();
    let mut config = single_attempt_config(&server);
    config
        .set_base_url(&format!("http://localhost:{}", server.port()))
        .unwrap();
    let client = Client::new(&config).unwrap();
    for _ in 0..3 {
        client.revoke_token(&server.mint_token("api")).unwrap();
    }
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let server = standin();
    let client = client_for(&server);
    for token in ["", "abc\r\nX-Evil: 1", "tab\t", "nul\0", "del\u{7f}"] {
        let err = client.revoke_token(token).unwrap_err();
        assert_eq!(err.status, Status::InvalidArgument, "{token:?}");
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn incomplete_or_insecure_configurations_are_refused() {
    let mut config = Config::new();
    assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    config.set_app_id("id").unwrap();
    assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    config.set_secret_key("key").unwrap();
    Client::new(&config).expect("the default cluster is https");
    config.set_base_url("http://voucherify.example.com").unwrap();
    let err = Client::new(&config).unwrap_err();
    assert_eq!(err.status, Status::InvalidArgument);
    assert!(err.message.contains("http://"), "{}", err.message);
    config.set_allow_insecure_http(true);
    Client::new(&config).expect("allowed explicitly");
}

#[test]
fn one_client_serves_many_threads() {
    let server = standin();
    let client = client_for(&server);
    let tokens: Vec<String> = (0..160).map(|_| server.mint_token("api")).collect();
    revoke_from_threads(&client, &tokens, 20);
    assert_eq!(server.request_count(), 320);
}

#[test]
fn bulk_revoke_runs_as_many_requests_at_once_as_asked_and_never_more_than_32() {
    const LATENCY: Duration = Duration::from_millis(200);
    let server = common::standin(Options {
        latency_ms: LATENCY.as_millis() as u64,
        ..Options::default()
    });
    let client = client_for(&server);
    // (parallelism asked, tokens, requests expected at once)
    for (asked, count, at_once) in [(1, 4, 1), (4, 16, 4), (0, 16, 4), (64, 64, 32)] {
        let tokens: Vec<String> = (0..count).map(|_| server.mint_token("api")).collect();
        server.reset_log();
        let started = Instant::now();
        let outcomes = client.revoke_tokens(&tokens, asked);
        let took = started.elapsed();
        assert!(outcomes.iter().all(Result::is_ok), "parallelism {asked}");
        let max_in_flight = server.max_in_flight();
        // 32 threads on 2 cores may not all have started within one latency.
        let fewest = if at_once == 32 { 24 } else { at_once };
        assert!(
            (fewest..=at_once).contains(&max_in_flight),
            "parallelism {asked}: {max_in_flight} requests at once, expected {at_once}"
        );
        // Each worker revokes its share one after another.
        let rounds = (count / at_once) as u32;
        assert!(
            took + Duration::from_millis(20) >= LATENCY * rounds
                && took < LATENCY * rounds + Duration::from_millis(1500),
            "parallelism {asked}: {took:?} for {rounds} rounds of {LATENCY:?}"
        );
    }
}
