//! `voucherify-token`: revoke, mint and introspect Voucherify OAuth 2.0
//! tokens from a terminal, on libvoucherify's Rust core.

mod config;
mod display;
mod revoke;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use voucherify::{Client, Introspection};

use crate::config::ConnectionArgs;

/// Exit codes, as `--help` and the man page state them.
pub mod exit {
    /// Every token revoked or already gone; the token minted; active.
    pub const OK: u8 = 0;
    /// Some tokens could not be revoked, or a request failed.
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration: nothing was sent.
    pub const USAGE: u8 = 2;
    /// `introspect`: the token is not active (unknown, expired or revoked).
    pub const INACTIVE: u8 = 3;
    /// Stopped by Ctrl-C: some tokens were not attempted.
    pub const INTERRUPTED: u8 = 130;
}

const AFTER_HELP: &str = "\
Configuration: VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, and VOUCHERIFY_API_URL
or VOUCHERIFY_CLUSTER, as the library reads them; flags override them. The
secret key is read only from VOUCHERIFY_SECRET_KEY or --secret-key-file, never
from a flag: flags show in `ps` and in shell history.

Exit codes:
  0    every token revoked or already gone; minted; the token is active
  1    some tokens could not be revoked, or the request failed
  2    usage or configuration error (nothing was sent)
  3    introspect: the token is not active
  130  revoke stopped by Ctrl-C (the rest is listed with --remaining-to)

Examples:
  voucherify-token revoke --file leaked.txt --parallel 8 --remaining-to left.txt
  voucherify-token revoke - < leaked.txt
  curl -H \"$(voucherify-token header --scope api)\" https://api.voucherify.io/v1/vouchers
  voucherify-token introspect - <<< \"$TOKEN\"";

/// Revoke, mint and introspect Voucherify OAuth 2.0 access tokens.
#[derive(Parser, Debug)]
#[command(name = "voucherify-token", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Revoke(revoke::RevokeArgs),
    /// Mint an access token and print it.
    ///
    /// Each token counts against the project's cap of 1000 live tokens until
    /// it expires (900 s) or is revoked: reuse tokens rather than minting
    /// one per request.
    #[command(after_help = "Examples:\n  voucherify-token mint --scope api\n  \
        voucherify-token mint --scope vouchers --scope campaigns --json")]
    Mint {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Print a JSON object with the token, its scope and expiry.
        #[arg(long)]
        json: bool,
    },
    /// Ask whether a token is active, with its scope and expiry.
    ///
    /// Exits 0 when active and 3 when not (unknown, expired or revoked).
    #[command(after_help = "Examples:\n  voucherify-token introspect - <<< \"$TOKEN\"\n  \
        voucherify-token introspect --json - < token.txt")]
    Introspect {
        /// The token, or - to read it from standard input (a token on a
        /// command line shows in `ps` and in shell history).
        token: String,
        /// Print a JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Mint a token and print `Authorization: Bearer ...` for scripts.
    ///
    /// Every run mints a token, which counts against the project's cap of
    /// 1000 live tokens for 900 s: keep it for a batch of requests.
    #[command(after_help = "Example:\n  \
        curl -H \"$(voucherify-token header --scope api)\" https://api.voucherify.io/v1/vouchers")]
    Header {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Print a shell completion script (bash, zsh or fish).
    #[command(
        after_help = "Example:\n  voucherify-token completions bash > ~/.local/share/bash-completion/completions/voucherify-token"
    )]
    Completions {
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these definitions.
    #[command(hide = true)]
    Man,
}

#[derive(clap::Args, Debug)]
struct ScopeArgs {
    /// A scope such as api or vouchers; repeat it, or give several
    /// separated by spaces.
    #[arg(long, required = true, value_name = "SCOPE")]
    scope: Vec<String>,
}

/// A failure to report: its message, and the exit code it means.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::USAGE,
            message: message.into(),
        }
    }
}

impl From<voucherify::Error> for Failure {
    fn from(e: voucherify::Error) -> Failure {
        // A refused argument or configuration: nothing was sent.
        let code = match e.status {
            voucherify::Status::InvalidArgument | voucherify::Status::InvalidUtf8 => exit::USAGE,
            _ => exit::FAILED,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("voucherify-token: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "voucherify-token", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::Man => {
            let page = man_page().map_err(|e| Failure::usage(format!("cannot write the man page: {e}")))?;
            std::io::stdout()
                .write_all(&page)
                .map_err(|e| Failure::usage(format!("cannot write the man page: {e}")))?;
            Ok(exit::OK)
        }
        Command::Revoke(args) => revoke::run(&cli.connection, args),
        Command::Mint { scope, json } => {
            let client = cli.connection.client()?;
            eprintln!(
                "voucherify-token: note: this token counts against the project's cap of 1000 live tokens \
                 until it expires or is revoked"
            );
            let token = client.generate_token(&scope.scope)?;
            if json {
                let object = serde_json::json!({
                    "access_token": token.access_token,
                    "token_type": token.token_type,
                    "scope": token.scope,
                    "expires_in": token.expires_in,
                    "expires_at": token.expires_at,
                });
                print_line(&object.to_string());
            } else {
                print_line(&token.access_token);
            }
            Ok(exit::OK)
        }
        Command::Header { scope } => {
            let token = cli.connection.client()?.generate_token(&scope.scope)?;
            print_line(&format!("Authorization: {}", token.authorization()));
            Ok(exit::OK)
        }
        Command::Introspect { token, json } => {
            let token = match token.as_str() {
                "-" => read_one_token()?,
                _ => token,
            };
            let client: Client = cli.connection.client()?;
            let answer = client.introspect_token(&token)?;
            let (active, details) = match &answer {
                Introspection::Active(t) => (true, Some(t)),
                Introspection::Inactive => (false, None),
            };
            if json {
                let mut object = serde_json::json!({ "active": active });
                if let Some(t) = details {
                    object["scope"] = t.scope.clone().into();
                    object["expires_at"] = t.expires_at.into();
                    object["client_id"] = t.client_id.clone().into();
                }
                print_line(&object.to_string());
            } else if let Some(t) = details {
                print_line(&format!(
                    "active\nscope: {}\nexpires: {}",
                    t.scope,
                    display::local_time(t.expires_at, "%Y-%m-%d %H:%M:%S %Z")
                ));
            } else {
                print_line("not active (unknown, expired or revoked)");
            }
            Ok(if active { exit::OK } else { exit::INACTIVE })
        }
    }
}

/// One man page: the tool's, then each subcommand's synopsis, description
/// and options as subsections.
fn man_page() -> std::io::Result<Vec<u8>> {
    let mut command = Cli::command();
    command.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("voucherify-token {}", sub.get_name());
        let man = clap_mangen::Man::new(sub.clone().name(name.clone()));
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        man.render_extra_section(&mut part)?;
        // Their headings become subsections under one heading per command.
        let part = String::from_utf8_lossy(&part).replace("\n.SH ", "\n.SS ");
        let part = part
            .strip_prefix(".SH ")
            .map_or(part.clone(), |rest| format!(".SS {rest}"));
        writeln!(page, ".SH \"{}\"", name.to_uppercase())?;
        page.extend_from_slice(part.as_bytes());
    }
    Ok(page)
}

/// The first non-blank line of standard input, trimmed.
fn read_one_token() -> Result<String, Failure> {
    let text = std::io::read_to_string(std::io::stdin())
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .ok_or_else(|| Failure::usage("no token on standard input"))
}

/// One line on stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A path given on the command line, for messages.
pub fn shown_path(path: &std::path::Path) -> String {
    PathBuf::from(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
