//! `vf_error`: what went wrong, for a C caller to branch on and to log.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;

use super::{boundary_value, c_string, field, free_object, into_owned, Status};
use crate::core::{Error, RateLimit};

/// Details of a failed call, returned through a `vf_error **err_out`
/// argument and owned by the caller, who frees it with `vf_error_free()`.
///
/// Strings returned by the accessors are owned by the error object and
/// valid until `vf_error_free()`. An error object holds no secret: neither
/// the secret key nor any access token. It belongs to one thread at a time.
pub struct vf_error {
    status: Status,
    http_status: u16,
    message: CString,
    key: Option<CString>,
    api_message: Option<CString>,
    details: Option<CString>,
    request_id: Option<CString>,
    attempts: u32,
    rate_limit: RateLimit,
    rate_limit_type: Option<CString>,
}

impl vf_error {
    /// NULL for a success, else a new error object owned by the caller.
    pub(crate) fn for_outcome(outcome: Result<(), Error>) -> *mut vf_error {
        outcome.err().map_or(ptr::null_mut(), |e| into_owned(vf_error::new(e)))
    }

    fn new(e: Error) -> vf_error {
        vf_error {
            status: e.status.into(),
            http_status: e.http_status,
            message: c_string(&e.message),
            key: e.body.key.as_deref().map(c_string),
            api_message: e.body.message.as_deref().map(c_string),
            details: e.body.details.as_deref().map(c_string),
            request_id: e.body.request_id.as_deref().map(c_string),
            attempts: e.attempts,
            rate_limit_type: e.rate_limit.kind.as_deref().map(c_string),
            rate_limit: e.rate_limit,
        }
    }
}

fn optional(s: &Option<CString>) -> *const c_char {
    s.as_deref().map_or(ptr::null(), CStr::as_ptr)
}

/// The status of the failed call (never `VF_STATUS_OK`).
/// `VF_STATUS_NULL_ARGUMENT` if `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the failed call's status
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_error_status(error: *const vf_error) -> Status {
    field(error, Status::NullArgument, |e| e.status)
}

/// A one-line, human-readable description, fit for a log: what failed, the
/// HTTP status, what Voucherify said and its request id. Control characters
/// and line separators the server sent are escaped (`\n`, `\u{1b}`), so an
/// answer cannot forge log lines; the raw accessors below keep them. Never NULL for a
/// non-NULL `error`; NULL if `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the message, valid until `vf_error_free()`
#[no_mangle]
pub unsafe extern "C" fn vf_error_message(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| e.message.as_ptr())
}

/// The HTTP status of Voucherify's answer, or 0 if there was no answer
/// (bad input, timeout, connection or TLS failure) or `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the HTTP status, or 0
#[no_mangle]
pub unsafe extern "C" fn vf_error_http_status(error: *const vf_error) -> c_int {
    field(error, 0, |e| e.http_status.into())
}

/// The `key` of Voucherify's JSON error body, such as `"unauthorized"`, or
/// NULL if the answer had none (or `error` is NULL).
///
/// \param error the error object; may be NULL
/// \return the key, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_key(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| optional(&e.key))
}

/// The `message` of Voucherify's JSON error body, or NULL if it had none.
/// `vf_error_message()` already includes it.
///
/// \param error the error object; may be NULL
/// \return Voucherify's message, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_api_message(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| optional(&e.api_message))
}

/// The `details` of Voucherify's JSON error body, or NULL if it had none.
///
/// \param error the error object; may be NULL
/// \return Voucherify's details, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_details(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| optional(&e.details))
}

/// The `request_id` of Voucherify's JSON error body, such as
/// `"v-0a885062c80375740f"` (what Voucherify support asks for), or NULL if
/// it had none.
///
/// \param error the error object; may be NULL
/// \return the request id, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_request_id(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| optional(&e.request_id))
}

/// How many requests the call sent, retries included: 0 if it failed
/// before sending anything (bad input), or if `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the number of requests sent
#[no_mangle]
pub unsafe extern "C" fn vf_error_attempts(error: *const vf_error) -> u32 {
    field(error, 0, |e| e.attempts)
}

/// `Retry-After` of the last answer, in seconds (sent with 429), or -1 if
/// absent or `error` is NULL. Retries already honoured it within the
/// total timeout; this says how long to back off before trying again.
///
/// \param error the error object; may be NULL
/// \return the seconds to wait, or -1
#[no_mangle]
pub unsafe extern "C" fn vf_error_retry_after_s(error: *const vf_error) -> i64 {
    field(error, -1, |e| e.rate_limit.retry_after.unwrap_or(-1))
}

/// `X-Rate-Limit-Limit` of the last answer (calls allowed per period), or
/// -1 if absent or `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the limit, or -1
#[no_mangle]
pub unsafe extern "C" fn vf_error_rate_limit_limit(error: *const vf_error) -> i64 {
    field(error, -1, |e| e.rate_limit.limit.unwrap_or(-1))
}

/// `X-Rate-Limit-Remaining` of the last answer (calls left in this
/// period), or -1 if absent or `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the calls left, or -1
#[no_mangle]
pub unsafe extern "C" fn vf_error_rate_limit_remaining(error: *const vf_error) -> i64 {
    field(error, -1, |e| e.rate_limit.remaining.unwrap_or(-1))
}

/// `X-Rate-Limit-Retry` of the last answer: when calls are allowed again,
/// in Unix seconds; -1 if absent or `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the Unix time, or -1
#[no_mangle]
pub unsafe extern "C" fn vf_error_rate_limit_retry_at(error: *const vf_error) -> i64 {
    field(error, -1, |e| e.rate_limit.retry_at.unwrap_or(-1))
}

/// `X-Rate-Limit-Type` of the last answer: which limit it reports, such as
/// `"api_calls"`, `"bulk_api_calls"` or `"api_calls_cycle"` (the billing
/// cycle's quota, which no wait within a call can clear); NULL if absent
/// or `error` is NULL.
///
/// \param error the error object; may be NULL
/// \return the type, valid until the error is freed, or NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_rate_limit_type(error: *const vf_error) -> *const c_char {
    field(error, ptr::null(), |e| optional(&e.rate_limit_type))
}

/// Frees an error object. NULL is accepted and ignored. Strings read from
/// it become invalid.
///
/// \param error the error object to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_error_free(error: *mut vf_error) {
    // SAFETY: the caller passes NULL or an error it owns, once.
    boundary_value((), || unsafe { free_object(error) })
}
