//! The safe Rust core: configuration, client, errors. No C types here.

mod cancel;
pub(crate) mod client;
mod config;
mod error;
mod fork_safe;
mod observe;
mod proxy;
mod rate_limit;
mod resolver;
mod shared_tls;
mod status;
mod steady_timeouts;
mod token;
mod token_source;
mod transport;

pub use client::{Client, DEFAULT_PARALLELISM, MAX_PARALLELISM, VERSION};
pub use config::{
    Config, TlsRoots, CLUSTERS, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_BASE_DELAY, DEFAULT_TIMEOUT, MAX_ATTEMPTS,
};
pub use error::{ApiErrorBody, Error};
pub use observe::{Counters, Level, LogFn, Logger};
pub use rate_limit::{RateLimit, MAX_SERVER_WAIT};
pub use status::Status;
pub use token::{Introspection, Token};
pub use token_source::{TokenSource, TokenSourceCounters, DEFAULT_REFRESH_MARGIN};
