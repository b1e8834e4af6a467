//! A shared source of valid access tokens: mints on first use, caches, and
//! refreshes ahead of expiry, with one request however many threads ask.
//!
//! Single flight: one caller mints, without holding the lock during the
//! request; callers that need a token meanwhile wait for that mint and share
//! its outcome, an error included; callers that can still be given a valid
//! token get it at once. After a failed mint, callers get that failure (or
//! the still-valid token) at once for [`FAILURE_BACKOFF`] instead of each
//! sending a request.
//!
//! Across `fork()`: the state records which process is minting and which
//! minted the cached token. A child inherits a mint that no thread of its
//! own will finish, so it ignores it and mints itself; it may use the
//! cached token, but only the process that minted a token revokes it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use super::client::Client;
use super::error::Error;
use super::fork_safe::current_pid;
use super::observe::Level;
use super::status::Status;
use super::token::Token;

/// How long before expiry a token is replaced by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long a failed mint's outcome is given to callers instead of a new
/// request: long enough to spare a down server a request per caller, short
/// enough that a recovered one is used again at once.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// Added to the client's timeout for how long a caller waits for another
/// thread's mint, which itself ends within that timeout.
const WAIT_SLACK: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct TokenSource {
    client: Arc<Client>,
    scope: String,
    refresh_margin: Duration,
    revoke_on_drop: bool,
    state: Mutex<State>,
    /// Signalled when a mint ends.
    mint_ended: Condvar,
}

#[derive(Debug, Default)]
struct State {
    token: Option<Token>,
    /// The process that minted `token`: the only one that may revoke it.
    minted_by: u32,
    /// The process one of whose threads is minting now, if any.
    minting_in: Option<u32>,
    /// How many mints have ended: a waiter knows its mint ended when this moves.
    mints_ended: u64,
    /// The latest mint's failure and when it came; cleared by a success.
    failure: Option<(Error, Instant)>,
    /// What the mints have done so far (`expires_in_secs` is filled when read).
    counters: TokenSourceCounters,
}

/// What a token source has done since it was made, and how long its
/// cached token has left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenSourceCounters {
    /// Tokens minted: the first and every renewal.
    pub mints: u64,
    /// Of `mints`, those that replaced an earlier token.
    pub renewals: u64,
    /// Mints that failed: for the first token or a renewal.
    pub mint_failures: u64,
    /// Of `mint_failures`, those that tried to replace an earlier token.
    pub renewal_failures: u64,
    /// Whole seconds until the cached token expires (0 once it has);
    /// `None` while no token is cached.
    pub expires_in_secs: Option<u64>,
}

/// Why a caller wants a token.
#[derive(Clone, Copy)]
enum Need<'a> {
    /// One valid for at least the refresh margin.
    Fresh,
    /// One other than this token, which a server rejected (answered 401).
    Replacing(&'a str),
}

/// What a caller does next, decided under the lock.
#[allow(clippy::large_enum_variant)] // one short-lived value per call
enum Step {
    Done(Result<Token, Error>),
    Wait,
    Mint,
}

impl TokenSource {
    /// A source of tokens with these scopes (a list, or space-separated
    /// strings). Mints nothing until a token is asked for.
    pub fn new<S: AsRef<str>>(client: Arc<Client>, scopes: &[S]) -> Result<TokenSource, Error> {
        let scope = client.checked_scope(scopes)?;
        Ok(TokenSource {
            client,
            scope,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            revoke_on_drop: true,
            state: Mutex::new(State::default()),
            mint_ended: Condvar::new(),
        })
    }

    /// Replace tokens this long before they expire (default 60 s). The
    /// margin used never exceeds half a token's lifetime, so short-lived
    /// tokens are not replaced on every call.
    pub fn set_refresh_margin(&mut self, margin: Duration) {
        self.refresh_margin = margin;
    }

    /// Revoke the token this source minted when it is dropped (default on),
    /// so that restarts do not pile up live tokens toward the project's cap.
    /// Only the process that minted it revokes it: a forked child does not.
    pub fn set_revoke_on_drop(&mut self, revoke: bool) {
        self.revoke_on_drop = revoke;
    }

    /// A token that is valid for at least the refresh margin, minting one
    /// if needed. A token inside the margin but not expired is handed out
    /// while another thread renews it, and when renewing fails.
    pub fn token(&self) -> Result<Token, Error> {
        self.obtain(Need::Fresh)
    }

    /// A token other than `rejected`, which a server answered 401: the
    /// current one if it has already replaced `rejected`, else a new one
    /// (joining a mint in flight rather than starting another).
    pub fn refresh_rejected(&self, rejected: &str) -> Result<Token, Error> {
        self.obtain(Need::Replacing(rejected))
    }

    /// A new token in place of the current one, for a caller that was
    /// answered 401 and does not say with which token: joins a mint in
    /// flight, or mints. Prefer [`TokenSource::refresh_rejected`], which
    /// also spares a mint when another thread already replaced the token.
    pub fn refresh(&self) -> Result<Token, Error> {
        let current = self.lock().token.as_ref().map(|t| t.access_token.clone());
        match current {
            Some(current) => self.refresh_rejected(&current),
            None => self.token(),
        }
    }

