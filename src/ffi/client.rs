//! `vf_client`: the connection pool and the calls.

use std::ffi::{c_char, c_int, c_void};
use std::ops::ControlFlow;
use std::sync::Arc;

use super::{
    boundary, boundary_value, free_object, into_owned, optional_out, optional_slice_out, out_arg, ref_arg, slice_arg,
    slice_out, status_of, str_arg, vf_config, vf_error, vf_token, write_owned, write_string, Status,
};
use crate::core::client::not_sent;
use crate::core::{self, Client, Error, Introspection};

/// A Voucherify client: credentials, base URL and one pool of kept-alive
/// connections. Created by `vf_client_new()`, freed with `vf_client_free()`.
///
/// Thread safety: a client may be used by any number of threads at once
/// (all calls taking a `const vf_client *` are thread-safe) and should be
/// shared: threads then share its connection pool. Only `vf_client_free()`
/// must wait until no other call on the client is running.
///
/// Fork safety: a client made (and used) before `fork()` may be used in
/// both processes afterwards. Each process sends only over connections it
/// opened itself: the child drops the connections it inherited, closing its
/// copy of each socket without shutting it down (nothing reaches the
/// parent's connection), and opens its own. A call running in another
/// thread at the moment of the fork goes on in the parent only; the child
/// does not wait for it. The child may free the client.
pub struct vf_client {
    /// Shared with the token sources made from this client.
    pub(crate) inner: Arc<Client>,
}

/// Builds a client from `config`, which it copies: the caller still owns
/// `config` and may free it at once. On success `*client_out` receives the
/// new client, owned by the caller. Fails with `VF_STATUS_INVALID_ARGUMENT`
/// if the application id or secret key is missing, or if the base URL is
/// plain `http://` to a host that is not loopback without
/// `vf_config_set_allow_insecure_http()`. Sends no request.
///
/// \param config the configuration, copied
/// \param client_out receives the new client, freed with `vf_client_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_new(
    config: *const vf_config,
    client_out: *mut *mut vf_client,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let config = ref_arg(config, "config")?;
        let client_out = out_arg(client_out, "client_out")?;
        let client = Client::new(&config.inner)?;
        write_owned(
            client_out,
            vf_client {
                inner: Arc::new(client),
            },
        );
        Ok(())
    })
}

/// Frees a client and closes its connections. NULL is accepted and
/// ignored. No other thread may be using the client.
///
/// \param client the client to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_client_free(client: *mut vf_client) {
    // SAFETY: the caller passes NULL or a client it owns, once.
    boundary_value((), || unsafe { free_object(client) })
}

/// Revokes an access token: `POST /v1/oauth/token/revoke` with
/// `access_token` in a form body. Thread-safe.
///
/// Returns `VF_STATUS_OK` once Voucherify has revoked it, and
/// `VF_STATUS_TOKEN_NOT_FOUND` (HTTP 404) if the token is unknown, expired
/// or already revoked, which for most callers means "nothing left to do".
/// Other failures: `VF_STATUS_UNAUTHORIZED` (wrong application id or secret
/// key), `VF_STATUS_FORBIDDEN`, `VF_STATUS_RATE_LIMITED`,
/// `VF_STATUS_BAD_REQUEST`, `VF_STATUS_SERVER_ERROR`,
/// `VF_STATUS_UNEXPECTED_RESPONSE`, `VF_STATUS_TIMEOUT`,
/// `VF_STATUS_CONNECTION_FAILED`, `VF_STATUS_TLS_ERROR`. An empty token or
/// one containing a control character gives `VF_STATUS_INVALID_ARGUMENT`
/// and sends nothing. `access_token` is borrowed for the call only.
///
/// Retried attempts (see `vf_config_set_max_attempts()`): if an attempt
/// ended so that Voucherify may have revoked the token without its answer
/// arriving (a timeout after sending, a reset connection, a 502 or 504) and
/// a later attempt is answered 404, the call returns `VF_STATUS_OK`: the
/// token is gone, as asked, most likely by that first attempt. A 404 after
/// attempts the server certainly ignored stays `VF_STATUS_TOKEN_NOT_FOUND`.
///
/// \param client the client
/// \param access_token the token to revoke
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, `VF_STATUS_TOKEN_NOT_FOUND`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_revoke_token(
    client: *const vf_client,
    access_token: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        client.inner.revoke_token(str_arg(access_token, "access_token")?)
    })
}

