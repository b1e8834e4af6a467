//! `vf_status`, the version and the names of statuses: the C face of
//! [`crate::core::Status`].

use std::ffi::{c_char, c_int, CStr};

use super::boundary_value;
use crate::core::{self, Error, VERSION};

/// The outcome of a libvoucherify call.
///
/// The numbers are part of the ABI: values are only ever appended, never
/// reordered or reused. `VF_STATUS_OK` (0) is the only success value.
/// C callers that receive a status as an `int` can pass it to
/// `vf_status_str()` for its name.
// Named `Status` in Rust (cbuild.toml renames it): the ABI baseline holds
// the enum under the name the debug info gives it.
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
    /// The project's quota is spent and waiting minutes will not help:
    /// Voucherify answered 402 (the pricing plan is exceeded), or 429 for
    /// the billing cycle's limit (`X-Rate-Limit-Type: api_calls_cycle`) or
    /// an ended plan; or, with the client paused by such an answer, the
    /// call was refused unsent. Never retried.
    QuotaExceeded = 17,
}

impl From<core::Status> for Status {
    fn from(status: core::Status) -> Status {
        use core::Status as S;
        match status {
            S::Ok => Status::Ok,
            S::NullArgument => Status::NullArgument,
            S::InvalidArgument => Status::InvalidArgument,
            S::InvalidUtf8 => Status::InvalidUtf8,
            S::TokenNotFound => Status::TokenNotFound,
            S::BadRequest => Status::BadRequest,
            S::Unauthorized => Status::Unauthorized,
            S::Forbidden => Status::Forbidden,
            S::RateLimited => Status::RateLimited,
            S::ServerError => Status::ServerError,
            S::UnexpectedResponse => Status::UnexpectedResponse,
            S::Timeout => Status::Timeout,
            S::ConnectionFailed => Status::ConnectionFailed,
            S::TlsError => Status::TlsError,
            S::Panic => Status::Panic,
            S::Internal => Status::Internal,
            S::Cancelled => Status::Cancelled,
            S::QuotaExceeded => Status::QuotaExceeded,
        }
    }
}

/// The status of an outcome: `VF_STATUS_OK` or the error's.
pub(crate) fn status_of(outcome: &Result<(), Error>) -> Status {
    outcome.as_ref().map_or_else(|e| e.status.into(), |()| Status::Ok)
}

impl PartialEq<core::Status> for Status {
    fn eq(&self, other: &core::Status) -> bool {
        *self == Status::from(*other)
    }
}

impl Status {
    /// The status with this number, if there is one.
    pub fn from_code(code: c_int) -> Option<Status> {
        core::Status::ALL
            .into_iter()
            .map(Status::from)
            .find(|s| *s as c_int == code)
    }

    /// The name of the status as the header spells it (and as the core's
    /// `Display` writes it: a test holds the two together).
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
            Status::QuotaExceeded => c"VF_STATUS_QUOTA_EXCEEDED",
        }
    }
}

const VERSION_C: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("the crate version contains a NUL"),
};
const _: () = assert!(VERSION_C.count_bytes() == VERSION.len());

/// The library's version, such as `"0.1.0"`: a static string, never freed.
/// It equals `VF_VERSION` in the header the program was built with, unless
/// the program runs against another build of the library.
///
/// \return the version, such as `"0.1.0"`
#[no_mangle]
pub extern "C" fn vf_version() -> *const c_char {
    boundary_value(c"".as_ptr(), || VERSION_C.as_ptr())
}

/// `major * 10000 + minor * 100 + patch` of the crate's version.
const VERSION_NUMBER: u32 = {
    const fn parse(digits: &str) -> u32 {
        let bytes = digits.as_bytes();
        let mut value = 0;
        let mut i = 0;
        while i < bytes.len() {
            assert!(bytes[i].is_ascii_digit(), "a version part is not a number");
            value = value * 10 + (bytes[i] - b'0') as u32;
            i += 1;
        }
        value
    }
    let (minor, patch) = (
        parse(env!("CARGO_PKG_VERSION_MINOR")),
        parse(env!("CARGO_PKG_VERSION_PATCH")),
    );
    assert!(minor < 100 && patch < 100, "VF_VERSION_NUMBER has two digits for each");
    parse(env!("CARGO_PKG_VERSION_MAJOR")) * 10000 + minor * 100 + patch
};

/// The library's version as one number, `major * 10000 + minor * 100 +
/// patch` (100 for 0.1.0), to compare with `VF_VERSION_NUMBER` and
/// `VF_AT_LEAST_VERSION()` of the header the program was built with.
///
/// \return the version as one number, as `VF_VERSION_NUMBER` encodes it
#[no_mangle]
pub extern "C" fn vf_version_number() -> u32 {
    boundary_value(VERSION_NUMBER, || VERSION_NUMBER)
}

/// The name of a status, such as `"VF_STATUS_TIMEOUT"`, for any `int`
/// (values this version does not know give `"VF_STATUS_UNKNOWN"`). A static
/// string, never freed, never NULL.
///
/// \param status any value, a `vf_status` or not
/// \return the status's name
#[no_mangle]
pub extern "C" fn vf_status_str(status: c_int) -> *const c_char {
    boundary_value(c"VF_STATUS_UNKNOWN".as_ptr(), || {
        Status::from_code(status)
            .map_or(c"VF_STATUS_UNKNOWN", Status::c_name)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_number_is_the_crate_version() {
        let parts: Vec<u32> = VERSION.split(['.', '-']).take(3).map(|p| p.parse().unwrap()).collect();
        assert_eq!(vf_version_number(), parts[0] * 10000 + parts[1] * 100 + parts[2]);
    }

    #[test]
    fn every_number_is_one_status_with_its_name() {
        let numbers: Vec<c_int> = core::Status::ALL.map(|s| Status::from(s) as c_int).to_vec();
        assert_eq!(numbers, (0..18).collect::<Vec<_>>(), "numbered 0.. in the core's order");
        for s in core::Status::ALL {
            assert_eq!(Status::from_code(Status::from(s) as c_int), Some(Status::from(s)));
            assert_eq!(Status::from(s).c_name().to_str().unwrap(), s.to_string());
        }
        assert_eq!(Status::from_code(-1), None);
        assert_eq!(Status::from_code(18), None);
    }
}
