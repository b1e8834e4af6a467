//! The library against a stand-in that behaves like the live API where a
//! plain server would not: a real rate limit, spent quotas, load balancers
//! closing idle connections, and error bodies shaped as the spec shows them.

use std::time::{Duration, Instant};

mod common;

use common::{config_for, rate_limit, single_attempt_config, standin_behaving, start_of_window};
use vf_standin::{Behaviour, Options, StandIn};
use voucherify::{Client, Status};

/// Revokes until the stand-in's window is spent: `calls` revokes, each OK.
fn spend_window(client: &Client, server: &StandIn, calls: u64) {
    for _ in 0..calls {
        client.revoke_token(&server.mint_token("api")).unwrap();
    }
    assert_eq!(client.last_rate_limit().remaining, Some(0));
}

#[test]
fn a_spent_window_without_retry_after_is_waited_out_until_x_rate_limit_retry() {
    let mut behaviour = rate_limit(2, 2);
    behaviour.rate_limit.retry_after = false;
    let server = standin_behaving(behaviour);
    let client = Client::new(&config_for(&server)).unwrap();
    let window_end = start_of_window(2);
    spend_window(&client, &server, 2);

    let started = Instant::now();
    client.revoke_token(&server.mint_token("api")).unwrap();
    let took = started.elapsed();
    let requests = server.requests();
    let [.., refused, retry] = &requests[..] else {
        unreachable!()
    };
    assert_eq!((refused.refused_by_limit, retry.refused_by_limit), (Some(429), None));
    assert!(retry.received_at >= window_end, "retried before X-Rate-Limit-Retry");
    let asked = window_end.duration_since(refused.received_at).unwrap();
    assert!(
        took + Duration::from_millis(50) >= asked && took < asked + Duration::from_millis(1500),
        "took {took:?} for a wait of {asked:?}"
    );
    assert_eq!(server.refused_by_limit(), 1);
}

#[test]
fn a_spent_window_with_retry_after_is_waited_out_once() {
    let server = standin_behaving(rate_limit(2, 2));
    let client = Client::new(&config_for(&server)).unwrap();
    let window_end = start_of_window(2);
    spend_window(&client, &server, 2);

    let started = Instant::now();
    client.revoke_token(&server.mint_token("api")).unwrap();
    let took = started.elapsed();
    let retry = server.requests().pop().unwrap();
    assert!(retry.received_at >= window_end, "retried before the window ended");
    assert!(took < Duration::from_millis(3000), "{took:?}");
    assert_eq!(server.refused_by_limit(), 1, "one 429, then the wait");
}

#[test]
fn a_spent_window_past_the_deadline_fails_at_once_as_rate_limited() {
    let server = standin_behaving(rate_limit(1, 60));
    let mut config = config_for(&server);
    config.set_timeout_ms(1000).unwrap();
    let client = Client::new(&config).unwrap();
    client.revoke_token(&server.mint_token("api")).unwrap();
    let started = Instant::now();
    let err = client.revoke_token(&server.mint_token("api")).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (err.status, err.http_status, err.attempts),
        (Status::RateLimited, 429, 1)
    );
    assert_eq!((err.rate_limit.limit, err.rate_limit.remaining), (Some(1), Some(0)));
    assert!(err.rate_limit.retry_after.is_some_and(|s| (1..=60).contains(&s)));
}

#[test]
fn an_exceeded_plan_is_not_retried() {
    let server = standin_behaving(Behaviour {
        plan_calls: Some(0),
        ..Behaviour::default()
    });
    let client = Client::new(&config_for(&server)).unwrap();
    let err = client.revoke_token(&server.mint_token("api")).unwrap_err();
    assert_eq!((err.http_status, err.attempts), (402, 1), "{}", err.message);
    assert_eq!(err.body.key.as_deref(), Some("payment_required"));
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_spent_billing_cycle_is_not_waited_for() {
    let server = standin_behaving(Behaviour {
        cycle_calls: Some(0),
        ..Behaviour::default()
    });
    let client = Client::new(&config_for(&server)).unwrap();
    let started = Instant::now();
    let err = client.generate_token(&["api"]).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((err.http_status, err.attempts), (429, 1), "{}", err.message);
    assert_eq!(err.rate_limit.remaining, Some(0));
    assert!(err.rate_limit.retry_after.unwrap() > 24 * 3600);
    assert_eq!(server.request_count(), 1);
}

/// Every call on a fresh connection after the load balancer closed the
/// pooled one: one attempt each, not a retry that could mint twice.
fn calls_survive_idle_closes(server: &StandIn, client: &Client) {
    let token = client.generate_token(&["api"]).unwrap();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(350));
        let minted = client.generate_token(&["api"]).unwrap();
        std::thread::sleep(Duration::from_millis(350));
        client.revoke_token(&minted.access_token).unwrap();
    }
    std::thread::sleep(Duration::from_millis(350));
    client.revoke_token(&token.access_token).unwrap();
    assert_eq!(server.request_count(), 6, "one request per call");
    assert_eq!(server.connections(), 6, "a new connection after each idle close");
    assert!(server.idle_closes() >= 5, "{}", server.idle_closes());
}

#[test]
fn a_connection_closed_when_idle_is_replaced_transparently() {
    let server = standin_behaving(Behaviour {
        idle_close_ms: Some(200),
        ..Behaviour::default()
    });
    // One attempt: a stale connection must not need a retry to work.
    let client = Client::new(&single_attempt_config(&server)).unwrap();
    calls_survive_idle_closes(&server, &client);
}

#[test]
fn a_tls_connection_closed_when_idle_is_replaced_transparently() {
    let server = common::standin(Options {
        tls: true,
        behaviour: Behaviour {
            idle_close_ms: Some(200),
            ..Behaviour::default()
        },
        ..Options::default()
    });
    let ca = std::env::temp_dir().join(format!("vf-idle-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let mut config = single_attempt_config(&server);
    config.set_ca_file(Some(ca.to_str().unwrap())).unwrap();
    let client = Client::new(&config).unwrap();
    let _ = std::fs::remove_file(&ca);
    calls_survive_idle_closes(&server, &client);
}

#[test]
fn a_400_shaped_as_in_the_spec_gives_key_and_message_without_a_request_id() {
    let server = common::standin(Options::default());
    let client = Client::new(&config_for(&server)).unwrap();
    let err = client.generate_token(&["vouchers,campaigns"]).unwrap_err();
    assert_eq!((err.status, err.http_status), (Status::BadRequest, 400));
    assert_eq!(err.body.key.as_deref(), Some("invalid_scope"));
    assert_eq!(err.body.message.as_deref(), Some("Invalid scope: vouchers,campaigns"));
    assert_eq!(
        (err.body.details.as_deref(), err.body.request_id.as_deref()),
        (None, None)
    );
    assert!(
        err.message
            .contains("HTTP 400 invalid_scope: Invalid scope: vouchers,campaigns"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("request"), "{}", err.message);
}
