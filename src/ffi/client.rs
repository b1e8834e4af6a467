//! `vf_client`: the connection pool and the calls.

use std::ffi::c_char;

use super::{boundary, boundary_value, free_object, ref_arg, str_arg, vf_config, vf_error, write_out};
use crate::core::{Client, Error, Status};

/// A Voucherify client: credentials, base URL and one pool of kept-alive
/// connections. Created by `vf_client_new()`, freed with `vf_client_free()`.
///
/// Thread safety: a client may be used by any number of threads at once
/// (all calls taking a `const vf_client *` are thread-safe) and should be
/// shared: threads then share its connection pool. Only `vf_client_free()`
/// must wait until no other call on the client is running.
pub struct vf_client {
    inner: Client,
}

/// Builds a client from `config`, which it copies: the caller still owns
/// `config` and may free it at once. On success `*client_out` receives the
/// new client, owned by the caller. Fails with `VF_STATUS_INVALID_ARGUMENT`
/// if the application id or secret key is missing, or if the base URL is
/// plain `http://` to a host that is not loopback without
/// `vf_config_set_allow_insecure_http()`. Sends no request.
#[no_mangle]
pub unsafe extern "C" fn vf_client_new(
    config: *const vf_config,
    client_out: *mut *mut vf_client,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let config = ref_arg(config, "config")?;
        if client_out.is_null() {
            return Err(Error::new(Status::NullArgument, "client_out is NULL"));
        }
        let client = Client::new(&config.inner)?;
        write_out(client_out, vf_client { inner: client });
        Ok(())
    })
}

/// Frees a client and closes its connections. NULL is accepted and
/// ignored. No other thread may be using the client.
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