/// Reads the rate-limit headers of the latest answer this client received
/// (from any thread): `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and
/// `X-Rate-Limit-Retry` (Unix seconds). Each out-pointer may be NULL;
/// each receives -1 when no answer carried that header yet. Thread-safe.
///
/// \param client the client
/// \param limit_out receives `X-Rate-Limit-Limit`, or -1; may be NULL
/// \param remaining_out receives `X-Rate-Limit-Remaining`, or -1; may be NULL
/// \param retry_at_out receives `X-Rate-Limit-Retry`, or -1; may be NULL
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or `VF_STATUS_NULL_ARGUMENT` for a NULL client
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_rate_limit(
    client: *const vf_client,
    limit_out: *mut i64,
    remaining_out: *mut i64,
    retry_at_out: *mut i64,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let rate_limit = ref_arg(client, "client")?.inner.last_rate_limit();
        for (out, value) in [
            (limit_out, rate_limit.limit),
            (remaining_out, rate_limit.remaining),
            (retry_at_out, rate_limit.retry_at),
        ] {
            if let Some(out) = optional_out(out) {
                out.write(value.unwrap_or(-1));
            }
        }
        Ok(())
    })
}

/// Reads `X-Rate-Limit-Type` of the latest answer this client received
/// that carried it (from any thread), such as `"api_calls"` or
/// `"api_calls_cycle"`. `*type_out` receives a string owned by the caller
/// (`vf_string_free()`), or NULL when no answer carried the header yet.
/// Thread-safe.
///
/// \param client the client
/// \param type_out receives the limit's type, freed with `vf_string_free()`, or NULL
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or `VF_STATUS_NULL_ARGUMENT` for a NULL pointer
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_rate_limit_type(
    client: *const vf_client,
    type_out: *mut *mut c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        let type_out = out_arg(type_out, "type_out")?;
        match client.inner.last_rate_limit().kind {
            Some(kind) => write_string(type_out, &kind),
            None => _ = type_out.write(std::ptr::null_mut()),
        }
        Ok(())
    })
}

/// Says until when the rate limit pauses this client, in Unix
/// milliseconds, or -1 when calls go out at once. Thread-safe.
///
/// After a 429 with `Retry-After`, or any answer with
/// `X-Rate-Limit-Remaining: 0` and `X-Rate-Limit-Retry`, nothing is sent by
/// any thread using the client (bulk revokes and token sources included)
/// until the time the server named; a call whose total timeout ends
/// before then fails at once with `VF_STATUS_RATE_LIMITED` (or
/// `VF_STATUS_QUOTA_EXCEEDED` when the billing cycle's quota is spent),
/// sending nothing; the others wait and then go out.
///
/// \param client the client
/// \param unix_ms_out receives the end of the pause in Unix milliseconds, or -1
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or `VF_STATUS_NULL_ARGUMENT` for a NULL pointer
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_paused_until(
    client: *const vf_client,
    unix_ms_out: *mut i64,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        let unix_ms_out = out_arg(unix_ms_out, "unix_ms_out")?;
        unix_ms_out.write(client.inner.paused_until().map_or(-1, |until| {
            let ms = until
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            i64::try_from(ms).unwrap_or(i64::MAX)
        }));
        Ok(())
    })
}

/// Mints an access token: `POST /v1/oauth/token` with
/// `grant_type=client_credentials` and `scope`, a space-separated list
/// such as `"api"` or `"vouchers campaigns"` (never commas; values are not
/// checked here, Voucherify answers `VF_STATUS_BAD_REQUEST` with key
/// `invalid_scope` for unknown ones). On success `*token_out` receives the
/// token, owned by the caller (`vf_token_free()`). Tokens live 900 s and a
/// project may hold at most 1000: mint once and reuse, for example with a
/// `vf_token_source`. Thread-safe.
///
/// \param client the client
/// \param scope the space-separated scopes
/// \param token_out receives the new token, freed with `vf_token_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_generate_token(
    client: *const vf_client,
    scope: *const c_char,
    token_out: *mut *mut vf_token,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        let scope = str_arg(scope, "scope")?;
        let token_out = out_arg(token_out, "token_out")?;
        let token = client.inner.generate_token(&[scope])?;
        write_owned(token_out, vf_token::new(&token));
        Ok(())
    })
}

