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
/// `expires_in`). When many threads ask while a new token is due, exactly
/// one request is sent and the others wait for its answer.
///
/// Created by `vf_token_source_new()`, freed by `vf_token_source_free()`,
/// which by default revokes the token it minted. It keeps the client's
/// connection pool alive, so the client may be freed first.
///
/// Thread safety: `vf_token_source_access_token()`,
/// `vf_token_source_authorization()` and `vf_token_source_refresh()` may be
/// called by many threads at once. The setters must be called before the
/// source is shared, and `vf_token_source_free()` when no other call runs.
pub struct vf_token_source {
    inner: TokenSource,
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
/// is given and the next call tries again. Thread-safe.
///
/// \param source the token source
/// \param token_out receives the token, freed with `vf_string_free()`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
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

/// Mints a new token now, whatever the state of the current one: call it
/// when a request made with the current token was answered 401. The
/// previous token is not revoked (requests in flight may still carry it);
/// it expires by itself. Thread-safe.
///
/// \param source the token source
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_refresh(
    source: *const vf_token_source,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        ref_arg(source, "source")?.inner.refresh().map(drop)
    })
}

/// Frees a token source. Unless `vf_token_source_set_revoke_on_free()`
/// said otherwise, it first revokes the token it minted (one request,
/// bounded by the client's timeout; failures are ignored, since the token
/// expires anyway). NULL is accepted and ignored.
///
/// \param source the token source to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_free(source: *mut vf_token_source) {
    // SAFETY: the caller passes NULL or a source it owns, once.
    boundary_value((), || unsafe { free_object(source) })
}
