//! The outcome of every call, shared by the Rust core and the C API.

use std::ffi::CStr;

/// The outcome of a libvoucherify call.
///
/// The numbers are part of the ABI: values are only ever appended, never
/// reordered or reused. `VF_STATUS_OK` (0) is the only success value.
/// C callers that receive a status as an `int` can pass it to
/// `vf_status_str()` for its name.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// The call succeeded.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument was empty, out of range, malformed, contained a control
    /// character, or the configuration was incomplete. Nothing was sent.
    InvalidArgument = 2,
    /// A string argument was not valid UTF-8. Nothing was sent.
    InvalidUtf8 = 3,
    /// Revoke only: Voucherify answered 404, the token is unknown, expired
    /// or already revoked. Often not an error for the caller at all.
    TokenNotFound = 4,
    /// Voucherify answered 400 Bad Request.
    BadRequest = 5,
    /// Voucherify answered 401: the application id or secret key is wrong.
    Unauthorized = 6,
    /// Voucherify answered 403: the key lacks a permission or the caller's
    /// IP address is not allowed.
    Forbidden = 7,
    /// Voucherify answered 429: the rate limit is exhausted for now.
    RateLimited = 8,
    /// Voucherify (or a gateway in front of it) answered 5xx.
    ServerError = 9,
    /// Any other HTTP status (including redirects, which are never
    /// followed), or a response that could not be read.
    UnexpectedResponse = 10,
    /// The connect timeout or the total timeout expired.
    Timeout = 11,
    /// The host could not be resolved, or the connection was refused,
    /// reset or closed.
    ConnectionFailed = 12,
    /// The TLS handshake failed, for example because the server's
    /// certificate could not be verified.
    TlsError = 13,
    /// A bug inside libvoucherify was caught before it reached the caller.
    Panic = 14,
    /// An internal failure that is none of the above.
    Internal = 15,
    /// The call was stopped before it finished: a bulk revoke's progress
    /// callback asked to stop before this token was sent (the error's
    /// attempts are 0), or the client was cancelled while the call waited
    /// to retry (attempts > 0; the message says what the last attempt got).
    Cancelled = 16,
}

impl Status {
    /// Every status, in numeric order.
    const ALL: [Status; 17] = [
        Status::Ok,
        Status::NullArgument,
        Status::InvalidArgument,
        Status::InvalidUtf8,
        Status::TokenNotFound,
        Status::BadRequest,
        Status::Unauthorized,
        Status::Forbidden,
        Status::RateLimited,
        Status::ServerError,
        Status::UnexpectedResponse,
        Status::Timeout,
        Status::ConnectionFailed,
        Status::TlsError,
        Status::Panic,
        Status::Internal,
        Status::Cancelled,
    ];

    /// The status with this number, if there is one.
    pub fn from_code(code: i64) -> Option<Status> {
        usize::try_from(code).ok().and_then(|i| Status::ALL.get(i).copied())
    }

    /// The C name of the status, as the header spells it.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or("VF_STATUS_UNKNOWN")
    }

    /// [`Status::name`] as a C string, for `vf_status_str`.
    pub fn c_name(self) -> &'static CStr {
        match self {
            Status::Ok => c"VF_STATUS_OK",
            Status::NullArgument => c"VF_STATUS_NULL_ARGUMENT",
            Status::InvalidArgument => c"VF_STATUS_INVALID_ARGUMENT",
            Status::InvalidUtf8 => c"VF_STATUS_INVALID_UTF8",
            Status::TokenNotFound => c"VF_STATUS_TOKEN_NOT_FOUND",
            Status::BadRequest => c"VF_STATUS_BAD_REQUEST",
            Status::Unauthorized => c"VF_STATUS_UNAUTHORIZED",
            Status::Forbidden => c"VF_STATUS_FORBIDDEN",
            Status::RateLimited => c"VF_STATUS_RATE_LIMITED",
            Status::ServerError => c"VF_STATUS_SERVER_ERROR",
            Status::UnexpectedResponse => c"VF_STATUS_UNEXPECTED_RESPONSE",
            Status::Timeout => c"VF_STATUS_TIMEOUT",
            Status::ConnectionFailed => c"VF_STATUS_CONNECTION_FAILED",
            Status::TlsError => c"VF_STATUS_TLS_ERROR",
            Status::Panic => c"VF_STATUS_PANIC",
            Status::Internal => c"VF_STATUS_INTERNAL",
            Status::Cancelled => c"VF_STATUS_CANCELLED",
        }
    }

    /// The status that an HTTP error answer maps to (revoke's 404 is
    /// handled by the caller, which alone knows what a 404 means).
    pub fn for_http_status(http_status: u16) -> Status {
        match http_status {
            400 => Status::BadRequest,
            401 => Status::Unauthorized,
            403 => Status::Forbidden,
            429 => Status::RateLimited,
            500..=599 => Status::ServerError,
            _ => Status::UnexpectedResponse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_positions_in_all() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{}", s.name());
            assert_eq!(Status::from_code(i as i64), Some(*s));
        }
        assert_eq!(Status::from_code(-1), None);
        assert_eq!(Status::from_code(17), None);
    }
}
