//! Seeing what a client does: the log callback and the counters.

use std::ffi::{c_char, c_int, c_void};
use std::mem::size_of;
use std::sync::Arc;

use super::{
    boundary, c_string, enum_arg, mut_arg, ref_arg, sized_out, vf_client, vf_config, vf_error, vf_token_source, Status,
};
use crate::core::{Counters, Level, Logger, TokenSourceCounters};

/// How much a log record matters, passed as an `int`. A callback set with
/// a `min_level` gets the records of that level and the lower numbers.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// A call failed for good (minting failed, say, or a token source's
    /// renewal left it no valid token to give).
    Error = 1,
    /// Handled trouble: a retry scheduled, a rate-limit pause, a call
    /// cancelled, a wait that would pass the deadline; a token source's
    /// renewal that failed while its current token is kept, and its revoke
    /// on free that failed.
    Warn = 2,
    /// Tokens minted; a token source's first token, each renewal, and its
    /// token revoked on free.
    Info = 3,
    /// Every request sent (method, path, attempt n of m) and answer
    /// (status, duration, `request_id`); connections opened, and dropped
    /// because the server closed them or after a fork; a token source's
    /// token not revoked on free (expired, or another process's).
    Debug = 4,
    /// Connections reused.
    Trace = 5,
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> LogLevel {
        match level {
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warn,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
            Level::Trace => LogLevel::Trace,
        }
    }
}

/// The level a C caller passed as a `vf_log_level` number, if there is one.
fn level_of(code: i64) -> Option<Level> {
    Level::ALL.into_iter().find(|l| LogLevel::from(*l) as i64 == code)
}

/// Receives one log record: `message` is one line of UTF-8 without a
/// trailing newline, valid only during the call; `level` a
/// `vf_log_level`. It never contains the secret key, an access token or
/// a proxy's password.
pub type vf_log_callback = Option<unsafe extern "C" fn(user_data: *mut c_void, level: c_int, message: *const c_char)>;

/// Sends the log records of clients built from `config` to `callback`
/// with `user_data`, for levels up to `min_level` (a `vf_log_level`:
/// `VF_LOG_LEVEL_WARN` gets errors and warnings). A NULL `callback`
/// removes it (the default: no records, and none is ever formatted).
/// Records at a level not wanted are never formatted either: a callback at
/// `VF_LOG_LEVEL_WARN` costs nothing on a call that succeeds at once.
///
/// Threads: the callback is called from whichever thread is working for
/// the client (the caller's, and the worker threads of
/// `vf_revoke_tokens()`), possibly from several at once: it must be
/// thread-safe. It must not call back into the client it reports on
/// (that could wait for itself), must return quickly, and must not free
/// `user_data` while any client built with it exists. An unknown
/// `min_level` is `VF_STATUS_INVALID_ARGUMENT`.
///
/// \param config the configuration to change
/// \param callback receives each log record; NULL for none
/// \param user_data passed to `callback` as it is
/// \param min_level the least severe `vf_log_level` wanted
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_log_callback(
    config: *mut vf_config,
    callback: vf_log_callback,
    user_data: *mut c_void,
    min_level: c_int,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        let config = mut_arg(config, "config")?;
        let level = enum_arg(min_level, "vf_log_level", level_of)?;
        let logger = match callback {
            None => Logger::default(),
            Some(callback) => {
                let sink = CSink { callback, user_data };
                Logger::new(Arc::new(move |level, record: &str| sink.send(level, record)), level)
            }
        };
        config.inner.set_logger(logger);
        Ok(())
    })
}

