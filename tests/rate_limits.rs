//! Rate limits and quotas against the stand-in: absurd numbers from the
//! server, quotas that no wait can fix, the pause every caller of a client
//! keeps, and each attempt's share of the total budget.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;

use common::{config_for, rate_limit, respond, standin_behaving, start_of_window};
use vf_standin::{Fault, Options, StandIn};
use voucherify::{Client, Status};

fn standin() -> StandIn {
    common::standin(Options::default())
}

fn client_with_timeout(server: &StandIn, timeout_ms: u32) -> Client {
    let mut config = config_for(server);
    config.set_timeout_ms(timeout_ms).unwrap();
    Client::new(&config).unwrap()
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn assert_between(took: Duration, low_ms: u64, high_ms: u64, what: &str) {
    assert!(
        took >= Duration::from_millis(low_ms) && took < Duration::from_millis(high_ms),
        "{what}: {took:?}, expected {low_ms} to {high_ms} ms"
    );
}

#[test]
fn the_largest_retry_after_fails_at_once_without_a_panic() {
    let server = standin();
    let client = client_with_timeout(&server, 2_000);
    server.push_faults(vec![respond(429, &[("Retry-After", "9223372036854775807")])]);
    let started = Instant::now();
    let err = client.revoke_token("t").unwrap_err();
    assert_between(started.elapsed(), 0, 500, "a wait past the deadline is not slept");
    assert_eq!((err.status, err.attempts), (Status::RateLimited, 1), "{}", err.message);
    assert_eq!(err.rate_limit.retry_after, Some(i64::MAX));
    // Every caller now knows the client is paused, far beyond any deadline.
    assert!(client.paused_until().unwrap() > SystemTime::now() + Duration::from_secs(86_400));
    let err = client.revoke_token(&server.mint_token("api")).unwrap_err();
    assert_eq!((err.status, err.attempts), (Status::RateLimited, 0), "{}", err.message);
    assert!(err.message.contains("paused"), "{}", err.message);
    assert_eq!(server.request_count(), 1, "nothing sent during the pause");
}

#[test]
fn the_smallest_reset_time_is_in_the_past_and_waits_for_nothing() {
    let server = standin();
    let client = client_with_timeout(&server, 2_000);
    let headers = [
        ("X-Rate-Limit-Remaining", "0"),
        ("X-Rate-Limit-Retry", "-9223372036854775808"),
    ];
    server.push_faults(vec![respond(429, &headers), respond(204, &headers)]);
    let started = Instant::now();
    client.revoke_token("t").unwrap();
    assert_between(started.elapsed(), 0, 1_000, "retried after the backoff only");
    assert_eq!(server.request_count(), 2);
    assert_eq!(client.last_rate_limit().retry_at, Some(i64::MIN));
    assert_eq!(client.paused_until(), None);
}

#[test]
fn a_date_in_x_rate_limit_retry_is_a_date() {
    let server = standin();
    let client = client_with_timeout(&server, 5_000);
    let at = SystemTime::now() + Duration::from_secs(2);
    let date = httpdate::fmt_http_date(at);
    let at_secs = httpdate::parse_http_date(&date)
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap();
    server.push_faults(vec![respond(
        204,
        &[("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Retry", &date)],
    )]);
    client.revoke_token("t").unwrap();
    assert_eq!(client.last_rate_limit().retry_at, Some(at_secs.as_secs() as i64));
    // The next call waits until that moment, not "that many seconds".
    client.revoke_token(&server.mint_token("api")).unwrap();
    let done = SystemTime::now();
    assert!(
        done >= UNIX_EPOCH + at_secs,
        "done {done:?} before the date {at_secs:?}"
    );
    assert!(
        done < UNIX_EPOCH + at_secs + Duration::from_secs(1),
        "waited long past the date"
    );
}

#[test]
fn quotas_are_their_own_status_and_never_retried() {
    let server = standin();
    let client = Client::new(&config_for(&server)).unwrap();
    let cycle = [("X-Rate-Limit-Type", "api_calls_cycle"), ("Retry-After", "0")];
    let plan_ended = Fault::Respond {
        status: 429,
        headers: vec![],
        body: r#"{"code":429,"key":"too_many_requests","message":"Your subscription plan has ended"}"#.into(),
    };
    for fault in [respond(402, &[]), respond(429, &cycle), plan_ended] {
        server.reset_log();
        // A retry would reach the real handler and be answered 404.
        server.push_faults(vec![fault.clone()]);
        let err = client.revoke_token("t").unwrap_err();
        assert_eq!(
            (err.status, err.attempts),
            (Status::QuotaExceeded, 1),
            "{fault:?}: {}",
            err.message
        );
        assert_eq!(server.request_count(), 1, "{fault:?}: not retried");
    }
    // An ordinary 429 is still retried.
    server.reset_log();
    server.push_faults(vec![respond(429, &[("X-Rate-Limit-Type", "api_calls")])]);
    client.revoke_token(&server.mint_token("api")).unwrap();
    assert_eq!(server.request_count(), 2);
}

#[test]
fn calls_refused_during_a_quotas_pause_fail_as_quota_exceeded() {
    let cycle = [("X-Rate-Limit-Type", "api_calls_cycle"), ("Retry-After", "30")];
    let reset = (unix_now() + 30).to_string();
    let spent = [("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Retry", reset.as_str())];
    // Only the body tells this 429 from the window's.
    let plan_ended = Fault::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "30".into())],
        body: r#"{"code":429,"key":"too_many_requests","message":"Your subscription plan has ended"}"#.into(),
    };
    for fault in [respond(402, &spent), respond(429, &cycle), plan_ended] {
        let server = standin();
        let client = client_with_timeout(&server, 1_000);
        server.push_faults(vec![fault.clone()]);
        assert_eq!(client.revoke_token("t").unwrap_err().status, Status::QuotaExceeded);
        let err = client.revoke_token("t").unwrap_err();
        assert_eq!(
            (err.status, err.attempts),
            (Status::QuotaExceeded, 0),
            "{fault:?}: {}",
            err.message
        );
        assert_eq!(server.request_count(), 1, "{fault:?}: nothing sent during the pause");
    }
    // The cycle's last call answered 204: the calls after it are refused as
    // the quota they would meet.
    let server = standin();
    let client = client_with_timeout(&server, 1_000);
    let last_call = [("X-Rate-Limit-Type", "api_calls_cycle"), spent[0], spent[1]];
    server.push_faults(vec![respond(204, &last_call)]);
    client.revoke_token("t").unwrap();
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!(
        (err.status, err.attempts),
        (Status::QuotaExceeded, 0),
        "{}",
        err.message
    );
    assert_eq!(server.request_count(), 1, "nothing sent during the pause");
}

