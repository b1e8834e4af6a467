//! What a client tells its caller: log records of every event kind, at
//! their levels, never holding a secret; and counters that agree with what
//! the stand-in saw.

use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::{config_for, respond, standin, standin_behaving};
use vf_standin::{Behaviour, Fault, Options, Proxy, StandIn};
use voucherify::core::{Level, Logger, TokenSource};
use voucherify::{Client, Config, Status};

type Records = Arc<Mutex<Vec<(Level, String)>>>;

fn collect(config: &mut Config, min_level: Level) -> Records {
    let records: Records = Arc::default();
    let sink = records.clone();
    config.set_logger(Logger::new(
        Arc::new(move |level, record: &str| sink.lock().unwrap().push((level, record.to_owned()))),
        min_level,
    ));
    records
}

fn find<'a>(records: &'a [(Level, String)], level: Level, text: &str) -> &'a str {
    records
        .iter()
        .find(|(l, r)| *l == level && r.contains(text))
        .map(|(_, r)| r.as_str())
        .unwrap_or_else(|| panic!("no {level:?} record with {text:?} in {records:#?}"))
}

#[test]
fn a_retried_call_tells_every_step_and_the_counters_match_the_server() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Trace);
    let client = Client::new(&config).unwrap();
    let token = server.mint_token("api");
    server.reset_log();
    server.push_faults(vec![respond(503, &[]), respond(503, &[("Retry-After", "1")])]);
    let started = std::time::SystemTime::now();
    client.revoke_token(&token).unwrap();

    let records = records.lock().unwrap().clone();
    let revoke = "POST /v1/oauth/token/revoke";
    find(&records, Level::Debug, &format!("{revoke}: sending, attempt 1 of 3"));
    find(&records, Level::Debug, &format!("{revoke}: HTTP 503 in "));
    find(&records, Level::Warn, "retry scheduled in ");
    let pause = find(&records, Level::Warn, "rate-limit pause of 1000 ms, until ");
    assert!(pause.contains("GMT") && pause.contains("HTTP 503"), "{pause}");
    // The date told is when the pause ends: a second on, to the second.
    let until = pause
        .split("until ")
        .nth(1)
        .and_then(|rest| rest.split(", because").next())
        .unwrap();
    let until = httpdate::parse_http_date(until).unwrap();
    assert!(until >= started && until <= started + Duration::from_secs(3), "{pause}");
    find(&records, Level::Debug, &format!("{revoke}: sending, attempt 3 of 3"));
    find(&records, Level::Debug, &format!("{revoke}: HTTP 204 in "));
    find(&records, Level::Debug, "connection opened to 127.0.0.1:");

    let counters = client.counters();
    assert_eq!(counters.requests, server.request_count() as u64);
    assert_eq!(counters.requests, 3);
    assert_eq!((counters.calls, counters.retries), (1, 2));
    assert_eq!((counters.answers_2xx, counters.answers_5xx), (1, 2));
    assert!(counters.paused_ms >= 1000, "{counters:?}");
    assert!(counters.connections_opened >= 1);
}

/// A pause every caller keeps is told once when it begins, also when the
/// call that met it gives up at once: after a 429, and after a success
/// that spent the window's last call.
#[test]
fn a_rate_limit_pause_is_told_when_it_begins() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    config.set_max_attempts(1).unwrap();
    config.set_timeout_ms(500).unwrap();
    let records = collect(&mut config, Level::Warn);
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(429, &[("Retry-After", "2")])]);
    assert_eq!(client.revoke_token("t").unwrap_err().status, Status::RateLimited);
    // Refused during the pause, past this call's deadline: no new pause.
    assert_eq!(client.revoke_token("t").unwrap_err().status, Status::RateLimited);
    let until = httpdate::fmt_http_date(client.paused_until().expect("paused"));
    let told: Vec<_> = records.lock().unwrap().drain(..).collect();
    let pauses: Vec<_> = told.iter().filter(|(_, r)| r.contains("rate-limit pause")).collect();
    assert_eq!(pauses.len(), 1, "{told:#?}");
    assert_eq!(
        pauses[0].1,
        format!("POST /v1/oauth/token/revoke: rate-limit pause: this client sends nothing until {until} (HTTP 429)")
    );

    let server = standin(Options::default());
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Warn);
    let client = Client::new(&config).unwrap();
    let reset = (std::time::SystemTime::now() + Duration::from_secs(1))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let reset = reset.to_string();
    server.push_faults(vec![respond(
        204,
        &[("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Retry", &reset)],
    )]);
    client.revoke_token("t").unwrap();
    let told = records.lock().unwrap().clone();
    find(&told, Level::Warn, "rate-limit pause: this client sends nothing until ");
    find(&told, Level::Warn, "(HTTP 204: the window's calls are spent)");
}

