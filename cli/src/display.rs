//! What a revoke shows while it runs: a progress bar on a terminal, lines
//! otherwise, and the rate-limit pause in either.

use std::io::IsTerminal;
use std::time::{Duration, Instant, UNIX_EPOCH};

use chrono::{Local, TimeZone};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use voucherify::Client;

use crate::revoke::Tally;

/// How often the line-based progress prints when stderr is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(2);

/// A Unix time as local wall-clock time.
pub fn local_time(unix_secs: i64, format: &str) -> String {
    match Local.timestamp_opt(unix_secs, 0).single() {
        Some(t) => t.format(format).to_string(),
        None => format!("{unix_secs} (Unix time)"),
    }
}

/// Until when the client holds requests back for the rate limit, if it
/// does (the library's shared pause: a 429's `Retry-After`, or no calls
/// left until `X-Rate-Limit-Retry`), in Unix seconds: the second in which
/// it ends, as a clock shows it.
pub fn paused_until(client: &Client) -> Option<i64> {
    let until = client.paused_until()?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(until.as_secs()).ok()
}

pub enum Progress {
    Bar(ProgressBar),
    Lines {
        started: Instant,
        last: Option<Instant>,
        /// The pause the last line showed: a new one is shown at once.
        last_pause: Option<i64>,
        total: usize,
    },
}

impl Progress {
    /// A bar when stderr is a terminal, else lines.
    pub fn new(total: usize) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress::Lines {
                started: Instant::now(),
                last: None,
                last_pause: None,
                total,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} {per_sec:.dim} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message("revoked 0, not found 0, failed 0");
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress::Bar(bar)
    }

    /// Shows the tally (and the pause, if any); lines at most every
    /// [`LINE_INTERVAL`] unless `force`.
    pub fn show(&mut self, tally: &Tally, paused_until: Option<i64>, force: bool) {
        let pause = paused_until.map(|at| format!(" | paused by the rate limit until {}", local_time(at, "%H:%M:%S")));
        let counts = format!(
            "revoked {}, not found {}, failed {}",
            tally.revoked, tally.not_found, tally.failed
        );
        match self {
            Progress::Bar(bar) => {
                bar.set_position(tally.done() as u64);
                bar.set_message(format!("{counts}{}", pause.unwrap_or_default()));
            }
            Progress::Lines {
                started,
                last,
                last_pause,
                total,
            } => {
                let due = last.is_none_or(|t| t.elapsed() >= LINE_INTERVAL);
                if !force && !due && *last_pause == paused_until {
                    return;
                }
                *last = Some(Instant::now());
                *last_pause = paused_until;
                let elapsed = started.elapsed().as_secs_f64();
                let rate = tally.done() as f64 / elapsed.max(0.001);
                let left = total.saturating_sub(tally.done()) as f64;
                let eta = match rate > 0.0 {
                    true => format!("{:.0}s", left / rate),
                    false => "unknown".to_owned(),
                };
                eprintln!(
                    "voucherify-token: {}/{} done: {counts}; {rate:.1}/s, ETA {eta}{}",
                    tally.done(),
                    total,
                    pause.unwrap_or_default()
                );
            }
        }
    }

    /// Prints a line without tearing the bar.
    pub fn println(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.println(line),
            Progress::Lines { .. } => eprintln!("{line}"),
        }
    }

    /// Leaves the final bar on screen.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}
