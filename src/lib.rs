//! libvoucherify: Voucherify's OAuth 2.0 token endpoints for C, C++ and
//! Python.
//!
//! [`core`] is plain safe Rust and usable on its own; [`ffi`] is the thin C
//! layer over it (pointer checks, string conversion, panic boundary, error
//! objects) from which cbindgen generates `include/voucherify.h`.

pub mod core;
pub mod ffi;

pub use crate::core::{Client, Config, Error, Introspection, Status, Token, TokenSource};
