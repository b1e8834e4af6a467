//! `revoke`: many tokens at once, with progress, a summary, and a clean
//! stop on Ctrl-C that lists what was not revoked.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use voucherify::{Client, Error, Status};

use crate::config::ConnectionArgs;
use crate::display::{paused_until, Progress};
use crate::{exit, print_line, shown_path, Failure};

const EXAMPLES: &str = "\
Tokens on a command line show in `ps` and in shell history: give them on
standard input (-) or in a file (--file) instead.

Examples:
  voucherify-token revoke - < leaked-tokens.txt
  voucherify-token revoke --file leaked.txt --parallel 8 --remaining-to left.txt
  voucherify-token revoke --file left.txt          # what Ctrl-C left over
  voucherify-token revoke --json - < leaked.txt | jq -c 'select(.result == \"failed\")'";

/// Revoke access tokens, many at once.
///
/// Tokens come from the arguments, from --file, or from standard input
/// (-), one per line; blank lines and lines starting with # are skipped,
/// and a token given twice is revoked once. A token that is already gone
/// (unknown, expired or revoked) counts as not found, which is success.
/// The requests are paced by the library's handling of Voucherify's rate
/// limit. Ctrl-C stops sending: requests in flight finish, the rest is
/// reported as not attempted (and written to --remaining-to); a second
/// Ctrl-C quits at once.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct RevokeArgs {
    /// Tokens to revoke, or - to read them from standard input.
    #[arg(value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Read tokens from this file, one per line.
    #[arg(long, short, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, short, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=32))]
    parallel: u32,
    /// One JSON object per token on stdout as it finishes, then a summary
    /// object.
    #[arg(long)]
    json: bool,
    /// Show whole tokens in the output (by default only their first 6
    /// characters).
    #[arg(long)]
    show_tokens: bool,
    /// Write the tokens not revoked because of Ctrl-C (not attempted, or
    /// stopped while waiting to retry) to this file, to feed back in with
    /// --file. Created (mode 0600) before anything is sent.
    #[arg(long, value_name = "PATH")]
    remaining_to: Option<PathBuf>,
}

/// How the tokens have fared so far.
#[derive(Default, Debug)]
pub struct Tally {
    pub revoked: usize,
    pub not_found: usize,
    pub failed: usize,
    /// Sent, then stopped by Ctrl-C while waiting to retry: not revoked.
    pub interrupted: usize,
    pub not_attempted: usize,
}

impl Tally {
    /// Tokens with an answer (or a stop while waiting for one).
    pub fn done(&self) -> usize {
        self.revoked + self.not_found + self.failed + self.interrupted
    }
}

/// What one token's outcome counts as, by its name in `--json`.
fn result_of(outcome: &Result<(), Error>) -> &'static str {
    match outcome {
        Ok(()) => "revoked",
        Err(e) if e.status == Status::TokenNotFound => "not_found",
        Err(e) if e.status == Status::Cancelled && e.attempts == 0 => "not_attempted",
        Err(e) if e.status == Status::Cancelled => "interrupted",
        Err(_) => "failed",
    }
}

impl Tally {
    fn count(&mut self, result: &str) {
        match result {
            "revoked" => self.revoked += 1,
            "not_found" => self.not_found += 1,
            "not_attempted" => self.not_attempted += 1,
            "interrupted" => self.interrupted += 1,
            _ => self.failed += 1,
        }
    }
}

/// A token as output shows it: its first 6 characters unless asked.
fn shown(token: &str, whole: bool) -> String {
    if whole {
        return token.to_owned();
    }
    // Never the whole of a short token either.
    let keep = 6.min(token.chars().count().saturating_sub(1));
    format!("{}…", token.chars().take(keep).collect::<String>())
}

/// The tokens to revoke, in order, each once; and how many repeats were
/// dropped.
fn read_tokens(args: &RevokeArgs) -> Result<(Vec<String>, usize), Failure> {
    if args.tokens.is_empty() && args.file.is_none() {
        return Err(Failure::usage(
            "no tokens: give them as arguments, with --file PATH, or on standard input with -",
        ));
    }
    let mut lines = Vec::new();
    for token in &args.tokens {
        if token == "-" {
            lines.extend(read_lines(std::io::stdin().lock(), "standard input")?);
        } else {
            lines.push(token.clone());
        }
    }
    if let Some(path) = &args.file {
        let file = File::open(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", shown_path(path))))?;
        lines.extend(read_lines(BufReader::new(file), &shown_path(path))?);
    }
    let mut seen = HashSet::new();
    let mut tokens = Vec::new();
    let mut duplicates = 0;
    for line in lines {
        let token = line.trim();
        if token.is_empty() || token.starts_with('#') {
            continue;
        }
        if seen.insert(token.to_owned()) {
            tokens.push(token.to_owned());
        } else {
            duplicates += 1;
        }
    }
    Ok((tokens, duplicates))
}

fn read_lines(reader: impl BufRead, what: &str) -> Result<Vec<String>, Failure> {
    reader
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::usage(format!("cannot read {what}: {e}")))
}

/// The file for `--remaining-to`, made before anything is sent so that a
/// bad path is a usage error rather than a list lost at the end.
fn create_private(path: &PathBuf) -> Result<File, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", shown_path(path))))
}

/// What the progress callback and the ticker thread share.
struct Live {
    tally: Tally,
    progress: Progress,
}