#[test]
fn a_wait_past_the_deadline_is_not_begun_and_the_record_says_why() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    config.set_timeout_ms(500).unwrap();
    let records = collect(&mut config, Level::Warn);
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![respond(429, &[("Retry-After", "2")])]);
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!(
        (err.status, err.http_status, err.attempts),
        (Status::RateLimited, 429, 1)
    );
    let told = records.lock().unwrap().clone();
    find(&told, Level::Warn, "not retried: waiting ");
    find(&told, Level::Warn, " ms would pass the call's deadline");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn the_time_an_answer_took_is_told_in_milliseconds() {
    let server = standin(Options {
        latency_ms: 60,
        ..Options::default()
    });
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Debug);
    let started = std::time::Instant::now();
    let _ = Client::new(&config).unwrap().revoke_token("t");
    let took_ms = started.elapsed().as_secs_f64() * 1000.0;
    let told = records.lock().unwrap().clone();
    let record = find(&told, Level::Debug, "HTTP 404 in ");
    let ms: f64 = record
        .split(" in ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (55.0..=took_ms).contains(&ms),
        "{record} (the call took {took_ms:.1} ms)"
    );
}

#[test]
fn nothing_is_formatted_or_passed_below_the_level() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Warn);
    let client = Client::new(&config).unwrap();
    client.revoke_token(&server.mint_token("api")).unwrap();
    client.generate_token(&["api"]).unwrap();
    assert!(records.lock().unwrap().is_empty(), "{:?}", records.lock().unwrap());
}

#[test]
fn tokens_minted_and_failures_are_told() {
    let server = standin(Options::default());
    let mut config = config_for(&server);
    config.set_max_attempts(1).unwrap();
    let records = collect(&mut config, Level::Info);
    let client = Arc::new(Client::new(&config).unwrap());
    client.generate_token(&["api"]).unwrap();
    server.push_faults(vec![respond(401, &[])]);
    assert_eq!(
        client.generate_token(&["api"]).unwrap_err().status,
        Status::Unauthorized
    );
    let records = records.lock().unwrap().clone();
    find(&records, Level::Info, "token minted: scope \"api\", expires in 900 s");
    find(&records, Level::Error, "minting a token failed: VF_STATUS_UNAUTHORIZED");
}

/// A token source's life, told one record per event and counted: the
/// first token, a renewal, a renewal that fails with no token to give, one
/// that fails while the current token is kept, the revoke on free and its
/// failure.
#[test]
fn a_token_source_tells_and_counts_its_mints() {
    let server = standin(Options {
        token_lifetime_secs: 2,
        ..Options::default()
    });
    let mut config = config_for(&server);
    config.set_max_attempts(1).unwrap();
    let records = collect(&mut config, Level::Debug);
    let client = Arc::new(Client::new(&config).unwrap());
    let source = TokenSource::new(client.clone(), &["api"]).unwrap();
    assert_eq!(source.counters(), Default::default(), "nothing cached, nothing done");
    let first = source.token().unwrap();
    source.refresh_rejected(&first.access_token).unwrap();
    server.push_faults(vec![respond(503, &[])]);
    let rejected = source.refresh().unwrap_err();
    assert_eq!(rejected.status, Status::ServerError, "{rejected}");
    // Past the 1 s failure backoff and inside the 1 s margin of the 2 s token.
    std::thread::sleep(Duration::from_millis(1150));
    server.push_faults(vec![respond(503, &[])]);
    let kept = source.token().unwrap();

    let counters = source.counters();
    assert_eq!(
        (
            counters.mints,
            counters.renewals,
            counters.mint_failures,
            counters.renewal_failures
        ),
        (2, 1, 2, 2)
    );
    assert!(matches!(counters.expires_in_secs, Some(0..=1)), "{counters:?}");
    let mints = server.requests().iter().filter(|r| r.path == "/v1/oauth/token").count();
    assert_eq!(mints as u64, counters.mints + counters.mint_failures);
    drop(source);
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/v1/oauth/token/revoke");
    assert!(
        String::from_utf8_lossy(&last.body).contains(&kept.access_token),
        "revoked on free"
    );

    let failing = TokenSource::new(client.clone(), &["api"]).unwrap();
    failing.token().unwrap();
    server.push_faults(vec![respond(503, &[])]);
    drop(failing);

    let records = records.lock().unwrap().clone();
    let told = |level, text: &str| find(&records, level, &format!("token source \"api\": {text}")).to_owned();
    told(Level::Info, "first token minted, expires in 2 s");
    let renewed = told(Level::Info, "token renewed with ");
    assert!(
        renewed.ends_with(" s left on the old one; the new one expires in 2 s"),
        "{renewed}"
    );
    told(
        Level::Error,
        "renewal failed, no valid token to give: VF_STATUS_SERVER_ERROR",
    );
    let kept = told(Level::Warn, "renewal failed; the current token, valid ");
    assert!(kept.contains(" s more, is kept: VF_STATUS_SERVER_ERROR"), "{kept}");
    told(Level::Info, "token revoked on free");
    let unrevoked = told(
        Level::Warn,
        "revoking the token on free failed; it expires by itself in ",
    );
    assert!(unrevoked.contains(" s: VF_STATUS_SERVER_ERROR"), "{unrevoked}");
}

