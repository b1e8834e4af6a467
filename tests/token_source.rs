//! The token source's single flight under faults, against the stand-in: a
//! hanging token endpoint, a valid token while the endpoint is down, a storm
//! of refreshes after a 401, callers just after a failure, and the revoke
//! when a source is dropped. Each counts the requests the server received.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

mod common;

use common::{respond, single_attempt_config, standin};
use vf_standin::{Fault, Options, StandIn};
use voucherify::core::{Level, Logger, Token, TokenSource};
use voucherify::{Client, Error, Status};

const TIMEOUT_MS: u64 = 500;

/// A one-attempt client with a 500 ms timeout, and a source on it that does
/// not revoke when dropped (so requests counted are the test's own).
fn source_for(server: &StandIn, margin: Duration) -> TokenSource {
    let mut config = single_attempt_config(server);
    config.set_timeout_ms(TIMEOUT_MS as u32).unwrap();
    let mut source = TokenSource::new(Arc::new(Client::new(&config).unwrap()), &["api"]).unwrap();
    source.set_refresh_margin(margin);
    source.set_revoke_on_drop(false);
    source
}

fn mint_requests(server: &StandIn) -> usize {
    let requests = server.requests();
    requests.iter().filter(|r| r.path == "/v1/oauth/token").count()
}