    fn obtain(&self, need: Need<'_>) -> Result<Token, Error> {
        let pid = current_pid();
        let mut state = self.lock();
        let give_up_at = Instant::now() + self.client.timeout() + WAIT_SLACK;
        let mut joined: Option<u64> = None;
        loop {
            let step = match joined {
                Some(ended) if state.mints_ended != ended => Step::Done(self.after_mint(&state, need)),
                _ => self.next_step(&state, need, pid),
            };
            match step {
                Step::Done(outcome) => return outcome,
                Step::Mint => return self.mint(state, need, pid),
                Step::Wait => {
                    joined.get_or_insert(state.mints_ended);
                    let left = give_up_at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::new(
                            Status::Timeout,
                            "token source: another thread's mint outlasted the timeout",
                        ));
                    }
                    state = self
                        .mint_ended
                        .wait_timeout(state, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
            }
        }
    }

    fn next_step(&self, state: &State, need: Need<'_>, pid: u32) -> Step {
        let usable = state.token.as_ref().filter(|t| !time_left(t).is_zero());
        let wanted = usable.filter(|t| match need {
            Need::Fresh => time_left(t) > self.margin_for(t),
            Need::Replacing(rejected) => t.access_token != rejected,
        });
        if let Some(token) = wanted {
            return Step::Done(Ok(token.clone()));
        }
        // A valid token that is only due for renewal, not rejected.
        let still_valid = usable.filter(|_| matches!(need, Need::Fresh));
        if let Some((error, at)) = &state.failure {
            if at.elapsed() < FAILURE_BACKOFF {
                return Step::Done(still_valid.cloned().ok_or_else(|| error.clone()));
            }
        }
        match (state.minting_in == Some(pid), still_valid) {
            (true, Some(token)) => Step::Done(Ok(token.clone())),
            (true, None) => Step::Wait,
            // No mint, or one inherited from a parent that no thread here will end.
            (false, _) => Step::Mint,
        }
    }

    /// The outcome of the mint a caller waited for.
    fn after_mint(&self, state: &State, need: Need<'_>) -> Result<Token, Error> {
        let usable = state.token.as_ref().filter(|t| !time_left(t).is_zero());
        let replaced = usable.filter(|t| !matches!(need, Need::Replacing(r) if t.access_token == r));
        match (replaced, &state.failure) {
            (Some(token), _) => Ok(token.clone()),
            (None, Some((error, _))) => Err(error.clone()),
            // The mint succeeded with a token dead on arrival (`expires_in`
            // 0): the joiners get what the minter got, not a mint each.
            (None, None) => state
                .token
                .clone()
                .ok_or_else(|| Error::new(Status::Internal, "token source: the mint left no token")),
        }
    }

