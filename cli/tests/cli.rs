//! `voucherify-token` end to end: the built binary against the stand-in,
//! its output read the way a script or a person reads it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use vf_standin::{Behaviour, Fault, Options, RateLimitRule, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_voucherify-token");

fn standin(latency_ms: u64) -> StandIn {
    StandIn::start(Options {
        latency_ms,
        ..Options::default()
    })
    .expect("stand-in starts")
}

/// The tool, configured for `server` through the environment.
fn tool(server: &StandIn) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("VOUCHERIFY_APP_ID", server.app_id())
        .env("VOUCHERIFY_SECRET_KEY", server.secret_key())
        .env("VOUCHERIFY_API_URL", server.base_url())
        .env_remove("VOUCHERIFY_CLUSTER")
        .stdin(Stdio::null());
    command
}

fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the tool starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Neither the secret key nor any whole token appears in the output.
fn assert_nothing_secret(output: &Output, server: &StandIn, tokens: &[String]) {
    for stream in [&output.stdout, &output.stderr] {
        let shown = text(stream);
        assert!(!shown.contains(server.secret_key()), "the secret key was printed");
        for token in tokens {
            assert!(!shown.contains(token.as_str()), "a whole token was printed");
        }
    }
}

/// Every stdout line as JSON: the per-token objects and the summary.
fn json_lines(output: &Output) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    (lines, summary["summary"].clone())
}

fn mint(server: &StandIn, n: usize) -> Vec<String> {
    (0..n).map(|_| server.mint_token("api")).collect()
}

fn temp_path(name: &str) -> PathBuf {
    let unique = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("voucherify-token-test-{}-{unique}-{name}", std::process::id()))
}

#[test]
fn revokes_500_tokens_from_stdin_at_parallel_8() {
    let server = standin(0);
    let tokens = mint(&server, 500);
    // Blank lines, comments and repeats are skipped.
    let mut input = String::from("# leaked on Monday\n\n");
    for token in &tokens {
        input.push_str(&format!("  {token}  \n"));
    }
    input.push_str(&format!("{}\n{}\n", tokens[0], tokens[499]));
    let mut command = tool(&server);
    command.args(["revoke", "--json", "--parallel", "8", "-"]);
    let output = run_with_stdin(command, &input);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (lines, summary) = json_lines(&output);
    assert_eq!(lines.len(), 500);
    assert!(lines.iter().all(|l| l["result"] == "revoked"));
    let mut indexes: Vec<u64> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..500).collect::<Vec<_>>());
    // Each token is shown by its first 6 characters only.
    assert_eq!(lines[0]["token"].as_str().unwrap().chars().count(), 7);
    assert_eq!(summary["revoked"], 500);
    assert_eq!(summary["duplicates_skipped"], 2);
    assert_eq!(server.request_count(), 500);
    assert_nothing_secret(&output, &server, &tokens);
}

#[test]
fn a_mix_of_outcomes_exits_1_with_counts_matching_the_standin() {
    let server = standin(0);
    let good = mint(&server, 20);
    let unknown: Vec<String> = (0..5).map(|i| format!("unknown-token-{i}")).collect();
    // Answers that are not retried: each costs one request.
    let failing = [
        "fault-status-500",
        "fault-status-400",
        "fault-status-403",
        "fault-status-500-html",
        "fault-status-401",
    ];
    let file = temp_path("mix");
    let mut lines: Vec<String> = good.clone();
    lines.extend(unknown.iter().cloned());
    lines.extend(failing.iter().map(|s| s.to_string()));
    std::fs::write(&file, lines.join("\n")).unwrap();
    let output = tool(&server).args(["revoke", "--file"]).arg(&file).output().unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("30 tokens: revoked 20, not found 5, failed 5, not attempted 0"),
        "{stdout}"
    );
    // One line per failure on stderr, with its status.
    let stderr = text(&output.stderr);
    assert_eq!(stderr.matches("VF_STATUS_").count(), 5, "{stderr}");
    assert!(stderr.contains("VF_STATUS_UNAUTHORIZED") && stderr.contains("VF_STATUS_SERVER_ERROR"));
    assert_eq!(server.request_count(), 30);
    // The 20 are gone: the stand-in says so.
    let client = voucherify::Client::new(&config_for(&server)).unwrap();
    for token in &good {
        assert!(matches!(
            client.introspect_token(token),
            Ok(voucherify::Introspection::Inactive)
        ));
    }
    assert_nothing_secret(&output, &server, &good);
}

