//! Network faults, TLS trust and proxies, against the stand-in: each fault
//! asserts the status, the timing bound where there is one, and what the
//! server saw.

use std::time::{Duration, Instant};

mod common;

use common::{assert_times_out, config_for, revoke_from_threads, single_attempt_config, standin as start};
use vf_standin::{Fault, Options, Proxy, StandIn};
use voucherify::core::TlsRoots;
use voucherify::{Client, Status};

fn one_attempt(server: &StandIn) -> Client {
    Client::new(&single_attempt_config(server)).unwrap()
}

#[test]
fn reset_before_the_response_is_retried() {
    let server = start(Options::default());
    let token = server.mint_token("api");
    server.push_faults(vec![Fault::Reset]);
    Client::new(&config_for(&server)).unwrap().revoke_token(&token).unwrap();
    assert_eq!(server.request_count(), 2);

    server.push_faults(vec![Fault::Reset]);
    let err = one_attempt(&server).revoke_token("t").unwrap_err();
    assert_eq!(
        (err.status, err.http_status),
        (Status::ConnectionFailed, 0),
        "{}",
        err.message
    );
}

#[test]
fn reset_during_the_body_is_a_connection_failure_with_the_status_seen() {
    let server = start(Options::default());
    server.push_faults(vec![Fault::ResetMidBody]);
    let err = Client::new(&config_for(&server))
        .unwrap()
        .revoke_token("t")
        .unwrap_err();
    assert_eq!(
        (err.status, err.http_status),
        (Status::ConnectionFailed, 200),
        "{}",
        err.message
    );
    assert_eq!(err.attempts, 1, "an answer had begun: not repeated");
}

#[test]
fn a_trickled_body_stops_at_the_deadline() {
    let server = start(Options::default());
    let mut config = config_for(&server);
    config.set_timeout_ms(500).unwrap();
    let client = Client::new(&config).unwrap();
    server.push_faults(vec![Fault::Trickle { interval_ms: 50 }]);
    assert_times_out(&client, "t", 500, 300);
}

#[test]
fn large_but_reasonable_heads_and_bodies_fit_the_buffers() {
    let server = start(Options::default());
    // A 20 KB error body (the bound is 64 KiB) and an 8 KB response header
    // (the head may take 16 KiB).
    let details = "d".repeat(20_000);
    server.push_faults(vec![Fault::Respond {
        status: 400,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-padding".into(), "p".repeat(8_000)),
        ],
        body: format!(r#"{{"code":400,"key":"big_one","message":"m","details":"{details}"}}"#),
    }]);
    let err = one_attempt(&server).revoke_token("t").unwrap_err();
    assert_eq!(
        (err.status, err.body.key.as_deref()),
        (Status::BadRequest, Some("big_one")),
        "{}",
        err.message
    );
    // A 6 KB request header (the request head may take 16 KiB).
    let mut config = single_attempt_config(&server);
    config.add_header("X-Trace", &"t".repeat(6_000)).unwrap();
    let err = Client::new(&config).unwrap().revoke_token("t").unwrap_err();
    assert_eq!(err.status, Status::TokenNotFound, "{}", err.message);
    let requests = server.requests();
    let trace = requests
        .last()
        .unwrap()
        .headers
        .iter()
        .find(|(n, _)| n == "x-trace")
        .map(|(_, v)| v.len());
    assert_eq!(trace, Some(6_000));
}

#[test]
fn huge_and_endless_bodies_are_read_with_a_bound() {
    let server = start(Options::default());
    let client = one_attempt(&server);
    for fault in [Fault::HugeBody { bytes: 50 << 20 }, Fault::EndlessBody] {
        server.push_faults(vec![fault]);
        let started = Instant::now();
        let err = client.revoke_token("t").unwrap_err();
        assert_eq!(
            (err.status, err.http_status),
            (Status::UnexpectedResponse, 500),
            "{}",
            err.message
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "stopped at the bound, not the end"
        );
    }
}