/// Asks Voucherify whether `access_token` is active: `POST
/// /v1/oauth/introspect`. On success `*active_out` says so; an unknown,
/// expired or revoked token is a normal answer (`false`), not an error. If
/// `token_out` is not NULL it receives the token's details when active
/// (owned by the caller, `vf_token_free()`) and NULL otherwise.
/// Thread-safe.
///
/// \param client the client
/// \param access_token the token to look up
/// \param active_out receives whether the token is active
/// \param token_out NULL, or receives the active token's details (NULL when inactive)
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_introspect_token(
    client: *const vf_client,
    access_token: *const c_char,
    active_out: *mut bool,
    token_out: *mut *mut vf_token,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        let access_token = str_arg(access_token, "access_token")?;
        let active_out = out_arg(active_out, "active_out")?;
        let token_out = optional_out(token_out);
        let answer = client.inner.introspect_token(access_token)?;
        active_out.write(matches!(answer, Introspection::Active(_)));
        if let Some(token_out) = token_out {
            token_out.write(match &answer {
                Introspection::Active(token) => into_owned(vf_token::new(token)),
                Introspection::Inactive => std::ptr::null_mut(),
            });
        }
        Ok(())
    })
}

/// Revokes `count` tokens, `parallelism` requests at a time over the
/// client's connection pool (0 means the default, 4; larger values are
/// capped at 32), for
/// example to kill every token a service minted. Thread-safe.
///
/// `tokens` is an array of `count` strings. `statuses_out` is an array of
/// `count` entries that receives one outcome per token, in input order:
/// `VF_STATUS_OK`, `VF_STATUS_TOKEN_NOT_FOUND`, or any failure of
/// `vf_revoke_token()` (a NULL or invalid entry gets its own status and is
/// not sent). If `errors_out` is not NULL it is an array of `count`
/// pointers that each receive NULL or that token's error object, owned by
/// the caller (`vf_error_free()` each).
///
/// Returns `VF_STATUS_OK` when every outcome was written, whatever the
/// outcomes were; an argument error (NULL `client`, `tokens` or
/// `statuses_out` with `count` > 0, or a `count` larger than any array)
/// writes none and sends nothing.
///
/// \param client the client
/// \param tokens the `count` tokens to revoke
/// \param count how many tokens
/// \param parallelism requests at a time: 0 for 4, at most 32
/// \param statuses_out receives `count` outcomes, in the order of `tokens`
/// \param errors_out NULL, or receives `count` error objects or NULLs
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK` once every outcome is written, or the argument error
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_revoke_tokens(
    client: *const vf_client,
    tokens: *const *const c_char,
    count: usize,
    parallelism: u32,
    statuses_out: *mut Status,
    errors_out: *mut *mut vf_error,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        revoke_many(client, tokens, count, parallelism, None, statuses_out, errors_out)
    })
}

/// The progress callback of `vf_revoke_tokens_with_progress()`: told that
/// the token at `index` finished with `status`; `error` is NULL on success,
/// else that token's error, borrowed for the call only. Return 0 to go on,
/// anything else to stop the whole operation.
pub type vf_revoke_progress =
    Option<unsafe extern "C" fn(user_data: *mut c_void, index: usize, status: Status, error: *const vf_error) -> c_int>;

/// `vf_revoke_tokens()` with progress: `progress` (may be NULL) is called
/// with `user_data` as each token finishes. Thread-safe.
///
/// Which thread calls `progress`: the operation's worker threads, never
/// two at once (a lock serialises the calls, so `user_data` needs no lock
/// of its own while the operation runs), in the order the tokens finish,
/// not input order. Entries refused before sending (NULL, not UTF-8) are
/// reported first, from the calling thread. `progress` must not free or
/// reuse `tokens`, `statuses_out` or `errors_out`, and should return
/// quickly: while it runs, no other finished token is reported.
///
/// A non-zero return stops the operation: no further token is sent; those
/// already sent (at most `parallelism - 1` more) finish and are reported
/// as usual. Tokens never sent get `VF_STATUS_CANCELLED` (their error's
/// `vf_error_attempts()` is 0) and no `progress` call. So do the tokens
/// not yet sent when `vf_client_cancel()` is called. The return value is
/// `VF_STATUS_OK` whenever every outcome was written, stopped or not.
///
/// \param client the client
/// \param tokens the `count` tokens to revoke
/// \param count how many tokens
/// \param parallelism requests at a time: 0 for 4, at most 32
/// \param progress called as each token finishes; may be NULL
/// \param user_data passed to `progress` as it is
/// \param statuses_out receives `count` outcomes, in the order of `tokens`
/// \param errors_out NULL, or receives `count` error objects or NULLs
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK` once every outcome is written, or the argument error
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_revoke_tokens_with_progress(
    client: *const vf_client,
    tokens: *const *const c_char,
    count: usize,
    parallelism: u32,
    progress: vf_revoke_progress,
    user_data: *mut c_void,
    statuses_out: *mut Status,
    errors_out: *mut *mut vf_error,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let progress = progress.map(|callback| Progress { callback, user_data });
        revoke_many(client, tokens, count, parallelism, progress, statuses_out, errors_out)
    })
}