fn config_for(server: &StandIn) -> voucherify::Config {
    let mut config = voucherify::Config::new();
    config.set_app_id(server.app_id()).unwrap();
    config.set_secret_key(server.secret_key()).unwrap();
    config.set_base_url(&server.base_url()).unwrap();
    config
}

#[test]
fn ctrl_c_writes_what_was_not_revoked_and_feeding_it_back_revokes_the_rest() {
    // 300 tokens, 2 at a time, 30 ms each: about 4.5 s, stopped after 1 s.
    let server = standin(30);
    let tokens = mint(&server, 300);
    let remaining = temp_path("remaining");
    let mut command = tool(&server);
    command
        .args(["revoke", "--json", "--parallel", "2", "--remaining-to"])
        .arg(&remaining)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(tokens.join("\n").as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let (lines, summary) = json_lines(&output);
    assert_eq!(lines.len(), 300, "one line per token, sent or not");
    let revoked = summary["revoked"].as_u64().unwrap() as usize;
    let not_attempted = summary["not_attempted"].as_u64().unwrap() as usize;
    assert!(revoked > 0 && not_attempted > 0, "{summary}");
    assert_eq!(revoked + not_attempted, 300, "{summary}");
    // Sent is revoked: nothing was sent without being reported.
    assert_eq!(server.request_count(), revoked);
    let left = std::fs::read_to_string(&remaining).unwrap();
    assert_eq!(left.lines().count(), not_attempted);
    assert_eq!(summary["remaining"], not_attempted);
    assert!(text(&output.stderr).contains("interrupted"));
    assert_nothing_secret(&output, &server, &tokens);

    // The list feeds back in: the rest is revoked, none was gone already.
    let again = tool(&server)
        .args(["revoke", "--json", "--file"])
        .arg(&remaining)
        .output()
        .unwrap();
    std::fs::remove_file(&remaining).unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let (_, summary) = json_lines(&again);
    assert_eq!(summary["revoked"].as_u64().unwrap() as usize, not_attempted);
    assert_eq!(summary["not_found"], 0);
    assert_eq!(server.request_count(), 300);
}

#[test]
fn a_rate_limit_pause_shows_in_the_progress_lines() {
    let server = standin(0);
    let tokens = mint(&server, 40);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let retry_at = (now + 3).to_string();
    // The project's calls are spent until retry_at: one answer says so.
    server.push_faults(vec![Fault::Respond {
        status: 429,
        headers: vec![
            ("X-Rate-Limit-Limit".into(), "100".into()),
            ("X-Rate-Limit-Remaining".into(), "0".into()),
            ("X-Rate-Limit-Retry".into(), retry_at.clone()),
            ("Retry-After".into(), "3".into()),
        ],
        body: String::new(),
    }]);
    let mut command = tool(&server);
    command.args(["revoke", "--parallel", "1", "-"]);
    let started = Instant::now();
    let output = run_with_stdin(command, &tokens.join("\n"));
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let until = chrono_free_local_hms(retry_at.parse().unwrap());
    assert!(
        stderr.contains(&format!("paused by the rate limit until {until}")),
        "{stderr}"
    );
    // The wait the server asked for, and not much more.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(text(&output.stdout).contains("revoked 40"));
    assert_eq!(server.request_count(), 41);
}

#[test]
fn a_pause_asked_for_by_retry_after_alone_shows_too() {
    // A 429 with Retry-After and no X-Rate-Limit-* headers (a gateway's,
    // say) pauses the whole client: the progress says so.
    let server = standin(0);
    let tokens = mint(&server, 10);
    server.push_faults(vec![Fault::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "2".into())],
        body: String::new(),
    }]);
    let mut command = tool(&server);
    command.args(["revoke", "--parallel", "2", "-"]);
    let output = run_with_stdin(command, &tokens.join("\n"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("paused by the rate limit until "), "{stderr}");
    assert_eq!(server.request_count(), 11);
}

