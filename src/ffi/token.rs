//! `vf_token`: an access token and what Voucherify said about it.

use std::ffi::{c_char, CString};
use std::ptr;

use super::{boundary_value, c_string, field, free_object};
use crate::core::Token;

/// An access token returned by `vf_generate_token()` or
/// `vf_introspect_token()`, owned by the caller and freed with
/// `vf_token_free()`. Strings from the accessors are owned by the token and
/// valid until `vf_token_free()`. A token belongs to one thread at a time.
/// Treat the access token as a secret: do not log it.
pub struct vf_token {
    access_token: CString,
    client_id: CString,
    scope: CString,
    token_type: CString,
    expires_at: i64,
    expires_in: i64,
}

impl vf_token {
    pub(crate) fn new(token: &Token) -> vf_token {
        vf_token {
            access_token: c_string(&token.access_token),
            client_id: c_string(&token.client_id),
            scope: c_string(&token.scope),
            token_type: c_string(&token.token_type),
            expires_at: token.expires_at,
            expires_in: token.expires_in,
        }
    }
}

/// The access token itself, for `Authorization: Bearer <token>`. NULL if
/// `token` is NULL.
///
/// \param token the token object; may be NULL
/// \return the access token, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_access_token(token: *const vf_token) -> *const c_char {
    field(token, ptr::null(), |t| t.access_token.as_ptr())
}

/// The OAuth client id Voucherify assigned. NULL if `token` is NULL.
///
/// \param token the token object; may be NULL
/// \return the client id, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_client_id(token: *const vf_token) -> *const c_char {
    field(token, ptr::null(), |t| t.client_id.as_ptr())
}

/// The token's scopes, space-separated. NULL if `token` is NULL.
///
/// \param token the token object; may be NULL
/// \return the scopes, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_scope(token: *const vf_token) -> *const c_char {
    field(token, ptr::null(), |t| t.scope.as_ptr())
}

/// The token type, `"Bearer"`. NULL if `token` is NULL.
///
/// \param token the token object; may be NULL
/// \return the token type, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_type(token: *const vf_token) -> *const c_char {
    field(token, ptr::null(), |t| t.token_type.as_ptr())
}

/// When the token expires by Voucherify's clock, in Unix seconds; 0 if
/// `token` is NULL. Prefer `vf_token_expires_in()`, which does not depend
/// on the two clocks agreeing.
///
/// \param token the token object; may be NULL
/// \return the expiry in Unix seconds, or 0
#[no_mangle]
pub unsafe extern "C" fn vf_token_expires_at(token: *const vf_token) -> i64 {
    field(token, 0, |t| t.expires_at)
}

/// Seconds the token had left when Voucherify answered (900 for a new
/// token); 0 if `token` is NULL.
///
/// \param token the token object; may be NULL
/// \return the seconds left at the answer, or 0
#[no_mangle]
pub unsafe extern "C" fn vf_token_expires_in(token: *const vf_token) -> i64 {
    field(token, 0, |t| t.expires_in)
}

/// Frees a token object (it does not revoke the token). NULL is accepted
/// and ignored.
///
/// \param token the token object to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_token_free(token: *mut vf_token) {
    // SAFETY: the caller passes NULL or a token it owns, once.
    boundary_value((), || unsafe { free_object(token) })
}
