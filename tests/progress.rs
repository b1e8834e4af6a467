//! Bulk revoke progress and stopping, and the client-wide cancel, against
//! the stand-in: what the callback is told is what the stand-in saw.

mod common;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{config_for, respond, single_attempt_config, standin};
use vf_standin::{Options, StandIn};
use voucherify::{Client, Status};

/// The tokens the stand-in received in revoke requests.
fn revoked_on_the_wire(server: &StandIn) -> HashSet<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/oauth/token/revoke")
        .map(|r| {
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&r.body).unwrap();
            fields.into_iter().find(|(k, _)| k == "access_token").unwrap().1
        })
        .collect()
}

fn mint(server: &StandIn, n: usize) -> Vec<String> {
    (0..n).map(|_| server.mint_token("api")).collect()
}

#[test]
fn progress_is_called_once_per_token_in_a_1000_token_bulk() {
    let server = standin(Options::default());
    let client = Client::new(&single_attempt_config(&server)).unwrap();
    let mut tokens = mint(&server, 990);
    // Ten that the server does not know: their 404s are reported too.
    tokens.extend((0..10).map(|i| format!("unknown-token-{i}")));
    let mut seen = vec![0u32; tokens.len()];
    let mut not_found = 0;
    let outcomes = client.revoke_tokens_with_progress(&tokens, 8, |i, outcome| {
        seen[i] += 1;
        if matches!(outcome, Err(e) if e.status == Status::TokenNotFound) {
            not_found += 1;
        }
        ControlFlow::Continue(())
    });
    assert!(seen.iter().all(|&n| n == 1), "a token was reported other than once");
    assert_eq!(not_found, 10);
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 990);
    assert_eq!(server.request_count(), 1000);
}

#[test]
fn stopping_at_the_100th_sends_at_most_parallelism_more_and_reports_the_rest_as_not_sent() {
    let server = standin(Options {
        // Requests in flight when the stop comes, as across a network.
        latency_ms: 5,
        ..Options::default()
    });
    let client = Client::new(&single_attempt_config(&server)).unwrap();
    let tokens = mint(&server, 1000);
    let parallelism = 8;
    let mut calls = 0;
    let mut sent_when_stopped = 0;
    let outcomes = client.revoke_tokens_with_progress(&tokens, parallelism, |_, _| {
        calls += 1;
        if calls == 100 {
            sent_when_stopped = server.request_count();
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    let sent = server.request_count();
    assert!(sent_when_stopped >= 100);
    assert!(
        sent <= 100 + parallelism,
        "{sent} requests: more than {parallelism} after the stop at the 100th"
    );
    // Every token sent was reported once, as revoked; every other one is
    // Cancelled with no attempt, and was indeed never sent.
    assert_eq!(calls, sent);
    let on_the_wire = revoked_on_the_wire(&server);
    for (token, outcome) in tokens.iter().zip(&outcomes) {
        match outcome {
            Ok(()) => assert!(on_the_wire.contains(token)),
            Err(e) => {
                assert_eq!(e.status, Status::Cancelled, "{e}");
                assert_eq!(e.attempts, 0);
                assert!(!on_the_wire.contains(token), "a sent token is reported as not sent");
            }
        }
    }
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), sent);
}

#[test]
fn a_cancel_ends_a_30_s_retry_after_wait_within_100_ms() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    // Long enough that the 30 s wait is honoured rather than skipped.
    config.set_timeout_ms(60_000).unwrap();
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(429, &[("Retry-After", "30")])]);
    let token = server.mint_token("api");
    std::thread::scope(|scope| {
        let call = scope.spawn(|| {
            let outcome = client.revoke_token(&token);
            (outcome, Instant::now())
        });
        // The first attempt is answered at once; then the call waits.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(server.request_count(), 1);
        assert!(!client.is_cancelled());
        let cancelled_at = Instant::now();
        client.cancel();
        let (outcome, returned_at) = call.join().unwrap();
        let took = returned_at.saturating_duration_since(cancelled_at);
        assert!(
            took < Duration::from_millis(100),
            "the wait ended {took:?} after the cancel"
        );
        let e = outcome.unwrap_err();
        assert_eq!(e.status, Status::Cancelled);
        // Sent once and answered 429: that is said, not hidden.
        assert_eq!((e.attempts, e.http_status), (1, 429), "{e}");
        assert!(e.message.contains("HTTP 429"), "{e}");
        assert_eq!(e.rate_limit.retry_after, Some(30), "the 429's headers are kept");
    });
    assert!(client.is_cancelled());
    assert_eq!(server.request_count(), 1);
}

#[test]
fn after_a_cancel_calls_send_once_and_never_wait() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    config.set_timeout_ms(60_000).unwrap();
    let client = Client::new(&config).unwrap();
    client.cancel();
    // The first attempt still goes (a token source's revoke on free must).
    let token = server.mint_token("api");
    client.revoke_token(&token).unwrap();
    server.push_faults(vec![respond(503, &[("Retry-After", "20")])]);
    let started = Instant::now();
    let e = client.revoke_token(&server.mint_token("api")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((e.status, e.attempts), (Status::Cancelled, 1), "{e}");
    // A bulk revoke on a cancelled client sends nothing.
    server.reset_log();
    let outcomes = client.revoke_tokens(&mint(&server, 20), 4);
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Err(e) if e.status == Status::Cancelled && e.attempts == 0)));
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_cancel_from_another_thread_stops_a_bulk_revoke_waiting_on_the_server() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    config.set_timeout_ms(60_000).unwrap();
    let client = Client::new(&config).unwrap();
    // Every worker's first request meets a long Retry-After.
    server.push_faults(vec![respond(503, &[("Retry-After", "30")]); 4]);
    let tokens = mint(&server, 200);
    let reported = AtomicUsize::new(0);
    let started = Instant::now();
    let outcomes = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            client.cancel();
        });
        client.revoke_tokens_with_progress(&tokens, 4, |_, _| {
            reported.fetch_add(1, Ordering::Relaxed);
            ControlFlow::Continue(())
        })
    });
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let waited = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.status == Status::Cancelled && e.attempts == 1))
        .count();
    let unsent = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.status == Status::Cancelled && e.attempts == 0))
        .count();
    assert_eq!(waited, 4, "the four workers were each waiting to retry");
    assert_eq!(waited + unsent, tokens.len());
    assert_eq!(reported.load(Ordering::Relaxed), 4);
    assert_eq!(server.request_count(), 4);
}

#[test]
fn a_panicking_progress_callback_stops_the_bulk_and_reaches_the_caller() {
    let server = standin(Options::default());
    let client = Client::new(&single_attempt_config(&server)).unwrap();
    let tokens = mint(&server, 50);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.revoke_tokens_with_progress(&tokens, 2, |_, _| -> ControlFlow<()> { panic!("from the callback") })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"from the callback"));
    assert!(server.request_count() <= 2);
}
