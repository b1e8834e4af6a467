//! The safe Rust core: configuration, client, errors. No C types here.

mod client;
mod config;
mod error;
mod resolver;
mod status;

pub use client::{Client, VERSION};
pub use config::{Config, CLUSTERS, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use error::{ApiErrorBody, Error};
pub use status::Status;
