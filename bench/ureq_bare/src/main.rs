//! ureq-bare URL N: N sequential revokes of an unknown token over one kept-alive
//! connection, sent with ureq directly (default agent, statuses not errors), the
//! body read to the end. Prints the JSON line the C drivers print. With
//! BENCH_CA_FILE set, the agent trusts only that CA (an https stand-in).

use std::time::Instant;

const TOKEN: &str = "bench-unknown-token";
const WARMUP: usize = 200;

fn once(agent: &ureq::Agent, url: &str) {
    let mut response = agent
        .post(url)
        .header("user-agent", "libvoucherify/0.1.0")
        .header("accept", "application/json")
        .header("x-app-id", "standin-app-id")
        .header("x-app-token", "standin-secret-key")
        .content_type("application/x-www-form-urlencoded")
        .send(format!("access_token={TOKEN}"))
        .expect("ureq-bare: request failed");
    let body = response.body_mut().read_to_vec().expect("ureq-bare: body");
    assert!(response.status() == 404 && body.is_empty(), "ureq-bare: unexpected answer");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, n) = match args.as_slice() {
        [_, base, n] => (base, n.parse::<usize>().expect("N")),
        _ => {
            eprintln!("usage: ureq-bare URL N");
            std::process::exit(2);
        }
    };
    let url = format!("{base}/v1/oauth/token/revoke");
    let mut builder = ureq::Agent::config_builder().http_status_as_error(false);
    if let Ok(path) = std::env::var("BENCH_CA_FILE") {
        let pem = std::fs::read(path).expect("ureq-bare: BENCH_CA_FILE");
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
                _ => None,
            })
            .collect();
        let roots = ureq::tls::RootCerts::new_with_certs(&certs);
        builder = builder.tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
    }
    let config = builder.build();
    let agent = ureq::Agent::new_with_config(config);
    for _ in 0..WARMUP {
        once(&agent, &url);
    }
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        once(&agent, &url);
        lat.push(t0.elapsed().as_nanos() as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "{{\"calls\":{n},\"secs\":{secs:.6},\"cps\":{:.1},\"p50_us\":{:.2},\"p99_us\":{:.2}}}",
        n as f64 / secs,
        lat[n / 2] as f64 / 1e3,
        lat[n * 99 / 100] as f64 / 1e3
    );
}