#[test]
fn the_limit_type_is_exposed_on_errors_and_on_the_client() {
    let server = standin();
    let mut config = config_for(&server);
    config.set_max_attempts(1).unwrap();
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(
        429,
        &[("X-Rate-Limit-Type", "bulk_api_calls"), ("X-Rate-Limit-Remaining", "5")],
    )]);
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!(err.rate_limit.kind.as_deref(), Some("bulk_api_calls"));
    assert_eq!(client.last_rate_limit().kind.as_deref(), Some("bulk_api_calls"));
}

/// Waits until `client` is paused, lets requests already on the wire
/// land, and asserts that nothing more reaches the server for `quiet`.
fn assert_nothing_sent_while_paused(server: &StandIn, client: &Client, quiet: Duration) {
    let started = Instant::now();
    while client.paused_until().is_none() {
        assert!(started.elapsed() < Duration::from_secs(2), "no pause");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(100));
    let sent = server.request_count();
    std::thread::sleep(quiet);
    assert_eq!(server.request_count(), sent, "a request was sent during the pause");
    assert!(client.paused_until().is_some(), "the check overran the pause");
}

#[test]
fn one_429_pauses_every_thread_of_the_client() {
    let server = standin();
    let client = client_with_timeout(&server, 10_000);
    let tokens: Vec<String> = (0..8).map(|_| server.mint_token("api")).collect();
    server.push_faults(vec![respond(429, &[("Retry-After", "1")])]);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let (client, tokens) = (&client, &tokens);
        scope.spawn(move || client.revoke_token(&tokens[0]).unwrap());
        // Threads that start during the pause wait for its end.
        while client.paused_until().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        for token in &tokens[1..] {
            scope.spawn(move || client.revoke_token(token).unwrap());
        }
        assert_nothing_sent_while_paused(&server, client, Duration::from_millis(600));
    });
    assert_eq!(
        server.request_count(),
        tokens.len() + 1,
        "one 429, then each token once"
    );
    assert_between(started.elapsed(), 950, 3_000, "all done after the pause");
    assert_eq!(client.paused_until(), None, "the pause is over");
}