#[test]
fn a_real_rate_limit_paces_the_run_within_its_allowance_and_the_pause_shows() {
    // 25 calls per 2 s window; 100 tokens need 4 windows' calls, so the run
    // crosses 3 window boundaries: more than 4 s, at most 6 s plus slack.
    let server = StandIn::start(Options {
        behaviour: Behaviour {
            rate_limit: RateLimitRule {
                calls: 25,
                window_secs: 2,
                ..RateLimitRule::default()
            },
            ..Behaviour::default()
        },
        ..Options::default()
    })
    .unwrap();
    let tokens = mint(&server, 100);
    let mut command = tool(&server);
    command.args(["revoke", "--json", "--parallel", "4", "-"]);
    let started = Instant::now();
    let output = run_with_stdin(command, &tokens.join("\n"));
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (_, summary) = json_lines(&output);
    assert_eq!(summary["revoked"], 100, "{summary}");
    assert!(
        took > Duration::from_millis(3900) && took < Duration::from_millis(6000 + 2500),
        "{took:?} for 100 calls at 25 per 2 s"
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("paused by the rate limit until "), "{stderr}");
    eprintln!(
        "{took:?}, {} refused by the limit; progress:\n{stderr}",
        server.refused_by_limit()
    );
}

/// HH:MM:SS of a Unix time in the local zone, as `date` prints it.
fn chrono_free_local_hms(unix: i64) -> String {
    let out = Command::new("date")
        .args(["-d", &format!("@{unix}"), "+%H:%M:%S"])
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn the_progress_bar_as_a_person_sees_it_in_a_terminal() {
    // 200 tokens, 2 at a time, 30 ms each: about 3 s to watch.
    let server = standin(30);
    let tokens = mint(&server, 200);
    let dir = temp_path("tmux");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("tokens"), tokens.join("\n")).unwrap();
    std::fs::write(dir.join("key"), server.secret_key()).unwrap();
    let script = format!(
        "{BIN} --app-id {} --secret-key-file {} --base-url {} revoke --parallel 2 --file {}; echo exit=$?; sleep 60\n",
        server.app_id(),
        dir.join("key").display(),
        server.base_url(),
        dir.join("tokens").display()
    );
    std::fs::write(dir.join("run.sh"), script).unwrap();
    let session = format!("vftoken{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is installed (make test installs it)")
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "10",
        "bash",
        &dir.join("run.sh").display().to_string(),
    ]);
    assert!(started.status.success(), "{}", text(&started.stderr));
    let capture = || text(&tmux(&["capture-pane", "-p", "-t", &session]).stdout);
    let mut mid_run = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut screen = String::new();
    while Instant::now() < deadline {
        screen = capture();
        // Part-way: some tokens done, not all.
        let part_way = screen
            .lines()
            .any(|l| l.contains("/200 revoked") && !l.contains(" 0/200") && !l.contains("200/200"));
        if mid_run.is_none() && part_way {
            mid_run = Some(screen.clone());
        }
        if screen.contains("exit=") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = tmux(&["kill-session", "-t", &session]);
    std::fs::remove_dir_all(&dir).unwrap();
    let mid_run = mid_run.unwrap_or_else(|| panic!("no progress bar seen mid-run; last screen:\n{screen}"));
    eprintln!("the pane part-way:\n{mid_run}\nand at the end:\n{screen}");
    // A bar, done/total, the counts, a rate and an ETA on one line.
    let bar_line = mid_run.lines().find(|l| l.contains("/200 revoked")).unwrap();
    assert!(bar_line.contains('[') && bar_line.contains(']'), "{bar_line}");
    assert!(
        bar_line.contains("revoked") && bar_line.contains("not found 0, failed 0"),
        "{bar_line}"
    );
    assert!(bar_line.contains("/s") && bar_line.contains("ETA"), "{bar_line}");
    // At the end: the full bar and the summary, one of each.
    assert!(
        screen.contains("200/200 revoked 200, not found 0, failed 0"),
        "{screen}"
    );
    assert!(screen.contains("200 tokens: revoked 200"), "{screen}");
    assert!(screen.contains("exit=0"), "{screen}");
    assert_eq!(
        screen.matches("/200").count(),
        1,
        "the bar was redrawn in place:\n{screen}"
    );
    assert!(!screen.contains(server.secret_key()));
}

#[test]
fn show_tokens_shows_whole_tokens_and_only_then() {
    let server = standin(0);
    let tokens = mint(&server, 3);
    let mut command = tool(&server);
    command.args(["revoke", "--json", "--show-tokens", "-"]);
    let output = run_with_stdin(command, &tokens.join("\n"));
    assert_eq!(output.status.code(), Some(0));
    let (lines, _) = json_lines(&output);
    let mut shown: Vec<&str> = lines.iter().map(|l| l["token"].as_str().unwrap()).collect();
    shown.sort_unstable();
    let mut expected: Vec<&str> = tokens.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(shown, expected);
}