/// Runs `call` on `threads` threads released together; each outcome with
/// how long it took from the release.
fn at_once<T: Send>(threads: usize, call: impl Fn() -> T + Sync) -> Vec<(T, Duration)> {
    let barrier = Barrier::new(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    let outcome = call();
                    (outcome, started.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn status_of(outcome: Result<Token, Error>) -> Status {
    outcome.map_or_else(|e| e.status, |_| Status::Ok)
}

fn slowest<T>(outcomes: &[(T, Duration)]) -> Duration {
    outcomes.iter().map(|(_, took)| *took).max().unwrap()
}

#[test]
fn six_callers_share_one_hanging_mint_and_its_timeout() {
    let server = standin(Options::default());
    let source = source_for(&server, Duration::from_secs(60));
    server.push_faults(vec![Fault::Hang]);
    let outcomes = at_once(6, || status_of(source.token()));
    assert!(
        outcomes.iter().all(|(status, _)| *status == Status::Timeout),
        "{outcomes:?}"
    );
    let slowest = slowest(&outcomes);
    println!("slowest of 6 callers: {slowest:?} against a timeout of {TIMEOUT_MS} ms");
    assert!(
        slowest >= Duration::from_millis(TIMEOUT_MS - 10) && slowest < Duration::from_millis(TIMEOUT_MS + 400),
        "slowest caller took {slowest:?}"
    );
    assert_eq!(server.request_count(), 1, "one request for all six callers");
}

#[test]
fn a_valid_token_is_handed_out_at_once_while_one_caller_renews_it() {
    let server = standin(Options {
        token_lifetime_secs: 2,
        ..Options::default()
    });
    // The margin is capped at half the 2 s lifetime: renewal is due after 1 s.
    let source = source_for(&server, Duration::from_secs(60));
    let first = source.token().unwrap();
    thread::sleep(Duration::from_millis(1100));
    server.push_faults(vec![Fault::Hang, Fault::Hang, Fault::Hang]);
    server.reset_log();
    let outcomes = at_once(6, || source.token().unwrap().access_token);
    let mut quick = 0;
    for (token, took) in &outcomes {
        assert_eq!(token, &first.access_token);
        quick += usize::from(*took < Duration::from_millis(200));
    }
    assert!(quick >= 5, "all but the renewing caller answered at once: {outcomes:?}");
    assert_eq!(server.request_count(), 1, "one renewal");

    // Just after the failed renewal: the valid token again, at once, no request.
    let started = Instant::now();
    assert_eq!(source.token().unwrap().access_token, first.access_token);
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(server.request_count(), 1);
}

#[test]
fn eight_refreshes_after_a_401_mint_one_token() {
    let server = standin(Options::default());
    let source = source_for(&server, Duration::from_secs(60));
    let rejected = source.token().unwrap().access_token;
    server.reset_log();
    let outcomes = at_once(8, || source.refresh_rejected(&rejected).unwrap().access_token);
    let new = &outcomes[0].0;
    assert_ne!(new, &rejected);
    assert!(
        outcomes.iter().all(|(token, _)| token == new),
        "all share one new token"
    );
    assert_eq!(mint_requests(&server), 1);

    // Late arrivals that saw the old token: the new one, no request.
    assert_eq!(&source.refresh_rejected(&rejected).unwrap().access_token, new);
    assert_eq!(mint_requests(&server), 1);
    // A 401 for the new token: one more mint.
    assert_ne!(&source.refresh_rejected(new).unwrap().access_token, new);
    assert_eq!(mint_requests(&server), 2);
}

#[test]
fn refreshes_that_do_not_name_the_token_join_the_mint_in_flight() {
    let server = standin(Options {
        latency_ms: 300,
        ..Options::default()
    });
    let source = source_for(&server, Duration::from_secs(60));
    source.token().unwrap();
    server.reset_log();
    let outcomes = at_once(8, || source.refresh().unwrap().access_token);
    assert!(outcomes.iter().all(|(token, _)| token == &outcomes[0].0));
    assert_eq!(mint_requests(&server), 1);
}

#[test]
fn callers_just_after_a_failed_mint_get_that_failure_without_a_request() {
    let server = standin(Options::default());
    let source = source_for(&server, Duration::from_secs(60));
    server.push_faults(vec![respond(500, &[])]);
    let failed_at = Instant::now();
    assert_eq!(source.token().unwrap_err().status, Status::ServerError);
    let outcomes = at_once(8, || status_of(source.token()));
    for (status, took) in &outcomes {
        assert_eq!(*status, Status::ServerError);
        assert!(*took < Duration::from_millis(100), "answered at once: {took:?}");
    }
    assert!(
        failed_at.elapsed() < Duration::from_millis(900),
        "still inside the backoff"
    );
    assert_eq!(server.request_count(), 1, "no request within the backoff");

    // After the backoff, one new request, and it succeeds.
    thread::sleep(Duration::from_millis(1100).saturating_sub(failed_at.elapsed()));
    source.token().unwrap();
    assert_eq!(server.request_count(), 2);
}

#[test]
fn dropping_a_source_revokes_with_one_request_within_one_timeout() {
    let server = standin(Options::default());
    let mut source = source_for(&server, Duration::from_secs(60));
    source.set_revoke_on_drop(true);
    source.token().unwrap();
    server.reset_log();
    server.push_faults(vec![Fault::Hang, Fault::Hang, Fault::Hang]);
    let started = Instant::now();
    drop(source);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(TIMEOUT_MS - 10) && took < Duration::from_millis(TIMEOUT_MS + 400),
        "{took:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/oauth/token/revoke");
}

#[test]
fn dropping_a_source_revokes_with_one_request_even_when_retries_are_allowed() {
    let server = standin(Options::default());
    let mut config = common::config_for(&server);
    config.set_max_attempts(3).unwrap();
    let source = TokenSource::new(Arc::new(Client::new(&config).unwrap()), &["api"]).unwrap();
    source.token().unwrap();
    server.reset_log();
    server.push_faults(vec![respond(503, &[])]);
    drop(source);
    assert_eq!(server.request_count(), 1, "a 503 is not retried by the revoke on drop");
}

#[test]
fn a_failed_refresh_reports_the_failure_not_the_rejected_token() {
    let server = standin(Options::default());
    let source = source_for(&server, Duration::from_secs(60));
    let rejected = source.token().unwrap().access_token;
    server.push_faults(vec![respond(500, &[])]);
    assert_eq!(status_of(source.refresh_rejected(&rejected)), Status::ServerError);
    // Within the backoff: the same failure, no request; a plain ask still
    // gets the token, which has not expired.
    let count = server.request_count();
    assert_eq!(status_of(source.refresh_rejected(&rejected)), Status::ServerError);
    assert_eq!(source.token().unwrap().access_token, rejected);
    assert_eq!(server.request_count(), count);
}

#[test]
fn a_short_lived_token_is_renewed_at_half_its_lifetime_not_on_every_call() {
    let server = standin(Options {
        token_lifetime_secs: 2,
        ..Options::default()
    });
    // The 60 s margin is more than the 2 s lifetime: capped at half of it.
    let source = source_for(&server, Duration::from_secs(60));
    let first = source.token().unwrap().access_token;
    assert_eq!(
        source.token().unwrap().access_token,
        first,
        "reused within its first second"
    );
    assert_eq!(mint_requests(&server), 1);
    thread::sleep(Duration::from_millis(1100));
    assert_ne!(
        source.token().unwrap().access_token,
        first,
        "renewed in its second second"
    );
    assert_eq!(mint_requests(&server), 2);
}

#[test]
fn callers_who_joined_a_mint_get_its_token_even_one_dead_on_arrival() {
    // `expires_in: 0`: no caller can keep the token, but the callers who
    // waited for the mint must not each mint again.
    let server = standin(Options {
        token_lifetime_secs: 0,
        latency_ms: 500,
        ..Options::default()
    });
    let source = source_for(&server, Duration::from_secs(60));
    let outcomes = at_once(6, || source.token().unwrap().access_token);
    assert!(
        outcomes.iter().all(|(token, _)| token == &outcomes[0].0),
        "one token for all: {outcomes:?}"
    );
    assert_eq!(mint_requests(&server), 1, "one mint for six callers");
}

#[test]
fn callers_who_joined_a_mint_give_up_at_their_timeout_when_it_does_not_end() {
    // The minting thread is held up past the timeout by its own log
    // callback (the answer's DEBUG record); the joiners must not wait for it.
    let server = standin(Options::default());
    let mut config = single_attempt_config(&server);
    config.set_timeout_ms(TIMEOUT_MS as u32).unwrap();
    let held = Arc::new(AtomicBool::new(false));
    let hold = held.clone();
    config.set_logger(Logger::new(
        Arc::new(move |_level, record: &str| {
            if record.contains("HTTP 200") && !hold.swap(true, Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1500));
            }
        }),
        Level::Debug,
    ));
    let mut source = TokenSource::new(Arc::new(Client::new(&config).unwrap()), &["api"]).unwrap();
    source.set_revoke_on_drop(false);
    let outcomes = at_once(4, || source.token().map_err(|e| (e.status, e.message)));
    let (minted, joined): (Vec<_>, Vec<_>) = outcomes.iter().partition(|(outcome, _)| outcome.is_ok());
    assert_eq!(minted.len(), 1, "{outcomes:?}");
    for (outcome, took) in joined {
        let (status, message) = outcome.as_ref().unwrap_err();
        assert_eq!(*status, Status::Timeout, "{message}");
        assert!(
            message.contains("another thread's mint outlasted the timeout"),
            "{message}"
        );
        assert!(
            *took < Duration::from_millis(1200),
            "gave up before the mint ended: {took:?}"
        );
    }
    assert!(held.load(Ordering::SeqCst), "the record was held");
    assert_eq!(mint_requests(&server), 1);
}