#[test]
fn one_429_pauses_the_workers_of_a_bulk_revoke() {
    let server = standin();
    let client = client_with_timeout(&server, 10_000);
    let tokens: Vec<String> = (0..40).map(|_| server.mint_token("api")).collect();
    let mut faults = vec![respond(204, &[]); 10];
    faults.push(respond(429, &[("Retry-After", "1")]));
    server.push_faults(faults);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let (client, tokens) = (&client, &tokens);
        let bulk = scope.spawn(move || client.revoke_tokens(tokens, 4));
        assert_nothing_sent_while_paused(&server, client, Duration::from_millis(600));
        let outcomes = bulk.join().unwrap();
        // The 10 scripted 204s took 10 tokens; the rest are revoked for real.
        assert!(outcomes.iter().all(Result::is_ok));
    });
    assert_eq!(server.request_count(), tokens.len() + 1);
    assert_between(started.elapsed(), 950, 3_000, "the bulk revoke resumed after the pause");
}

#[test]
fn a_spent_window_pauses_the_client_until_it_resets() {
    let server = standin();
    let client = client_with_timeout(&server, 10_000);
    let reset = (unix_now() + 2).to_string();
    server.push_faults(vec![respond(
        204,
        &[("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Retry", &reset)],
    )]);
    client.revoke_token("t").unwrap();
    let paused_until = client.paused_until().expect("paused");
    let reset_at = UNIX_EPOCH + Duration::from_secs(reset.parse().unwrap());
    assert!(paused_until.duration_since(reset_at).unwrap_or_else(|e| e.duration()) < Duration::from_millis(50));
    let count = server.request_count();
    std::thread::scope(|scope| {
        scope.spawn(|| client.revoke_token(&server.mint_token("api")).unwrap());
        std::thread::sleep(reset_at.duration_since(SystemTime::now()).unwrap() - Duration::from_millis(100));
        assert_eq!(server.request_count(), count, "sent before the window reset");
    });
    let done = SystemTime::now();
    assert!(
        done >= reset_at && done < reset_at + Duration::from_secs(1),
        "{done:?} vs {reset_at:?}"
    );
}