#[test]
fn a_connection_closed_without_an_answer_is_retried_then_reported() {
    let server = start(Options::default());
    server.push_faults(vec![Fault::Close, Fault::Close, Fault::Close]);
    let err = Client::new(&config_for(&server))
        .unwrap()
        .revoke_token("t")
        .unwrap_err();
    assert_eq!(
        (err.status, err.attempts),
        (Status::ConnectionFailed, 3),
        "{}",
        err.message
    );
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_that_host_sees_nothing() {
    let server = start(Options::default());
    let other = start(Options::default());
    server.push_faults(vec![Fault::Respond {
        status: 307,
        headers: vec![("Location".into(), format!("{}/v1/oauth/token/revoke", other.base_url()))],
        body: String::new(),
    }]);
    let err = one_attempt(&server).revoke_token("t").unwrap_err();
    assert_eq!((err.status, err.http_status), (Status::UnexpectedResponse, 307));
    assert_eq!(other.request_count(), 0);
    assert_eq!(other.connections(), 0, "no connection at all, so no credential");
}

#[test]
fn calls_reuse_one_kept_alive_connection() {
    let server = start(Options::default());
    let client = one_attempt(&server);
    for _ in 0..20 {
        client.revoke_token(&server.mint_token("api")).unwrap();
    }
    assert_eq!(server.connections(), 1);
}

#[test]
fn tls_with_an_extra_ca_file_is_trusted_and_verified() {
    let server = start(Options {
        tls: true,
        ..Options::default()
    });
    let dir = std::env::temp_dir().join(format!("vf-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();

    // Default trust: the stand-in's CA is unknown, and that is a TLS error,
    // counted as one.
    let client = one_attempt(&server);
    let err = client.revoke_token("t").unwrap_err();
    assert_eq!(err.status, Status::TlsError, "{}", err.message);
    assert!(err.message.contains("certificate"), "{}", err.message);
    let counters = client.counters();
    assert_eq!(
        (counters.tls_failures, counters.connection_failures),
        (1, 0),
        "{counters:?}"
    );
    let mut config = config_for(&server);
    config.set_tls_roots(TlsRoots::Mozilla);
    assert_eq!(
        Client::new(&config).unwrap().revoke_token("t").unwrap_err().status,
        Status::TlsError
    );

    // With the CA file added to either store, the same server is trusted.
    for roots in [TlsRoots::System, TlsRoots::Mozilla] {
        let mut config = config_for(&server);
        config.set_tls_roots(roots);
        config.set_ca_file(Some(ca.to_str().unwrap())).unwrap();
        Client::new(&config)
            .unwrap()
            .revoke_token(&server.mint_token("api"))
            .unwrap();
    }

    // A missing or empty CA file is refused when the client is built.
    let mut config = config_for(&server);
    config
        .set_ca_file(Some(dir.join("missing.pem").to_str().unwrap()))
        .unwrap();
    assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    config
        .set_ca_file(Some(dir.join("empty.pem").to_str().unwrap()))
        .unwrap();
    assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn requests_go_through_a_proxy_with_credentials() {
    let server = start(Options::default());
    let proxy = Proxy::start(Some(("proxyuser".into(), "pr0xy-pass".into()))).unwrap();
    let mut config = config_for(&server);
    config
        .set_proxy(Some(&format!("http://proxyuser:pr0xy-pass@127.0.0.1:{}", proxy.port())))
        .unwrap();
    // Plain http through a proxy crosses the network in clear, even to
    // loopback: refused unless allowed.
    let refused = Client::new(&config).unwrap_err();
    assert_eq!(refused.status, Status::InvalidArgument);
    assert!(refused.message.contains("through a proxy"), "{}", refused.message);
    assert!(!refused.message.contains("pr0xy-pass"), "{}", refused.message);
    config.set_allow_insecure_http(true);
    Client::new(&config)
        .unwrap()
        .revoke_token(&server.mint_token("api"))
        .unwrap();
    let connects = proxy.connects();
    assert_eq!(connects.len(), 1);
    assert!(connects[0].authorized);
    assert_eq!(connects[0].target, format!("127.0.0.1:{}", server.port()));

    config
        .set_proxy(Some(&format!("http://proxyuser:wrong-pass@127.0.0.1:{}", proxy.port())))
        .unwrap();
    config.set_max_attempts(1).unwrap();
    let err = Client::new(&config).unwrap().revoke_token("t").unwrap_err();
    assert_eq!(err.status, Status::ConnectionFailed, "{}", err.message);
    assert!(!err.message.contains("wrong-pass") && !format!("{err:?}").contains("wrong-pass"));
    assert_eq!(server.request_count(), 1, "only the first revoke got through");
}

#[test]
fn a_new_client_resumes_the_tls_session_of_an_earlier_one_only_with_the_same_trust() {
    let server = start(Options {
        tls: true,
        ..Options::default()
    });
    let ca = std::env::temp_dir().join(format!("vf-resume-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let client_trusting = |roots| {
        let mut config = config_for(&server);
        config.set_tls_roots(roots);
        config.set_ca_file(Some(ca.to_str().unwrap())).unwrap();
        Client::new(&config).unwrap()
    };
    let revoke_once = |client: Client| client.revoke_token(&server.mint_token("api")).unwrap();
    revoke_once(client_trusting(TlsRoots::System));
    assert_eq!(server.tls_resumed(), 0, "the first handshake is a full one");
    revoke_once(client_trusting(TlsRoots::System));
    assert_eq!(server.tls_resumed(), 1, "a new client with the same trust resumes");
    // Resuming skips the certificate checks: a client that trusts other
    // roots must check them itself.
    revoke_once(client_trusting(TlsRoots::Mozilla));
    assert_eq!(server.tls_resumed(), 1, "a client with other trust does not resume");
    assert_eq!(server.connections(), 3);
    std::fs::remove_file(&ca).ok();
}

#[test]
fn tls_goes_through_a_proxy_end_to_end_without_any_allow() {
    let server = start(Options {
        tls: true,
        ..Options::default()
    });
    let ca = std::env::temp_dir().join(format!("vf-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let proxy = Proxy::start(None).unwrap();
    let mut config = config_for(&server);
    config.set_ca_file(Some(ca.to_str().unwrap())).unwrap();
    config
        .set_proxy(Some(&format!("http://127.0.0.1:{}", proxy.port())))
        .unwrap();
    Client::new(&config)
        .unwrap()
        .revoke_token(&server.mint_token("api"))
        .unwrap();
    assert_eq!(proxy.connects().len(), 1);
    assert_eq!(server.request_count(), 1);
    std::fs::remove_file(&ca).ok();
}

#[test]
fn many_threads_share_one_client_through_a_burst_of_faults() {
    let server = start(Options::default());
    let mut config = config_for(&server);
    // One thread may draw every fault in a row: enough attempts for that.
    config.set_max_attempts(10).unwrap();
    config.set_retry_base_delay_ms(1);
    let client = Client::new(&config).unwrap();
    let tokens: Vec<String> = (0..64).map(|_| server.mint_token("api")).collect();
    server.push_faults(
        (0..9)
            .map(|i| if i % 2 == 0 { Fault::Reset } else { Fault::Close })
            .collect(),
    );
    // Every fault is retried away; a lost answer may turn into a 404 that
    // the client reports as success.
    revoke_from_threads(&client, &tokens, 8);
}