/// A C log callback and its argument.
struct CSink {
    callback: unsafe extern "C" fn(*mut c_void, c_int, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: the header tells the caller that the callback is called from
// several threads at once, with this `user_data`.
unsafe impl Send for CSink {}
unsafe impl Sync for CSink {}

impl CSink {
    fn send(&self, level: Level, record: &str) {
        let record = c_string(record);
        // SAFETY: a callback the caller gave, called as the header says.
        unsafe { (self.callback)(self.user_data, LogLevel::from(level) as c_int, record.as_ptr()) }
    }
}

/// What a client has done since it was made: counters that any thread may
/// read at any time (each value is exact; they are not one instant).
///
/// Set `size` to `sizeof(vf_counters)` before calling
/// `vf_client_counters()`: later versions of the library append fields,
/// and fill only the `size` bytes your program knows of.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct vf_counters {
    /// `sizeof(vf_counters)` as your program was compiled; never written.
    pub size: usize,
    /// Calls made (revoke, generate, introspect; each token of a bulk revoke).
    pub calls: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Answers 2xx.
    pub answers_2xx: u64,
    /// Answers 4xx.
    pub answers_4xx: u64,
    /// Answers 5xx.
    pub answers_5xx: u64,
    /// Answers with another status (1xx, 3xx).
    pub answers_other: u64,
    /// Answers 429.
    pub rate_limited: u64,
    /// Milliseconds spent waiting because the server asked to
    /// (`Retry-After`, the rate-limit reset).
    pub paused_ms: u64,
    /// Requests that got no usable answer because a timeout expired.
    pub timeouts: u64,
    /// Requests that got no usable answer because the connection failed.
    pub connection_failures: u64,
    /// Requests that got no usable answer because TLS failed.
    pub tls_failures: u64,
    /// Connections opened (TCP, with TLS for https).
    pub connections_opened: u64,
}

impl From<Counters> for vf_counters {
    fn from(c: Counters) -> vf_counters {
        vf_counters {
            size: size_of::<vf_counters>(),
            calls: c.calls,
            requests: c.requests,
            retries: c.retries,
            answers_2xx: c.answers_2xx,
            answers_4xx: c.answers_4xx,
            answers_5xx: c.answers_5xx,
            answers_other: c.answers_other,
            rate_limited: c.rate_limited,
            paused_ms: c.paused_ms,
            timeouts: c.timeouts,
            connection_failures: c.connection_failures,
            tls_failures: c.tls_failures,
            connections_opened: c.connections_opened,
        }
    }
}

/// Fills `*counters` with the client's counters, as far as
/// `counters->size` reaches (see `vf_counters`). Thread-safe, and cheap:
/// a few atomic reads. `VF_STATUS_INVALID_ARGUMENT` if `counters->size`
/// is smaller than the `size` field itself.
///
/// \param client the client
/// \param counters receives the counters; its `size` set by the caller
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_client_counters(
    client: *const vf_client,
    counters: *mut vf_counters,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        sized_out(
            counters,
            &ref_arg(client, "client")?.inner.counters().into(),
            "counters",
        )
    })
}

/// What a token source has done since it was made, and how long its
/// cached token has left: see `vf_token_source_counters()`. Like
/// `vf_counters`, set `size` to `sizeof(vf_source_counters)` first.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct vf_source_counters {
    /// `sizeof(vf_source_counters)` as your program was compiled; never written.
    pub size: usize,
    /// Tokens minted: the first and every renewal.
    pub mints: u64,
    /// Of `mints`, those that replaced an earlier token.
    pub renewals: u64,
    /// Mints that failed, for the first token or a renewal.
    pub mint_failures: u64,
    /// Of `mint_failures`, those that tried to replace an earlier token.
    pub renewal_failures: u64,
    /// Whole seconds until the cached token expires (0 once it has), or
    /// -1 while no token is cached.
    pub expires_in_s: i64,
}

impl From<TokenSourceCounters> for vf_source_counters {
    fn from(c: TokenSourceCounters) -> vf_source_counters {
        vf_source_counters {
            size: size_of::<vf_source_counters>(),
            mints: c.mints,
            renewals: c.renewals,
            mint_failures: c.mint_failures,
            renewal_failures: c.renewal_failures,
            expires_in_s: c.expires_in_secs.map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX)),
        }
    }
}

/// Fills `*counters` with the token source's counters, as far as
/// `counters->size` reaches (see `vf_source_counters`). Thread-safe: it
/// takes the source's lock for a moment, never waiting for a mint.
/// `VF_STATUS_INVALID_ARGUMENT` if `counters->size` is smaller than the
/// `size` field itself.
///
/// \param source the token source
/// \param counters receives the counters; its `size` set by the caller
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_token_source_counters(
    source: *const vf_token_source,
    counters: *mut vf_source_counters,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        sized_out(
            counters,
            &ref_arg(source, "source")?.inner.counters().into(),
            "counters",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_its_number() {
        let numbers: Vec<c_int> = Level::ALL.map(|l| LogLevel::from(l) as c_int).to_vec();
        assert_eq!(numbers, (1..=5).collect::<Vec<_>>(), "numbered 1.. in the core's order");
        assert_eq!(level_of(4), Some(Level::Debug));
        assert_eq!(level_of(0), None);
        assert_eq!(level_of(6), None);
    }
}
