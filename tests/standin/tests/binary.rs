//! The `vf-standin` binary: URL line, serving, and the ways it stops.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vf-standin"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn vf-standin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("VF_STANDIN_URL=")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
        "{url}"
    );
    (child, url)
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("vf-standin did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn generate(url: &str, id: &str, key: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    post(
        &agent,
        url,
        "/v1/oauth/token",
        id,
        key,
        "grant_type=client_credentials&scope=api",
    )
    .unwrap()
}

fn post(agent: &ureq::Agent, url: &str, path: &str, id: &str, key: &str, body: &str) -> Result<u16, ureq::Error> {
    let response = agent
        .post(format!("{url}{path}"))
        .header("X-App-Id", id)
        .header("X-App-Token", key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)?;
    let status = response.status().as_u16();
    response.into_body().read_to_vec()?;
    Ok(status)
}

#[test]
fn prints_url_serves_and_exits_on_stdin_eof() {
    let (mut child, url) = spawn(&["--exit-on-stdin-eof", "--app-id", "bin-id", "--secret-key", "bin-key"]);
    assert_eq!(generate(&url, "bin-id", "bin-key"), 200);
    assert_eq!(generate(&url, "standin-app-id", "standin-secret-key"), 401);

    drop(child.stdin.take());
    assert!(wait_with_timeout(&mut child, Duration::from_secs(5)).success());
}

#[cfg(unix)]
#[test]
fn exits_on_sigterm_and_ignores_stdin_without_flag() {
    let (mut child, url) = spawn(&["--token-lifetime", "60"]);
    // Without --exit-on-stdin-eof, closing stdin changes nothing.
    drop(child.stdin.take());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(generate(&url, "standin-app-id", "standin-secret-key"), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(wait_with_timeout(&mut child, Duration::from_secs(5)).success());
}

#[test]
fn rejects_unknown_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_vf-standin"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn tls_with_ca_out_and_transport_fault_tokens() {
    let ca_path = std::env::temp_dir().join(format!("vf-standin-ca-{}.pem", std::process::id()));
    let (mut child, url) = spawn(&["--exit-on-stdin-eof", "--tls", "--ca-out", ca_path.to_str().unwrap()]);
    assert!(url.starts_with("https://"), "{url}");
    // Written before the URL line, so it is there now.
    let pem = std::fs::read(&ca_path).unwrap();
    let _ = std::fs::remove_file(&ca_path);

    let ca = ureq::tls::Certificate::from_pem(&pem).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![ca])))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .tls_config(tls)
        .build()
        .into();
    let (id, key) = ("standin-app-id", "standin-secret-key");
    let introspect = |token: &str| {
        post(
            &agent,
            &url,
            "/v1/oauth/introspect",
            id,
            key,
            &format!("access_token={token}"),
        )
    };
    assert_eq!(introspect("unknown").unwrap(), 200);
    assert!(introspect("fault-reset").is_err());
    assert!(introspect("fault-reset-mid-body").is_err());
    assert_eq!(introspect("unknown").unwrap(), 200);

    drop(child.stdin.take());
    assert!(wait_with_timeout(&mut child, Duration::from_secs(5)).success());
}

#[test]
fn ca_out_needs_tls() {
    let output = Command::new(env!("CARGO_BIN_EXE_vf-standin"))
        .args(["--ca-out", "/nonexistent/ca.pem"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn limit_flags_set_the_behaviour() {
    let (mut child, url) = spawn(&[
        "--exit-on-stdin-eof",
        "--rate-limit",
        "5/60",
        "--rate-limit-type",
        "bulk_api_calls",
        "--no-retry-after",
        "--plan-calls",
        "7",
        "--cycle-calls",
        "9",
        "--idle-close-ms",
        "250",
        "--error-bodies",
        "full",
    ]);
    let behaviour = ureq::get(format!("{url}/_standin/behaviour"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let behaviour: vf_standin::Behaviour = serde_json::from_str(&behaviour).unwrap();
    let expected = vf_standin::Behaviour {
        rate_limit: vf_standin::RateLimitRule {
            calls: 5,
            window_secs: 60,
            kind: "bulk_api_calls".to_string(),
            retry_after: false,
        },
        cycle_calls: Some(9),
        plan_calls: Some(7),
        idle_close_ms: Some(250),
        error_bodies: vf_standin::ErrorBodies::Full,
    };
    assert_eq!(behaviour, expected);
    drop(child.stdin.take());
    assert!(wait_with_timeout(&mut child, Duration::from_secs(5)).success());

    for bad in [
        ["--rate-limit", "5"],
        ["--rate-limit", "5/0"],
        ["--error-bodies", "short"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_vf-standin"))
            .args(bad)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
}
