//! libvoucherify: Voucherify's OAuth 2.0 token endpoints for C, C++ and
//! Python.
//!
//! [`core`] is plain safe Rust and usable on its own; [`ffi`] is the thin C
//! layer over it (pointer checks, string conversion, panic boundary, error
//! objects) from which cbindgen generates `include/voucherify.h`.

// An Error carries what the server said, so it is large; it is built only
// when a call fails, and boxing it would add an allocation to every failure.
#![allow(clippy::result_large_err)]

pub mod core;
pub mod ffi;

pub use crate::core::{Client, Config, Error, Introspection, Status, Token, TokenSource};