#[test]
fn a_call_whose_deadline_ends_within_the_pause_fails_at_once_and_sends_nothing() {
    let server = standin();
    let short = client_with_timeout(&server, 500);
    server.push_faults(vec![respond(
        429,
        &[("Retry-After", "3"), ("X-Rate-Limit-Type", "api_calls")],
    )]);
    assert_eq!(short.revoke_token("t").unwrap_err().status, Status::RateLimited);
    let started = Instant::now();
    let err = short.revoke_token(&server.mint_token("api")).unwrap_err();
    assert_between(started.elapsed(), 0, 100, "refused at once");
    assert_eq!((err.status, err.attempts, err.http_status), (Status::RateLimited, 0, 0));
    assert_eq!(
        err.rate_limit.kind.as_deref(),
        Some("api_calls"),
        "the last headers are attached"
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_timed_out_first_attempt_is_retried_within_the_total_deadline() {
    let server = standin();
    // 3 attempts in 1.5 s: the first waits 0.5 s for an answer, then retries.
    let client = client_with_timeout(&server, 1_500);
    let token = server.mint_token("api");
    server.push_faults(vec![Fault::Hang]);
    let started = Instant::now();
    client.revoke_token(&token).expect("the retry is answered");
    assert_between(started.elapsed(), 480, 1_500, "one share, then the retry");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn our_own_backoff_never_ends_a_call_before_its_deadline() {
    // A backoff of up to 2 s against a 400 ms budget: the retries still
    // come, shortened, and a call that only ever meets timeouts runs to
    // its deadline instead of giving up after its first share.
    let server = standin();
    let mut config = config_for(&server);
    config.set_timeout_ms(400).unwrap();
    config.set_retry_base_delay_ms(2_000);
    let client = Client::new(&config).unwrap();
    for _ in 0..5 {
        server.push_faults(vec![Fault::Hang, Fault::Hang, Fault::Hang]);
        let started = Instant::now();
        let err = client.revoke_token("t").unwrap_err();
        assert_eq!((err.status, err.attempts), (Status::Timeout, 3), "{}", err.message);
        assert_between(started.elapsed(), 390, 1_000, "runs to the deadline");
    }
}

#[test]
fn a_mint_has_the_whole_budget_for_its_one_attempt() {
    let server = standin();
    let client = client_with_timeout(&server, 600);
    server.push_faults(vec![Fault::Hang]);
    let started = Instant::now();
    let err = client.generate_token(&["api"]).unwrap_err();
    assert_eq!((err.status, err.attempts), (Status::Timeout, 1), "{}", err.message);
    assert_between(started.elapsed(), 590, 1_000, "the whole budget, not a share");
}

/// Revokes `count` tokens at `parallelism` against a stand-in allowing
/// `calls` per window of `window_secs`; returns the time taken, the time
/// the limit allows (from the start to the earliest moment the last call
/// may go) and the 429s the stand-in sent.
fn paced_bulk_revoke(calls: u64, window_secs: u64, count: u64, parallelism: usize) -> (Duration, Duration, usize) {
    let server = standin_behaving(rate_limit(calls, window_secs));
    let client = client_with_timeout(&server, 30_000);
    let tokens: Vec<String> = (0..count).map(|_| server.mint_token("api")).collect();
    let first_window_end = start_of_window(window_secs);
    let started = SystemTime::now();
    let outcomes = client.revoke_tokens(&tokens, parallelism);
    let took = started.elapsed().unwrap();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(
            outcome.is_ok(),
            "token {i}: {:?}",
            outcome.as_ref().unwrap_err().message
        );
    }
    // The last call may go at the start of the window that holds it.
    let windows_before_last = (count - 1) / calls;
    let last_window_start =
        first_window_end + Duration::from_secs(window_secs * windows_before_last) - Duration::from_secs(window_secs);
    let allowance = last_window_start.duration_since(started).unwrap_or_default();
    (took, allowance, server.refused_by_limit())
}

#[test]
fn a_bulk_revoke_is_paced_by_the_limit() {
    // 35 tokens at 10 per 2 s: four windows, the last call 6 s after the first.
    let (took, allowance, refused) = paced_bulk_revoke(10, 2, 35, 4);
    eprintln!("paced bulk revoke: {took:?} against an allowance of {allowance:?}, {refused} 429s");
    assert!(refused <= 4, "{refused} 429s in 4 windows");
    assert!(
        took >= allowance,
        "{took:?} is faster than the limit allows ({allowance:?})"
    );
    assert!(
        took.as_secs_f64() <= allowance.as_secs_f64() * 1.10,
        "{took:?} is more than 10% over the allowance ({allowance:?})"
    );
}
