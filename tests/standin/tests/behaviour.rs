//! The stand-in behaving like the live API: a real rate limit, spent quotas,
//! idle connections closed, spec-like error bodies, and the ways to set them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use vf_standin::{Behaviour, ErrorBodies, Options, RateLimitRule, StandIn};

const FORM: &str = "application/x-www-form-urlencoded";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
    fn number(&self, name: &str) -> u64 {
        self.header(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {:?}", self.header(name)))
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

fn introspect(s: &StandIn) -> Reply {
    let response = agent()
        .post(format!("{}/v1/oauth/introspect", s.base_url()))
        .header("X-App-Id", s.app_id())
        .header("X-App-Token", s.secret_key())
        .header("Content-Type", FORM)
        .send("access_token=unknown")
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().read_to_vec().unwrap();
    Reply { status, headers, body }
}

fn with(behaviour: Behaviour) -> StandIn {
    StandIn::start(Options {
        behaviour,
        ..Options::default()
    })
    .unwrap()
}

fn limit(calls: u64, window_secs: u64) -> Behaviour {
    Behaviour {
        rate_limit: RateLimitRule {
            calls,
            window_secs,
            ..RateLimitRule::default()
        },
        ..Behaviour::default()
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Waits until the current second is early in a window of `window_secs`, so
/// that a test's calls all fall in one window.
fn start_of_window(window_secs: u64) {
    while unix_now() % window_secs as f64 > 0.3 {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_rate_limit_counts_every_call_and_refuses_past_it_until_the_window_ends() {
    let s = with(limit(3, 2));
    start_of_window(2);
    let window_end = (unix_now() as u64 / 2 + 1) * 2;
    for remaining in [2, 1, 0] {
        let reply = introspect(&s);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.number("x-rate-limit-limit"), 3);
        assert_eq!(reply.number("x-rate-limit-remaining"), remaining);
        assert_eq!(reply.number("x-rate-limit-retry"), window_end);
        assert_eq!(reply.header("x-rate-limit-type"), "api_calls");
        assert_eq!(reply.header("retry-after"), "");
    }
    let refused = introspect(&s);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["key"], "too_many_requests");
    assert_eq!(refused.number("x-rate-limit-remaining"), 0);
    assert_eq!(refused.number("x-rate-limit-retry"), window_end);
    let retry_after = refused.number("retry-after");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // Refused calls count too, and are told apart in the log.
    assert_eq!(introspect(&s).status, 429);
    assert_eq!(s.refused_by_limit(), 2);
    let refused_in_log: Vec<_> = s.requests().iter().map(|r| r.refused_by_limit).collect();
    assert_eq!(refused_in_log, [None, None, None, Some(429), Some(429)]);

    while unix_now() < window_end as f64 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let next_window = introspect(&s);
    assert_eq!(next_window.status, 200);
    assert_eq!(next_window.number("x-rate-limit-remaining"), 2);
    assert_eq!(next_window.number("x-rate-limit-retry"), window_end + 2);
}

#[test]
fn the_rate_limit_type_and_retry_after_can_be_changed() {
    let mut behaviour = limit(1, 60);
    behaviour.rate_limit.kind = "bulk_api_calls".to_string();
    behaviour.rate_limit.retry_after = false;
    let s = with(behaviour);
    assert_eq!(introspect(&s).header("x-rate-limit-type"), "bulk_api_calls");
    let refused = introspect(&s);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), "");
    assert_eq!(refused.number("x-rate-limit-remaining"), 0);
}

#[test]
fn a_spent_billing_cycle_is_a_429_of_type_api_calls_cycle() {
    let s = with(Behaviour {
        cycle_calls: Some(2),
        ..Behaviour::default()
    });
    assert_eq!(introspect(&s).status, 200);
    assert_eq!(introspect(&s).status, 200);
    let spent = introspect(&s);
    assert_eq!(spent.status, 429);
    assert_eq!(spent.header("x-rate-limit-type"), "api_calls_cycle");
    assert_eq!(spent.number("x-rate-limit-limit"), 2);
    assert_eq!(spent.number("x-rate-limit-remaining"), 0);
    // Not before the next cycle: days away, not seconds.
    let days = 24 * 3600;
    assert!(spent.number("retry-after") > days, "{}", spent.header("retry-after"));
    assert!(spent.number("x-rate-limit-retry") > unix_now() as u64 + days);
    assert_eq!(introspect(&s).status, 429, "and it stays spent");
}

#[test]
fn an_exceeded_plan_is_a_402() {
    let s = with(Behaviour {
        plan_calls: Some(1),
        ..Behaviour::default()
    });
    assert_eq!(introspect(&s).status, 200);
    let over = introspect(&s);
    assert_eq!(over.status, 402);
    assert_eq!(over.json()["code"], 402);
    assert_eq!(over.json()["key"], "payment_required");
    assert!(over.json()["request_id"].as_str().unwrap().starts_with("v-"));
    assert_eq!(over.header("x-rate-limit-type"), "api_calls");
    assert_eq!(s.refused_by_limit(), 1);
}

/// One request on `stream`, its whole answer read (the stand-in's answers
/// have a Content-Length).
fn exchange(stream: &mut TcpStream, s: &StandIn) -> String {
    let body = "access_token=unknown";
    let request = format!(
        "POST /v1/oauth/introspect HTTP/1.1\r\nHost: 127.0.0.1\r\nX-App-Id: {}\r\nX-App-Token: {}\r\n\
         Content-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}",
        s.app_id(),
        s.secret_key(),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0; 4096];
    while !answer.ends_with(b"}") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed mid-answer");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(answer).unwrap()
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_limit_and_not_before() {
    let s = with(Behaviour {
        idle_close_ms: Some(300),
        ..Behaviour::default()
    });
    let mut stream = TcpStream::connect(("127.0.0.1", s.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    // Busy every 150 ms: kept open.
    for _ in 0..4 {
        assert!(exchange(&mut stream, &s).starts_with("HTTP/1.1 200"));
        std::thread::sleep(Duration::from_millis(150));
    }
    let answered = Instant::now();
    exchange(&mut stream, &s);
    let mut buf = [0; 16];
    assert_eq!(stream.read(&mut buf).unwrap(), 0, "closed with a FIN");
    let idle = answered.elapsed();
    assert!(
        idle >= Duration::from_millis(290) && idle < Duration::from_millis(1000),
        "{idle:?}"
    );
    assert_eq!((s.idle_closes(), s.connections()), (1, 1));
}

#[test]
fn idle_connections_stay_open_by_default() {
    let s = StandIn::start(Options::default()).unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", s.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    exchange(&mut stream, &s);
    let mut buf = [0; 16];
    let err = stream.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "still open");
    assert_eq!(s.idle_closes(), 0);
}

#[test]
fn error_bodies_follow_the_spec_by_default_or_carry_everything() {
    let s = StandIn::start(Options::default()).unwrap();
    let bad_scope = || {
        let response = agent()
            .post(format!("{}/v1/oauth/token", s.base_url()))
            .header("X-App-Id", s.app_id())
            .header("X-App-Token", s.secret_key())
            .header("Content-Type", FORM)
            .send("grant_type=client_credentials&scope=vouchers%2Ccampaigns")
            .unwrap();
        serde_json::from_slice::<Value>(&response.into_body().read_to_vec().unwrap()).unwrap()
    };
    // The spec's own example, field for field.
    assert_eq!(
        bad_scope(),
        serde_json::json!({"code": 400, "key": "invalid_scope", "message": "Invalid scope: vouchers,campaigns"})
    );
    s.set_behaviour(Behaviour {
        error_bodies: ErrorBodies::Full,
        ..Behaviour::default()
    });
    let full = bad_scope();
    assert!(full["details"].is_string(), "{full}");
    assert!(full["request_id"].as_str().unwrap().starts_with("v-"));
}

#[test]
fn the_control_endpoint_sets_reads_and_resets_the_behaviour() {
    let s = StandIn::start(Options::default()).unwrap();
    let control = |method: &str, path: &str, body: &str| {
        let url = format!("{}/_standin/{path}", s.base_url());
        let response = match method {
            "GET" => agent().get(&url).call(),
            _ => agent().post(&url).send(body),
        }
        .unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_string().unwrap())
    };
    let (status, _) = control(
        "POST",
        "behaviour",
        r#"{"rate_limit": {"calls": 1, "window_secs": 60}}"#,
    );
    assert_eq!(status, 204);
    let (_, now) = control("GET", "behaviour", "");
    let now: Behaviour = serde_json::from_str(&now).unwrap();
    assert_eq!(now, limit(1, 60), "unnamed fields take their defaults");
    assert_eq!(introspect(&s).status, 200);
    assert_eq!(introspect(&s).status, 429);
    let (_, stats) = control("GET", "stats", "");
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        (stats["requests"].as_u64(), stats["refused_by_limit"].as_u64()),
        (Some(2), Some(1))
    );

    assert_eq!(
        control("POST", "behaviour", r#"{"rate_limits": {}}"#).0,
        400,
        "a typo is refused"
    );
    assert_eq!(control("POST", "reset", "").0, 204);
    assert_eq!(s.behaviour(), Behaviour::default(), "back to how it started");
    assert_eq!(introspect(&s).status, 200);
}

#[test]
fn requests_in_flight_are_counted() {
    let s = StandIn::start(Options {
        latency_ms: 300,
        ..Options::default()
    })
    .unwrap();
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| introspect(&s));
        }
    });
    assert_eq!(s.max_in_flight(), 3);
    introspect(&s);
    s.reset_log();
    assert_eq!(s.max_in_flight(), 0);
    introspect(&s);
    assert_eq!(s.max_in_flight(), 1);
}