#[test]
fn mint_introspect_and_header() {
    let server = standin(0);
    let minted = tool(&server).args(["mint", "--scope", "api"]).output().unwrap();
    assert_eq!(minted.status.code(), Some(0), "{}", text(&minted.stderr));
    assert!(text(&minted.stderr).contains("1000 live tokens"));
    let token = text(&minted.stdout).trim().to_owned();
    assert_eq!(token.len(), 50);

    let json = tool(&server)
        .args(["mint", "--scope", "vouchers campaigns", "--json"])
        .output()
        .unwrap();
    let object: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(object["scope"], "vouchers campaigns");
    assert_eq!(object["expires_in"], 900);

    let mut command = tool(&server);
    command.args(["introspect", "-"]);
    let active = run_with_stdin(command, &format!("{token}\n"));
    assert_eq!(active.status.code(), Some(0), "{}", text(&active.stderr));
    assert!(text(&active.stdout).starts_with("active\nscope: api\nexpires: "));
    assert_nothing_secret(&active, &server, std::slice::from_ref(&token));

    let header = tool(&server).args(["header", "--scope", "api"]).output().unwrap();
    let header = text(&header.stdout);
    assert!(
        header.starts_with("Authorization: Bearer ") && header.trim().len() == 22 + 50,
        "{header}"
    );

    let revoked = tool(&server).args(["revoke", &token]).output().unwrap();
    assert_eq!(revoked.status.code(), Some(0));
    let inactive = tool(&server).args(["introspect", "--json", &token]).output().unwrap();
    assert_eq!(inactive.status.code(), Some(3));
    assert_eq!(
        serde_json::from_slice::<Value>(&inactive.stdout).unwrap(),
        serde_json::json!({"active": false})
    );
    // Revoking it again: already gone is success.
    let again = tool(&server).args(["revoke", &token]).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stdout).contains("not found 1"));
}

#[test]
fn usage_and_configuration_errors_exit_2_and_send_nothing() {
    let server = standin(0);
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (vec!["revoke"], None, "no tokens"),
        (vec!["revoke", "--secret-key", "x", "t"], None, "unexpected argument"),
        (vec!["revoke", "--parallel", "0", "t"], None, "--parallel"),
        (vec!["revoke", "t"], Some("VOUCHERIFY_SECRET_KEY"), "no secret key"),
        (
            vec!["--cluster", "mars", "mint", "--scope", "api"],
            None,
            "unknown cluster",
        ),
        (
            vec!["--secret-key-file", "/nonexistent/key", "mint", "--scope", "api"],
            None,
            "cannot read the secret key file",
        ),
        (vec!["revoke", "--file", "/nonexistent/tokens"], None, "cannot read"),
        (
            vec!["revoke", "--remaining-to", "/nonexistent/dir/left", "t"],
            None,
            "cannot create",
        ),
        (
            vec!["--base-url", "http://example.com", "mint", "--scope", "api"],
            None,
            "refusing plain http",
        ),
    ];
    for (args, unset, expected) in cases {
        let mut command = tool(&server);
        if let Some(name) = unset {
            command.env_remove(name);
        }
        let output = command.args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains(expected),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(!text(&output.stderr).contains(server.secret_key()));
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn help_man_page_and_completions_come_from_one_definition() {
    let help = Command::new(BIN).args(["revoke", "--help"]).output().unwrap();
    let help = text(&help.stdout);
    assert!(help.contains("show in `ps`") && help.contains("Examples:") && help.contains("--remaining-to"));
    let top = text(&Command::new(BIN).arg("--help").output().unwrap().stdout);
    assert!(top.contains("Exit codes:") && top.contains("130"));
    let man = text(&Command::new(BIN).arg("man").output().unwrap().stdout);
    assert!(
        man.starts_with(".ie") || man.contains(".TH voucherify-token"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("secret\\-key\\-file") || man.contains("secret-key-file"));
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef voucherify-token"),
        ("fish", "complete -c voucherify-token"),
    ] {
        let script = text(&Command::new(BIN).args(["completions", shell]).output().unwrap().stdout);
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("remaining-to"), "{shell}");
    }
}