/// A C progress callback and its argument.
struct Progress {
    callback: unsafe extern "C" fn(*mut c_void, usize, Status, *const vf_error) -> c_int,
    user_data: *mut c_void,
}

// SAFETY: the bulk revoke calls it from one thread at a time (under its
// lock), which is what the header tells the caller to expect.
unsafe impl Send for Progress {}

impl Progress {
    /// Reports one outcome; true when the callback asks to stop.
    fn report(&self, index: usize, outcome: &Result<(), Error>) -> bool {
        let status = status_of(outcome);
        let error = vf_error::for_outcome(outcome.clone());
        // SAFETY: the caller gave this callback and vouched for user_data.
        let stop = unsafe { (self.callback)(self.user_data, index, status, error) } != 0;
        // SAFETY: made above, borrowed by the callback for the call only.
        unsafe { free_object(error) };
        stop
    }
}

/// The body of both bulk exports.
///
/// # Safety
/// As the exports' pointer rules say.
unsafe fn revoke_many(
    client: *const vf_client,
    tokens: *const *const c_char,
    count: usize,
    parallelism: u32,
    progress: Option<Progress>,
    statuses_out: *mut Status,
    errors_out: *mut *mut vf_error,
) -> Result<(), Error> {
    let client = unsafe { ref_arg(client, "client")? };
    let tokens = unsafe { slice_arg(tokens, count, "tokens")? };
    let statuses_out = unsafe { slice_out(statuses_out, count, "statuses_out")? };
    let mut errors_out = unsafe { optional_slice_out(errors_out, count, "errors_out")? };
    // Entries that are not strings get their outcome here; the rest go out.
    let strings: Vec<Result<&str, Error>> = tokens.iter().map(|&t| unsafe { str_arg(t, "the token") }).collect();
    let mut stopped = false;
    let mut valid = Vec::new();
    let mut positions = Vec::new();
    for (i, string) in strings.iter().enumerate() {
        match string {
            Ok(token) => {
                valid.push(*token);
                positions.push(i);
            }
            Err(e) => {
                let refused = Err(e.clone());
                stopped = stopped || progress.as_ref().is_some_and(|p| p.report(i, &refused));
            }
        }
    }
    let positions = &positions;
    let mut sent = match progress {
        // Stopped while the refused entries were reported: nothing is sent.
        _ if stopped => valid.iter().map(|_| Err(not_sent())).collect(),
        Some(progress) => client
            .inner
            .revoke_tokens_with_progress(&valid, parallelism as usize, move |i, outcome| {
                match progress.report(positions[i], outcome) {
                    true => ControlFlow::Break(()),
                    false => ControlFlow::Continue(()),
                }
            }),
        None => client.inner.revoke_tokens(&valid, parallelism as usize),
    }
    .into_iter();
    for (i, string) in strings.into_iter().enumerate() {
        let outcome = match string {
            Ok(_) => sent
                .next()
                .unwrap_or_else(|| Err(Error::new(core::Status::Internal, "missing outcome"))),
            Err(e) => Err(e),
        };
        statuses_out[i].write(status_of(&outcome));
        if let Some(errors_out) = errors_out.as_deref_mut() {
            errors_out[i].write(vf_error::for_outcome(outcome));
        }
    }
    Ok(())
}

/// Cancels what this client is doing, for good, from any thread (for a
/// shutdown): every wait before a retry, now or later, ends at once with
/// `VF_STATUS_CANCELLED` (so no thread waits out a 30 s `Retry-After`),
/// and bulk revokes send no further token. A call still sends its first
/// attempt, bounded by the timeout, so that a token source's revoke on
/// free still goes out. Requests already sent are not cut short.
///
/// Thread-safe, but not async-signal-safe: from a signal handler, wake a
/// thread that calls it instead. The client must still be freed with
/// `vf_client_free()` once no other call is running.
///
/// \param client the client to cancel
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or `VF_STATUS_NULL_ARGUMENT` for a NULL client
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_cancel(client: *const vf_client, err_out: *mut *mut vf_error) -> Status {
    boundary(err_out, || unsafe {
        ref_arg(client, "client")?.inner.cancel();
        Ok(())
    })
}
