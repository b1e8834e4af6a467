//! Retries, rate limits, deadlines and extra headers, against the stand-in.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;

use common::{assert_times_out, config_for, respond};
use vf_standin::{Fault, Options, StandIn, Unreachable};
use voucherify::{Client, Config, Status};

fn standin() -> StandIn {
    common::standin(Options::default())
}

#[test]
fn unavailable_twice_then_revoked() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    let token = server.mint_token("api");
    server.push_faults(vec![respond(503, &[]), respond(503, &[])]);
    client.revoke_token(&token).unwrap();
    assert_eq!(server.request_count(), 3);
    assert_eq!(
        client.revoke_token(&token).unwrap_err().status,
        Status::TokenNotFound,
        "really revoked"
    );
}

#[test]
fn attempts_are_bounded_and_reported() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    server.push_faults(vec![
        respond(503, &[]),
        respond(503, &[]),
        respond(503, &[]),
        respond(503, &[]),
    ]);
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!((err.status, err.attempts), (Status::ServerError, 3));
    assert!(err.message.ends_with("(after 3 attempts)"), "{}", err.message);
    assert_eq!(server.request_count(), 3);
}

#[test]
fn retries_can_be_turned_off() {
    let server = standin();
    let mut config = config_for(&server);
    config.set_max_attempts(1).unwrap();
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(503, &[])]);
    assert_eq!(client.revoke_token("t").unwrap_err().attempts, 1);
    assert_eq!(server.request_count(), 1);
}

#[test]
fn retry_after_is_honoured() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    let token = server.mint_token("api");
    server.push_faults(vec![respond(429, &[("Retry-After", "1")])]);
    let started = Instant::now();
    client.revoke_token(&token).unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(2500),
        "{took:?}"
    );
}

/// A `Retry-After` HTTP date `whole_seconds` ahead of the current whole
/// second, at a moment when that is between `whole_seconds - 0.9` and
/// `whole_seconds - 0.5` s away: a wait rounded to whole seconds falls short.
fn retry_after_date(whole_seconds: u64) -> SystemTime {
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        if (100..500).contains(&now.subsec_millis()) {
            return UNIX_EPOCH + Duration::from_secs(now.as_secs() + whole_seconds);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn retry_after_as_an_http_date_is_waited_out_to_the_sub_second() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    // Under one second away, then between one and two.
    for whole_seconds in [1, 2] {
        let date = retry_after_date(whole_seconds);
        server.reset_log();
        server.push_faults(vec![respond(429, &[("Retry-After", &httpdate::fmt_http_date(date))])]);
        let started = Instant::now();
        client.revoke_token(&server.mint_token("api")).unwrap();
        let took = started.elapsed();
        let [limited, retry] = &server.requests()[..] else {
            panic!("expected two requests")
        };
        let asked = date.duration_since(limited.received_at).unwrap();
        assert!(
            retry.received_at + Duration::from_millis(50) >= date,
            "{whole_seconds}: the retry came {:?} before the date",
            date.duration_since(retry.received_at).unwrap()
        );
        assert!(
            took + Duration::from_millis(50) >= asked && took < asked + Duration::from_millis(1000),
            "{whole_seconds}: took {took:?}, asked to wait {asked:?}"
        );
    }
}

#[test]
fn a_wait_past_the_deadline_is_not_slept() {
    let server = standin();
    let mut config = config_for(&server);
    config.set_timeout_ms(800).unwrap();
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(
        429,
        &[
            ("Retry-After", "30"),
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Retry", "1900000000"),
        ],
    )]);
    let started = Instant::now();
    let err = client.revoke_token("t").unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((err.status, err.attempts), (Status::RateLimited, 1));
    assert_eq!(err.rate_limit.retry_after, Some(30));
    assert_eq!(err.rate_limit.limit, Some(100));
    assert_eq!(err.rate_limit.remaining, Some(0));
    assert_eq!(err.rate_limit.retry_at, Some(1_900_000_000));
}

#[test]
fn rate_limit_without_retry_after_backs_off_then_succeeds() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    let token = server.mint_token("api");
    server.push_faults(vec![respond(429, &[])]);
    client.revoke_token(&token).unwrap();
    assert_eq!(server.request_count(), 2);
}

#[test]
fn rate_limit_headers_of_successes_are_kept_on_the_client() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    assert_eq!(client.last_rate_limit().remaining, None);
    client.revoke_token(&server.mint_token("api")).unwrap();
    let first = client.last_rate_limit();
    client.revoke_token(&server.mint_token("api")).unwrap();
    let second = client.last_rate_limit();
    assert!(first.limit.is_some() && first.retry_at.is_some());
    assert_eq!(second.remaining.unwrap(), first.remaining.unwrap() - 1);
}

