//! What a client tells its caller about its work: log records through the
//! caller's callback, and counters any thread may read.
//!
//! A record is formatted only when a callback is set and its level is
//! enabled, so a client without one pays a branch per event. Records never
//! hold the secret key, an access token or a proxy URL: they are built from
//! endpoints' paths, statuses, durations, request ids and this library's
//! own messages, whose tests already keep secrets out.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::fork_safe::current_pid;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// How much a record matters, most important first; a callback gets the
/// records at its level and the more important ones. The C numbers are
/// the ffi's `vf_log_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// A call failed.
    Error,
    /// Something went wrong and was handled: a retry, a rate-limit pause,
    /// a renewal that failed while the cached token was still valid.
    Warn,
    /// A token was minted, renewed or revoked on free.
    Info,
    /// Every request and answer, connections opened and dropped.
    Debug,
    /// Finer detail: connections reused.
    Trace,
}

impl Level {
    /// Every level, most important first.
    pub const ALL: [Level; 5] = [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace];
}

/// The caller's sink for records.
pub type LogFn = dyn Fn(Level, &str) + Send + Sync;

/// A callback and the least important level it wants; cheap to clone.
#[derive(Clone, Default)]
pub struct Logger {
    sink: Option<(Arc<LogFn>, Level)>,
}

impl Logger {
    pub fn new(sink: Arc<LogFn>, min_level: Level) -> Logger {
        Logger {
            sink: Some((sink, min_level)),
        }
    }

    #[inline]
    pub fn enabled(&self, level: Level) -> bool {
        matches!(&self.sink, Some((_, min)) if level <= *min)
    }

