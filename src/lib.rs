//! libvoucherify: Voucherify's OAuth 2.0 token endpoints for C, C++ and
//! Python.
//!
//! [`core`] is plain safe Rust and usable on its own; [`ffi`] is the thin C
//! layer over it (pointer checks, string conversion, panic boundary, error
//! objects) from which cbindgen generates `include/voucherify.h`.

// An Error carries what the server said, so it is large; it is built only
// when a call fails, and boxing it would add an allocation to every failure.
#![allow(clippy::result_large_err)]

// Every C export catches panics, so that none unwinds into C: with
// `panic = "abort"` nothing is caught, and a bug kills the caller's whole
// process instead of returning VF_STATUS_PANIC.
#[cfg(panic = "abort")]
compile_error!(
    "libvoucherify must be built with panic = \"unwind\": its C API turns a panic into VF_STATUS_PANIC, which panic = \"abort\" would make a crash of the calling process"
);

pub mod core;
pub mod ffi;

pub use crate::core::{Client, Config, Error, Introspection, Status, Token, TokenSource};
