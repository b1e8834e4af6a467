//! HTTPS with the stand-in's own CA, and the CONNECT proxy.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};
use vf_standin::{ConnectRecord, Options, Proxy, StandIn};

/// An agent trusting only `ca_pem` (or ureq's default roots), through `proxy` if given.
fn agent(ca_pem: Option<&str>, proxy: Option<&str>) -> ureq::Agent {
    let mut tls = TlsConfig::builder();
    if let Some(pem) = ca_pem {
        let ca = Certificate::from_pem(pem.as_bytes()).unwrap();
        tls = tls.root_certs(RootCerts::Specific(Arc::new(vec![ca])));
    }
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .tls_config(tls.build())
        .proxy(proxy.map(|url| ureq::Proxy::new(url).unwrap()))
        .build()
        .into()
}

fn generate(agent: &ureq::Agent, s: &StandIn) -> Result<u16, ureq::Error> {
    let response = agent
        .post(format!("{}/v1/oauth/token", s.base_url()))
        .header("X-App-Id", s.app_id())
        .header("X-App-Token", s.secret_key())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials&scope=api")?;
    let status = response.status().as_u16();
    response.into_body().read_to_vec()?;
    Ok(status)
}

fn tls_standin() -> StandIn {
    StandIn::start(Options {
        tls: true,
        ..Options::default()
    })
    .unwrap()
}

#[test]
fn tls_is_trusted_only_with_the_standin_ca() {
    let s = tls_standin();
    assert_eq!(s.base_url(), format!("https://127.0.0.1:{}", s.port()));
    let ca = s.ca_pem().unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));

    assert_eq!(generate(&agent(Some(&ca), None), &s).unwrap(), 200);
    // The certificate names localhost too.
    let via_localhost = agent(Some(&ca), None)
        .post(format!("https://localhost:{}/v1/oauth/token", s.port()))
        .send("")
        .unwrap();
    assert_eq!(via_localhost.status(), 401);

    let error = generate(&agent(None, None), &s).unwrap_err();
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
    // Another stand-in's CA is no good either.
    let other_ca = tls_standin().ca_pem().unwrap();
    assert!(generate(&agent(Some(&other_ca), None), &s).is_err());
    // Failed handshakes still counted as connections; the good ones were served.
    assert_eq!((s.connections(), s.request_count()), (4, 2));

    assert_eq!(StandIn::start(Options::default()).unwrap().ca_pem(), None);
}

#[test]
fn proxy_tunnels_with_the_right_credentials_only() {
    let s = tls_standin();
    let ca = s.ca_pem().unwrap();
    let proxy = Proxy::start(Some(("user".into(), "pass".into()))).unwrap();
    let port = proxy.url().rsplit(':').next().unwrap().to_string();
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{port}"));

    let through = agent(Some(&ca), Some(&format!("http://user:pass@127.0.0.1:{port}")));
    assert_eq!(generate(&through, &s).unwrap(), 200);
    assert_eq!(generate(&through, &s).unwrap(), 200);
    let target = format!("127.0.0.1:{}", s.port());
    assert_eq!(
        proxy.connects()[0],
        ConnectRecord {
            target: target.clone(),
            authorized: true
        }
    );

    let wrong = agent(Some(&ca), Some(&format!("http://user:nope@127.0.0.1:{port}")));
    assert!(generate(&wrong, &s).is_err());
    let none = agent(Some(&ca), Some(&proxy.url()));
    assert!(generate(&none, &s).is_err());
    let records = proxy.connects();
    let last_two: Vec<_> = records.iter().rev().take(2).collect();
    assert!(last_two.iter().all(|r| r.target == target && !r.authorized));
    // Only the authorized tunnels reached the stand-in.
    assert_eq!(s.request_count(), 2);
}

/// Sends `request` to the proxy on a plain socket and returns its status line.
fn raw_status_line(proxy: &Proxy, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = [0; 1024];
    let n = stream.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    head.lines().next().unwrap_or("").to_string()
}

#[test]
fn proxy_refusals() {
    let s = StandIn::start(Options::default()).unwrap();
    let open = Proxy::start(None).unwrap();

    // Plain HTTP through the proxy is tunnelled too, and without credentials.
    assert_eq!(generate(&agent(None, Some(&open.url())), &s).unwrap(), 200);
    assert!(open.connects()[0].authorized);

    // Nothing but loopback, checked without any lookup or connection.
    let status = raw_status_line(
        &open,
        "CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    let status = raw_status_line(&open, "GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");

    let closed = Proxy::start(Some(("u".into(), "p".into()))).unwrap();
    let status = raw_status_line(&closed, "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 407 Proxy Authentication Required");
}
