//! The Voucherify OAuth calls. A client is `Send + Sync`: share one among
//! all threads, so that they share its connection pool.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::config::{invalid, Config};
use super::error::{Error, RateLimit};
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
                let mut e = http_error(Status::TokenNotFound, "revoke", &answer);
                if e.body.message.is_none() {
                    e.message.push_str(concat!(": ", not_found_reason!()));
                }
                Err(e)
            }
            status => Err(http_error(Status::for_http_status(status), "revoke", &answer)),
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
            status => Err(http_error(Status::for_http_status(status), "revoke", &answer)),
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

    /// Mints an access token with these scopes: a list, or space-separated
    /// strings; they are sent space-separated and the server judges them.
    pub fn generate_token<S: AsRef<str>>(&self, scopes: &[S]) -> Result<Token, Error> {
        let scope = self.checked_scope(scopes)?;
        let answer = self.transport.post_form(
            Endpoint::Token,
            &[("grant_type", "client_credentials"), ("scope", &scope)],
            false,
        )?;
        match answer.status {
            200 => parse_generated(&answer.body, answer.received_at),
            status => Err(http_error(Status::for_http_status(status), "generate", &answer)),
        }
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
            status => Err(http_error(Status::for_http_status(status), "introspect", &answer)),
        }
    }

    /// Revokes many tokens, `parallelism` at a time over this client's pool
    /// (0 means [`DEFAULT_PARALLELISM`]; at most [`MAX_PARALLELISM`]). One
    /// outcome per token, in input order.
    pub fn revoke_tokens<S: AsRef<str> + Sync>(&self, tokens: &[S], parallelism: usize) -> Vec<Result<(), Error>> {
        let workers = match parallelism {
            0 => DEFAULT_PARALLELISM,
            n => n.min(MAX_PARALLELISM),
        }
        .min(tokens.len());
        let next = AtomicUsize::new(0);
        let mut outcomes: Vec<(usize, Result<(), Error>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(token) = tokens.get(i) else { break done };
                            // One token's panic must not take the others' outcomes.
                            let outcome = catch_unwind(AssertUnwindSafe(|| self.revoke_token(token.as_ref())))
                                .unwrap_or_else(|_| Err(Error::new(Status::Panic, "revoke: internal error: panicked")));
                            done.push((i, outcome));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        });
        outcomes.sort_by_key(|(i, _)| *i);
        let mut outcomes = outcomes.into_iter().peekable();
        // A worker that panicked lost its outcomes: those tokens get Panic.
        (0..tokens.len())
            .map(|i| match outcomes.next_if(|(j, _)| *j == i) {
                Some((_, outcome)) => outcome,
                None => Err(Error::new(Status::Panic, "revoke: the worker for this token panicked")),
            })
            .collect()
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

/// The error for an HTTP answer, with how many attempts it took.
fn http_error(status: Status, what: &str, answer: &Answer) -> Error {
    let mut e = Error::from_http(status, what, answer.status, &answer.body);
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