    /// Mints without holding the lock, then records the outcome and wakes
    /// the waiters. If the mint fails, a token that is only due for renewal
    /// (not rejected) is given back.
    fn mint(&self, mut state: MutexGuard<'_, State>, need: Need<'_>, pid: u32) -> Result<Token, Error> {
        let still_valid = match need {
            Need::Fresh => state.token.clone().filter(|t| !time_left(t).is_zero()),
            Need::Replacing(_) => None,
        };
        let previous = state.token.as_ref().map(time_left);
        state.minting_in = Some(pid);
        drop(state);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.client.mint(&self.scope)));
        let mut state = self.lock();
        state.minting_in = None;
        state.mints_ended += 1;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Waiters must not wait for a mint that will never end.
                state.failure = Some((
                    Error::new(Status::Panic, "token source: minting panicked"),
                    Instant::now(),
                ));
                drop(state);
                self.mint_ended.notify_all();
                resume_unwind(panic);
            }
        };
        let renewal = u64::from(previous.is_some());
        match &outcome {
            Ok(token) => {
                state.token = Some(token.clone());
                state.minted_by = pid;
                state.failure = None;
                state.counters.mints += 1;
                state.counters.renewals += renewal;
            }
            Err(error) => {
                state.failure = Some((error.clone(), Instant::now()));
                state.counters.mint_failures += 1;
                state.counters.renewal_failures += renewal;
            }
        }
        drop(state);
        self.mint_ended.notify_all();
        self.observe_mint(&outcome, previous, still_valid.as_ref());
        match (outcome, still_valid) {
            (Err(_), Some(token)) => Ok(token),
            (outcome, _) => outcome,
        }
    }

    /// What this source has done so far; readable from any thread (it
    /// takes the source's lock for a moment, never during a mint).
    pub fn counters(&self) -> TokenSourceCounters {
        let state = self.lock();
        TokenSourceCounters {
            expires_in_secs: state.token.as_ref().map(|t| time_left(t).as_secs()),
            ..state.counters
        }
    }

    /// Counts a mint's outcome and tells it: the first token, a renewal,
    /// or a failure and what the callers get instead. `previous` is how
    /// long the token it replaces had left, if there was one; `kept` is
    /// the still-valid token given back when the renewal failed.
    fn observe_mint(&self, outcome: &Result<Token, Error>, previous: Option<Duration>, kept: Option<&Token>) {
        let log = self.client.logger();
        let scope = &self.scope;
        match (outcome, previous) {
            (Ok(token), None) => log.log(
                Level::Info,
                format_args!(
                    "token source {scope:?}: first token minted, expires in {} s",
                    token.expires_in
                ),
            ),
            (Ok(token), Some(left)) => log.log(
                Level::Info,
                format_args!(
                    "token source {scope:?}: token renewed with {} s left on the old one; the new one expires in {} s",
                    left.as_secs(),
                    token.expires_in
                ),
            ),
            (Err(e), None) => log.log(
                Level::Error,
                format_args!("token source {scope:?}: minting the first token failed: {e}"),
            ),
            (Err(e), Some(_)) => match kept {
                Some(token) => log.log(
                    Level::Warn,
                    format_args!(
                        "token source {scope:?}: renewal failed; the current token, valid {} s more, is kept: {e}",
                        time_left(token).as_secs()
                    ),
                ),
                None => log.log(
                    Level::Error,
                    format_args!("token source {scope:?}: renewal failed, no valid token to give: {e}"),
                ),
            },
        }
    }

    fn margin_for(&self, token: &Token) -> Duration {
        self.refresh_margin.min(token.lifetime() / 2)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves plain data, at worst stale.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a token has left now, by both clocks.
fn time_left(token: &Token) -> Duration {
    token.time_left(Instant::now(), SystemTime::now())
}

impl Drop for TokenSource {
    fn drop(&mut self) {
        if !self.revoke_on_drop {
            return;
        }
        let state = std::mem::take(self.state.get_mut().unwrap_or_else(|p| p.into_inner()));
        let Some(token) = state.token else { return };
        let (log, scope) = (self.client.logger(), &self.scope);
        let left = time_left(&token);
        if state.minted_by != current_pid() {
            log.log(
                Level::Debug,
                format_args!("token source {scope:?}: not revoked on free: another process minted it"),
            );
        } else if left.is_zero() {
            log.log(
                Level::Debug,
                format_args!("token source {scope:?}: not revoked on free: expired already"),
            );
        } else {
            // Best effort, one request within one timeout: the token
            // expires by itself if this fails.
            match self.client.revoke_token_once(&token.access_token) {
                Ok(()) => log.log(
                    Level::Info,
                    format_args!("token source {scope:?}: token revoked on free"),
                ),
                Err(e) => log.log(
                    Level::Warn,
                    format_args!(
                        "token source {scope:?}: revoking the token on free failed; it expires by itself in {} s: {e}",
                        left.as_secs()
                    ),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;

    /// A source whose client points at a closed port on loopback.
    fn source_with_no_server() -> TokenSource {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = Config::new();
        config.set_app_id("app").unwrap();
        config.set_secret_key("secret").unwrap();
        config.set_base_url(&format!("http://127.0.0.1:{port}")).unwrap();
        config.set_max_attempts(1).unwrap();
        let client = Arc::new(Client::new(&config).unwrap());
        let mut source = TokenSource::new(client, &["api"]).unwrap();
        source.set_revoke_on_drop(false);
        source
    }

    /// A token received `ago` by both clocks, or by the wall clock only.
    fn cache(source: &TokenSource, lifetime_secs: i64, wall_ago: Duration) {
        source.lock().token = Some(Token {
            access_token: "cached".into(),
            client_id: String::new(),
            scope: "api".into(),
            token_type: "Bearer".into(),
            expires_at: 0,
            expires_in: lifetime_secs,
            received_at: Instant::now(),
            received_at_wall: SystemTime::now() - wall_ago,
        });
    }

    #[test]
    fn a_token_expired_by_the_wall_clock_is_not_handed_out_after_a_suspend() {
        let source = source_with_no_server();
        // Monotonic clock: received just now, valid for 900 s. Wall clock:
        // received an hour ago, as after a resume from a long suspend.
        cache(&source, 900, Duration::from_secs(3600));
        let err = source.token().unwrap_err();
        assert_eq!(err.status, Status::ConnectionFailed, "{}", err.message);

        // The same token by both clocks is handed out without a request.
        let source = source_with_no_server();
        cache(&source, 900, Duration::ZERO);
        assert_eq!(source.token().unwrap().access_token, "cached");
    }

    #[test]
    fn a_token_inside_the_margin_by_the_wall_clock_is_renewed_but_handed_out() {
        let source = source_with_no_server();
        // 900 s lifetime, 870 s ago by the wall clock: inside the 60 s margin.
        cache(&source, 900, Duration::from_secs(870));
        assert!(source.lock().failure.is_none());
        let token = source.token().unwrap();
        assert_eq!(token.access_token, "cached", "renewal failed: the valid token is kept");
        let failure = source.lock().failure.clone().expect("a renewal was tried").0;
        assert_eq!(failure.status, Status::ConnectionFailed, "{}", failure.message);
    }
}
