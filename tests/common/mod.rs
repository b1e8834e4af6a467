//! What the integration tests share: a stand-in, and a configuration that
//! points at it.
#![allow(dead_code)] // Each test binary uses its own part of this.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vf_standin::{Behaviour, Fault, Options, RateLimitRule, RecordedRequest, StandIn};
use voucherify::{Client, Config, Status};

pub fn standin(options: Options) -> StandIn {
    StandIn::start(options).expect("stand-in starts")
}

/// A stand-in that behaves as `behaviour` says from the start.
pub fn standin_behaving(behaviour: Behaviour) -> StandIn {
    standin(Options {
        behaviour,
        ..Options::default()
    })
}

/// A real limit: `calls` per window of `window_secs`, answered like the
/// live API past it (429, `Retry-After`, `X-Rate-Limit-*`).
pub fn rate_limit(calls: u64, window_secs: u64) -> Behaviour {
    Behaviour {
        rate_limit: RateLimitRule {
            calls,
            window_secs,
            ..RateLimitRule::default()
        },
        ..Behaviour::default()
    }
}

/// Blocks until the wall clock is within the first 300 ms of a window of
/// `window_secs` (windows are aligned on Unix time), so that calls made
/// next fall in one window; returns when that window ends.
pub fn start_of_window(window_secs: u64) -> SystemTime {
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let into_window = now - Duration::from_secs(now.as_secs() - now.as_secs() % window_secs);
        if into_window < Duration::from_millis(300) {
            return UNIX_EPOCH + Duration::from_secs(now.as_secs() - now.as_secs() % window_secs + window_secs);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The stand-in's credentials and base URL; retries wait at most ~20 ms.
pub fn config_for(server: &StandIn) -> Config {
    let mut config = Config::new();
    config.set_app_id(server.app_id()).unwrap();
    config.set_secret_key(server.secret_key()).unwrap();
    config.set_base_url(&server.base_url()).unwrap();
    config.set_retry_base_delay_ms(20);
    config
}

/// [`config_for`] with one request per call, for tests that map one answer
/// (scripted failures must reach the caller, not be retried away).
pub fn single_attempt_config(server: &StandIn) -> Config {
    let mut config = config_for(server);
    config.set_max_attempts(1).unwrap();
    config
}

/// A scripted answer with an empty body.
pub fn respond(status: u16, headers: &[(&str, &str)]) -> Fault {
    Fault::Respond {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: String::new(),
    }
}

/// Revokes `token` and asserts a timeout no sooner than `timeout_ms` (less
/// 10 ms of rounding) and no later than `slack_ms` after it.
pub fn assert_times_out(client: &Client, token: &str, timeout_ms: u64, slack_ms: u64) {
    let started = Instant::now();
    let err = client.revoke_token(token).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.status, Status::Timeout, "{}", err.message);
    let (earliest, latest) = (timeout_ms - 10, timeout_ms + slack_ms);
    assert!(
        took >= Duration::from_millis(earliest) && took < Duration::from_millis(latest),
        "{token}: {took:?}, expected {earliest} to {latest} ms"
    );
}

/// The value of a recorded request's header (names are lowercase), or "".
pub fn header<'a>(request: &'a RecordedRequest, name: &str) -> &'a str {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Revokes `tokens` from threads sharing `client`, `per_thread` each (every
/// revoke must succeed), then checks each token is gone.
pub fn revoke_from_threads(client: &Client, tokens: &[String], per_thread: usize) {
    std::thread::scope(|scope| {
        for chunk in tokens.chunks(per_thread) {
            scope.spawn(move || {
                for token in chunk {
                    client.revoke_token(token).unwrap();
                }
            });
        }
    });
    for token in tokens {
        assert_eq!(client.revoke_token(token).unwrap_err().status, Status::TokenNotFound);
    }
}
