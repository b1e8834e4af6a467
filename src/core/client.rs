//! The Voucherify OAuth calls. A client is `Send + Sync`: share one among
//! all threads, so that they share its connection pool.

use std::ops::ControlFlow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::config::{invalid, Config};
use super::error::Error;
use super::observe::{Counters, Level, Logger};
use super::rate_limit::RateLimit;
use super::status::Status;
use super::token::{join_scopes, parse_generated, parse_introspection, Introspection, Token};
use super::transport::{Answer, Endpoint, Transport};

pub use super::transport::{MAX_PARALLELISM, VERSION};

/// Why Voucherify answers a revoke with 404.
macro_rules! not_found_reason {
    () => {
        "the token is unknown, expired or already revoked"
    };
}

/// Parallelism of [`Client::revoke_tokens`] when the caller gives 0.
pub const DEFAULT_PARALLELISM: usize = 4;

#[derive(Debug)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// Builds a client from a configuration, which it copies.
    pub fn new(config: &Config) -> Result<Client, Error> {
        Ok(Client {
            transport: Transport::new(config)?,
        })
    }

    /// Revokes an access token. `Ok` on 204; a 404 (the token is unknown,
    /// expired or already revoked) is `Status::TokenNotFound`, except after
    /// an earlier attempt whose answer was lost: that attempt may have been
    /// the one that revoked it, so the token is gone as asked and the call
    /// is `Ok`.
    pub fn revoke_token(&self, access_token: &str) -> Result<(), Error> {
        check_token(access_token)?;
        #[cfg(feature = "test-panic")]
        if access_token == "vf-test-panic" {
            panic!("forced by the test-panic feature");
        }
        let answer = self
            .transport
            .post_form(Endpoint::Revoke, &[("access_token", access_token)], true)?;
        match answer.status {
            // 204 is documented; a proxy that rewrites it still means success.
            200..=299 => Ok(()),
            404 if answer.earlier_attempt_may_have_acted => Ok(()),
            // The live API's 404: an empty body, and a common outcome, so
            // its message is a constant rather than formatted.
            404 if answer.body.is_empty() && answer.attempts == 1 => Err(Error {
                http_status: 404,
                attempts: 1,
                rate_limit: answer.rate_limit,
                ..Error::new(
                    Status::TokenNotFound,
                    concat!("revoke: HTTP 404: ", not_found_reason!()),
                )
            }),
            404 => {
                // Keep whatever a body says (a wrong region's request_id, say).
                let mut e = http_error("revoke", &answer);
                e.status = Status::TokenNotFound;
                if e.body.message.is_none() {
                    e.message.push_str(concat!(": ", not_found_reason!()));
                }
                Err(e)
            }
            _ => Err(http_error("revoke", &answer)),
        }
    }

    /// Revokes with one request and no retry, within one timeout: the best
    /// effort of a token source being freed. Any answer but 2xx is an error.
    pub(crate) fn revoke_token_once(&self, access_token: &str) -> Result<(), Error> {
        check_token(access_token)?;
        let answer = self
            .transport
            .post_form_once(Endpoint::Revoke, &[("access_token", access_token)])?;
        match answer.status {
            200..=299 => Ok(()),
            _ => Err(http_error("revoke", &answer)),
        }
    }

    /// The total timeout of one call on this client.
    pub(crate) fn timeout(&self) -> std::time::Duration {
        self.transport.timeout()
    }

    /// The rate-limit headers of the latest answer this client received,
    /// from any thread (`retry_after` is only reported on errors).
    pub fn last_rate_limit(&self) -> RateLimit {
        self.transport.last_rate_limit()
    }

    /// When the pause the rate limit imposed ends, on the wall clock, or
    /// `None` when calls go out at once. After a 429 with `Retry-After`,
    /// or an answer with `X-Rate-Limit-Remaining: 0` and
    /// `X-Rate-Limit-Retry`, nothing is sent by any thread using this
    /// client (bulk workers and token sources included) until then; a
    /// call whose deadline comes first fails at once with `RateLimited`
    /// (`QuotaExceeded` when the billing cycle's quota is spent).
    pub fn paused_until(&self) -> Option<std::time::SystemTime> {
        self.transport.paused_until()
    }

    /// What this client has done so far; readable from any thread.
    pub fn counters(&self) -> Counters {
        self.transport.counters.snapshot()
    }

    /// Mints an access token with these scopes: a list, or space-separated
    /// strings; they are sent space-separated and the server judges them.
    pub fn generate_token<S: AsRef<str>>(&self, scopes: &[S]) -> Result<Token, Error> {
        let minted = self.mint(&self.checked_scope(scopes)?);
        let log = &self.transport.logger;
        match &minted {
            Ok(token) => log.log(
                Level::Info,
                format_args!(
                    "token minted: scope {:?}, expires in {} s",
                    token.scope, token.expires_in
                ),
            ),
            Err(e) => log.log(Level::Error, format_args!("minting a token failed: {e}")),
        }
        minted
    }

    /// Mints a token for a checked scope, logging nothing: a token source
    /// tells its own events (first token, renewal, renewal failed).
    pub(crate) fn mint(&self, scope: &str) -> Result<Token, Error> {
        let answer = self.transport.post_form(
            Endpoint::Token,
            &[("grant_type", "client_credentials"), ("scope", scope)],
            false,
        )?;
        match answer.status {
            200 => parse_generated(&answer.body, answer.received_at),
            _ => Err(http_error("generate", &answer)),
        }
    }

    /// Where this client's log records go.
    pub(crate) fn logger(&self) -> &Logger {
        &self.transport.logger
    }

    /// Asks whether a token is active. An unknown, expired or revoked token
    /// is `Ok(Introspection::Inactive)`, not an error.
    pub fn introspect_token(&self, access_token: &str) -> Result<Introspection, Error> {
        check_token(access_token)?;
        let answer = self
            .transport
            .post_form(Endpoint::Introspect, &[("access_token", access_token)], true)?;
        match answer.status {
            200 => parse_introspection(&answer.body, answer.received_at),
            _ => Err(http_error("introspect", &answer)),
        }
    }

    /// Revokes many tokens, `parallelism` at a time over this client's pool
    /// (0 means [`DEFAULT_PARALLELISM`]; at most [`MAX_PARALLELISM`]). One
    /// outcome per token, in input order.
    pub fn revoke_tokens<S: AsRef<str> + Sync>(&self, tokens: &[S], parallelism: usize) -> Vec<Result<(), Error>> {
        self.revoke_tokens_with_progress(tokens, parallelism, |_, _| ControlFlow::Continue(()))
    }

    /// [`Client::revoke_tokens`], calling `progress` as each token finishes
    /// with its index in `tokens` and its outcome. The calls come from the
    /// worker threads, one at a time (a lock serialises them), in the order
    /// the tokens finish.
    ///
    /// `ControlFlow::Break` stops the whole operation: no further token is
    /// sent; those already sent finish (and are reported) as they would, so
    /// at most `parallelism - 1` requests follow the stop. Tokens never sent
    /// get [`Status::Cancelled`] with 0 attempts and no progress call. So
    /// does every token not yet taken when [`Client::cancel`] is called.
    /// A panic in `progress` stops the operation and is resumed on the
    /// caller's thread once the workers are done.
    pub fn revoke_tokens_with_progress<S, P>(
        &self,
        tokens: &[S],
        parallelism: usize,
        progress: P,
    ) -> Vec<Result<(), Error>>
    where
        S: AsRef<str> + Sync,
        P: FnMut(usize, &Result<(), Error>) -> ControlFlow<()> + Send,
    {
        let workers = match parallelism {
            0 => DEFAULT_PARALLELISM,
            n => n.min(MAX_PARALLELISM),
        }
        .min(tokens.len());
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let progress = Mutex::new(progress);
        let progress_panic = Mutex::new(None);
        let mut outcomes: Vec<(usize, Result<(), Error>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            if stop.load(Ordering::SeqCst) || self.transport.cancel.is_cancelled() {
                                break done;
                            }
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            let Some(token) = tokens.get(i) else { break done };
                            // One token's panic must not take the others' outcomes.
                            let outcome = catch_unwind(AssertUnwindSafe(|| self.revoke_token(token.as_ref())))
                                .unwrap_or_else(|_| Err(Error::new(Status::Panic, "revoke: internal error: panicked")));
                            let mut report = progress.lock().unwrap_or_else(PoisonError::into_inner);
                            match catch_unwind(AssertUnwindSafe(|| (*report)(i, &outcome))) {
                                Ok(ControlFlow::Continue(())) => {}
                                Ok(ControlFlow::Break(())) => stop.store(true, Ordering::SeqCst),
                                Err(payload) => {
                                    stop.store(true, Ordering::SeqCst);
                                    *progress_panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
                                }
                            }
                            drop(report);
                            done.push((i, outcome));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        });
        if let Some(payload) = progress_panic.into_inner().unwrap_or_else(PoisonError::into_inner) {
            resume_unwind(payload);
        }
        let taken = next.into_inner().min(tokens.len());
        outcomes.sort_by_key(|(i, _)| *i);
        let mut outcomes = outcomes.into_iter().peekable();
        (0..tokens.len())
            .map(|i| match outcomes.next_if(|(j, _)| *j == i) {
                Some((_, outcome)) => outcome,
                None if i >= taken => Err(not_sent()),
                // A worker that panicked lost its outcomes: those tokens get Panic.
                None => Err(Error::new(Status::Panic, "revoke: the worker for this token panicked")),
            })
            .collect()
    }

    /// Cancels what this client is doing, from any thread, for good (for a
    /// shutdown): every wait before a retry, now or later, ends at once with
    /// [`Status::Cancelled`], and bulk revokes send no further token. A call
    /// still sends its first attempt, so that a token source's revoke on
    /// free still goes out, bounded by the timeout.
    pub fn cancel(&self) {
        self.transport.cancel();
    }

    /// Whether [`Client::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.transport.cancel.is_cancelled()
    }

    /// Scopes joined for the wire, refused when empty or unsafe.
    pub(crate) fn checked_scope<S: AsRef<str>>(&self, scopes: &[S]) -> Result<String, Error> {
        if scopes.iter().any(|s| s.as_ref().chars().any(char::is_control)) {
            return Err(invalid("a scope contains a control character"));
        }
        let scope = join_scopes(scopes);
        if scope.is_empty() {
            return Err(invalid("no scope is given"));
        }
        Ok(scope)
    }
}

/// The outcome of a token a stopped bulk revoke never sent.
pub(crate) fn not_sent() -> Error {
    Error::new(Status::Cancelled, "revoke: not sent: the bulk revoke was stopped first")
}

/// The error for an HTTP answer, with how many attempts it took.
fn http_error(what: &str, answer: &Answer) -> Error {
    let mut e = Error::from_http(answer.failure_status(), what, answer.status, &answer.body);
    e.attempts = answer.attempts;
    e.rate_limit = answer.rate_limit.clone();
    if answer.attempts > 1 {
        e.message.push_str(&format!(" (after {} attempts)", answer.attempts));
    }
    e
}

/// An access token must be non-empty and free of control characters; it is
/// percent-encoded in the body, so any other character is sent as given.
fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid("the access token is empty"));
    }
    if token.chars().any(char::is_control) {
        return Err(invalid("the access token contains a control character"));
    }
    Ok(())
}

const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<Client>();
};