    /// Formats and passes on a record, if its level is enabled: callers
    /// write `logger.log(Level::Debug, format_args!(...))`, which formats
    /// nothing until here.
    #[inline]
    pub fn log(&self, level: Level, record: fmt::Arguments<'_>) {
        if let Some((sink, min)) = &self.sink {
            if level <= *min {
                sink(level, &record.to_string());
            }
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sink {
            Some((_, level)) => write!(f, "Logger({level:?})"),
            None => f.write_str("Logger(none)"),
        }
    }
}

/// Declares a set of counters once: the relaxed atomics the work bumps,
/// the plain copy callers read, and `snapshot()` from one to the other.
macro_rules! counters {
    (
        $(#[doc = $atomics_doc:literal])* $atomics:ident,
        $(#[doc = $copy_doc:literal])* $copy:ident {
            $($(#[doc = $doc:literal])* $name:ident,)*
        }
    ) => {
        $(#[doc = $atomics_doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $atomics {
            $($name: AtomicU64,)*
        }

        $(#[doc = $copy_doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $copy {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl $atomics {
            pub fn snapshot(&self) -> $copy {
                $copy {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }
    };
}

counters! {
    /// A client's counters, each a relaxed atomic: cheap to bump, readable at
    /// any time from any thread (a snapshot is not one instant, only each value).
    ClientCounters,
    /// What a client has done since it was made.
    Counters {
        /// Calls made (revoke, generate, introspect; each token of a bulk revoke).
        calls,
        /// HTTP requests sent, retries included.
        requests,
        /// Attempts that were retries.
        retries,
        /// Answers 2xx.
        answers_2xx,
        /// Answers 4xx.
        answers_4xx,
        /// Answers 5xx.
        answers_5xx,
        /// Answers with any other status (1xx, 3xx).
        answers_other,
        /// Answers 429.
        rate_limited,
        /// Time spent waiting because the server asked (`Retry-After`, the
        /// rate-limit reset), in milliseconds.
        paused_ms,
        /// Requests that got no usable answer because a timeout expired.
        timeouts,
        /// Requests that got no usable answer because the connection failed.
        connection_failures,
        /// Requests that got no usable answer because TLS failed.
        tls_failures,
        /// New connections (TCP, and TLS where https) opened.
        connections_opened,
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl ClientCounters {
    pub fn call(&self) {
        bump(&self.calls);
    }

    pub fn request(&self) {
        bump(&self.requests);
    }

    pub fn retry(&self) {
        bump(&self.retries);
    }

    pub fn answer(&self, status: u16) {
        bump(match status {
            200..=299 => &self.answers_2xx,
            400..=499 => &self.answers_4xx,
            500..=599 => &self.answers_5xx,
            _ => &self.answers_other,
        });
        if status == 429 {
            bump(&self.rate_limited);
        }
    }

    pub fn paused(&self, wait: Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.paused_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn transport_failure(&self, status: super::Status) {
        match status {
            super::Status::Timeout => bump(&self.timeouts),
            super::Status::TlsError => bump(&self.tls_failures),
            _ => bump(&self.connection_failures),
        }
    }

    pub fn connection_opened(&self) {
        bump(&self.connections_opened);
    }
}

/// The last link of the connector chain: counts and logs each connection
/// the pool opens (a pooled connection that is reused does not come here),
/// and logs one found closed by the server while idle.
#[derive(Debug)]
pub(crate) struct ObservedConnections {
    logger: Logger,
    counters: Arc<ClientCounters>,
}

impl ObservedConnections {
    pub fn new(logger: Logger, counters: Arc<ClientCounters>) -> ObservedConnections {
        ObservedConnections { logger, counters }
    }
}

impl<In: Transport> Connector<In> for ObservedConnections {
    type Out = ObservedConnection<In>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(inner) = chained else {
            return Ok(None);
        };
        self.counters.connection_opened();
        // Host and port only: through a proxy this is the proxy's URI,
        // whose user information holds its password.
        let (host, port) = (details.uri.host().unwrap_or("?"), details.uri.port_u16());
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let tls = if inner.is_tls() { " (TLS)" } else { "" };
        self.logger
            .log(Level::Debug, format_args!("connection opened to {host}{port}{tls}"));
        Ok(Some(ObservedConnection {
            inner,
            logger: self.logger.clone(),
            opened_by: current_pid(),
        }))
    }
}

#[derive(Debug)]
pub(crate) struct ObservedConnection<T> {
    inner: T,
    logger: Logger,
    opened_by: u32,
}

impl<T: Transport> Transport for ObservedConnection<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    /// Asked before a pooled connection is reused.
    fn is_open(&mut self) -> bool {
        let open = self.inner.is_open();
        let why = match (open, self.opened_by == current_pid()) {
            (true, _) => {
                self.logger.log(Level::Trace, format_args!("connection reused"));
                return true;
            }
            (false, true) => "closed by the server while idle",
            // ForkSafe refused it: the parent process opened it.
            (false, false) => "inherited across fork(); the other process keeps it",
        };
        let log = &self.logger;
        log.log(
            Level::Debug,
            format_args!("connection dropped: {why}; opening a new one"),
        );
        false
    }

    // Passed on, as in SteadyTransport.
    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn records_below_the_level_are_never_formatted() {
        struct Loud;
        impl fmt::Display for Loud {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("formatted a record nobody wants");
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let logger = Logger::new(
            Arc::new(move |level, record: &str| sink.lock().unwrap().push((level, record.to_owned()))),
            Level::Warn,
        );
        logger.log(Level::Debug, format_args!("{}", Loud));
        logger.log(Level::Warn, format_args!("kept {}", 1));
        Logger::default().log(Level::Error, format_args!("{}", Loud));
        assert_eq!(*seen.lock().unwrap(), vec![(Level::Warn, "kept 1".to_owned())]);
        assert!(logger.enabled(Level::Error) && !logger.enabled(Level::Info));
    }

    #[test]
    fn a_logger_shows_its_level_in_debug_output() {
        let sink: Arc<LogFn> = Arc::new(|_, _: &str| {});
        assert_eq!(format!("{:?}", Logger::new(sink, Level::Warn)), "Logger(Warn)");
        assert_eq!(format!("{:?}", Logger::default()), "Logger(none)");
    }

    #[test]
    fn answers_are_counted_by_class() {
        let counters = ClientCounters::default();
        for status in [204, 404, 429, 503, 302] {
            counters.answer(status);
        }
        counters.paused(Duration::from_millis(1500));
        let c = counters.snapshot();
        assert_eq!(
            (c.answers_2xx, c.answers_4xx, c.answers_5xx, c.answers_other),
            (1, 2, 1, 1)
        );
        assert_eq!((c.rate_limited, c.paused_ms), (1, 1500));
    }
}
