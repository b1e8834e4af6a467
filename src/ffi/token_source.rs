//! `vf_token_source`: valid access tokens on demand, shared by threads.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use super::{
    boundary, boundary_value, free_object, mut_arg, out_arg, ref_arg, str_arg, vf_client, vf_error, write_owned,
    write_string, Status,
};
use crate::core::TokenSource;

/// Hands out a valid access token for the rest of the Voucherify API. It
/// mints one on first use, caches it, and replaces it before it expires
/// (60 s before by default, measured from the local clock at receipt plus
/// `expires_in`, by both the monotonic and the wall clock, so a token that
/// expired while the machine was suspended is not handed out).
///
/// Single flight: when many threads need a new token, one request is sent
/// and every thread that needs it waits for that one answer and shares it,
/// a failure included; none waits longer than about the client's timeout.
/// While a token is due for renewal but still valid, it is handed out at
/// once to everyone but the one thread renewing it. After a failed mint,
/// calls within the next second get that failure (or the still-valid
/// token) at once, with no request.
///
/// Created by `vf_token_source_new()`, freed by `vf_token_source_free()`,
/// which by default revokes the token it minted. It keeps the client's
/// connection pool alive, so the client may be freed first.
///
/// Thread safety: `vf_token_source_access_token()`,
/// `vf_token_source_authorization()`, `vf_token_source_refresh()`,
/// `vf_token_source_refresh_rejected()` and `vf_token_source_counters()`
/// may be called by many threads at once. The setters must be called before the source is shared, and
/// `vf_token_source_free()` when no other call runs.
///
/// Seeing it work: the client's log callback (see
/// `vf_config_set_log_callback()`) is told of the first token and each
/// renewal (`VF_LOG_LEVEL_INFO`), a renewal that failed (`WARN` while the
/// current token is kept, `ERROR` when none is left to give) and the
/// revoke on free; `vf_token_source_counters()` counts the mints.
///
/// Fork: a child process may use a source made before `fork()`, even one
/// that was minting in another thread at the time (the child mints its
/// own). It uses the cached token, but only the process that minted a
/// token revokes it when freeing the source: a child exiting does not
/// revoke its parent's token.
pub struct vf_token_source {
    pub(crate) inner: TokenSource,
}

/// Creates a token source for `scope` (space-separated scopes, such as
/// `"api"` or `"vouchers campaigns"`) on `client`. Mints nothing yet. On
/// success `*source_out` receives the source, owned by the caller.
///
/// \param client the client, whose connection pool the source keeps alive
/// \param scope the space-separated scopes
/// \param source_out receives the new source, freed with `vf_token_source_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_new(
    client: *const vf_client,
    scope: *const c_char,
    source_out: *mut *mut vf_token_source,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let client = ref_arg(client, "client")?;
        let scope = str_arg(scope, "scope")?;
        let source_out = out_arg(source_out, "source_out")?;
        let inner = TokenSource::new(Arc::clone(&client.inner), &[scope])?;
        write_owned(source_out, vf_token_source { inner });
        Ok(())
    })
}

/// Sets how long before expiry a token is replaced, in milliseconds
/// (default 60 000). The margin used never exceeds half of a token's
/// lifetime. Call before sharing the source between threads.
///
/// \param source the token source, not yet shared with other threads
/// \param margin_ms the margin in milliseconds
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_set_refresh_margin_ms(
    source: *mut vf_token_source,
    margin_ms: u32,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(source, "source")?
            .inner
            .set_refresh_margin(Duration::from_millis(margin_ms.into()));
        Ok(())
    })
}

/// Sets whether `vf_token_source_free()` revokes the token the source
/// minted (`true`, the default: restarts then do not pile up live tokens
/// toward the project's limit of 1000). Call before sharing the source.
///
/// \param source the token source, not yet shared with other threads
/// \param revoke whether freeing the source revokes its token
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_set_revoke_on_free(
    source: *mut vf_token_source,
    revoke: bool,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(source, "source")?.inner.set_revoke_on_drop(revoke);
        Ok(())
    })
}

/// Writes a valid access token to `*token_out`: a new string owned by the
/// caller, freed with `vf_string_free()`. Mints or refreshes when needed;
/// if a refresh fails while the current token is still valid, that token
/// is given and a call after the one-second backoff tries again.
/// Thread-safe.
///
/// \param source the token source
/// \param token_out receives the token, freed with `vf_string_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_access_token(
    source: *const vf_token_source,
    token_out: *mut *mut c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let source = ref_arg(source, "source")?;
        let token_out = out_arg(token_out, "token_out")?;
        let token = source.inner.token()?;
        write_string(token_out, &token.access_token);
        Ok(())
    })
}

/// Like `vf_token_source_access_token()`, but writes the whole header
/// value `Bearer <token>` for `Authorization`. Free it with
/// `vf_string_free()`. Thread-safe.
///
/// \param source the token source
/// \param header_out receives `Bearer <token>`, freed with `vf_string_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_authorization(
    source: *const vf_token_source,
    header_out: *mut *mut c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let source = ref_arg(source, "source")?;
        let header_out = out_arg(header_out, "header_out")?;
        let token = source.inner.token()?;
        write_string(header_out, &token.authorization());
        Ok(())
    })
}

/// Replaces the current token: call it when a request made with the
/// current token was answered 401. If a mint is in flight (another thread
/// got the same 401), it joins that one instead of minting another. The
/// previous token is not revoked (requests in flight may still carry it);
/// it expires by itself. Within a second after a failed mint it returns
/// that failure without a request. Thread-safe.
///
/// A 401 may arrive after another thread already replaced the token; this
/// function cannot tell and mints again. `vf_token_source_refresh_rejected()`
/// is told which token was rejected and mints only when it is still current.
///
/// \param source the token source
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_refresh(
    source: *const vf_token_source,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        ref_arg(source, "source")?.inner.refresh().map(drop)
    })
}

/// Writes to `*token_out` a valid token other than `rejected_token`, the
/// token a request was answered 401 with: the current token if another
/// thread already replaced the rejected one, else a new one (joining a
/// mint in flight rather than starting another). So when many threads get
/// a 401 at once, one token is minted. The string is the caller's, freed
/// with `vf_string_free()`. The rejected token is not revoked. Within a
/// second after a failed mint it returns that failure without a request.
/// Thread-safe.
///
/// \param source the token source
/// \param rejected_token the token a request was answered 401 with
/// \param token_out receives a valid token, freed with `vf_string_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_refresh_rejected(
    source: *const vf_token_source,
    rejected_token: *const c_char,
    token_out: *mut *mut c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let source = ref_arg(source, "source")?;
        let rejected_token = str_arg(rejected_token, "rejected_token")?;
        let token_out = out_arg(token_out, "token_out")?;
        let token = source.inner.refresh_rejected(rejected_token)?;
        write_string(token_out, &token.access_token);
        Ok(())
    })
}

/// Frees a token source. Unless `vf_token_source_set_revoke_on_free()`
/// said otherwise, it first revokes the token it minted: one request,
/// never retried, bounded by the client's timeout; failures are ignored,
/// since the token expires anyway. In a forked child it revokes nothing
/// (the token is the parent's). The client's log callback is told the
/// outcome (`VF_LOG_LEVEL_INFO` revoked, `VF_LOG_LEVEL_WARN` failed).
/// NULL is accepted and ignored.
///
/// \param source the token source to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_free(source: *mut vf_token_source) {
    // SAFETY: the caller passes NULL or a source it owns, once.
    boundary_value((), || unsafe { free_object(source) })
}
