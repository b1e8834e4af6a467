//! Many threads on one client through a mix of good calls and faults: every
//! outcome is the one its fault implies, and memory stays flat.
//!
//! VF_STRESS_CALLS sets the calls per thread (default 250), for a longer
//! run: `VF_STRESS_CALLS=5000 cargo test --release --test stress`.

use std::sync::Arc;
use std::time::Instant;

use vf_standin::{Options, StandIn};
use voucherify::{Client, Config, Status};

const THREADS: usize = 16;
/// Growth allowed from after the first round to the end. The stand-in keeps
/// every token it minted (about +10 MiB over 32 000 calls in --release); with
/// no minted tokens the measured growth is 0, so a leak of even a few bytes
/// per call shows with VF_STRESS_CALLS raised.
const MAX_GROWTH: u64 = 16 * 1024 * 1024;

/// What each kind of call sends and must get back.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// A freshly minted token: revoked.
    Real,
    /// A token that was never minted: 404.
    Unknown,
    /// 503 on every attempt: retried, then a server error.
    Unavailable,
    /// 500: a server error at once.
    Broken,
    /// The connection is dropped unanswered on every attempt.
    Close,
}

impl Call {
    fn nth(i: usize) -> Call {
        // Mostly good calls, with a fault in every other one or so.
        [
            Call::Real,
            Call::Unavailable,
            Call::Real,
            Call::Broken,
            Call::Unknown,
            Call::Real,
            Call::Close,
        ][i % 7]
    }

    fn expected(self) -> Result<(), Status> {
        match self {
            Call::Real => Ok(()),
            Call::Unknown => Err(Status::TokenNotFound),
            Call::Unavailable | Call::Broken => Err(Status::ServerError),
            Call::Close => Err(Status::ConnectionFailed),
        }
    }
}

/// Runs `calls` calls on each of THREADS threads, checking every outcome.
fn round(server: &StandIn, client: &Arc<Client>, calls: usize) {
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for i in 0..calls {
                    let call = Call::nth(t + i);
                    let token = match call {
                        Call::Real => server.mint_token("api"),
                        Call::Unknown => format!("never-minted-{t}-{i}"),
                        Call::Unavailable => "fault-status-503".to_owned(),
                        Call::Broken => "fault-status-500".to_owned(),
                        Call::Close => "fault-close".to_owned(),
                    };
                    let outcome = client.revoke_token(&token).map_err(|e| e.status);
                    assert_eq!(outcome, call.expected(), "thread {t} call {i}: {call:?}");
                }
            });
        }
    });
}

/// Resident memory of this process, from /proc/self/statm (in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn sixteen_threads_through_faults_with_flat_memory() {
    let calls: usize = std::env::var("VF_STRESS_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    let server = StandIn::start(Options::default()).expect("stand-in starts");
    let mut config = Config::new();
    config.set_app_id(server.app_id()).unwrap();
    config.set_secret_key(server.secret_key()).unwrap();
    config.set_base_url(&server.base_url()).unwrap();
    config.set_max_attempts(2).unwrap();
    config.set_retry_base_delay_ms(1);
    // Short, so that a wait the stand-in asks for once its per-minute
    // budget is spent (X-Rate-Limit-Retry) is skipped, not slept.
    config.set_timeout_ms(2_000).unwrap();
    let client = Arc::new(Client::new(&config).unwrap());

    // The stand-in runs in this process and logs every request: clearing
    // its log after each round keeps it from passing for a leak.
    let rounds = 5;
    let per_round = (calls / rounds).max(1);
    let mut requests = 0;
    let mut run_round = || {
        round(&server, &client, per_round);
        requests += server.request_count();
        server.reset_log();
    };

    // The first round grows the pools, arenas and caches to their working size.
    let started = Instant::now();
    run_round();
    let before = rss_bytes();
    (1..rounds).for_each(|_| run_round());
    let after = rss_bytes();
    let took = started.elapsed();

    let total = rounds * THREADS * per_round;
    let growth = after.saturating_sub(before);
    eprintln!(
        "stress: {total} calls on {THREADS} threads in {took:.1?}; RSS {:.1} MiB after the first round, {:.1} MiB at the end (+{:.1} MiB)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        growth as f64 / 1048576.0,
    );
    assert!(growth < MAX_GROWTH, "memory grew by {growth} bytes");
    // Every call reached the server; only the retried faults may have sent twice.
    let retried_per_round = (0..THREADS)
        .flat_map(|t| (0..per_round).map(move |i| Call::nth(t + i)))
        .filter(|c| matches!(c, Call::Unavailable | Call::Close))
        .count();
    assert!(
        requests >= total && requests <= total + rounds * retried_per_round,
        "{requests} requests for {total} calls"
    );
}