#[test]
fn a_revoke_whose_first_answer_was_lost_reports_success_on_404() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    let token = server.mint_token("api");
    client.revoke_token(&token).unwrap();
    // A gateway error may hide a revoke that happened: the retry's 404 then
    // means "gone, as asked".
    server.push_faults(vec![respond(502, &[])]);
    client.revoke_token(&token).expect("404 after a lost answer is success");
    // A 503 means the server did nothing: the 404 after it is the truth.
    server.push_faults(vec![respond(503, &[])]);
    assert_eq!(client.revoke_token(&token).unwrap_err().status, Status::TokenNotFound);
}

#[test]
fn refused_connections_are_retried_within_the_deadline() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = Config::new();
    config.set_app_id("id").unwrap();
    config.set_secret_key("key").unwrap();
    config.set_base_url(&format!("http://127.0.0.1:{port}")).unwrap();
    config.set_retry_base_delay_ms(20);
    let client = Client::new(&config).unwrap();
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!(
        (err.status, err.attempts),
        (Status::ConnectionFailed, 3),
        "{}",
        err.message
    );
    assert!(err.message.ends_with("(after 3 attempts)"), "{}", err.message);
    let counters = client.counters();
    assert_eq!(
        (counters.connection_failures, counters.answers_other),
        (3, 0),
        "{counters:?}"
    );
}

#[test]
fn a_hung_server_fails_on_the_total_deadline_despite_retries() {
    let server = standin();
    let mut config = config_for(&server);
    config.set_timeout_ms(400).unwrap();
    let client = Client::new(&config).unwrap();
    assert_times_out(&client, "fault-hang", 400, 300);
    // Every attempt is counted as the timeout it was.
    let counters = client.counters();
    assert!(counters.timeouts >= 1, "{counters:?}");
    assert_eq!(
        (counters.timeouts, counters.connection_failures),
        (counters.requests, 0),
        "{counters:?}"
    );
}

#[test]
fn extra_headers_are_sent_but_cannot_touch_credentials() {
    let server = standin();
    let mut config = config_for(&server);
    config.add_header("X-Request-Source", "incident-42").unwrap();
    assert!(config.add_header("X-App-Token", "stolen").is_err());
    let client = Client::new(&config).unwrap();
    client.revoke_token(&server.mint_token("api")).unwrap();
    let request = server.requests().pop().unwrap();
    let values = |name: &str| {
        request
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(values("x-request-source"), ["incident-42"]);
    assert_eq!(values("x-app-token"), [server.secret_key()]);
}

#[test]
fn minting_is_retried_only_when_the_server_certainly_did_nothing() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    // Answers saying nothing was done: the retry mints the one token.
    for status in [429, 503] {
        server.reset_log();
        server.push_faults(vec![respond(status, &[])]);
        let token = client
            .generate_token(&["api"])
            .unwrap_or_else(|e| panic!("{status}: {}", e.message));
        assert_eq!(server.request_count(), 2, "{status}");
        client.revoke_token(&token.access_token).unwrap();
    }
    // Failures that may hide a minted token: a retry could mint a second.
    let may_have_minted = [
        ("502", respond(502, &[]), Status::ServerError),
        ("504", respond(504, &[]), Status::ServerError),
        ("reset", Fault::Reset, Status::ConnectionFailed),
        ("closed", Fault::Close, Status::ConnectionFailed),
    ];
    for (what, fault, status) in may_have_minted {
        server.reset_log();
        server.push_faults(vec![fault]);
        let err = client.generate_token(&["api"]).expect_err(what);
        assert_eq!((err.status, err.attempts), (status, 1), "{what}: {}", err.message);
        assert_eq!(server.request_count(), 1, "{what}");
    }
}

/// A configuration for a server that is not the stand-in (nothing will answer).
fn config_for_url(url: &str) -> Config {
    let mut config = Config::new();
    config.set_app_id("id").unwrap();
    config.set_secret_key("key").unwrap();
    config.set_base_url(url).unwrap();
    config.set_retry_base_delay_ms(20);
    config
}

#[test]
fn minting_is_retried_when_the_connection_was_refused_or_timed_out() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = Client::new(&config_for_url(&format!("http://127.0.0.1:{port}"))).unwrap();
    let err = refused.generate_token(&["api"]).unwrap_err();
    assert_eq!(
        (err.status, err.attempts),
        (Status::ConnectionFailed, 3),
        "{}",
        err.message
    );

    let unreachable = Unreachable::new().unwrap();
    let mut config = config_for_url(&unreachable.base_url());
    config.set_connect_timeout_ms(150).unwrap();
    let started = Instant::now();
    let err = Client::new(&config).unwrap().generate_token(&["api"]).unwrap_err();
    let took = started.elapsed();
    assert_eq!((err.status, err.attempts), (Status::Timeout, 3), "{}", err.message);
    // Three connect timeouts and two short backoffs.
    assert!(
        took >= Duration::from_millis(440) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}
