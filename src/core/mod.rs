//! The safe Rust core: configuration, client, errors. No C types here.

mod client;
mod config;
mod error;
mod resolver;
mod status;
mod token;
mod token_source;

pub use client::{Client, DEFAULT_PARALLELISM, MAX_PARALLELISM, VERSION};
pub use config::{Config, CLUSTERS, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use error::{ApiErrorBody, Error};
pub use status::Status;
pub use token::{Introspection, Token};
pub use token_source::{TokenSource, DEFAULT_REFRESH_MARGIN};