pub fn run(connection: &ConnectionArgs, args: RevokeArgs) -> Result<u8, Failure> {
    let (tokens, duplicates) = read_tokens(&args)?;
    let mut remaining_file = args.remaining_to.as_ref().map(create_private).transpose()?;
    let client = Arc::new(connection.client()?);
    let interrupted = Arc::new(AtomicBool::new(false));
    watch_ctrl_c(&client, &interrupted)?;

    let started = Instant::now();
    let live = Mutex::new(Live {
        tally: Tally::default(),
        progress: Progress::new(tokens.len()),
    });
    let finished = AtomicBool::new(false);
    let lock = || live.lock().unwrap_or_else(PoisonError::into_inner);
    let outcomes = std::thread::scope(|scope| {
        // Redraws while no token finishes, as during a rate-limit pause.
        scope.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let live = &mut *lock();
                live.progress.show(&live.tally, paused_until(&client), false);
            }
        });
        let outcomes = client.revoke_tokens_with_progress(&tokens, args.parallel as usize, |i, outcome| {
            let result = result_of(outcome);
            let live = &mut *lock();
            live.tally.count(result);
            report(&live.progress, &args, i, &tokens[i], result, outcome);
            live.progress.show(&live.tally, paused_until(&client), false);
            ControlFlow::Continue(())
        });
        finished.store(true, Ordering::Relaxed);
        outcomes
    });

    let Live {
        mut tally,
        mut progress,
    } = live.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut remaining = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let result = result_of(outcome);
        if result == "not_attempted" {
            tally.count(result);
            report(&progress, &args, i, &tokens[i], result, outcome);
        }
        if matches!(result, "not_attempted" | "interrupted") {
            remaining.push(tokens[i].as_str());
        }
    }
    progress.show(&tally, None, true);
    progress.finish();
    if let (Some(file), Some(path)) = (&mut remaining_file, &args.remaining_to) {
        let text: String = remaining.iter().map(|t| format!("{t}\n")).collect();
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", shown_path(path))))?;
    }
    summarise(
        &args,
        &tally,
        tokens.len(),
        duplicates,
        started.elapsed(),
        remaining.len(),
    );

    let stopped = interrupted.load(Ordering::SeqCst) && !remaining.is_empty();
    Ok(match () {
        _ if stopped => exit::INTERRUPTED,
        _ if tally.failed > 0 => exit::FAILED,
        _ => exit::OK,
    })
}

/// Ctrl-C once: send nothing more, end waits, report. Twice: quit now.
fn watch_ctrl_c(client: &Arc<Client>, interrupted: &Arc<AtomicBool>) -> Result<(), Failure> {
    let (client, interrupted) = (Arc::clone(client), Arc::clone(interrupted));
    ctrlc::set_handler(move || {
        if interrupted.swap(true, Ordering::SeqCst) {
            eprintln!("voucherify-token: interrupted again: quitting at once");
            std::process::exit(exit::INTERRUPTED.into());
        }
        eprintln!("voucherify-token: interrupted: sending no more tokens (Ctrl-C again to quit at once)");
        client.cancel();
    })
    .map_err(|e| Failure::usage(format!("cannot watch for Ctrl-C: {e}")))
}

/// One token's line: JSON on stdout with --json, else failures on stderr.
fn report(
    progress: &Progress,
    args: &RevokeArgs,
    index: usize,
    token: &str,
    result: &str,
    outcome: &Result<(), Error>,
) {
    let token = shown(token, args.show_tokens);
    if args.json {
        let mut object = json!({ "index": index, "token": token, "result": result });
        if let Err(e) = outcome {
            object["status"] = e.status.to_string().into();
            object["http_status"] = e.http_status.into();
            object["attempts"] = e.attempts.into();
            object["message"] = e.message.clone().into();
        }
        print_line(&object.to_string());
    } else if result == "failed" {
        if let Err(e) = outcome {
            progress.println(&format!("voucherify-token: {token}: {e}"));
        }
    }
}

fn summarise(args: &RevokeArgs, tally: &Tally, total: usize, duplicates: usize, took: Duration, remaining: usize) {
    if args.json {
        let mut summary = json!({
            "total": total,
            "revoked": tally.revoked,
            "not_found": tally.not_found,
            "failed": tally.failed,
            "interrupted": tally.interrupted,
            "not_attempted": tally.not_attempted,
            "duplicates_skipped": duplicates,
            "seconds": (took.as_secs_f64() * 1000.0).round() / 1000.0,
        });
        if let Some(path) = &args.remaining_to {
            summary["remaining_to"] = shown_path(path).into();
            summary["remaining"] = remaining.into();
        }
        print_line(&json!({ "summary": summary }).to_string());
        return;
    }
    let mut line = format!(
        "{total} tokens: revoked {}, not found {}, failed {}, not attempted {}",
        tally.revoked, tally.not_found, tally.failed, tally.not_attempted
    );
    if tally.interrupted > 0 {
        line.push_str(&format!(", interrupted while waiting to retry {}", tally.interrupted));
    }
    if duplicates > 0 {
        line.push_str(&format!(" ({duplicates} duplicates skipped)"));
    }
    line.push_str(&format!(" in {:.1} s", took.as_secs_f64()));
    print_line(&line);
    if let Some(path) = &args.remaining_to {
        print_line(&format!(
            "{remaining} tokens not revoked written to {}",
            shown_path(path)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_token_is_never_whole_unless_asked() {
        assert_eq!(shown("abcdefghijkl", false), "abcdef…");
        assert_eq!(shown("abc", false), "ab…");
        assert_eq!(shown("", false), "…");
        assert_eq!(shown("abcdefghijkl", true), "abcdefghijkl");
    }
}
