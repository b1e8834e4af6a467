//! The outcome of every call. The C API's `vf_status`, with its numbers,
//! is `crate::ffi::status`; this is the plain Rust enum it mirrors.

use std::fmt::{self, Write};

/// What a call came to: success, or which kind of failure. The header's
/// `vf_status` documents each kind for C callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    NullArgument,
    InvalidArgument,
    InvalidUtf8,
    TokenNotFound,
    BadRequest,
    Unauthorized,
    Forbidden,
    RateLimited,
    ServerError,
    UnexpectedResponse,
    Timeout,
    ConnectionFailed,
    TlsError,
    Panic,
    Internal,
    Cancelled,
}

impl Status {
    /// Every status, in the order of the C API's numbers.
    pub const ALL: [Status; 17] = [
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

/// The name every binding shows, such as `VF_STATUS_TIMEOUT`: the
/// variant's name in capitals with its words joined by `_`.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VF_STATUS")?;
        for c in format!("{self:?}").chars() {
            if c.is_ascii_uppercase() {
                f.write_char('_')?;
            }
            f.write_char(c.to_ascii_uppercase())?;
        }
        Ok(())
    }
}