#[test]
fn a_connection_the_server_closed_while_idle_is_told_and_replaced() {
    let server = standin_behaving(Behaviour {
        idle_close_ms: Some(100),
        ..Behaviour::default()
    });
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Debug);
    let client = Client::new(&config).unwrap();
    client.revoke_token(&server.mint_token("api")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    client.revoke_token(&server.mint_token("api")).unwrap();
    let records = records.lock().unwrap().clone();
    find(
        &records,
        Level::Debug,
        "connection dropped: closed by the server while idle",
    );
    assert_eq!(client.counters().connections_opened, 2);
}

/// Every event kind, failures included, with recognisable secrets: none
/// of them may reach a record.
#[test]
fn no_record_ever_holds_a_secret() {
    const SECRET: &str = "sk-CANARY-7f3a9e";
    const PROXY_PASSWORD: &str = "pp-CANARY-41b2";
    let server = StandIn::start(Options {
        secret_key: SECRET.into(),
        ..Options::default()
    })
    .unwrap();
    let token = server.mint_token("api");
    let mut config = config_for(&server);
    let records = collect(&mut config, Level::Trace);
    let client = Arc::new(Client::new(&config).unwrap());
    let echoed = format!(r#"{{"code":400,"key":"bad","message":"token {token} key {SECRET}"}}"#);
    server.push_faults(vec![
        respond(503, &[("Retry-After", "0")]),
        Fault::Reset,
        Fault::Respond {
            status: 400,
            headers: vec![],
            body: echoed,
        },
    ]);
    // A server that echoes the secret key and the token: neither reaches the
    // caller's message or raw fields either.
    let echoed = client.revoke_token(&token).unwrap_err();
    assert_eq!((echoed.status, echoed.attempts), (Status::BadRequest, 3), "{echoed}");
    assert!(echoed.message.contains("token <redacted> key <redacted>"), "{echoed}");
    assert!(!format!("{echoed:?}").contains(SECRET) && !format!("{echoed:?}").contains(&token));
    let _ = client.revoke_token(&token);
    let _ = client.introspect_token(&token);
    let _ = client.revoke_token("unknown-token");
    // A token source's events: first token, renewal, renewal failed (the
    // server echoing the key), revoked on free, and that revoke failing.
    let echo_key = |status| Fault::Respond {
        status,
        headers: vec![],
        body: format!(r#"{{"code":{status},"key":"bad","message":"key {SECRET}"}}"#),
    };
    let source = TokenSource::new(client.clone(), &["api"]).unwrap();
    let first = source.token().unwrap();
    let minted = source.refresh_rejected(&first.access_token).unwrap();
    server.push_faults(vec![echo_key(400)]);
    assert!(source.refresh().is_err());
    drop(source);
    let failing = TokenSource::new(client.clone(), &["api"]).unwrap();
    let unrevoked = failing.token().unwrap();
    server.push_faults(vec![echo_key(400)]);
    drop(failing);
    let _ = client.revoke_tokens(&[token.as_str(), minted.access_token.as_str()], 2);

    let proxy = Proxy::start(Some(("user".into(), PROXY_PASSWORD.into()))).unwrap();
    config
        .set_proxy(Some(&format!(
            "http://user:{PROXY_PASSWORD}@127.0.0.1:{}",
            proxy.port()
        )))
        .unwrap();
    config.set_allow_insecure_http(true);
    config.set_max_attempts(1).unwrap();
    let through_proxy = Client::new(&config).unwrap();
    let _ = through_proxy.revoke_token(&token);
    config
        .set_proxy(Some(&format!("http://user:{PROXY_PASSWORD}@127.0.0.1:1")))
        .unwrap();
    let _ = Client::new(&config).unwrap().revoke_token(&token);

    let records = records.lock().unwrap().clone();
    assert!(records.len() > 20, "every kind ran: {records:#?}");
    for event in [
        "first token minted",
        "token renewed",
        "renewal failed",
        "token revoked on free",
        "on free failed",
    ] {
        assert!(
            records.iter().any(|(_, r)| r.contains(event)),
            "no {event:?} in {records:#?}"
        );
    }
    for (_, record) in &records {
        let tokens = [
            &token,
            &first.access_token,
            &minted.access_token,
            &unrevoked.access_token,
        ];
        for secret in tokens.into_iter().map(String::as_str).chain([SECRET, PROXY_PASSWORD]) {
            assert!(!record.contains(secret), "a secret in {record:?}");
        }
    }
}
