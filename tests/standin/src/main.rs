//! `vf-standin`: runs the stand-in as a process, for C and Python tests.
//!
//! Prints `VF_STANDIN_URL=http://127.0.0.1:PORT` (`https://` with `--tls`) once, then
//! serves until SIGTERM, SIGINT, or (with `--exit-on-stdin-eof`) end of standard input.

use std::io::Write;
use std::process::ExitCode;

use vf_standin::{ErrorBodies, Options, StandIn};

const USAGE: &str = "usage: vf-standin [--port N] [--app-id ID] [--secret-key KEY] \
[--token-lifetime SECS] [--latency-ms MS] [--exit-on-stdin-eof] [--tls [--ca-out PATH]]
  [--rate-limit CALLS/SECS] [--rate-limit-type TYPE] [--no-retry-after] [--cycle-calls N]
  [--plan-calls N] [--idle-close-ms MS] [--error-bodies spec|full]
  --latency-ms delays every /v1/ answer, like a server across a network.
  --rate-limit allows CALLS per window of SECS (default 1000000/60), counting every
  call; past it calls are answered 429 with Retry-After (unless --no-retry-after) and
  X-Rate-Limit-Remaining: 0 until the window ends. --rate-limit-type sets
  X-Rate-Limit-Type (default api_calls). --cycle-calls and --plan-calls allow N calls
  in the billing cycle (then 429 with type api_calls_cycle) or the plan (then 402).
  --idle-close-ms closes kept-alive connections idle that long, as load balancers do.
  --error-bodies full adds details and a request id to the stand-in's 400 bodies,
  which by default have only code, key and message, as in the spec's examples.
  All of these can be changed later: GET or POST /_standin/behaviour (JSON);
  POST /_standin/reset goes back to what the flags said.
  --tls serves HTTPS with a certificate from a fresh CA; --ca-out writes that CA's PEM
  to PATH before the URL line is printed.
  --app-id and --secret-key default to $VF_STANDIN_APP_ID / $VF_STANDIN_SECRET_KEY,
  then to standin-app-id / standin-secret-key. --port 0 (the default) picks a free port.";

struct Args {
    options: Options,
    exit_on_stdin_eof: bool,
    ca_out: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut options = Options::default();
    if let Ok(id) = std::env::var("VF_STANDIN_APP_ID") {
        options.app_id = id;
    }
    if let Ok(key) = std::env::var("VF_STANDIN_SECRET_KEY") {
        options.secret_key = key;
    }
    let mut exit_on_stdin_eof = false;
    let mut ca_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => options.port = value()?.parse().map_err(|_| "bad --port")?,
            "--app-id" => options.app_id = value()?,
            "--secret-key" => options.secret_key = value()?,
            "--token-lifetime" => options.token_lifetime_secs = value()?.parse().map_err(|_| "bad --token-lifetime")?,
            "--latency-ms" => options.latency_ms = value()?.parse().map_err(|_| "bad --latency-ms")?,
            "--rate-limit" => {
                let rule = &mut options.behaviour.rate_limit;
                (rule.calls, rule.window_secs) = value()?
                    .split_once('/')
                    .and_then(|(calls, secs)| Some((calls.parse().ok()?, secs.parse().ok()?)))
                    .filter(|(_, secs)| *secs > 0)
                    .ok_or("bad --rate-limit (expected CALLS/SECS, e.g. 100/60)")?;
            }
            "--rate-limit-type" => options.behaviour.rate_limit.kind = value()?,
            "--no-retry-after" => options.behaviour.rate_limit.retry_after = false,
            "--cycle-calls" => options.behaviour.cycle_calls = Some(value()?.parse().map_err(|_| "bad --cycle-calls")?),
            "--plan-calls" => options.behaviour.plan_calls = Some(value()?.parse().map_err(|_| "bad --plan-calls")?),
            "--idle-close-ms" => {
                options.behaviour.idle_close_ms = Some(value()?.parse().map_err(|_| "bad --idle-close-ms")?)
            }
            "--error-bodies" => {
                options.behaviour.error_bodies = match value()?.as_str() {
                    "spec" => ErrorBodies::Spec,
                    "full" => ErrorBodies::Full,
                    _ => return Err("bad --error-bodies (spec or full)".to_string()),
                }
            }
            "--exit-on-stdin-eof" => exit_on_stdin_eof = true,
            "--tls" => options.tls = true,
            "--ca-out" => ca_out = Some(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if ca_out.is_some() && !options.tls {
        return Err("--ca-out needs --tls".to_string());
    }
    Ok(Args {
        options,
        exit_on_stdin_eof,
        ca_out,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("vf-standin: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let standin = match StandIn::start(args.options) {
        Ok(standin) => standin,
        Err(e) => {
            eprintln!("vf-standin: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };

    if let (Some(path), Some(pem)) = (&args.ca_out, standin.ca_pem()) {
        if let Err(e) = std::fs::write(path, pem) {
            eprintln!("vf-standin: cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
    }

    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "VF_STANDIN_URL={}", standin.base_url());
    let _ = stdout.flush();

    if let Err(e) = wait_for_stop(args.exit_on_stdin_eof) {
        eprintln!("vf-standin: {e}");
    }
    drop(standin);
    ExitCode::SUCCESS
}

/// Blocks until a termination signal or, if asked, end of standard input.
fn wait_for_stop(watch_stdin: bool) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
        // Holding the sender unused keeps the receiver pending.
        let _unused_tx = if watch_stdin {
            // Blocking read on its own thread: stdin EOF means our parent is gone.
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = eof_tx.send(());
            });
            None
        } else {
            Some(eof_tx)
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate() => {}
            _ = eof_rx => {}
        }
    });
    Ok(())
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}
