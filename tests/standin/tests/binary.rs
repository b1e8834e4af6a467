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
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
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
    let response = agent
        .post(format!("{url}/v1/oauth/token"))
        .header("X-App-Id", id)
        .header("X-App-Token", key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials&scope=api")
        .unwrap();
    let status = response.status().as_u16();
    response.into_body().read_to_vec().unwrap();
    status
}

#[test]
fn prints_url_serves_and_exits_on_stdin_eof() {
    let (mut child, url) = spawn(&[
        "--exit-on-stdin-eof",
        "--app-id",
        "bin-id",
        "--secret-key",
        "bin-key",
    ]);
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
