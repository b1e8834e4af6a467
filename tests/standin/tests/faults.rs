//! The transport-level faults, scripted sequences and connection counting.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use vf_standin::{Fault, Options, StandIn};

const FORM: &str = "application/x-www-form-urlencoded";

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// POSTs `access_token=TOKEN` to `path` with the stand-in's credentials.
fn send(
    agent: &ureq::Agent,
    s: &StandIn,
    path: &str,
    token: &str,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent
        .post(format!("{}{path}", s.base_url()))
        .header("X-App-Id", s.app_id())
        .header("X-App-Token", s.secret_key())
        .header("Content-Type", FORM)
        .send(format!("access_token={token}"))
}

fn introspect(s: &StandIn, token: &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    send(&agent(Duration::from_secs(5)), s, "/v1/oauth/introspect", token)
}

/// Sends an introspect request on a plain socket; returns what arrived before the
/// read error that must end it.
fn raw_introspect(s: &StandIn, token: &str) -> (Vec<u8>, std::io::Error) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", s.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = format!("access_token={token}");
    let request = format!(
        "POST /v1/oauth/introspect HTTP/1.1\r\nHost: 127.0.0.1\r\nX-App-Id: {}\r\n\
         X-App-Token: {}\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}",
        s.app_id(),
        s.secret_key(),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!("clean EOF after {:?}", String::from_utf8_lossy(&received)),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => return (received, e),
        }
    }
}

fn is_reset(error: &ureq::Error) -> bool {
    matches!(error, ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

#[test]
fn reset_faults() {
    let s = StandIn::start(Options::default()).unwrap();

    let error = introspect(&s, "fault-reset").unwrap_err();
    assert!(is_reset(&error), "{error:?}");
    // The request was read and logged before the reset.
    assert_eq!(s.requests()[0].body, b"access_token=fault-reset");

    s.push_faults(vec![Fault::Reset]);
    let error = introspect(&s, "unknown").unwrap_err();
    assert!(is_reset(&error), "{error:?}");

    // ureq reports a reset mid-body as a plain disconnect.
    let response = introspect(&s, "fault-reset-mid-body").unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "1000");
    assert!(response.into_body().read_to_vec().is_err());

    // A raw socket shows the head, the 10 bytes, and then really an RST.
    let (received, error) = raw_introspect(&s, "fault-reset-mid-body");
    let received = String::from_utf8(received).unwrap();
    assert!(received.starts_with("HTTP/1.1 200 OK\r\n"), "{received}");
    assert!(received.ends_with("\r\n\r\n{\"active\":"), "{received}");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    let (received, error) = raw_introspect(&s, "fault-reset");
    assert_eq!((received.len(), error.kind()), (0, std::io::ErrorKind::ConnectionReset));

    s.push_faults(vec![Fault::ResetMidBody]);
    let response = introspect(&s, "unknown").unwrap();
    assert!(response.into_body().read_to_vec().is_err());
}

#[test]
fn trickle_times_out_a_hurried_client_and_completes_for_a_patient_one() {
    let s = StandIn::start(Options::default()).unwrap();

    let started = Instant::now();
    let hurried = agent(Duration::from_millis(500));
    let result = send(&hurried, &s, "/v1/oauth/introspect", "fault-trickle").and_then(|response| {
        assert_eq!(response.status(), 200);
        response.into_body().read_to_vec()
    });
    assert!(matches!(result, Err(ureq::Error::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    s.push_faults(vec![Fault::Trickle { interval_ms: 1 }]);
    let response = introspect(&s, "unknown").unwrap();
    assert_eq!(response.headers()["content-length"], "200");
    let body = response.into_body().read_to_vec().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((body.len(), &json["active"]), (200, &serde_json::json!(false)));
}

#[test]
fn endless_and_huge_bodies() {
    let s = StandIn::start(Options::default()).unwrap();
    let read_limited = |response: ureq::http::Response<ureq::Body>| {
        response.into_body().with_config().limit(1024 * 1024).read_to_vec()
    };

    let endless = introspect(&s, "fault-endless-body").unwrap();
    assert_eq!(endless.status(), 500);
    assert_eq!(endless.headers()["transfer-encoding"], "chunked");
    assert!(matches!(read_limited(endless), Err(ureq::Error::BodyExceedsLimit(_))));

    let huge = introspect(&s, "fault-huge-body").unwrap();
    assert_eq!(huge.status(), 500);
    assert_eq!(huge.headers()["content-length"], "52428800");
    assert!(matches!(read_limited(huge), Err(ureq::Error::BodyExceedsLimit(_))));

    s.push_faults(vec![Fault::HugeBody { bytes: 40_000 }]);
    let body = read_limited(introspect(&s, "unknown").unwrap()).unwrap();
    assert_eq!(body.len(), 40_000);
    assert!(body.iter().all(|&b| b == b'x'));

    // A client still reading an endless body does not hold up shutdown.
    let mut reader = introspect(&s, "fault-endless-body").unwrap().into_body().into_reader();
    let mut buf = [0; 1024];
    reader.read_exact(&mut buf).unwrap();
    let started = Instant::now();
    drop(s);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn scripted_503s_then_normal_processing() {
    let s = StandIn::start(Options::default()).unwrap();
    let token = s.mint_token("api");
    let unavailable = Fault::Respond {
        status: 503,
        headers: vec![("Retry-After".into(), "0".into())],
        body: String::new(),
    };
    s.push_faults(vec![unavailable.clone(), unavailable]);

    let agent = agent(Duration::from_secs(5));
    let statuses: Vec<u16> = (0..3)
        .map(|_| {
            let response = send(&agent, &s, "/v1/oauth/token/revoke", &token).unwrap();
            response.status().as_u16()
        })
        .collect();
    // The third call really revoked the token.
    assert_eq!(statuses, [503, 503, 204]);
    let introspected = introspect(&s, &token).unwrap().into_body().read_to_vec().unwrap();
    let introspected: serde_json::Value = serde_json::from_slice(&introspected).unwrap();
    assert_eq!(introspected["active"], false);
    assert_eq!(s.request_count(), 4);
}

#[test]
fn connections_count_keep_alive_reuse() {
    let s = StandIn::start(Options::default()).unwrap();
    assert_eq!(s.connections(), 0);
    let reused = agent(Duration::from_secs(5));
    for _ in 0..5 {
        let response = send(&reused, &s, "/v1/oauth/introspect", "unknown").unwrap();
        response.into_body().read_to_vec().unwrap();
    }
    assert_eq!((s.request_count(), s.connections()), (5, 1));

    // A dropped connection forces a new one.
    assert!(introspect(&s, "fault-close").is_err());
    assert_eq!(s.connections(), 2);
    s.reset_log();
    assert_eq!(s.connections(), 2);
}

#[test]
fn new_fault_json_forms() {
    let faults: Vec<Fault> = serde_json::from_str(
        r#"["reset", "reset_mid_body", "endless_body", {"trickle": {}},
            {"trickle": {"interval_ms": 5}}, {"huge_body": {}}, {"huge_body": {"bytes": 10}}]"#,
    )
    .unwrap();
    assert_eq!(
        faults,
        vec![
            Fault::Reset,
            Fault::ResetMidBody,
            Fault::EndlessBody,
            Fault::Trickle { interval_ms: 100 },
            Fault::Trickle { interval_ms: 5 },
            Fault::HugeBody {
                bytes: 50 * 1024 * 1024
            },
            Fault::HugeBody { bytes: 10 },
        ]
    );
}
